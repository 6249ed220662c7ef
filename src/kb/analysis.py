"""Text analysis shared by indexing, querying, snippets and rule tagging.

One analyzer is used everywhere so that a word in a query, a phrase in
``tags.yaml`` and a word in a comment reduce to the same stem.

Indexing counts the same stems without Whoosh's token pipeline (a chain of
generators that costs a few microseconds per word): :func:`term_counts` runs
the tokenizer's expression, lower-cases, drops stop words and stems in one
loop, and ``kb.engine.formats.CountingFrequency`` feeds those counts to the index.
"""

from __future__ import annotations

import re

from whoosh.analysis import StemmingAnalyzer
from whoosh.analysis.analyzers import Analyzer
from whoosh.lang.porter import stem

# Function words and chat filler that carry no situation; readers' long
# descriptions are full of them, and leaving them out both sharpens ranking and
# shortens the posting lists a query has to walk.
STOP_WORDS = frozenset(
    """
    a about above after again against all almost also am an and any anyone anything are
    around as at be because been before being below between both but by can cannot
    could couldn did didn do does doesn doing don done down during each either else even
    ever every everyone everything few for from further get gets getting go goes going
    gone got gotten had hadn has hasn have haven having he her here hers herself him
    himself his how i id if im in into is isn it its itself ive just know knew let ll
    like lot lots made make makes many may me might more most much must my myself
    nor now of off oh ok okay on once one only or other others our ours ourselves
    out over own please pretty quite rather re really said same say says see seem seems
    shall she should shouldn since so some someone something still such sure take tell
    than thank thanks that thats the their theirs them themselves then there theres
    these they thing things think this those though through to too u under until up upon
    ur us ve very want wanted wants was wasn way we well went were what whatever when
    where whether which while who whom whose why will with won would wouldn yeah yes yet
    you your yours yourself yourselves lol tbh idk btw
    """.split()  # noqa: SIM905 - a word list reads best as text
)

# "no contact", "not in love": these carry the situation, so search and the index keep them
# (they are not in STOP_WORDS); the grouping of questions leaves them out with the rest.
NEGATIONS = frozenset({"no", "not"})
# Stems that with the next one say a situation ("no contact", "never texts", "without
# warning"): search favours documents holding both (kb.search.negation_pairs).
NEGATION_STEMS = frozenset({"no", "not", "never", "without"})

MIN_WORD = 2
_ANALYZER = StemmingAnalyzer(stoplist=STOP_WORDS, minsize=MIN_WORD, cachesize=-1)
# Whoosh's default tokenizer expression (whoosh.analysis.tokenizers.default_pattern)
_TOKEN_RE = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_STEMS: dict[str, str] = {}


def analyzer() -> Analyzer:
    """Return the analyzer of the index's text fields."""
    return _ANALYZER


def terms(text: str) -> list[str]:
    """Return the stemmed terms of ``text`` in order, stop words left out."""
    return [s for s, _, _ in tokens(text)]


def term_counts(text: str) -> dict[str, int]:
    """Return each stem of ``text`` with how often it occurs: the analyzer's terms, fast."""
    counts: dict[str, int] = {}
    stems = _STEMS
    for word in _TOKEN_RE.findall(text):
        word = word.lower()  # after tokenizing, as the analyzer does
        if len(word) < MIN_WORD or word in STOP_WORDS:
            continue
        s = stems.get(word)
        if s is None:
            s = stems[word] = stem(word)
        counts[s] = counts.get(s, 0) + 1
    return counts


def tokens(text: str) -> list[tuple[str, int, int]]:
    """Return ``(stem, start, end)`` for each word of ``text`` that is not a stop word.

    The analyzer's tokens (``analyzer()(text, chars=True)``), found in one loop.
    """
    out = []
    stems = _STEMS
    for m in _TOKEN_RE.finditer(text):
        word = m.group().lower()  # after tokenizing, as the analyzer does
        if len(word) < MIN_WORD or word in STOP_WORDS:
            continue
        s = stems.get(word)
        if s is None:
            s = stems[word] = stem(word)
        out.append((s, m.start(), m.end()))
    return out


# Words readers use for the same thing. A query word brings in the rest of its
# group at a lower weight, so "gf" finds "girlfriend" and "cheated" finds "affair".
SYNONYMS = (
    ("girlfriend", "gf"),
    ("boyfriend", "bf"),
    ("husband", "hubby", "dh"),
    ("wife", "dw", "wifey"),
    ("children", "kids", "kid", "child"),
    ("affair", "cheated", "cheating", "cheat", "unfaithful", "infidelity"),
    ("counsellor", "counselor", "therapist", "counselling", "counseling", "therapy"),
    ("left", "leave", "leaving", "walked", "dumped"),
    ("text", "texts", "texting", "message", "messages", "messaging"),
    ("angry", "anger", "furious", "rage"),
    ("scared", "afraid", "frightened", "fear"),
    ("silent", "silence", "quiet", "withdraws", "stonewalls"),
    ("fight", "fights", "argue", "arguing", "argument", "arguments", "row", "rows"),
    ("divorce", "divorcing", "divorced"),
    ("engaged", "fiance", "fiancee", "engagement"),
    ("marriage", "married"),
)


def _stem_groups() -> dict[str, tuple[str, ...]]:
    groups: dict[str, tuple[str, ...]] = {}
    for words in SYNONYMS:
        stems = tuple(dict.fromkeys(t for w in words for t in terms(w)))
        for st in stems:
            groups[st] = stems
    return groups


_GROUPS = _stem_groups()


def synonyms(stem: str) -> tuple[str, ...]:
    """Return the other stems that mean the same as ``stem`` (none for most words)."""
    return tuple(s for s in _GROUPS.get(stem, ()) if s != stem)
