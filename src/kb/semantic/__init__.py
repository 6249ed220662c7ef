"""Meaning beside words: a sentence-embedding model, the vectors it gives each document, and
the step of a build that makes them.

- :mod:`kb.semantic.model`: the ONNX model and its tokenizer (no torch, nothing downloaded);
- :mod:`kb.semantic.vectors`: the embedding cache and a generation's vector file;
- :mod:`kb.semantic.meaning`: a generation's vectors loaded for ranking by cosine;
- :mod:`kb.semantic.build`: the vector step after the words, incremental and resumable;
- :mod:`kb.semantic.export`: making a model folder from a sentence-transformers model.

Search fuses the two rankings (:mod:`kb.search`); the questions review groups by these
vectors (:mod:`kb.questions`).
"""
