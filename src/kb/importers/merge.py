"""Matching a batch against the corpus: what is new, what is already there, and the report.

Comment ids come from the source (``wp-<post_id>-<comment_id>`` for WordPress, whether
read from the export or from a saved page; ``pdf-``, ``html-`` and ``csv-`` plus a hash of
author, day and text for sources without ids), so a re-import finds its own comments by
id. Across sources a comment under an article is the same as one already there when
author, day and normalised text match.
The author's replies are signed with the name in ``site.yaml``, so kb recognises them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.corpus.identity import comment_key, normalise_text, redaction_digest
from kb.corpus.read import MAX_BODY, parse_date, read_corpus
from kb.corpus.write import ChangeSet, append_entries, render_article, render_comment
from kb.corpus.yamlfile import dump_yaml, load_yaml
from kb.errors import UsageError
from kb.importers import common as c
from kb.model import Site
from kb.scrub import MARKS


@dataclass
class Report:
    """What an import added and skipped; every input item is counted once."""

    source: str
    files: list[str]
    dry_run: bool = False
    articles_added: list[str] = field(default_factory=list)
    articles_existing: list[str] = field(default_factory=list)
    comments_added: int = 0
    skipped: list[c.Skip] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    site_created: bool = False
    written: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    slugs: dict[str, str] = field(default_factory=dict)  # source article key -> corpus slug

    def counts(self, kind: str) -> dict[str, int]:
        """Return the number of skipped items of one kind, by reason."""
        return dict(Counter(s.reason for s in self.skipped if s.kind == kind))

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain data, for JSON."""
        art_skip, com_skip = self.counts("article"), self.counts("comment")
        added = len(self.articles_added)
        return {
            "source": self.source,
            "files": self.files,
            "dry_run": self.dry_run,
            "articles": {
                "seen": added + len(self.articles_existing) + sum(art_skip.values()),
                "added": added,
                "existing": len(self.articles_existing),
                "added_slugs": self.articles_added,
                "skipped": art_skip,
            },
            "comments": {
                "seen": self.comments_added + sum(com_skip.values()),
                "added": self.comments_added,
                "skipped": com_skip,
            },
            "tags_added": self.tags_added,
            "site_created": self.site_created,
            "written": self.written,
            "details": [s.line() for s in self.skipped],
            "notes": self.notes,
            "formats": self.formats,
            "failed": self.failed,
        }


@dataclass
class _State:
    root: Path
    site: Site | None
    tags: set[str]
    articles: dict[str, tuple[str, str]]
    comment_ids: set[str]
    comment_keys: dict[tuple, str]
    redacted: dict[str, str] = field(default_factory=dict)  # digest of a key -> redacted id


def _url_key(url: str) -> str:
    url = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    url = re.sub(r"/comment-page-\d+/?", "/", url.split("#")[0])
    return url.rstrip("/")


def _title_key(title: str) -> str:
    return normalise_text(title)


