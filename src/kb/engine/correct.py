"""Spelling suggestions from a word list, ranked as Whoosh ranks a field's words.

Whoosh's correctors walk a field's terms; the index keeps no spelling field (its
words are stemmed), so the corrector below walks the generation's word list
instead (``kb.index.spelling``) with Whoosh's Levenshtein automata.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton
from whoosh.reading import IndexReader
from whoosh.spelling import Corrector, ListCorrector


class WordListCorrector(Corrector):
    """Spelling suggestions from the index's word list, ranked as Whoosh ranks a field's words."""

    def __init__(self, words: list[str], reader: IndexReader, fieldname: str = "body") -> None:
        self.words = words
        self.reader = reader
        self.fieldname = fieldname

    def _suggestions(self, text: str, maxdist: int, prefix: int) -> Iterator[tuple[float, str]]:
        dfa = levenshtein_automaton(text, maxdist, prefix).to_dfa()
        for sug in find_all_matches(dfa, ListCorrector.Skipper(self.words)):
            f = self.reader.frequency(self.fieldname, sug) or 1
            yield 0 - (maxdist + (1.0 / f * 0.5)), sug


def suggestions(
    corrector: WordListCorrector, word: str, maxdist: int
) -> Iterator[tuple[float, str]]:
    """Yield (rank, word) for the words at most ``maxdist`` edits from ``word``."""
    return corrector._suggestions(word, maxdist, 1)
