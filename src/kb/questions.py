"""Frequent questions: what readers ask again and again, and what is not yet answered.

Extraction: each reader comment is split into sentences; a sentence is a question
when it ends with "?" or opens with an implicit ask ("should I", "I don't know
what to do", "is it normal that"). Short filler ("right?", "why?") and thanks are
skipped; the author's own comments are not read.

Grouping (deterministic, linear in the number of questions): a question alone
("what should I do?") seldom says what it is about, so each is embedded in its
context: the sentence's vector plus its comment's vector (kb.semantic), beside a
half-weight TF-IDF vector of its stems and stem pairs (words readers use for the
same move fold into one concept: "text", "call", "reach out" -> contact) reduced
by latent semantic analysis. k-means (fixed seed, k about the square root of half
the questions) groups them. Without vectors the words part alone is used. Tags
play no part. Each group is named by its most central question of 8 to 30 words
and by the words that set it apart from the other groups (class-based TF-IDF over
its questions, whole words, never stems).

Coverage: with vectors, the article section nearest in meaning to the group's
questions covers it when their cosine reaches ``COVER_SIMILARITY``; without, the
group's key terms are searched and the best section must score ``COVER_SCORE``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from whoosh.lang.porter import stem

from kb.search import KnowledgeBase

if TYPE_CHECKING:
    import numpy as np

COVER_SCORE = 12.0  # words only: BM25F score of the best section
# With vectors: cosine of the group's questions and the nearest section (see the README's
# "Frequent questions" for how it was measured).
COVER_SIMILARITY = 0.34
WORDS_WEIGHT = 0.5  # the words part of a question's features, beside its meaning
MIXED = 0.4  # below this mean similarity to its centre a group is a mix of unrelated asks
NAME_WORDS = (8, 30)  # the words of a question that can name its group
MAX_CHARS = 220
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")
_ASKS = re.compile(
    r"^(?:so |but |and |ok |well |i guess |honestly |seriously )*"
    r"(should i|should we|do i|do we|how do i|how do we|how can i|how long|what do i|what should|"
    r"what can i|is it normal|is it over|is there any hope|will (?:he|she|they)|can i|am i|"
    r"i don'?t know what to do|idk what to do|any advice|i need advice|i'?m wondering|"
    r"i wonder|wondering (?:if|whether))",
    re.I,
)
_FILLER = re.compile(r"^(right|why|huh|really|what|seriously|how|ok|okay|see)\W*$", re.I)
_THANKS = re.compile(r"\bthank", re.I)

# Words readers use for the same question, folded into one concept before grouping.
CONCEPTS = {
    "contact": "text texts texting call calling message messages messaging contact contacting "
    "reach write letter email phone ring",
    "wait": "wait waiting long weeks months time",
    "over": "over hope back return chance",
    "trust": "trust trusting believe honest lies lying",
    "say": "say tell talk conversation words",
    "leave": "leave leaving stay staying divorce quit give",
    "other": "someone another rebound affair seeing cheating",
    "kids": "kids children son daughter child",
    "counsel": "counselling counseling counsellor counselor therapist therapy",
    "fight": "fight fighting argue arguing argument yelling shouting shut",
    "needy": "needy clingy distant space closer pull pulls",
    "normal": "normal",
}
_KEEP = {
    "how",
    "long",
    "should",
    "when",
    "why",
    "normal",
    "over",
    "wait",
    "back",
    "say",
    "tell",
    "leave",
    "stay",
}
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _concept_map() -> dict[str, str]:
    return {stem(w): f"@{concept}" for concept, words in CONCEPTS.items() for w in words.split()}


_CONCEPT = _concept_map()


def question_terms(text: str) -> list[str]:
    """Return the stems of a question with concepts folded and stop words dropped."""
    from kb.analysis import NEGATIONS, STOP_WORDS

    out = []
    for raw in _WORD.findall(text.lower()):
        word = raw.split("'")[0]
        if len(word) < 2 or (word in STOP_WORDS and word not in _KEEP) or word in NEGATIONS:
            continue
        stemmed = stem(word)
        out.append(_CONCEPT.get(stemmed, stemmed))
    return out


@dataclass(frozen=True)
class Question:
    """One reader question, tied to its comment."""

    comment: str
    text: str
    author: str
    date: dt.datetime
    article: str
    answered: bool


def extract(text: str) -> list[str]:
    """Return the questions and implicit asks in a comment's text."""
    if not text:
        return []
    found = []
    for m in _SENTENCE.finditer(text):
        s = " ".join(m.group(0).split()).strip(" -*>\"'")
        if not s:
            continue
        implicit = _ASKS.match(s)
        if not (s.endswith("?") or implicit) or _FILLER.match(s) or _THANKS.search(s):
            continue
        if not implicit and len(question_terms(s)) < 2:
            continue  # "why would he?" alone says too little to group
        found.append(s if len(s) <= MAX_CHARS else s[: MAX_CHARS - 1].rsplit(" ", 1)[0] + "…")
    return found


