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
import functools
import math
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from whoosh import query as Q
from whoosh.automata.fsa import find_all_matches
from whoosh.automata.lev import levenshtein_automaton
from whoosh.scoring import BM25F
from whoosh.spelling import Corrector, ListCorrector

from kb.analysis import STOP_WORDS, synonyms, terms
from kb.errors import NotFoundError, UsageError, shown
from kb.index import current_generation, open_index, read_manifest
from kb.model import ADVICE_KINDS, KIND_REPLY, KIND_SECTION, KIND_STORY
from kb.scoring import IndexArrays, top
from kb.segments import read_words
from kb.snippets import snippet

MAX_QUERY_CHARS = 2000
MAX_TERMS = 48
MAX_LIMIT = 200
SORTS = ("newest", "oldest", "discussed")
COORD = 0.5  # weight of the share of query terms a document matches
CONTEXT = 0.5  # weight of a match in a document's context (see kb.index)
BM25_B, BM25_K1 = 0.5, 1.2
SYNONYM = 0.5  # weight of a word brought in as a synonym of the reader's word
# Longer "words" are noise (pasted links, keyboard mashing); their spelling automata take
# most of a second to build, so they are never corrected or matched fuzzily.
MAX_WORD = 30
FUZZY_RELAXED = "no exact match; showing words spelled alike"
MAX_CORRECTIONS = 12  # distinct unknown words looked up for "did you mean", at most
IDLE_SEARCHERS = 8  # searchers kept open for the next requests
WEIGHTING = BM25F(B=BM25_B, K1=BM25_K1)


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
FIT_SCORE = 13.0


def fits(result: SearchResult) -> bool:
    """Tell whether a search found something really about the reader's words.

    False when nothing matched, when only words spelled alike matched, or when the best
    hit scores under ``FIT_SCORE``: the hits are then only the closest there are.
    """
    if result.relaxed == FUZZY_RELAXED:
        return False
    best = max((h.score for h in result.advice + result.stories), default=0.0)
    return best >= FIT_SCORE


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
        id=fields["id"], kind=kind, article=fields["article"], title=title,
        snippet=snippet(fields["body"], qterms), score=round(float(score), 4),
        tags=_split(fields.get("tags", "")), date=_date_str(fields.get("date")),
        author=fields.get("author", ""), article_title=fields["article_title"],
        section=fields.get("section", ""), thread=fields.get("thread", ""),
        parent=fields.get("parent", ""), replies=list(fields.get("replies") or []),
        rule_tags=_split(fields.get("rule_tags", "")), suggested_tags=list(suggested),
    )


class WordListCorrector(Corrector):
    """Spelling suggestions from the index's word list, ranked as Whoosh ranks a field's words."""

    def __init__(self, words: list[str], reader, fieldname: str = "body"):
        self.words = words
        self.reader = reader
        self.fieldname = fieldname

    def _suggestions(self, text, maxdist, prefix):
        dfa = levenshtein_automaton(text, maxdist, prefix).to_dfa()
        for sug in find_all_matches(dfa, ListCorrector.Skipper(self.words)):
            f = self.reader.frequency(self.fieldname, sug) or 1
            yield 0 - (maxdist + (1.0 / f * 0.5)), sug


# Contractions readers type without the apostrophe: words, never typos to correct.
CONTRACTIONS = frozenset(
    """
    aint arent cant couldnt didnt doesnt dont hadnt hasnt havent hed hes id ill im isnt itd
    itll ive lets mightnt mustnt neednt shant shed shes shouldnt thatll thats theres theyd
    theyll theyre theyve wasnt wed well were werent weve whatll whats whered wheres whod whos
    whove wont wouldnt yall youd youll youre youve
    """.split()  # noqa: SIM905 - a word list reads best as text
)