def _read_state(root: Path) -> _State:
    if not root.exists():
        return _State(root, None, set(), {}, set(), {})
    corpus, _ = read_corpus(root)
    site = corpus.site if (root / "site.yaml").exists() and corpus.site.author else None
    articles = {slug: (_title_key(a.title), _url_key(a.url)) for slug, a in corpus.articles.items()}
    for path in (root / "articles").glob("*.md"):
        articles.setdefault(path.stem, ("", ""))  # a broken article is still never overwritten
    ids: set[str] = set()
    keys: dict[tuple, str] = {}
    for path in sorted((root / "comments").glob("*.yaml")):
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
            continue  # reported by `kb check`; appending to it is refused in kb.corpus.write
        items = data.get("comments") if isinstance(data, dict) else None
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("id") is None:
                continue
            ids.add(str(item["id"]))
            when = parse_date(item.get("date"))
            if when and isinstance(item.get("author"), str) and isinstance(item.get("body"), str):
                key = comment_key(
                    str(data.get("article") or path.stem), item["author"], when, item["body"], site
                )
                keys.setdefault(key, str(item["id"]))
    from kb.corpus.redact import read_records

    redacted = {r["match"]: r["id"] for r in read_records(root) if r["match"]}
    ids |= {r["id"] for r in read_records(root)}
    return _State(root, site, set(corpus.tags), articles, ids, keys, redacted)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _site_for(
    batch: c.Batch, state: _State, author: str | None, changes: ChangeSet, report: Report
) -> Site:
    if state.site is not None:
        named = batch.site.author
        if named and not state.site.is_author(named):
            report.notes.append(
                f"the files name the author {named!r}, who is not in site.yaml; "
                f"replies recognised as the author's are signed "
                f"{state.site.author!r} (add {named!r} to author_aliases if "
                "that is another of your names)"
            )
        return state.site
    name = (author or batch.site.author).strip()
    if not name:
        raise UsageError(
            f"{state.root}/site.yaml does not exist and {batch.source} files do not "
            "name the site's author: pass --author NAME (the name on your replies)"
        )
    aliases = [a for a in batch.site.aliases if a.casefold() != name.casefold()]
    if author and batch.site.author and batch.site.author.casefold() != name.casefold():
        aliases.append(batch.site.author)
    site = Site(
        title=batch.site.title or state.root.name,
        author=name,
        author_aliases=tuple(aliases),
        base_url=batch.site.base_url,
    )
    data: dict[str, Any] = {"title": site.title, "author": site.author}
    if aliases:
        data["author_aliases"] = aliases
    if site.base_url:
        data["base_url"] = site.base_url
    changes.put(state.root / "site.yaml", dump_yaml(data), None)
    report.site_created = True
    return site


def _match(
    art: c.SourceArticle, state: _State, by_url: dict[str, str], by_title: dict[str, str]
) -> str | None:
    """Return the slug of the corpus article that ``art`` is, or None for a new article."""
    tkey, ukey = _title_key(art.title), _url_key(art.url)
    known = state.articles.get(art.slug)
    if known is not None and (
        art.fixed or known == ("", "") or known[0] == tkey or bool(ukey and known[1] == ukey)
    ):
        return art.slug
    if ukey and ukey in by_url:
        return by_url[ukey]
    slug = by_title.get(tkey)
    # two posts may share a title; the title alone decides only when an address is missing
    if slug and not (ukey and state.articles[slug][1]):
        return slug
    return None


def _place_articles(
    batch: c.Batch, state: _State, changes: ChangeSet, report: Report, new_tags: dict[str, str]
) -> dict[str, str]:
    slugs: dict[str, str] = {}
    by_url = {u: s for s, (_, u) in state.articles.items() if u}
    by_title = {t: s for s, (t, _) in state.articles.items() if t}
    taken = set(state.articles)
    for art in batch.articles:
        match = _match(art, state, by_url, by_title)
        if match:
            slugs[art.key] = match
            report.articles_existing.append(match)
            continue
        slug, n = art.slug, 1
        while slug in taken:
            n += 1
            slug = f"{art.slug}-{n}"
        taken.add(slug)
        if art.url:
            by_url.setdefault(_url_key(art.url), slug)
        slugs[art.key] = slug
        for tag_id, label in art.tags:
            if tag_id not in state.tags:
                new_tags.setdefault(tag_id, label)
        text = render_article(
            art.title, art.date, art.body, [t for t, _ in art.tags], art.summary, art.url
        )
        changes.put(state.root / "articles" / f"{slug}.md", text, None)
        report.articles_added.append(slug)
    return slugs


