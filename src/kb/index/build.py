"""Full and incremental builds: a new generation prepared aside, then swapped in.

A full build writes every article (large ones with one process per core, see
``kb.engine.parallel``); an incremental build starts from hard links to the live
generation's files, reads only the changed articles' files (the ledger stands in for
the others) and rewrites only their documents. The vectors are given to the new
generation before its swap (``kb.semantic.build``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import OPTIMIZE

from kb.corpus.read import read_corpus
from kb.corpus.redact import redacted_ids
from kb.engine import parallel, segments
from kb.errors import CorpusError
from kb.fsutil import fsync_dir, write_atomic
from kb.index import spelling
from kb.index.documents import SCHEMA_VERSION, make_schema, thread_docs
from kb.index.generations import (
    MANIFEST,
    RETIRE_GRACE,
    build_lock,
    current_generation,
    link_copy,
    next_generation,
    prune,
    read_manifest,
    swap,
)
from kb.index.ledger import LEDGER, doc_digest, known_comments, read_ledger, write_ledger
from kb.model import KIND_SECTION, Comment, Corpus

Progress = Callable[[int, int, str], None]


@dataclass
class BuildReport:
    """What a build did: which articles' files were added, changed or removed."""

    full: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    documents: int = 0
    articles: int = 0
    comments: int = 0
    seconds: float = 0.0
    reason: str = ""
    vectors: dict | None = None  # what the vector step did before the swap (kb.semantic)

    @property
    def up_to_date(self) -> bool:
        """True when nothing had to be re-indexed."""
        return not (self.full or self.added or self.changed or self.removed)

    def as_dict(self) -> dict:
        """Return the report as plain data for JSON."""
        return {
            "full": self.full,
            "reason": self.reason,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "documents": self.documents,
            "articles": self.articles,
            "comments": self.comments,
            "seconds": round(self.seconds, 3),
            "up_to_date": self.up_to_date,
            "vectors": self.vectors,
        }


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""


def fingerprints(root: Path) -> tuple[str, dict[str, str]]:
    """Return the corpus-wide digest (site, taxonomy, schema) and one digest per article."""
    root = Path(root)
    # a comments file without its article is a problem to report, so it forces a full read
    articles = {p.stem for p in (root / "articles").glob("*.md")}
    orphans = sorted(p.name for p in (root / "comments").glob("*.yaml") if p.stem not in articles)
    glob = _digest(
        str(SCHEMA_VERSION).encode(),
        _read_bytes(root / "site.yaml"),
        _read_bytes(root / "tags.yaml"),
        "\n".join(orphans).encode(),
    )
    digests = {}
    for md in sorted((root / "articles").glob("*.md")):
        digests[md.stem] = _digest(
            md.read_bytes(), _read_bytes(root / "comments" / f"{md.stem}.yaml")
        )
    return glob, digests


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    *,
    full: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 30.0,
    purge: bool = False,
) -> BuildReport:
    """Build the index of a corpus, or bring it up to date; return what changed.

    With ``purge``, the new generation is rewritten whole (so deleted documents leave no
    trace in its files) and no earlier generation is kept.
    """
    start = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    if not corpus_dir.is_dir():
        read_corpus(corpus_dir)  # raises the one-line error for a missing folder
    glob, digests = fingerprints(corpus_dir)
    with build_lock(index_dir, wait=lock_wait):
        old_gen = current_generation(index_dir)
        b = _Build(
            corpus_dir,
            index_dir,
            glob,
            digests,
            sorted(redacted_ids(corpus_dir)),
            old_gen,
            read_manifest(old_gen) if old_gen else None,
            purge,
            progress,
        )
        b.plan(full)
        if b.report.up_to_date and not b.purge:
            b.unchanged()
        else:
            b.write()
    b.report.seconds = time.perf_counter() - start
    return b.report


