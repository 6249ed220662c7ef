"""Comment archives printed from the site to PDF, read back into comment threads.

A printed archive shows each comment as ``Name says:``, a date line and the body, with
replies indented under the comment they answer. The text layer is read line by line with
its position: the indent of a ``says:`` line gives the depth in the thread, lines that
repeat at the top or bottom of every page are headers and footers, and a comment that
runs over a page break simply continues on the next page. A page without a text layer or
one that cannot be read is reported by number, never dropped in silence.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.errors import PyPdfError

from kb.corpus.identity import normalise_text
from kb.errors import ImportFormatError
from kb.importers import common as c

_SAYS_RE = re.compile(r"^(?P<name>\S.{0,60}?)\s+says:\s*(?P<rest>.*)$")
_PAGE_NO_RE = re.compile(r"^(page\s*)?\d+(\s*(of|/)\s*\d+)?$", re.I)
_NOISE_RE = re.compile(
    r"^(reply|log in to reply|\d+ (comments?|responses?|thoughts?|replies)"
    r"( on .*)?)$",
    re.I,
)
_TITLE_PREFIX_RE = re.compile(
    r"^(comments?|responses?|replies|thoughts)\s+(on|to|for)\s*:?\s*", re.I
)
_TITLE_SUFFIX_RE = re.compile(r"\s*[-–—»|:]\s*(comments?|comment archive|archive)\s*$", re.I)


@dataclass
class _Line:
    """One line of text on a page, with its left edge and baseline."""

    text: str
    x: float
    y: float
    page: int


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep pypdf's complaints about damaged files off stderr; we report them ourselves."""
    logger = logging.getLogger("pypdf")
    saved = logger.propagate, logger.level
    logger.propagate, logger.level = False, logging.CRITICAL
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.propagate, logger.level = saved


def _open(path: Path) -> tuple[str, PdfReader]:
    name = str(path)
    raw = c.read_bytes(path, "a PDF")
    if not raw.lstrip()[:5] == b"%PDF-":
        raise ImportFormatError(f"{name}: not a PDF (it does not start with %PDF-)")
    try:
        with _quiet():
            reader = PdfReader(io.BytesIO(raw), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise ImportFormatError(f"{name}: the PDF is protected by a password")
            len(reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ImportFormatError(f"{name}: damaged PDF, cannot be read ({exc})") from None
    return name, reader


def _page_lines(page: PageObject, number: int) -> list[_Line]:
    chunks: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: float) -> None:
        if text and text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            for i, part in enumerate(text.split("\n")):
                if part.strip():
                    chunks.append((y - i * (size or 10), x, part))

    with _quiet():
        page.extract_text(visitor_text=visit)
    lines: list[_Line] = []
    for y, x, text in sorted(chunks, key=lambda k: (-k[0], k[1])):
        if lines and abs(lines[-1].y - y) < 2:
            lines[-1].text = f"{lines[-1].text.rstrip()} {text.strip()}"
            lines[-1].x = min(lines[-1].x, x)
        else:
            lines.append(_Line(text.strip(), x, y, number))
    for line in lines:
        line.text = re.sub(r"\s+", " ", line.text).strip()
    return lines


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", text.casefold())


def _edges(lines: list[_Line]) -> list[_Line]:
    """Return the lines at the top and bottom of a page, less those that start a comment."""
    picked = []
    for k in sorted({0, 1, len(lines) - 2, len(lines) - 1}):
        if 0 <= k < len(lines):
            own = _SAYS_RE.match(lines[k].text)
            after = k > 0 and _SAYS_RE.match(lines[k - 1].text)
            if not own and not after:
                picked.append(lines[k])
    return picked


def _strip_running(pages: list[list[_Line]]) -> set[int]:
    """Find lines that repeat at the top or bottom of the pages; return the ids of those lines."""
    with_text = [p for p in pages if p]
    edges: Counter = Counter()
    for lines in with_text:
        edges.update({_shape(line.text) for line in _edges(lines)})
    repeated = {shape for shape, n in edges.items() if n >= 2 and n * 2 >= len(with_text)}
    removed: set[int] = set()
    for lines in with_text:
        for line in _edges(lines):
            if _shape(line.text) in repeated or _PAGE_NO_RE.match(line.text):
                removed.add(id(line))
    return removed


def _title(first_page: list[_Line], removed: set[int], headers: set[int]) -> str:
    candidates = []
    for line in first_page:
        if id(line) in headers:
            break
        candidates.append(line)
    kept = [
        ln.text
        for ln in candidates
        if id(ln) not in removed
        and not _NOISE_RE.match(ln.text)
        and not c.parse_when(ln.text)
        and not ln.text.lower().startswith(("http", "www."))
    ]
    title = kept[0] if kept else (first_page[0].text if first_page else "")
    title = _TITLE_SUFFIX_RE.sub("", _TITLE_PREFIX_RE.sub("", title))
    return title.strip(" \"'“”‘’") or "Comments"


def _depths(xs: list[float]) -> list[float]:
    columns: list[float] = []
    for x in sorted(xs):
        if not columns or x - columns[-1] > 3:
            columns.append(x)
    return columns


def read_archive(path: Path, slug: str, progress: c.Progress | None = None) -> c.Batch:
    """Read a printed comment archive into a batch under the article ``slug``."""
    path = Path(path)
    name, reader = _open(path)
    batch = c.Batch(source="pdf", files=[name])
    pages: list[list[_Line]] = []
    total = len(reader.pages)
    for number in range(1, total + 1):
        if progress:
            progress(number, total, f"page {number}")
        try:
            lines = _page_lines(reader.pages[number - 1], number)
        except Exception as exc:  # noqa: BLE001 - any failure inside pypdf is one bad page
            batch.skip(
                "comment",
                c.UNPARSEABLE,
                f"{name}: page {number}",
                f"the page cannot be read ({type(exc).__name__}); check it by hand",
            )
            lines = []
        else:
            if not lines:
                batch.skip(
                    "comment",
                    c.UNPARSEABLE,
                    f"{name}: page {number}",
                    "no text layer (a scanned page?); run OCR on it or copy it by hand",
                )
        pages.append(lines)
    if not any(pages):
        raise ImportFormatError(
            f"{name}: no text layer on any page (a scanned PDF?); run OCR on it first"
        )
    removed = _strip_running(pages)
    for number, page_lines in enumerate(pages, 1):
        if page_lines and all(id(line) in removed for line in page_lines):
            batch.skip(
                "comment",
                c.UNPARSEABLE,
                f"{name}: page {number}",
                "no text besides the page header and footer (a scanned page?); "
                "run OCR on it or copy it by hand",
            )
    lines = [ln for page in pages for ln in page if id(ln) not in removed]
    _read_comments(batch, name, slug, lines, pages[0] if pages else [], removed)
    return batch


def _header(lines: list[_Line], i: int) -> tuple[str, c.dt.datetime, int] | None:
    """Return author, date and the index after the date when line ``i`` starts a comment."""
    m = _SAYS_RE.match(lines[i].text)
    if not m:
        return None
    if m.group("rest"):
        when = c.parse_when(m.group("rest"))
        return (m.group("name"), when, i + 1) if when else None
    if i + 1 < len(lines) and (when := c.parse_when(lines[i + 1].text)):
        return m.group("name"), when, i + 2
    return None


def _line_step(lines: list[_Line]) -> float:
    """Return the usual distance between two lines of text: the most common gap."""
    gaps = Counter(
        round(a.y - b.y)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page and a.y > b.y
    )
    return float(gaps.most_common(1)[0][0]) if gaps else 0.0


def _body(lines: list[_Line], step: float) -> str:
    if not lines:
        return ""
    out = lines[0].text
    for prev, line in zip(lines, lines[1:], strict=False):
        new_paragraph = prev.page == line.page and step and prev.y - line.y > step * 1.4
        out += "\n\n" + line.text if new_paragraph else " " + line.text
    return out


def _read_comments(
    batch: c.Batch,
    name: str,
    slug: str,
    lines: list[_Line],
    first_page: list[_Line],
    removed: set[int],
) -> None:
    starts: dict[int, tuple | None] = {i: h for i in range(len(lines)) if (h := _header(lines, i))}
    if not starts:
        raise ImportFormatError(
            f"{name}: no comments found (expected 'Name says:' and a date "
            "line under it); is this a comment archive?"
        )
    title = _title(first_page, removed, {id(lines[i]) for i in starts})
    columns = _depths([lines[i].x for i in starts])
    for i, line in enumerate(lines):
        m = _SAYS_RE.match(line.text)
        if (
            i not in starts
            and m
            and not m.group("rest")
            and len(m.group("name").split()) <= 4
            and min(abs(x - line.x) for x in columns) < 3
        ):
            starts[i] = None  # a comment whose date line is missing or unreadable
    order = sorted(starts)
    step = _line_step(lines)
    stack: list[tuple[int, str]] = []
    first_date = None
    for k, i in enumerate(order):
        where = f"{name}: page {lines[i].page}"
        start = starts[i]
        if start is None:
            batch.skip(
                "comment",
                c.UNPARSEABLE,
                where,
                f"{lines[i].text!r} is not followed by a date line; copy it by hand",
            )
            continue
        author, when, body_start = start
        end = order[k + 1] if k + 1 < len(order) else len(lines)
        body_lines = [ln for ln in lines[body_start:end] if not _NOISE_RE.match(ln.text)]
        body = c.clean_body(_body(body_lines, step))
        if not body:
            batch.skip("comment", c.UNPARSEABLE, where, f"{author} on {when:%Y-%m-%d}: no text")
            continue
        depth = min(range(len(columns)), key=lambda d: abs(columns[d] - lines[i].x))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        seed = f"{slug}|{author}|{when.isoformat()}|{normalise_text(body)[:300]}"
        cid = "pdf-" + hashlib.sha1(seed.encode()).hexdigest()[:12]
        batch.comments.append(
            c.SourceComment(
                id=cid,
                article=slug,
                author=author.strip(),
                date=when,
                body=body,
                parent=stack[-1][1] if stack else None,
                where=where,
            )
        )
        stack.append((depth, cid))
        first_date = min(first_date or when, when)
    orphans = [ln for ln in lines[: order[0]] if ln.page > 1]
    if orphans:
        batch.skip(
            "comment",
            c.UNPARSEABLE,
            f"{name}: page {orphans[0].page}",
            f"text before the first comment: {orphans[0].text[:60]!r}",
        )
    batch.articles.append(
        c.SourceArticle(
            key=slug,
            slug=slug,
            title=title,
            date=(first_date or c.dt.datetime.now()).date(),
            body=title,
            where=name,
            fixed=True,
        )
    )
