"""Searching the index: situations in plain words, similar stories, tags, threads.

Readers type sentences, not query syntax, so the text is never parsed as a
query language: it is analysed into stems (stop words out) and each stem
becomes an optional clause. Documents matching more of the reader's words
score higher through BM25F's sum over terms and a coordination factor applied
to the top candidates. Results come as two lists: ``advice`` (article sections
and the author's replies) and ``stories`` (reader comments, each with the ids
of the author's replies in its thread).

Speed: the scores are summed in arrays (:mod:`kb.scoring`), filters are
boolean masks, and only the hits shown are read back and given snippets.
Searchers are kept open between requests in a small pool: a request borrows one
and gives it back (a Whoosh searcher must not be used by two threads at once);
the arrays of a generation are shared by all threads.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from whoosh import query as Q
from whoosh.scoring import BM25F

from kb.analysis import NEGATION_STEMS, STOP_WORDS, synonyms, terms
from kb.engine.scoring import IndexArrays, top
from kb.errors import NotFoundError, UsageError, shown
from kb.index.generations import current_generation, open_index, read_manifest
from kb.index.spelling import MAX_WORD, corrector, did_you_mean, read_words
from kb.model import ADVICE_KINDS, KIND_SECTION, KIND_STORY
from kb.semantic import build as vector_build
from kb.semantic import model as semantic_model
from kb.semantic.vectors import SEARCHED, VECTORS, dequantize, read_vectors
from kb.snippets import snippet

MAX_QUERY_CHARS = 2000
MAX_TERMS = 48
MAX_LIMIT = 200
COORD = 0.5  # weight of the share of query terms a document matches
CONTEXT = 0.5  # weight of a match in a document's context (see kb.index)
BM25_B, BM25_K1 = 0.5, 1.2
SYNONYM = 0.5  # weight of a word brought in as a synonym of the reader's word
# Longer "words" are noise (pasted links, keyboard mashing); their spelling automata take
# most of a second to build, so they are never corrected or matched fuzzily.
FUZZY_RELAXED = "no exact match; showing words spelled alike"
IDLE_SEARCHERS = 8  # searchers kept open for the next requests
WEIGHTING = BM25F(B=BM25_B, K1=BM25_K1)
MODES = ("hybrid", "words", "meaning")
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
    date_from: dt.date | None = None
    date_to: dt.date | None = None
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


def _date_str(value) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(timespec="minutes")
    return str(value or "")


def _id_term(doc_id: str, what: str) -> str:
    """Return ``doc_id`` if a document could carry it; raise :class:`NotFoundError` if not."""
    try:
        doc_id.encode("utf-8")  # ids are UTF-8 terms in the index
    except UnicodeEncodeError:  # lone surrogates: what undecodable command-line bytes become
        raise NotFoundError(f"no {what} with id {shown(doc_id)}") from None
    return doc_id


def _split(value: str) -> list[str]:
    return [t for t in (value or "").split(",") if t]


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


def make_hit(fields: dict, score: float, qterms: set[str], suggested: list[str] = ()) -> Hit:
    """Return a :class:`Hit` from a document's stored fields."""
    kind = fields["kind"]
    if kind == KIND_SECTION:
        title = fields["heading"] if fields["section"] != "intro" else fields["article_title"]
    else:
        title = fields["article_title"]
    return Hit(
        id=fields["id"],
        kind=kind,
        article=fields["article"],
        title=title,
        snippet=snippet(fields["body"], qterms),
        score=round(float(score), 4),
        tags=_split(fields.get("tags", "")),
        date=_date_str(fields.get("date")),
        author=fields.get("author", ""),
        article_title=fields["article_title"],
        section=fields.get("section", ""),
        thread=fields.get("thread", ""),
        parent=fields.get("parent", ""),
        replies=list(fields.get("replies") or []),
        rule_tags=_split(fields.get("rule_tags", "")),
        suggested_tags=list(suggested),
    )


# A document at least this close in meaning to the reader's text counts among a list's
# total in hybrid and meaning searches (the words ranking counts every document it matched).
CLOSE = 0.35


