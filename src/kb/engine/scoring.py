"""Ranking with arrays: BM25F over the index's posting lists, computed with numpy.

Whoosh scores a query by walking every posting of every query term in Python and
asking a scorer object about each (document, term) pair. A reader's description
of twenty words touches tens of thousands of postings, so that walk is where a
situation search spends its time. Here the postings of a term are read block by
block straight into arrays, turned into BM25F contributions with the same
formula and statistics Whoosh uses (idf, average field length, the lossy field
lengths the index stores), and added into one array of scores per query. The
scores are Whoosh's, so the ranking is too; only the walk is gone.

An :class:`IndexArrays` belongs to one index generation and is shared by every
thread: it holds the live-document mask, field lengths, columns and a bounded
cache of term contributions (readers' words repeat from query to query). The
searcher that reads the files is passed in on each call, because a Whoosh
searcher must not be shared between threads.
"""

from __future__ import annotations

import io
import pickle
import struct
import threading
import zlib
from array import array
from collections import OrderedDict
from typing import Any, cast

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3TermInfo, _lenfield
from whoosh.fields import FieldType
from whoosh.reading import IndexReader, SegmentReader
from whoosh.scoring import BM25F, bm25
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from kb.errors import KbError

_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
CACHE_POSTINGS = 4_000_000  # bound on the postings kept in the contribution cache
_INT = struct.Struct("!i")
_NO_IDS, _NO_WEIGHTS = np.zeros(0, dtype=np.int64), np.zeros(0)


def _leaf_postings(
    leaf: Any, fieldname: str, tbytes: bytes, fieldobj: FieldType
) -> tuple[np.ndarray, np.ndarray]:
    """Return the (docnums, weights) of one term in one segment, deleted documents included."""
    terms = leaf._terms  # the codec's terms reader: the raw posting lists
    if (fieldname, tbytes) not in terms:
        return _NO_IDS, _NO_WEIGHTS
    info = terms.term_info(fieldname, tbytes)
    if not isinstance(info, W3TermInfo) or info.is_inlined():  # not Whoosh 3 blocks: walk it
        m = terms.matcher(fieldname, tbytes, fieldobj.format)
        ids, weights = [], []
        while m.is_active():
            ids.append(m.id())
            weights.append(m.weight())
            m.next()
        return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)
    offset, length = info.extent()
    if isinstance(length, tuple):  # W3TermInfo.from_bytes leaves the length in a 1-tuple
        length = length[0]
    return _read_blocks(terms._postfile.get(offset, length))


