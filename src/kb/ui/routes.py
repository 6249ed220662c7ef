"""The app's pages, with stable URL paths, and links between them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# Not "pages": a folder of that name beside the script Streamlit runs (`kb serve` runs
# streamlit_app.py here) switches Streamlit to its legacy pages-folder mode, which ignores
# st.navigation on the first request of a deep link.
PAGES = Path(__file__).resolve().parent / "views"

_PAGES: dict[str, st.Page] = {}


def make_pages() -> dict[str, st.Page]:
    """Create the page objects for this run (one per view)."""
    _PAGES.clear()
    _PAGES.update({
        "search": st.Page(PAGES / "search.py", title="Search", url_path="search", default=True),
        "browse": st.Page(PAGES / "browse.py", title="Browse by tag", url_path="browse"),
        "article": st.Page(PAGES / "article.py", title="Articles", url_path="article"),
        "story": st.Page(PAGES / "story.py", title="Story", url_path="story"),
        "author-tags": st.Page(PAGES / "author_tags.py", title="Author: tags",
                               url_path="author-tags"),
        "author-faq": st.Page(PAGES / "author_faq.py", title="Author: questions",
                              url_path="author-faq"),
    })
    return _PAGES


def page(name: str) -> st.Page:
    """Return the page object named ``name`` (search, browse, article, story)."""
    return _PAGES[name]


def link(name: str, label: str, key: str | None = None, **params: str) -> None:
    """Show a link to a page, carrying its view in the query string."""
    from kb.ui.components import md  # a label may be a title or a name: never Markdown

    st.page_link(_PAGES[name], label=md(label), query_params=params or None)


def pin_url() -> None:
    """Write the view's query string back so the address bar shows it after a page link."""
    current = st.query_params.to_dict()
    if current:
        st.query_params.from_dict(current)