class Meaning:
    """The vectors of one index generation, ready to rank by cosine (see kb.semantic)."""

    def __init__(self, data: dict, doc_count: int, folder: Path):
        self.docnums = np.asarray(data["docnums"], dtype=np.int64)
        self.matrix = dequantize(data["q"], data["scale"], unit=False)
        self.key = str(data["model"])
        self.complete = bool(data.get("complete", False))
        self.folder = folder
        self.doc_count = doc_count
        self.row_of = np.full(doc_count, -1, dtype=np.int64)
        self.row_of[self.docnums] = np.arange(len(self.docnums))

    def embed(self, text: str) -> np.ndarray:
        """Return the unit vector of a reader's text."""
        return semantic_model.load(self.folder).embed([text])[0]

    def vector_of(self, docnum: int) -> np.ndarray | None:
        """Return a document's own vector, None if it has none yet."""
        row = self.row_of[docnum]
        return self.matrix[row] if row >= 0 else None

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        """Return the cosine of every row and a unit vector."""
        return self.matrix @ vector

    def ranking(
        self, sims: np.ndarray, allowed: np.ndarray, pool: int
    ) -> tuple[list[tuple[float, int]], np.ndarray]:
        """Return ((cosine, docnum) best first among ``allowed``, and the close ones' mask),
        from the rows' cosines with the query (:meth:`similarities`)."""
        ok = allowed[self.docnums]
        sims = np.where(ok, sims, -np.inf)
        close = np.zeros(self.doc_count, dtype=bool)
        close[self.docnums[sims >= CLOSE]] = True
        n = min(pool, int(np.count_nonzero(ok)))
        if n <= 0:
            return [], close
        rows = np.argpartition(-sims, n - 1)[:n]
        rows = rows[np.argsort(-sims[rows], kind="stable")]
        return [(float(sims[r]), int(self.docnums[r])) for r in rows], close

    def similarity(self, docnum: int, vector: np.ndarray) -> float | None:
        """Return the cosine of a document and a vector, None if the document has no vector."""
        own = self.vector_of(docnum)
        return None if own is None else round(float(own @ vector), 4)


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


