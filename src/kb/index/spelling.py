"""The words offered as spelling suggestions ("did you mean"), kept beside each generation.

The index stores no positions and no spelling field: the unstemmed words of the
article sections and comments are collected while they are written and kept, sorted,
in ``spelling.txt`` in the generation's folder.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.spelling import Corrector

from kb.analysis import STOP_WORDS, terms
from kb.engine.correct import WordListCorrector, suggestions
from kb.fsutil import write_atomic

if TYPE_CHECKING:
    from spellchecker import SpellChecker

WORDS_FILE = "spelling.txt"
MAX_WORD = 30  # longer "words" are not corrected
MAX_CORRECTIONS = 12  # distinct unknown words looked up for "did you mean", at most
# the words of Whoosh's default tokenizer, as its spelling field would see them
_WORD_RE = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")


def spelling_words(texts: Iterable[str]) -> set[str]:
    """Return the unstemmed words of ``texts`` that spelling suggestions may offer."""
    words: set[str] = set()
    for text in texts:
        words.update(_WORD_RE.findall(text.lower()))
    return {w for w in words if len(w) >= 2 and w not in STOP_WORDS}


def read_words(gen: Path) -> list[str] | None:
    """Return the sorted spelling words of a generation, or None if it has no list."""
    try:
        text = (gen / WORDS_FILE).read_text("utf-8")
    except FileNotFoundError:
        return None
    return text.split("\n") if text else []


def write_words(gen: Path, words: Iterable[str]) -> None:
    """Write the sorted spelling words of a generation (a new file: the old may be linked)."""
    write_atomic(gen / WORDS_FILE, "\n".join(sorted(set(words))))


def corrector(words: list[str] | None, searcher: Searcher) -> Corrector:
    """Return the corrector over a generation's word list (Whoosh's own for an index
    written before the word list existed)."""
    if words is None:
        return searcher.reader().corrector("body")
    return WordListCorrector(words, searcher.reader())


# Contractions readers type without the apostrophe: words, never typos to correct.
CONTRACTIONS = frozenset(
    """
    aint arent cant couldnt didnt doesnt dont hadnt hasnt havent hed hes id ill im isnt itd
    itll ive lets mightnt mustnt neednt shant shed shes shouldnt thatll thats theres theyd
    theyll theyre theyve wasnt wed well were werent weve whatll whats whered wheres whod whos
    whove wont wouldnt yall youd youll youre youve
    """.split()  # noqa: SIM905 - a word list reads best as text
)


@functools.lru_cache(maxsize=1)
def _english() -> SpellChecker:
    """Return the English word frequency list of pyspellchecker (loaded once, ~0.1 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def known_word(word: str) -> bool:
    """Tell whether ``word`` (lower case) is English: a dictionary word, a contraction
    written without its apostrophe, or two dictionary words run together ("eachother")."""
    if word in CONTRACTIONS:
        return True
    english = _english()
    if english.known([word]):
        return True
    return any(
        len(word[:i]) > 1
        and len(word[i:]) > 1
        and english.known([word[:i]])
        and english.known([word[i:]])
        for i in range(2, len(word) - 1)
    )


def nearest_word(corrector: Corrector, reader: IndexReader, word: str) -> str | None:
    """Return the index word nearest to ``word`` (one edit, else two), the most used first."""
    if not isinstance(corrector, WordListCorrector):  # an old index: Whoosh's own ranking
        options = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
        return options[0] if options else None
    for dist in (1, 2):
        found = {sug for _, sug in suggestions(corrector, word, dist) if sug.isalpha()}
        if found:

            def used(sug: str) -> int:
                return max((reader.doc_frequency("body", t) for t in terms(sug)), default=0)

            return max(sorted(found), key=used)
    return None


def did_you_mean(
    reader: IndexReader, corrector_of: Callable[[], Corrector], text: str
) -> str | None:
    """Return the text with its misspelt words corrected, or None when none needs it.

    A word is corrected only when it matches no document, is not an English word
    (see :func:`known_word`), and a word of the index is one or two edits away: the
    nearest ones first, of those the one in the most documents. ``corrector_of()``
    returns the spelling corrector, made only when a word needs it.
    """
    found = None
    changed = False
    out = []
    known: dict[str, str | None] = {}  # a word repeated is corrected once
    for word in text.split():
        core = word.strip(".,!?;:\"'()[]{}").lower()
        if (
            4 <= len(core) <= MAX_WORD
            and core.isalpha()
            and core not in STOP_WORDS
            and not known_word(core)
            and not any(reader.doc_frequency("body", t) for t in terms(core))
        ):
            found = found or corrector_of()
            if core not in known and len(known) < MAX_CORRECTIONS:
                known[core] = nearest_word(found, reader, core)
            option = known.get(core)
            if option:
                at = word.lower().index(core)
                out.append(word[:at] + option + word[at + len(core) :])
                changed = True
                continue
        out.append(word)
    return " ".join(out) if changed else None
