"""Importers: WordPress exports, saved pages, PDF comment archives and tables into the corpus.

Each reader (:mod:`~kb.importers.wxr`, :mod:`~kb.importers.html`, :mod:`~kb.importers.pdf`,
:mod:`~kb.importers.table`) turns files into a batch; :mod:`~kb.importers.merge` matches
the batch against the corpus; :mod:`kb.corpus.write` writes the result; :func:`import_files` in
:mod:`~kb.importers.run` does all three.
"""
