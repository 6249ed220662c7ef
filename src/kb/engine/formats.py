"""The posting format of kb's text fields: term counts made in one loop, packed as Whoosh packs them.

Whoosh's ``Frequency`` format asks the analyzer for every token and counts them in
Python; the fields analysed by ``kb.analysis.analyzer`` are counted by
``kb.analysis.term_counts`` instead, with the same terms and counts.
"""

from __future__ import annotations

from typing import Any

from whoosh.formats import Frequency
from whoosh.system import pack_uint

from kb.analysis import term_counts

_PACKED = [pack_uint(n) for n in range(64)]


class CountingFrequency(Frequency):
    """Frequency postings for fields analysed by :func:`analyzer`, counted by ``term_counts``."""

    # the words as text, as Whoosh's own Frequency gives them (its hints say bytes)
    def word_values(  # type: ignore[override]
        self, value: str, analyzer: Any, **kwargs: Any
    ) -> list[tuple[str, int, float, bytes]]:
        fb = self.field_boost
        packed = _PACKED
        return [
            (w, freq, float(freq) * fb, packed[freq] if freq < 64 else pack_uint(freq))
            for w, freq in term_counts(value).items()
        ]
