"""Safe file writing (write aside in the same folder, flush to disk, then rename) and locks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries to disk so that a rename survives a crash."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def lock_exclusive(fd: int, wait: float, poll: float = 0.05) -> bool:
    """Take an exclusive ``flock`` on an open file, waiting up to ``wait`` seconds.

    Return False if another process still holds it then. The kernel frees the lock
    when its holder dies, so a lock is never left behind.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)


def take_lock(
    path: Path,
    wait: float,
    *,
    unwritable: Callable[[OSError], Exception],
    busy: Callable[[], Exception],
    poll: float = 0.05,
    opened: Callable[[int], None] | None = None,
    closing: Callable[[int], None] | None = None,
) -> int:
    """Open (or make) a lock file and hold its ``flock``; return the descriptor.

    Raise ``unwritable(error)`` when the folder cannot hold the file, ``busy()`` when
    another process still holds the lock after ``wait`` seconds. ``opened(fd)`` is told
    of the descriptor as soon as it exists, before the wait (so that a process forked
    meanwhile can close it), and ``closing(fd)`` before it is closed on refusal.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise unwritable(exc) from None
    if opened:
        opened(fd)
    if not lock_exclusive(fd, wait, poll):
        if closing:
            closing(fd)
        os.close(fd)
        raise busy()
    return fd
