"""Article: the article rendered with linkable sections, then its conversations, paged."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from kb.index.handle import StoredDoc
    from kb.search import KnowledgeBase

from kb.corpus.read import read_article
from kb.errors import KbError
from kb.safe_html import article_html
from kb.ui import components as c
from kb.ui import routes, state

THREADS_PER_PAGE = 10


def _index(kb: KnowledgeBase) -> None:
    site = kb.manifest.get("site", {}).get("title") or "kb"
    st.set_page_config(page_title=f"Articles · {site}")
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
    wanted = st.query_params.get("section")
    heading = next(
        (s.heading for s in article.sections if s.anchor == wanted and s.anchor != "intro"), ""
    )
    site = kb.manifest.get("site", {}).get("title") or "kb"
    st.set_page_config(page_title=f"{heading + ' · ' if heading else ''}{article.title} · {site}")
    st.title(c.md(article.title))
    labels = c.tag_labels(kb)
    c.meta_line(article.date.isoformat(), ", ".join(labels.get(t, t) for t in article.tags))
    c.links(c.outside_link(c.original(kb, slug), "This article on the original site"))
    with st.expander("Sections", expanded=False):
        for s in article.sections:
            routes.link("article", s.heading, article=slug, section=s.anchor)
    for s in article.sections:
        marked = s.anchor == wanted
        if s.anchor != "intro":
            st.header(c.md(s.heading), anchor=s.anchor, divider="gray" if marked else False)
        body = article_html(s.body)
        if marked:
            body = (
                f"<div class='kb-wanted' id='kb-wanted'><div class='kb-meta'>The section "
                f"you were sent to</div>{body}</div>"
            )
        c.html_block(body)
    if wanted and any(s.anchor == wanted for s in article.sections):
        _scroll_to(wanted)
    _conversations(kb, slug)


def _scroll_to(anchor: str) -> None:
    """Scroll the page to a section once it is drawn (our script; the anchor is escaped).

    The page is drawn in pieces, so the script keeps the section in view for two seconds
    after it appears, unless the reader scrolls first.
    """
    import json

    from streamlit.components.v1 import html as component

    script = """<script>(function(){
const id = ANCHOR, d = window.parent.document;
let moved = false, seen = 0, n = 0;
for (const e of ["wheel", "touchstart", "keydown", "mousedown"]) {
  d.addEventListener(e, function(){ moved = true; }, {once: true, passive: true});
}
const t = setInterval(function(){
  n += 1;
  const el = d.getElementById(id);
  if (el && !moved) {
    el.style.scrollMarginTop = "4.5rem";
    if (Math.abs(el.getBoundingClientRect().top - 72) > 8) el.scrollIntoView({block: "start"});
    seen += 1;
  }
  if (moved || seen > 20 || n > 150) clearInterval(t);
}, 100);
})();</script>"""
    component(script.replace("ANCHOR", json.dumps(anchor).replace("<", "\\u003c")), height=0)


def _conversations(kb: KnowledgeBase, slug: str) -> None:
    docs = kb.comments_of(slug)
    roots = [d for d in docs if not d.parent]
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
    by_thread: dict[str, list[StoredDoc]] = {}
    for d in docs:
        by_thread.setdefault(d.thread, []).append(d)
    for root in roots[(page - 1) * THREADS_PER_PAGE : page * THREADS_PER_PAGE]:
        with st.container(border=True):
            c.thread_view(by_thread.get(root.id, [root]))
            routes.link(
                "story",
                f"Open {root.author}'s conversation ({c.day(root.date)})",
                comment=root.id,
            )
    if pages > 1:
        cols = st.columns(3)
        with cols[0]:
            if page > 1:
                routes.link("article", "← Previous", article=slug, page=str(page - 1))
        cols[1].caption(f"Page {page} of {pages}")
        with cols[2]:
            if page < pages:
                routes.link("article", "Next →", article=slug, page=str(page + 1))
