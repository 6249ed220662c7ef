"""Writing a large index with one forked process per core, each writing one segment.

A full build of a large corpus splits the articles into as many consecutive runs
as there are cores; each worker reads its run's files and writes one segment
(``kb.engine.segments``), and the parent names all the segments in the index's
table of contents, so the documents keep the order one writer would give them.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterable
from multiprocessing.connection import Connection, wait
from typing import cast

from whoosh.index import Index
from whoosh.writing import SegmentWriter

from kb.engine.segments import writer
from kb.errors import KbError

PARALLEL_MIN_BYTES = 1_500_000  # of comments: below this one process is faster than several

Docs = Callable[[str], Iterable[dict]]
Progress = Callable[[str], None]
Digest = Callable[[dict], str]
Words = Callable[[list[str]], set[str]]


def add_articles(
    w: SegmentWriter,
    articles: Iterable[str],
    docs: Docs,
    progress: Progress | None,
    digest: Digest,
    words: Words,
) -> tuple[set[str], dict[str, dict[str, str]]]:
    """Add the documents of each article to a writer; return ``words`` of their bodies and
    each article's document digests."""
    texts = []
    digests: dict[str, dict[str, str]] = {}
    for slug in articles:
        mine = digests[slug] = {}
        for doc in docs(slug):
            w.add_document(**doc)
            texts.append(doc["body"])
            mine[doc["id"]] = digest(doc)
        if progress:
            progress(slug)
    return words(texts), digests


def split_runs(articles: list[str], sizes: dict[str, int], runs: int) -> list[list[str]]:
    """Split articles (slugs), in order, into ``runs`` consecutive runs of about equal size."""
    total = sum(sizes.get(u, 1) for u in articles) or 1
    out: list[list[str]] = [[] for _ in range(runs)]
    done = 0
    for u in articles:
        k = min(runs - 1, int(done * runs / total))
        out[k].append(u)
        done += sizes.get(u, 1)
    return [r for r in out if r]


Prepare = Callable[[list[str]], tuple[Docs | None, dict]]


def _child(
    ix: Index,
    articles: list[str],
    prepare: Prepare,
    digest: Digest,
    words_of: Words,
    conn: Connection,
) -> None:
    try:
        docs, info = prepare(articles)
        if docs is None:  # the run's files have problems: nothing to write
            conn.send(("done", {"segment": None, "words": set(), "digests": {}, "info": info}))
            return
        w = writer(ix, lock=False)
        words, digests = add_articles(
            w, articles, docs, lambda slug: conn.send(("article", slug)), digest, words_of
        )
        segment = w._finalize_segment()
        conn.send(("done", {"segment": segment, "words": words, "digests": digests, "info": info}))
    except BaseException:  # the parent reports it; a child must not unwind into its caller
        conn.send(("error", traceback.format_exc(limit=4)))
    finally:
        conn.close()


def write_parallel(
    ix: Index,
    runs: list[list[str]],
    prepare: Prepare,
    progress: Progress | None,
    digest: Digest,
    words: Words,
) -> list[dict]:
    """Write each run of articles as a segment in its own forked process.

    In the child, ``prepare(articles)`` reads what the run needs and returns the function
    that yields an article's documents (or None when there is nothing to write) and any
    information for the parent. Return, for each run in order, its ``segment`` (or
    None), ``words`` of its bodies, document ``digests`` by article and that ``info``.
    """
    ctx = multiprocessing.get_context("fork")
    workers = []
    try:
        for articles in runs:
            parent_end, child_end = ctx.Pipe(duplex=False)
            p = ctx.Process(
                target=_child, args=(ix, articles, prepare, digest, words, child_end), daemon=True
            )
            p.start()
            child_end.close()
            workers.append((p, parent_end))
        results: dict[int, dict] = {}
        open_ends = {conn: k for k, (_, conn) in enumerate(workers)}
        while open_ends:
            for conn in cast(list[Connection], wait(list(open_ends))):
                try:
                    kind, payload = conn.recv()
                except EOFError:
                    k = open_ends.pop(conn)
                    if k not in results:
                        raise KbError(
                            "an index writer process stopped unexpectedly; "
                            "run `kb build --full` again"
                        ) from None
                    continue
                if kind == "article":
                    if progress:
                        progress(payload)
                elif kind == "error":
                    raise KbError(f"writing the index failed in a worker process:\n{payload}")
                else:
                    results[open_ends[conn]] = payload
        for p, _ in workers:
            p.join()
    finally:
        for p, conn in workers:
            conn.close()
            if p.is_alive():
                p.kill()
                p.join()
    return [results[k] for k in range(len(workers))]


def processes() -> int:
    """Return how many worker processes a large build should use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
