"""One writer of a corpus folder at a time.

Every command that changes corpus files (imports, the author's tag edits, redaction)
holds an exclusive ``flock`` on ``.kb-write.lock`` in the corpus folder from the moment
it reads what it is about to change until its files are renamed into place, so two
writers never work from the same old text. The kernel frees the lock when its holder
dies, so there is no stale lock. The lock is re-entrant within a thread (an import
holds it around planning and committing, and the commit takes it again), and threads
of one process (the app's sessions) take turns on it too.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import BusyError, CorpusWriteError
from kb.fsutil import take_lock

LOCK_NAME = ".kb-write.lock"
WAIT = 30.0


@dataclass
class _Held:
    rlock: threading.RLock = field(default_factory=threading.RLock)
    fd: int | None = None
    depth: int = 0


_GUARD = threading.Lock()
_LOCKS: dict[str, _Held] = {}


def _drop_in_child() -> None:
    """A forked child never writes the corpus: close its copies of the lock descriptors."""
    for held in _LOCKS.values():
        if held.fd is not None:
            with contextlib.suppress(OSError):
                os.close(held.fd)
    _LOCKS.clear()


os.register_at_fork(after_in_child=_drop_in_child)


def _busy(root: Path, wait: float) -> BusyError:
    return BusyError(
        f"{root}: another kb command (an import, a tag edit or a redaction) has been "
        f"writing to this corpus for {wait:g} s; nothing was changed, try again "
        "when it ends"
    )


@contextlib.contextmanager
def corpus_lock(root: Path, wait: float | None = None) -> Iterator[None]:
    """Hold the corpus folder's write lock, waiting up to ``wait`` seconds for it."""
    root = Path(root)
    wait = WAIT if wait is None else wait
    deadline = time.monotonic() + wait
    key = os.path.realpath(root)
    with _GUARD:
        held = _LOCKS.setdefault(key, _Held())
    if not held.rlock.acquire(timeout=max(wait, 0.0)):
        raise _busy(root, wait)
    try:
        if held.depth == 0:
            held.fd = _take(root, deadline, wait)
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.fd is not None:
                fd, held.fd = held.fd, None
                os.close(fd)
    finally:
        held.rlock.release()


def _take(root: Path, deadline: float, wait: float) -> int:
    return take_lock(
        root / LOCK_NAME,
        max(0.0, deadline - time.monotonic()),
        unwritable=lambda exc: CorpusWriteError(
            f"{root}: cannot write to the corpus folder "
            f"({exc.strerror or exc}); nothing was changed"
        ),
        busy=lambda: _busy(root, wait),
    )


def corpus_root(path: Path) -> Path:
    """Return the corpus folder a corpus file belongs to (site, tags, an article, comments)."""
    path = Path(path)
    if path.parent.name in ("articles", "comments"):
        return path.parent.parent
    return path.parent
