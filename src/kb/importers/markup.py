"""HTML as WordPress stores or renders it, turned into the clean Markdown of the corpus.

WordPress keeps classic-editor posts without paragraph tags (blank lines separate
paragraphs, and the theme adds ``<p>`` when it renders), wraps block-editor posts in
``<!-- wp:... -->`` comments and sprinkles shortcodes such as ``[caption]``. All of
that is undone here; headings become ``##`` sections, whatever level the post used.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from bs4 import BeautifulSoup, Comment, MarkupResemblesLocatorWarning, Tag, XMLParsedAsHTMLWarning
from markdownify import MarkdownConverter

from kb.importers.common import clean_body

_BLOCK_START = re.compile(
    r"^\s*<(?:p|div|h[1-6]|ul|ol|li|blockquote|pre|table|thead|tbody|tr|td|th|figure|"
    r"figcaption|hr|dl|dd|dt|section|article|aside|header|footer|address|form|iframe|"
    r"img|style|script|!--)\b",
    re.I,
)
_MEDIA_SHORTCODES = ("gallery", "embed", "video", "audio", "playlist")
_CAPTION_RE = re.compile(r"\[(caption|wp_caption)\b([^\]]*)\](.*?)\[/\1\]", re.S | re.I)
_CAPTION_ATTR_RE = re.compile(r"""\bcaption=(?:"([^"]*)"|'([^']*)')""", re.I)
_KNOWN_SHORTCODES = _MEDIA_SHORTCODES + (
    "caption",
    "wp_caption",
    "contact-form-7",
    "contact-form",
    "more",
    "code",
    "sourcecode",
    "youtube",
    "vimeo",
    "instagram",
    "tweet",
)
_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*)$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
# Posts nest a handful of elements; the converter recurses about three calls per level, so
# a hostile file nesting hundreds of elements would exhaust the stack.
MAX_DEPTH = 64


def _parse(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        # a comment body like "www.example.org" looks like a file name to bs4; it is text
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "html.parser")


def soup(html: str) -> BeautifulSoup:
    """Return the parse tree of an HTML document or fragment, without bs4's guesses as warnings."""
    return _parse(html)


def _caption(m: re.Match) -> str:
    """Return a ``[caption]``'s visible text (the words after the image) as a figure caption."""
    inner = re.sub(r"<a\b[^>]*>\s*(<img\b[^>]*>)\s*</a>", r"\1", m.group(3), flags=re.I | re.S)
    words = re.sub(r"<img\b[^>]*>", " ", inner, flags=re.I).strip()
    if not words:  # the old form: [caption caption="Text"]<img>[/caption]
        attr = _CAPTION_ATTR_RE.search(m.group(2))
        words = (attr.group(1) or attr.group(2) or "") if attr else ""
    return f"\n\n<figure><figcaption>{words}</figcaption></figure>\n\n" if words.strip() else ""


def strip_shortcodes(text: str) -> str:
    """Remove WordPress shortcodes: media ones with their content, others keeping their text.

    A ``[caption]`` keeps its caption text, as the block editor's ``<figcaption>`` is kept.
    """
    text = _CAPTION_RE.sub(_caption, text)
    for name in _MEDIA_SHORTCODES:
        text = re.sub(rf"\[{name}\b[^\]]*\].*?\[/{name}\]", "", text, flags=re.S | re.I)
    paired = set(re.findall(r"\[/([A-Za-z][\w-]*)\]", text))
    names = "|".join(
        re.escape(n) for n in sorted(paired | set(_KNOWN_SHORTCODES), key=len, reverse=True)
    )
    # a bare "[sic]" or "[1]" is text, not a shortcode: only known or paired names go
    text = re.sub(rf"\[/?(?:{names})\b[^\]\n]*\]", "", text, flags=re.I)
    # self-closing or attribute-carrying unknown shortcodes: [name key="value" /]
    return re.sub(r"\[[A-Za-z][\w-]*(?:\s+[\w-]+=(?:\"[^\"]*\"|'[^']*'|\S+))+\s*/?\]", "", text)


def autop(text: str) -> str:
    """Wrap text separated by blank lines in paragraphs, as WordPress does when it renders."""
    if re.search(r"<p[\s>]", text, re.I):
        return text
    chunks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    out = []
    for chunk in chunks:
        if not chunk.strip():
            continue
        if _BLOCK_START.match(chunk):
            out.append(chunk)
        else:
            out.append("<p>" + re.sub(r"<br\s*/?>\s*\n|\n", "<br>\n", chunk.strip()) + "</p>")
    return "\n\n".join(out)


class _Converter(MarkdownConverter):
    """Markdownify with images dropped and, for reader comments, links reduced to their text."""

    def __init__(self, links: bool = True, **options: Any) -> None:
        super().__init__(**options)
        self._links = links

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        # WordPress draws a typed ":)" or an emoji as an image when it renders; keep the text
        if {"wp-smiley", "emoji"} & set(el.get("class") or []):
            alt = el.get("alt")
            return alt if isinstance(alt, str) else ""
        return ""

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if not self._links:
            return text
        return super().convert_a(el, text, parent_tags)  # type: ignore[misc]  # not in markdownify's stub


def _shift_headings(markdown: str) -> str:
    lines = markdown.split("\n")
    fenced = False
    levels = []
    for line in lines:
        if _FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING_RE.match(line)):
            levels.append(len(m.group(1)))
    if not levels:
        return markdown
    shift = 2 - min(levels)
    fenced = False
    for i, line in enumerate(lines):
        if _FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced and (m := _HEADING_RE.match(line)):
            level = max(2, min(6, len(m.group(1)) + shift))
            title = m.group(2).strip().strip("#").strip() or "Section"
            lines[i] = "#" * level + " " + title
    return "\n".join(lines)


def _flatten_deep(tree: Tag, limit: int = MAX_DEPTH) -> None:
    """Unwrap the elements nested deeper than ``limit``, keeping their text in place."""
    deep: list[Tag] = []
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        for child in node.contents:
            if isinstance(child, Tag):
                if depth >= limit:
                    deep.append(child)
                stack.append((child, depth + 1))
    for tag in reversed(deep):  # innermost first: each one then holds only text
        tag.unwrap()


def tree_to_markdown(tree: Tag, links: bool = True) -> str:
    """Return clean Markdown for a parsed HTML tree or element."""
    _flatten_deep(tree)
    for node in tree.find_all(string=lambda s: isinstance(s, Comment)):
        node.extract()
    for tag in tree.find_all(["script", "style", "noscript", "iframe", "form", "object", "svg"]):
        tag.decompose()
    converter = _Converter(
        links=links,
        heading_style="ATX",
        bullets="-",
        escape_misc=False,
        escape_underscores=False,
        strip=["span", "font"],
    )
    markdown = converter.convert_soup(tree)
    return clean_body(_shift_headings(clean_body(markdown)))


def html_to_markdown(html: str, links: bool = True) -> str:
    """Return clean Markdown for WordPress HTML: shortcodes gone, paragraphs and headings kept."""
    if not re.search(r"[<>&\[\]*_`#\\]", html):
        return clean_body(html)  # plain text, as most comments are: nothing to convert
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    return tree_to_markdown(_parse(autop(strip_shortcodes(html))), links=links)
