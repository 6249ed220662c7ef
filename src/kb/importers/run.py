"""One import, start to end: read the files, match them against the corpus, write or not."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path

from kb.corpus.lock import corpus_lock
from kb.corpus.read import SLUG_RULE, valid_slug
from kb.errors import ImportFormatError, UsageError, shown
from kb.importers.common import Batch, Progress
from kb.importers.merge import Report, plan_import

SOURCES = ("wxr", "html", "pdf", "csv")
SHOWN_SLUGS = 12


def read_batch(
    source: str,
    files: list[Path],
    *,
    article: str | None = None,
    include_pages: bool = False,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
    corpus: Path | None = None,
) -> Batch:
    """Read the files of one source kind into a batch, without touching the corpus."""
    files = [Path(f) for f in files]
    if source == "wxr":
        from kb.importers.wxr import read_wxr

        return _join(
            source, files, lambda f: read_wxr(f, include_pages=include_pages, progress=progress)
        )
    if source == "html":
        from kb.importers.html import read_pages

        return read_pages(files, progress=progress)
    if source == "pdf":
        from kb.importers.pdf import read_archive

        if not article:
            raise UsageError(
                "kb import pdf needs --article SLUG (the article the comments are "
                f"under){_known_slugs(corpus)}"
            )
        return _join(source, files, lambda f: read_archive(f, article, progress=progress))
    if source == "csv":
        from kb.importers.table import read_table

        return _join(
            source,
            files,
            lambda f: read_table(f, mapping or {}, article=article, progress=progress),
        )
    raise UsageError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")


def _known_slugs(corpus: Path | None, near: str = "") -> str:
    """Return ": one of a, b, c" (or the closest to ``near``) for an error line, or ""."""
    slugs = sorted(p.stem for p in (Path(corpus) / "articles").glob("*.md")) if corpus else []
    if not slugs:
        return ": the corpus has no articles yet, so name the new one"
    close = difflib.get_close_matches(near, slugs, n=3, cutoff=0.6) if near else []
    if close:
        return f"; did you mean {' or '.join(close)}?"
    shown = ", ".join(slugs[:SHOWN_SLUGS])
    more = f" and {len(slugs) - SHOWN_SLUGS} more" if len(slugs) > SHOWN_SLUGS else ""
    return f": one of {shown}{more}"


def check_article(corpus: Path, article: str) -> None:
    """Refuse ``--article`` naming no article when it looks like a slip for one that exists."""
    folder = Path(corpus) / "articles"
    if not folder.is_dir() or (folder / f"{article}.md").exists():
        return
    slugs = [p.stem for p in folder.glob("*.md")]
    if difflib.get_close_matches(article, slugs, n=1, cutoff=0.8):
        raise UsageError(
            f"--article {article}: no such article in {folder}"
            f"{_known_slugs(corpus, article)} (a slug not close to any "
            "existing one makes a new article)"
        )


def _join(source: str, files: list[Path], read: Callable[[Path], Batch]) -> Batch:
    """Read each file; with several, a file that cannot be read is reported and the rest go on."""
    joined = Batch(source=source, files=[])
    for path in files:
        try:
            batch = read(path)
        except ImportFormatError as exc:
            if len(files) == 1:
                raise
            joined.failed.append(str(exc))
            continue
        joined.files += batch.files
        joined.articles += batch.articles
        joined.comments += batch.comments
        joined.skipped += batch.skipped
        joined.notes += batch.notes
        joined.formats.update(batch.formats)
        if not joined.site.author and batch.site.author:
            joined.site = batch.site
    if files and not joined.files:
        raise ImportFormatError(
            f"none of the {len(files)} files could be read: " + "; ".join(joined.failed)
        )
    return joined


def import_files(
    source: str,
    files: list[Path],
    corpus: Path,
    *,
    article: str | None = None,
    include_pages: bool = False,
    mapping: dict[str, str] | None = None,
    author: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Import files into the corpus folder; return the report (nothing written on a dry run)."""
    corpus = Path(corpus)
    if article is not None and not valid_slug(article):
        raise UsageError(
            f"--article {shown(article)} is not an article slug ({SLUG_RULE}); nothing was imported"
        )
    if source == "pdf" and article:
        check_article(corpus, article)
    batch = read_batch(
        source,
        files,
        article=article,
        include_pages=include_pages,
        mapping=mapping,
        progress=progress,
        corpus=corpus,
    )
    if dry_run:
        changes, report = plan_import(batch, corpus, author=author)
        report.dry_run = True
        return report
    # planned and written under the corpus lock: no other writer changes the files between
    with corpus_lock(corpus):
        changes, report = plan_import(batch, corpus, author=author)
        changes.commit()
    return report
