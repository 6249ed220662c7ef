"""Pieces of pages: result cards, threads, tag badges. Untrusted text goes through kb.safe_html."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

from kb.index.handle import StoredDoc
from kb.safe_html import comment_html, snippet_html
from kb.search import Hit, KnowledgeBase
from kb.ui import routes

AUTHOR_BOX = (
    "<div style='border-left:3px solid #2e7d6b;padding:0.2rem 0 0.2rem 0.8rem;margin:0.4rem 0'>"
    "<div style='font-size:0.85rem;color:#2e7d6b;font-weight:600'>{who} replied · {date}</div>"
    "{body}</div>"
)


def html_block(fragment: str) -> None:
    """Show HTML that was built here from escaped or sanitized pieces.

    Streamlit reads it as Markdown in which raw HTML is allowed: the fragment is put in
    one HTML block (a div first, no blank line inside, which would end the block), so no
    escaped text in it (a name, a label) is ever read as Markdown.
    """
    body = re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n", fragment.strip())
    st.markdown(f"<div class='kb-html'>{body}</div>", unsafe_allow_html=True)


def tag_labels(kb: KnowledgeBase) -> dict[str, str]:
    """Return tag id -> label for the taxonomy of the live index."""
    return {t["id"]: t["label"] for t in kb.manifest.get("tags", [])}


def tag_badges(
    tags: Sequence[str],
    rule_tags: Sequence[str],
    labels: dict[str, str],
    suggested: Sequence[str] = (),
) -> None:
    """Show a hit's tags: hand tags solid, rule tags dashed, suggestions dotted and marked."""
    parts = [
        f"<span class='kb-tag' title='tagged by the author'>{html.escape(labels.get(t, t))}</span>"
        for t in tags
    ]
    parts += [
        f"<span class='kb-tag kb-rule' title='tagged automatically: its wording matches the tag'>{html.escape(labels.get(t, t))}</span>"
        for t in rule_tags
    ]
    parts += [
        f"<span class='kb-tag kb-sugg' title='suggested from the author&#x27;s tagging, not checked yet'>{html.escape(labels.get(t, t))} ?</span>"
        for t in suggested
    ]
    if parts:
        html_block(" ".join(parts))


STYLE = """
<style>
.kb-tag{display:inline-block;font-size:0.75rem;padding:0 0.45rem;margin:0 0.2rem 0.2rem 0;
  border-radius:0.6rem;background:#e6f2ef;color:#1d5246;border:1px solid #e6f2ef}
.kb-tag.kb-rule{background:transparent;border:1px dashed #7fb3a6}
.kb-tag.kb-sugg{background:transparent;border:1px dotted #b0b0b0;color:#666}
.kb-meta{font-size:0.85rem;color:#666}
.kb-snippet mark{background:#fff1a8;padding:0 1px}
.kb-comment{overflow-wrap:anywhere}
a.kb-link,.kb-comment a,.kb-snippet a{color:#1a5d8f;text-decoration:underline;
  text-underline-offset:2px}
a.kb-link:hover{color:#0d3f66;text-decoration-thickness:2px}
a:focus-visible,a.kb-link:focus-visible{outline:3px solid #2e7d6b !important;
  outline-offset:2px;border-radius:2px}
a.kb-out::after{content:" ↗";text-decoration:none;display:inline-block;margin-left:0.1rem}
.kb-links{display:flex;flex-wrap:wrap;gap:0.3rem 1.2rem;margin:0.3rem 0}
.kb-wanted{background:#fffbe6;border-left:4px solid #e0b000;padding:0.3rem 0.8rem}
.kb-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.kb-fit{border-left:4px solid #c77700;background:#fff6e5;padding:0.5rem 0.8rem;margin:0.4rem 0}
@media (max-width: 640px){
  .st-key-advice .kb-snippet{display:-webkit-box;-webkit-line-clamp:3;-webkit-box-orient:vertical;
    overflow:hidden}
  .st-key-advice .kb-tag{display:none}
  h1{font-size:1.7rem !important}
}
.stButton button{height:auto;min-height:2.5rem;white-space:normal;text-align:left}
.stButton button p{white-space:normal}
.kb-code{font-family:monospace;white-space:pre-wrap;background:#f6f6f6;padding:0.4rem;
  margin:0 0 0.6rem 0;border-radius:0.3rem}
</style>
"""


def page_style() -> None:
    """Add the app's small stylesheet (our own CSS, no user content)."""
    html_block(STYLE)


def begin_page() -> KnowledgeBase | None:
    """Start a reader page: style, the view's link in the address bar, a fresh index."""
    from kb.ui import state

    page_style()
    routes.pin_url()
    return state.knowledge_base()


def meta_line(author: str, date: object, extra: str = "") -> None:
    """Show who wrote something and when (the day only, as everywhere in the app)."""
    tail = f" · {html.escape(extra)}" if extra else ""
    html_block(
        f"<div class='kb-meta'><b>{html.escape(author)}</b> · {html.escape(day(date))}{tail}</div>"
    )


def links(*parts: str) -> None:
    """Show a row of links built by :func:`kb.ui.routes.anchor` or :func:`outside_link`."""
    html_block("<div class='kb-links'>" + "".join(p for p in parts if p) + "</div>")


def outside_link(url: str, label: str) -> str:
    """Return a link to the author's own site, marked as leaving kb ("" without an address)."""
    if not url:
        return ""
    return (
        f"<a class='kb-link kb-out' href='{html.escape(url)}' target='_blank' "
        'rel="noopener" title="Opens the original on the author&#x27;s own site">'
        f"{html.escape(label)}<span class='kb-sr'> (leaves this site)</span></a>"
    )


