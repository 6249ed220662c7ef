"""WordPress exports (WXR 1.0 to 1.2) read into a batch of articles and approved comments.

The XML is read with defusedxml's expat reader: an export never declares entities, so a
file that does (an external entity, an entity-expansion bomb) is refused before anything
expands. Commenters' e-mail, IP and URL fields are never read.

Elements are recognised by what they are, the way WordPress's own importer reads them:
by namespace (``http`` or ``https``, WXR 1.0 to 1.2, with or without ``www``), else by
the prefix written in the file (``wp:`` bound to another address, or never declared).
A file that binds a prefix oddly (undeclares it, declares a reserved one) is still read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import html
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

from kb.errors import ImportFormatError
from kb.importers import common as c
from kb.importers.markup import html_to_markdown

# namespace addresses without scheme and "www.", lower case, ending in "/"
_NS_RE = (
    (re.compile(r"wordpress\.(?:org|com)/export/1\.\d+/excerpt/"), "excerpt"),
    (re.compile(r"wordpress\.(?:org|com)/export/1\.\d+/"), "wp"),
    (re.compile(r"purl\.org/rss/1\.0/modules/content/"), "content"),
    (re.compile(r"purl\.org/dc/elements/1\.1/"), "dc"),
    (re.compile(r"wellformedweb\.org/commentapi/"), "wfw"),
)
_FAMILIES = {"wp", "excerpt", "content", "dc", "wfw"}
_RSS = {
    "rss",
    "channel",
    "item",
    "title",
    "link",
    "description",
    "pubDate",
    "language",
    "generator",
    "guid",
    "category",
    "image",
    "url",
}
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([\w.:-]+)["']""")
_SKIPPED_CATEGORIES = {"uncategorized"}
_OPEN, _CLOSE = b"<![CDATA[", b"]]>"


def _family(uri: str | None) -> str | None:
    if not uri:
        return None
    address = re.sub(r"^[a-z][a-z0-9+.-]*://(www\.)?", "", uri.strip().lower())
    address = address if address.endswith("/") else address + "/"
    return next((name for pattern, name in _NS_RE if pattern.fullmatch(address)), None)


def _key(qname: str, scope: dict[str, str]) -> str:
    """Return the name kb reads an element by: ``wp:post_id``, ``content:encoded``, ``item``."""
    prefix, _, local = qname.rpartition(":")
    family = _family(scope.get(prefix))
    if family is None and prefix in _FAMILIES:
        family = prefix  # the usual prefix bound to another address, or never declared
    if family is None or (not prefix and local in _RSS):
        return local if not prefix else qname
    return f"{family}:{local}"


class _Builder(ContentHandler):
    """Builds the element tree with elements named by :func:`_key`, and their lines."""

    def __init__(self, reader: DefusedExpatParser) -> None:
        super().__init__()
        self.reader = reader
        self.builder = ElementTree.TreeBuilder()
        self.lines: dict[int, int] = {}
        self.scopes: list[dict[str, str]] = [{}]
        self.keys: list[str] = []

    def startElement(self, name: str, attrs: Any) -> None:  # noqa: N802 - the name SAX calls
        scope = self.scopes[-1]
        declared = {
            k.partition(":")[2]: v
            for k, v in attrs.items()
            if k == "xmlns" or k.startswith("xmlns:")
        }
        if declared:
            scope = {**scope, **declared}
        self.scopes.append(scope)
        plain = {k: v for k, v in attrs.items() if k != "xmlns" and not k.startswith("xmlns:")}
        self.keys.append(_key(name, scope))
        element = self.builder.start(self.keys[-1], plain)
        self.lines[id(element)] = self.reader._parser.CurrentLineNumber

    def endElement(self, name: str) -> None:  # noqa: N802
        self.scopes.pop()
        self.builder.end(self.keys.pop())

    def characters(self, content: str) -> None:
        self.builder.data(content)


