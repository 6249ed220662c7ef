"""The vectors of one index generation, loaded for ranking by cosine.

A generation's ``vectors.npz`` (``kb.semantic.vectors``) is dequantised once into a
matrix of unit rows; a reader's text is embedded by the site's model and compared
with every row (brute force: 100,000 rows take a few milliseconds). ``load`` says why
a generation cannot be searched by meaning (no vectors yet, another model's, a
mismatch with the index) so that search can fall back to words and say so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.errors import ModelError
from kb.semantic import build as vector_build
from kb.semantic import model as semantic_model
from kb.semantic.vectors import SEARCHED, dequantize, read_vectors

NO_VECTORS = "this index has no vectors yet (`kb build` makes them)"

# A document at least this close in meaning to the reader's text counts among a list's
# total in hybrid and meaning searches (the words ranking counts every document it matched).
CLOSE = 0.35


class Meaning:
    """The vectors of one index generation, ready to rank by cosine (see kb.semantic)."""

    def __init__(self, data: dict, doc_count: int, folder: Path) -> None:
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


def load(gen: Path, manifest: dict, doc_count: int) -> tuple[Meaning | None, str]:
    """Return a generation's vectors ready to rank with, or None and why they cannot be used."""
    data = read_vectors(gen, SEARCHED)
    if data is None or not len(data["docnums"]):
        return None, NO_VECTORS
    folder = vector_build.folder_for(manifest.get("site", {}), manifest.get("corpus"))
    try:
        key = semantic_model.model_key(folder)
    except ModelError as exc:
        return None, str(exc)
    if key != str(data["model"]):
        return None, (
            f"the index's vectors were made by {data['model']}, the site's model is "
            f"{key} (`kb build` makes them anew)"
        )
    if int(data["docnums"].max()) >= doc_count:
        return None, "the index's vectors do not fit it (`kb build --full` makes them anew)"
    return Meaning(data, doc_count, folder), ""
