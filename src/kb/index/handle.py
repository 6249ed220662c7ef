"""The live index of a folder, held open for requests: its generation, searchers and reads.

An :class:`IndexHandle` follows the folder's ``current`` generation: when a build swaps
in a new one, the next request opens it and the old searchers are closed. Searchers
are kept open between requests in a small pool; a request borrows one (a Whoosh
searcher must not be used by two threads at once) together with the generation's
arrays (``kb.engine.scoring``), which every thread shares. The generation's vectors
(``kb.semantic.meaning``) are loaded once, and again when the vector step adds to them.

Reads come back as :class:`StoredDoc`: what the index stores of a section or a comment,
tags as lists, whatever way the index keeps them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.index import Index

from kb.engine.scoring import IndexArrays
from kb.errors import NotFoundError, shown
from kb.index import spelling
from kb.index.generations import current_generation, open_index, read_manifest
from kb.model import KIND_SECTION
from kb.semantic import meaning as semantic_meaning
from kb.semantic import model as semantic_model
from kb.semantic.meaning import NO_VECTORS, Meaning
from kb.semantic.vectors import VECTORS, dequantize

IDLE_SEARCHERS = 8  # searchers kept open for the next requests


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(t for t in (value or "").split(",") if t)


@dataclass(frozen=True)
class StoredDoc:
    """What the index stores of one article section or comment."""

    id: str
    kind: str
    article: str
    article_title: str
    body: str
    section: str = ""  # a section's anchor ("intro" for the text before the first heading)
    heading: str = ""
    author: str = ""
    is_author: bool = False  # written by the site's author (an author's reply)
    answered: bool = False  # a story the author replied to
    redacted: bool = False
    thread: str = ""  # the id of the comment that started the thread
    parent: str = ""
    depth: int = 0
    position: int = 0  # order under the article
    thread_size: int = 0
    date: dt.datetime | None = None
    tags: tuple[str, ...] = ()  # given by hand (in the corpus)
    rule_tags: tuple[str, ...] = ()  # given by the taxonomy's rules
    removed_tags: tuple[str, ...] = ()  # rule tags the author took off
    replies: tuple[str, ...] = ()  # the author's replies in a story's thread

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> StoredDoc:
        """Return the document from Whoosh's stored fields."""
        return cls(
            id=fields["id"],
            kind=fields["kind"],
            article=fields["article"],
            article_title=fields.get("article_title", ""),
            body=fields.get("body", ""),
            section=fields.get("section", ""),
            heading=fields.get("heading", ""),
            author=fields.get("author", ""),
            is_author=bool(fields.get("is_author")),
            answered=bool(fields.get("answered")),
            redacted=bool(fields.get("redacted")),
            thread=fields.get("thread", ""),
            parent=fields.get("parent", ""),
            depth=int(fields.get("depth") or 0),
            position=int(fields.get("position") or 0),
            thread_size=int(fields.get("thread_size") or 0),
            date=fields.get("date"),
            tags=_split(fields.get("tags")),
            rule_tags=_split(fields.get("rule_tags")),
            removed_tags=tuple(fields.get("removed_tags") or ()),
            replies=tuple(fields.get("replies") or ()),
        )


def id_term(doc_id: str, what: str) -> str:
    """Return ``doc_id`` if a document could carry it; raise :class:`NotFoundError` if not."""
    try:
        doc_id.encode("utf-8")  # ids are UTF-8 terms in the index
    except UnicodeEncodeError:  # lone surrogates: what undecodable command-line bytes become
        raise NotFoundError(f"no {what} with id {shown(doc_id)}") from None
    return doc_id


