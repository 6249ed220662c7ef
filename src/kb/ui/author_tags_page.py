"""Author: review learned tag suggestions in bulk, edit a comment's tags, extend the taxonomy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from kb.index.handle import StoredDoc
    from kb.search import KnowledgeBase

from kb import tagstats
from kb.corpus.edit import add_tag, apply_decisions, set_comment_tags
from kb.errors import KbError
from kb.model import SUGGEST_THRESHOLD, Tag
from kb.ui import components as c
from kb.ui import routes, state
from kb.ui.signin import require_author

Docs = dict[str, "StoredDoc"]  # comments by id
Current = dict[str, tuple[list[str], list[str]]]  # hand tags and removed tags by comment id


def render() -> None:
    """Draw the tag review page (author only)."""
    tagstats.import_libraries()  # before any chart: see tagstats.IMPORT_LOCK
    c.page_style()
    st.title("Tags: review and edit")
    require_author()
    kb = state.knowledge_base()
    if kb is None:
        return
    labels = c.tag_labels(kb)
    docs = {d.id: d for d in kb.all_comments()}
    current = {cid: (list(d.tags), list(d.removed_tags)) for cid, d in docs.items()}
    tab_review, tab_edit, tab_new = st.tabs(["Suggestions", "One comment", "New tag"])
    with tab_review:
        _review(kb, docs, current, labels)
    with tab_edit:
        _edit_one(docs, current, labels)
    with tab_new:
        _new_tag(labels)


def _review(kb: KnowledgeBase, docs: Docs, current: Current, labels: dict[str, str]) -> None:
    saved = st.session_state.get("review_saved")
    if saved:
        st.success(saved)
    threshold = st.slider(
        "Show suggestions with confidence at least",
        0.0,
        1.0,
        SUGGEST_THRESHOLD,
        0.05,
        key="threshold",
    )
    ranked = tagstats.suggestions(kb, wait=False)
    if ranked is None:
        with st.spinner("Learning suggestions from your tags…"):
            ranked = tagstats.suggestions(kb)
    rows = []
    for cid, pairs in ranked.items():
        d = docs.get(cid)
        if d is None or d.kind != "story":  # the author's own replies are not reviewed
            continue
        for tag, score in pairs:
            if score >= threshold:
                rows.append(
                    {
                        "accept": False,
                        "reject": False,
                        "comment": cid,
                        "open": routes.url("story", comment=cid),
                        "tag": labels.get(tag, tag),
                        "tag_id": tag,
                        "confidence": round(score, 2),
                        "text": d.body[:160].replace("\n", " "),
                    }
                )
    st.caption(
        f"{len(rows)} suggestions at or above {threshold:.2f}, for readers' comments "
        "without hand tags. Accepting makes a hand tag; rejecting keeps the tag off that "
        "comment. Decided rows leave the list."
    )
    if not rows:
        return
    n = st.session_state.setdefault("review_round", 0)
    edited = st.data_editor(
        rows,
        key=f"review_table_{n}",
        hide_index=True,
        width="stretch",
        column_order=["accept", "reject", "confidence", "tag", "comment", "open", "text"],
        disabled=["comment", "open", "tag", "confidence", "text"],
        column_config={
            "accept": st.column_config.CheckboxColumn("accept", width=80),
            "reject": st.column_config.CheckboxColumn("reject", width=80),
            "open": st.column_config.LinkColumn(
                "whole comment", display_text="Read it", help="Opens the conversation"
            ),
        },
    )
    accept = [(str(r["comment"]), str(r["tag_id"])) for r in edited if r["accept"]]
    reject = [
        (str(r["comment"]), str(r["tag_id"])) for r in edited if r["reject"] and not r["accept"]
    ]
    if st.button(
        f"Apply: accept {len(accept)}, reject {len(reject)}",
        key="apply",
        disabled=not (accept or reject),
        type="primary",
    ):
        try:
            apply_decisions(state.corpus_dir(), current, accept, reject, known=labels)
        except KbError as exc:
            c.error(exc)
            return
        st.session_state["review_saved"] = f"Saved: {len(accept)} accepted, {len(reject)} rejected."
        st.session_state["review_round"] = n + 1  # a fresh table: no edits carried to new rows
        st.rerun()


def _edit_one(docs: Docs, current: Current, labels: dict[str, str]) -> None:
    cid = st.text_input("Comment id", key="edit_id", placeholder="c-000123").strip()
    if not cid:
        return
    if cid not in docs:
        c.error(f"No comment {cid[:100]!r}.")
        return
    d = docs[cid]
    c.meta_line(d.author, c.day(d.date), f"under “{d.article_title}”")
    c.html_block(f"<div class='kb-comment'>{c.comment_html(d.body)}</div>")
    rule = list(d.rule_tags)
    if rule:
        st.caption(c.md("Tagged by rule: " + ", ".join(labels.get(t, t) for t in rule)))
    hand, removed = current[cid]
    with st.form(f"edit_{cid}"):
        new_hand = st.multiselect(
            "Hand tags",
            list(labels),
            default=hand,
            format_func=labels.__getitem__,
            key=f"hand_{cid}",
        )
        new_removed = st.multiselect(
            "Never tag this comment with",
            list(labels),
            default=removed,
            format_func=labels.__getitem__,
            key=f"removed_{cid}",
        )
        if st.form_submit_button("Save"):
            try:
                set_comment_tags(state.corpus_dir(), cid, new_hand, new_removed, known=labels)
            except KbError as exc:
                c.error(exc)
            else:
                st.success("Saved.")


def _new_tag(labels: dict[str, str]) -> None:
    with st.form("new_tag"):
        tag_id = st.text_input("Id (lower case, digits, '-')", key="new_tag_id")
        label = st.text_input("Label", key="new_tag_label")
        description = st.text_input("Description", key="new_tag_description")
        phrases = st.text_input(
            "Phrases for rule tagging, separated by commas", key="new_tag_phrases"
        )
        if st.form_submit_button("Add tag"):
            try:
                add_tag(
                    state.corpus_dir(),
                    Tag(
                        tag_id.strip(),
                        label,
                        description,
                        tuple(p.strip() for p in phrases.split(",") if p.strip()),
                    ),
                )
            except KbError as exc:
                c.error(exc)
            else:
                st.success(c.md(f"Added {tag_id}. The index is rebuilt on the next run."))