def collect(kb: KnowledgeBase, since: dt.date | None = None) -> list[Question]:
    """Return every question in the index's reader comments (from ``since`` on)."""
    out = []
    for d in kb.all_comments():
        when = d.date or dt.datetime.min  # (every comment has its date)
        if d.is_author or (since and when.date() < since):
            continue
        for q in extract(d.body):
            out.append(Question(d.id, q, d.author, when, d.article, bool(d.replies)))
    return out


@dataclass
class Group:
    """Questions that ask the same thing, with what is known about them."""

    id: int
    representative: str
    key_terms: list[str]
    questions: list[Question] = field(default_factory=list)
    covered_by: str | None = None
    covered_title: str = ""
    score: float = 0.0
    cohesion: float = 1.0

    @property
    def comment_ids(self) -> list[str]:
        """Every comment that asks this, in order of first appearance."""
        return list(dict.fromkeys(q.comment for q in self.questions))

    def stats(self) -> dict:
        """Return counts, readers, dates, trend and answers as plain data."""
        by_comment = {q.comment: q for q in self.questions}
        dates = sorted(q.date for q in by_comment.values())
        trend = Counter(str(q.date.year) for q in by_comment.values())
        return {
            "count": len(by_comment),
            "readers": len({q.author.casefold() for q in by_comment.values()}),
            "first_seen": dates[0].date().isoformat() if dates else None,
            "last_seen": dates[-1].date().isoformat() if dates else None,
            "answered": sum(1 for q in by_comment.values() if q.answered),
            "trend": dict(sorted(trend.items())),
        }

    def as_dict(self, examples: int = 5) -> dict:
        """Return the group as plain data (the contract's fields first)."""
        s = self.stats()
        return {
            "id": self.id,
            "representative": self.representative,
            "count": s["count"],
            "readers": s["readers"],
            "comment_ids": self.comment_ids,
            "first_seen": s["first_seen"],
            "last_seen": s["last_seen"],
            "answered": s["answered"],
            "covered_by": self.covered_by,
            "covered_title": self.covered_title,
            "score": round(self.score, 3),
            "key_terms": self.key_terms,
            "trend": s["trend"],
            "cohesion": self.cohesion,
            "mixed": self.cohesion < MIXED,
            "examples": [q.text for q in self.questions[:examples]],
        }


def _k(n: int) -> int:
    return max(2, min(n - 1, round(math.sqrt(n / 2)), 300)) if n > 2 else 1


