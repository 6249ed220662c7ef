"""Browse by tag: every tag with its count, and the comments carrying one or more tags."""

from __future__ import annotations

import streamlit as st

from kb import tagstats
from kb.errors import KbError
from kb.ui import components as c
from kb.ui import params, routes

PER_PAGE = 20
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "discussed": "Most discussed"}


def _overview(kb, counts: list[dict]) -> None:
    st.title("Browse by tag")
    st.caption("Every tag with the number of comments that carry it: tagged by the author, "
               "by the taxonomy's phrases, or suggested from the author's tagging.")
    chart = {t["label"]: t["count"] for t in sorted(counts, key=lambda t: -t["count"])}
    st.bar_chart(chart, horizontal=True, height=max(300, 30 * len(chart)), x_label="comments")
    cols = st.columns(3)
    for i, t in enumerate(sorted(counts, key=lambda t: t["label"])):
        with cols[i % 3]:
            routes.link("browse", f"{t['label']} ({t['count']})", tag=t["id"])


def render() -> None:
    """Draw the tag overview, or the comments for ``?tag=a,b``."""
    kb = c.begin_page()
    if kb is None:
        return
    threshold = kb.manifest.get("site", {}).get("suggest_threshold", 0.6)
    counts = tagstats.tag_overview(kb, threshold=threshold)
    labels = {t["id"]: t["label"] for t in counts}
    raw = st.query_params.get("tag", "")
    if not raw:
        _overview(kb, counts)
        return
    st.title("Browse by tag")
    params.sync_from_url("b_tags", "tag", [], lambda v: params.url_list(v, labels))
    params.sync_from_url("b_sort", "sort", "newest", lambda v: v if v in SORT_LABELS else "newest")
    chosen = st.multiselect("Tags (comments carrying all of them)", options=list(labels),
                            format_func=labels.get, key="b_tags")
    sort = st.selectbox("Order", options=list(SORT_LABELS), format_func=SORT_LABELS.get,
                        key="b_sort")
    params.write_to_url("b_tags", "tag", ",".join(chosen))
    params.write_to_url("b_sort", "sort", "" if sort == "newest" else sort)
    if not chosen:
        unknown = ", ".join(t for t in params.url_list(raw) if t not in labels)
        if unknown:
            c.error(f"Unknown tag: {unknown[:200]}. Pick one from the list.")
        routes.link("browse", "All tags")
        return
    try:
        page = max(1, int(st.query_params.get("page", "1")))
    except ValueError:
        page = 1
    try:
        total, hits = tagstats.browse(kb, chosen, sort=sort, limit=PER_PAGE,
                                      offset=(page - 1) * PER_PAGE, threshold=threshold)
    except KbError as exc:
        c.error(exc)
        return
    names = " + ".join(labels[t] for t in chosen)
    st.subheader(c.md(f"{names}: {total} comments"))
    for t in chosen:
        info = next(x for x in counts if x["id"] == t)
        often = ", ".join(labels.get(o["tag"], o["tag"]) for o in info["together"])
        st.caption(c.md(f"{labels[t]}: {info.get('description', '')} — tagged by the author "
                        f"{info['hand']}, by rule {info['rule']}, suggested {info['suggested']}."
                        + (f" Often together with: {often}." if often else "")))
    for i, hit in enumerate(hits):
        if hit.kind == "story":
            c.story_card(kb, hit, labels, key=f"b{i}")
        else:
            c.advice_card(hit, labels)
    pages = max(1, -(-total // PER_PAGE))
    if pages > 1:
        cols = st.columns(3)
        tag_param = ",".join(chosen)
        extra = {"sort": sort} if sort != "newest" else {}
        with cols[0]:
            if page > 1:
                routes.link("browse", "← Previous", tag=tag_param, page=str(page - 1), **extra)
        cols[1].caption(f"Page {page} of {pages}")
        with cols[2]:
            if page < pages:
                routes.link("browse", "Next →", tag=tag_param, page=str(page + 1), **extra)
    routes.link("browse", "All tags")