class KnowledgeBase:
    """Search over one index folder; reopens the index when a build swaps in a new one."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._gen: Path | None = None
        self._ix = None
        self._manifest: dict = {}
        self._cache: dict = {}
        self._arrays: IndexArrays | None = None
        self._words: list[str] | None = None
        self._idle: list = []  # open searchers on self._ix that no request is using
        self._vectors: tuple | None = None  # (generation, file stamp, Meaning or None, why not)
        self._vector_loading = threading.Lock()

    # -- opening -------------------------------------------------------------------------
    def _index(self):
        gen = current_generation(self.index_dir)
        with self._lock:
            stale = []
            if self._ix is None or gen != self._gen:
                self._ix = open_index(self.index_dir)
                self._gen = gen
                self._manifest = read_manifest(gen) if gen else {}
                self._arrays = None
                self._words = None
                stale, self._idle = self._idle, []
            ix, manifest = self._ix, self._manifest
        for s in stale:
            s.close()
        return ix, manifest

    def close(self) -> None:
        """Close the searchers kept open between requests."""
        with self._lock:
            idle, self._idle = self._idle, []
        for s in idle:
            s.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()

    def _corrector(self, s):
        """Return the spelling corrector of the live generation."""
        with self._lock:
            words, gen = self._words, self._gen
        if words is None and gen is not None:
            words = read_words(gen)
            with self._lock:
                if self._gen == gen:
                    self._words = words
        return corrector(words, s)

    @contextlib.contextmanager
    def _reading(self):
        """Lend a searcher on the live index, with the generation's arrays, for one request."""
        ix, _ = self._index()
        with self._lock:
            s = self._idle.pop() if self._ix is ix and self._idle else None
            arrays = self._arrays if self._ix is ix else None
        if s is None:
            s = ix.searcher(weighting=WEIGHTING)
        try:
            if arrays is None:
                arrays = IndexArrays(s, WEIGHTING)
                with self._lock:
                    if self._ix is ix:
                        self._arrays = arrays
            yield s, arrays
        finally:
            with self._lock:
                if self._ix is ix and len(self._idle) < IDLE_SEARCHERS:
                    self._idle.append(s)
                    s = None
            if s is not None:
                s.close()

    def _meaning(self, doc_count: int) -> tuple[Meaning | None, str]:
        """Return the live generation's vectors (reloaded as a build fills them), or why not.

        One thread loads them; another asking meanwhile waits for it (see :meth:`warm`).
        """
        with self._vector_loading:
            return self._load_meaning(doc_count)

    def warm(self) -> None:
        """Load the live generation's vectors and the model, ahead of the first search.

        Only a head start: whatever goes wrong here (an index being rebuilt or removed) the
        first search meets again and reports.
        """
        try:
            meaning, _ = self._meaning(self._doc_count())
            if meaning is not None:
                semantic_model.load(meaning.folder)
        except Exception:  # noqa: BLE001 - see above
            return

    def _load_meaning(self, doc_count: int) -> tuple[Meaning | None, str]:
        with self._lock:
            gen, manifest, cached = self._gen, self._manifest, self._vectors
        if gen is None:
            return None, "no index"
        try:
            st = (gen / VECTORS).stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if cached is not None and cached[0] == gen and cached[1] == stamp:
            return cached[2] if isinstance(cached[2], Meaning) else None, cached[3]
        meaning, why = None, ""
        data = read_vectors(gen, SEARCHED) if stamp else None
        if data is None or not len(data["docnums"]):
            why = "this index has no vectors yet (`kb build` makes them)"
        else:
            folder = vector_build.folder_for(manifest.get("site", {}), manifest.get("corpus"))
            try:
                key = semantic_model.model_key(folder)
            except semantic_model.ModelError as exc:
                key, why = "", str(exc)
            if key and key != str(data["model"]):
                why = (
                    f"the index's vectors were made by {data['model']}, the site's model is "
                    f"{key} (`kb build` makes them anew)"
                )
            elif key and int(data["docnums"].max()) >= doc_count:
                why = "the index's vectors do not fit it (`kb build --full` makes them anew)"
            elif key:
                meaning = Meaning(data, doc_count, folder)
        with self._lock:
            if self._gen == gen:
                self._vectors = (gen, stamp, meaning, why)
        return meaning, why

    # -- vectors for the questions review ------------------------------------------------
    def embed_texts(self, texts: list[str]) -> np.ndarray | None:
        """Return the unit vectors of texts (cached in the index folder), None without vectors."""
        meaning, _ = self._meaning(self._doc_count())
        if meaning is None:
            return None
        from kb.semantic.vectors import EmbeddingCache, digest

        cache = EmbeddingCache(self.index_dir, meaning.key)
        keys = [digest(t) for t in texts]
        todo = list({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
        for at in range(0, len(todo), 256):
            chunk = todo[at : at + 256]
            cache.add(
                [k for k, _ in chunk],
                semantic_model.load(meaning.folder).embed([t for _, t in chunk]),
            )
        if not keys:
            return np.zeros((0, meaning.matrix.shape[1]), dtype=np.float32)
        return dequantize(*cache.get(keys))

    def doc_vectors(self, doc_ids: list[str]) -> np.ndarray | None:
        """Return the vectors of documents by id (zero rows for those without), None if none."""
        with self._reading() as (s, arrays):
            meaning, _ = self._meaning(arrays.doc_count)
            if meaning is None:
                return None
            out = np.zeros((len(doc_ids), meaning.matrix.shape[1]), dtype=np.float32)
            for i, doc_id in enumerate(doc_ids):
                docnum = s.document_number(id=doc_id)
                own = meaning.vector_of(docnum) if docnum is not None else None
                if own is not None:
                    out[i] = own
        return out

    def nearest_sections(self, vectors: np.ndarray) -> list[tuple[str, float]] | None:
        """Return, for each vector, the article section nearest in meaning and its cosine."""
        with self._reading() as (s, arrays):
            meaning, _ = self._meaning(arrays.doc_count)
            if meaning is None:
                return None
            allowed = self._mask(s, arrays, Filters(), (KIND_SECTION,))
            out = []
            for v in vectors:
                best = meaning.ranking(meaning.similarities(v), allowed, 1)[0]
                out.append(
                    (s.stored_fields(best[0][1])["id"], round(best[0][0], 4)) if best else ("", 0.0)
                )
        return out

    def vector_status(self) -> tuple[int, bool]:
        """Return (rows, complete) of the live generation's vectors: (0, False) without."""
        meaning, _ = self._meaning(self._doc_count())
        return (len(meaning.docnums), meaning.complete) if meaning is not None else (0, False)

    def _doc_count(self) -> int:
        with self._reading() as (_, arrays):
            return arrays.doc_count

    @property
    def manifest(self) -> dict:
        """The manifest of the live index generation."""
        return self._index()[1]

    def articles(self) -> list[dict]:
        """Return every article (slug, title, date, tags, summary, counts), oldest first."""
        return list(self.manifest.get("articles", []))

    def generation_dir(self) -> Path | None:
        """Return the folder of the live generation (for caches derived from it)."""
        self._index()
        return self._gen

    def all_comments(self) -> list[dict]:
        """Return the stored fields of every comment (cached until the next build)."""
        ix, _ = self._index()
        with self._lock:
            cached = self._cache.get(("comments", self._gen))
        if cached is not None:
            return cached
        with ix.searcher() as s:
            docs = [
                d
                for d in s.all_stored_fields()
                if d["kind"] != KIND_SECTION and not d.get("redacted")
            ]
        docs.sort(key=lambda d: (d["article"], d["position"]))
        with self._lock:
            self._cache = {("comments", self._gen): docs}
        return docs

    def generation(self) -> str:
        """Name the live generation (changes whenever a build swaps one in)."""
        self._index()
        return self._gen.name if self._gen else ""

    # -- building blocks -----------------------------------------------------------------
    def _filter(self, filters: Filters, kinds: Iterable[str]):
        parts = [Q.Or([Q.Term("kind", k) for k in kinds]), Q.Not(Q.Term("redacted", True))]
        for tag in filters.tags:
            parts.append(Q.Or([Q.Term("tags", tag), Q.Term("rule_tags", tag)]))
        if filters.article:
            parts.append(Q.Term("article", filters.article))
        if filters.date_from or filters.date_to:
            lo = dt.datetime.combine(filters.date_from, dt.time.min) if filters.date_from else None
            hi = dt.datetime.combine(filters.date_to, dt.time.max) if filters.date_to else None
            parts.append(Q.DateRange("date", lo, hi))
        if filters.answered:
            parts.append(Q.Term("answered", True))
        return Q.And(parts) if len(parts) > 1 else parts[0]

    def _mask(self, s, arrays: IndexArrays, filters: Filters, kinds: Iterable[str]) -> np.ndarray:
        """Return the documents a search may return, as a boolean array (see ``_filter``)."""
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
        if filters.date_from or filters.date_to:
            field, dates = s.schema["date"], arrays.column(s, "date")
            if filters.date_from:
                lo = dt.datetime.combine(filters.date_from, dt.time.min)
                allowed &= dates >= field.to_column_value(lo)
            if filters.date_to:
                hi = dt.datetime.combine(filters.date_to, dt.time.max)
                allowed &= dates <= field.to_column_value(hi)
        if filters.answered:
            allowed &= _member(arrays.doc_count, arrays.docs(s, "answered", True))
        return allowed & arrays.live

    def _clauses(self, s, weighted: list[tuple[str, float]]) -> list[tuple[str, str, float]]:
        """Return the (field, stem, boost) clauses of a reader's weighted stems."""
        reader = s.reader()
        clauses = []
        for t, w in weighted:
            clauses.append(("body", t, w))
            if CONTEXT and reader.doc_frequency("context", t):
                clauses.append(("context", t, w * CONTEXT))
            if reader.doc_frequency("heading", t):
                clauses.append(("heading", t, w))
        return clauses

    def _hit(self, fields: dict, score: float, qterms: set[str]) -> Hit:
        return make_hit(fields, score, qterms)

    def _word_ranking(
        self, s, arrays: IndexArrays, clauses, allowed, qterms: set[str], pool: int
    ) -> tuple[list[tuple[float, int]], np.ndarray]:
        """Return ((score, docnum) best first, matched mask): BM25F candidates re-ranked by how
        many of the reader's terms they hold."""
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
        self,
        s,
        arrays: IndexArrays,
        clauses,
        allowed,
        qterms: set[str],
        limit: int,
        offset: int,
        sem: _Query | None = None,
    ):
        """Return (hits, total): by words alone, or fused with the ranking by meaning."""
        want = offset + limit
        if sem is None:
            scored, matched = self._word_ranking(
                s, arrays, clauses, allowed, qterms, max(want * 3, 30)
            )
            hits = [self._hit(s.stored_fields(d), sc, qterms) for sc, d in scored[offset:want]]
            return hits, int(np.count_nonzero(matched))
        near, close = sem.meaning.ranking(sem.sims, allowed, max(POOL, want))
        if near and (sem.best is None or near[0][0] > sem.best):
            sem.best = near[0][0]
        if sem.mode == "meaning":
            order, total = near, int(np.count_nonzero(close))
        else:
            scored, matched = (
                self._word_ranking(s, arrays, clauses, allowed, qterms, max(POOL, want))
                if clauses
                else ([], np.zeros(arrays.doc_count, dtype=bool))
            )
            order = fuse(scored, near)
            sem.words_matched += int(np.count_nonzero(matched))
            close[: len(matched)] |= matched
            total = int(np.count_nonzero(close))
        hits = []
        for sc, d in order[offset:want]:
            hit = self._hit(s.stored_fields(d), sc, qterms)
            hits.append(replace(hit, similarity=sem.meaning.similarity(d, sem.vector)))
        return hits, total

    # -- public calls --------------------------------------------------------------------
    def search(
        self,
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
        if mode not in MODES:
            raise UsageError(f"unknown mode {shown(mode)}; use one of {', '.join(MODES)}")
        filters = filters or Filters()
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        clean, truncated = _clean(text)
        result = SearchResult(query=clean, advice=[], stories=[], truncated=truncated)
        if not clean:
            result.message = "Describe your situation in a few words to search."
            return result
        with self._reading() as (s, arrays):
            weighted = query_terms(clean)
            result.terms = [t for t, _ in weighted]
            suggestion = self._did_you_mean(s, clean)
            result.did_you_mean = suggestion
            sem = None
            if mode != "words":
                meaning, why = self._meaning(arrays.doc_count)
                if meaning is None:
                    result.notice = f"searching by words only: {why}"
                else:
                    sem = _Query(meaning, meaning.embed(clean), mode)
            result.mode = sem.mode if sem else "words"
            self._run(s, arrays, weighted, filters, limit, offset, result, sem)
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
                self._relax(s, arrays, clean, suggestion, filters, limit, offset, result)
        result.fits = fits(result)
        return result

    def _run(self, s, arrays, weighted, filters, limit, offset, result, sem=None) -> None:
        clauses = self._clauses(s, weighted)
        if not clauses and sem is None:
            return
        qterms = {t for t, _ in weighted} | negation_pairs(result.query)
        advice_filters = replace(filters, answered=False)  # "answered" is about stories
        result.advice, result.total_advice = self._ranked(
            s,
            arrays,
            clauses,
            self._mask(s, arrays, advice_filters, ADVICE_KINDS),
            qterms,
            limit,
            offset,
            sem,
        )
        result.stories, result.total_stories = self._ranked(
            s,
            arrays,
            clauses,
            self._mask(s, arrays, filters, (KIND_STORY,)),
            qterms,
            limit,
            offset,
            sem,
        )

    def _relax(self, s, arrays, clean, suggestion, filters, limit, offset, result) -> None:
        if suggestion:
            self._run(s, arrays, query_terms(suggestion), filters, limit, offset, result)
            if result.advice or result.stories:
                result.relaxed = f"showing results for “{suggestion}”"
                return
        if filters != Filters():
            self._run(s, arrays, query_terms(clean), Filters(), limit, offset, result)
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
            rs = s.search(
                q, filter=self._filter(filters, ADVICE_KINDS + (KIND_STORY,)), limit=limit
            )
            near = {t for t in terms(" ".join(words))}
            for hit in rs:
                h = self._hit(hit.fields(), hit.score, near)
                (result.advice if h.kind in ADVICE_KINDS else result.stories).append(h)
            if rs:
                result.relaxed = FUZZY_RELAXED
                result.total_advice, result.total_stories = len(result.advice), len(result.stories)
                return
        result.message = (
            "Nothing matched those words. Try telling it in a sentence: who left, how long "
            "you were together, what happened, what you want to know."
        )

    def _did_you_mean(self, s, text: str) -> str | None:
        """Return the text with its misspelt words corrected, or None (see kb.index.spelling)."""
        return did_you_mean(s.reader(), lambda: self._corrector(s), text)

    def similar(self, comment_id: str, *, limit: int = 10, mode: str = "hybrid") -> list[Hit]:
        """Return the reader stories most like a given comment, from other threads.

        By its words and, where the comment has its vector, by meaning, the two fused.
        """
        if mode not in MODES:
            raise UsageError(f"unknown mode {shown(mode)}; use one of {', '.join(MODES)}")
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self._reading() as (s, arrays):
            docnum = s.document_number(id=_id_term(comment_id, "comment or section"))
            if docnum is None:
                raise NotFoundError(f"no comment or section with id {shown(comment_id)}")
            fields = s.stored_fields(docnum)
            keys = s.key_terms_from_text("body", fields["body"], numterms=25, normalize=True)
            meaning, _ = self._meaning(arrays.doc_count) if mode != "words" else (None, "")
            own = meaning.vector_of(docnum) if meaning is not None else None
            sem = _Query(meaning, own, mode) if own is not None else None
            if not keys and sem is None:
                return []
            clauses = [("body", t, max(w, 0.05)) for t, w in keys]
            if fields.get("thread") and fields["kind"] != KIND_SECTION:
                same = arrays.docs(s, "thread", fields["thread"])
            else:
                same = arrays.docs(s, "id", comment_id)
            allowed = self._mask(s, arrays, Filters(), (KIND_STORY,))
            allowed[same] = False
            hits, _ = self._ranked(s, arrays, clauses, allowed, {t for t, _ in keys}, limit, 0, sem)
        return hits

    def get(self, doc_id: str) -> dict:
        """Return the stored fields of one section or comment."""
        ix, _ = self._index()
        with ix.searcher() as s:
            fields = s.document(id=_id_term(doc_id, "comment or section"))
        if fields is None:
            raise NotFoundError(f"no comment or section with id {shown(doc_id)}")
        return fields

    def thread(self, comment_id: str) -> list[dict]:
        """Return the whole thread holding a comment, in order, each with its ``depth``."""
        ix, _ = self._index()
        with ix.searcher() as s:
            fields = s.document(id=_id_term(comment_id, "comment"))
            if fields is None or fields["kind"] == KIND_SECTION:
                raise NotFoundError(f"no comment with id {shown(comment_id)}")
            docs = list(s.documents(thread=fields["thread"]))
        docs.sort(key=lambda d: d["position"])
        return docs

    def comments_of(self, slug: str) -> list[dict]:
        """Return every comment under an article, in order."""
        ix, _ = self._index()
        with ix.searcher() as s:
            docs = [d for d in s.documents(article=slug) if d["kind"] != KIND_SECTION]
        docs.sort(key=lambda d: d["position"])
        return docs
