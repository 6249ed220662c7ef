"""Searching the index: situations in plain words and in meaning, and similar stories.

Readers type sentences, not query syntax, so the text is never parsed as a
query language: it is analysed into stems (stop words out) and each stem
becomes an optional clause. Documents matching more of the reader's words
score higher through BM25F's sum over terms and a coordination factor applied
to the top candidates. Results come as two lists: ``advice`` (article sections
and the author's replies) and ``stories`` (reader comments, each with the ids
of the author's replies in its thread).

Beside the words, the meaning: the reader's text is embedded and every document's
vector compared with it (``kb.semantic.meaning``); the two rankings are fused.

Speed: the scores are summed in arrays (``kb.engine.scoring``), filters are
boolean masks, and only the hits shown are read back and given snippets. The
index itself (generation, searchers, vectors, reads) is held by
``kb.index.handle``; a :class:`KnowledgeBase` is that handle with the searches
below, which work on one request's :class:`Context`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as Q
from whoosh.scoring import BM25F

from kb.analysis import NEGATION_STEMS, STOP_WORDS, synonyms, terms
from kb.engine.scoring import IndexArrays, top
from kb.errors import NotFoundError, UsageError, shown
from kb.index.handle import IndexHandle, StoredDoc, id_term
from kb.index.spelling import MAX_WORD, did_you_mean
from kb.model import ADVICE_KINDS, KIND_SECTION, KIND_STORY, MODES
from kb.semantic.meaning import Meaning
from kb.snippets import snippet

MAX_QUERY_CHARS = 2000
MAX_TERMS = 48
MAX_LIMIT = 200
COORD = 0.5  # weight of the share of query terms a document matches
CONTEXT = 0.5  # weight of a match in a document's context (see kb.index.documents)
BM25_B, BM25_K1 = 0.5, 1.2
SYNONYM = 0.5  # weight of a word brought in as a synonym of the reader's word
# Longer "words" are noise (pasted links, keyboard mashing); their spelling automata take
# most of a second to build, so they are never corrected or matched fuzzily.
FUZZY_RELAXED = "no exact match; showing words spelled alike"
WEIGHTING = BM25F(B=BM25_B, K1=BM25_K1)
POOL = 100  # candidates each ranking brings to the fusion
# The words ranking's share of a fused score, the meaning ranking's is the rest; each scaled
# to 0-1 over its candidates first. Fitted on tests/eval/judgments.yaml (0.3-0.5 all within
# 0.01 nDCG@10; reciprocal rank fusion 0.03 lower); see the README's search quality table.
WORDS_SHARE = 0.4
# The meaning ranking is trusted in full when its best candidate is at least this close and
# not at all below the first figure, linearly between: a short query the model reads poorly
# ("she feels smothered", best cosine 0.35) leans on its words (judged sets: nDCG@10 within
# 0.001 either way).
SURE_MEANING = (0.30, 0.50)


@dataclass(frozen=True)
class Hit:
    """One search result; ``snippet`` is escaped HTML with ``<mark>`` around matches."""

    id: str
    kind: str
    article: str
    title: str
    snippet: str
    score: float
    tags: list[str]
    date: str
    author: str
    article_title: str = ""
    section: str = ""
    thread: str = ""
    parent: str = ""
    replies: list[str] = field(default_factory=list)
    rule_tags: list[str] = field(default_factory=list)
    suggested_tags: list[str] = field(default_factory=list)
    similarity: float | None = None  # cosine of the reader's text and this one, when known

    def as_dict(self) -> dict:
        """Return the hit as plain data for JSON."""
        d = asdict(self)
        if self.kind != KIND_STORY:
            d.pop("replies")
        return d


@dataclass
class SearchResult:
    """The answer to a situation search."""

    query: str
    advice: list[Hit]
    stories: list[Hit]
    total_advice: int = 0
    total_stories: int = 0
    did_you_mean: str | None = None
    relaxed: str | None = None
    message: str | None = None
    terms: list[str] = field(default_factory=list)
    truncated: bool = False
    mode: str = "words"
    notice: str | None = None  # why the asked mode could not be used
    best_similarity: float | None = None  # of the closest document in either list
    fits: bool = False  # whether the best hit is really about the reader's words (see ``fits``)

    def as_dict(self) -> dict:
        """Return the result as plain data for JSON (the contract's fields first)."""
        return {
            "query": self.query,
            "advice": [h.as_dict() for h in self.advice],
            "stories": [h.as_dict() for h in self.stories],
            "total_advice": self.total_advice,
            "total_stories": self.total_stories,
            "did_you_mean": self.did_you_mean,
            "relaxed": self.relaxed,
            "message": self.message,
            "terms": self.terms,
            "truncated": self.truncated,
            "mode": self.mode,
            "notice": self.notice,
            "best_similarity": self.best_similarity,
            "fits": self.fits,
        }


@dataclass(frozen=True)
class Filters:
    """Restrictions on a search: tags (all required), article, dates, answered only."""

    tags: tuple[str, ...] = ()
    article: str | None = None
    since: dt.date | None = None  # from this day on
    until: dt.date | None = None  # up to this day, included
    answered: bool = False


def _clean(text: str) -> tuple[str, bool]:
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text or "")
    truncated = len(text) > MAX_QUERY_CHARS
    return text[:MAX_QUERY_CHARS].strip(), truncated


