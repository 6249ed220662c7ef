"""What goes into the index: the schema, and the documents of one article.

One document per article section and per comment. A comment's document also carries
its context (the story a reply answers, the reply a story got; for a section, its
article's title and summary), so a reader's words find both halves of a thread.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from kb.analysis import analyzer
from kb.engine.formats import CountingFrequency
from kb.model import KIND_SECTION, Article, Comment, Corpus

SCHEMA_VERSION = 12
MAX_LATER_REPLIES = 50  # later replies of the author listed for a comment, past its direct ones


def _text(**kwargs: Any) -> TEXT:
    """A text field analysed by kb's analyzer, without positions, its terms counted fast."""
    f = TEXT(analyzer=analyzer(), phrase=False, **kwargs)
    assert f.format is not None  # a TEXT field always has its format
    f.format = CountingFrequency(field_boost=f.format.field_boost)
    return f


def _single_term(field: NUMERIC) -> NUMERIC:
    """Index a number as one term: date ranges still work, each document costs one posting."""
    field.shift_step = 0
    return field


def make_schema() -> Schema:
    """Return the schema: one document per article section and per comment."""
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),  # a column: ids by document number
        kind=ID(stored=True),
        article=ID(stored=True),
        article_title=STORED,
        section=ID(stored=True),
        heading=_text(stored=True, field_boost=1.5),
        author=ID(stored=True),
        is_author=BOOLEAN(stored=True),  # by the site's author
        answered=BOOLEAN(stored=True),
        redacted=BOOLEAN(stored=True),
        thread=ID(stored=True),
        parent=ID(stored=True),
        depth=STORED,
        # one term per value, not Whoosh's ladder of eight for fast ranges: these are
        # sorted on, never searched by range
        position=NUMERIC(stored=True, sortable=True, shift_step=0),
        thread_size=NUMERIC(stored=True, sortable=True, shift_step=0),
        date=_single_term(DATETIME(stored=True, sortable=True)),
        tags=KEYWORD(stored=True, commas=True, lowercase=True),
        rule_tags=KEYWORD(stored=True, commas=True, lowercase=True),
        removed_tags=STORED,
        # no positions (nothing searches phrases) and no spelling field: spelling
        # suggestions come from a word list beside the index (see kb.index.spelling)
        body=_text(stored=True),
        # what surrounds a document: the story a reply answers, the reply a story got, the
        # article a section belongs to; it helps a reader's words find both halves
        context=_text(),
        replies=STORED,
    )


def thread_docs(
    corpus: Corpus,
    slug: str,
    rule_tagger: Callable[[Comment], list[str]] | None = None,
    comments: list[Comment] | None = None,
) -> Iterator[dict]:
    """Yield the index documents of one article: its sections, then its comments.

    ``comments`` are the article's comments, when the caller has them at hand already.
    """
    article = corpus.articles[slug]
    yield from _section_docs(corpus, article)
    if comments is None:
        comments = corpus.comments_of(slug)
    children: dict[str, list[Comment]] = {}
    by_thread: dict[str, list[Comment]] = {}
    for c in comments:
        if c.parent:
            children.setdefault(c.parent, []).append(c)
        by_thread.setdefault(corpus.thread_root(c.id), []).append(c)
    # the author's replies of each thread by date, so a comment's later replies are a slice
    # (a chain thousands deep stays linear: no walk over the whole thread per comment)
    answers: dict[str, tuple[list[dt.datetime] | None, list[Comment]]] = {}
    for root, thread in by_thread.items():
        mine = [r for r in thread if r.is_author]
        dates = [r.date for r in mine]
        ordered = all(x <= y for x, y in zip(dates, dates[1:], strict=False))
        answers[root] = (dates if ordered else None, mine)
    depths: dict[str, int] = {}
    for position, c in enumerate(comments):
        root = corpus.thread_root(c.id)
        thread = by_thread[root]
        direct = [r.id for r in children.get(c.id, []) if r.is_author]
        replies = []
        if not c.is_author:
            ordered_dates, mine = answers[root]
            start = bisect.bisect_left(ordered_dates, c.date) if ordered_dates is not None else 0
            later: list[str] = []
            for r in mine[start:]:
                if len(later) >= MAX_LATER_REPLIES:
                    break
                if r.date >= c.date and r.id not in direct and r.id != c.id:
                    later.append(r.id)
            replies = direct + later
        depth = _depth(corpus, c, depths)
        if c.is_author:
            parent = corpus.comments.get(c.parent) if c.parent else None
            context = parent.body if parent else ""
        else:
            context = "\n".join(corpus.comments[r].body for r in direct)
        yield {
            "id": c.id,
            "kind": c.kind,
            "article": slug,
            "article_title": article.title,
            "section": "",
            "heading": "",
            "author": c.author,
            "is_author": c.is_author,
            "answered": bool(replies),
            "redacted": c.redacted,
            "thread": root,
            "parent": c.parent or "",
            "depth": depth,
            "position": position,
            "thread_size": len(thread),
            "date": c.date,
            "tags": ",".join(c.tags),
            "rule_tags": ",".join(rule_tagger(c) if rule_tagger else ()),
            "removed_tags": list(c.removed_tags),
            "body": c.body,
            "context": context,
            "replies": replies,
        }


def _depth(corpus: Corpus, c: Comment, depths: dict[str, int]) -> int:
    """Return how deep a comment sits in its thread (at most 64), remembering each answer.

    One walk up to the nearest comment whose depth is known, so a whole thread costs
    time linear in its size however deep its chains are.
    """
    chain: dict[str, None] = {}
    p: str | None = c.id
    while p and p in corpus.comments and p not in depths and p not in chain:
        chain[p] = None
        p = corpus.comments[p].parent
    base = depths.get(p, -1) if p else -1
    for cid in reversed(chain):
        base = min(base + 1, 64)
        depths[cid] = base
    return depths.get(c.id, 0)


def _section_docs(corpus: Corpus, article: Article) -> Iterator[dict]:
    date = dt.datetime(article.date.year, article.date.month, article.date.day)
    for s in article.sections:
        yield {
            "id": s.id,
            "kind": KIND_SECTION,
            "article": article.slug,
            "article_title": article.title,
            "section": s.anchor,
            "heading": s.heading,
            "author": corpus.site.author,
            "is_author": False,
            "answered": False,
            "redacted": False,
            "thread": "",
            "parent": "",
            "depth": 0,
            "position": s.position,
            "thread_size": 0,
            "date": date,
            "tags": ",".join(article.tags),
            "rule_tags": "",
            "removed_tags": [],
            "body": s.body,
            "context": f"{article.title}\n{article.summary}",
            "replies": [],
        }
