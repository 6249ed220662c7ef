"""Pages saved from the site as its theme renders them, read into articles and comment threads.

The article comes from the entry content, the comments from the nested comment list
(a reply sits in the ``children`` list of the comment it answers), dates from ``<time>``.
Pages of one article (``comment-page-2`` and so on) merge into one thread list; the
sidebar, widgets and the comment form are never read. WordPress marks the post id
(``postid-12``) and the comment ids (``comment-34``) in the page, so a page of an article
imported from the export gets the same comment ids the export gives.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bs4 import ParserRejectedMarkup, Tag

from kb.corpus.identity import normalise_text
from kb.errors import ImportFormatError
from kb.importers import common as c
from kb.importers.markup import soup, tree_to_markdown

_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([\w.:-]+)""", re.I)
_CONTENT = (
    ".entry-content",
    ".post-content",
    ".entry",
    ".post-body",
    ".article-content",
    "article .content",
)
_COMMENT_LISTS = (".comment-list", ".commentlist", "#comments ol", "#comments ul", "ol.comments")
_JUNK = (
    ".sharedaddy",
    ".jp-relatedposts",
    ".wp-block-buttons",
    ".post-navigation",
    ".entry-meta",
    ".addtoany_share_save_container",
    ".wpcnt",
    "#comments",
    ".comments-area",
    "#respond",
    "nav",
    "form",
    "aside",
)
_STRIP_FROM_BODY = (
    ".comment-author",
    ".comment-meta",
    ".comment-metadata",
    ".reply",
    "footer",
    ".comment-awaiting-moderation",
    ".comment-edit-link",
)
_PAGE_RE = re.compile(r"comment-page-(\d+)")
_SAYS_RE = re.compile(r"\s*(says|said|wrote)\s*:?\s*$", re.I)


def _text(node: Tag | None) -> str:
    return re.sub(r"\s+", " ", node.get_text(" ")).strip() if node is not None else ""


def _decode(raw: bytes, name: str) -> str:
    m = _CHARSET_RE.search(raw[:4096])
    return c.decode_text(raw, name, m.group(1).decode("ascii") if m else "utf-8")


def _attr(node: Tag, name: str) -> str:
    """Return a single-valued attribute (``id``, ``href``, ``content``...), or ""."""
    value = node.get(name)
    return value if isinstance(value, str) else ""


def _meta(tree: Tag, prop: str) -> str:
    node = tree.find("meta", attrs={"property": prop}) or tree.find("meta", attrs={"name": prop})
    return _attr(node, "content").strip() if node else ""


def _when(node: Tag | None) -> c.dt.datetime | None:
    if node is None:
        return None
    for time in node.find_all("time"):
        when = c.parse_when(_attr(time, "datetime")) or c.parse_when(_text(time))
        if when:
            return when
    return None


class _Page:
    """What one saved page holds."""

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        text = _decode(c.read_bytes(path, "a saved page"), self.name)
        try:
            tree = soup(text)
        except (ParserRejectedMarkup, AssertionError) as exc:
            raise ImportFormatError(f"{self.name}: cannot be read as HTML ({exc})") from None
        self.tree = tree
        content = next((tree.select_one(s) for s in _CONTENT if tree.select_one(s)), None)
        if content is None:
            raise ImportFormatError(
                f"{self.name}: no article found: expected the theme's entry "
                "content (an element of class entry-content)"
            )
        self.content = content
        body_class = " ".join((tree.body or tree).get("class") or []) if tree.body else ""
        m = re.search(r"postid-(\d+)", body_class)
        article = content.find_parent("article") or tree.find(id=re.compile(r"^post-\d+$"))
        if not m and article is not None and re.fullmatch(r"post-\d+", _attr(article, "id")):
            m = re.search(r"(\d+)", _attr(article, "id"))
        self.post_id = m.group(1) if m else ""
        self.article: Tag = article or content.parent or tree  # (a content has a parent)
        link = tree.find("link", rel="canonical")
        self.url = (_attr(link, "href") if link else "") or _meta(tree, "og:url")
        page = _PAGE_RE.search(self.url) or _PAGE_RE.search(path.name)
        self.page = int(page.group(1)) if page else 1
        self.url = re.sub(r"/comment-page-\d+/?", "/", self.url.split("#")[0])
        title_node = self.article.select_one(".entry-title, .post-title, h1") or tree.find("h1")
        self.title = _text(title_node) or _meta(tree, "og:title") or _text(tree.title)

    def key(self) -> str:
        """Return what identifies the article this page shows."""
        if self.post_id:
            return f"wp:{self.post_id}"
        return "url:" + self.url if self.url else "title:" + normalise_text(self.title)


