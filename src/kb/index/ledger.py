"""The ledger of an index generation: what each article's file put into the index.

For every article it records the digest of each document (a section or a comment,
rule tags left out: they follow from the text) and the line of each comment. An
incremental build compares the documents of a changed file with the ledger and
rewrites only those that differ: a new comment and the few it changes (the story
it answers gains a reply), not the article's thousand others. The ledger also
stands in for the files an incremental build does not read again, so a changed
file is still checked against them (an id used twice, a parent under another
article).

    {"articles": {slug: {"docs": {doc_id: digest}, "comments": {comment_id: line}}}}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Container
from pathlib import Path

from kb.fsutil import write_atomic

LEDGER = "ledger.json"
UNDIGESTED = ("rule_tags",)  # derived from the text and the taxonomy, both digested already


def doc_digest(doc: dict) -> str:
    """Return a short digest of an index document's fields (rule tags left out)."""
    text = "\x1e".join([f"{k}\x1f{v!r}" for k, v in sorted(doc.items()) if k not in UNDIGESTED])
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def read_ledger(gen: Path) -> dict[str, dict] | None:
    """Return the articles of a generation's ledger, or None if it has none."""
    try:
        return json.loads((Path(gen) / LEDGER).read_text("utf-8"))["articles"]
    except (FileNotFoundError, ValueError, KeyError):
        return None


def write_ledger(gen: Path, articles: dict[str, dict]) -> None:
    """Write a generation's ledger (as a new file: the previous one may be linked)."""
    write_atomic(Path(gen) / LEDGER, json.dumps({"articles": articles}, separators=(",", ":")))


def known_comments(articles: dict[str, dict], skip: Container[str]) -> dict[str, tuple[str, int]]:
    """Return (article, line) for each comment of the ledger's articles not in ``skip``."""
    out: dict[str, tuple[str, int]] = {}
    for slug, entry in articles.items():
        if slug not in skip:
            for cid, line in entry["comments"].items():
                out[cid] = (slug, line)
    return out
