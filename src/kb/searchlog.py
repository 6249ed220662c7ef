"""Searches that found little: counted locally so the author sees what readers miss.

Only the text of the search is kept, with how many times it was made: no IP
address, no session, no time. The text is scrubbed first (kb.scrub): an e-mail
address, IP address, phone number or link a reader typed is never stored. The app
records only searches typed (or picked) in the app, never one opened from a link,
and at most ``PER_SESSION`` per browser session. The log lives in the index folder beside the
generations (``weak-searches.json``), is rewritten atomically under a lock, is
capped in size, and is read only by the author's pages and ``kb faq``. The site
can turn it off with ``record_weak_searches: false`` in ``site.yaml``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from kb.fsutil import write_atomic
from kb.scrub import scrub
from kb.search import SearchResult

LOG = "weak-searches.json"
MAX_ENTRIES = 5000
MAX_TEXT = 300
PER_SESSION = 30


def is_weak(result: SearchResult) -> bool:
    """Tell whether a search found nothing, or nothing that really fits (see kb.search.fits)."""
    if result.message and not (result.advice or result.stories):
        return bool(result.query)
    if result.relaxed:
        return True
    return not result.fits


@contextlib.contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / f"{LOG}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read(index_dir: Path) -> dict[str, int]:
    """Return the weak searches with how often each was made."""
    try:
        data = json.loads((Path(index_dir) / LOG).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return {str(k): int(v) for k, v in data.get("searches", {}).items()}


def record(index_dir: Path, result: SearchResult) -> bool:
    """Count a search if it was weak; return whether it was recorded."""
    text = " ".join(scrub(" ".join(result.query.split())[: MAX_TEXT * 2]).split())
    text = text[:MAX_TEXT].lower()
    if not text or not is_weak(result):
        return False
    index_dir = Path(index_dir)
    with _locked(index_dir):
        searches = read(index_dir)
        searches[text] = searches.get(text, 0) + 1
        if len(searches) > MAX_ENTRIES:  # keep the most repeated ones
            keep = sorted(searches.items(), key=lambda kv: -kv[1])[:MAX_ENTRIES]
            searches = dict(keep)
        write_atomic(index_dir / LOG, json.dumps({"searches": searches}, ensure_ascii=False))
    return True
