"""The vector step of a build: after the words, give each document of a generation its vector.

A build writes the words index first; it is searchable the moment it is swapped in. The
vectors follow (:func:`complete`): from the embedding cache where the text was embedded
before, otherwise embedded now, a part at a time, each part a checkpoint (see
:mod:`kb.semantic.vectors`). An incremental build embeds the few changed documents itself
before its swap (:func:`attach`), so adding comments to a site that has its vectors never
leaves them without. One vector step at a time per index folder (``vectors.lock``); a
second one finds the lock taken and leaves the work to the first.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from whoosh import index as whoosh_index

from kb.index.ledger import read_ledger
from kb.semantic import model as semantic_model
from kb.semantic.vectors import CACHE, EmbeddingCache, VectorReport, fill, read_vectors

LOCK = "vectors.lock"
# Texts an incremental build embeds before its swap; more (a large import) are left to
# the vector step after it, so the words of a large import are searchable at once.
INLINE = 600

Progress = Callable[[int, int, str], None]


def folder_for(site: dict, corpus_dir: str | Path | None) -> Path:
    """Return the model folder a manifest's site names."""
    return semantic_model.model_folder(
        site.get("embedding_model", "") or "", Path(corpus_dir) if corpus_dir else None
    )


def _docs(gen: Path) -> Iterator[tuple[int, dict]]:
    ix = whoosh_index.open_dir(str(gen))
    try:
        with ix.searcher() as s:
            yield from s.reader().iter_docs()
    finally:
        ix.close()


def _changed_docs(gen: Path, old_gen: Path, before: dict) -> tuple[list, dict] | None:
    """Return (documents, answered bodies) for :func:`fill` that read only what changed.

    A document whose ledger digest is the same in both generations has the same text, so it
    comes as its id and cached text digest, found by document number through the id column;
    the others (and the comments their replies answer) are read. None if the ledgers do not
    allow it.
    """
    new, old = read_ledger(gen), read_ledger(old_gen)
    if new is None or old is None or "ids" not in before:
        return None
    old_digest = {d: g for a in old.values() for d, g in a["docs"].items()}
    known = {
        i.decode("utf-8", "surrogatepass"): d
        for i, d in zip(before["ids"].tolist(), before["digests"].tolist(), strict=True)
    }
    ix = whoosh_index.open_dir(str(gen))
    try:
        with ix.searcher() as s:
            reader = s.reader()
            docs, wanted = [], set()
            for leaf, offset in reader.leaf_readers():
                if not leaf.has_column("id"):
                    return None
                column = leaf.column_reader("id")
                for i in range(leaf.doc_count_all()):
                    if leaf.is_deleted(i):
                        continue
                    doc_id = column[i]
                    unchanged = None
                    for a in new.values():  # pragma: no branch - ids are unique
                        if doc_id in a["docs"]:
                            unchanged = a["docs"][doc_id] == old_digest.get(doc_id)
                            break
                    if unchanged and doc_id in known:
                        docs.append((offset + i, {"id": doc_id, "key": bytes(known[doc_id])}))
                    else:
                        fields = leaf.stored_fields(i)
                        docs.append((offset + i, fields))
                        if fields.get("parent"):
                            wanted.add(fields["parent"])
            bodies = {}
            for parent in wanted:
                fields = s.document(id=parent)
                if fields is not None and not fields.get("redacted"):
                    bodies[parent] = fields.get("body", "")
            return docs, bodies
    finally:
        ix.close()


def attach(
    gen: Path,
    index_dir: Path,
    folder: Path,
    *,
    old_gen: Path | None = None,
    progress: Progress | None = None,
    purge: bool = False,
) -> VectorReport:
    """Give a new generation, before its swap, the vectors the cache has and the few it lacks.

    Texts are embedded here only when the previous generation had all its vectors (then
    what is missing is what this build changed); otherwise :func:`complete` does it. With
    ``purge`` the cache keeps only the vectors of this generation's texts (a redacted
    comment's vector leaves with its text).
    """
    key = semantic_model.model_key(folder)
    before = read_vectors(old_gen) if old_gen else None
    keeps_up = (
        before is not None and str(before["model"]) == key and bool(before.get("complete", False))
    )
    cache = EmbeddingCache(index_dir, key)
    quick = (
        _changed_docs(gen, old_gen, before)
        if keeps_up and not purge and old_gen is not None and before is not None
        else None
    )
    docs: Iterable[tuple[int, dict]]
    if quick is not None and all(f.get("key") is None or f["key"] in cache for _, f in quick[0]):
        docs, bodies = quick
    else:  # read every document (a full build, a purge, or an older generation's file)
        docs, bodies = _docs(gen), None
    report = fill(
        gen,
        docs,
        cache,
        lambda: semantic_model.load(folder),
        key,
        budget=INLINE if keeps_up else 0,
        progress=progress,
        bodies=bodies,
    )
    if purge:
        for other in EmbeddingCache.models(index_dir):
            EmbeddingCache(index_dir, other).keep_only(report.keys if other == key else set())
    return report


@contextlib.contextmanager
def _step_lock(index_dir: Path) -> Iterator[bool]:
    fd = os.open(Path(index_dir) / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def complete(
    index_dir: Path,
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> VectorReport | None:
    """Embed what the live generation still lacks; None if another process is doing it.

    Goes on with the next generation if a build swapped one in meanwhile.
    """
    from kb.index.generations import current_generation, read_manifest

    index_dir = Path(index_dir)
    if not index_dir.is_dir():
        return None
    with _step_lock(index_dir) as mine:
        if not mine:
            return None
        report = None
        for _ in range(5):  # a build may swap in a new generation while this one fills
            gen = current_generation(index_dir)
            if gen is None:
                return report
            manifest = read_manifest(gen)
            folder = folder_for(manifest.get("site", {}), manifest.get("corpus"))
            key = semantic_model.model_key(folder)
            cache = EmbeddingCache(index_dir, key)
            report = fill(
                gen,
                _docs(gen),
                cache,
                functools.partial(semantic_model.load, folder),
                key,
                progress=progress,
                should_stop=should_stop,
            )
            if report.complete:  # the vectors of a model no longer named are of no use
                for other in EmbeddingCache.models(index_dir):
                    if other != key:
                        shutil.rmtree(Path(index_dir) / CACHE / other, ignore_errors=True)
            if current_generation(index_dir) == gen or (should_stop and should_stop()):
                return report
        return report


def status(gen: Path | None, documents: int) -> dict:
    """Return how far a generation's vectors are: rows, documents, model, complete.

    Reads the file's small arrays only, never the vectors themselves.
    """
    data = read_vectors(gen, ("docnums", "model", "complete")) if gen else None
    if data is None or not {"docnums", "model"} <= data.keys():
        return {"rows": 0, "documents": documents, "model": "", "complete": False}
    return {
        "rows": int(len(data["docnums"])),
        "documents": documents,
        "model": str(data["model"]),
        "complete": bool(data.get("complete", False)),
    }
