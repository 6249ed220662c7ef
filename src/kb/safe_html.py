"""Turning untrusted text into HTML that is safe to put in a page.

Reader comments are Markdown or plain text written by strangers. They are
converted with the ``markdown`` package and then cleaned with ``nh3`` (the
Ammonia sanitizer) against a short allow-list: no scripts, styles, event
handlers, images or frames, and links only to absolute http, https and mailto
addresses (never relative or ``//host`` ones), marked ``nofollow noopener``.
Anything else is dropped or shown as text. Code blocks come out as plain
preformatted blocks.
"""

from __future__ import annotations

import html
import re
from typing import Any

import markdown
import nh3

_COMMENT_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "a",
    "hr",
    "del",
    "mark",
}
_ARTICLE_TAGS = _COMMENT_TAGS | {"h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {"a": {"href", "title"}}
_SCHEMES = {"http", "https", "mailto"}
# Python-Markdown takes quadratic time over long runs of brackets and recurses once per
# level of nested lists or quotes; text past these marks is shown as plain paragraphs
# (no comment needs that much markup, and a hostile one must not stall or crash a page).
MAX_BRACKETS = 200


_ABSOLUTE = re.compile(r"(?:https?://[^/\s]|mailto:)", re.I)
_CODE_BLOCK = re.compile(r"<pre><code[^>]*>(.*?)</code></pre>", re.S)


def _attribute(tag: str, name: str, value: str) -> str | None:
    # nh3 checks schemes but lets relative and protocol-relative (//host) addresses
    # through; a link leaves the page only for an absolute http(s) or mailto address
    if name == "href" and not _ABSOLUTE.match(value.strip()):
        return None
    return value


def _code_blocks(fragment: str) -> str:
    # Streamlit's Markdown renderer shows a raw <pre><code> block as "[object Object]";
    # a code block is shown as preformatted text in a plain block instead
    return _CODE_BLOCK.sub(
        lambda m: (
            "<div class='kb-code'>" + m.group(1).rstrip("\n").replace("\n", "<br>") + "</div>"
        ),
        fragment,
    )


def _clean(fragment: str, tags: set[str]) -> str:
    return _code_blocks(
        nh3.clean(
            fragment,
            tags=tags,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            link_rel="nofollow noopener noreferrer",
            strip_comments=True,
            attribute_filter=_attribute,
        )
    )


def _paragraphs(text: str) -> str:
    """Return text as escaped HTML paragraphs, line breaks kept."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _markdown(text: str, source: str, **options: Any) -> str:
    """Return Markdown rendered as HTML, or ``source`` as plain paragraphs when it is hostile."""
    if text.count("[") > MAX_BRACKETS:
        return _paragraphs(source)
    try:
        return markdown.markdown(text, output_format="html", **options)
    except RecursionError:
        return _paragraphs(source)


def comment_html(body: str) -> str:
    """Return a comment body as sanitized HTML (Markdown rendered, raw HTML made inert)."""
    # Raw HTML in a comment is shown as the text the reader typed, never interpreted.
    return _clean(_markdown(html.escape(body, quote=False), body), _COMMENT_TAGS)


def article_html(body: str) -> str:
    """Return article Markdown as sanitized HTML."""
    return _clean(_markdown(body, body, extensions=["tables"]), _ARTICLE_TAGS)


def snippet_html(snippet: str) -> str:
    """Return a search snippet with only its ``<mark>`` tags kept."""
    return _clean(snippet, {"mark"})