def query_terms(text: str) -> list[tuple[str, float]]:
    """Return the weighted stems of a reader's text: repeated words weigh a little more."""
    counts = Counter(terms(text))
    order = list(dict.fromkeys(terms(text)))
    order.sort(key=lambda t: -counts[t])
    chosen = order[:MAX_TERMS]
    weighted = [(t, 1.0 + math.log(counts[t])) for t in chosen]
    seen = set(chosen)
    for t, w in list(weighted):
        for alt in synonyms(t):
            if alt not in seen and SYNONYM > 0:
                seen.add(alt)
                weighted.append((alt, w * SYNONYM))
    return weighted


# The best hit's score at which a search counts as covered by the site. Measured on the
# embedded corpus (README, "Search quality"): every one of the 62 judged queries scores
# 13.3 or more; 12 of the 20 off-topic questions of tests/eval/offtopic.yaml score less.
FIT_SCORE = 13.0  # by words alone: the best hit's BM25F score
FIT_SIMILARITY = 0.34  # with vectors: the closest hit's cosine (measured, see the README)


def fits(result: SearchResult) -> bool:
    """Tell whether a search found something really about the reader's words.

    With vectors, the closest hit must be at least ``FIT_SIMILARITY`` close in meaning;
    by words alone, the best hit must score ``FIT_SCORE``. False when nothing matched or
    only words spelled alike did: the hits are then only the closest there are.
    """
    if result.relaxed == FUZZY_RELAXED:
        return False
    if result.best_similarity is not None:
        return result.best_similarity >= FIT_SIMILARITY
    best = max((h.score for h in result.advice + result.stories), default=0.0)
    return best >= FIT_SCORE


def negation_pairs(text: str) -> set[tuple[str, str]]:
    """Return the pairs a negation forms with the stem after it ("no contact", "not ... love").

    The index keeps no word positions, so a pair is the two stems both in a document's body:
    a document that holds "no" and "contact" ranks above one that holds "contact" alone.
    """
    stems = terms(text)
    return {
        (a, b)
        for a, b in zip(stems, stems[1:], strict=False)
        if a in NEGATION_STEMS and b not in NEGATION_STEMS
    }


def _date_str(value: object) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="minutes")
    return str(value or "")


