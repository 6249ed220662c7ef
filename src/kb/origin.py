"""Addresses on the author's own site: the original post of an article and of a comment.

An article imported from the site carries its ``url``; otherwise, when ``site.yaml`` has a
``base_url``, the post is taken to live at ``<base_url>/<slug>/`` (WordPress's usual
permalink). Comments imported from WordPress keep the site's comment number in their id
(``wp-<post>-<number>``), and WordPress anchors each comment as ``#comment-<number>``.
Only http and https addresses are ever returned, and none holding a character that
would end a Markdown or HTML link (spaces, brackets, quotes).
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_WP_ID = re.compile(r"^wp-\d+-(\d+)$")


_UNSAFE = re.compile(r"[\s<>()\[\]\"'`\\]")  # would end or break a Markdown or HTML link


def _safe(url: str) -> str:
    url = (url or "").strip()
    if _UNSAFE.search(url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.netloc else ""


def article_url(slug: str, url: str = "", base_url: str = "") -> str:
    """Return the original address of an article, or "" when the site's address is unknown."""
    own = _safe(url)
    if own:
        return own
    base = _safe(base_url)
    return f"{base.rstrip('/')}/{quote(slug)}/" if base else ""


def comment_url(comment_id: str, slug: str, url: str = "", base_url: str = "") -> str:
    """Return the original address of a comment: its post, with ``#comment-N`` when known."""
    post = article_url(slug, url, base_url)
    if not post:
        return ""
    m = _WP_ID.match(comment_id or "")
    return f"{post.split('#')[0]}#comment-{m.group(1)}" if m else post


def site_name(url: str) -> str:
    """Return the host of an address, for link text ("on staying-close.example")."""
    return urlsplit(url).netloc
