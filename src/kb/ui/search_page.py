"""Search (home): a reader describes their situation and gets advice and similar stories."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from kb.search import KnowledgeBase

from kb import searchlog
from kb.errors import KbError
from kb.search import Filters, SearchResult
from kb.ui import components as c
from kb.ui import params, routes

EXAMPLES = [
    "My wife moved out after 12 years and says she needs space",
    "My boyfriend pulls away whenever I try to get closer",
    "I found out my husband has been texting another woman",
    "We keep having the same fight and he shuts down",
]
PAGE = 10
FIRST_ADVICE = 3  # advice shown at first: on a phone the stories come under it
NOT_FITTING = "Nothing here is really about that; these are the closest."


def _set_query(text: str) -> None:
    st.session_state["q"] = text
    st.query_params["q"] = text
    st.session_state["_url_q"] = text
    st.session_state["_typed_q"] = text  # picked in the app: counts as typed


def _filters(kb: KnowledgeBase, labels: dict[str, str]) -> Filters:
    articles = {a["slug"]: a["title"] for a in kb.articles()}
    params.sync_from_url("f_tags", "ftag", [], lambda v: params.url_list(v, labels))
    params.sync_from_url("f_article", "farticle", "", lambda v: v if v in articles else "")
    params.sync_from_url("f_answered", "answered", False, lambda v: v == "1")
    params.sync_from_url("f_since", "since", None, _parse_date)
    params.sync_from_url("f_until", "until", None, _parse_date)
    with st.expander(
        "Filters",
        expanded=bool(
            st.session_state.get("f_tags")
            or st.session_state.get("f_article")
            or st.session_state.get("f_answered")
            or st.session_state.get("f_since")
            or st.session_state.get("f_until")
        ),
    ):
        tags = st.multiselect(
            "Tags", options=list(labels), format_func=labels.__getitem__, key="f_tags"
        )
        article = st.selectbox(
            "Article",
            options=["", *articles],
            format_func=lambda s: articles.get(s, "Any article"),
            key="f_article",
        )
        left, right = st.columns(2)
        since = left.date_input(
            "Written since",
            value=None,
            key="f_since",
            min_value=dt.date(1995, 1, 1),
            max_value=dt.date.today(),
        )
        until = right.date_input(
            "Written until",
            value=None,
            key="f_until",
            min_value=dt.date(1995, 1, 1),
            max_value=dt.date.today(),
        )
        answered = st.toggle(
            "Only stories the author answered",
            key="f_answered",
            help="Leaves out readers' stories without a reply from the "
            "author. The advice is not filtered by this.",
        )
    params.write_to_url("f_tags", "ftag", ",".join(tags))
    params.write_to_url("f_article", "farticle", article)
    params.write_to_url("f_answered", "answered", "1" if answered else "")
    params.write_to_url("f_since", "since", since.isoformat() if since else "")
    params.write_to_url("f_until", "until", until.isoformat() if until else "")
    return Filters(
        tags=tuple(tags), article=article or None, since=since, until=until, answered=answered
    )


def _short(text: str, n: int = 50) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + "…"


def _parse_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _similar_view(kb: KnowledgeBase, like: str, labels: dict[str, str]) -> None:
    try:
        origin = kb.get(like)
        hits = kb.similar(like, limit=10)
    except KbError as exc:
        c.error(exc)
        return
    query = st.query_params.get("q", "")
    st.subheader(f"Stories like {origin.author}'s")
    c.meta_line(origin.author, origin.date, f"under “{origin.article_title}”")
    c.html_block(f"<div class='kb-comment'>{c.comment_html(origin.body)}</div>")
    c.links(
        routes.anchor(
            "search", f"Back to the search “{query[:60]}”" if query else "New search", q=query
        ),
        routes.anchor("story", f"Open {origin.author}'s conversation", comment=like, q=query),
    )
    st.divider()
    if not hits:
        st.info("No other stories are close to this one yet.")
    for i, hit in enumerate(hits):
        c.story_card(kb, hit, labels, key=f"like{i}", query=query)


def render() -> None:
    """Draw the search page."""
    kb = c.begin_page()
    if kb is None:
        return
    for param, target in (("comment", "story"), ("article", "article"), ("tag", "browse")):
        if param in st.query_params:  # a shared link at the root opens its own page
            st.switch_page(routes.page(target), query_params={param: st.query_params[param]})
    site = kb.manifest.get("site", {})
    name = site.get("title") or "kb"
    # "like" is the parameter's old name: links shared before still open the same view
    like = st.query_params.get("similar") or st.query_params.get("like")
    shown = st.query_params.get("q", "")
    what = "Stories like this one" if like else (f"“{_short(shown)}”" if shown else "Search")
    st.set_page_config(page_title=f"{what} · {name}")
    st.title(c.md(site.get("title") or "Search"))
    st.caption(
        "Tell your situation in your own words. You will find the advice that fits and "
        "readers who were where you are, with the author's answers."
    )
    labels = c.tag_labels(kb)
    if like:
        _similar_view(kb, like, labels)
        return

    params.sync_from_url("q", "q", "")
    text = st.text_area(
        "Describe your situation",
        key="q",
        height=100,
        on_change=_typed,
        placeholder="e.g. my girlfriend left after three years and won't answer my texts",
        help="Ctrl+Enter or the Search button searches.",
    )
    st.button("Search", key="go", type="primary")
    params.write_to_url("q", "q", text.strip())
    if text.strip():
        st.set_page_config(page_title=f"“{_short(text)}” · {name}")
    if not text.strip():
        st.write("Or start from one of these:")
        cols = st.columns(2)
        for i, example in enumerate(EXAMPLES):
            cols[i % 2].button(
                example, key=f"example{i}", on_click=_set_query, args=(example,), width="stretch"
            )
    filters = _filters(kb, labels)
    if not text.strip():
        return
    # The number shown grows with "show more" and resets for a new search.
    if st.session_state.get("_shown_for") != (text, filters):
        st.session_state["_shown_for"] = (text, filters)
        st.session_state["n_advice"] = FIRST_ADVICE
        st.session_state["n_stories"] = PAGE
    n = max(st.session_state["n_advice"], st.session_state["n_stories"])
    try:
        result = kb.search(text, filters=filters, limit=n)
    except KbError as exc:
        c.error(exc)
        return
    _record(kb, result, filters, text)
    if not result.fits and (result.advice or result.stories):
        c.html_block(
            f"<div class='kb-fit' role='status'><b>{NOT_FITTING}</b> If they miss "
            "your situation, try telling it in other words, or browse by tag.</div>"
        )
    if result.did_you_mean:
        st.info(f"Did you mean: **{c.md(result.did_you_mean)}**?")
        st.button(
            "Search for that instead", key="dym", on_click=_set_query, args=(result.did_you_mean,)
        )
    if result.relaxed:
        st.caption(c.md(result.relaxed.capitalize() + "."))
    if result.truncated:
        st.caption("Your text was long, so only its beginning was used.")
    if filters.answered:
        st.caption(
            "Showing only the readers' stories the author answered; the advice is "
            "not filtered by that."
        )
    if not result.advice and not result.stories:
        st.warning(c.md(result.message or "Nothing matched."))
        st.write("You can also browse readers' stories by topic:")
        routes.link("browse", "Browse by tag")
        return
    left, right = st.columns([2, 3], gap="large")
    with left, st.container(key="advice"):  # on a phone its snippets are kept short
        st.subheader(f"Advice ({result.total_advice})")
        for hit in result.advice[: st.session_state["n_advice"]]:
            c.advice_card(hit, labels)
        if result.total_advice > st.session_state["n_advice"]:
            st.button(
                f"Show more advice ({result.total_advice - st.session_state['n_advice']} more)",
                key="more_advice",
                on_click=_more,
                args=("n_advice",),
            )
    with right:
        st.subheader(f"Readers in your situation ({result.total_stories})")
        for i, hit in enumerate(result.stories[: st.session_state["n_stories"]]):
            c.story_card(kb, hit, labels, key=f"s{i}", query=text.strip())
        if result.total_stories > st.session_state["n_stories"]:
            st.button("Show more stories", key="more_stories", on_click=_more, args=("n_stories",))


def _record(kb: KnowledgeBase, result: SearchResult, filters: Filters, text: str) -> None:
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
