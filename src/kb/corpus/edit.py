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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.corpus.lock import corpus_lock
from kb.corpus.write import append_entries
from kb.corpus.yamlfile import alias_problem, compose, load_lines, load_yaml, strip_lines
from kb.errors import EditError, NotFoundError, UsageError
from kb.fsutil import write_atomic
from kb.model import Tag

_TAG_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


def load_file(path: Path, text: str) -> Any:
    """Parse a corpus file that is about to be edited, with the line of every mapping.

    A file that cannot be parsed, or holds more aliases than a corpus file needs, is
    refused with one line: it must be fixed (``kb check``) before it is edited.
    """
    aliases = alias_problem(text)
    if aliases:
        raise EditError(f"{path}:{aliases[0]}: {aliases[1]}; fix it first (see `kb check`)")
    try:
        return load_lines(text)
    except yaml.YAMLError as exc:
        raise EditError(f"{path}: invalid YAML; fix it first (see `kb check`)") from exc


def comment_items(path: Path, text: str) -> list:
    """Return the parsed entries of a comments file that is about to be edited."""
    data = load_file(path, text)
    items = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EditError(f"{path}: expected `comments:` followed by a list")
    return items


def _flow(tags: list[str]) -> str:
    return "[" + ", ".join(tags) + "]"


def _line_end(text: str, starts: list[int], mark: yaml.Mark) -> int:
    """Return the line after the last one holding any of a node's text (exclusive end)."""
    before = text[starts[mark.line] : mark.index] if mark.line < len(starts) else ""
    return mark.line + (1 if before.strip() else 0)


@dataclass
class Entry:
    """Where one comment entry and each of its keys sit in a file (0-based lines, end exclusive)."""

    id: str
    start: int
    end: int
    column: int  # the column of the entry's keys
    keys: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # key -> start, end, column


def comment_entries(path: Path, text: str) -> list[Entry]:
    """Return the entries of a comments file as the YAML parser sees them.

    Found by parsing, never by line patterns: a body that holds a line ``id: x`` or
    a list written at its key's indentation is read as YAML reads it.
    """
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        raise EditError(f"{path}: invalid YAML; fix it first (see `kb check`)") from exc
    items = None
    if isinstance(root, yaml.MappingNode):
        items = next(
            (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "comments"),
            None,
        )
    if not isinstance(items, yaml.SequenceNode):
        raise EditError(f"{path}: expected `comments:` followed by a list")
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    lines = text.splitlines()

    def trim(start: int, end: int) -> int:
        while end > start + 1 and (
            not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")
        ):
            end -= 1
        return end

    entries = []
    for item in items.value:
        if not isinstance(item, yaml.MappingNode) or item.flow_style or not item.value:
            continue
        entry = Entry("", item.start_mark.line, 0, item.value[0][0].start_mark.column)
        for key, value in item.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            start = key.start_mark.line
            entry.keys[key.value] = (
                start,
                trim(start, _line_end(text, starts, value.end_mark)),
                key.start_mark.column,
            )
            if key.value == "id" and isinstance(value, yaml.ScalarNode):
                entry.id = value.value.strip()
        entry.end = trim(entry.start, _line_end(text, starts, item.end_mark))
        entries.append(entry)
    return entries


def find_comment(corpus: Path, comment_id: str) -> Path:
    """Return the comments file that holds ``comment_id`` (an entry's id, as parsed)."""
    broken: EditError | None = None
    for path in sorted((Path(corpus) / "comments").glob("*.yaml")):
        text = path.read_text("utf-8", errors="replace")
        if comment_id not in text:
            continue
        try:
            if any(e.id == comment_id for e in comment_entries(path, text)):
                return path
        except EditError as exc:
            broken = broken or exc  # it may be there: say the file must be fixed first
    if broken is not None:
        raise broken
    raise NotFoundError(f"no comment {comment_id!r} in {corpus}/comments")


def entry_of(path: Path, text: str, comment_id: str) -> Entry:
    """Return the entry of ``comment_id`` in a comments file."""
    for entry in comment_entries(path, text):
        if entry.id == comment_id:
            return entry
    raise NotFoundError(f"no comment {comment_id!r} in {path}")


