"""Search (home): a reader describes their situation and gets advice and similar stories."""

from __future__ import annotations

import contextlib
import datetime as dt

import streamlit as st

from kb import searchlog
from kb.errors import KbError
from kb.search import Filters
from kb.ui import components as c
from kb.ui import params, routes

EXAMPLES = [
    "My wife moved out after 12 years and says she needs space",
    "My boyfriend pulls away whenever I try to get closer",
    "I found out my husband has been texting another woman",
    "We keep having the same fight and he shuts down",
]
PAGE = 10


def _set_query(text: str) -> None:
    st.session_state["q"] = text
    st.query_params["q"] = text
    st.session_state["_url_q"] = text
    st.session_state["_typed_q"] = text  # picked in the app: counts as typed


def _filters(kb, labels: dict[str, str]) -> Filters:
    articles = {a["slug"]: a["title"] for a in kb.articles()}
    params.sync_from_url("f_tags", "ftag", [], lambda v: params.url_list(v, labels))
    params.sync_from_url("f_article", "farticle", "", lambda v: v if v in articles else "")
    params.sync_from_url("f_answered", "answered", False, lambda v: v == "1")
    params.sync_from_url("f_since", "since", None, _parse_date)
    params.sync_from_url("f_until", "until", None, _parse_date)
    with st.expander("Filters", expanded=bool(st.session_state.get("f_tags")
                                              or st.session_state.get("f_article")
                                              or st.session_state.get("f_answered")
                                              or st.session_state.get("f_since")
                                              or st.session_state.get("f_until"))):
        tags = st.multiselect("Tags", options=list(labels), format_func=labels.get, key="f_tags")
        article = st.selectbox("Article", options=["", *articles],
                               format_func=lambda s: articles.get(s, "Any article"),
                               key="f_article")
        left, right = st.columns(2)
        since = left.date_input("Written since", value=None, key="f_since",
                                min_value=dt.date(1995, 1, 1), max_value=dt.date.today())
        until = right.date_input("Written until", value=None, key="f_until",
                                 min_value=dt.date(1995, 1, 1), max_value=dt.date.today())
        answered = st.toggle("Only stories the author answered", key="f_answered")
    params.write_to_url("f_tags", "ftag", ",".join(tags))
    params.write_to_url("f_article", "farticle", article)
    params.write_to_url("f_answered", "answered", "1" if answered else "")
    params.write_to_url("f_since", "since", since.isoformat() if since else "")
    params.write_to_url("f_until", "until", until.isoformat() if until else "")
    return Filters(tags=tuple(tags), article=article or None, date_from=since, date_to=until,
                   answered=answered)


def _parse_date(value: str):
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _similar_view(kb, like: str, labels) -> None:
    try:
        origin = kb.get(like)
        hits = kb.similar(like, limit=10)
    except KbError as exc:
        c.error(exc)
        return
    st.subheader("Stories like this one")
    c.meta_line(origin["author"], c._day(origin["date"]), f"under “{origin['article_title']}”")
    c.html_block(f"<div class='kb-comment'>{c.comment_html(origin['body'])}</div>")
    routes.link("search", "Back to search")
    st.divider()
    if not hits:
        st.info("No other stories are close to this one yet.")
    for i, hit in enumerate(hits):
        c.story_card(kb, hit, labels, key=f"like{i}")


def render() -> None:
    """Draw the search page."""
    kb = c.begin_page()
    if kb is None:
        return
    for param, target in (("comment", "story"), ("article", "article"), ("tag", "browse")):
        if param in st.query_params:  # a shared link at the root opens its own page
            st.switch_page(routes.page(target), query_params={param: st.query_params[param]})
    site = kb.manifest.get("site", {})
    st.title(c.md(site.get("title") or "Search"))
    st.caption("Tell your situation in your own words. You will find the advice that fits and "
               "readers who were where you are, with the author's answers.")
    labels = c.tag_labels(kb)
    like = st.query_params.get("like")
    if like:
        _similar_view(kb, like, labels)
        return

    params.sync_from_url("q", "q", "")
    text = st.text_input(
        "Describe your situation", key="q", on_change=_typed,
        placeholder="e.g. my girlfriend left after three years and won't answer my texts",
    )
    params.write_to_url("q", "q", text.strip())
    if not text.strip():
        st.write("Or start from one of these:")
        cols = st.columns(2)
        for i, example in enumerate(EXAMPLES):
            cols[i % 2].button(example, key=f"example{i}", on_click=_set_query, args=(example,),
                               width="stretch")
    filters = _filters(kb, labels)
    if not text.strip():
        return
    # The number shown grows with "show more" and resets for a new search.
    if st.session_state.get("_shown_for") != (text, filters):
        st.session_state["_shown_for"] = (text, filters)
        st.session_state["n_advice"] = PAGE
        st.session_state["n_stories"] = PAGE
    n = max(st.session_state["n_advice"], st.session_state["n_stories"])
    try:
        result = kb.search(text, filters=filters, limit=n)
    except KbError as exc:
        c.error(exc)
        return
    _record(kb, result, filters, text)
    if result.did_you_mean:
        st.info(f"Did you mean: **{c.md(result.did_you_mean)}**?")
        st.button("Search for that instead", key="dym", on_click=_set_query,
                  args=(result.did_you_mean,))
    if result.relaxed:
        st.caption(c.md(result.relaxed.capitalize() + "."))
    if result.truncated:
        st.caption("Your text was long, so only its beginning was used.")
    if not result.advice and not result.stories:
        st.warning(c.md(result.message or "Nothing matched."))
        st.write("You can also browse readers' stories by topic:")
        routes.link("browse", "Browse by tag")
        return
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.subheader(f"Advice ({result.total_advice})")
        for hit in result.advice[: st.session_state["n_advice"]]:
            c.advice_card(hit, labels)
        if result.total_advice > st.session_state["n_advice"]:
            st.button("Show more advice", key="more_advice", on_click=_more, args=("n_advice",))
    with right:
        st.subheader(f"Readers in your situation ({result.total_stories})")
        for i, hit in enumerate(result.stories[: st.session_state["n_stories"]]):
            c.story_card(kb, hit, labels, key=f"s{i}")
        if result.total_stories > st.session_state["n_stories"]:
            st.button("Show more stories", key="more_stories", on_click=_more, args=("n_stories",))


def _record(kb, result, filters, text: str) -> None:
    """Count a weak search once per session and text (see kb.searchlog), if the site allows."""
    if filters != Filters() or not kb.manifest.get("site", {}).get("record_weak_searches", True):
        return
    if st.session_state.get("_typed_q", "").strip() != text.strip():
        return  # opened from a link, not typed here: a crafted link must not write the log
    seen = st.session_state.setdefault("_recorded", set())
    if result.query in seen or len(seen) >= searchlog.PER_SESSION:
        return
    seen.add(result.query)
    with contextlib.suppress(OSError):  # a read-only index folder must not break searching
        searchlog.record(kb.index_dir, result)


def _typed() -> None:
    st.session_state["_typed_q"] = st.session_state.get("q", "")


def _more(key: str) -> None:
    st.session_state[key] += PAGE