def _read_blocks(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Decode a Whoosh 3 posting list: a header, then blocks of up to 128 postings.

    Each block is a length (negative for the last block), a pickled tuple of block
    facts (count, last id, max weight, compression, min and max length) and the
    pickled, maybe compressed (delta-coded ids, weights, values). This reads the same
    bytes as ``W3LeafMatcher`` does, without a method call per block for each field.
    """
    if raw[:4] != WHOOSH3_HEADER_MAGIC:
        raise KbError("the index's postings are damaged; run `kb build --full`")
    deltas = array("q")
    weights = array("d")
    buf = io.BytesIO(raw)
    load = pickle.load
    pos, last = 4, 0
    while pos < len(raw):
        size = _INT.unpack_from(raw, pos)[0]
        buf.seek(pos + 4)
        count, maxid, _, compressed, _, _ = load(buf)
        end = pos + 4 + abs(size)
        data = raw[buf.tell() : end]
        ids, ws, _ = pickle.loads(zlib.decompress(data) if compressed else data)
        # each block's ids are deltas from 0; chain them so one cumsum decodes all blocks
        first = len(deltas)
        deltas.extend(ids)
        deltas[first] -= last
        last = maxid
        if ws is None:
            weights.extend(array("d", [1.0]) * count)
        elif isinstance(ws, float):
            weights.extend(array("d", [ws]) * count)
        else:
            weights.extend(ws)
        pos = end
        if size < 0:
            break
    return np.cumsum(np.frombuffer(deltas, dtype=np.int64)), np.frombuffer(
        weights, dtype=np.float64
    )


def _segments(reader: IndexReader) -> list[tuple[SegmentReader, int]]:
    """Return the segment readers of an index reader, each with its first document number."""
    # Whoosh types them as any IndexReader; the leaves of a file index are segment readers
    return cast(list[tuple[SegmentReader, int]], reader.leaf_readers())


class IndexArrays:
    """Per-generation arrays and caches for ranking; safe to share between threads."""

    def __init__(self, searcher: Searcher, weighting: BM25F) -> None:
        reader = searcher.reader()
        self.doc_count = reader.doc_count_all()
        self.weighting = weighting
        self._leaves = [(offset, leaf.doc_count_all()) for leaf, offset in reader.leaf_readers()]
        live = np.ones(self.doc_count, dtype=bool)
        for leaf, offset in _segments(reader):
            if leaf.has_deletions():
                # SegmentReader has no deleted_docs(); its set of deleted numbers is public
                dead = np.fromiter(leaf.deleted_docs_set, dtype=np.int64)
                live[dead + offset] = False
        self.live = live
        self._lock = threading.Lock()
        self._lengths: dict[str, np.ndarray] = {}
        self._columns: dict[str, np.ndarray] = {}
        self._terms: OrderedDict[tuple[str, str | bool], tuple[np.ndarray, np.ndarray]] = (
            OrderedDict()
        )
        self._cached = 0

    # -- per-document arrays -------------------------------------------------------------
    def lengths(self, searcher: Searcher, fieldname: str) -> np.ndarray:
        """Return the stored (lossy) length of a field for every document, as floats."""
        with self._lock:
            if fieldname in self._lengths:
                return self._lengths[fieldname]
        out = np.ones(self.doc_count, dtype=np.float64)
        for leaf, offset in _segments(searcher.reader()):
            col = leaf._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            if col is None:
                continue
            raw = np.frombuffer(col._dbfile.get(col._basepos, col._count), dtype=np.uint8)
            out[offset : offset + len(raw)] = _LENGTH_TABLE[raw]
        with self._lock:
            self._lengths[fieldname] = out
        return out

    def column(self, searcher: Searcher, fieldname: str) -> np.ndarray:
        """Return a numeric column, as stored (the field's ``to_column_value``), for every document."""
        with self._lock:
            if fieldname in self._columns:
                return self._columns[fieldname]
        column = searcher.schema[fieldname].column_type
        dtype = np.dtype(">" + column._typecode)  # whoosh packs numbers big-endian
        out = np.full(self.doc_count, column._default, dtype=dtype.newbyteorder("="))
        for leaf, offset in searcher.reader().leaf_readers():
            if not leaf.has_column(fieldname):
                continue
            col: Any = leaf.column_reader(fieldname, translate=False)  # a W3 column reader
            raw = col._dbfile.get(col._basepos, col._count * dtype.itemsize)
            out[offset : offset + col._count] = np.frombuffer(raw, dtype=dtype)
        with self._lock:
            self._columns[fieldname] = out
        return out

    # -- postings ------------------------------------------------------------------------
    def docs(self, searcher: Searcher, fieldname: str, text: str | bool) -> np.ndarray:
        """Return the live documents holding a term, as sorted docnums."""
        return self._term(searcher, fieldname, text)[0]

    def contributions(
        self, searcher: Searcher, fieldname: str, text: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (docnums, BM25F score of the term in each) for one term of one field."""
        return self._term(searcher, fieldname, text)

    def _term(
        self, searcher: Searcher, fieldname: str, text: str | bool
    ) -> tuple[np.ndarray, np.ndarray]:
        key = (fieldname, text)
        with self._lock:
            hit = self._terms.get(key)
            if hit is not None:
                self._terms.move_to_end(key)
                return hit
        hit = self._read_term(searcher, fieldname, text)
        with self._lock:
            if key not in self._terms:
                self._terms[key] = hit
                self._cached += len(hit[0])
                while self._cached > CACHE_POSTINGS and len(self._terms) > 1:
                    _, old = self._terms.popitem(last=False)
                    self._cached -= len(old[0])
        return hit

    def _read_term(
        self, searcher: Searcher, fieldname: str, text: str | bool
    ) -> tuple[np.ndarray, np.ndarray]:
        schema = searcher.schema
        if fieldname not in schema:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        fieldobj = schema[fieldname]
        try:
            tbytes = fieldobj.to_bytes(text)
        except ValueError:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        id_parts, w_parts = [], []
        for leaf, offset in searcher.reader().leaf_readers():
            ids, weights = _leaf_postings(leaf, fieldname, tbytes, fieldobj)
            if len(ids):
                id_parts.append(ids + offset)
                w_parts.append(weights)
        if not id_parts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        docs = np.concatenate(id_parts)
        weights = np.concatenate(w_parts)
        keep = self.live[docs]
        if not keep.all():
            docs, weights = docs[keep], weights[keep]
        if not fieldobj.scorable:
            return docs, weights
        w = self.weighting
        b = w._field_B.get(fieldname, w.B)
        k1 = w.K1
        idf = searcher.idf(fieldname, text)
        avgfl = searcher.avg_field_length(fieldname) or 1
        fl = self.lengths(searcher, fieldname)[docs]
        # Whoosh's own formula, over arrays (its hints say floats; numpy's operators carry it)
        score = bm25(idf, weights, fl, avgfl, b, k1)  # type: ignore[arg-type]
        return docs, np.asarray(score)


def top(scores: np.ndarray, allowed: np.ndarray, n: int) -> list[int]:
    """Return the docnums of the ``n`` best allowed scores: highest first, ties by docnum."""
    cand = np.flatnonzero(allowed)
    if not len(cand):
        return []
    vals = scores[cand]
    if len(cand) > n:
        # everything scoring at least the n-th best value, so ties at the edge are kept
        kth = np.partition(vals, len(vals) - n)[len(vals) - n]
        keep = vals >= kth
        cand, vals = cand[keep], vals[keep]
    order = np.lexsort((cand, -vals))
    return [int(d) for d in cand[order[:n]]]
