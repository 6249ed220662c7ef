"""Article: the article rendered with linkable sections, then its conversations, paged."""

from __future__ import annotations

import streamlit as st

from kb.corpus import read_article
from kb.errors import KbError
from kb.render import article_html
from kb.ui import components as c
from kb.ui import routes, state

THREADS_PER_PAGE = 10


def _index(kb) -> None:
    st.title("Articles")
    for a in reversed(kb.articles()):
        with st.container(border=True):
            routes.link("article", a["title"], article=a["slug"])
            c.meta_line(a["date"], f"{a['comments']} comments")
            if a.get("summary"):
                st.caption(c.md(a["summary"]))


def render() -> None:
    """Draw the article page (or the list of articles when none is named)."""
    kb = c.begin_page()
    if kb is None:
        return
    slug = st.query_params.get("article")
    if not slug:
        _index(kb)
        return
    try:
        article = read_article(state.corpus_dir(), slug)
    except KbError as exc:
        c.error(exc)
        routes.link("article", "All articles")
        return
    st.title(c.md(article.title))
    labels = c.tag_labels(kb)
    c.meta_line(article.date.isoformat(), ", ".join(labels.get(t, t) for t in article.tags))
    wanted = st.query_params.get("section")
    with st.expander("Sections", expanded=False):
        for s in article.sections:
            routes.link("article", s.heading, article=slug, section=s.anchor)
    for s in article.sections:
        if s.anchor != "intro":
            st.header(c.md(s.heading), anchor=s.anchor, divider="gray" if s.anchor == wanted else False)
        if s.anchor == wanted:
            st.caption("⬆ the section you were sent to")
        c.html_block(article_html(s.body))
    _conversations(kb, slug)


def _conversations(kb, slug: str) -> None:
    docs = kb.comments_of(slug)
    roots = [d for d in docs if not d["parent"]]
    st.divider()
    st.subheader(f"Readers' conversations ({len(roots)} threads, {len(docs)} comments)")
    if not roots:
        st.info("No comments under this article yet.")
        return
    pages = max(1, -(-len(roots) // THREADS_PER_PAGE))
    try:
        page = min(max(1, int(st.query_params.get("page", "1"))), pages)
    except ValueError:
        page = 1
    by_thread: dict[str, list[dict]] = {}
    for d in docs:
        by_thread.setdefault(d["thread"], []).append(d)
    for root in roots[(page - 1) * THREADS_PER_PAGE : page * THREADS_PER_PAGE]:
        with st.container(border=True):
            c.thread_view(by_thread.get(root["id"], [root]))
            routes.link("story", "Open this conversation", comment=root["id"])
    if pages > 1:
        cols = st.columns(3)
        with cols[0]:
            if page > 1:
                routes.link("article", "← Previous", article=slug,
                            page=str(page - 1))
        cols[1].caption(f"Page {page} of {pages}")
        with cols[2]:
            if page < pages:
                routes.link("article", "Next →", article=slug, page=str(page + 1))
