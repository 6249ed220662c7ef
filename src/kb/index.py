"""The Whoosh index: schema, full and incremental builds, and the atomic swap.

An index folder holds generations ``gen-NNNNNN/``, each a complete Whoosh index
with a ``manifest.json`` that records what it was built from, and a symlink
``current`` naming the live one. A build prepares a new generation aside (an
incremental one starts from hard links to the current generation's files,
which Whoosh never rewrites) and then swaps ``current`` with one rename, so a
reader sees the old index or the new one and an interrupted build leaves the
old one in place. One build at a time: builds take an exclusive lock on
``build.lock``, which the operating system frees if the process dies.

Beside the Whoosh files a generation keeps a ledger of what each article put in
it (``kb.ledger``: an update reads only the changed files and rewrites only the
changed documents) and the words for spelling suggestions. Large full builds
are written by one process per core (``kb.segments``).
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.writing import OPTIMIZE

from kb import segments
from kb.analysis import CountingFrequency, analyzer
from kb.corpus import read_corpus
from kb.errors import BusyError, CorpusError, IndexMissingError, IndexWriteError, KbError
from kb.fsutil import fsync_dir, write_atomic
from kb.ledger import LEDGER, doc_digest, known_comments, read_ledger, write_ledger
from kb.model import KIND_SECTION, Article, Comment, Corpus
from kb.semantic.vectors import VECTORS

SCHEMA_VERSION = 11
CURRENT = "current"
MANIFEST = "manifest.json"
LOCK = "build.lock"
MAX_LATER_REPLIES = 50  # later replies of the author listed for a comment, past its direct ones
RETIRE_GRACE = 30.0  # seconds a replaced generation stays for the requests that opened it

Progress = Callable[[int, int, str], None]


def _text(**kwargs) -> TEXT:
    """A text field analysed by kb's analyzer, without positions, its terms counted fast."""
    f = TEXT(analyzer=analyzer(), phrase=False, **kwargs)
    f.format = CountingFrequency(field_boost=f.format.field_boost)
    return f


def _single_term(field: NUMERIC) -> NUMERIC:
    """Index a number as one term: date ranges still work, each document costs one posting."""
    field.shift_step = 0
    return field


def make_schema() -> Schema:
    """Return the schema: one document per article section and per comment."""
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),  # a column: ids by document number
        kind=ID(stored=True),
        article=ID(stored=True),
        article_title=STORED,
        section=ID(stored=True),
        heading=_text(stored=True, field_boost=1.5),
        author=ID(stored=True),
        is_reply=BOOLEAN(stored=True),
        answered=BOOLEAN(stored=True),
        redacted=BOOLEAN(stored=True),
        thread=ID(stored=True),
        parent=ID(stored=True),
        depth=STORED,
        # one term per value, not Whoosh's ladder of eight for fast ranges: these are
        # sorted on, never searched by range
        position=NUMERIC(stored=True, sortable=True, shift_step=0),
        thread_size=NUMERIC(stored=True, sortable=True, shift_step=0),
        date=_single_term(DATETIME(stored=True, sortable=True)),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        rule_tags=KEYWORD(stored=True, commas=True, lowercase=True),
        removed_tags=STORED,
        # no positions (nothing searches phrases) and no spelling field: spelling
        # suggestions come from a word list beside the index (see kb.segments)
        body=_text(stored=True),
        # what surrounds a document: the story a reply answers, the reply a story got, the
        # article a section belongs to; it helps a reader's words find both halves
        context=_text(),
        replies=STORED,
    )


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
    units = {}
    for md in sorted((root / "articles").glob("*.md")):
        units[md.stem] = _digest(
            md.read_bytes(), _read_bytes(root / "comments" / f"{md.stem}.yaml")
        )
    return glob, units


