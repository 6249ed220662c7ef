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
    me = next((d for d in docs if d.id == comment), first)
    site = kb.manifest.get("site", {}).get("title") or "kb"
    summary = " ".join(first.body.split()[:6])
    st.set_page_config(page_title=f"{first.author}: {summary} · {site}")
    st.title("A reader's story")
    query = st.query_params.get("q", "")
    c.links(
        routes.anchor("search", f"Back to the search “{query[:60]}”", q=query) if query else "",
        routes.anchor("article", f"Under “{first.article_title}”", article=first.article),
        c.outside_link(
            c.original(kb, me.article, me.id),
            f"{me.author}'s comment on the original site",
        ),
    )
    labels = c.tag_labels(kb)
    tags = sorted({t for d in docs for t in d.tags if t})
    c.tag_badges(tags, [], labels)
    c.thread_view(docs, highlight=comment)
    c.links(
        routes.anchor("search", f"Stories like {me.author}'s", similar=comment, q=query),
        routes.anchor("search", "New search"),
    )
