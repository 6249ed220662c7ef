"""Where the faces (CLI and app) find the corpus and the index: flags, then environment.

The library takes paths as arguments; only this module reads the environment.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    """The corpus folder and the index folder a face works on."""

    corpus: Path
    index: Path


def default_index_dir(corpus: Path, cache_root: Path) -> Path:
    """Return the index folder for a corpus: one per corpus path, under a cache folder."""
    resolved = Path(corpus).resolve()
    key = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    return cache_root / "kb" / f"{resolved.name}-{key}"


def resolve(corpus: str | None = None, index: str | None = None) -> Settings:
    """Return the settings from flags, else ``KB_CORPUS``/``KB_INDEX``, else the defaults."""
    corpus_dir = Path(corpus or os.environ.get("KB_CORPUS") or "corpus")
    index_dir = index or os.environ.get("KB_INDEX")
    if index_dir:
        return Settings(corpus_dir, Path(index_dir))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Settings(corpus_dir, default_index_dir(corpus_dir, cache))
