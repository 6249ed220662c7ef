"""Plain data: the site, its tag taxonomy, articles and their sections, comments.

No I/O lives here; :mod:`kb.corpus` reads and writes these from files.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

_ANCHOR_RE = re.compile(r"[^a-z0-9]+")

KIND_SECTION = "section"
KIND_REPLY = "author-reply"
KIND_STORY = "story"
ADVICE_KINDS = (KIND_SECTION, KIND_REPLY)

# the confidence a suggested tag needs to count, unless site.yaml sets suggest_threshold
SUGGEST_THRESHOLD = 0.6
# the orders a list of comments (a tag's page, `kb browse`) can be shown in; the first is the default
SORTS = ("newest", "oldest", "discussed")
# the ways a search can rank: words and meaning fused, words alone, meaning alone; the first is the default
MODES = ("hybrid", "words", "meaning")


def anchor(heading: str) -> str:
    """Return the URL anchor of a heading: lower case, runs of other characters as '-'."""
    return _ANCHOR_RE.sub("-", heading.lower()).strip("-")


def section_id(slug: str, section_anchor: str) -> str:
    """Return the corpus-wide id of a section, ``<slug>#<anchor>``."""
    return f"{slug}#{section_anchor}"


@dataclass(frozen=True)
class Site:
    """The site's identity: its title and the names the author signs replies with."""

    title: str
    author: str
    author_aliases: tuple[str, ...] = ()
    base_url: str = ""
    tagline: str = ""
    suggest_threshold: float = SUGGEST_THRESHOLD
    record_weak_searches: bool = True
    embedding_model: str = ""  # a model folder; empty: the bundled all-MiniLM-L6-v2

    def is_author(self, name: str) -> bool:
        """Tell whether a comment signed ``name`` is by the site's author."""
        wanted = name.strip().casefold()
        return any(wanted == n.strip().casefold() for n in (self.author, *self.author_aliases))


@dataclass(frozen=True)
class Tag:
    """One tag of the taxonomy, with the phrases that rule tagging looks for."""

    id: str
    label: str
    description: str = ""
    phrases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """A unit of advice: the part of an article under one ``##`` heading."""

    article: str
    anchor: str
    heading: str
    body: str
    position: int

    @property
    def id(self) -> str:
        """The section's corpus-wide id."""
        return section_id(self.article, self.anchor)


@dataclass(frozen=True)
class Article:
    """An article: front matter plus Markdown body, split into sections."""

    slug: str
    title: str
    date: dt.date
    body: str
    tags: tuple[str, ...] = ()
    summary: str = ""
    url: str = ""
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Comment:
    """A reader comment or an author reply under an article."""

    id: str
    article: str
    author: str
    date: dt.datetime
    body: str
    parent: str | None = None
    tags: tuple[str, ...] = ()
    removed_tags: tuple[str, ...] = ()
    redacted: bool = False
    is_author: bool = False
    line: int = 0

    @property
    def kind(self) -> str:
        """``author-reply`` for the author's comments, else ``story``."""
        return KIND_REPLY if self.is_author else KIND_STORY


@dataclass
class Corpus:
    """A whole corpus in memory: site, taxonomy, articles and comments by id."""

    site: Site
    tags: dict[str, Tag]
    articles: dict[str, Article]
    comments: dict[str, Comment]
    _roots: dict[str, str] = field(default_factory=dict, repr=False)

    def comments_of(self, slug: str) -> list[Comment]:
        """Return the comments under one article, in file order."""
        return [c for c in self.comments.values() if c.article == slug]

    def thread_root(self, comment_id: str) -> str:
        """Return the id of the top-level comment of the thread holding ``comment_id``."""
        if comment_id in self._roots:
            return self._roots[comment_id]
        # one walk up, remembered for every comment on the way: linear in the chain's length
        seen: dict[str, None] = {}
        current = comment_id
        while True:
            seen[current] = None
            parent = self.comments[current].parent
            if not parent or parent not in self.comments or parent in seen:
                break
            if parent in self._roots:
                current = self._roots[parent]
                break
            current = parent
        for cid in seen:
            self._roots[cid] = current
        return current
