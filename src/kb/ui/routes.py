"""The app's pages, with stable URL paths, and links between them."""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

# Not "pages": a folder of that name beside the script Streamlit runs (`kb serve` runs
# streamlit_app.py here) switches Streamlit to its legacy pages-folder mode, which ignores
# st.navigation on the first request of a deep link.
PAGES = Path(__file__).resolve().parent / "views"

_PAGES: dict[str, st.Page] = {}


def make_pages() -> dict[str, st.Page]:
    """Create the page objects for this run (one per view)."""
    _PAGES.clear()
    _PAGES.update(
        {
            "search": st.Page(PAGES / "search.py", title="Search", url_path="search", default=True),
            "browse": st.Page(PAGES / "browse.py", title="Browse by tag", url_path="browse"),
            "article": st.Page(PAGES / "article.py", title="Articles", url_path="article"),
            # opened from a story's link only: no menu entry leading to an empty page
            "story": st.Page(
                PAGES / "story.py", title="A reader's story", url_path="story", visibility="hidden"
            ),
            "author-tags": st.Page(
                PAGES / "author_tags.py", title="Author: tags", url_path="author-tags"
            ),
            "author-faq": st.Page(
                PAGES / "author_faq.py", title="Author: questions", url_path="author-faq"
            ),
        }
    )
    return _PAGES


def page(name: str) -> st.Page:
    """Return the page object named ``name`` (search, browse, article, story)."""
    return _PAGES[name]


def link(name: str, label: str, key: str | None = None, **params: str) -> None:
    """Show a link to a page, carrying its view in the query string.

    A plain link (the browser navigates and keeps its own history), not Streamlit's page
    link: Streamlit pushes an extra history entry for the new query string on the old page,
    so Back landed on that entry instead of the view the reader came from.
    """
    from kb.ui.components import html_block  # one HTML block: the label is never Markdown

    html_block(anchor(name, label, **params))


def anchor(name: str, label: str, **params: str) -> str:
    """Return the HTML of a link to a page (``label`` is escaped here)."""
    return (
        f"<a class='kb-link' href='{html.escape(url(name, **params))}' target='_self'>"
        f"{html.escape(label)}</a>"
    )


def url(name: str, **params: str) -> str:
    """Return the address of a page with its view, relative to the app's root page."""
    params = {k: v for k, v in params.items() if v}
    path = "" if name == "search" else (_PAGES[name].url_path if _PAGES else name)
    return f"./{path}" + (f"?{urlencode(params)}" if params else "")


def pin_url() -> None:
    """Write the view's query string back so the address bar shows it after a page link."""
    current = st.query_params.to_dict()
    if current:
        st.query_params.from_dict(current)
