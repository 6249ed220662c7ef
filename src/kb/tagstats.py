"""Tags as readers and the author see them: counts by source, co-occurrence, suggestions.

A comment's tags come from three sources, kept apart: hand tags (in the corpus),
rule tags (phrases from ``tags.yaml``, computed at build time) and learned
suggestions (see :mod:`kb.suggest`) shown when their confidence reaches a
threshold the author chooses. Suggestions are learned in the background for each
state of the hand tags and cached beside the index generation in ``suggestions.json``;
pages drawn for readers never wait for them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal, overload

from kb.errors import NotFoundError, UsageError, shown
from kb.fsutil import write_atomic
from kb.index.handle import StoredDoc
from kb.model import SORTS
from kb.search import Hit, KnowledgeBase
from kb.suggest import Example, Suggester, cross_validate

SUGGESTIONS = "suggestions.json"


def examples(kb: KnowledgeBase) -> list[Example]:
    """Return every comment of the index as a suggester example (hand tags as labels).

    Each carries its sentence vector when every comment has one (a vector step still
    running leaves the suggestions to words, the same for all comments).
    """
    docs = kb.all_comments()
    vectors = kb.doc_vectors([d.id for d in docs]) if docs else None
    if vectors is not None and not all(v.any() for v in vectors):
        vectors = None
    return [
        Example(
            d.id,
            d.body,
            frozenset(d.tags),
            frozenset(d.removed_tags),
            vectors[i] if vectors is not None else None,
        )
        for i, d in enumerate(docs)
    ]


def _fingerprint(items: list[Example]) -> str:
    """Digest of what the suggestions are learned from and made for: texts, hand tags, removals."""
    h = hashlib.sha256()
    h.update(b"words and meaning" if items and items[0].vector is not None else b"words")
    for e in items:
        h.update(
            "\x1f".join(
                (e.id, ",".join(sorted(e.tags)), ",".join(sorted(e.removed)), e.text)
            ).encode("utf-8", "surrogatepass")
        )
        h.update(b"\x1e")
    return h.hexdigest()


def _train(
    items: list[Example], cache: Path | None, key: str
) -> dict[str, list[tuple[str, float]]]:
    import_libraries(learning=True)  # this runs in a thread of its own
    model = Suggester().fit([e for e in items if e.tags])
    result = model.suggest([e for e in items if not e.tags])
    if cache is not None:
        with contextlib.suppress(OSError):  # a read-only index folder: keep them in memory
            write_atomic(cache, json.dumps({"key": key, "suggestions": result}))
    _LAST[:] = [result]
    return result


def _read_cache(cache: Path | None, key: str) -> dict[str, list[tuple[str, float]]] | None:
    if cache is None:
        return None
    try:
        data = json.loads(cache.read_text("utf-8"))
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None  # made for other tags (a file carried over from an earlier generation)
    return {k: [(t, s) for t, s in v] for k, v in data["suggestions"].items()}


def _current(ranked: dict, items: list[Example]) -> dict[str, list[tuple[str, float]]]:
    """Keep the suggestions that still apply: comments without hand tags, tags not removed."""
    open_ = {e.id: e.removed for e in items if not e.tags}
    return {
        cid: [(t, s) for t, s in pairs if t not in open_[cid]]
        for cid, pairs in ranked.items()
        if cid in open_
    }


_JOBS: dict[str, Future] = {}
_JOBS_LOCK = threading.Lock()
_POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-suggest")
_LAST: list[dict] = []  # the last suggestions learned in this process
_MEMO: list = []  # [comments, examples, digest, vectors] of the last generation asked about


@overload
def suggestions(
    kb: KnowledgeBase, wait: Literal[True] = ...
) -> dict[str, list[tuple[str, float]]]: ...
@overload
def suggestions(kb: KnowledgeBase, wait: bool) -> dict[str, list[tuple[str, float]]] | None: ...
def suggestions(kb: KnowledgeBase, wait: bool = True) -> dict[str, list[tuple[str, float]]] | None:
    """Return ranked suggestions for every comment without hand tags.

    They are learned once for each state of the hand tags and kept beside the index
    generation in ``suggestions.json`` with the digest of what they were learned from, so a
    file carried into a later generation is used only if the tags are the same. Learning
    runs in a background thread; with ``wait=False`` the call does not wait for it and
    returns the last suggestions learned (without the comments decided since), or None.
    """
    gen = kb.generation_dir()
    cache = gen / SUGGESTIONS if gen else None
    docs = kb.all_comments()  # the same list until the next build
    vectors = kb.vector_status()  # the vectors of a generation may come after its words
    if not _MEMO or _MEMO[0] is not docs or _MEMO[3] != vectors:
        items = examples(kb)
        _MEMO[:] = [docs, items, _fingerprint(items), vectors]
    items, key = _MEMO[1], _MEMO[2]
    cached = _read_cache(cache, key)
    if cached is not None:
        _LAST[:] = [cached]
        return _current(cached, items)
    with _JOBS_LOCK:
        job = _JOBS.get(key)
        if job is None:
            for k in [k for k, j in _JOBS.items() if j.done()]:
                del _JOBS[k]
            job = _JOBS[key] = _POOL.submit(_train, items, cache, key)
    if not wait and not job.done():
        return _current(_LAST[0], items) if _LAST else None
    return _current(job.result(), items)


# scikit-learn imports pandas. Imported for the first time by the learning thread while a
# page imports pandas for a chart, Python can hand one of them a half-initialised module
# ("partially initialized module 'pandas' has no attribute 'Timestamp'"), so both import
# under this lock: the pages that chart or group call import_libraries first.
IMPORT_LOCK = threading.Lock()


def import_libraries(learning: bool = False) -> None:
    """Import pandas (and, for learning or grouping, scikit-learn) once, under IMPORT_LOCK."""
    with IMPORT_LOCK:
        import pandas  # noqa: F401

        if learning:
            import sklearn.cluster  # noqa: F401
            import sklearn.feature_extraction.text  # noqa: F401
            import sklearn.linear_model  # noqa: F401


_WARMED: set[tuple[str, str]] = set()
LEARN_DELAY = 1.5  # seconds


def learn_in_background(kb: KnowledgeBase) -> None:
    """Start learning the suggestions of the live index in a thread of their own, once per
    generation; the caller does none of the work (reading the comments included)."""
    gen = (str(kb.index_dir), kb.generation())
    with _JOBS_LOCK:
        if not gen[1] or gen in _WARMED:
            return
        _WARMED.add(gen)

    def learn() -> None:
        with contextlib.suppress(Exception):  # an extra: a failure shows when a page asks
            import_libraries(learning=True)
            suggestions(kb)

    # a moment later: the page that asked is drawn first, without sharing the CPU
    timer = threading.Timer(LEARN_DELAY, learn)
    timer.daemon = True
    timer.start()


def evaluate_suggestions(kb: KnowledgeBase, folds: int = 5) -> dict:
    """Cross-validate the suggestions on the hand-tagged comments."""
    return cross_validate([e for e in examples(kb) if e.tags], k=folds)


def _suggested(
    kb: KnowledgeBase, threshold: float | None, wait: bool = True
) -> dict[str, list[str]]:
    if threshold is None:
        return {}
    return {
        cid: [t for t, s in ranked if s >= threshold]
        for cid, ranked in (suggestions(kb, wait=wait) or {}).items()
    }


def tag_overview(
    kb: KnowledgeBase, threshold: float | None = None, wait: bool = True
) -> list[dict]:
    """Return every tag with its counts by source and the tags it most often goes with.

    With ``wait=False`` suggestions still being learned are left out (see ``suggestions``).
    """
    suggested = _suggested(kb, threshold, wait)
    counts: dict[str, Counter] = {}
    together: dict[str, Counter] = {}
    for d in kb.all_comments():
        hand, rule = set(d.tags), set(d.rule_tags)
        sugg = set(suggested.get(d.id, ())) - hand - rule
        for source, tags in (("hand", hand), ("rule", rule), ("suggested", sugg)):
            for t in tags:
                counts.setdefault(t, Counter())[source] += 1
        present = sorted(hand | rule)
        for t in present:
            for other in present:
                if other != t:
                    together.setdefault(t, Counter())[other] += 1
    out = []
    for tag in kb.manifest.get("tags", []):
        c = counts.get(tag["id"], Counter())
        total = c["hand"] + c["rule"] + (c["suggested"] if threshold is not None else 0)
        out.append(
            {
                **tag,
                "count": total,
                "hand": c["hand"],
                "rule": c["rule"],
                "suggested": c["suggested"],
                "together": [
                    {"tag": t, "count": n}
                    for t, n in together.get(tag["id"], Counter()).most_common(3)
                ],
            }
        )
    return out


def browse(
    kb: KnowledgeBase,
    tags: Iterable[str],
    *,
    sort: str = SORTS[0],
    limit: int = 20,
    offset: int = 0,
    threshold: float | None = None,
    wait: bool = True,
) -> tuple[int, list[Hit]]:
    """Return (count, page) of comments carrying every tag, by hand, rule or suggestion."""
    from kb.search import make_hit

    tags = [t for t in tags if t]
    if not tags:
        raise UsageError("name at least one tag to browse (see `kb tags`)")
    if sort not in SORTS:
        raise UsageError(f"unknown sort {shown(sort)}; use one of {', '.join(SORTS)}")
    known = {t["id"] for t in kb.manifest.get("tags", [])}
    for t in tags:
        if t not in known:
            raise NotFoundError(f"unknown tag {shown(t)}; `kb tags` lists them")
    suggested = _suggested(kb, threshold, wait)
    chosen = []
    for d in kb.all_comments():
        have = set(d.tags) | set(d.rule_tags)
        extra = [t for t in suggested.get(d.id, ()) if t not in have]
        if all(t in have or t in extra for t in tags):
            chosen.append((d, extra))
    if sort == "discussed":
        chosen.sort(key=lambda p: (-p[0].thread_size, -_when(p[0]).timestamp()))
    else:
        chosen.sort(key=lambda p: _when(p[0]), reverse=(sort == "newest"))
    offset = max(0, int(offset))  # a negative offset would count from the end
    page = chosen[offset : offset + max(1, int(limit))]
    return len(chosen), [make_hit(d, 0.0, set(), suggested=extra) for d, extra in page]


def _when(d: StoredDoc) -> dt.datetime:
    return d.date or dt.datetime.min  # (every comment has its date)