@functools.lru_cache(maxsize=1)
def _english():
    """Return the English word frequency list of pyspellchecker (loaded once, ~0.1 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(distance=1)


def known_word(word: str) -> bool:
    """Tell whether ``word`` (lower case) is English: a dictionary word, a contraction
    written without its apostrophe, or two dictionary words run together ("eachother")."""
    if word in CONTRACTIONS:
        return True
    english = _english()
    if english.known([word]):
        return True
    return any(
        len(word[:i]) > 1 and len(word[i:]) > 1 and english.known([word[:i]])
        and english.known([word[i:]]) for i in range(2, len(word) - 1)
    )


def _nearest(corrector, reader, word: str) -> str | None:
    """Return the index word nearest to ``word`` (one edit, else two), the most used first."""
    if not isinstance(corrector, WordListCorrector):  # an old index: Whoosh's own ranking
        options = corrector.suggest(word, limit=1, maxdist=2, prefix=1)
        return options[0] if options else None
    for dist in (1, 2):
        found = {sug for _, sug in corrector._suggestions(word, dist, 1) if sug.isalpha()}
        if found:
            def used(sug):
                return max((reader.doc_frequency("body", t) for t in terms(sug)), default=0)
            return max(sorted(found), key=used)
    return None


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
        if words is None:  # an index written before the word list existed
            return s.corrector("body")
        return WordListCorrector(words, s.reader())

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
            docs = [d for d in s.all_stored_fields()
                    if d["kind"] != KIND_SECTION and not d.get("redacted")]
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

    def _ranked(self, s, arrays: IndexArrays, clauses, allowed, qterms: set[str], limit: int,
                offset: int):
        """Return (hits, total): BM25F candidates re-ranked by how many query terms they hold."""
        want = offset + limit
        pool = max(want * 3, 30)
        scores = np.zeros(arrays.doc_count)
        matched = np.zeros(arrays.doc_count, dtype=bool)
        for fieldname, text, boost in clauses:
            docs, contribution = arrays.contributions(s, fieldname, text)
            if len(docs):
                scores[docs] += contribution * boost
                matched[docs] = True
        matched &= allowed
        total = int(np.count_nonzero(matched))
        candidates = top(scores, matched, pool)
        if not candidates:
            return [], total
        # the coordination bonus: the share of the reader's stems in the body or heading
        cand = np.array(candidates, dtype=np.int64)
        present = np.zeros(len(cand), dtype=np.int64)
        for t in qterms:
            has = _holds(arrays.docs(s, "body", t), cand) | _holds(arrays.docs(s, "heading", t), cand)
            present += has
        n_terms = max(1, len(qterms))
        scored = [(float(scores[d]) * (1.0 + COORD * (int(k) / n_terms)), d)
                  for d, k in zip(candidates, present, strict=True)]
        scored.sort(key=lambda p: -p[0])
        hits = [self._hit(s.stored_fields(d), sc, qterms) for sc, d in scored[offset:want]]
        return hits, total

    # -- public calls --------------------------------------------------------------------
    def search(
        self, text: str, *, filters: Filters | None = None, limit: int = 10, offset: int = 0
    ) -> SearchResult:
        """Search by situation: the advice and the stories that fit the reader's words."""
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
            self._run(s, arrays, weighted, filters, limit, offset, result)
            if not result.advice and not result.stories:
                self._relax(s, arrays, clean, suggestion, filters, limit, offset, result)
        result.fits = fits(result)
        return result

    def _run(self, s, arrays, weighted, filters, limit, offset, result) -> None:
        clauses = self._clauses(s, weighted)
        if not clauses:
            return
        qterms = {t for t, _ in weighted}
        advice_filters = replace(filters, answered=False)  # "answered" is about stories
        result.advice, result.total_advice = self._ranked(
            s, arrays, clauses, self._mask(s, arrays, advice_filters, ADVICE_KINDS), qterms, limit,
            offset)
        result.stories, result.total_stories = self._ranked(
            s, arrays, clauses, self._mask(s, arrays, filters, (KIND_STORY,)), qterms, limit,
            offset)

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
        fuzzy = [Q.FuzzyTerm("body", w, maxdist=1, prefixlength=1) for w in words[:12]
                 if 3 < len(w) <= MAX_WORD]
        if fuzzy:
            q = Q.Or(fuzzy)
            rs = s.search(q, filter=self._filter(filters, ADVICE_KINDS + (KIND_STORY,)), limit=limit)
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
        """Return the text with its misspelt words corrected, or None when none needs it.

        A word is corrected only when it matches no document, is not an English word
        (see :func:`known_word`), and a word of the index is one or two edits away: the
        nearest ones first, of those the one in the most documents.
        """
        reader = s.reader()
        corrector = None
        changed = False
        out = []
        known: dict[str, str | None] = {}  # a word repeated is corrected once
        for word in text.split():
            core = word.strip(".,!?;:\"'()[]{}").lower()
            if (
                4 <= len(core) <= MAX_WORD and core.isalpha() and core not in STOP_WORDS
                and not known_word(core)
                and not any(reader.doc_frequency("body", t) for t in terms(core))
            ):
                corrector = corrector or self._corrector(s)
                if core not in known and len(known) < MAX_CORRECTIONS:
                    known[core] = _nearest(corrector, reader, core)
                option = known.get(core)
                if option:
                    at = word.lower().index(core)
                    out.append(word[:at] + option + word[at + len(core):])
                    changed = True
                    continue
            out.append(word)
        return " ".join(out) if changed else None

    def similar(self, comment_id: str, *, limit: int = 10) -> list[Hit]:
        """Return the reader stories most like a given comment, from other threads."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        with self._reading() as (s, arrays):
            docnum = s.document_number(id=_id_term(comment_id, "comment or section"))
            if docnum is None:
                raise NotFoundError(f"no comment or section with id {shown(comment_id)}")
            fields = s.stored_fields(docnum)
            keys = s.key_terms_from_text("body", fields["body"], numterms=25, normalize=True)
            if not keys:
                return []
            clauses = [("body", t, max(w, 0.05)) for t, w in keys]
            if fields.get("thread") and fields["kind"] != KIND_SECTION:
                same = arrays.docs(s, "thread", fields["thread"])
            else:
                same = arrays.docs(s, "id", comment_id)
            allowed = self._mask(s, arrays, Filters(), (KIND_STORY,))
            allowed[same] = False
            hits, _ = self._ranked(s, arrays, clauses, allowed, {t for t, _ in keys}, limit, 0)
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

    def tag_counts(self) -> list[dict]:
        """Return every tag of the taxonomy with how many comments carry it, by hand or rule."""
        ix, manifest = self._index()
        out = []
        comment_kinds = Q.Or([Q.Term("kind", KIND_STORY), Q.Term("kind", KIND_REPLY)])
        with ix.searcher() as s:
            for tag in manifest.get("tags", []):
                hand = s.search(Q.Term("tags", tag["id"]), filter=comment_kinds, limit=None,
                                scored=False)
                rule = s.search(Q.Term("rule_tags", tag["id"]), filter=comment_kinds, limit=None,
                                scored=False)
                out.append({
                    **tag, "count": len(hand) + len(rule), "hand": len(hand), "rule": len(rule),
                })
        return out

    def browse(
        self, tags: Iterable[str], *, sort: str = "newest", limit: int = 20, offset: int = 0
    ) -> tuple[int, list[Hit]]:
        """Return (count, page) of the comments carrying every one of ``tags``."""
        tags = [t for t in tags if t]
        if not tags:
            raise UsageError("name at least one tag to browse (see `kb tags`)")
        if sort not in SORTS:
            raise UsageError(f"unknown sort {shown(sort)}; use one of {', '.join(SORTS)}")
        ix, manifest = self._index()
        known = {t["id"] for t in manifest.get("tags", [])}
        for t in tags:
            if known and t not in known:
                raise NotFoundError(f"unknown tag {shown(t)}; `kb tags` lists them")
        limit = max(1, min(int(limit), MAX_LIMIT))
        offset = max(0, int(offset))
        filt = self._filter(Filters(tags=tuple(tags)), (KIND_STORY, KIND_REPLY))
        sortedby = {"newest": "date", "oldest": "date", "discussed": "thread_size"}[sort]
        reverse = sort != "oldest"
        with ix.searcher() as s:
            results = s.search(Q.Every(), filter=filt, sortedby=sortedby, reverse=reverse,
                               limit=offset + limit)
            total = len(results)
            hits = [self._hit(h.fields(), 0.0, set()) for h in list(results)[offset:]]
        return total, hits
