"""The index: documents and schema, generations and their swap, builds, ledger, spelling.

An index folder holds generations ``gen-NNNNNN/``, each a complete Whoosh index
with a ``manifest.json`` that records what it was built from, and a symlink
``current`` naming the live one. A build prepares a new generation aside (an
incremental one starts from hard links to the current generation's files,
which Whoosh never rewrites) and then swaps ``current`` with one rename, so a
reader sees the old index or the new one and an interrupted build leaves the
old one in place. One build at a time: builds take an exclusive lock on
``build.lock``, which the operating system frees if the process dies.

Beside the Whoosh files a generation keeps a ledger of what each article put in
it (``kb.index.ledger``: an update reads only the changed files and rewrites only the
changed documents) and the words for spelling suggestions. Large full builds
are written by one process per core (``kb.engine.parallel``).

- ``documents``: the schema, and the documents of one article (sections, then comments);
- ``generations``: the generations, the build lock, the swap and the clean-up;
- ``build``: full and incremental builds (``build_index``);
- ``ledger`` and ``spelling``: what a generation keeps beside its Whoosh files;
- ``handle``: the live index held open for requests, and its reads (``StoredDoc``);
- ``purge``: a redaction's purge (the corpus side is ``kb.corpus.redact``).
"""
