"""What every page shares: settings, the cached knowledge base, and a fresh index.

The index is kept current without a restart: each run compares the corpus
files' sizes and modification times with those of the last build and, when
they differ, runs the (incremental) build with a progress bar. The words index
is searchable as soon as it is built; the vectors it still lacks are made in a
background thread of the server (one per index folder), and search uses them as
they come (see kb.semantic.build).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
from pathlib import Path

import streamlit as st

from kb import settings as kb_settings
from kb.corpus.read import corpus_files
from kb.errors import BusyError, CorpusError, IndexWriteError, KbError
from kb.index.build import build_index
from kb.index.generations import current_generation
from kb.search import KnowledgeBase
from kb.semantic import build as vector_build

_build_guard = threading.Lock()
_log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def _knowledge_base(index_dir: str) -> KnowledgeBase:
    kb = KnowledgeBase(Path(index_dir))
    # the vectors and the model load while the page draws (the first search waits for them
    # if it comes sooner); their libraries are imported here, not first in the thread
    import onnxruntime  # noqa: F401
    import tokenizers  # noqa: F401

    threading.Thread(target=kb.warm, name="kb-warm", daemon=True).start()
    return kb


_stopping = threading.Event()  # set when the process exits: the vector threads stop
_vector_threads: list[threading.Thread] = []


@atexit.register
def _stop_vector_threads() -> None:
    """Stop the vector threads before the interpreter goes (after their current part).

    A thread still inside the model when the process ends makes onnxruntime abort the
    process ("terminate called without an active exception"); the texts embedded so far
    are in the cache, and the next start carries on from there.
    """
    _stopping.set()
    for thread in list(_vector_threads):
        thread.join(timeout=60)


@st.cache_resource(show_spinner=False)
def _built_signatures() -> dict:
    return {}


@st.cache_resource(show_spinner=False)
def _vector_jobs() -> dict:
    """Per index folder: the background thread making vectors, and how far it is."""
    return {}


def _vectors_in_background(index_dir: Path) -> dict | None:
    """Start making the live generation's missing vectors, unless a thread is at it already.

    Returns the job's progress ({"done", "total"}) while it runs, None when nothing is missing.
    """
    gen = current_generation(index_dir)
    if gen is None:
        return None
    jobs = _vector_jobs()
    key = str(index_dir)
    with _build_guard:
        job = jobs.get(key)
        if job and job["thread"].is_alive():
            return job
        if jobs.get(("complete", key)) == gen.name:
            return None  # seen complete already: no file to read on every page
        if vector_build.status(gen, 0)["complete"]:
            jobs[("complete", key)] = gen.name
            return None
        import onnxruntime  # noqa: F401 - imported here, not first in the thread (see tagstats)
        import tokenizers  # noqa: F401

        job = {"done": 0, "total": 0, "gen": gen.name}

        def progress(n: int, total: int, _what: str) -> None:
            job["done"], job["total"] = n, total

        def run() -> None:
            try:
                vector_build.complete(index_dir, progress=progress, should_stop=_stopping.is_set)
            except Exception:  # the words index stays usable; the next page load tries again
                _log.exception("making the search vectors failed")

        job["thread"] = threading.Thread(target=run, name="kb-vectors", daemon=True)
        jobs[key] = job
        _vector_threads.append(job["thread"])
        job["thread"].start()
    return job


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

        def progress(n: int, total: int, slug: str) -> None:
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
    job = _vectors_in_background(cfg.index)
    if job is not None:
        done = f": {job['done']} of {job['total']} texts" if job["total"] else ""
        st.progress(
            job["done"] / job["total"] if job["total"] else 0.0,
            text=f"Search by meaning is getting ready{done}. Until it is, results lean "
            "on the words you type; reload to see it grow.",
        )
    kb = _knowledge_base(key)
    _learn_suggestions(kb)
    return kb


def _learn_suggestions(kb: KnowledgeBase) -> None:
    """Start learning the tag suggestions of this index in the background, if not done yet."""
    from kb import tagstats

    with contextlib.suppress(Exception):  # suggestions are an extra; a page must still draw
        tagstats.learn_in_background(kb)


def _error(message: object) -> None:
    from kb.ui.components import error

    error(message)


def knowledge_base_for(index_dir: str) -> KnowledgeBase:
    """Return the cached knowledge base of an index folder (no freshness check)."""
    return _knowledge_base(index_dir)


def corpus_dir() -> Path:
    """Return the corpus folder."""
    return settings().corpus
