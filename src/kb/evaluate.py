"""Relevance judgments in, IR metrics out (nDCG@10, MRR, P@5, recall@10).

The metric functions are plain: they take a ranked list of ids and a mapping
of relevant ids to grades (1-3), so they can be checked by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kb.errors import IndexMissingError, KbError, NotFoundError
from kb.search import KnowledgeBase

LISTS = ("advice", "stories", "all")


def dcg(grades: list[int]) -> float:
    """Discounted cumulative gain with exponential gain, ``(2^g - 1) / log2(rank + 1)``."""
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k of a ranking against graded judgments."""
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([relevant.get(d, 0) for d in ranked[:k]]) / ideal


def reciprocal_rank(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """1 / rank of the first relevant id within the top k, else 0."""
    for i, d in enumerate(ranked[:k]):
        if relevant.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def precision_at(ranked: list[str], relevant: dict[str, int], k: int = 5) -> float:
    """Share of the top k that is relevant (a short list still divides by k)."""
    return sum(1 for d in ranked[:k] if relevant.get(d, 0) > 0) / k


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    """Share of the relevant ids found in the top k."""
    wanted = {d for d, g in relevant.items() if g > 0}
    if not wanted:
        return 0.0
    return len(wanted & set(ranked[:k])) / len(wanted)


@dataclass(frozen=True)
class Judgment:
    """One judged query: its text, which list is judged, and graded relevant ids."""

    id: str
    text: str
    list: str
    relevant: dict[str, int]


def load_judgments(path: Path) -> list[Judgment]:
    """Read a judgments file; raise a one-line error naming the query that is wrong."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise KbError(f"{path}: is a folder, not a judgments file") from None
    except OSError as exc:
        raise KbError(f"{path}: cannot read: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KbError(f"{path}: not a readable YAML file ({str(exc).splitlines()[0]})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("queries"), list):
        raise KbError(f"{path}: expected `queries:` followed by a list")
    out = []
    for n, q in enumerate(data["queries"], 1):
        if not isinstance(q, dict) or not q.get("text"):
            raise KbError(f"{path}: query {n} has no `text`")
        qid = str(q.get("id") or f"q{n}")
        kind = q.get("list", "all")
        if kind not in LISTS:
            raise KbError(f"{path}: query {qid}: `list` must be one of {', '.join(LISTS)}")
        rel = q.get("relevant")
        if isinstance(rel, list):
            rel = {str(r): 1 for r in rel}
        if not isinstance(rel, dict) or not rel:
            raise KbError(f"{path}: query {qid}: `relevant` must list ids or map id: grade")
        grades = {}
        for doc, grade in rel.items():
            if not isinstance(grade, int) or not 0 <= grade <= 3:
                raise KbError(f"{path}: query {qid}: grade of {doc} must be 0-3, not {grade!r}")
            grades[str(doc)] = grade
        out.append(Judgment(qid, str(q["text"]), kind, grades))
    return out


def ranking(kb: KnowledgeBase, j: Judgment, k: int = 10, mode: str = "hybrid") -> list[str]:
    """Return the ids the search ranks for a judged query, in the judged list."""
    result = kb.search(j.text, limit=k, mode=mode)
    if j.list == "advice":
        hits = result.advice
    elif j.list == "stories":
        hits = result.stories
    else:
        hits = sorted(result.advice + result.stories, key=lambda h: -h.score)
    return [h.id for h in hits[:k]]


def evaluate(kb: KnowledgeBase, judgments: list[Judgment], mode: str = "hybrid") -> dict:
    """Run every judged query and return overall and per-query metrics."""
    unknown = []
    for j in judgments:
        for doc in j.relevant:
            try:
                kb.get(doc)
            except IndexMissingError:
                raise  # no index at all: say that, not that every judged id is unknown
            except NotFoundError:
                unknown.append(f"{j.id}: {doc}")
    if unknown:
        more = f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""
        raise KbError(f"judged id not in the index: {unknown[0]}{more}")
    per: list[dict[str, Any]] = []
    for j in judgments:
        ranked = ranking(kb, j, mode=mode)
        per.append(
            {
                "id": j.id,
                "list": j.list,
                "text": j.text,
                "ndcg@10": ndcg_at(ranked, j.relevant),
                "mrr": reciprocal_rank(ranked, j.relevant),
                "p@5": precision_at(ranked, j.relevant),
                "recall@10": recall_at(ranked, j.relevant),
                "ranked": ranked,
            }
        )
    n = len(per)

    def mean(key: str) -> float:
        return round(sum(p[key] for p in per) / n, 4) if n else 0.0

    for p in per:
        for key in ("ndcg@10", "mrr", "p@5", "recall@10"):
            p[key] = round(p[key], 4)
    return {
        "queries": n,
        "ndcg@10": mean("ndcg@10"),
        "mrr": mean("mrr"),
        "p@5": mean("p@5"),
        "recall@10": mean("recall@10"),
        "mode": mode,
        "per_query": per,
    }