def _slug(page: _Page) -> str:
    return c.article_slug("", page.url, page.title)


def _tags(page: _Page) -> tuple[tuple[str, str], ...]:
    tags: dict[str, str] = {}
    for link in page.article.find_all("a", rel=True):
        rel: list[str] | str = link.get("rel") or []
        if "tag" in rel:
            label = _text(link)
            tag_id = c.slugify(label, fallback="")
            if tag_id and tag_id != "uncategorized":
                tags.setdefault(tag_id, label)
    return tuple(tags.items())


def _published(page: _Page) -> c.dt.datetime | None:
    header = page.article.find(["header"]) or page.article
    shown = page.article.select_one(".entry-date, .published, .post-date")
    return (
        _when(header)
        or c.parse_when(_meta(page.tree, "article:published_time"))
        or (c.parse_when(_text(shown)) if shown else None)
    )


def _article(page: _Page, comments: list[c.SourceComment]) -> c.SourceArticle:
    when = _published(page) or min((com.date for com in comments), default=None)
    content = page.content
    for selector in _JUNK:
        for node in content.select(selector):
            node.decompose()
    body = tree_to_markdown(content)
    if when is None:
        raise ImportFormatError(
            f"{page.name}: no date found for the article (a <time> in the entry header)"
        )
    return c.SourceArticle(
        key=page.key(),
        slug=_slug(page),
        title=page.title,
        date=when.date(),
        body=body or page.title,
        tags=_tags(page),
        url=page.url,
        where=page.name,
    )


_COUNT_TITLES = (
    ".comments-title",
    "#comments-title",
    ".comments-area > h2",
    "#comments > h2",
    "#comments > h3",
    ".comments-area > h3",
)
_COUNT_RE = re.compile(
    r"^\s*(\d[\d,. ]*|one|a single)\s+(?:reader\s+)?(?:comments?|responses?|"
    r"thoughts?|repl(?:y|ies)|reactions?)\b",
    re.I,
)


def _stated_count(page: _Page) -> int | None:
    """Return the number of comments the page's comments heading announces ("342 Comments")."""
    for selector in _COUNT_TITLES:
        node = page.tree.select_one(selector)
        m = _COUNT_RE.match(_text(node)) if node is not None else None
        if m:
            number = m.group(1).lower()
            return 1 if number in ("one", "a single") else int(re.sub(r"\D", "", number))
    return None


def _comment_nodes(page: _Page) -> list[Tag]:
    listing = next(
        (page.tree.select_one(s) for s in _COMMENT_LISTS if page.tree.select_one(s)), None
    )
    if listing is None:
        return []
    return [li for li in listing.find_all("li", recursive=False)]


def _read_comment(batch: c.Batch, page: _Page, li: Tag, parent: str | None, where: str) -> int:
    """Read a comment and its replies; return how many comments the page shows there."""
    # a stack, not recursion: a hostile page may nest replies thousands of levels deep
    stack = [(li, parent)]
    shown = 0
    while stack:
        li, parent = stack.pop()
        kids = [k.extract() for k in li.find_all(["ol", "ul"], class_="children", recursive=False)]
        classes = set(li.get("class") or [])
        shown += 1
        m = re.search(r"(\d+)$", _attr(li, "id"))
        number = m.group(1) if m else ""
        cid = None
        if classes & {"pingback", "trackback"}:
            batch.skip("comment", c.PINGBACK, where, f"comment {number}")
        elif li.select_one(".comment-awaiting-moderation"):
            # shown only to its writer, and not in the count the page announces
            batch.skip("comment", c.PENDING, where, f"comment {number}: awaiting moderation")
            shown -= 1
        else:
            cid = _own_comment(batch, page, li, parent, where, number, "bypostauthor" in classes)
        children = [child for kid in kids for child in kid.find_all("li", recursive=False)]
        stack.extend((child, cid or parent) for child in reversed(children))
    return shown