def _balance_cdata(raw: bytes) -> bytes | None:
    """Return the file with nested CDATA sections escaped, or None when there are none."""
    out: list[bytes] = []
    i, changed = 0, False
    while (start := raw.find(_OPEN, i)) >= 0:
        out.append(raw[i:start])
        j, depth = start + len(_OPEN), 1
        while depth:
            opening, closing = raw.find(_OPEN, j), raw.find(_CLOSE, j)
            if closing < 0:
                return None
            if 0 <= opening < closing:
                depth, j, changed = depth + 1, opening + len(_OPEN), True
            else:
                depth, j = depth - 1, closing + len(_CLOSE)
        while raw.startswith(_CLOSE, j) and raw[j + 3 :].lstrip().startswith(b"<"):
            j, changed = j + len(_CLOSE), True  # a stray "]]>" that belongs to the text
        inner = raw[start + len(_OPEN) : j - len(_CLOSE)]
        out.append(_OPEN + inner.replace(_CLOSE, b"]]]]><![CDATA[>") + _CLOSE)
        i = j
    out.append(raw[i:])
    return b"".join(out) if changed else None


def _parse_xml(raw: bytes, name: str) -> tuple[ElementTree.Element, dict[int, int]]:
    try:
        return _parse_strict(raw, name)
    except ImportFormatError as exc:
        # old exporters wrote CDATA inside CDATA; WordPress reads such files, so do we
        repaired = _balance_cdata(raw) if b"<!DOCTYPE" not in raw[:2000] else None
        if repaired is not None:
            with contextlib.suppress(ImportFormatError):
                return _parse_strict(repaired, name)
        raise exc


def _parse_strict(raw: bytes, name: str) -> tuple[ElementTree.Element, dict[int, int]]:
    m = _ENCODING_RE.match(raw[:300])
    declared = m.group(1).decode("ascii") if m else "utf-8"
    if declared.lower().replace("_", "-") in ("utf-8", "utf8") and not raw.startswith(
        (b"\xff\xfe", b"\xfe\xff")
    ):
        c.decode_text(raw, name)  # a clear line for a Latin-1 file that claims UTF-8
    reader = DefusedExpatParser()  # namespaces off: prefixes are resolved in _Builder
    target = _Builder(reader)
    reader.setContentHandler(target)
    try:
        reader.feed(raw)
        reader.close()
        root = target.builder.close()
    except DefusedXmlException as exc:
        line = reader._parser.CurrentLineNumber if reader._parser else 1
        raise ImportFormatError(
            f"{name}:{line}: refused: the file declares XML entities or external references "
            f"({type(exc).__name__}); a WordPress export never does"
        ) from None
    except SAXParseException as exc:
        line, column = exc.getLineNumber(), exc.getColumnNumber() or 0
        what = exc.getMessage()
        if what.startswith("no element found") or what.startswith("unclosed token"):
            what = "the XML ends too early (a truncated export?)"
        raise ImportFormatError(
            f"{name}:{line}: not well-formed XML: {what} (column {column + 1})"
        ) from None
    except (LookupError, ValueError, UnicodeError):
        # expat hands the declared encoding to Python's codecs: an unknown name, a codec
        # that is not for text, or a multi-byte one expat cannot use
        raise ImportFormatError(
            f"{name}:1: the XML declares the encoding {declared!r}, which cannot be read "
            "here; export the file again as UTF-8"
        ) from None
    return root, target.lines


def _text(el: ElementTree.Element | None, key: str, default: str = "") -> str:
    if el is None:
        return default
    for child in el:
        if child.tag == key:
            return (child.text or "").strip() if key != "content:encoded" else (child.text or "")
    return default


def _children(el: ElementTree.Element, key: str) -> list[ElementTree.Element]:
    return [child for child in el if child.tag == key]


def _wp_date(value: str) -> dt.datetime | None:
    value = value.strip()
    if not value or value.startswith("0000"):
        return None
    try:
        return dt.datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return c.parse_when(value)


def _rss_date(value: str) -> dt.datetime | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.replace(tzinfo=None) if parsed else None


def _item_tags(item: ElementTree.Element) -> tuple[tuple[str, str], ...]:
    tags: dict[str, str] = {}
    for cat in _children(item, "category"):
        label = c.html_text(cat.text or "")
        domain = cat.get("domain", "category")
        if not label or domain not in ("category", "post_tag", "tag"):
            continue
        tag_id = c.tag_id(cat.get("nicename", ""), label)
        if tag_id not in _SKIPPED_CATEGORIES:
            tags.setdefault(tag_id, label)
    return tuple(tags.items())


