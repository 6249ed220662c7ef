"""The author's edits to tags: on one comment, in bulk, and to the taxonomy.

Edits touch only the lines they must: a comment's ``tags:`` and ``removed_tags:``
lines are rewritten in place (or added at the end of that comment's entry), so
every other line of the file, its comments and formatting included, stays as
the author wrote it. The new text is parsed again and must hold exactly what it
held before apart from the edited keys; then it is written aside and renamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from kb.corpus import LINE_KEY, _LineLoader
from kb.errors import KbError, NotFoundError, UsageError
from kb.fsutil import write_atomic
from kb.model import Tag
from kb.store import append_entries, load_yaml

_TAG_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


class EditError(KbError):
    """An edit cannot be made safely; the file was left as it was."""


def _load(path: Path, text: str):
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise EditError(f"{path}: invalid YAML; fix it first (see `kb check`)") from exc


def _strip_lines(data):
    if isinstance(data, dict):
        return {k: _strip_lines(v) for k, v in data.items() if k != LINE_KEY}
    if isinstance(data, list):
        return [_strip_lines(v) for v in data]
    return data


def find_comment(corpus: Path, comment_id: str) -> Path:
    """Return the comments file that holds ``comment_id``."""
    needle = re.compile(rf"""^\s*-?\s*id:\s*["']?{re.escape(comment_id)}["']?\s*(#.*)?$""", re.M)
    for path in sorted((Path(corpus) / "comments").glob("*.yaml")):
        if needle.search(path.read_text("utf-8", errors="replace")):
            return path
    raise NotFoundError(f"no comment {comment_id!r} in {corpus}/comments")


def _flow(tags: list[str]) -> str:
    return "[" + ", ".join(tags) + "]"


def _rewrite_key(lines: list[str], start: int, end: int, key: str, value: list[str],
                 indent: str) -> list[str]:
    """Set ``key: [..]`` inside lines[start:end]; drop it when ``value`` is empty."""
    key_re = re.compile(rf"^(\s*-?\s*){re.escape(key)}:\s*(.*)$")
    for i in range(start, end):
        m = key_re.match(lines[i].rstrip("\n"))
        if not m:
            continue
        # a block list may follow on the next, deeper-indented "- x" lines
        j = i + 1
        base = len(m.group(1))
        if not m.group(2).strip():  # a block list follows on deeper "- x" lines
            while (j < end and re.match(r"^\s*-\s", lines[j])
                   and len(lines[j]) - len(lines[j].lstrip()) >= base):
                j += 1
        prefix = m.group(1)
        if value:
            replacement = [f"{prefix}{key}: {_flow(value)}\n"]
        elif prefix.strip().startswith("-"):
            raise EditError(f"cannot remove `{key}` from the first line of an entry")
        else:
            replacement = []
        return lines[:i] + replacement + lines[j:]
    if not value:
        return lines
    insert_at = end
    while insert_at > start + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    return lines[:insert_at] + [f"{indent}{key}: {_flow(value)}\n"] + lines[insert_at:]


def set_comment_tags(corpus: Path, comment_id: str, tags: Iterable[str],
                     removed: Iterable[str] | None = None, known: Iterable[str] = ()) -> Path:
    """Set a comment's hand tags (and the tags removed from it) in its YAML file."""
    tags = list(dict.fromkeys(tags))
    known = set(known)
    for t in tags + list(removed or ()):
        if known and t not in known:
            raise UsageError(f"unknown tag {t!r}; add it to the taxonomy first")
    path = find_comment(corpus, comment_id)
    text = path.read_text("utf-8")
    data = _load(path, text)
    items = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EditError(f"{path}: expected `comments:` followed by a list")
    index = next((i for i, c in enumerate(items)
                  if isinstance(c, dict) and str(c.get("id")) == comment_id), None)
    if index is None:
        raise NotFoundError(f"no comment {comment_id!r} in {path}")
    entry = items[index]
    if removed is None:
        removed = [t for t in entry.get("removed_tags") or [] if t not in tags]
    removed = [t for t in dict.fromkeys(removed) if t not in tags]
    lines = text.splitlines(True)
    start = entry[LINE_KEY] - 1
    following = [c[LINE_KEY] - 1 for c in items[index + 1:] if isinstance(c, dict)]
    end = following[0] if following else len(lines)
    # the entry's keys are indented like its `id:` key (after the "- ")
    first = lines[start]
    indent = " " * (len(first) - len(first.lstrip(" -")))
    lines = _rewrite_key(lines, start, end, "tags", tags, indent)
    end = end + (len(lines) - len(text.splitlines(True)))
    lines2 = _rewrite_key(lines, start, end, "removed_tags", removed, indent)
    new_text = "".join(lines2)
    after = _load(path, new_text)
    want = _strip_lines(data)
    got = _strip_lines(after)
    target = want["comments"][index]
    target.pop("tags", None)
    target.pop("removed_tags", None)
    if tags:
        target["tags"] = tags
    if removed:
        target["removed_tags"] = removed
    if got != want:
        raise EditError(f"{path}: the edit would change more than the tags of {comment_id}; "
                        "nothing was written")
    write_atomic(path, new_text)
    return path


def add_tag(corpus: Path, tag: Tag) -> Path:
    """Add a tag to the taxonomy in ``tags.yaml`` (appended as text, atomically)."""
    if not _TAG_ID.fullmatch(tag.id):
        raise UsageError(f"tag id {tag.id!r} must be lower-case letters, digits and '-'")
    if not tag.label.strip():
        raise UsageError("a new tag needs a label")
    path = Path(corpus) / "tags.yaml"
    text = path.read_text("utf-8") if path.exists() else None
    existing = load_yaml(text) if text else None
    ids = {t.get("id") for t in (existing or {}).get("tags") or [] if isinstance(t, dict)}
    if tag.id in ids:
        raise UsageError(f"tag {tag.id!r} is already in the taxonomy")
    entry = {"id": tag.id, "label": tag.label.strip()}
    if tag.description.strip():
        entry["description"] = tag.description.strip()
    if tag.phrases:
        entry["phrases"] = [p.strip() for p in tag.phrases if p.strip()]
    write_atomic(path, append_entries(text, "tags", [entry], path))
    return path


def apply_decisions(corpus: Path, current: dict[str, tuple[list[str], list[str]]],
                    accept: Iterable[tuple[str, str]] = (),
                    reject: Iterable[tuple[str, str]] = (), known: Iterable[str] = ()) -> int:
    """Accept or reject suggested tags in bulk; ``current`` maps id -> (hand, removed) tags."""
    changes: dict[str, tuple[list[str], list[str]]] = {}
    for cid, tag in accept:
        hand, removed = changes.get(cid, (list(current[cid][0]), list(current[cid][1])))
        if tag not in hand:
            hand.append(tag)
        changes[cid] = (hand, [t for t in removed if t != tag])
    for cid, tag in reject:
        hand, removed = changes.get(cid, (list(current[cid][0]), list(current[cid][1])))
        if tag not in removed and tag not in hand:
            removed.append(tag)
        changes[cid] = (hand, removed)
    for cid, (hand, removed) in changes.items():
        set_comment_tags(corpus, cid, hand, removed, known=known)
    return len(changes)