def _own_comment(
    batch: c.Batch,
    page: _Page,
    li: Tag,
    parent: str | None,
    where: str,
    number: str,
    is_author: bool,
) -> str | None:
    author_node = li.select_one(".comment-author .fn, .comment-author cite, .fn, .comment-author")
    author = _SAYS_RE.sub("", _text(author_node)) or "Anonymous"
    meta = li.select_one(".comment-metadata, .comment-meta, .commentmetadata") or li
    when = _when(meta) or c.parse_when(_text(meta.find("a")) if meta.find("a") else _text(meta))
    body_node = li.select_one(".comment-content, .comment-text")
    if body_node is None:
        body_node = li.select_one(".comment-body") or li
        for selector in _STRIP_FROM_BODY:
            for node in body_node.select(selector):
                node.decompose()
    body = tree_to_markdown(body_node, links=False)
    if when is None or not body:
        what = "no date" if when is None else "empty text"
        batch.skip("comment", c.UNPARSEABLE, where, f"comment {number or author}: {what}")
        return None
    if page.post_id and number:
        cid = f"wp-{page.post_id}-{number}"
    else:
        seed = f"{author}|{when.date()}|{normalise_text(body)}"
        cid = "html-" + hashlib.sha1(seed.encode()).hexdigest()[:12]
    batch.comments.append(
        c.SourceComment(
            id=cid,
            article=page.key(),
            author=author,
            date=when,
            body=body,
            parent=parent,
            is_author=is_author,
            where=where,
        )
    )
    if is_author and not batch.site.author:
        batch.site.author = author
    return cid


def read_pages(files: list[Path], progress: c.Progress | None = None) -> c.Batch:
    """Read saved pages into one batch; pages of the same article merge into one article."""
    batch = c.Batch(source="html", files=[])
    pages = []
    for n, path in enumerate(files, 1):
        if progress:
            progress(n, len(files), Path(path).name)
        try:
            pages.append(_Page(Path(path)))
        except ImportFormatError as exc:
            if len(files) == 1:
                raise
            batch.failed.append(str(exc))  # the other pages still import
            continue
        batch.files.append(str(path))
    if not pages:
        raise ImportFormatError(
            f"none of the {len(files)} pages could be read: " + "; ".join(batch.failed)
        )
    groups: dict[str, list[_Page]] = {}
    for page in sorted(pages, key=lambda p: p.page):
        groups.setdefault(page.key(), []).append(page)
    for group in groups.values():
        start = len(batch.comments)
        shown = 0
        for page in group:
            where = page.name + (f" (comment page {page.page})" if page.page > 1 else "")
            for li in _comment_nodes(page):
                shown += _read_comment(batch, page, li, None, where)
        first = group[0]
        stated = max((_stated_count(page) or 0 for page in group), default=0)
        if shown < stated:
            batch.notes.append(
                f"{first.name}: page shows {shown} of {stated} comments: save and "
                "import the other comment pages, or use the export"
            )
        batch.articles.append(_article(first, batch.comments[start:]))
        if not batch.site.title:
            site_title = _meta(first.tree, "og:site_name") or _text(
                first.tree.select_one(".site-title")
            )
            batch.site.title = site_title
        if not batch.site.base_url and first.url:
            batch.site.base_url = re.sub(r"^([a-z]+://[^/]+).*$", r"\1", first.url)
    if not batch.site.author:
        for page in pages:
            node = page.article.select_one(".author .fn, a[rel=author], .byline .author")
            name = _text(node) or _meta(page.tree, "author")
            if name:
                batch.site.author = name
                break
    return batch