def thread_docs(
    corpus: Corpus, slug: str, rule_tagger=None, comments: list[Comment] | None = None
) -> Iterator[dict]:
    """Yield the index documents of one article: its sections, then its comments.

    ``comments`` are the article's comments, when the caller has them at hand already.
    """
    article = corpus.articles[slug]
    yield from _section_docs(corpus, article)
    if comments is None:
        comments = corpus.comments_of(slug)
    children: dict[str, list[Comment]] = {}
    by_thread: dict[str, list[Comment]] = {}
    for c in comments:
        if c.parent:
            children.setdefault(c.parent, []).append(c)
        by_thread.setdefault(corpus.thread_root(c.id), []).append(c)
    # the author's replies of each thread by date, so a comment's later replies are a slice
    # (a chain thousands deep stays linear: no walk over the whole thread per comment)
    answers: dict[str, tuple[list | None, list[Comment]]] = {}
    for root, thread in by_thread.items():
        mine = [r for r in thread if r.is_author]
        dates = [r.date for r in mine]
        ordered = all(x <= y for x, y in zip(dates, dates[1:], strict=False))
        answers[root] = (dates if ordered else None, mine)
    depths: dict[str, int] = {}
    for position, c in enumerate(comments):
        root = corpus.thread_root(c.id)
        thread = by_thread[root]
        direct = [r.id for r in children.get(c.id, []) if r.is_author]
        replies = []
        if not c.is_author:
            dates, mine = answers[root]
            start = bisect.bisect_left(dates, c.date) if dates is not None else 0
            later = []
            for r in mine[start:]:
                if len(later) >= MAX_LATER_REPLIES:
                    break
                if r.date >= c.date and r.id not in direct and r.id != c.id:
                    later.append(r.id)
            replies = direct + later
        depth = _depth(corpus, c, depths)
        if c.is_author:
            parent = corpus.comments.get(c.parent) if c.parent else None
            context = parent.body if parent else ""
        else:
            context = "\n".join(corpus.comments[r].body for r in direct)
        yield {
            "id": c.id,
            "kind": c.kind,
            "article": slug,
            "article_title": article.title,
            "section": "",
            "heading": "",
            "author": c.author,
            "is_reply": c.is_author,
            "answered": bool(replies),
            "redacted": c.redacted,
            "thread": root,
            "parent": c.parent or "",
            "depth": depth,
            "position": position,
            "thread_size": len(thread),
            "date": c.date,
            "tags": ",".join(c.tags),
            "rule_tags": ",".join(rule_tagger(c) if rule_tagger else ()),
            "removed_tags": list(c.removed_tags),
            "body": c.body,
            "context": context,
            "replies": replies,
        }


def _depth(corpus: Corpus, c: Comment, depths: dict[str, int]) -> int:
    """Return how deep a comment sits in its thread (at most 64), remembering each answer.

    One walk up to the nearest comment whose depth is known, so a whole thread costs
    time linear in its size however deep its chains are.
    """
    chain: dict[str, None] = {}
    p: str | None = c.id
    while p and p in corpus.comments and p not in depths and p not in chain:
        chain[p] = None
        p = corpus.comments[p].parent
    base = depths.get(p, -1) if p else -1
    for cid in reversed(chain):
        base = min(base + 1, 64)
        depths[cid] = base
    return depths.get(c.id, 0)


def _section_docs(corpus: Corpus, article: Article) -> Iterator[dict]:
    date = dt.datetime(article.date.year, article.date.month, article.date.day)
    for s in article.sections:
        yield {
            "id": s.id,
            "kind": KIND_SECTION,
            "article": article.slug,
            "article_title": article.title,
            "section": s.anchor,
            "heading": s.heading,
            "author": corpus.site.author,
            "is_reply": False,
            "answered": False,
            "redacted": False,
            "thread": "",
            "parent": "",
            "depth": 0,
            "position": s.position,
            "thread_size": 0,
            "date": date,
            "tags": ",".join(article.tags),
            "rule_tags": "",
            "removed_tags": [],
            "body": s.body,
            "context": f"{article.title}\n{article.summary}",
            "replies": [],
        }


def current_generation(index_dir: Path) -> Path | None:
    """Return the folder of the live generation, or None if no index was built."""
    link = Path(index_dir) / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    gen = Path(index_dir) / target
    return gen if (gen / MANIFEST).exists() else None


def read_manifest(gen: Path) -> dict:
    """Return the manifest of one generation."""
    return json.loads((gen / MANIFEST).read_text("utf-8"))


_HELD: set[int] = set()  # descriptors of the build locks this process holds