@dataclass
class _Build:
    """One build, from the plan (what to write) to the swap of its new generation."""

    corpus_dir: Path
    index_dir: Path
    glob: str  # the corpus-wide digest (see fingerprints)
    digests: dict[str, str]  # each article's
    redacted: list[str]  # the ids recorded as redacted in the corpus
    old_gen: Path | None
    old: dict | None  # the live generation's manifest
    purge: bool
    progress: Progress | None
    report: BuildReport = field(default_factory=lambda: BuildReport(full=False))
    todo: list[str] = field(default_factory=list)  # the articles to (re)write

    def plan(self, full: bool) -> None:
        """Decide between a full and an incremental build, and which articles to write."""
        old, report = self.old, self.report
        # read later, once the build is known to have work to do (100,000 comments: 60 ms)
        has_ledger = self.old_gen is not None and (self.old_gen / LEDGER).is_file()
        if old is not None and not set(self.redacted) <= set(old.get("purged", ())):
            self.purge = True  # a redaction this index has not purged (its purge did not run)
            report.reason = "purging redacted comments"
        if old is None:
            report.full, report.reason = True, "no index yet"
        elif old.get("global") != self.glob or not has_ledger:
            report.full, report.reason = True, "site, tags or index format changed"
        elif full:
            report.full, report.reason = True, "full rebuild asked for"
        if report.full or old is None:
            self.todo = report.added = sorted(self.digests)
            return
        before, now = old["article_digests"], self.digests
        report.added = sorted(a for a in now if a not in before)
        report.changed = sorted(a for a in now if a in before and before[a] != now[a])
        report.removed = sorted(a for a in before if a not in now)
        self.todo = report.added + report.changed

    def unchanged(self) -> None:
        """Report the live generation: unchanged since a build read every file without a problem."""
        old = self.old or {}
        self.report.documents = old.get("documents", 0)
        self.report.articles = len(old.get("articles", []))
        self.report.comments = sum(a["comments"] for a in old.get("articles", []))

    def write(self) -> None:
        """Read what the plan needs, write a new generation aside, then swap it in."""
        from kb.tagging import RuleTagger  # tagging depends on analysis only

        report = self.report
        old_ledger = read_ledger(self.old_gen) if self.old_gen else None
        if old_ledger is None and not report.full:  # there, but unreadable
            report.full, report.reason = True, "site, tags or index format changed"
            self.todo = report.added = sorted(self.digests)
            report.changed, report.removed = [], []
        runs = None if self.purge or not report.full else _parallel_runs(self.corpus_dir, self.todo)
        corpus = self._read(runs, old_ledger)
        report.articles = len(corpus.articles)
        tagger = RuleTagger(corpus.tags.values())
        gen = next_generation(self.index_dir)
        try:
            if report.full:
                gen.mkdir(parents=True)
                ix = whoosh_index.create_in(str(gen), make_schema())
            else:
                assert self.old_gen is not None
                link_copy(self.old_gen, gen)
                ix = whoosh_index.open_dir(str(gen))
            words, ledger = self._write_articles(ix, corpus, tagger, old_ledger, runs)
            write_ledger(gen, ledger)
            counts = {slug: len(ledger[slug]["comments"]) for slug in corpus.articles}
            report.comments = sum(counts.values())
            if self.purge:  # nothing of a purged comment may stay behind, not even its words
                words = spelling.spelling_words(
                    [s.body for a in corpus.articles.values() for s in a.sections]
                    + [c.body for c in corpus.comments.values()]
                )
            elif not report.full and self.old_gen is not None:
                words |= set(spelling.read_words(self.old_gen) or ())
            spelling.write_words(gen, words)
            with ix.searcher() as s:
                report.documents = s.doc_count()
            ix.close()
            report.vectors = _attach_vectors(
                gen,
                self.index_dir,
                corpus,
                self.corpus_dir,
                self.old_gen,
                self.purge,
                self.progress,
            )
            write_atomic(gen / MANIFEST, json.dumps(self._manifest(corpus, counts), indent=1))
            fsync_dir(gen)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        swap(self.index_dir, gen)
        kept = {self.old_gen.name} if self.old_gen and not self.purge else set()
        prune(self.index_dir, {gen.name} | kept, grace=0 if self.purge else RETIRE_GRACE)

    def _read(self, runs: list[list[str]] | None, old_ledger: dict | None) -> Corpus:
        """Read the corpus files the build needs, refusing a corpus with problems."""
        if runs:  # the worker processes read the comments, a run of files each
            corpus, problems = read_corpus(self.corpus_dir, only=())
        elif self.report.full or self.purge or old_ledger is None:
            corpus, problems = read_corpus(self.corpus_dir)
        else:  # only the changed files; the ledger stands in for the others
            corpus, problems = read_corpus(
                self.corpus_dir,
                only=set(self.todo),
                known=known_comments(old_ledger, set(self.todo) | set(self.report.removed)),
            )
        if problems:
            raise CorpusError(problems)
        return corpus

    def _manifest(self, corpus: Corpus, counts: dict[str, int]) -> dict:
        """Return the new generation's manifest: what it was built from, and for whom."""
        site = corpus.site
        return {
            "format": SCHEMA_VERSION,
            "global": self.glob,
            "article_digests": self.digests,
            "built": dt.datetime.now().isoformat(timespec="seconds"),
            "documents": self.report.documents,
            "corpus": str(self.corpus_dir.resolve()),
            "purged": self.redacted
            if (self.purge or self.report.full)
            else (self.old or {}).get("purged", []),
            "site": {
                "title": site.title,
                "author": site.author,
                "tagline": site.tagline,
                "suggest_threshold": site.suggest_threshold,
                "record_weak_searches": site.record_weak_searches,
                "base_url": site.base_url,
                "embedding_model": site.embedding_model,
            },
            "tags": [
                {"id": t.id, "label": t.label, "description": t.description}
                for t in corpus.tags.values()
            ],
            "articles": _article_list(corpus, counts),
        }

    def _write_articles(
        self,
        ix: Any,
        corpus: Corpus,
        tagger: Any,
        old_ledger: dict | None,
        runs: list[list[str]] | None,
    ) -> tuple[set[str], dict]:
        """Write what the build has to: every article, or the documents that changed.

        With ``runs``, worker processes read and write a run of articles each (see
        ``_write_runs``); ``corpus`` then holds the articles but no comments.
        """
        if runs:
            return self._write_runs(ix, runs, tagger)
        if self.report.full or old_ledger is None:
            return self._write_all(ix, corpus, tagger)
        return self._write_changes(ix, corpus, tagger, old_ledger)

    def _write_runs(self, ix: Any, runs: list[list[str]], tagger: Any) -> tuple[set[str], dict]:
        """Have worker processes read and write a run of articles each; return words, ledger.

        Each worker reads its run's comments files and checks them; the parent then checks
        that no id is used in two runs. Any problem, and the corpus is read again in one
        process, so that every problem is reported as a plain build reports it.
        """
        total = sum(len(r) for r in runs)
        done = 0

        def step(slug: str) -> None:
            nonlocal done
            done += 1
            if self.progress:
                self.progress(done, total, slug)

        def prepare(slugs: list[str]) -> tuple[parallel.Docs | None, dict]:
            part, problems = read_corpus(self.corpus_dir, only=set(slugs))
            if problems:
                return None, {"problems": len(problems)}
            by_article = _by_article(part, slugs)

            def docs(slug: str) -> Iterator[dict]:
                return thread_docs(part, slug, tagger.tags_for, by_article[slug])

            return docs, {"lines": {slug: _lines(by_article[slug]) for slug in slugs}}

        writer = segments.writer(ix)
        try:
            results = parallel.write_parallel(
                ix, runs, prepare, step, doc_digest, spelling.spelling_words
            )
            seen: set[str] = set()
            clash = False
            for r in results:
                ids = {cid for lines in r["info"].get("lines", {}).values() for cid in lines}
                clash = clash or r["segment"] is None or bool(seen & ids)
                seen |= ids
            if clash:
                _, problems = read_corpus(self.corpus_dir)
                raise CorpusError(problems or [f"{self.corpus_dir}: a comment id is used twice"])
            segments.commit(writer, [r["segment"] for r in results])
        except BaseException:
            writer.cancel()
            raise
        words: set[str] = set()
        ledger = {}
        for r in results:
            words |= r["words"]
            for slug, lines in r["info"]["lines"].items():
                ledger[slug] = {"docs": r["digests"][slug], "comments": lines}
        return words, ledger

    def _write_all(self, ix: Any, corpus: Corpus, tagger: Any) -> tuple[set[str], dict]:
        """Write every article into a new index in this process; return the words and the ledger."""
        todo = self.todo
        by_article = _by_article(corpus, todo)
        done = 0

        def step(slug: str) -> None:
            nonlocal done
            done += 1
            if self.progress:
                self.progress(done, len(todo), slug)

        def docs(slug: str) -> Iterator[dict]:
            return thread_docs(corpus, slug, tagger.tags_for, by_article[slug])

        writer = segments.writer(ix)
        try:
            words, digests = parallel.add_articles(
                writer, todo, docs, step, doc_digest, spelling.spelling_words
            )
            writer.commit(mergetype=segments.merge_small)
        except BaseException:
            writer.cancel()
            raise
        ledger = {
            slug: {"docs": digests[slug], "comments": _lines(by_article[slug])} for slug in todo
        }
        return words, ledger

    def _write_changes(
        self, ix: Any, corpus: Corpus, tagger: Any, old_ledger: dict
    ) -> tuple[set[str], dict]:
        """Rewrite the documents that changed in ``todo``; return their spelling words, the ledger.

        Each changed article's documents are compared with the ledger: only new and changed
        documents are written, and those gone are deleted. A purge then rewrites every
        segment into one (nothing deleted stays in the files).
        """
        todo, report = self.todo, self.report
        by_article = _by_article(corpus, todo)
        ledger = {slug: e for slug, e in old_ledger.items() if slug not in report.removed}
        texts = []
        writer = segments.writer(ix)
        try:
            for slug in report.removed:
                writer.delete_by_term("article", slug)
            for n, slug in enumerate(todo, 1):
                before = old_ledger.get(slug, {}).get("docs", {})
                after = {}
                for doc in thread_docs(corpus, slug, None, by_article[slug]):
                    doc_id = doc["id"]
                    after[doc_id] = digest = doc_digest(doc)
                    if before.get(doc_id) == digest:
                        continue
                    if doc_id in before:
                        writer.delete_by_term("id", doc_id)
                    if doc["kind"] != KIND_SECTION:
                        doc["rule_tags"] = ",".join(tagger.tags_for(corpus.comments[doc_id]))
                    writer.add_document(**doc)
                    texts.append(doc["body"])
                for doc_id in before.keys() - after.keys():
                    writer.delete_by_term("id", doc_id)
                ledger[slug] = {"docs": after, "comments": _lines(by_article[slug])}
                if self.progress:
                    self.progress(n, len(todo), slug)
            writer.commit(mergetype=OPTIMIZE if self.purge else segments.merge_small)
        except BaseException:
            writer.cancel()
            raise
        return spelling.spelling_words(texts), ledger


