"""What makes two comments the same across sources, and the digest a redaction keeps of it.

An importer recognises a comment it has seen under another id (another export, the
archive PDF, the live site) by its article, its author (the site's author under any of
their names), its day and its words; a redaction record keeps only a digest of that, so
the text cannot be read back from it but the comment is still recognised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata

from kb.model import Site
from kb.scrub import MARKS

_URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_WORDS_RE = re.compile(r"[\W_]+", re.UNICODE)
_AUTHOR = "\x00author"


def normalise_text(text: str) -> str:
    """Return text reduced to lower-case words, for matching the same comment across sources."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    for mark in MARKS:
        text = text.replace(mark.casefold(), " ")
    text = _URL_RE.sub(" ", text)
    return _WORDS_RE.sub(" ", text).strip()


def comment_key(slug: str, author: str, when: dt.datetime, body: str, site: Site | None) -> tuple:
    """Return what makes two comments under one article the same: author, day, normalised text."""
    who = _AUTHOR if site and site.is_author(author) else author.strip().casefold()
    return (slug, who, when.date(), normalise_text(body))


def redaction_digest(key: tuple) -> str:
    """Return the digest a redaction record keeps of a comment's key: no text can be read back."""
    slug, who, day, text = key
    raw = "\x1f".join([str(slug), str(who), day.isoformat(), str(text)])
    return "sha256:" + hashlib.sha256(raw.encode("utf-8")).hexdigest()