def _drop_locks_in_child() -> None:
    """In a forked process, close the build locks' descriptors it inherited.

    flock belongs to the open file, which a fork shares: the lock is freed only when
    every descriptor on it is closed. Forked segment writers (see kb.segments) never
    need the lock, and if the builder were killed they would otherwise keep the index
    locked for as long as they live.
    """
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_locks_in_child)


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the index folder's build lock, waiting up to ``wait`` seconds for it."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexWriteError(
            f"{index_dir}: cannot write to the index folder "
            f"({exc.strerror or exc}); nothing was built"
        ) from None
    _HELD.add(fd)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"{index_dir}: another build is running; try again when it ends"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        _HELD.discard(fd)
        os.close(fd)


def _next_generation(index_dir: Path) -> Path:
    numbers = [int(p.name[4:]) for p in index_dir.glob("gen-*") if p.name[4:].isdigit()]
    return index_dir / f"gen-{max(numbers, default=0) + 1:06d}"


def _link_copy(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.name in (MANIFEST, VECTORS) or f.name.endswith(".lock") or not f.is_file():
            continue
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def _swap(index_dir: Path, gen: Path) -> None:
    tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(gen.name, tmp)
    os.replace(tmp, index_dir / CURRENT)
    fsync_dir(index_dir)


def _prune(index_dir: Path, keep: set[str], grace: float = RETIRE_GRACE) -> None:
    """Remove generations other than ``keep`` once no request can still be reading them.

    Whoosh opens a generation's files lazily (stored fields and columns on first use), so
    a request that opened a generation just before two swaps fails, or reads zeros, if its
    files go away under it. A generation that was live is removed only when the one that
    replaced it has been live for ``grace`` seconds; one without a manifest never was.
    """
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    live = {p.name: _built_at(p) for p in gens}
    now = time.time()
    for i, p in enumerate(gens):
        if p.name in keep:
            continue
        if grace > 0 and live[p.name] is not None:
            after = [live[q.name] for q in gens[i + 1 :] if live[q.name] is not None]
            if after and now - after[0] < grace:
                continue  # replaced moments ago: a request may still hold it
        shutil.rmtree(p, ignore_errors=True)


def _built_at(gen: Path) -> float | None:
    """Return when a generation was completed (its manifest written), None if it never was."""
    try:
        return (gen / MANIFEST).stat().st_mtime
    except OSError:
        return None


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
    from kb.tagging import RuleTagger  # tagging depends on analysis only

    start = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    if not corpus_dir.is_dir():
        read_corpus(corpus_dir)  # raises the one-line error for a missing folder
    glob, units = fingerprints(corpus_dir)
    redacted = sorted(_redacted_ids(corpus_dir))
    with build_lock(index_dir, wait=lock_wait):
        old_gen = current_generation(index_dir)
        old = read_manifest(old_gen) if old_gen else None
        # read below, once the build is known to have work to do (100,000 comments: 60 ms)
        has_ledger = old_gen is not None and (old_gen / LEDGER).is_file()
        report = BuildReport(full=False)
        if old is not None and not set(redacted) <= set(old.get("purged", ())):
            purge = True  # a redaction this index has not purged (its purge did not run)
            report.reason = "purging redacted comments"
        if old is None:
            report.full, report.reason = True, "no index yet"
        elif old.get("global") != glob or not has_ledger:
            report.full, report.reason = True, "site, tags or index format changed"
        elif full:
            report.full, report.reason = True, "full rebuild asked for"
        if report.full:
            todo = sorted(units)
            report.added = todo
        else:
            before = old["units"]
            report.added = sorted(u for u in units if u not in before)
            report.changed = sorted(u for u in units if u in before and before[u] != units[u])
            report.removed = sorted(u for u in before if u not in units)
            todo = report.added + report.changed
        if report.up_to_date and not purge:
            # unchanged since a build read every file and found no problem
            report.documents = old.get("documents", 0)
            report.articles = len(old.get("articles", []))
            report.comments = sum(a["comments"] for a in old.get("articles", []))
            report.seconds = time.perf_counter() - start
            return report
        old_ledger = read_ledger(old_gen) if old_gen else None
        if old_ledger is None and not report.full:  # there, but unreadable
            report.full, report.reason = True, "site, tags or index format changed"
            todo = report.added = sorted(units)
            report.changed, report.removed = [], []
        runs = None if purge or not report.full else _parallel_runs(corpus_dir, todo)
        if runs:  # the worker processes read the comments, a run of files each
            corpus, problems = read_corpus(corpus_dir, only=())
        elif report.full or purge:
            corpus, problems = read_corpus(corpus_dir)
        else:  # only the changed files; the ledger stands in for the others
            corpus, problems = read_corpus(
                corpus_dir,
                only=set(todo),
                known=known_comments(old_ledger, set(todo) | set(report.removed)),
            )
        if problems:
            raise CorpusError(problems)
        report.articles = len(corpus.articles)
        tagger = RuleTagger(corpus.tags.values())
        gen = _next_generation(index_dir)
        try:
            if report.full:
                gen.mkdir(parents=True)
                ix = whoosh_index.create_in(str(gen), make_schema())
            else:
                _link_copy(old_gen, gen)
                ix = whoosh_index.open_dir(str(gen))
            words, ledger = _write_units(
                ix,
                corpus,
                todo,
                report,
                old_ledger,
                tagger,
                progress,
                optimize=purge,
                runs=runs,
                corpus_dir=corpus_dir,
            )
            write_ledger(gen, ledger)
            counts = {slug: len(ledger[slug]["comments"]) for slug in corpus.articles}
            report.comments = sum(counts.values())
            if purge:  # nothing of a purged comment may stay behind, not even its words
                words = segments.spelling_words(
                    [s.body for a in corpus.articles.values() for s in a.sections]
                    + [c.body for c in corpus.comments.values()]
                )
            elif not report.full:
                words |= set(segments.read_words(old_gen) or ())
            segments.write_words(gen, words)
            with ix.searcher() as s:
                report.documents = s.doc_count()
            ix.close()
            report.vectors = _attach_vectors(
                gen, index_dir, corpus, corpus_dir, old_gen, purge, progress
            )
            manifest = {
                "format": SCHEMA_VERSION,
                "global": glob,
                "units": units,
                "built": dt.datetime.now().isoformat(timespec="seconds"),
                "documents": report.documents,
                "corpus": str(corpus_dir.resolve()),
                "purged": redacted if (purge or report.full) else old.get("purged", []),
                "site": {
                    "title": corpus.site.title,
                    "author": corpus.site.author,
                    "tagline": corpus.site.tagline,
                    "suggest_threshold": corpus.site.suggest_threshold,
                    "record_weak_searches": corpus.site.record_weak_searches,
                    "base_url": corpus.site.base_url,
                    "embedding_model": corpus.site.embedding_model,
                },
                "tags": [
                    {"id": t.id, "label": t.label, "description": t.description}
                    for t in corpus.tags.values()
                ],
                "articles": _article_list(corpus, counts),
            }
            write_atomic(gen / MANIFEST, json.dumps(manifest, indent=1))
            fsync_dir(gen)
        except BaseException:
            shutil.rmtree(gen, ignore_errors=True)
            raise
        _swap(index_dir, gen)
        _prune(
            index_dir,
            {gen.name} | ({old_gen.name} if old_gen and not purge else set()),
            grace=0 if purge else RETIRE_GRACE,
        )
    report.seconds = time.perf_counter() - start
    return report


def _attach_vectors(
    gen: Path,
    index_dir: Path,
    corpus: Corpus,
    corpus_dir: Path,
    old_gen: Path | None,
    purge: bool,
    progress,
) -> dict:
    """Give the new generation the vectors it can have before its swap (see kb.semantic.build).

    A model that cannot be loaded leaves the words index to be built and says why.
    """
    from kb.semantic import build as vector_build
    from kb.semantic.model import ModelError

    folder = vector_build.folder_for({"embedding_model": corpus.site.embedding_model}, corpus_dir)
    try:
        vectors = vector_build.attach(
            gen, index_dir, folder, old_gen=old_gen, progress=progress, purge=purge
        )
    except ModelError as exc:
        return {"error": str(exc)}
    return vectors.as_dict()


def _redacted_ids(corpus_dir: Path) -> set[str]:
    from kb.redact import redacted_ids  # redaction depends on the index, not the other way

    return redacted_ids(corpus_dir)


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


def _write_units(
    ix,
    corpus: Corpus,
    todo: list[str],
    report: BuildReport,
    old_ledger,
    tagger,
    progress,
    optimize: bool = False,
    runs: list[list[str]] | None = None,
    corpus_dir: Path | None = None,
) -> tuple[set[str], dict]:
    """Write what a build has to: every article, or the documents that changed.

    With ``runs``, worker processes read and write a run of articles each (see
    ``_write_runs``); ``corpus`` then holds the articles but no comments.
    """
    if runs:
        return _write_runs(ix, corpus_dir, runs, tagger, progress)
    if report.full:
        return _write_all(ix, corpus, todo, tagger, progress)
    return _write_changes(ix, corpus, todo, report, old_ledger, tagger, progress, optimize)


def _parallel_runs(corpus_dir: Path, todo: list[str]) -> list[list[str]] | None:
    """Split a full build into runs of articles for worker processes, if it is worth it."""
    procs = segments.processes()
    sizes = {}
    for slug in todo:
        path = corpus_dir / "comments" / f"{slug}.yaml"
        sizes[slug] = path.stat().st_size if path.exists() else 0
    if procs < 2 or sum(sizes.values()) < segments.PARALLEL_MIN_BYTES:
        return None
    return segments.split_runs(todo, sizes, procs)


def _write_runs(
    ix, corpus_dir: Path, runs: list[list[str]], tagger, progress
) -> tuple[set[str], dict]:
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
        if progress:
            progress(done, total, slug)

    def prepare(units: list[str]):
        part, problems = read_corpus(corpus_dir, only=set(units))
        if problems:
            return None, {"problems": len(problems)}
        by_article = _by_article(part, units)

        def docs(slug: str) -> Iterator[dict]:
            return thread_docs(part, slug, tagger.tags_for, by_article[slug])

        return docs, {"lines": {slug: _lines(by_article[slug]) for slug in units}}

    writer = segments.writer(ix)
    try:
        results = segments.write_parallel(ix, runs, prepare, step, doc_digest)
        seen: set[str] = set()
        clash = False
        for r in results:
            ids = {cid for lines in r["info"].get("lines", {}).values() for cid in lines}
            clash = clash or r["segment"] is None or bool(seen & ids)
            seen |= ids
        if clash:
            _, problems = read_corpus(corpus_dir)
            raise CorpusError(problems or [f"{corpus_dir}: a comment id is used twice"])
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


def _by_article(corpus: Corpus, slugs) -> dict[str, list[Comment]]:
    out: dict[str, list[Comment]] = {slug: [] for slug in slugs}
    for c in corpus.comments.values():
        if c.article in out:
            out[c.article].append(c)
    return out


def _lines(comments: list[Comment]) -> dict[str, int]:
    return {c.id: c.line for c in comments}


def _write_all(ix, corpus: Corpus, todo: list[str], tagger, progress) -> tuple[set[str], dict]:
    """Write every article into a new index in this process; return the words and the ledger."""
    by_article = _by_article(corpus, todo)
    done = 0

    def step(slug: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, len(todo), slug)

    def docs(slug: str) -> Iterator[dict]:
        return thread_docs(corpus, slug, tagger.tags_for, by_article[slug])

    writer = segments.writer(ix)
    try:
        words, digests = segments.add_units(writer, todo, docs, step, doc_digest)
        writer.commit(mergetype=segments.merge_small)
    except BaseException:
        writer.cancel()
        raise
    ledger = {slug: {"docs": digests[slug], "comments": _lines(by_article[slug])} for slug in todo}
    return words, ledger


def _write_changes(
    ix,
    corpus: Corpus,
    todo: list[str],
    report: BuildReport,
    old_ledger: dict,
    tagger,
    progress,
    optimize: bool = False,
) -> tuple[set[str], dict]:
    """Rewrite the documents that changed in ``todo``; return their spelling words, the ledger.

    Each changed article's documents are compared with the ledger: only new and changed
    documents are written, and those gone are deleted. ``optimize`` then rewrites every
    segment into one (nothing deleted stays in the files).
    """
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
            if progress:
                progress(n, len(todo), slug)
        writer.commit(mergetype=OPTIMIZE if optimize else segments.merge_small)
    except BaseException:
        writer.cancel()
        raise
    return segments.spelling_words(texts), ledger


def open_index(index_dir: Path):
    """Open the live generation of an index; raise if none was built."""
    gen = current_generation(Path(index_dir))
    if gen is None:
        raise IndexMissingError(f"{index_dir}: no index yet; run `kb build` first")
    try:
        return whoosh_index.open_dir(str(gen))
    except Exception as exc:  # whoosh raises several unrelated types for a damaged index
        raise KbError(f"{gen}: the index cannot be opened ({exc}); run `kb build --full`") from exc