def group(
    questions: Sequence[Question],
    k: int | None = None,
    seed: int = 0,
    meaning: np.ndarray | None = None,
) -> list[Group]:
    """Group questions by meaning and words; return groups largest first.

    ``meaning`` is an (n, d) array of the questions' unit vectors in context (see
    :func:`question_vectors`), or None to group by words alone.
    """
    if not questions:
        return []
    if len(questions) < 3:
        names = _names(questions, list(range(len(questions))), len(questions))
        return [Group(i, q.text, names[i], [q]) for i, q in enumerate(questions)]
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    vec = TfidfVectorizer(analyzer=lambda t: _grams(question_terms(t)), sublinear_tf=True, min_df=1)
    x = vec.fit_transform([q.text for q in questions])
    dims = max(2, min(100, x.shape[1] - 1, len(questions) - 1))
    features = normalize(TruncatedSVD(n_components=dims, random_state=seed).fit_transform(x))
    if meaning is not None:
        features = normalize(np.hstack([np.asarray(meaning), WORDS_WEIGHT * features]))
    # never more groups than different questions: k-means cannot fill the rest (and warns)
    distinct = int(np.unique(features.round(9), axis=0).shape[0])
    k = max(1, min(k or _k(len(questions)), distinct))
    km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(features)
    names = _names(questions, km.labels_, k)
    groups = []
    for label in range(k):
        members = np.where(km.labels_ == label)[0]
        if not len(members):
            continue
        centre = km.cluster_centers_[label]
        ordered = sorted(members, key=lambda i: -float(features[i] @ centre))
        lo, hi = NAME_WORDS
        named = [i for i in ordered if lo <= len(questions[i].text.split()) <= hi]
        unit = centre / (np.linalg.norm(centre) or 1.0)
        cohesion = float(np.mean(features[members] @ unit))
        groups.append(
            Group(
                0,
                questions[(named or ordered)[0]].text,
                names[label],
                [questions[i] for i in ordered],
                cohesion=round(cohesion, 3),
            )
        )
    groups.sort(key=lambda g: (-len(g.comment_ids), g.representative))
    for i, g in enumerate(groups, 1):
        g.id = i
    return groups


def _names(
    questions: Sequence[Question], labels: Iterable[int], k: int, n: int = 5
) -> dict[int, list[str]]:
    """Return each group's words that set it apart: class-based TF-IDF over whole words.

    A word weighs its count in the group times log(1 + average words per group / its count
    in all groups); words of one letter or two, stop words and a group's zero weights never
    name it.
    """
    from kb.analysis import STOP_WORDS

    counts: dict[int, Counter] = {label: Counter() for label in range(k)}
    for q, label in zip(questions, labels, strict=True):
        counts[int(label)].update(
            w
            for w in _WORD.findall(q.text.lower())
            if len(w) > 2 and w not in STOP_WORDS and "'" not in w
        )
    overall: Counter[str] = Counter()
    for c in counts.values():
        overall.update(c)
    average = sum(overall.values()) / max(1, k)
    out = {}
    for label, c in counts.items():
        weights = {w: f * math.log(1 + average / overall[w]) for w, f in c.items()}
        ranked = sorted(
            (w for w, x in weights.items() if x > 0 and c[w] > 1 or len(c) < 3),
            key=lambda w: (-weights[w], w),
        )
        out[label] = ranked[:n]
    return out


def question_vectors(kb: KnowledgeBase, questions: Sequence[Question]) -> np.ndarray | None:
    """Return each question's unit vector in its context (the sentence plus its comment), or
    None when the index has no vectors."""
    import numpy as np

    asked = kb.embed_texts([q.text for q in questions])
    if asked is None:
        return None
    context = kb.doc_vectors([q.comment for q in questions])
    both = asked + (context if context is not None else 0.0)
    return both / np.maximum(np.linalg.norm(both, axis=1, keepdims=True), 1e-9)


def _grams(terms: list[str]) -> list[str]:
    return terms + [f"{a} {b}" for a, b in zip(terms, terms[1:], strict=False)]


