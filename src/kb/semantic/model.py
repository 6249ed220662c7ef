"""The sentence-embedding model: text in, one unit-length vector per text out.

kb runs an ONNX export of a sentence-transformers model with onnxruntime and the
``tokenizers`` library: no torch, no model hub, nothing downloaded at run time. The model
folder holds ``model.onnx`` (its graph ends in mean pooling and L2 normalisation, so its
output is the sentence vector), ``tokenizer.json`` and ``kb-model.json`` (name,
dimensions, token limit). kb ships all-MiniLM-L6-v2 this way, quantised to int8
(``models/``; ``python -m kb.semantic.export`` makes such a folder from another model).

A site names another model in ``site.yaml`` as ``embedding_model:`` (a folder, relative to
the corpus or absolute). Every vector is recorded with the model's :attr:`Embedder.key`
(its name and a digest of its weights), and vectors of two keys are never mixed.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from kb.errors import ModelError

BUNDLED = Path(__file__).resolve().parent / "models" / "all-MiniLM-L6-v2"
# One text per call: the int8 model quantises its activations over the whole batch, so a
# text's vector would depend on the texts beside it (cosine 0.98 between batch sizes 1 and
# 32); alone, it is the same in every build, and no slower per CPU-second (no padding).
BATCH = 1
# What a text is cut to before tokenising: a bound on the tokenizer's work for huge
# comments (the model reads at most max_tokens word pieces anyway, about 200 words).
MAX_CHARS = 4000


class Embedder:
    """An ONNX sentence-embedding model; :meth:`embed` is safe to call from several threads."""

    def __init__(self, folder: Path = BUNDLED, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        try:
            meta = json.loads((folder / "kb-model.json").read_text("utf-8"))
            self.name = str(meta["name"])
            self.dimensions = int(meta["dimensions"])
            self.max_tokens = int(meta.get("max_tokens", 256))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(
                f"{folder}: not an embedding model folder (kb-model.json: {exc.__class__.__name__})"
            ) from None
        weights = folder / "model.onnx"
        try:
            self.key = f"{self.name}-{_file_digest(weights)}"
            self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads or max(1, min(4, os.cpu_count() or 1))
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(weights), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ModelError(
                f"{folder}: cannot load the embedding model: {str(exc).splitlines()[0][:200]}"
            ) from None
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        self._tokenizer.no_padding()  # batches are padded here, to their longest text
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.folder = folder

    def embed(self, texts: list[str], batch: int = BATCH) -> np.ndarray:
        """Return an (n, dimensions) float32 array of unit vectors, one per text."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        cut = [(t or " ")[:MAX_CHARS] for t in texts]
        # texts of similar length share a batch: less padding, less work
        order = sorted(range(len(cut)), key=lambda i: len(cut[i]))
        for start in range(0, len(order), batch):
            rows = order[start : start + batch]
            out[rows] = self._run([cut[i] for i in rows])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encs = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        (vectors,) = self._session.run(["embedding"], feeds)
        return vectors


_DIGESTS: dict[tuple, str] = {}


def _file_digest(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()[:12]
    return _DIGESTS[key]


def model_key(folder: Path) -> str:
    """Return the key vectors of the model in ``folder`` are recorded with, without loading it."""
    folder = Path(folder)
    try:
        name = json.loads((folder / "kb-model.json").read_text("utf-8"))["name"]
        return f"{name}-{_file_digest(folder / 'model.onnx')}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{folder}: not an embedding model folder ({exc.__class__.__name__})"
        ) from None


_LOADED: dict[str, Embedder] = {}
_LOADING = threading.Lock()


def model_folder(spec: str = "", corpus_dir: Path | None = None) -> Path:
    """Return the folder a site's ``embedding_model`` names (the bundled model by default)."""
    if not spec:
        return BUNDLED
    folder = Path(spec).expanduser()
    if not folder.is_absolute() and corpus_dir is not None:
        folder = Path(corpus_dir) / folder
    return folder


def load(folder: Path = BUNDLED) -> Embedder:
    """Return the model in ``folder``, loaded once per process."""
    key = str(Path(folder).resolve())
    with _LOADING:
        if key not in _LOADED:
            _LOADED[key] = Embedder(Path(folder))
        return _LOADED[key]