def original(kb: KnowledgeBase, slug: str, comment_id: str = "") -> str:
    """Return the original address of an article or a comment on the site, or ""."""
    from kb.origin import article_url, comment_url

    base = kb.manifest.get("site", {}).get("base_url", "")
    url = next((a.get("url", "") for a in kb.articles() if a["slug"] == slug), "")
    return comment_url(comment_id, slug, url, base) if comment_id else article_url(slug, url, base)


def advice_card(hit: Hit, labels: dict[str, str]) -> None:
    """Show one piece of advice: an article section or an author reply."""
    with st.container(border=True):
        if hit.kind == "section":
            st.markdown(f"**{md(hit.title)}**")
            meta_line(hit.article_title, hit.date)
            html_block(f"<div class='kb-snippet'>{snippet_html(hit.snippet)}</div>")
            routes.link(
                "article",
                f"Read the section “{hit.title}”",
                article=hit.article,
                section=hit.section,
            )
        else:
            meta_line(f"{hit.author} replied", hit.date, f"under “{hit.article_title}”")
            html_block(f"<div class='kb-snippet'>{snippet_html(hit.snippet)}</div>")
            routes.link(
                "story",
                f"Read {hit.author}'s reply of {day(hit.date)} in its conversation",
                comment=hit.id,
            )
        tag_badges(hit.tags, hit.rule_tags, labels)


def _md_text(text: str) -> str:
    """Escape Markdown control characters in our own short labels."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!<>|~:$" else c for c in text)


def md(text: object) -> str:
    """Return text for a place Streamlit renders as Markdown (titles, captions, boxes, labels).

    The text is put on one line and every Markdown mark is escaped, so text from a URL,
    a name or the corpus shows as typed: no image loads, no link, no heading, no code.
    """
    text = " ".join(str(text).split())
    # the renderer turns bare addresses into links even with their marks escaped: a
    # zero-width space in "://", after "//", "www." and "@" keeps them text
    text = re.sub(r"(//|(?<![\w])www\.|@)", "\\1\u200b", text, flags=re.I)
    text = text.replace("://", "\u200b://")
    text = "".join("\\" + c if c in "\\`*_{}[]()#!<>|~$&" else c for c in text)
    return _lead(text)


def _lead(text: str) -> str:
    """Escape a list marker or an item number at the start, which would make a list."""
    m = re.match(r"(\d+)([.)])", text)
    if m:
        return m.group(1) + "\\" + text[m.end(1) :]
    return "\\" + text if text[:1] in "-+=>" and text else text


_ABS_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)")


def public(message: object, limit: int = 300) -> str:
    """Return an error message fit for the page: its first line, no server paths, cut short."""
    from kb.ui import state

    text = str(message).strip().splitlines()[0] if str(message).strip() else "Something failed."
    cfg = state.settings()
    for folder, name in ((cfg.corpus, "the corpus"), (cfg.index, "the index")):
        for form in {str(folder), str(Path(folder).resolve())}:
            text = text.replace(form + "/", "").replace(form, name)
    text = _ABS_PATH.sub(lambda m: m.group(1), text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error(message: object) -> None:
    """Show an error in one line, without server paths, as plain text."""
    logging.getLogger("kb.ui").info("shown to a reader: %s", message)
    st.error(md(public(message)))


def story_card(
    kb: KnowledgeBase, hit: Hit, labels: dict[str, str], key: str, query: str = ""
) -> None:
    """Show a reader's story with the author's answer under it and the thread on demand.

    ``query`` is the search it was found by: its links carry it, so the story's page and
    "more like this" can lead back to the same results.
    """
    with st.container(border=True):
        meta_line(hit.author, hit.date, f"under “{hit.article_title}”")
        html_block(f"<div class='kb-snippet kb-comment'>{snippet_html(hit.snippet)}</div>")
        tag_badges(hit.tags, hit.rule_tags, labels, hit.suggested_tags)
        if hit.replies:
            reply = kb.get(hit.replies[0])
            html_block(
                AUTHOR_BOX.format(
                    who=html.escape(reply.author),
                    date=html.escape(day(reply.date)),
                    body=f"<div class='kb-comment'>{comment_html(reply.body)}</div>",
                )
            )
        else:
            st.caption("No reply from the author yet.")
        with st.expander("Whole conversation"):
            thread_view(kb.thread(hit.id), highlight=hit.id)
        who = hit.author or "this reader"
        links(
            routes.anchor("story", f"Open {who}'s conversation", comment=hit.id, q=query),
            routes.anchor("search", f"More stories like {who}'s", similar=hit.id, q=query),
        )


def day(value: object) -> str:
    """Return the day of a date, a datetime or an ISO string ("2013-06-04")."""
    if hasattr(value, "date"):
        return value.date().isoformat()
    return str(value or "")[:10]


def thread_view(docs: list[StoredDoc], highlight: str | None = None) -> None:
    """Show a whole thread, indented by depth, the author's replies marked."""
    for d in docs:
        indent = min(d.depth, 6) * 1.4
        border = "#2e7d6b" if d.is_author else "#ccc"
        bg = "background:#fffbe6;" if d.id == highlight else ""
        who = html.escape(d.author) + (" (author)" if d.is_author else "")
        html_block(
            f"<div id='{html.escape(d.id)}' style='margin-left:{indent}rem;border-left:3px solid "
            f"{border};padding:0.1rem 0 0.1rem 0.7rem;margin-bottom:0.6rem;{bg}'>"
            f"<div class='kb-meta'><b>{who}</b> · {html.escape(day(d.date))}</div>"
            f"<div class='kb-comment'>{comment_html(d.body)}</div></div>"
        )
