"""One import, start to end: read the files, match them against the corpus, write or not."""

from __future__ import annotations

from pathlib import Path

from kb.corpus import SLUG_RULE, valid_slug
from kb.corpuslock import corpus_lock
from kb.errors import UsageError, shown
from kb.importers.common import Batch, Progress
from kb.importers.merge import Report, plan_import

SOURCES = ("wxr", "html", "pdf", "csv")


def read_batch(source: str, files: list[Path], *, article: str | None = None,
               include_pages: bool = False, mapping: dict[str, str] | None = None,
               progress: Progress | None = None) -> Batch:
    """Read the files of one source kind into a batch, without touching the corpus."""
    files = [Path(f) for f in files]
    if source == "wxr":
        from kb.importers.wxr import read_wxr

        batches = [read_wxr(f, include_pages=include_pages, progress=progress) for f in files]
        return _join(source, batches)
    if source == "html":
        from kb.importers.html import read_pages

        return read_pages(files, progress=progress)
    if source == "pdf":
        from kb.importers.pdf import read_archive

        if not article:
            raise UsageError("kb import pdf needs --article SLUG (the article the comments are under)")
        return _join(source, [read_archive(f, article, progress=progress)
                              for f in files])
    if source == "csv":
        from kb.importers.table import read_table

        return _join(source, [read_table(f, mapping or {}, article=article, progress=progress)
                              for f in files])
    raise UsageError(f"unknown source {source!r}: use one of {', '.join(SOURCES)}")


def _join(source: str, batches: list[Batch]) -> Batch:
    joined = Batch(source=source, files=[])
    for batch in batches:
        joined.files += batch.files
        joined.articles += batch.articles
        joined.comments += batch.comments
        joined.skipped += batch.skipped
        if not joined.site.author and batch.site.author:
            joined.site = batch.site
    return joined


def import_files(source: str, files: list[Path], corpus: Path, *, article: str | None = None,
                 include_pages: bool = False, mapping: dict[str, str] | None = None,
                 author: str | None = None, dry_run: bool = False,
                 progress: Progress | None = None) -> Report:
    """Import files into the corpus folder; return the report (nothing written on a dry run)."""
    corpus = Path(corpus)
    if article is not None and not valid_slug(article):
        raise UsageError(f"--article {shown(article)} is not an article slug ({SLUG_RULE}); "
                         "nothing was imported")
    batch = read_batch(source, files, article=article, include_pages=include_pages,
                       mapping=mapping, progress=progress)
    if dry_run:
        changes, report = plan_import(batch, corpus, author=author)
        report.dry_run = True
        return report
    # planned and written under the corpus lock: no other writer changes the files between
    with corpus_lock(corpus):
        changes, report = plan_import(batch, corpus, author=author)
        changes.commit()
    return report
