"""Writing index segments quickly: worker processes, postings kept in memory, small merges.

A Whoosh index is a list of segments, and a search reads them all as one with
the same statistics. A full build of a large corpus therefore splits the
articles into as many runs as there are processor cores, and a forked worker
process reads its run's files and writes one segment; the parent then names all
the segments in the index's table of contents. The runs are consecutive, so the
documents keep the order a single writer would give them.

Each writer keeps its postings in memory, grouped by term: Whoosh's own pool
pickles every posting into sorted runs on disk and merges them back, and sorts
all postings rather than just the terms. Incremental builds add a small segment
each time; once a few small ones have piled up they are merged together, never
into the large segments, so an update stays cheap however large the index is.

Worker processes that write one segment each are in ``kb.engine.parallel``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec, W3FieldWriter, _lenfield
from whoosh.fields import Schema
from whoosh.index import Index
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

from kb.engine.formats import CountingFrequency

SMALL_SEGMENT = 5000  # documents: a segment smaller than this is merged with other small ones
MERGE_AT = 4  # how many small segments may pile up before they are merged
# postings per block: Whoosh's 128 suits skipping through lists; summing whole lists into
# arrays, as kb's search does, goes faster with fewer, larger blocks (and so does writing)
BLOCK = 512


class MemoryPool:
    """A posting pool kept in memory and grouped by field and term: only terms get sorted."""

    def __init__(self) -> None:
        self._fields: dict[str, dict[bytes, list[tuple[int, float, bytes]]]] = {}

    @property
    def fieldnames(self) -> set[str]:
        """The fields that have postings."""
        return set(self._fields)

    def terms_of(self, fieldname: str) -> dict[bytes, list[tuple[int, float, bytes]]]:
        """Return the postings of one field by term, to add to directly."""
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
        return terms

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        """Add one (fieldname, term bytes, docnum, weight, value bytes) posting."""
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self.terms_of(fieldname)
        postings = terms.get(tbytes)
        if postings is None:
            postings = terms[tbytes] = []
        postings.append((docnum, weight, vbytes))

    def _sorted(self) -> Iterator[tuple[str, bytes, list[tuple[int, float, bytes]]]]:
        for fieldname in sorted(self._fields):
            terms = self._fields.pop(fieldname)
            for tbytes in sorted(terms):
                postings = terms.pop(tbytes)
                ids = [p[0] for p in postings]
                if ids != sorted(ids):  # documents arrive in order, unless segments merged
                    postings.sort()
                yield fieldname, tbytes, postings

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """Yield every posting, sorted by field, term and document."""
        for fieldname, tbytes, postings in self._sorted():
            for docnum, weight, vbytes in postings:
                yield fieldname, tbytes, docnum, weight, vbytes

    def write_to(self, fw: W3FieldWriter, schema: Schema, lengths: _Lengths) -> None:
        """Write every posting through a Whoosh 3 field writer, a block at a time.

        This is what ``FieldWriter.add_postings`` does posting by posting (and what
        ``W3PostingsWriter.add_posting`` does to fill a block), done with list
        operations over each block of postings: the same blocks, the same bytes.
        """
        lastfn: str | None = None
        dfl: list = []
        for fieldname, tbytes, postings in self._sorted():
            if fieldname != lastfn:
                if lastfn is not None:
                    fw.finish_field()
                fw.start_field(fieldname, schema[fieldname])
                lastfn = fieldname
                dfl = lengths.values(fieldname)
            fw.start_term(tbytes)
            pw: Any = fw._postwriter  # the W3 postings writer, set by start_field
            limit = pw._blocklimit
            n_lengths = len(dfl)
            for i in range(0, len(postings), limit):
                if len(pw._ids) >= limit:
                    pw._write_block()
                chunk = postings[i : i + limit]
                ids = [p[0] for p in chunk]
                weights = [p[1] for p in chunk]
                pw._ids.extend(ids)
                pw._weights.extend(weights)
                top = max(weights)
                if top > pw._maxweight:
                    pw._maxweight = top
                pw._values.extend([p[2] for p in chunk if p[2]])
                known = [dfl[d] for d in ids if d < n_lengths and dfl[d]]
                if known:
                    low, high = min(known), max(known)
                    if pw._minlength is None or low < pw._minlength:
                        pw._minlength = low
                    if high > pw._maxlength:
                        pw._maxlength = high
            fw.finish_term()
        if lastfn is not None:
            fw.finish_field()

    def save(self) -> None:
        """Nothing to spill: everything stays in memory."""

    def cleanup(self) -> None:
        """Drop whatever is left."""
        self._fields.clear()


class _Lengths:
    """The field lengths of a segment being written, read into lists once per field.

    Writing postings looks up the length of every posting's document (for the
    blocks' length bounds); one list lookup instead of a file read each time.
    """

    _TABLE = [None] + [byte_to_length(b) for b in range(1, 256)]

    def __init__(self, perdoc: Any) -> None:
        self._perdoc = perdoc

    def values(self, fieldname: str) -> list:
        """Return the length of a field for each document (None where it has none)."""
        col = self._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if col is None:
            return []
        table = self._TABLE
        return [table[b] for b in col._dbfile.get(col._basepos, col._count)]

    def doc_field_length_reader(
        self, fieldname: str, default: int = 0
    ) -> Callable[[int], int | None]:
        if self._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) is None:
            return lambda docnum: default
        values = self.values(fieldname)
        n = len(values)
        return lambda docnum: values[docnum] if docnum < n else None


class FastSegmentWriter(SegmentWriter):
    """A segment writer with an in-memory pool, a lean ``add_document`` and fast lengths."""

    def __init__(self, ix: Index, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool = MemoryPool()  # type: ignore[assignment]  # in place of Whoosh's PostingPool
        # Whoosh's add_document also handles boosts, spelling fields and term vectors;
        # this schema has none of them, so a document can take the short way
        self._plain = not any(f.separate_spelling() or f.vector for _, f in self.schema.items())

    def add_document(self, **fields: Any) -> None:
        if not self._plain or any(name.startswith("_") for name in fields):
            return super().add_document(**fields)
        self._check_state()
        schema = self.schema
        names = sorted(fields)
        self._check_fields(schema, names)
        docnum = self.docnum
        pool = cast(MemoryPool, self.pool)
        perdoc = self.perdocwriter
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = schema[name]
                length = 0
                if field.indexed:
                    terms = pool.terms_of(name)
                    fmt = field.format
                    items: Any  # (word text, ...) from word_values, (term bytes, ...) from index
                    if isinstance(fmt, CountingFrequency) and isinstance(value, str):
                        items = fmt.word_values(value, None)
                        encode = True
                    else:
                        items = field.index(value)
                        encode = False
                    scorable = field.scorable
                    for text, freq, weight, vbytes in items:
                        tbytes = text.encode("utf-8") if encode else text
                        if scorable:
                            length += freq
                        postings = terms.get(tbytes)
                        if postings is None:
                            postings = terms[tbytes] = []
                        postings.append((docnum, weight, vbytes))
                perdoc.add_field(name, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdoc.add_column_value(name, column, field.to_column_value(value))
        except ValueError:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        fw = self.fieldwriter
        if pdr is not None and isinstance(fw, W3FieldWriter):
            cast(MemoryPool, self.pool).write_to(fw, self.schema, _Lengths(pdr))
        else:
            fw.add_postings(self.schema, _Lengths(pdr) if pdr else None, self.pool.iter_postings())
        fw.close()
        if pdr:
            pdr.close()


def writer(ix: Index, *, lock: bool = True) -> SegmentWriter:
    """Return a fast segment writer that writes plain (not compound) files."""
    return FastSegmentWriter(ix, _lk=lock, compound=False, codec=W3Codec(blocklimit=BLOCK))


def merge_small(writer_: SegmentWriter, segments: list) -> list:
    """A merge policy: merge the small segments together once several have piled up."""
    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT]
    if len(small) < MERGE_AT:
        return segments
    for seg in small:
        reader = SegmentReader(writer_.storage, writer_.schema, seg)
        writer_.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in small]


def commit(w: SegmentWriter, new_segments: list) -> None:
    """Commit a writer together with segments written by worker processes."""
    from whoosh.writing import NO_MERGE

    final = w._merge_segments(NO_MERGE, False, False) + list(new_segments)
    if w._added:
        final.append(w._finalize_segment())
    else:
        w._close_segment()
    w._commit_toc(final)
    w._finish()
