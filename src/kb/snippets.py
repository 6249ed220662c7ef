"""Snippets: the passage of a text that best shows why it matched, terms marked.

The snippet is HTML-safe: the text is escaped and only ``<mark>`` tags are
added, so a face may render it as HTML without trusting the comment.
"""

from __future__ import annotations

import html
import re

from kb.analysis import tokens

_MD_NOISE = re.compile(r"(^|\s)[#>*_`~]+|[*_`~]+(\s|$)|!?\[([^\]]*)\]\([^)]*\)")
_SPACE = re.compile(r"\s+")


def plain(text: str) -> str:
    """Return Markdown text as plain single-spaced text (links keep their words)."""
    text = _MD_NOISE.sub(
        lambda m: (m.group(1) or "") + (m.group(3) or "") + (m.group(2) or ""), text
    )
    return _SPACE.sub(" ", text).strip()


def snippet(text: str, terms: set[str], width: int = 260) -> str:
    """Return an escaped passage of about ``width`` characters with matched words in ``<mark>``."""
    text = plain(text)
    toks = [(s, a, b) for s, a, b in tokens(text) if s in terms]
    if not toks:
        cut = text[:width]
        return html.escape(cut) + ("…" if len(text) > width else "")
    # choose the window that holds the most distinct matched terms (the first such window):
    # one pass with a sliding window, so a comment of megabytes takes linear time
    best, best_count = 0, -1
    counts: dict[str, int] = {}
    j = 0
    for i, (_, a, _b) in enumerate(toks):
        while j < len(toks) and toks[j][1] - a <= width:
            counts[toks[j][0]] = counts.get(toks[j][0], 0) + 1
            j += 1
        if len(counts) > best_count:
            best, best_count = i, len(counts)
        s = toks[i][0]
        counts[s] -= 1
        if not counts[s]:
            del counts[s]
    start = toks[best][1]
    back = text.rfind(". ", max(0, start - 80), start)
    start = back + 2 if back >= 0 else max(0, text.rfind(" ", 0, max(0, start - 30)) + 1)
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    out, pos = [], start
    for _, a, b in toks:
        if a < start or b > end:
            continue
        out.append(html.escape(text[pos:a]))
        out.append(f"<mark>{html.escape(text[a:b])}</mark>")
        pos = b
    out.append(html.escape(text[pos:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return prefix + "".join(out) + suffix
