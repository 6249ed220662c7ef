"""Learned tag suggestions: from the comments tagged by hand, suggest tags for the rest.

Method: each comment becomes a TF-IDF vector of its stems (the index's analyzer,
so stop words and stemming match search) and, where the index has them, its
sentence vector beside it (kb.semantic: accuracy@1 0.588 -> 0.741 on the embedded
corpus); one logistic-regression classifier per tag (one-vs-rest, balanced class
weights) is trained on the hand-tagged comments, and its probability is the
suggestion's confidence. Training and prediction are
linear in the number of comments, which keeps a few hundred thousand comments
within seconds to a minute. Tags with fewer than ``MIN_EXAMPLES`` hand-tagged
comments are not learned. A tag the author removed from a comment is never
suggested for it again.

``cross_validate`` measures the suggestions on the hand-tagged comments with
k-fold cross-validation, beside the baseline that always suggests the most
frequent tags.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kb.analysis import terms

MIN_EXAMPLES = 3
TOP = 3
MEANING_WEIGHT = 1.0  # of the sentence vector beside the TF-IDF one (0.5-4 measured; 1-2 best)


@dataclass(frozen=True)
class Example:
    """A comment as the suggester sees it."""

    id: str
    text: str
    tags: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    vector: Any = None  # the comment's sentence vector (numpy), when the index has one


def _analyze(text: str) -> list[str]:
    return terms(text)


class Suggester:
    """One-vs-rest logistic regression over TF-IDF stems and, when given, sentence vectors."""

    def __init__(self, c: float = 4.0) -> None:
        self.c = c
        self.tags: list[str] = []
        self._vectorizer: Any = None  # a TfidfVectorizer once fitted
        self._dims = 0  # the length of the sentence vectors trained with
        self._models: list = []
        self._meaning = False  # trained with sentence vectors

    def _features(self, examples: Sequence[Example], fit: bool = False) -> Any:  # a sparse matrix
        import numpy as np
        from scipy import sparse

        texts = [e.text for e in examples]
        x = self._vectorizer.fit_transform(texts) if fit else self._vectorizer.transform(texts)
        if fit:
            self._meaning = bool(examples) and all(e.vector is not None for e in examples)
        if not self._meaning:
            return x
        dims = next(len(e.vector) for e in examples if e.vector is not None) if fit else self._dims
        self._dims = dims
        rows = np.array(
            [e.vector if e.vector is not None else np.zeros(dims, np.float32) for e in examples],
            dtype=np.float32,
        )
        return sparse.hstack([x, sparse.csr_matrix(MEANING_WEIGHT * rows)]).tocsr()

    def fit(self, examples: Sequence[Example]) -> Suggester:
        """Learn every tag that has enough hand-tagged examples."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        counts = Counter(t for e in examples for t in e.tags)
        self.tags = sorted(t for t, n in counts.items() if n >= MIN_EXAMPLES)
        self._models = []
        if not self.tags:
            return self
        self._vectorizer = TfidfVectorizer(analyzer=_analyze, sublinear_tf=True, min_df=1)
        x = self._features(examples, fit=True)
        for tag in self.tags:
            y = [1 if tag in e.tags else 0 for e in examples]
            model = LogisticRegression(
                C=self.c, class_weight="balanced", solver="liblinear", max_iter=200
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # convergence chatter on tiny sets
                model.fit(x, y)
            self._models.append(model)
        return self

    def scores(self, examples: Sequence[Example]) -> list[dict[str, float]]:
        """Return, for each comment, every learned tag with its probability."""
        if not self._models or not examples:
            return [{} for _ in examples]
        x = self._features(examples)
        columns = [m.predict_proba(x)[:, 1] for m in self._models]
        return [
            {tag: float(col[i]) for tag, col in zip(self.tags, columns, strict=True)}
            for i in range(len(examples))
        ]

    def suggest(
        self, examples: Sequence[Example], top: int = TOP, floor: float = 0.0
    ) -> dict[str, list[tuple[str, float]]]:
        """Return each comment's best ``top`` tags (not removed by hand), best first."""
        out = {}
        for e, scores in zip(examples, self.scores(examples), strict=True):
            ranked = sorted(
                ((t, s) for t, s in scores.items() if t not in e.removed and s >= floor),
                key=lambda p: (-p[1], p[0]),
            )
            out[e.id] = [(t, round(s, 4)) for t, s in ranked[:top]]
        return out


def _folds(n: int, k: int) -> list[list[int]]:
    return [list(range(i, n, k)) for i in range(k)]


def cross_validate(examples: Sequence[Example], k: int = 5, threshold: float = 0.5) -> dict:
    """Measure suggestions on hand-tagged comments by k-fold cross-validation."""
    examples = [e for e in examples if e.tags]
    n = len(examples)
    if n < 2 * k:
        return {"comments": n, "folds": k, "error": f"need at least {2 * k} hand-tagged comments"}
    hits1 = hits3 = base1 = base3 = 0
    per_tag: dict[str, Counter] = {}
    for fold in _folds(n, k):
        held = set(fold)
        train = [e for i, e in enumerate(examples) if i not in held]
        test = [examples[i] for i in fold]
        model = Suggester().fit(train)
        counts = Counter(t for e in train for t in e.tags)
        frequent = sorted(counts, key=lambda t: (-counts[t], t))[:TOP]
        for e, scores in zip(test, model.scores(test), strict=True):
            ranked = [t for t, _ in sorted(scores.items(), key=lambda p: (-p[1], p[0]))]
            hits1 += bool(ranked[:1] and ranked[0] in e.tags)
            hits3 += bool(set(ranked[:3]) & e.tags)
            base1 += bool(frequent[:1] and frequent[0] in e.tags)
            base3 += bool(set(frequent[:3]) & e.tags)
            for tag in set(scores) | e.tags:
                c = per_tag.setdefault(tag, Counter())
                predicted = scores.get(tag, 0.0) >= threshold
                actual = tag in e.tags
                c["tp"] += predicted and actual
                c["fp"] += predicted and not actual
                c["fn"] += actual and not predicted
    tags = {}
    for tag, c in sorted(per_tag.items()):
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        tags[tag] = {"precision": round(p, 3), "recall": round(r, 3), "support": c["tp"] + c["fn"]}
    return {
        "comments": n,
        "folds": k,
        "threshold": threshold,
        "features": "words and meaning" if all(e.vector is not None for e in examples) else "words",
        "accuracy@1": round(hits1 / n, 3),
        "accuracy@3": round(hits3 / n, 3),
        "baseline": {
            "method": "most frequent tags",
            "accuracy@1": round(base1 / n, 3),
            "accuracy@3": round(base3 / n, 3),
        },
        "per_tag": tags,
    }