def plan_import(batch: c.Batch, root: Path, author: str | None = None) -> tuple[ChangeSet, Report]:
    """Match a batch against the corpus at ``root``; return the files to write and the report."""
    root = Path(root)
    state = _read_state(root)
    changes = ChangeSet()
    report = Report(
        source=batch.source,
        files=batch.files,
        skipped=list(batch.skipped),
        notes=list(batch.notes),
        formats=dict(batch.formats),
        failed=list(batch.failed),
    )
    site = _site_for(batch, state, author, changes, report)
    new_tags: dict[str, str] = {}
    slugs = _place_articles(batch, state, changes, report, new_tags)
    report.slugs = dict(slugs)
    mapped: dict[str, str] = {}
    pending: dict[str, list[dict[str, Any]]] = {}
    for com in _parents_first(batch.comments):
        slug = slugs.get(com.article)
        if slug is None:
            report.skipped.append(c.Skip("comment", c.POST_NOT_IMPORTED, com.where, com.id))
            continue
        name = (
            site.author if com.is_author or site.is_author(com.author) else _safe_name(com.author)
        )
        if len(com.body) > 2 * MAX_BODY:  # not even worth scrubbing
            report.skipped.append(
                c.Skip(
                    "comment",
                    c.TOO_LONG,
                    com.where,
                    f"{com.id}: {len(com.body):,} characters; the limit is {MAX_BODY:,}",
                )
            )
            continue
        body = c.clean_body(c.scrub_private(com.body, site.base_url))
        if len(body) > MAX_BODY:
            report.skipped.append(
                c.Skip(
                    "comment",
                    c.TOO_LONG,
                    com.where,
                    f"{com.id}: {len(body):,} characters; the limit is {MAX_BODY:,}",
                )
            )
            continue
        key = comment_key(slug, name, com.date, body, site)
        existing = com.id if com.id in state.comment_ids else state.comment_keys.get(key)
        gone = state.redacted.get(redaction_digest(key)) if state.redacted else None
        if gone and not existing:
            mapped[com.id] = gone
            report.skipped.append(
                c.Skip(
                    "comment", c.REDACTED, com.where, f"removed at the reader's request (as {gone})"
                )
            )
            continue
        if existing:
            mapped[com.id] = existing
            report.skipped.append(
                c.Skip("comment", c.DUPLICATE, com.where, f"already in the corpus as {existing}")
            )
            continue
        parent = mapped.get(com.parent) if com.parent else None
        if com.parent and parent is None:
            report.notes.append(
                f"{com.where}: {com.id} answers {com.parent}, which is not "
                "imported; it starts its own thread"
            )
        mapped[com.id] = com.id
        state.comment_ids.add(com.id)
        state.comment_keys[key] = com.id
        pending.setdefault(slug, []).append(render_comment(com.id, name, com.date, body, parent))
        report.comments_added += 1
    for slug, entries in pending.items():
        path = root / "comments" / f"{slug}.yaml"
        changes.put(
            path,
            append_entries(_read(path), "comments", entries, path, head={"article": slug}),
            _read(path),
        )
    if new_tags:
        path = root / "tags.yaml"
        entries = [{"id": t, "label": label} for t, label in sorted(new_tags.items())]
        changes.put(path, append_entries(_read(path), "tags", entries, path), _read(path))
        report.tags_added = sorted(new_tags)
    report.written = [str(p) for p in changes.paths()]
    return changes, report


def _safe_name(name: str) -> str:
    """Return a commenter's name with any e-mail, IP address or link in it removed."""
    name = " ".join(name.split())  # one line: a name never carries paragraphs or Markdown blocks
    scrubbed = c.scrub_private(name)
    if scrubbed == name:
        return name
    for mark in MARKS:
        scrubbed = scrubbed.replace(mark, " ")
    return " ".join(scrubbed.split()).strip(" ,;:()<>-") or "Anonymous"


def _parents_first(comments: list[c.SourceComment]) -> list[c.SourceComment]:
    by_id: dict[str, c.SourceComment] = {}
    for com in comments:
        by_id.setdefault(com.id, com)
    ordered: list[c.SourceComment] = []
    seen: set[int] = set()
    for com in comments:
        chain: list[c.SourceComment] = []
        on_chain: set[int] = set()  # a set: a chain thousands deep is walked in linear time
        current: c.SourceComment | None = com
        while current is not None and id(current) not in seen and id(current) not in on_chain:
            chain.append(current)
            on_chain.add(id(current))
            current = by_id.get(current.parent) if current.parent else None
        for item in reversed(chain):
            seen.add(id(item))
            ordered.append(item)
    return ordered
