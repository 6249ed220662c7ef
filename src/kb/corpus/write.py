"""Writing new content into a corpus folder without disturbing what the author wrote there.

Existing files are never re-dumped: new comments and tags are appended to them as text,
so the author's comments, ordering and formatting survive, and every appended file is
parsed again to prove it still holds what it held plus the new entries. All files of
one change are written aside first and only then renamed into place; if anything
fails, the files already renamed are put back, so the corpus is left as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.corpus.lock import corpus_lock, corpus_root
from kb.corpus.yamlfile import Quoted, dump_yaml, load_yaml
from kb.errors import StoreError
from kb.fsutil import fsync_dir, write_atomic


def render_article(
    title: str, date: dt.date, body: str, tags: list[str], summary: str = "", url: str = ""
) -> str:
    """Return the text of an article file: front matter, then the Markdown body."""
    meta: dict[str, Any] = {"title": title, "date": date, "tags": list(tags)}
    if summary:
        meta["summary"] = summary
    if url:
        meta["url"] = url
    return f"---\n{dump_yaml(meta)}---\n\n{body.strip()}\n"


def render_comment(
    cid: str, author: str, date: dt.datetime | dt.date, body: str, parent: str | None = None
) -> dict[str, Any]:
    """Return one comment entry in the field order of the corpus format."""
    entry: dict[str, Any] = {"id": Quoted(cid)}
    if parent:
        entry["parent"] = Quoted(parent)
    entry["author"] = Quoted(author)
    midnight = isinstance(date, dt.datetime) and date.time() == dt.time(0)
    entry["date"] = date.date() if midnight and isinstance(date, dt.datetime) else date
    entry["body"] = body.strip() + "\n"
    return entry


def _block(entries: list[dict[str, Any]], indent: int) -> str:
    text = dump_yaml(entries)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(True))


def _ids(items: Any) -> list[Any]:
    return [i.get("id") if isinstance(i, dict) else i for i in (items or [])]


def append_entries(
    text: str | None,
    key: str,
    entries: list[dict[str, Any]],
    path: Path,
    head: dict[str, Any] | None = None,
) -> str:
    """Return ``text`` with ``entries`` added at the end of its top-level list ``key``."""
    if text is None:
        return (dump_yaml(head) if head else "") + f"{key}:\n" + _block(entries, 2)
    try:
        before = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise StoreError(f"{path}:{line}: invalid YAML; fix it first (see `kb check`)") from None
    if before is not None and not isinstance(before, dict):
        raise StoreError(f"{path}:1: expected a mapping with `{key}:`; fix it first")
    before = before or {}
    if not text.endswith("\n"):
        text += "\n"
    head_re = re.compile(rf"^{re.escape(key)}:[ \t]*(\[[ \t]*\])?[ \t]*(#.*)?$", re.M)
    m = head_re.search(text)
    if key not in before:
        new = text + f"{key}:\n" + _block(entries, 2)
    elif m is None or (before.get(key) and m.group(1)):
        raise StoreError(f"{path}: `{key}:` is not written as a block list; cannot add to it")
    elif not before.get(key):
        line = f"{key}:" + (f" {m.group(2)}" if m.group(2) else "") + "\n"
        new = text[: m.start()] + line + _block(entries, 2) + text[m.end() + 1 :]
    else:
        rest = text[m.end() + 1 :]
        item = re.search(r"^([ \t]*)-", rest, re.M)
        indent = len(item.group(1)) if item else 2
        end = re.search(r"^(?![-#\s])" if indent == 0 else r"^(?=\S)(?!#)", rest, re.M)
        cut = end.start() if end else len(rest)
        new = text[: m.end() + 1] + rest[:cut] + _block(entries, indent) + rest[cut:]
    try:
        after = load_yaml(new)
    except yaml.YAMLError:
        after = None
    ok = isinstance(after, dict) and _ids(after.get(key)) == _ids(before.get(key)) + _ids(entries)
    ok = ok and all(after.get(k) == v for k, v in before.items() if k != key)
    if not ok:
        raise StoreError(
            f"{path}: cannot add to `{key}:` without changing what is there; "
            "check the file's layout"
        )
    return new


@dataclass
class Change:
    """One file to write: its new text, and the text it had (None for a new file)."""

    path: Path
    text: str
    old: str | None


@dataclass
class ChangeSet:
    """Files to write together: all are staged before any is renamed into place."""

    changes: dict[Path, Change] = field(default_factory=dict)

    def put(self, path: Path, text: str, old: str | None) -> None:
        """Plan to write ``text`` to ``path``, which now holds ``old`` (None when absent)."""
        first = self.changes.get(path)
        self.changes[path] = Change(path, text, first.old if first else old)

    def paths(self) -> list[Path]:
        """Return the paths this change set writes, in order."""
        return list(self.changes)

    def commit(self) -> None:
        """Write every file aside, then rename all into place; undo them all on failure.

        The corpus write lock is held throughout, and each file is checked under it to
        still hold the text the change was planned from.
        """
        roots = sorted({corpus_root(p) for p in self.changes}, key=str)
        with contextlib.ExitStack() as stack:
            for root in roots:
                stack.enter_context(corpus_lock(root))
            self._commit()

    def _commit(self) -> None:
        staged: list[tuple[str, Change]] = []
        done: list[Change] = []
        try:
            for change in sorted(self.changes.values(), key=_rank):
                _check_unchanged(change)
                staged.append((_stage(change), change))
            for tmp, change in staged:
                os.replace(tmp, change.path)
                done.append(change)
        except BaseException:
            for tmp, change in staged:
                if change not in done:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
            for change in reversed(done):
                with contextlib.suppress(OSError):
                    if change.old is None:
                        os.unlink(change.path)
                    else:
                        write_atomic(change.path, change.old)
            raise
        for folder in {c.path.parent for c in done}:
            fsync_dir(folder)


def _rank(change: Change) -> int:
    """Order renames so that a process killed between two leaves a sound corpus.

    Nothing undoes the renames already made when the process is killed outright, so
    each file goes in before the files that refer to it: the site and the tags before
    the articles that carry tags, articles before their comments files.
    """
    name, folder = change.path.name, change.path.parent.name
    if name in ("site.yaml", "redactions.yaml"):
        return 0  # a redaction is recorded before the comment's text is replaced
    if name == "tags.yaml":
        return 1
    return {"articles": 2, "comments": 3}.get(folder, 4)


def _check_unchanged(change: Change) -> None:
    try:
        current = change.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{change.path}: cannot read before writing: {exc}") from None
    if current != change.old:
        raise StoreError(f"{change.path}: changed while importing; nothing was written, try again")


def _stage(change: Change) -> str:
    change.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{change.path.name}.", suffix=".tmp", dir=change.path.parent
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(change.text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp
