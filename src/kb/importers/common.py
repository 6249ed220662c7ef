"""What every importer yields (articles, comments, skips) and the text functions they share.

An importer reads one kind of file and returns a :class:`Batch`; it never touches the
corpus. :mod:`kb.importers.merge` then matches the batch against the corpus, so that
the rules for duplicates, author replies and private data live in one place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from kb.errors import ImportFormatError
from kb.scrub import EMAIL_MARK, IP_MARK, LINK_MARK, PHONE_MARK, scrub

__all__ = ["EMAIL_MARK", "IP_MARK", "LINK_MARK", "PHONE_MARK", "scrub_private"]

Progress = Callable[[int, int, str], None]

# reasons an input item is not added; the report counts each of them
SPAM = "spam"
PENDING = "pending"
TRASH = "trash"
PINGBACK = "pingback"
DUPLICATE = "duplicate"
UNPARSEABLE = "unparseable"
EXISTING = "existing"
PAGE = "page"
ATTACHMENT = "attachment"
UNPUBLISHED = "unpublished"
OTHER_TYPE = "other-type"
POST_NOT_IMPORTED = "post-not-imported"
REDACTED = "redacted"
TOO_LONG = "too-long"

_SLUG_RE = re.compile(r"[^a-z0-9]+")


@dataclass
class SiteInfo:
    """What a source tells about the site: its title, author names and address."""

    title: str = ""
    author: str = ""
    aliases: tuple[str, ...] = ()
    base_url: str = ""


@dataclass
class SourceArticle:
    """An article as a source holds it, before it is matched against the corpus."""

    key: str
    slug: str
    title: str
    date: dt.date
    body: str
    tags: tuple[tuple[str, str], ...] = ()
    url: str = ""
    summary: str = ""
    where: str = ""
    fixed: bool = False  # the slug was named by the user: it is this article, whatever its title


@dataclass
class SourceComment:
    """A comment as a source holds it; ``parent`` is the source id of the comment it answers."""

    id: str
    article: str
    author: str
    date: dt.datetime
    body: str
    parent: str | None = None
    is_author: bool = False
    where: str = ""


@dataclass(frozen=True)
class Skip:
    """An input item that is not added, with the reason and where it was found."""

    kind: str
    reason: str
    where: str = ""
    detail: str = ""

    def line(self) -> str:
        """Return the skip as one readable line."""
        text = f"{self.where}: " if self.where else ""
        text += f"{self.kind} skipped ({self.reason})"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass
class Batch:
    """Everything one import read from its files."""

    source: str
    files: list[str]
    articles: list[SourceArticle] = field(default_factory=list)
    comments: list[SourceComment] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    site: SiteInfo = field(default_factory=SiteInfo)
    notes: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)  # file -> what wrote it
    failed: list[str] = field(default_factory=list)  # one line per file that could not be read

    def skip(self, kind: str, reason: str, where: str = "", detail: str = "") -> None:
        """Record an input item that is not added."""
        self.skipped.append(Skip(kind, reason, where, detail))


def slugify(text: str, fallback: str = "untitled") -> str:
    """Return a file-safe slug: ASCII lower case, runs of other characters as '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_RE.sub("-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or fallback


def slug_from_url(url: str) -> str:
    """Return the slug a permalink ends with, or "" when it ends in a bare number or nothing.

    ``/2019/05/my-post/`` gives ``my-post``; ``/archives/123`` and ``/?p=123`` give "":
    a folder such as ``archives`` is never the post's slug.
    """
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", url.strip(), flags=re.I)
    path = path.split("#")[0].split("?")[0]
    path = re.sub(r"/comment-page-\d+/?$", "/", path)
    parts = [p for p in path.split("/") if p]
    if not parts:
        return ""
    last = re.sub(r"\.(?:html?|php)$", "", unquote(parts[-1]), flags=re.I)
    return "" if last.isdigit() else slugify(last, fallback="")


def article_slug(name: str, link: str, title: str) -> str:
    """Return an imported post's slug: its own name, else its permalink's, else its title's."""
    return slugify(name, fallback="") or slug_from_url(link) or slugify(title)


def html_text(text: str) -> str:
    """Return the text of a short piece of HTML (a title, a name, a label) on one line."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text))).strip()


def tag_id(slug: str, label: str) -> str:
    """Return the corpus tag id for a WordPress category or tag (its slug, else its label)."""
    tag = slugify(unquote(slug or label), fallback="")
    return tag or "tag-" + hashlib.sha1(label.encode()).hexdigest()[:6]


def scrub_private(text: str, site_url: str = "") -> str:
    """Return text with e-mail, IP addresses, phone numbers and foreign links replaced (kb.scrub)."""
    return scrub(text, site_url)


def clean_body(text: str) -> str:
    """Return text with control characters gone, line ends trimmed and blank runs collapsed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.replace("\t", "    ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def decode_text(raw: bytes, name: str, encoding: str = "utf-8") -> str:
    """Decode a file's bytes, or raise :class:`ImportFormatError` naming the line of the bad byte."""
    try:
        return raw.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding
        )
    except LookupError:
        raise ImportFormatError(f"{name}:1: unknown text encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFormatError(
            f"{name}:{line}: not {encoding.upper()} text (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    except UnicodeError:  # a codec that fails in its own way (punycode, idna, undefined)
        raise ImportFormatError(
            f"{name}:1: cannot be read as {encoding!r} text; save the file as UTF-8"
        ) from None


def read_bytes(path: Path, what: str) -> bytes:
    """Read an input file, refusing a missing or empty one with one clear line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFormatError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImportFormatError(f"{path}: is a folder, not {what}") from None
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot read: {exc.strerror}") from None
    if not raw.strip():
        raise ImportFormatError(f"{path}: empty file, not {what}")
    return raw


_DATE_FORMATS = (
    "%B %d, %Y at %I:%M %p",
    "%B %d, %Y at %H:%M",
    "%b %d, %Y at %I:%M %p",
    "%d %B %Y at %H:%M",
    "%d %B %Y at %I:%M %p",
    "%B %d, %Y, %I:%M %p",
    "%B %d, %Y %I:%M %p",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%m/%d/%Y %H:%M",
    "%d/%m/%Y %H:%M",
)


def parse_when(text: str) -> dt.datetime | None:
    """Return the datetime a date line or date cell names, or None when it names none."""
    text = re.sub(r"\s+", " ", text.strip()).replace("a.m.", "am").replace("p.m.", "pm")
    text = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text)
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return value.replace(tzinfo=None)
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None
