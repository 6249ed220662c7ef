"""Removing a reader's comment for good, at their request.

The comment's entry stays in its thread, so replies keep their place, but its
text and name are replaced in the corpus file and it is marked ``redacted:
true`` (an importer then sees the id and never brings the text back). The
redaction is also recorded in ``redactions.yaml``: the id and a digest of the
author, day and normalised text, never the text, so that the same comment
imported again from another source (under another id) is recognised and left
out. The index is brought up to date at once with a purge: the new generation
is rewritten whole, so the old text is in none of its files, not even the
spelling words, and every earlier generation is deleted. If that purge does not
run, the next build of any index of the corpus sees a recorded redaction its
index has not purged and purges then.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.corpus import LINE_KEY, _LineLoader, parse_date, read_site
from kb.corpuslock import corpus_lock
from kb.edit import EditError, entry_of, find_comment, set_key
from kb.errors import KbError, NotFoundError, UsageError
from kb.index import BuildReport, build_index
from kb.store import ChangeSet, Quoted, append_entries, load_yaml

RECORD = "redactions.yaml"

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
        return {
            "comment": self.comment,
            "file": self.file,
            "already_redacted": self.already,
            "index": self.index.as_dict() if self.index else None,
        }


def _parse(path: Path, text: str) -> list:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        raise EditError(f"{path}: invalid YAML; fix it first (see `kb check`)") from exc
    items = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise EditError(f"{path}: expected `comments:` followed by a list")
    return items


def _find(items: list, comment_id: str, path: Path) -> dict:
    for c in items:
        if isinstance(c, dict) and str(c.get("id")).strip() == comment_id:
            return c
    raise NotFoundError(f"no comment {comment_id!r} in {path}")


def _check_index_arg(index_dir: Path | None) -> None:
    """Refuse an unusable index folder before the corpus is changed."""
    if index_dir is None:
        return
    index_dir = Path(index_dir)
    probe = index_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UsageError(
            f"{probe}: not a folder; --index must name an index folder (nothing was changed)"
        )
    if not os.access(probe, os.W_OK):
        raise UsageError(f"{probe}: cannot write to the index folder; nothing was changed")


def redact_comment(
    corpus_dir: Path, index_dir: Path | None, comment_id: str, lock_wait: float = 30.0
) -> RedactReport:
    """Replace a comment's text and name in the corpus and purge it from the index."""
    corpus_dir = Path(corpus_dir)
    _check_index_arg(index_dir)
    with corpus_lock(corpus_dir):
        path = find_comment(corpus_dir, comment_id)
        text = path.read_text("utf-8")
        items = _parse(path, text)
        entry = _find(items, comment_id, path)
        already = entry.get("redacted") is True
        if not already:
            _redact_in_corpus(corpus_dir, path, text, items, entry, comment_id)
    if not index_dir:
        return RedactReport(comment_id, str(path), already, None)
    try:
        report = build_index(corpus_dir, index_dir, purge=True, lock_wait=lock_wait)
    except (KbError, OSError) as exc:
        done = "was already removed from the corpus" if already else f"was removed from {path}"
        if isinstance(exc, OSError):
            exc = KbError(f"{exc.filename or index_dir}: {exc.strerror or exc}")
        raise type(exc)(
            f"{comment_id} {done}, but the index was not purged yet: {exc}; the "
            "next build of any index of this corpus (`kb build`, or the app's "
            "automatic rebuild) purges it"
        ) from None
    return RedactReport(comment_id, str(path), already, report)


def _redact_in_corpus(
    corpus_dir: Path, path: Path, text: str, items: list, entry: dict, comment_id: str
) -> None:
    """Rewrite the entry and record the redaction, both in one change, under the lock."""
    lines = text.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    body = yaml.safe_dump(REMOVED_TEXT).split("\n")[0]
    for key, value in (
        ("body", body),
        ("author", f'"{REMOVED_NAME}"'),
        ("tags", None),
        ("removed_tags", None),
        ("redacted", "true"),
    ):
        lines = set_key(lines, entry_of(path, "".join(lines), comment_id), key, value)
    new_text = "".join(lines)
    after_items = _parse(path, new_text)
    after = _find(after_items, comment_id, path)
    others_before = [_plain(c) for c in items if c is not entry]
    others_after = [_plain(c) for c in after_items if c is not after]
    if (
        others_before != others_after
        or after.get("body") != REMOVED_TEXT
        or after.get("author") != REMOVED_NAME
        or after.get("parent") != entry.get("parent")
    ):
        raise EditError(
            f"{path}: cannot redact {comment_id} without touching other entries; "
            "nothing was written"
        )
    changes = ChangeSet()
    record = record_for(corpus_dir, path, entry)
    if record is not None:
        rpath = corpus_dir / RECORD
        old = rpath.read_text("utf-8") if rpath.exists() else None
        changes.put(rpath, append_entries(old, "redactions", [record], rpath), old)
    changes.put(path, new_text, text)
    changes.commit()


def record_for(corpus_dir: Path, path: Path, entry: dict) -> dict | None:
    """Return the record of a redaction: the id and a digest of what matches it, no text."""
    from kb.importers.merge import comment_key, redaction_digest

    when = parse_date(entry.get("date"))
    author, body = entry.get("author"), entry.get("body")
    if when is None or not isinstance(author, str) or not isinstance(body, str):
        return {"id": Quoted(str(entry.get("id")).strip()), "date": dt.date.today()}
    site = read_site(corpus_dir)
    key = comment_key(path.stem, author, when, body, site)
    return {
        "id": Quoted(str(entry.get("id")).strip()),
        "date": dt.date.today(),
        "match": redaction_digest(key),
    }


def redacted_ids(corpus_dir: Path) -> set[str]:
    """Return the ids of every comment recorded as redacted in the corpus folder."""
    return {r["id"] for r in read_records(corpus_dir)}


def read_records(corpus_dir: Path) -> list[dict]:
    """Return the redaction records of a corpus folder (id, and a digest when there is one)."""
    path = Path(corpus_dir) / RECORD
    try:
        data = load_yaml(path.read_text("utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise EditError(
            f"{path}: cannot be read ({exc.__class__.__name__}); it lists the "
            "comments removed at readers' requests: restore it from a backup"
        ) from None
    items = data.get("redactions") if isinstance(data, dict) else None
    return [
        {"id": str(r["id"]).strip(), "match": str(r.get("match") or "")}
        for r in items or []
        if isinstance(r, dict) and r.get("id") is not None
    ]


def _plain(c):
    return {k: v for k, v in c.items() if k != LINE_KEY} if isinstance(c, dict) else c