class IndexHandle:
    """One index folder's live generation, reopened when a build swaps in a new one."""

    def __init__(self, index_dir: Path, weighting: Any) -> None:
        self.index_dir = Path(index_dir)
        self.weighting = weighting  # the searchers' and the arrays' BM25F
        self._lock = threading.Lock()
        self._gen: Path | None = None
        self._ix: Index | None = None
        self._manifest: dict = {}
        self._cache: dict = {}
        self._arrays: IndexArrays | None = None
        self._words: list[str] | None = None
        self._idle: list = []  # open searchers on self._ix that no request is using
        self._vectors: tuple | None = None  # (generation, file stamp, Meaning or None, why not)
        self._vector_loading = threading.Lock()

    # -- opening -------------------------------------------------------------------------
    def _index(self) -> tuple[Index, dict]:
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

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[Any, IndexArrays]]:
        """Lend a searcher on the live index, with the generation's arrays, for one request."""
        ix, _ = self._index()
        with self._lock:
            s = self._idle.pop() if self._ix is ix and self._idle else None
            arrays = self._arrays if self._ix is ix else None
        if s is None:
            s = ix.searcher(weighting=self.weighting)
        try:
            if arrays is None:
                arrays = IndexArrays(s, self.weighting)
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

    def corrector(self, searcher: Any) -> Any:
        """Return the spelling corrector of the live generation (see kb.index.spelling)."""
        with self._lock:
            words, gen = self._words, self._gen
        if words is None and gen is not None:
            words = spelling.read_words(gen)
            with self._lock:
                if self._gen == gen:
                    self._words = words
        return spelling.corrector(words, searcher)

    # -- vectors -------------------------------------------------------------------------
    def meaning(self, doc_count: int) -> tuple[Meaning | None, str]:
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
            meaning, _ = self.meaning(self.doc_count())
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
            return cached[2], cached[3]
        if stamp is None:
            meaning, why = None, NO_VECTORS
        else:
            meaning, why = semantic_meaning.load(gen, manifest, doc_count)
        with self._lock:
            if self._gen == gen:
                self._vectors = (gen, stamp, meaning, why)
        return meaning, why

    def embed_texts(self, texts: list[str]) -> np.ndarray | None:
        """Return the unit vectors of texts (cached in the index folder), None without vectors."""
        meaning, _ = self.meaning(self.doc_count())
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
        with self.reading() as (s, arrays):
            meaning, _ = self.meaning(arrays.doc_count)
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
        with self.reading() as (s, arrays):
            meaning, _ = self.meaning(arrays.doc_count)
            if meaning is None:
                return None
            allowed = np.zeros(arrays.doc_count, dtype=bool)
            allowed[arrays.docs(s, "kind", KIND_SECTION)] = True
            allowed[arrays.docs(s, "redacted", True)] = False
            allowed &= arrays.live
            out = []
            for v in vectors:
                best = meaning.ranking(meaning.similarities(v), allowed, 1)[0]
                out.append(
                    (s.stored_fields(best[0][1])["id"], round(best[0][0], 4)) if best else ("", 0.0)
                )
        return out

    def vector_status(self) -> tuple[int, bool]:
        """Return (rows, complete) of the live generation's vectors: (0, False) without."""
        meaning, _ = self.meaning(self.doc_count())
        return (len(meaning.docnums), meaning.complete) if meaning is not None else (0, False)

    # -- reads ---------------------------------------------------------------------------
    def doc_count(self) -> int:
        """Return how many documents the live generation holds (deleted ones included)."""
        with self.reading() as (_, arrays):
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

    def generation(self) -> str:
        """Name the live generation (changes whenever a build swaps one in)."""
        self._index()
        return self._gen.name if self._gen else ""

    def all_comments(self) -> list[StoredDoc]:
        """Return every comment (cached until the next build), in order under each article."""
        ix, _ = self._index()
        with self._lock:
            cached = self._cache.get(("comments", self._gen))
        if cached is not None:
            return cached
        with ix.searcher() as s:
            docs = [
                StoredDoc.from_fields(d)
                for d in s.all_stored_fields()
                if d["kind"] != KIND_SECTION and not d.get("redacted")
            ]
        docs.sort(key=lambda d: (d.article, d.position))
        with self._lock:
            self._cache = {("comments", self._gen): docs}
        return docs

    def get(self, doc_id: str) -> StoredDoc:
        """Return one section or comment."""
        ix, _ = self._index()
        with ix.searcher() as s:
            fields = s.document(id=id_term(doc_id, "comment or section"))
        if fields is None:
            raise NotFoundError(f"no comment or section with id {shown(doc_id)}")
        return StoredDoc.from_fields(fields)

    def thread(self, comment_id: str) -> list[StoredDoc]:
        """Return the whole thread holding a comment, in order, each with its ``depth``."""
        ix, _ = self._index()
        with ix.searcher() as s:
            fields = s.document(id=id_term(comment_id, "comment"))
            if fields is None or fields["kind"] == KIND_SECTION:
                raise NotFoundError(f"no comment with id {shown(comment_id)}")
            docs = [StoredDoc.from_fields(d) for d in s.documents(thread=fields["thread"])]
        docs.sort(key=lambda d: d.position)
        return docs

    def comments_of(self, slug: str) -> list[StoredDoc]:
        """Return every comment under an article, in order."""
        ix, _ = self._index()
        with ix.searcher() as s:
            docs = [
                StoredDoc.from_fields(d)
                for d in s.documents(article=slug)
                if d["kind"] != KIND_SECTION
            ]
        docs.sort(key=lambda d: d.position)
        return docs
