"""Sentence vectors beside the words index: which are there, which are missing, and making them.

Every section, author reply and reader story gets one unit vector of the text a reader's
situation should meet (:func:`doc_text`). Two kinds of files hold them:

- the **embedding cache** of an index folder, ``embeddings/<model key>/part-NNNNNN.npz``:
  vectors by the digest of the text they were made from, added a part at a time. A part
  is written aside and renamed, so it is also the checkpoint of a long build: a build
  killed after an hour loses at most the part it was writing, and the next one starts
  from there. A text already embedded (an unchanged comment, a rebuilt index, a reply
  moved to another thread) is never embedded again.
- the **vectors of a generation**, ``gen-NNNNNN/vectors.npz``: one row per document of
  that Whoosh generation, keyed by its document number (with its id and text digest, so
  the next generation reuses the rows of unchanged documents without reading their text),
  written aside and renamed. A
  generation's file may be partial while a long build fills it; search uses the rows
  that are there (``complete`` says whether all are).

On disk a vector is int8 with one float scale per vector (a quarter of float32; rankings
measured the same); search turns them back to float32 once per generation.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kb.fsutil import fsync_dir
from kb.model import KIND_REPLY, KIND_SECTION

VECTORS = "vectors.npz"
CACHE = "embeddings"
PART = 256  # texts embedded between two checkpoints
REWRITE_SECONDS = 20.0  # at most this often a long step rewrites the generation's file
DIGEST_BYTES = 16

if TYPE_CHECKING:
    from kb.semantic.model import Embedder

Progress = Callable[[int, int, str], None]


ANSWERED_CHARS = 600  # of the comment an author's reply answers, embedded with the reply


def doc_text(fields: dict, answered: str = "") -> str:
    """Return the text embedded for an index document.

    A section says where it stands (article title, heading); an author's reply comes with
    the start of the comment it answers, since a reply alone ("give her a few quiet weeks")
    seldom names the situation a reader describes (measured: nDCG@10 by meaning alone
    0.39 -> 0.44 on the judged queries).
    """
    if fields["kind"] == KIND_SECTION:
        heading = fields.get("heading", "") if fields.get("section") != "intro" else ""
        head = ". ".join(p for p in (fields.get("article_title", ""), heading) if p)
        return f"{head}.\n{fields.get('body', '')}"
    if fields["kind"] == KIND_REPLY and answered:
        return f"{answered[:ANSWERED_CHARS]}\n{fields.get('body', '')}"
    return fields.get("body", "")


def digest(text: str) -> bytes:
    """Return the cache key of a text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES).digest()


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (int8 values, float32 scale per row) for float vectors."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scale = np.abs(vectors).max(axis=1) / 127.0 if len(vectors) else np.zeros(0, np.float32)
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(vectors / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def dequantize(q: np.ndarray, scale: np.ndarray, unit: bool = True) -> np.ndarray:
    """Return float32 vectors from their int8 form, made unit length again with ``unit``.

    Without it they are within 0.2% of unit length (the rounding of int8), which search
    takes as it is: 100,000 vectors load in a third of the time.
    """
    v = q.astype(np.float32)
    v *= scale[:, None]
    if unit:
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        v /= np.where(norms > 0, norms, 1.0)
    return v


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write an .npz aside and rename it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy's stub takes them for its flags
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _load_npz(path: Path, keys: tuple[str, ...] | None = None) -> dict | None:
    """Return the arrays of an .npz (only ``keys``, where given), None if it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files if keys is None or k in keys}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return None


class EmbeddingCache:
    """The vectors an index folder has made with one model, by the digest of their text."""

    def __init__(self, index_dir: Path, model_key: str) -> None:
        self.folder = Path(index_dir) / CACHE / model_key
        self._rows: dict[bytes, tuple[int, int]] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._names: set[str] = set()
        self.refresh()

    @staticmethod
    def models(index_dir: Path) -> list[str]:
        """Return the keys of the models that have a cache in an index folder."""
        root = Path(index_dir) / CACHE
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def refresh(self) -> None:
        """Read the parts written since the last look (by this process or another)."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("part-*.npz")):
            if path.name in self._names:
                continue
            data = _load_npz(path)
            self._names.add(path.name)
            if data is None or not {"digests", "q", "scale"} <= data.keys():
                continue  # unreadable: its texts are embedded again
            n = len(self._parts)
            self._parts.append((data["q"], data["scale"]))
            for i, d in enumerate(data["digests"]):
                self._rows[bytes(d)] = (n, i)

    def __contains__(self, key: bytes) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """Return (int8 rows, scales) of keys that are all in the cache."""
        q = np.zeros((len(keys), self._width()), dtype=np.int8)
        scale = np.ones(len(keys), dtype=np.float32)
        for j, k in enumerate(keys):
            part, i = self._rows[k]
            q[j], scale[j] = self._parts[part][0][i], self._parts[part][1][i]
        return q, scale

    def _width(self) -> int:
        return self._parts[0][0].shape[1] if self._parts else 0

    def add(self, keys: list[bytes], vectors: np.ndarray) -> None:
        """Add vectors as a new part (the checkpoint of a long build)."""
        if not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        q, scale = quantize(vectors)
        name = f"part-{time.time_ns():020d}-{os.getpid()}.npz"
        _save_npz(
            self.folder / name, digests=np.array(keys, dtype=f"S{DIGEST_BYTES}"), q=q, scale=scale
        )
        self._names.add(name)
        n = len(self._parts)
        self._parts.append((q, scale))
        for i, k in enumerate(keys):
            self._rows[k] = (n, i)

    def keep_only(self, keys: set[bytes]) -> None:
        """Rewrite the cache with only ``keys`` (a redacted text's vector goes with it)."""
        if not self.folder.is_dir():
            return
        kept = [k for k in self._rows if k in keys]
        if len(kept) == len(self._rows):
            return
        q, scale = (
            self.get(kept)
            if kept
            else (np.zeros((0, self._width()), np.int8), np.zeros(0, np.float32))
        )
        old = sorted(self.folder.glob("part-*.npz"))
        name = f"part-{time.time_ns():020d}-{os.getpid()}.npz"
        if kept:
            _save_npz(
                self.folder / name,
                digests=np.array(kept, dtype=f"S{DIGEST_BYTES}"),
                q=q,
                scale=scale,
            )
        for p in old:
            p.unlink(missing_ok=True)
        fsync_dir(self.folder)
        self._rows, self._parts, self._names = {}, [], set()
        self.refresh()


@dataclass
class VectorReport:
    """What a vector step did."""

    documents: int = 0
    embedded: int = 0
    reused: int = 0
    missing: int = 0
    seconds: float = 0.0
    model: str = ""
    keys: set[bytes] = field(default_factory=set, repr=False)  # the generation's texts

    @property
    def complete(self) -> bool:
        """True when every document of the generation has its vector."""
        return self.missing == 0

    def as_dict(self) -> dict:
        """Return the report as plain data for JSON."""
        return {
            "documents": self.documents,
            "embedded": self.embedded,
            "reused": self.reused,
            "missing": self.missing,
            "complete": self.complete,
            "seconds": round(self.seconds, 3),
            "model": self.model,
        }


SEARCHED = ("docnums", "q", "scale", "model", "complete")  # what search reads of a file


def read_vectors(gen: Path, keys: tuple[str, ...] | None = None) -> dict | None:
    """Return a generation's vector file as arrays (only ``keys``, where given), or None if
    it has none (or it is unreadable)."""
    data = _load_npz(Path(gen) / VECTORS, keys)
    wanted = {"docnums", "q", "scale", "model"} & set(keys or ("docnums", "q", "scale", "model"))
    if data is None or not wanted <= data.keys():
        return None
    return data


def fill(
    gen: Path,
    docs: Iterable[tuple[int, dict]],
    cache: EmbeddingCache,
    embedder_fn: Callable[[], Embedder],
    model_key: str,
    *,
    budget: int | None = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    bodies: dict[str, str] | None = None,
) -> VectorReport:
    """Give a generation's documents their vectors: from the cache, else embedded now.

    ``docs`` are (document number, stored fields) of the generation's live documents; a
    document whose text is known unchanged may come as ``{"id": ..., "key": digest}``
    instead (see :func:`kb.semantic.build.attach`), and ``bodies`` holds the texts of
    comments answered by a reply among the others. ``embedder_fn`` returns the model (loaded
    only when a text must be embedded). At most ``budget`` texts are embedded (None: all);
    the generation's file is rewritten after the first part and then every
    ``REWRITE_SECONDS``, so search can use what is there while the rest is being made.
    """
    start = time.perf_counter()
    report = VectorReport(model=model_key)
    numbers: list[int] = []
    ids: list[str] = []
    keys: list[bytes] = []
    texts: dict[bytes, str] = {}
    live = [(d, f) for d, f in docs if not f.get("redacted")]
    bodies = dict(bodies or {})
    bodies.update(
        (f["id"], f["body"]) for _, f in live if "body" in f and f["kind"] != KIND_SECTION
    )
    for docnum, fields in live:
        key = fields.get("key")
        if key is None:
            text = doc_text(fields, bodies.get(fields.get("parent") or "", ""))
            key = digest(text)
            if key not in cache:
                texts.setdefault(key, text)
        numbers.append(docnum)
        ids.append(fields["id"])
        keys.append(key)
    report.documents = len(numbers)
    report.keys = set(keys)
    report.reused = report.documents - sum(1 for k in keys if k not in cache)
    todo = list(texts.items())
    if budget is not None:
        todo = todo[:budget]
    old = read_vectors(gen, ("docnums", "model", "complete"))
    written, stale, last = -1, False, 0.0
    done = 0
    for at in range(0, len(todo), PART):
        if should_stop and should_stop():
            break
        chunk = todo[at : at + PART]
        vectors = embedder_fn().embed([t for _, t in chunk])
        cache.add([k for k, _ in chunk], vectors)
        done += len(chunk)
        report.embedded = done
        if progress:
            progress(done, len(texts), "embedding")
        stale = True
        # the first part at once, then at most every REWRITE_SECONDS: each rewrite writes the
        # whole file, so one per part would be quadratic on a large site
        if written < 0 or time.monotonic() - last >= REWRITE_SECONDS:
            written = _write_gen(gen, numbers, ids, keys, cache, model_key, None)
            stale, last = False, time.monotonic()
    if written < 0 or stale:
        written = _write_gen(
            gen, numbers, ids, keys, cache, model_key, old if written < 0 else None
        )
    report.missing = report.documents - max(written, 0)
    report.seconds = time.perf_counter() - start
    return report


def _write_gen(
    gen: Path,
    numbers: list[int],
    ids: list[str],
    keys: list[bytes],
    cache: EmbeddingCache,
    model_key: str,
    old: dict | None,
) -> int:
    have = [i for i, k in enumerate(keys) if k in cache]
    rows = np.array([numbers[i] for i in have], dtype=np.int64)
    if (
        old is not None
        and str(old["model"]) == model_key
        and bool(old.get("complete", False)) == (len(have) == len(keys))
        and np.array_equal(old["docnums"], rows)
    ):
        return len(have)  # nothing new to write
    q, scale = cache.get([keys[i] for i in have])
    if not gen.is_dir():
        return len(have)  # the generation was retired while its vectors were being made
    # ids as UTF-8 bytes: numpy's str arrays take four bytes a character
    _save_npz(
        Path(gen) / VECTORS,
        docnums=rows,
        ids=np.array([ids[i].encode("utf-8", "surrogatepass") for i in have], dtype=bytes),
        digests=np.array([keys[i] for i in have], dtype=f"S{DIGEST_BYTES}"),
        q=q,
        scale=scale,
        model=np.array(model_key),
        complete=np.array(len(have) == len(keys)),
    )
    return len(have)