def cover(kb: KnowledgeBase, groups: list[Group]) -> None:
    """Find, for each group, the article section that best answers it.

    By meaning where the index has vectors: the section nearest the mean of the group's
    question sentences; else by searching the group's words.
    """
    import numpy as np

    if groups:
        asked = kb.embed_texts([q.text for g in groups for q in g.questions])
        if asked is not None:
            centres, at = [], 0
            for g in groups:
                mean = asked[at : at + len(g.questions)].mean(axis=0)
                at += len(g.questions)
                centres.append(mean / (np.linalg.norm(mean) or 1.0))
            nearest = kb.nearest_sections(np.array(centres))
            if nearest is not None:
                for g, (section, similarity) in zip(groups, nearest, strict=True):
                    g.score = similarity
                    if section and similarity >= COVER_SIMILARITY:
                        doc = kb.get(section)
                        g.covered_by = section
                        g.covered_title = f"{doc.article_title} — {doc.heading}"
                return
    for g in groups:
        words = " ".join(t for t in g.key_terms if not t.startswith("@")) + " " + g.representative
        result = kb.search(words, limit=5)
        best = next((h for h in result.advice if h.kind == "section"), None)
        if best is not None:
            g.score = best.score
            if best.score >= COVER_SCORE:
                g.covered_by = best.id
                g.covered_title = f"{best.article_title} — {best.title}"


def growth(g: Group, today: dt.date | None = None) -> float:
    """Return how much more the group was asked in the last two years than before, per year."""
    latest = max(q.date for q in g.questions).date()
    today = today or latest
    recent = sum(1 for q in g.questions if (today - q.date.date()).days <= 730)
    older = len(g.questions) - recent
    span = max(1.0, (today - min(q.date for q in g.questions).date()).days / 365 - 2)
    return recent / 2 - older / span


def review(
    kb: KnowledgeBase,
    *,
    since: dt.date | None = None,
    min_count: int = 1,
    sort: str = "count",
    unanswered: bool = False,
    not_covered: bool = False,
) -> dict:
    """Return the frequent-question review: groups with counts, answers and coverage."""
    questions = collect(kb, since)
    groups = group(questions, meaning=question_vectors(kb, questions))
    cover(kb, groups)
    today = max((q.date.date() for q in questions), default=dt.date.today())
    rows = []
    for g in groups:
        d = g.as_dict()
        d["growth"] = round(growth(g, today), 3)
        if d["count"] < min_count:
            continue
        if unanswered and d["answered"] * 2 >= d["count"]:
            continue
        if not_covered and d["covered_by"]:
            continue
        rows.append(d)
    keys = {
        "count": lambda d: (d["mixed"], -d["count"], d["id"]),
        "growth": lambda d: (d["mixed"], -d["growth"], -d["count"], d["id"]),
        "unanswered": lambda d: (d["mixed"], -(d["count"] - d["answered"]), d["id"]),
    }
    rows.sort(key=keys.get(sort, keys["count"]))
    return {"questions": len(questions), "groups": rows, "searches": search_groups(kb)}


def search_groups(kb: KnowledgeBase) -> list[dict]:
    """Group the searches that found little: asked in search, not answered anywhere."""
    from kb.searchlog import read

    logged = read(kb.index_dir)
    if not logged:
        return []
    epoch = dt.datetime(1970, 1, 1)
    items = [Question("", text, "", epoch, "", False) for text in sorted(logged)]
    out: list[dict[str, Any]] = []
    for g in group(
        items,
        k=_k(len(items)) if len(items) > 8 else len(items),
        meaning=kb.embed_texts([q.text for q in items]),
    ):
        texts = [q.text for q in g.questions]
        out.append(
            {
                "representative": g.representative,
                "count": sum(logged[t] for t in texts),
                "searches": texts[:10],
                "key_terms": g.key_terms,
            }
        )
    out.sort(key=lambda d: (-d["count"], d["representative"]))
    return out


def md_escape(text: str) -> str:
    """Return untrusted text as inert Markdown: one line, HTML escaped, Markdown marks escaped.

    What readers wrote is published by the author from the draft; it must come out as the
    text they typed, never as markup, a link, an image or a heading.
    """
    text = html.escape(" ".join(str(text).split()), quote=True)
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|~<>:" else ch for ch in text)