def _attach_vectors(
    gen: Path,
    index_dir: Path,
    corpus: Corpus,
    corpus_dir: Path,
    old_gen: Path | None,
    purge: bool,
    progress: Progress | None,
) -> dict:
    """Give the new generation the vectors it can have before its swap (see kb.semantic.build).

    A model that cannot be loaded leaves the words index to be built and says why.
    """
    from kb.errors import ModelError
    from kb.semantic import build as vector_build

    folder = vector_build.folder_for({"embedding_model": corpus.site.embedding_model}, corpus_dir)
    try:
        vectors = vector_build.attach(
            gen, index_dir, folder, old_gen=old_gen, progress=progress, purge=purge
        )
    except ModelError as exc:
        return {"error": str(exc)}
    return vectors.as_dict()


def _article_list(corpus: Corpus, counts: dict[str, int]) -> list[dict]:
    articles = sorted(corpus.articles.values(), key=lambda a: (a.date, a.slug))
    return [
        {
            "slug": a.slug,
            "title": a.title,
            "date": a.date.isoformat(),
            "tags": list(a.tags),
            "summary": a.summary,
            "sections": len(a.sections),
            "comments": counts.get(a.slug, 0),
            "url": a.url,
        }
        for a in articles
    ]


def _parallel_runs(corpus_dir: Path, todo: list[str]) -> list[list[str]] | None:
    """Split a full build into runs of articles for worker processes, if it is worth it."""
    procs = parallel.processes()
    sizes = {}
    for slug in todo:
        path = corpus_dir / "comments" / f"{slug}.yaml"
        sizes[slug] = path.stat().st_size if path.exists() else 0
    if procs < 2 or sum(sizes.values()) < parallel.PARALLEL_MIN_BYTES:
        return None
    return parallel.split_runs(todo, sizes, procs)


def _by_article(corpus: Corpus, slugs: Iterable[str]) -> dict[str, list[Comment]]:
    out: dict[str, list[Comment]] = {slug: [] for slug in slugs}
    for c in corpus.comments.values():
        if c.article in out:
            out[c.article].append(c)
    return out


def _lines(comments: list[Comment]) -> dict[str, int]:
    return {c.id: c.line for c in comments}
