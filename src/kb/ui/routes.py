"""The app's pages, with stable URL paths, and links between them."""

from __future__ import annotations

import streamlit as st

_PAGES: dict[str, st.Page] = {}


def make_pages() -> dict[str, st.Page]:
    """Create the page objects for this run (one per view)."""
    from kb.ui import article_page, author_tags_page, browse_page, search_page, story_page

    _PAGES.clear()
    _PAGES.update({
        "search": st.Page(search_page.render, title="Search", url_path="search",
                          default=True),
        "browse": st.Page(browse_page.render, title="Browse by tag", url_path="browse"),
        "article": st.Page(article_page.render, title="Articles", url_path="article"),
        "story": st.Page(story_page.render, title="Story", url_path="story"),
        "author-tags": st.Page(author_tags_page.render, title="Author: tags",
                               url_path="author-tags"),
    })
    return _PAGES


def page(name: str) -> st.Page:
    """Return the page object named ``name`` (search, browse, article, story)."""
    return _PAGES[name]


def link(name: str, label: str, key: str | None = None, **params: str) -> None:
    """Show a link to a page, carrying its view in the query string."""
    st.page_link(_PAGES[name], label=label, query_params=params or None)


def pin_url() -> None:
    """Write the view's query string back so the address bar shows it after a page link."""
    current = st.query_params.to_dict()
    if current:
        st.query_params.from_dict(current)
