"""Tags as readers and the author see them: counts by source, co-occurrence, suggestions.

A comment's tags come from three sources, kept apart: hand tags (in the corpus),
rule tags (phrases from ``tags.yaml``, computed at build time) and learned
suggestions (see :mod:`kb.suggest`) shown when their confidence reaches a
threshold the author chooses. Suggestions are computed once per index
generation and cached beside it in ``suggestions.json``.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable

from kb.errors import NotFoundError, UsageError, shown
from kb.fsutil import write_atomic
from kb.model import KIND_STORY
from kb.search import SORTS, Hit, KnowledgeBase
from kb.suggest import Example, Suggester, cross_validate

SUGGESTIONS = "suggestions.json"
DEFAULT_THRESHOLD = 0.6


def _split(value: str) -> list[str]:
    return [t for t in (value or "").split(",") if t]


def examples(kb: KnowledgeBase) -> list[Example]:
    """Return every comment of the index as a suggester example (hand tags as labels)."""
    return [
        Example(d["id"], d["body"], frozenset(_split(d.get("tags", ""))),
                frozenset(d.get("removed_tags") or ()))
        for d in kb.all_comments()
    ]


def suggestions(kb: KnowledgeBase) -> dict[str, list[tuple[str, float]]]:
    """Return ranked suggestions for every comment without hand tags (cached per build)."""
    gen = kb.generation_dir()
    cache = gen / SUGGESTIONS if gen else None
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text("utf-8"))
        return {k: [(t, s) for t, s in v] for k, v in data.items()}
    items = examples(kb)
    model = Suggester().fit([e for e in items if e.tags])
    result = model.suggest([e for e in items if not e.tags])
    if cache is not None:
        with contextlib.suppress(OSError):  # a read-only index still gets its suggestions
            write_atomic(cache, json.dumps(result))
    return result


def evaluate_suggestions(kb: KnowledgeBase, folds: int = 5) -> dict:
    """Cross-validate the suggestions on the hand-tagged comments."""
    return cross_validate([e for e in examples(kb) if e.tags], k=folds)


def _suggested(kb: KnowledgeBase, threshold: float | None) -> dict[str, list[str]]:
    if threshold is None:
        return {}
    return {cid: [t for t, s in ranked if s >= threshold]
            for cid, ranked in suggestions(kb).items()}


def tag_overview(kb: KnowledgeBase, threshold: float | None = None) -> list[dict]:
    """Return every tag with its counts by source and the tags it most often goes with."""
    suggested = _suggested(kb, threshold)
    counts: dict[str, Counter] = {}
    together: dict[str, Counter] = {}
    for d in kb.all_comments():
        hand, rule = set(_split(d.get("tags", ""))), set(_split(d.get("rule_tags", "")))
        sugg = set(suggested.get(d["id"], ())) - hand - rule
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
        out.append({
            **tag, "count": total, "hand": c["hand"], "rule": c["rule"],
            "suggested": c["suggested"],
            "together": [{"tag": t, "count": n}
                         for t, n in together.get(tag["id"], Counter()).most_common(3)],
        })
    return out


def browse(
    kb: KnowledgeBase, tags: Iterable[str], *, sort: str = "newest", limit: int = 20,
    offset: int = 0, threshold: float | None = None,
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
    suggested = _suggested(kb, threshold)
    chosen = []
    for d in kb.all_comments():
        have = set(_split(d.get("tags", ""))) | set(_split(d.get("rule_tags", "")))
        extra = [t for t in suggested.get(d["id"], ()) if t not in have]
        if all(t in have or t in extra for t in tags):
            chosen.append((d, extra))
    if sort == "discussed":
        chosen.sort(key=lambda p: (-p[0]["thread_size"], -p[0]["date"].timestamp()))
    else:
        chosen.sort(key=lambda p: p[0]["date"], reverse=(sort == "newest"))
    offset = max(0, int(offset))  # a negative offset would count from the end
    page = chosen[offset: offset + max(1, int(limit))]
    return len(chosen), [make_hit(d, 0.0, set(), suggested=extra) for d, extra in page]


def story_count(kb: KnowledgeBase) -> int:
    """Return how many reader stories the index holds."""
    return sum(1 for d in kb.all_comments() if d["kind"] == KIND_STORY)
