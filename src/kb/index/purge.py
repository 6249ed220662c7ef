"""Redacting a comment: the corpus change (``kb.corpus.redact``), then a purge of the index.

The purge rewrites the new generation whole, so the old text is in none of its files,
not even the spelling words or the vectors, and deletes every earlier generation. If
it does not run (the index folder is busy, full or gone), the next build of any index
of the corpus sees a recorded redaction its index has not purged and purges then.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kb.corpus.redact import redact_in_corpus
from kb.errors import KbError, UsageError
from kb.index.build import BuildReport, build_index


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
    path, already = redact_in_corpus(corpus_dir, comment_id)
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
