"""Author: the questions readers ask again and again, what is answered and what is covered."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from kb.search import KnowledgeBase

from kb import questions, tagstats
from kb.ui import components as c
from kb.ui import routes, state
from kb.ui.signin import require_author

SORTS = {"count": "Most asked", "growth": "Growing lately", "unanswered": "Most unanswered"}


@st.cache_data(show_spinner="Grouping reader questions…", max_entries=16)
def _review(
    index_dir: str,
    generation: str,
    since: dt.date | None,
    min_count: int,
    sort: str,
    unanswered: bool,
    not_covered: bool,
) -> dict:
    kb = state.knowledge_base_for(index_dir)
    return questions.review(
        kb,
        since=since,
        min_count=min_count,
        sort=sort,
        unanswered=unanswered,
        not_covered=not_covered,
    )


def render() -> None:
    """Draw the frequent-questions review (author only)."""
    tagstats.import_libraries(learning=True)  # before any chart: see tagstats.IMPORT_LOCK
    c.page_style()
    st.title("What readers ask")
    require_author()
    kb = state.knowledge_base()
    if kb is None:
        return
    cols = st.columns(5)
    since = cols[0].date_input(
        "Asked since", value=None, key="faq_since", min_value=dt.date(1995, 1, 1)
    )
    min_count = cols[1].number_input("At least", min_value=1, value=2, key="faq_min")
    sort = (
        cols[2].selectbox("Order", list(SORTS), format_func=SORTS.__getitem__, key="faq_sort")
        or "count"  # (never empty: the options are fixed)
    )
    unanswered = cols[3].toggle("Mostly unanswered", key="faq_unanswered")
    not_covered = cols[4].toggle("Not covered", key="faq_not_covered")
    report = _review(
        str(kb.index_dir), kb.generation(), since, int(min_count), sort, unanswered, not_covered
    )
    groups = report["groups"]
    st.caption(
        f"{report['questions']} reader questions; {len(groups)} groups shown. Groups come "
        "from the questions' wording only; a 'mixed' group gathers asks that fit no other."
    )
    if not groups:
        st.info("No group matches these filters.")
    else:
        st.dataframe(
            [
                {
                    "group": g["id"],
                    "question": g["representative"],
                    "comments": g["count"],
                    "readers": g["readers"],
                    "answered": g["answered"],
                    "first": g["first_seen"],
                    "last": g["last_seen"],
                    "covered by": g["covered_title"] or "not covered",
                    "mixed": g["mixed"],
                }
                for g in groups
            ],
            hide_index=True,
            width="stretch",
            key="faq_table",
        )
        top = [g for g in groups if not g["mixed"]][:5]
        years = sorted({y for g in top for y in g["trend"]})
        if years:
            st.subheader("The top groups over time")
            chart = {_series_name(g): [g["trend"].get(y, 0) for y in years] for g in top}
            # years as text: a number axis would print 2,002
            st.line_chart({"year": [str(y) for y in years], **chart}, x="year")
        _drill_down(kb, groups)
    st.subheader("Asked in search, not answered anywhere")
    if report["searches"]:
        st.dataframe(
            [
                {
                    "searches": s["count"],
                    "question": s["representative"],
                    "wordings": " | ".join(s["searches"][:5]),
                }
                for s in report["searches"]
            ],
            hide_index=True,
            width="stretch",
            key="faq_searches",
        )
    else:
        st.caption("No weak searches recorded yet.")
    draft = questions.markdown_draft(report, kb, kb.manifest.get("site", {}).get("base_url", ""))
    st.download_button(
        "Download a FAQ draft (Markdown)",
        draft,
        file_name="faq-draft.md",
        mime="text/markdown",
        key="faq_download",
    )


def _series_name(g: dict) -> str:
    # chart column names must not carry Vega-Lite's shorthand characters (":" and friends)
    words = "".join(ch if ch.isalnum() or ch in " '-?" else " " for ch in g["representative"])
    return f"{g['id']} - {' '.join(words.split())[:40]}"


def _drill_down(kb: KnowledgeBase, groups: list[dict]) -> None:
    st.subheader("Read a group")
    chosen = st.selectbox(
        "Group",
        [g["id"] for g in groups],
        key="faq_group",
        format_func=lambda i: next(
            f"{g['id']}: {g['representative'][:80]}" for g in groups if g["id"] == i
        ),
    )
    g = next(g for g in groups if g["id"] == chosen)
    st.write(c.md("Key terms: " + ", ".join(g["key_terms"])))
    if g["covered_by"]:
        slug, _, anchor = g["covered_by"].partition("#")
        routes.link("article", f"Covered by: {g['covered_title']}", article=slug, section=anchor)
    docs = {d.id: d for d in kb.all_comments()}
    for cid in g["comment_ids"][:30]:
        d = docs.get(cid)
        if not d:
            continue
        with st.container(border=True):
            c.meta_line(d.author, c.day(d.date), "answered" if d.replies else "no reply yet")
            c.html_block(f"<div class='kb-comment'>{c.comment_html(d.body[:600])}</div>")
            routes.link("story", f"Open {d.author}'s conversation", comment=cid)
