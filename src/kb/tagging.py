"""Tagging comments: rule tags from the phrases in ``tags.yaml``.

A phrase matches when its words occur one after another in the comment, compared
as lower-case stems of whole words ("contacting her" matches the phrase
"contact her"). Stop words are kept here, unlike in search, so that "no
contact" needs the "no".
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.analysis import StemmingAnalyzer

from kb.model import Comment, Tag

_PHRASE_ANALYZER = StemmingAnalyzer(stoplist=None, minsize=1, cachesize=-1)


def stems(text: str) -> list[str]:
    """Return the lower-case stems of every word of ``text``."""
    return [t.text for t in _PHRASE_ANALYZER(text)]


class RuleTagger:
    """Finds the taxonomy's phrases in comment text."""

    def __init__(self, tags: Iterable[Tag]) -> None:
        self._phrases: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for tag in tags:
            for phrase in tag.phrases:
                words = tuple(stems(phrase))
                if words:
                    self._phrases.setdefault(words[0], []).append((tag.id, words))

    def match(self, text: str) -> list[str]:
        """Return the ids of the tags whose phrases occur in ``text``, in taxonomy order."""
        words = stems(text)
        found: dict[str, None] = {}
        for i, w in enumerate(words):
            for tag_id, phrase in self._phrases.get(w, ()):
                if tag_id not in found and tuple(words[i : i + len(phrase)]) == phrase:
                    found[tag_id] = None
        return list(found)

    def tags_for(self, comment: Comment) -> list[str]:
        """Return the rule tags of a comment, less those its hand tags give or took away."""
        return [
            t
            for t in self.match(comment.body)
            if t not in comment.tags and t not in comment.removed_tags
        ]