def _member(n: int, docs: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[docs] = True
    return out


def _holds(postings: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Tell, for each of ``docs``, whether it is in the sorted array ``postings``."""
    if not len(postings):
        return np.zeros(len(docs), dtype=bool)
    at = np.minimum(np.searchsorted(postings, docs), len(postings) - 1)
    return postings[at] == docs


def make_hit(doc: StoredDoc, score: float, qterms: set, suggested: Iterable[str] = ()) -> Hit:
    """Return a :class:`Hit` of a stored document: its snippet marks ``qterms``."""
    if doc.kind == KIND_SECTION:
        title = doc.heading if doc.section != "intro" else doc.article_title
    else:
        title = doc.article_title
    return Hit(
        id=doc.id,
        kind=doc.kind,
        article=doc.article,
        title=title,
        snippet=snippet(doc.body, qterms),
        score=round(float(score), 4),
        tags=list(doc.tags),
        date=_date_str(doc.date),
        author=doc.author,
        article_title=doc.article_title,
        section=doc.section,
        thread=doc.thread,
        parent=doc.parent,
        replies=list(doc.replies),
        rule_tags=list(doc.rule_tags),
        suggested_tags=list(suggested),
    )


@dataclass
class _Query:
    """What a hybrid or meaning search ranks with: the generation's vectors and the query's."""

    meaning: Meaning
    vector: np.ndarray
    mode: str
    _sims: np.ndarray | None = None
    words_matched: int = 0  # documents the reader's words matched, in both lists
    best: float | None = None  # the closest document's cosine, in either list

    @property
    def sims(self) -> np.ndarray:
        """The cosine of every row with the query, computed once for both lists."""
        if self._sims is None:
            self._sims = self.meaning.similarities(self.vector)
        return self._sims


def _scaled(ranking: list[tuple[float, int]]) -> dict[int, float]:
    """Return each candidate's score scaled to 0-1 between the ranking's last and first."""
    if not ranking:
        return {}
    hi, lo = ranking[0][0], ranking[-1][0]
    span = hi - lo
    return {d: (sc - lo) / span if span > 0 else 1.0 for sc, d in ranking}


def fuse(
    words: list[tuple[float, int]], meaning: list[tuple[float, int]]
) -> list[tuple[float, int]]:
    """Return ((fused score, docnum) best first) of a words and a meaning ranking, best first.

    Each ranking's scores are scaled to 0-1 over its candidates, then weighed
    ``WORDS_SHARE`` to the rest, the meaning's share less where its best cosine says it is
    unsure (``SURE_MEANING``); a document only one ranking found gets 0 from the other.
    """
    w, m = _scaled(words), _scaled(meaning)
    lo, hi = SURE_MEANING
    sure = min(1.0, max(0.0, (meaning[0][0] - lo) / (hi - lo))) if meaning else 0.0
    share = (1 - WORDS_SHARE) * sure
    fused = {d: WORDS_SHARE * w.get(d, 0.0) + share * m.get(d, 0.0) for d in w.keys() | m.keys()}
    return sorted(((sc, d) for d, sc in fused.items()), key=lambda p: (-p[0], p[1]))


@dataclass
class Context:
    """One request's reading of the index: its searcher, the generation's arrays, the page."""

    s: Any  # a Whoosh searcher, used by this request only
    arrays: IndexArrays
    limit: int
    offset: int = 0

    def hit(self, docnum: int, score: float, qterms: set) -> Hit:
        """Return the hit of a document number, read back from the index."""
        return make_hit(StoredDoc.from_fields(self.s.stored_fields(docnum)), score, qterms)


def filter_query(filters: Filters, kinds: Iterable[str]) -> Q.Query:
    """Return the Whoosh query of what a search may return (for Whoosh's own search)."""
    parts = [Q.Or([Q.Term("kind", k) for k in kinds]), Q.Not(Q.Term("redacted", True))]
    for tag in filters.tags:
        parts.append(Q.Or([Q.Term("tags", tag), Q.Term("rule_tags", tag)]))
    if filters.article:
        parts.append(Q.Term("article", filters.article))
    if filters.since or filters.until:
        lo = dt.datetime.combine(filters.since, dt.time.min) if filters.since else None
        hi = dt.datetime.combine(filters.until, dt.time.max) if filters.until else None
        parts.append(Q.DateRange("date", lo, hi))
    if filters.answered:
        parts.append(Q.Term("answered", True))
    return Q.And(parts) if len(parts) > 1 else parts[0]


def allowed_mask(ctx: Context, filters: Filters, kinds: Iterable[str]) -> np.ndarray:
    """Return the documents a search may return, as a boolean array (see ``filter_query``)."""
    s, arrays = ctx.s, ctx.arrays
    allowed = np.zeros(arrays.doc_count, dtype=bool)
    for k in kinds:
        allowed[arrays.docs(s, "kind", k)] = True
    allowed[arrays.docs(s, "redacted", True)] = False
    for tag in filters.tags:
        tagged = np.zeros(arrays.doc_count, dtype=bool)
        tagged[arrays.docs(s, "tags", tag)] = True
        tagged[arrays.docs(s, "rule_tags", tag)] = True
        allowed &= tagged
    if filters.article:
        allowed &= _member(arrays.doc_count, arrays.docs(s, "article", filters.article))
    if filters.since or filters.until:
        field_, dates = s.schema["date"], arrays.column(s, "date")
        if filters.since:
            lo = dt.datetime.combine(filters.since, dt.time.min)
            allowed &= dates >= field_.to_column_value(lo)
        if filters.until:
            hi = dt.datetime.combine(filters.until, dt.time.max)
            allowed &= dates <= field_.to_column_value(hi)
    if filters.answered:
        allowed &= _member(arrays.doc_count, arrays.docs(s, "answered", True))
    return allowed & arrays.live


def clauses_of(ctx: Context, weighted: list[tuple[str, float]]) -> list[tuple[str, str, float]]:
    """Return the (field, stem, boost) clauses of a reader's weighted stems."""
    reader = ctx.s.reader()
    clauses = []
    for t, w in weighted:
        clauses.append(("body", t, w))
        if CONTEXT and reader.doc_frequency("context", t):
            clauses.append(("context", t, w * CONTEXT))
        if reader.doc_frequency("heading", t):
            clauses.append(("heading", t, w))
    return clauses


def _word_ranking(
    ctx: Context, clauses: list[tuple[str, str, float]], allowed: np.ndarray, qterms: set, pool: int
) -> tuple[list[tuple[float, int]], np.ndarray]:
    """Return ((score, docnum) best first, matched mask): BM25F candidates re-ranked by how
    many of the reader's terms they hold."""
    s, arrays = ctx.s, ctx.arrays
    scores = np.zeros(arrays.doc_count)
    matched = np.zeros(arrays.doc_count, dtype=bool)
    for fieldname, text, boost in clauses:
        docs, contribution = arrays.contributions(s, fieldname, text)
        if len(docs):
            scores[docs] += contribution * boost
            matched[docs] = True
    matched &= allowed
    candidates = top(scores, matched, pool)
    if not candidates:
        return [], matched
    # the coordination bonus: the share of the reader's stems in the body or heading, a
    # negation and its word ("no contact", see negation_pairs) counting once more when the
    # body holds both
    cand = np.array(candidates, dtype=np.int64)
    present = np.zeros(len(cand), dtype=np.int64)
    for t in qterms:
        if isinstance(t, tuple):
            has = np.logical_and.reduce([_holds(arrays.docs(s, "body", w), cand) for w in t])
        else:
            has = _holds(arrays.docs(s, "body", t), cand) | _holds(
                arrays.docs(s, "heading", t), cand
            )
        present += has
    n_terms = max(1, len(qterms))
    scored = [
        (float(scores[d]) * (1.0 + COORD * (int(k) / n_terms)), d)
        for d, k in zip(candidates, present, strict=True)
    ]
    scored.sort(key=lambda p: -p[0])
    return scored, matched


def _ranked(
    ctx: Context,
    clauses: list[tuple[str, str, float]],
    allowed: np.ndarray,
    qterms: set,
    sem: _Query | None = None,
) -> tuple[list[Hit], int]:
    """Return (hits, total): by words alone, or fused with the ranking by meaning."""
    want = ctx.offset + ctx.limit
    if sem is None:
        scored, matched = _word_ranking(ctx, clauses, allowed, qterms, max(want * 3, 30))
        hits = [ctx.hit(d, sc, qterms) for sc, d in scored[ctx.offset : want]]
        return hits, int(np.count_nonzero(matched))
    near, close = sem.meaning.ranking(sem.sims, allowed, max(POOL, want))
    if near and (sem.best is None or near[0][0] > sem.best):
        sem.best = near[0][0]
    if sem.mode == "meaning":
        order, total = near, int(np.count_nonzero(close))
    else:
        scored, matched = (
            _word_ranking(ctx, clauses, allowed, qterms, max(POOL, want))
            if clauses
            else ([], np.zeros(ctx.arrays.doc_count, dtype=bool))
        )
        order = fuse(scored, near)
        sem.words_matched += int(np.count_nonzero(matched))
        close[: len(matched)] |= matched
        total = int(np.count_nonzero(close))
    hits = []
    for sc, d in order[ctx.offset : want]:
        hit = ctx.hit(d, sc, qterms)
        hits.append(replace(hit, similarity=sem.meaning.similarity(d, sem.vector)))
    return hits, total


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise UsageError(f"unknown mode {shown(mode)}; use one of {', '.join(MODES)}")


def search(
    index: IndexHandle,
    text: str,
    *,
    filters: Filters | None = None,
    limit: int = 10,
    offset: int = 0,
    mode: str = "hybrid",
) -> SearchResult:
    """Search by situation: the advice and the stories that fit the reader's words.

    ``mode`` is ``hybrid`` (the words ranking and the meaning ranking fused), ``words``
    or ``meaning``; without vectors a search falls back to words and says why in
    ``notice``.
    """
    _check_mode(mode)
    filters = filters or Filters()
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    clean, truncated = _clean(text)
    result = SearchResult(query=clean, advice=[], stories=[], truncated=truncated)
    if not clean:
        result.message = "Describe your situation in a few words to search."
        return result
    with index.reading() as (s, arrays):
        ctx = Context(s, arrays, limit, offset)
        weighted = query_terms(clean)
        result.terms = [t for t, _ in weighted]
        suggestion = did_you_mean(s.reader(), lambda: index.corrector(s), clean)
        result.did_you_mean = suggestion
        sem = None
        if mode != "words":
            meaning, why = index.meaning(arrays.doc_count)
            if meaning is None:
                result.notice = f"searching by words only: {why}"
            else:
                sem = _Query(meaning, meaning.embed(clean), mode)
        result.mode = sem.mode if sem else "words"
        _run(ctx, weighted, filters, result, sem)
        if sem is not None:
            result.best_similarity = round(sem.best, 4) if sem.best is not None else None
            if (
                sem.mode == "hybrid"
                and not sem.words_matched
                and (result.best_similarity or 0.0) < FIT_SIMILARITY
            ):
                # not one word known and nothing close in meaning ("zzzz qqqq", typos):
                # what words can still do (spelling, fewer filters) says more
                result.advice, result.stories = [], []
                result.total_advice = result.total_stories = 0
                result.best_similarity = None
        if not result.advice and not result.stories:
            _relax(ctx, clean, suggestion, filters, result)
    result.fits = fits(result)
    return result


def _run(
    ctx: Context,
    weighted: list[tuple[str, float]],
    filters: Filters,
    result: SearchResult,
    sem: _Query | None = None,
) -> None:
    """Fill both lists of ``result`` for the reader's weighted stems."""
    clauses = clauses_of(ctx, weighted)
    if not clauses and sem is None:
        return
    qterms = {t for t, _ in weighted} | negation_pairs(result.query)
    advice_filters = replace(filters, answered=False)  # "answered" is about stories
    result.advice, result.total_advice = _ranked(
        ctx, clauses, allowed_mask(ctx, advice_filters, ADVICE_KINDS), qterms, sem
    )
    result.stories, result.total_stories = _ranked(
        ctx, clauses, allowed_mask(ctx, filters, (KIND_STORY,)), qterms, sem
    )


def _relax(
    ctx: Context, clean: str, suggestion: str | None, filters: Filters, result: SearchResult
) -> None:
    """When nothing matched: the spelling suggestion, then no filters, then words spelled alike."""
    if suggestion:
        _run(ctx, query_terms(suggestion), filters, result)
        if result.advice or result.stories:
            result.relaxed = f"showing results for “{suggestion}”"
            return
    if filters != Filters():
        _run(ctx, query_terms(clean), Filters(), result)
        if result.advice or result.stories:
            result.relaxed = "nothing matched with your filters; showing results without them"
            return
    words = [w for w in clean.lower().split() if w.isalpha() and w not in STOP_WORDS]
    fuzzy = [
        Q.FuzzyTerm("body", w, maxdist=1, prefixlength=1)
        for w in words[:12]
        if 3 < len(w) <= MAX_WORD
    ]
    if fuzzy:
        q = Q.Or(fuzzy)
        rs = ctx.s.search(
            q, filter=filter_query(filters, ADVICE_KINDS + (KIND_STORY,)), limit=ctx.limit
        )
        near = {t for t in terms(" ".join(words))}
        for hit in rs:
            h = make_hit(StoredDoc.from_fields(hit.fields()), hit.score, near)
            (result.advice if h.kind in ADVICE_KINDS else result.stories).append(h)
        if rs:
            result.relaxed = FUZZY_RELAXED
            result.total_advice, result.total_stories = len(result.advice), len(result.stories)
            return
    result.message = (
        "Nothing matched those words. Try telling it in a sentence: who left, how long "
        "you were together, what happened, what you want to know."
    )


def similar(
    index: IndexHandle, comment_id: str, *, limit: int = 10, mode: str = "hybrid"
) -> list[Hit]:
    """Return the reader stories most like a given comment, from other threads.

    By its words and, where the comment has its vector, by meaning, the two fused.
    """
    _check_mode(mode)
    limit = max(1, min(int(limit), MAX_LIMIT))
    with index.reading() as (s, arrays):
        ctx = Context(s, arrays, limit)
        docnum = s.document_number(id=id_term(comment_id, "comment or section"))
        if docnum is None:
            raise NotFoundError(f"no comment or section with id {shown(comment_id)}")
        fields = s.stored_fields(docnum)
        keys = s.key_terms_from_text("body", fields["body"], numterms=25, normalize=True)
        meaning, _ = index.meaning(arrays.doc_count) if mode != "words" else (None, "")
        own = meaning.vector_of(docnum) if meaning is not None else None
        sem = _Query(meaning, own, mode) if meaning is not None and own is not None else None
        if not keys and sem is None:
            return []
        clauses = [("body", t, max(w, 0.05)) for t, w in keys]
        if fields.get("thread") and fields["kind"] != KIND_SECTION:
            same = arrays.docs(s, "thread", fields["thread"])
        else:
            same = arrays.docs(s, "id", comment_id)
        allowed = allowed_mask(ctx, Filters(), (KIND_STORY,))
        allowed[same] = False
        hits, _ = _ranked(ctx, clauses, allowed, {t for t, _ in keys}, sem)
    return hits


class KnowledgeBase(IndexHandle):
    """An index folder to search: the live index (``kb.index.handle``) and the searches above."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(index_dir, WEIGHTING)

    # ``kb.search(text, ...)`` is ``search(kb, text, ...)``: one signature, one docstring
    search = search
    similar = similar
