"""Question-and-answer tables (CSV) from other platforms, read into reader questions and replies.

Each row is a reader's question, and its answer (when there is one) becomes the author's
reply under it. Rows are grouped into articles by their topic, or all go under the
article named with ``--article``. Which column holds what is given by a mapping of the
fields question, answer, topic, date and author to column names; by default a column
named like the field is used.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from kb.corpus.identity import normalise_text
from kb.errors import ImportFormatError, UsageError
from kb.importers import common as c
from kb.importers.markup import html_to_markdown

FIELDS = ("question", "answer", "topic", "date", "author")


def _dialect(sample: str) -> type[csv.Dialect]:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _columns(header: list[str], mapping: dict[str, str], name: str) -> dict[str, int]:
    folded = [h.strip().casefold() for h in header]
    columns: dict[str, int] = {}
    for field in FIELDS:
        wanted = mapping.get(field, field)
        if wanted.strip().casefold() in folded:
            columns[field] = folded.index(wanted.strip().casefold())
        elif field in mapping:
            raise ImportFormatError(
                f"{name}:1: no column {wanted!r} for {field}; the columns are "
                f"{', '.join(repr(h) for h in header)}"
            )
    for field in ("question", "date"):
        if field not in columns:
            raise ImportFormatError(
                f"{name}:1: no {field} column; name it with "
                f"--map {field}=COLUMN (columns: {', '.join(header)})"
            )
    return columns


def read_table(
    path: Path,
    mapping: dict[str, str],
    article: str | None = None,
    progress: c.Progress | None = None,
) -> c.Batch:
    """Read a question/answer table into a batch: one question and its reply per row."""
    path = Path(path)
    name = str(path)
    text = c.decode_text(c.read_bytes(path, "a CSV table"), name)
    if "\x00" in text:
        raise ImportFormatError(
            f"{name}:{text[: text.index(chr(0))].count(chr(10)) + 1}: binary data, not a CSV table"
        )
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text[:4096]))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ImportFormatError(
            f"{name}:{reader.line_num}: not a readable CSV table: {exc}"
        ) from None
    rows = [(n, row) for n, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFormatError(f"{name}: empty table")
    columns = _columns(rows[0][1], mapping, name)
    if "topic" not in columns and not article:
        raise UsageError(
            f"{name}: no topic column: name one with --map topic=COLUMN, or put "
            "every row under one article with --article SLUG"
        )
    batch = c.Batch(source="csv", files=[name])
    articles: dict[str, c.SourceArticle] = {}
    body_rows = rows[1:]
    for k, (line, row) in enumerate(body_rows, 1):
        if progress:
            progress(k, len(body_rows), f"row {line}")
        _read_row(batch, articles, f"{name}:{line}", row, columns, article)
    batch.articles.extend(articles.values())
    return batch


def _cell(row: list[str], columns: dict[str, int], field: str) -> str:
    index = columns.get(field)
    return row[index].strip() if index is not None and index < len(row) else ""


def _read_row(
    batch: c.Batch,
    articles: dict[str, c.SourceArticle],
    where: str,
    row: list[str],
    columns: dict[str, int],
    article: str | None,
) -> None:
    question = html_to_markdown(_cell(row, columns, "question"), links=False)
    raw_date = _cell(row, columns, "date")
    when = c.parse_when(raw_date)
    if not question or when is None:
        what = "empty question" if not question else f"unreadable date {raw_date!r}"
        batch.skip("comment", c.UNPARSEABLE, where, what)
        if _cell(row, columns, "answer"):
            batch.skip("comment", c.UNPARSEABLE, where, f"the answer to a row with {what}")
        return
    topic = _cell(row, columns, "topic")
    if article:
        key, slug, title, fixed = article, article, article.replace("-", " ").capitalize(), True
    elif topic:
        key, slug, title, fixed = f"topic:{c.slugify(topic)}", c.slugify(topic), topic, False
    else:
        batch.skip("comment", c.UNPARSEABLE, where, "no topic")
        return
    known = articles.get(key)
    if known is None:
        articles[key] = c.SourceArticle(
            key=key, slug=slug, title=title, date=when.date(), body=title, where=where, fixed=fixed
        )
    elif when.date() < known.date:
        known.date = when.date()
    author = _cell(row, columns, "author") or "Anonymous"
    seed = f"{author}|{when.isoformat()}|{normalise_text(question)}"
    cid = "csv-" + hashlib.sha1(seed.encode()).hexdigest()[:12]
    batch.comments.append(
        c.SourceComment(id=cid, article=key, author=author, date=when, body=question, where=where)
    )
    answer = html_to_markdown(_cell(row, columns, "answer"), links=False)
    if answer:
        batch.comments.append(
            c.SourceComment(
                id=f"{cid}-a",
                article=key,
                author="",
                date=when,
                body=answer,
                parent=cid,
                is_author=True,
                where=where,
            )
        )