def set_key(lines: list[str], entry: Entry, key: str, value: str | None) -> list[str]:
    """Return lines with ``key: value`` set in an entry (dropped when ``value`` is None)."""
    if key in entry.keys:
        start, end, column = entry.keys[key]
        prefix = lines[start][:column]
        if value is not None:
            return lines[:start] + [f"{prefix}{key}: {value}\n"] + lines[end:]
        if prefix.strip():
            raise EditError(f"cannot remove `{key}` from the first line of an entry")
        return lines[:start] + lines[end:]
    if value is None:
        return lines
    at = entry.end
    if at > 0 and at <= len(lines) and not lines[at - 1].endswith("\n"):
        lines = lines[: at - 1] + [lines[at - 1] + "\n"] + lines[at:]
    return lines[:at] + [f"{' ' * entry.column}{key}: {value}\n"] + lines[at:]


def set_comment_tags(
    corpus: Path,
    comment_id: str,
    tags: Iterable[str],
    removed: Iterable[str] | None = None,
    known: Iterable[str] = (),
) -> Path:
    """Set a comment's hand tags (and the tags removed from it) in its YAML file."""
    tags = list(dict.fromkeys(tags))
    known = set(known)
    for t in tags + list(removed or ()):
        if known and t not in known:
            raise UsageError(f"unknown tag {t!r}; add it to the taxonomy first")
    with corpus_lock(corpus):  # read, check and write with no other writer in between
        path = find_comment(corpus, comment_id)
        text = path.read_text("utf-8")
        data = load_file(path, text)
        items = data.get("comments") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise EditError(f"{path}: expected `comments:` followed by a list")
        index = next(
            (
                i
                for i, c in enumerate(items)
                if isinstance(c, dict) and str(c.get("id")).strip() == comment_id
            ),
            None,
        )
        if index is None:
            raise NotFoundError(f"no comment {comment_id!r} in {path}")
        entry = items[index]
        if removed is None:
            removed = [t for t in entry.get("removed_tags") or [] if t not in tags]
        removed = [t for t in dict.fromkeys(removed) if t not in tags]
        lines = text.splitlines(True)
        lines = set_key(
            lines, entry_of(path, text, comment_id), "tags", _flow(tags) if tags else None
        )
        middle = "".join(lines)
        lines = set_key(
            lines,
            entry_of(path, middle, comment_id),
            "removed_tags",
            _flow(removed) if removed else None,
        )
        new_text = "".join(lines)
        after = load_file(path, new_text)
        want = strip_lines(data)
        got = strip_lines(after)
        target = want["comments"][index]
        target.pop("tags", None)
        target.pop("removed_tags", None)
        if tags:
            target["tags"] = tags
        if removed:
            target["removed_tags"] = removed
        if got != want:
            raise EditError(
                f"{path}: the edit would change more than the tags of {comment_id}; "
                "nothing was written"
            )
        write_atomic(path, new_text)
    return path


def add_tag(corpus: Path, tag: Tag) -> Path:
    """Add a tag to the taxonomy in ``tags.yaml`` (appended as text, atomically)."""
    if not _TAG_ID.fullmatch(tag.id):
        raise UsageError(f"tag id {tag.id!r} must be lower-case letters, digits and '-'")
    if not tag.label.strip():
        raise UsageError("a new tag needs a label")
    path = Path(corpus) / "tags.yaml"
    entry: dict[str, str | list[str]] = {"id": tag.id, "label": tag.label.strip()}
    if tag.description.strip():
        entry["description"] = tag.description.strip()
    if tag.phrases:
        entry["phrases"] = [p.strip() for p in tag.phrases if p.strip()]
    with corpus_lock(corpus):
        text = path.read_text("utf-8") if path.exists() else None
        existing = load_yaml(text) if text else None
        ids = {t.get("id") for t in (existing or {}).get("tags") or [] if isinstance(t, dict)}
        if tag.id in ids:
            raise UsageError(f"tag {tag.id!r} is already in the taxonomy")
        write_atomic(path, append_entries(text, "tags", [entry], path))
    return path


def apply_decisions(
    corpus: Path,
    current: dict[str, tuple[list[str], list[str]]],
    accept: Iterable[tuple[str, str]] = (),
    reject: Iterable[tuple[str, str]] = (),
    known: Iterable[str] = (),
) -> int:
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
