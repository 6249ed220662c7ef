"""Story: one conversation, whole, from any comment's link."""

from __future__ import annotations

import streamlit as st

from kb.errors import KbError
from kb.ui import components as c
from kb.ui import routes


def render() -> None:
    """Draw one whole thread around the comment named in ``?comment=``."""
    kb = c.begin_page()
    if kb is None:
        return
    comment = st.query_params.get("comment")
    if not comment:
        st.info("Open a conversation from a search result, a tag or an article.")
        routes.link("search", "Go to search")
        return
    try:
        docs = kb.thread(comment)
    except KbError as exc:
        c.error(exc)
        routes.link("search", "Go to search")
        return
    first = docs[0]
    st.title("A reader's story")
    routes.link("article", f"Under “{first['article_title']}”", article=first["article"])
    labels = c.tag_labels(kb)
    tags = sorted({t for d in docs for t in (d.get("tags") or "").split(",") if t})
    c.tag_badges(tags, [], labels)
    c.thread_view(docs, highlight=comment)
    cols = st.columns(2)
    with cols[0]:
        routes.link("search", "Stories like this one", like=comment)
    with cols[1]:
        routes.link("search", "New search")
