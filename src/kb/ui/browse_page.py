"""Browse by tag: every tag with its count, and the comments carrying one or more tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import altair as alt

    from kb.search import KnowledgeBase

from kb import tagstats
from kb.errors import KbError
from kb.model import SORTS, SUGGEST_THRESHOLD
from kb.ui import components as c
from kb.ui import params, routes

PER_PAGE = 20
SORT_LABELS = dict(zip(SORTS, ("Newest first", "Oldest first", "Most discussed"), strict=True))


SOURCES = {  # how a comment got a tag, in a visitor's words
    "hand": "Tagged by the author",
    "rule": "Tagged from its wording",
    "suggested": "Suggested, not checked yet",
}


def tag_chart(counts: list[dict]) -> alt.Chart:
    """Return the bar chart of tags by number of comments, most used first, split by source."""
    import altair as alt

    order = [t["label"] for t in sorted(counts, key=lambda t: (-t["count"], t["label"]))]
    rows = [
        {"tag": t["label"], "source": SOURCES[k], "rank": i, "comments": t[k]}
        for t in counts
        for i, k in enumerate(SOURCES)
        if t[k]
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y(
                "tag:N",
                sort=order,
                title=None,
                axis=alt.Axis(labelLimit=0, labelOverlap=False, labelFontSize=13),
            ),
            x=alt.X("sum(comments):Q", title="comments", axis=alt.Axis(format="d", tickMinStep=1)),
            color=alt.Color(
                "source:N",
                sort=list(SOURCES.values()),
                scale=alt.Scale(
                    domain=list(SOURCES.values()), range=["#2e7d6b", "#7fb3a6", "#c9c9c9"]
                ),
                legend=alt.Legend(title=None, orient="bottom", direction="vertical", labelLimit=0),
            ),
            order=alt.Order("rank:Q"),
            tooltip=["tag:N", "source:N", "comments:Q"],
        )
        .properties(height=max(160, 28 * len(order)))
    )


def _overview(kb: KnowledgeBase, counts: list[dict], learning: bool) -> None:
    st.title("Browse by tag")
    if not counts:
        st.info(
            "This site has no tags yet, so there is nothing to browse by. Search by "
            "your situation instead; the author can add tags on the Author: tags page "
            "or in the corpus's tags.yaml."
        )
        routes.link("search", "Search by situation")
        return
    used = [t for t in counts if t["count"]]
    if not used:
        st.info("No comment carries a tag yet. Search by your situation instead.")
        routes.link("search", "Search by situation")
        return
    st.caption(
        "Every tag with the number of comments that carry it. The author tags comments "
        "by hand; others get a tag because their wording matches it; and some are "
        "suggested by the computer from the author's tagging, not checked yet."
    )
    if learning:
        st.caption("Suggested tags are still being worked out; reload in a moment to see them.")
    st.altair_chart(tag_chart(used), width="stretch", height=max(200, 28 * len(used) + 120))
    cols = st.columns(3)
    for i, t in enumerate(sorted(counts, key=lambda t: t["label"])):
        with cols[i % 3]:
            routes.link("browse", f"{t['label']} ({t['count']})", tag=t["id"])


def render() -> None:
    """Draw the tag overview, or the comments for ``?tag=a,b``."""
    tagstats.import_libraries()  # before any chart: see tagstats.IMPORT_LOCK
    kb = c.begin_page()
    if kb is None:
        return
    threshold = kb.manifest.get("site", {}).get("suggest_threshold", SUGGEST_THRESHOLD)
    learning = tagstats.suggestions(kb, wait=False) is None  # never wait for them here
    counts = tagstats.tag_overview(kb, threshold=threshold, wait=False)
    labels = {t["id"]: t["label"] for t in counts}
    raw = st.query_params.get("tag", "")
    site = kb.manifest.get("site", {}).get("title") or "kb"
    if not raw:
        st.set_page_config(page_title=f"Browse by tag · {site}")
        _overview(kb, counts, learning)
        return
    st.set_page_config(
        page_title=" + ".join(labels.get(t, t) for t in raw.split(",")[:3])
        + f" · Browse by tag · {site}"
    )
    st.title("Browse by tag")
    params.sync_from_url("b_tags", "tag", [], lambda v: params.url_list(v, labels))
    params.sync_from_url("b_sort", "sort", SORTS[0], lambda v: v if v in SORT_LABELS else SORTS[0])
    chosen = st.multiselect(
        "Tags (comments carrying all of them)",
        options=list(labels),
        format_func=labels.__getitem__,
        key="b_tags",
    )
    sort = (
        st.selectbox(
            "Order", options=list(SORT_LABELS), format_func=SORT_LABELS.__getitem__, key="b_sort"
        )
        or SORTS[0]
    )  # (never empty: the options are fixed)
    params.write_to_url("b_tags", "tag", ",".join(chosen))
    params.write_to_url("b_sort", "sort", "" if sort == SORTS[0] else sort)
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
        total, hits = tagstats.browse(
            kb,
            chosen,
            sort=sort,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
            threshold=threshold,
            wait=False,
        )
    except KbError as exc:
        c.error(exc)
        return
    names = " + ".join(labels[t] for t in chosen)
    st.subheader(c.md(f"{names}: {total} comments"))
    for t in chosen:
        info = next(x for x in counts if x["id"] == t)
        often = ", ".join(labels.get(o["tag"], o["tag"]) for o in info["together"])
        st.caption(
            c.md(
                f"{labels[t]}: {info.get('description', '')} — {info['hand']} tagged by "
                f"the author, {info['rule']} from their wording, {info['suggested']} "
                "suggested (not checked yet)."
                + (f" Often together with: {often}." if often else "")
            )
        )
    for i, hit in enumerate(hits):
        if hit.kind == "story":
            c.story_card(kb, hit, labels, key=f"b{i}")
        else:
            c.advice_card(hit, labels)
    pages = max(1, -(-total // PER_PAGE))
    if pages > 1:
        cols = st.columns(3)
        tag_param = ",".join(chosen)
        extra: dict[str, str] = {"sort": sort} if sort != SORTS[0] else {}
        with cols[0]:
            if page > 1:
                routes.link("browse", "← Previous", tag=tag_param, page=str(page - 1), **extra)
        cols[1].caption(f"Page {page} of {pages}")
        with cols[2]:
            if page < pages:
                routes.link("browse", "Next →", tag=tag_param, page=str(page + 1), **extra)
    routes.link("browse", "All tags")
