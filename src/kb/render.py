"""Turning untrusted text into HTML that is safe to put in a page.

Reader comments are Markdown or plain text written by strangers. They are
converted with the ``markdown`` package and then cleaned with ``nh3`` (the
Ammonia sanitizer) against a short allow-list: no scripts, styles, event
handlers, images or frames, and links only to http, https and mailto, marked
``nofollow noopener``. Anything else is dropped or shown as text.
"""

from __future__ import annotations

import html
import re

import markdown
import nh3

_COMMENT_TAGS = {
    "p", "br", "em", "strong", "b", "i", "ul", "ol", "li", "blockquote", "code", "pre", "a",
    "hr", "del", "mark",
}
_ARTICLE_TAGS = _COMMENT_TAGS | {"h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {"a": {"href", "title"}}
_SCHEMES = {"http", "https", "mailto"}
# Python-Markdown takes quadratic time over long runs of brackets and recurses once per
# level of nested lists or quotes; text past these marks is shown as plain paragraphs
# (no comment needs that much markup, and a hostile one must not stall or crash a page).
MAX_BRACKETS = 200


def _clean(fragment: str, tags: set[str]) -> str:
    return nh3.clean(
        fragment, tags=tags, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
        link_rel="nofollow noopener noreferrer", strip_comments=True,
    )


def _plain(text: str) -> str:
    """Return text as escaped HTML paragraphs, line breaks kept."""
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _markdown(text: str, source: str, **options) -> str:
    """Return Markdown rendered as HTML, or ``source`` as plain paragraphs when it is hostile."""
    if text.count("[") > MAX_BRACKETS:
        return _plain(source)
    try:
        return markdown.markdown(text, output_format="html", **options)
    except RecursionError:
        return _plain(source)


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
