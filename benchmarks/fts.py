"""The yardstick: the same documents and queries in SQLite FTS5 (porter tokenizer, bm25).

One FTS5 row per kb document (section or comment) with the same three searched
columns, weighted as kb weighs them (body 1, heading 1.5, context 0.5). A reader's
text becomes an OR of its words minus kb's stop words (FTS5 has no stop list; with
"the" and "and" in every query it would be several times slower), and each search
asks for the advice list and the stories list, ten each, with snippets and the
stories' reply ids, as kb's search does.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from kb.analysis import STOP_WORDS
from kb.model import ADVICE_KINDS, KIND_STORY

WEIGHTS = "1.0, 1.5, 0.5"  # body, heading, context
_WORD = re.compile(r"\w+")


def connect(path: Path) -> sqlite3.Connection:
    """Open (or create) the FTS5 database."""
    db = sqlite3.connect(str(path))
    db.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(body, heading, context, "
        "id UNINDEXED, kind UNINDEXED, thread UNINDEXED, replies UNINDEXED, tokenize='porter')"
    )
    # FTS5 finds rows by rowid only; this finds a document's row by its id
    db.execute("CREATE TABLE IF NOT EXISTS ids (id TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
    return db


def rows(docs) -> list[tuple]:
    """Return the FTS5 rows of kb's index documents."""
    return [
        (
            d["body"],
            d["heading"],
            d["context"],
            d["id"],
            d["kind"],
            d["thread"],
            ",".join(d["replies"]),
        )
        for d in docs
    ]


def insert(db: sqlite3.Connection, data: list[tuple], replace: bool = False) -> None:
    """Insert rows in one transaction; with ``replace``, drop the old rows of the same ids."""
    with db:
        first = db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM docs").fetchone()[0]
        for _, _, _, doc_id, *_ in data if replace else ():
            found = db.execute("SELECT row FROM ids WHERE id = ?", (doc_id,)).fetchone()
            if found:
                db.execute("DELETE FROM docs WHERE rowid = ?", found)
        db.executemany(
            "INSERT INTO docs (rowid, body, heading, context, id, kind, thread, replies) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(first + k, *row) for k, row in enumerate(data)],
        )
        db.executemany(
            "INSERT OR REPLACE INTO ids (id, row) VALUES (?, ?)",
            [(row[3], first + k) for k, row in enumerate(data)],
        )


def match(text: str, limit_words: int = 48) -> str | None:
    """Return the FTS5 query for a reader's text: its words, stop words out, OR'ed."""
    words = []
    for w in _WORD.findall(text.lower()):
        if len(w) >= 2 and w not in STOP_WORDS and w not in words:
            words.append(w)
    if not words:
        return None
    return " OR ".join(f'"{w}"' for w in words[:limit_words])


def _top(db, q: str, kinds: tuple[str, ...], limit: int, exclude_thread: str | None = None):
    marks = ",".join("?" * len(kinds))
    sql = (
        f"SELECT id, kind, snippet(docs, 0, '<mark>', '</mark>', '…', 40), "
        f"bm25(docs, {WEIGHTS}) AS score, replies FROM docs "
        f"WHERE docs MATCH ? AND kind IN ({marks})"
    )
    args = [q, *kinds]
    if exclude_thread is not None:
        sql += " AND thread != ?"
        args.append(exclude_thread)
    sql += " ORDER BY score LIMIT ?"
    args.append(limit)
    return [
        {
            "id": i,
            "kind": k,
            "snippet": s,
            "score": -sc,
            "replies": [r for r in rep.split(",") if r],
        }
        for i, k, s, sc, rep in db.execute(sql, args)
    ]


def search(db: sqlite3.Connection, text: str, limit: int = 10) -> dict:
    """Search as kb does: the advice list and the stories list."""
    q = match(text)
    if q is None:
        return {"advice": [], "stories": []}
    return {
        "advice": _top(db, q, ADVICE_KINDS, limit),
        "stories": _top(db, q, (KIND_STORY,), limit),
    }


def similar(db: sqlite3.Connection, doc_id: str, limit: int = 10) -> list[dict]:
    """Return the stories most like a document: its words as a query, its own thread left out."""
    found = db.execute("SELECT row FROM ids WHERE id = ?", (doc_id,)).fetchone()
    row = (
        db.execute("SELECT body, thread FROM docs WHERE rowid = ?", found).fetchone()
        if found
        else None
    )
    if row is None:
        return []
    q = match(row[0], limit_words=25)
    if q is None:
        return []
    return _top(db, q, (KIND_STORY,), limit, exclude_thread=row[1] or doc_id)
