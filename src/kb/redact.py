"""Removing a reader's comment for good, at their request.

The comment's entry stays in its thread, so replies keep their place, but its
text and name are replaced in the corpus file and it is marked ``redacted:
true`` (an importer then sees the id and never brings the text back). The
index is brought up to date at once with a purge: the new generation is
rewritten whole, so the old text is in none of its files, and every earlier
generation is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.corpus import LINE_KEY, _LineLoader
from kb.edit import EditError, find_comment
from kb.errors import NotFoundError
from kb.fsutil import write_atomic
from kb.index import BuildReport, build_index

REMOVED_TEXT = "[removed at the reader's request]"
REMOVED_NAME = "[removed]"


@dataclass
class RedactReport:
    """What a redaction did."""

    comment: str
    file: str
    already: bool
    index: BuildReport | None

    def as_dict(self) -> dict:
        """Return the report as plain data for JSON."""
        return {"comment": self.comment, "file": self.file, "already_redacted": self.already,
                "index": self.index.as_dict() if self.index else None}


def _entry_range(path: Path, text: str, comment_id: str) -> tuple[int, int, dict, list]:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise EditError(f"{path}: invalid YAML; fix it first (see `kb check`)") from exc
    items = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EditError(f"{path}: expected `comments:` followed by a list")
    for i, c in enumerate(items):
        if isinstance(c, dict) and str(c.get("id")) == comment_id:
            following = [x[LINE_KEY] - 1 for x in items[i + 1:] if isinstance(x, dict)]
            end = following[0] if following else len(text.splitlines(True))
            return c[LINE_KEY] - 1, end, c, items
    raise NotFoundError(f"no comment {comment_id!r} in {path}")


def _replace_key(lines: list[str], start: int, end: int, key: str, value: str) -> tuple[list[str], int]:
    key_re = re.compile(rf"^(\s*-?\s*){re.escape(key)}:(.*)$")
    for i in range(start, end):
        m = key_re.match(lines[i].rstrip("\n"))
        if not m:
            continue
        base = len(m.group(1))
        j = i + 1
        while j < end and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > base):
            j += 1
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1  # keep blank lines that separate entries
        new = [f"{m.group(1)}{key}: {value}\n"]
        return lines[:i] + new + lines[j:], end + len(new) - (j - i)
    indent = " " * (len(lines[start]) - len(lines[start].lstrip(" -")))
    at = end
    while at > start + 1 and not lines[at - 1].strip():
        at -= 1
    return lines[:at] + [f"{indent}{key}: {value}\n"] + lines[at:], end + 1


def redact_comment(corpus_dir: Path, index_dir: Path | None, comment_id: str) -> RedactReport:
    """Replace a comment's text and name in the corpus and purge it from the index."""
    corpus_dir = Path(corpus_dir)
    path = find_comment(corpus_dir, comment_id)
    text = path.read_text("utf-8")
    start, end, entry, items = _entry_range(path, text, comment_id)
    already = entry.get("redacted") is True
    if not already:
        lines = text.splitlines(True)
        lines, end = _replace_key(lines, start, end, "body", yaml.safe_dump(REMOVED_TEXT).split("\n")[0])
        lines, end = _replace_key(lines, start, end, "author", f'"{REMOVED_NAME}"')
        for key in ("tags", "removed_tags"):
            lines, end = _drop_key(lines, start, end, key)
        lines, end = _replace_key(lines, start, end, "redacted", "true")
        new_text = "".join(lines)
        _, _, after, after_items = _entry_range(path, new_text, comment_id)
        others_before = [_plain(c) for c in items if c is not entry]
        others_after = [_plain(c) for c in after_items if str(c.get("id")) != comment_id]
        if (others_before != others_after or after.get("body") != REMOVED_TEXT
                or after.get("author") != REMOVED_NAME or after.get("parent") != entry.get("parent")):
            raise EditError(f"{path}: cannot redact {comment_id} without touching other entries; "
                            "nothing was written")
        write_atomic(path, new_text)
    report = build_index(corpus_dir, index_dir, purge=True) if index_dir else None
    return RedactReport(comment_id, str(path), already, report)


def _drop_key(lines: list[str], start: int, end: int, key: str) -> tuple[list[str], int]:
    key_re = re.compile(rf"^(\s*){re.escape(key)}:(.*)$")
    for i in range(start + 1, end):
        m = key_re.match(lines[i].rstrip("\n"))
        if m:
            base = len(m.group(1))
            j = i + 1
            while j < end and lines[j].strip() and len(lines[j]) - len(lines[j].lstrip()) > base:
                j += 1
            return lines[:i] + lines[j:], end - (j - i)
    return lines, end


def _plain(c):
    return {k: v for k, v in c.items() if k != LINE_KEY} if isinstance(c, dict) else c