def markdown_draft(report: dict, kb: KnowledgeBase, base_url: str = "") -> str:
    """Return a FAQ draft: each group's question, reader wordings, covering article, replies.

    Links go to the original posts and comments on the site (see :mod:`kb.origin`); where
    the site's address is unknown, the article and the comment are named without a link.
    Everything that came from readers (questions, wordings) and from the corpus (titles,
    ids) is escaped (:func:`md_escape`), so the draft holds no HTML or Markdown of theirs.
    """
    from kb.origin import article_url, comment_url

    urls = {a["slug"]: a.get("url", "") for a in kb.articles()}
    docs = {d.id: d for d in kb.all_comments()}
    lines = ["# Frequently asked questions (draft)", ""]
    for g in report["groups"]:
        lines.append(f"## {md_escape(g['representative'])}")
        lines.append("")
        lines.append(
            f"*Asked in {g['count']} comments by {g['readers']} readers, "
            f"{g['first_seen']} to {g['last_seen']}; {g['answered']} answered.*"
        )
        lines.append("")
        lines.append("Readers put it like this:")
        lines.append("")
        for ex in g["examples"][:4]:
            lines.append(f"> {md_escape(ex)}")
            lines.append("")
        if g["covered_by"]:
            slug, _, anchor = g["covered_by"].partition("#")
            post = article_url(slug, urls.get(slug, ""), base_url)
            title = md_escape(g["covered_title"])
            lines.append(
                f"Covered by: [{title}]({post})"
                if post
                else f"Covered by: {title} (section {md_escape(anchor)})"
            )
        else:
            lines.append("Not covered by any article yet.")
        replies = _best_replies(kb, g["comment_ids"])
        if replies:
            lines.append("")
            lines.append("The author's replies:")
            for rid in replies:
                slug = docs[rid].article if rid in docs else ""
                where = comment_url(rid, slug, urls.get(slug, ""), base_url)
                lines.append(f"- [{md_escape(rid)}]({where})" if where else f"- {md_escape(rid)}")
        lines.append("")
    return "\n".join(lines)


def _best_replies(kb: KnowledgeBase, comment_ids: list[str], n: int = 3) -> list[str]:
    docs = {d.id: d for d in kb.all_comments()}
    out = []
    for cid in comment_ids:
        for rid in docs[cid].replies if cid in docs else ():
            if rid not in out:
                out.append(rid)
                break
        if len(out) >= n:
            break
    return out


def evaluate_grouping(kb: KnowledgeBase, judged: list[dict]) -> dict:
    """Compare the grouping with hand-labelled questions (adjusted Rand index, purity)."""
    from sklearn.metrics import adjusted_rand_score

    questions = collect(kb)
    groups = group(questions, meaning=question_vectors(kb, questions))
    label_of: dict[tuple[str, str], int] = {}
    by_comment: dict[str, list[tuple[str, int]]] = {}
    for g in groups:
        for q in g.questions:
            label_of[(q.comment, q.text)] = g.id
            by_comment.setdefault(q.comment, []).append((q.text, g.id))
    truth, found = [], []
    missed = 0
    for item in judged:
        candidates = by_comment.get(item["comment"], [])
        if not candidates:
            missed += 1
            continue
        wanted = set(question_terms(item["text"]))
        text, gid = max(candidates, key=lambda c: len(wanted & set(question_terms(c[0]))))
        truth.append(item["group"])
        found.append(gid)
    purity = 0
    for gid in set(found):
        labels = Counter(t for t, f in zip(truth, found, strict=True) if f == gid)
        purity += labels.most_common(1)[0][1]
    return {
        "judged": len(judged),
        "matched": len(truth),
        "missed": missed,
        "extraction_recall": round(len(truth) / len(judged), 3) if judged else 0.0,
        "groups": len(groups),
        "judged_groups": len(set(truth)),
        "by": "meaning and words" if kb.embed_texts([]) is not None else "words",
        "adjusted_rand_index": round(float(adjusted_rand_score(truth, found)), 3) if truth else 0.0,
        "purity": round(purity / len(truth), 3) if truth else 0.0,
    }
