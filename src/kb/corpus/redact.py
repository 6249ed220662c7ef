"""Removing a reader's comment for good, at their request: the corpus side.

The comment's entry stays in its thread, so replies keep their place, but its
text and name are replaced in the corpus file and it is marked ``redacted:
true`` (an importer then sees the id and never brings the text back). The
redaction is also recorded in ``redactions.yaml``: the id and a digest of the
author, day and normalised text (``kb.corpus.identity``), never the text, so that
the same comment imported again from another source (under another id) is
recognised and left out. Purging the index follows (``kb.index.purge``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from kb.corpus.edit import comment_items, entry_of, find_comment, set_key
from kb.corpus.identity import comment_key, redaction_digest
from kb.corpus.lock import corpus_lock
from kb.corpus.read import parse_date, read_site
from kb.corpus.write import ChangeSet, append_entries
from kb.corpus.yamlfile import Quoted, load_yaml, strip_lines
from kb.errors import EditError, NotFoundError

RECORD = "redactions.yaml"

REMOVED_TEXT = "[removed at the reader's request]"
REMOVED_NAME = "[removed]"


def redact_in_corpus(corpus_dir: Path, comment_id: str) -> tuple[Path, bool]:
    """Replace a comment's text and name in the corpus and record the redaction.

    Return the comments file and whether the comment was redacted already.
    """
    corpus_dir = Path(corpus_dir)
    with corpus_lock(corpus_dir):
        path = find_comment(corpus_dir, comment_id)
        text = path.read_text("utf-8")
        items = comment_items(path, text)
        entry = _find(items, comment_id, path)
        already = entry.get("redacted") is True
        if not already:
            _redact_in_corpus(corpus_dir, path, text, items, entry, comment_id)
    return path, already


def _find(items: list, comment_id: str, path: Path) -> dict:
    for c in items:
        if isinstance(c, dict) and str(c.get("id")).strip() == comment_id:
            return c
    raise NotFoundError(f"no comment {comment_id!r} in {path}")


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
    after_items = comment_items(path, new_text)
    after = _find(after_items, comment_id, path)
    others_before = [strip_lines(c) for c in items if c is not entry]
    others_after = [strip_lines(c) for c in after_items if c is not after]
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