def _site_info(channel: ElementTree.Element, creators: Counter) -> c.SiteInfo:
    authors = {}
    for author in _children(channel, "wp:author"):
        login = _text(author, "wp:author_login")
        authors[login] = _text(author, "wp:author_display_name") or login
    named = [(who, n) for who, n in creators.most_common() if who]  # items may name no one
    main = named[0][0] if named else next(iter(authors), "")
    name = html.unescape(authors.get(main) or main)
    aliases = tuple(a for a in (main,) if a and a.casefold() != name.casefold())
    base = _text(channel, "wp:base_blog_url") or _text(channel, "link")
    return c.SiteInfo(
        title=c.html_text(_text(channel, "title")), author=name, aliases=aliases, base_url=base
    )


def _comment_skip(comment: ElementTree.Element) -> str | None:
    kind = _text(comment, "wp:comment_type").lower()
    if kind in ("pingback", "trackback", "webmention"):
        return c.PINGBACK
    if kind not in ("", "comment"):
        return c.OTHER_TYPE
    approved = _text(comment, "wp:comment_approved").lower()
    if approved == "1":
        return None
    return {"spam": c.SPAM, "trash": c.TRASH, "post-trashed": c.TRASH}.get(approved, c.PENDING)


def _post_skip(item: ElementTree.Element, include_pages: bool) -> tuple[str, str] | None:
    kind = _text(item, "wp:post_type") or "post"
    status = _text(item, "wp:status") or "publish"
    if kind == "attachment":
        return c.ATTACHMENT, "an attachment"
    if kind == "page" and not include_pages:
        return c.PAGE, "a page (use --include-pages to import pages)"
    if kind not in ("post", "page"):
        return c.OTHER_TYPE, f"post type {kind!r}"
    if status == "trash":
        return c.TRASH, "in the trash"
    if status != "publish":
        return c.UNPUBLISHED, f"status {status!r}"
    if _text(item, "wp:post_password"):
        return c.UNPUBLISHED, "password-protected"
    return None


def _describe(channel: ElementTree.Element, root: ElementTree.Element, version: str) -> str:
    """Return what wrote the export: "WordPress export 1.2 (WordPress.com)", or self-hosted."""
    generator = _text(channel, "generator")
    hosts = {
        (urlsplit(u if "//" in u else "//" + u).hostname or "").lower()
        for u in (generator, _text(channel, "wp:base_site_url"))
        if u
    }
    if any(h == "wordpress.com" or h.endswith(".wordpress.com") for h in hosts):
        return f"WordPress export {version} (WordPress.com)"
    m = re.search(r"[?&]v=([\w.-]+)", generator)
    where = f"self-hosted, WordPress {m.group(1)}" if m else "self-hosted"
    return f"WordPress export {version} ({where})"


def read_wxr(
    path: Path, include_pages: bool = False, progress: c.Progress | None = None
) -> c.Batch:
    """Read a WordPress export into a batch of articles and comments, accounting for every item."""
    path = Path(path)
    name = str(path)
    raw = c.read_bytes(path, "a WordPress export")
    root, lines = _parse_xml(raw, name)
    channel = root.find("channel") if root.tag == "rss" else None
    if channel is None:
        raise ImportFormatError(f"{name}:1: not a WordPress export: no <rss><channel> element")
    version = _text(channel, "wp:wxr_version")
    if not re.fullmatch(r"1\.\d+", version):
        what = f"unknown version {version!r}" if version else "no <wp:wxr_version>"
        raise ImportFormatError(
            f"{name}:1: not a WordPress export: {what} "
            "(export again with Tools > Export in WordPress)"
        )
    batch = c.Batch(source="wxr", files=[name])
    batch.formats[name] = _describe(channel, root, version)
    items = channel.findall("item")
    author_ids = {
        _text(a, "wp:author_login"): _text(a, "wp:author_id")
        for a in _children(channel, "wp:author")
    }
    creators: Counter = Counter()
    for n, item in enumerate(items, 1):
        if progress:
            progress(n, len(items), _text(item, "title")[:40])
        _read_item(batch, item, name, lines, include_pages, author_ids, creators)
    batch.site = _site_info(channel, creators)
    return batch


def _read_item(
    batch: c.Batch,
    item: ElementTree.Element,
    name: str,
    lines: dict[int, int],
    include_pages: bool,
    author_ids: dict[str, str],
    creators: Counter,
) -> None:
    where = f"{name}:{lines.get(id(item), 0)}"
    post_id = _text(item, "wp:post_id") or str(lines.get(id(item), 0))
    title = c.html_text(_text(item, "title")) or f"Post {post_id}"
    skip = _post_skip(item, include_pages)
    date = (
        _wp_date(_text(item, "wp:post_date"))
        or _wp_date(_text(item, "wp:post_date_gmt"))
        or _rss_date(_text(item, "pubDate"))
    )
    comments = _children(item, "wp:comment")
    if skip is None and date is None:
        # WordPress itself imports an undated post; so does kb, dated by its first comment
        dates = [
            d
            for com in comments
            if not _comment_skip(com)
            for d in [_wp_date(_text(com, "wp:comment_date"))]
            if d
        ]
        date = min(dates, default=None) or dt.datetime.combine(dt.date.today(), dt.time())
        batch.notes.append(
            f"{where}: {title!r} has no date; dated {date:%Y-%m-%d} "
            f"({'its first comment' if dates else 'today'}): set `date:` in "
            "its article file if you know it"
        )
    if skip is not None:
        batch.skip("article", skip[0], where, f"{title!r}: {skip[1]}")
        for comment in comments:
            reason = _comment_skip(comment) or c.POST_NOT_IMPORTED
            batch.skip(
                "comment",
                reason,
                f"{name}:{lines.get(id(comment), 0)}",
                f"on {title!r}, which is not imported",
            )
        return
    creator = _text(item, "dc:creator")
    creators[creator] += 1
    key = f"wp:{post_id}"
    body = html_to_markdown(_text(item, "content:encoded"))
    summary = c.html_text(_text(item, "excerpt:encoded"))
    slug = c.article_slug(unquote(_text(item, "wp:post_name")), _text(item, "link"), title)
    assert date is not None  # an undated post was dated above, or skipped
    batch.articles.append(
        c.SourceArticle(
            key=key,
            slug=slug,
            title=title,
            date=date.date(),
            body=body or summary or title,
            tags=_item_tags(item),
            url=_text(item, "link"),
            summary=summary,
            where=where,
        )
    )
    owner = author_ids.get(creator, "")
    for comment in comments:
        _read_comment(batch, comment, f"{name}:{lines.get(id(comment), 0)}", key, post_id, owner)


def _read_comment(
    batch: c.Batch, comment: ElementTree.Element, where: str, key: str, post_id: str, owner: str
) -> None:
    comment_id = _text(comment, "wp:comment_id") or where.rsplit(":", 1)[-1]
    reason = _comment_skip(comment)
    if reason:
        batch.skip("comment", reason, where, f"comment {comment_id}")
        return
    date = _wp_date(_text(comment, "wp:comment_date")) or _wp_date(
        _text(comment, "wp:comment_date_gmt")
    )
    body = html_to_markdown(_text(comment, "wp:comment_content"), links=False)
    if date is None or not body:
        what = "no valid date" if date is None else "empty text"
        batch.skip("comment", c.UNPARSEABLE, where, f"comment {comment_id}: {what}")
        return
    parent = _text(comment, "wp:comment_parent")
    user = _text(comment, "wp:comment_user_id")
    batch.comments.append(
        c.SourceComment(
            id=f"wp-{post_id}-{comment_id}",
            article=key,
            author=c.html_text(_text(comment, "wp:comment_author")) or "Anonymous",
            date=date,
            body=body,
            parent=f"wp-{post_id}-{parent}" if parent not in ("", "0") else None,
            is_author=bool(owner) and user not in ("", "0") and user == owner,
            where=where,
        )
    )
