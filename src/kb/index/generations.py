"""Generations of an index folder, the build lock, the atomic swap and the clean-up.

Each generation ``gen-NNNNNN/`` is a complete Whoosh index with its ``manifest.json``;
the symlink ``current`` names the live one and is replaced with one rename.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import Index

from kb.errors import BusyError, IndexMissingError, IndexWriteError, KbError
from kb.fsutil import fsync_dir, take_lock
from kb.semantic.vectors import VECTORS

CURRENT = "current"
MANIFEST = "manifest.json"
LOCK = "build.lock"
RETIRE_GRACE = 30.0  # seconds a replaced generation stays for the requests that opened it


def current_generation(index_dir: Path) -> Path | None:
    """Return the folder of the live generation, or None if no index was built."""
    link = Path(index_dir) / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    gen = Path(index_dir) / target
    return gen if (gen / MANIFEST).exists() else None


def read_manifest(gen: Path) -> dict:
    """Return the manifest of one generation."""
    return json.loads((gen / MANIFEST).read_text("utf-8"))


_HELD: set[int] = set()  # descriptors of the build locks this process holds


def _drop_locks_in_child() -> None:
    """In a forked process, close the build locks' descriptors it inherited.

    flock belongs to the open file, which a fork shares: the lock is freed only when
    every descriptor on it is closed. Forked segment writers (see kb.engine.parallel) never
    need the lock, and if the builder were killed they would otherwise keep the index
    locked for as long as they live.
    """
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the index folder's build lock, waiting up to ``wait`` seconds for it."""
    fd = take_lock(
        index_dir / LOCK,
        wait,
        unwritable=lambda exc: IndexWriteError(
            f"{index_dir}: cannot write to the index folder "
            f"({exc.strerror or exc}); nothing was built"
        ),
        busy=lambda: BusyError(f"{index_dir}: another build is running; try again when it ends"),
        poll=0.1,
        opened=_HELD.add,
        closing=_HELD.discard,
    )
    try:
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)


def next_generation(index_dir: Path) -> Path:
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return index_dir / f"gen-{max(numbers, default=0) + 1:06d}"


def link_copy(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in (MANIFEST, VECTORS) or f.name.endswith(".lock") or not f.is_file():
            continue
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def swap(index_dir: Path, gen: Path) -> None:
    tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, index_dir / CURRENT)
    fsync_dir(index_dir)


def prune(index_dir: Path, keep: set[str], grace: float = RETIRE_GRACE) -> None:
    """Remove generations other than ``keep`` once no request can still be reading them.

    Whoosh opens a generation's files lazily (stored fields and columns on first use), so
    a request that opened a generation just before two swaps fails, or reads zeros, if its
    files go away under it. A generation that was live is removed only when the one that
    replaced it has been live for ``grace`` seconds; one without a manifest never was.
    """
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    live = {p.name: _built_at(p) for p in gens}
    now = time.time()
    for i, p in enumerate(gens):
        if p.name in keep:
            continue
        if grace > 0 and live[p.name] is not None:
            after = [t for q in gens[i + 1 :] if (t := live[q.name]) is not None]
            if after and now - after[0] < grace:
                continue  # replaced moments ago: a request may still hold it
        shutil.rmtree(p, ignore_errors=True)


def _built_at(gen: Path) -> float | None:
    """Return when a generation was completed (its manifest written), None if it never was."""
    try:
        return (gen / MANIFEST).stat().st_mtime
    except OSError:
        return None


def open_index(index_dir: Path) -> Index:
    """Open the live generation of an index; raise if none was built."""
    gen = current_generation(Path(index_dir))
    if gen is None:
        raise IndexMissingError(f"{index_dir}: no index yet; run `kb build` first")
    try:
        return whoosh_index.open_dir(str(gen))
    except Exception as exc:  # whoosh raises several unrelated types for a damaged index
        raise KbError(f"{gen}: the index cannot be opened ({exc}); run `kb build --full`") from exc
