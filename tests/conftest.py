"""Shared fixtures: the tiny corpus, copies of it to break, built indexes."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
FIXTURE_CORPUS = HERE / "corpus"
BAD = HERE / "bad"
REPO = HERE.parent
EMBEDDED_CORPUS = REPO / "corpus"


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A writable copy of the fixture corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, dst)
    return dst


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """The fixture corpus, indexed once for the session (read-only for tests)."""
    from kb.index import build_index

    index_dir = tmp_path_factory.mktemp("index")
    build_index(FIXTURE_CORPUS, index_dir)
    return index_dir


@pytest.fixture
def kb(built_index):
    """A knowledge base over the fixture index."""
    from kb.search import KnowledgeBase

    return KnowledgeBase(built_index)


def kb_command() -> list[str]:
    """The installed ``kb`` command beside this Python."""
    exe = Path(sys.executable).parent / "kb"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kb.cli"]


@pytest.fixture
def clean_env(tmp_path):
    """An environment for subprocesses without KB_* variables and with a private cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env
