"""The fence around Whoosh's internals: the only code that reaches past its public API.

kb reads and writes the index files faster than Whoosh's public API allows, and that
needs Whoosh's private names (its codec's block layout, column readers, segment
writer). They are all here, so a Whoosh upgrade has one place to check:

- ``scoring``: posting lists read block by block into numpy arrays, BM25F over them
  with Whoosh's own ``bm25``, per-document field lengths and numeric columns;
- ``segments``: a segment writer that keeps its postings in memory, the merge policy
  for small segments, committing segments written by other processes;
- ``parallel``: a large build written by one forked process per core;
- ``correct``: spelling suggestions walking a word list with Whoosh's automata;
- ``formats``: the posting format of the text fields (term counts made in one loop).

The version below is the one this code was written and tested against; importing the
package with another refuses to run rather than read an index wrongly. The tests that
guard the fence (they compare every result with Whoosh's own) are
``tests/test_fast_paths.py`` and the parallel-build cases of
``tests/test_crash_safety.py``: run them after changing ``WHOOSH_VERSION``.
"""

from __future__ import annotations

import whoosh

from kb.errors import KbError

WHOOSH_VERSION = (3, 54)  # the major and minor release of Whoosh this package was written for


def check_version(installed: tuple = whoosh.__version__) -> None:
    """Refuse a Whoosh release other than the one the fence was written for."""
    if tuple(installed[:2]) != WHOOSH_VERSION:
        want = ".".join(map(str, WHOOSH_VERSION))
        got = ".".join(map(str, installed))
        raise KbError(
            f"kb.engine was written for Whoosh {want} and Whoosh {got} is installed; "
            f"install whoosh3=={want}.* (or check kb/engine against {got} and update "
            "WHOOSH_VERSION)"
        )


check_version()
