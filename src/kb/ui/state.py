"""What every page shares: settings, the cached knowledge base, and a fresh index.

The index is kept current without a restart: each run compares the corpus
files' sizes and modification times with those of the last build and, when
they differ, runs the (incremental) build with a progress bar.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from kb import settings as kb_settings
from kb.corpus import corpus_files
from kb.errors import BusyError, CorpusError, IndexWriteError, KbError
from kb.index import build_index, current_generation
from kb.search import KnowledgeBase

_build_guard = threading.Lock()


@st.cache_resource(show_spinner=False)
def _knowledge_base(index_dir: str) -> KnowledgeBase:
    return KnowledgeBase(Path(index_dir))


@st.cache_resource(show_spinner=False)
def _built_signatures() -> dict:
    return {}


def settings() -> kb_settings.Settings:
    """Return the corpus and index folders (from KB_CORPUS and KB_INDEX)."""
    return kb_settings.resolve()


def _signature(corpus: Path) -> tuple:
    out = []
    for f in corpus_files(corpus):
        stat = f.stat()
        out.append((f.name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def knowledge_base() -> KnowledgeBase | None:
    """Return the knowledge base, building or updating the index first when needed."""
    cfg = settings()
    if not cfg.corpus.is_dir():
        st.error("No corpus folder was found. Set KB_CORPUS to the corpus folder.")
        return None
    signature = _signature(cfg.corpus)
    seen = _built_signatures()
    key = str(cfg.index)
    if seen.get(key) != signature or current_generation(cfg.index) is None:
        first = current_generation(cfg.index) is None
        label = "Building the search index for the first time…" if first else "Updating the index…"
        bar = st.progress(0.0, text=label)

        def progress(n, total, slug):
            bar.progress(n / max(total, 1), text=f"{label} {n}/{total}")

        try:
            with _build_guard:
                build_index(cfg.corpus, cfg.index, progress=progress, lock_wait=60)
            seen[key] = signature
        except CorpusError as exc:
            if first:
                _error(f"The corpus has problems, so no index could be built: {exc}")
                return None
            from kb.ui.components import md, public

            st.warning(md(public(f"The corpus has problems; showing the last good index. {exc}")))
        except IndexWriteError as exc:
            if first:
                _error(exc)
                return None
            seen[key] = signature  # a read-only index is served as it was built
        except BusyError:
            if first:
                st.info("The index is being built by another process; reload in a moment.")
                return None
        except KbError as exc:
            _error(exc)
            return None
        finally:
            bar.empty()
    return _knowledge_base(key)


def _error(message) -> None:
    from kb.ui.components import error

    error(message)


def knowledge_base_for(index_dir: str) -> KnowledgeBase:
    """Return the cached knowledge base of an index folder (no freshness check)."""
    return _knowledge_base(index_dir)


def corpus_dir() -> Path:
    """Return the corpus folder."""
    return settings().corpus
