"""``kb sync``: the site itself as the source, read through its public REST API.

A sync reads everything first (:mod:`~kb.importers.rest`), then matches it against the
corpus with the import's own rules (:func:`~kb.importers.merge.plan_import`: the same
ids, duplicates, author replies and scrubbing of private data), adds what is new and
updates what the site changed: a comment's edited text, a post's new text. Only the
``body:`` of a comment and the text under an article's front matter are rewritten, so
the author's tags, ``removed_tags`` and everything else in the files stay; a redacted
comment is never brought back or updated. All files are written through
:class:`kb.corpus.write.ChangeSet` (aside, then renamed); the site's address and the time of
the sync go into ``site.yaml`` last, so a sync stopped before the end is simply done
again by the next one. Then the index is brought up to date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kb.corpus.identity import normalise_text
from kb.corpus.write import ChangeSet
from kb.corpus.yamlfile import dump_yaml, load_yaml
from kb.errors import StoreError, SyncError, UsageError
from kb.importers import common as c
from kb.importers.merge import plan_import
from kb.importers.rest import Fetched, Remote, read_site, site_root

OVERLAP = dt.timedelta(days=2)  # the site's clock and time zone may differ from ours
_FRONT_RE = re.compile(r"\A(---[ \t]*\n.*?\n---[ \t]*\n)(.*)\Z", re.S)


@dataclass
class SyncReport:
    """What a sync read, added, updated and skipped."""

    site: str
    since: str | None
    dry_run: bool
    fetched: dict[str, int]
    requests: int
    articles_added: list[str] = field(default_factory=list)
    articles_updated: list[str] = field(default_factory=list)
    articles_unchanged: int = 0
    comments_added: int = 0
    comments_updated: list[str] = field(default_factory=list)
    comments_unchanged: int = 0
    comments_kept_redacted: list[str] = field(default_factory=list)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    protected: list[str] = field(default_factory=list)
    tags_added: list[str] = field(default_factory=list)
    site_created: bool = False
    notes: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    index: dict | None = None

    @property
    def changed(self) -> bool:
        """Tell whether the sync changed (or, on a dry run, would change) the corpus."""
        return bool(
            self.articles_added
            or self.articles_updated
            or self.comments_added
            or self.comments_updated
            or self.site_created
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain data, for JSON."""
        return {
            "site": self.site,
            "since": self.since,
            "dry_run": self.dry_run,
            "fetched": self.fetched,
            "requests": self.requests,
            "articles": {
                "added": len(self.articles_added),
                "added_slugs": self.articles_added,
                "updated": self.articles_updated,
                "unchanged": self.articles_unchanged,
                "skipped": self.skipped.get("article", {}),
            },
            "comments": {
                "added": self.comments_added,
                "updated": self.comments_updated,
                "unchanged": self.comments_unchanged,
                "kept_redacted": self.comments_kept_redacted,
                "skipped": self.skipped.get("comment", {}),
            },
            "password_protected": self.protected,
            "tags_added": self.tags_added,
            "site_created": self.site_created,
            "notes": self.notes,
            "details": self.details,
            "changed": self.changed,
            "written": self.written,
            "index": self.index,
        }


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def stored_sync(corpus: Path) -> dict[str, str]:
    """Return the ``sync:`` block of site.yaml (``url``, ``last_sync``, ``author_id``), or {}."""
    text = _read_text(Path(corpus) / "site.yaml")
    try:
        data = load_yaml(text) if text else None
    except yaml.YAMLError:
        raise UsageError(
            f"{corpus}/site.yaml: invalid YAML; fix it first (see `kb check`)"
        ) from None
    block = data.get("sync") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        return {}
    return {k: str(v) for k, v in block.items() if k in ("url", "last_sync", "author_id") and v}


def _with_sync_block(text: str, path: Path, url: str, when: str, author_id: int) -> str:
    """Return site.yaml's text with its ``sync:`` block set; every other line stays."""
    before = load_yaml(text) or {}
    lines = text.splitlines(True)
    kept: list[str] = []
    inside = False
    for line in lines:
        if re.match(r"^sync:", line):
            inside = True
            continue
        if inside and line.strip() and not line[:1].isspace() and not line.startswith("#"):
            inside = False
        if not inside:
            kept.append(line)
    new = "".join(kept)
    if new and not new.endswith("\n"):
        new += "\n"
    block: dict[str, Any] = {"url": url, "last_sync": when}
    if author_id:
        block["author_id"] = author_id  # the author's WordPress user id: her replies by id
    new += dump_yaml({"sync": block})
    after = load_yaml(new)
    if not isinstance(after, dict) or any(
        after.get(k) != v for k, v in before.items() if k != "sync"
    ):
        raise StoreError(
            f"{path}: cannot record the sync without changing other settings; "
            "check the file's layout"
        )
    return new


def _known_posts(corpus: Path) -> dict[int, str]:
    """Return the WordPress post ids the corpus has comments of (``wp-<post>-<id>``), by slug."""
    posts: dict[int, str] = {}
    id_re = re.compile(r"""^\s*-?\s*id:\s*["']?wp-(\d+)-\d+["']?\s*$""", re.M)
    for path in sorted((corpus / "comments").glob("*.yaml")):
        if not (corpus / "articles" / f"{path.stem}.md").exists():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for post in {int(m.group(1)) for m in id_re.finditer(text)}:
            posts.setdefault(post, path.stem)
    return posts


def _corpus_comments(corpus: Path) -> dict[str, tuple[Path, dict]]:
    found: dict[str, tuple[Path, dict]] = {}
    for path in sorted((corpus / "comments").glob("*.yaml")):
        try:
            data = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
            continue  # reported by `kb check`; the import refuses to append to it too
        for item in (data.get("comments") or []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and item.get("id") is not None:
                found.setdefault(str(item["id"]), (path, item))
    return found


def _block_value(body: str, indent: int) -> str:
    pad = " " * (indent + 2)
    return "|\n" + "\n".join(pad + line if line else "" for line in body.strip().split("\n"))


def _replace_body(text: str, path: Path, comment_id: str, body: str) -> str:
    """Return the comments file's text with one comment's ``body:`` replaced, nothing else.

    The entry is found by parsing (kb.corpus.edit); the result is parsed again and must differ
    from the file in that one value only.
    """
    from kb.corpus.edit import entry_of, set_key

    lines = text.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    entry = entry_of(path, "".join(lines), comment_id)
    column = entry.keys["body"][2] if "body" in entry.keys else entry.column
    new = "".join(set_key(lines, entry, "body", _block_value(body, column)))

    def comments(t: str) -> list:
        data = yaml.safe_load(t) or {}
        return [dict(x) for x in data.get("comments") or [] if isinstance(x, dict)]

    before, after = comments(text), comments(new)
    for old in before:
        if str(old.get("id")) == comment_id:
            old["body"] = body.strip() + "\n"
    if before != after:
        raise StoreError(
            f"{path}: cannot update {comment_id} without touching other entries; "
            "nothing was written"
        )
    return new


def _update_comments(
    remote: Remote, corpus: Path, base_url: str, changes: ChangeSet, report: SyncReport
) -> None:
    known = _corpus_comments(corpus)
    for com in remote.batch.comments:
        if com.id not in known:
            continue
        path, entry = known[com.id]
        if entry.get("redacted") is True:
            report.comments_kept_redacted.append(com.id)
            continue
        body = c.clean_body(c.scrub_private(com.body, base_url))
        if normalise_text(body) == normalise_text(str(entry.get("body") or "")):
            continue
        current = changes.changes[path].text if path in changes.changes else _read_text(path)
        changes.put(path, _replace_body(current or "", path, com.id, body), _read_text(path))
        report.comments_updated.append(com.id)


def _update_articles(
    remote: Remote,
    corpus: Path,
    slugs: dict[str, str],
    added: set[str],
    changes: ChangeSet,
    report: SyncReport,
) -> None:
    for art in remote.batch.articles:
        slug = slugs.get(art.key)
        if slug is None or slug in added or art.key not in remote.article_bodies:
            continue  # new, or only named because a new comment is under it
        path = corpus / "articles" / f"{slug}.md"
        text = _read_text(path)
        m = _FRONT_RE.match(text or "")
        if m is None:
            continue  # a broken article file is left to `kb check`
        new_body = remote.article_bodies.get(art.key, "")
        if not new_body or normalise_text(m.group(2)) == normalise_text(new_body):
            report.articles_unchanged += 1
            continue
        changes.put(path, f"{m.group(1)}\n{new_body.strip()}\n", text)
        report.articles_updated.append(slug)


def sync_site(
    corpus: Path,
    url: str | None = None,
    *,
    index: Path | None = None,
    include_pages: bool = False,
    full: bool = False,
    dry_run: bool = False,
    build: bool = True,
    follow_redirects: bool = False,
    timeout: float = 30.0,
    author: str | None = None,
    fetched: Fetched | None = None,
    build_progress: Callable[[int, int, str], None] | None = None,
    new_comments_only: bool = False,
) -> SyncReport:
    """Bring the corpus up to date with the site at ``url`` (or the one site.yaml names)."""
    corpus = Path(corpus)
    stored = stored_sync(corpus) if corpus.exists() else {}
    if not url and not stored.get("url"):
        raise UsageError(
            "kb sync needs the site's address the first time: kb sync https://example.org"
        )
    root = site_root(url or stored["url"])
    same_site = stored.get("url") and site_root(stored["url"]) == root
    since = stored.get("last_sync") if same_site and not full else None
    known = _known_posts(corpus) if since else {}
    started = dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()
    remote = read_site(
        root,
        since=since or "",
        include_pages=include_pages,
        timeout=timeout,
        follow_redirects=follow_redirects,
        overlap=OVERLAP,
        new_comments_only=new_comments_only,
        known_posts=set(known) if since else set(),
        author_id=int(stored.get("author_id") or 0) if same_site else 0,
        fetched=fetched,
    )
    for post_id in sorted(remote.known_posts):  # unchanged posts a comment is under: by slug
        slug = known[post_id]
        remote.batch.articles.append(
            c.SourceArticle(
                key=f"wp:{post_id}",
                slug=slug,
                title=slug,
                date=dt.date.today(),
                body="",
                where=f"{corpus}/articles/{slug}.md",
                fixed=True,
            )
        )
    changes, merged = plan_import(remote.batch, corpus, author=author)
    report = SyncReport(
        site=root,
        since=since,
        dry_run=dry_run,
        requests=remote.requests,
        fetched={"posts": remote.post_count, "comments": remote.comment_count},
    )
    report.articles_added = merged.articles_added
    report.comments_added = merged.comments_added
    report.tags_added = merged.tags_added
    report.site_created = merged.site_created
    report.protected = remote.protected
    report.notes = merged.notes
    base_url = _base_url(corpus, remote)
    _update_comments(remote, corpus, base_url, changes, report)
    _update_articles(remote, corpus, merged.slugs, set(merged.articles_added), changes, report)
    skipped: dict[str, dict[str, int]] = {}
    duplicates = 0
    for skip in merged.skipped:
        if skip.reason == c.DUPLICATE:
            duplicates += 1
            continue
        counts = skipped.setdefault(skip.kind, {})
        counts[skip.reason] = counts.get(skip.reason, 0) + 1
        report.details.append(skip.line())
    report.skipped = skipped
    report.comments_unchanged = (
        duplicates - len(report.comments_updated) - len(report.comments_kept_redacted)
    )
    report.written = [str(p) for p in changes.paths()]
    if dry_run:
        return report
    if changes.changes:
        changes.commit()
    site_path = corpus / "site.yaml"
    text = _read_text(site_path)
    if text is not None:
        record = ChangeSet()
        record.put(
            site_path, _with_sync_block(text, site_path, root, started, remote.author_id), text
        )
        record.commit()
    if build and index is not None:
        from kb.index.build import build_index

        report.index = build_index(corpus, index, progress=build_progress).as_dict()
    return report


def _base_url(corpus: Path, remote: Remote) -> str:
    text = _read_text(corpus / "site.yaml")
    try:
        data = load_yaml(text) if text else None
    except yaml.YAMLError:
        data = None
    if isinstance(data, dict) and data.get("base_url"):
        return str(data["base_url"])
    return remote.batch.site.base_url


__all__ = ["SyncError", "SyncReport", "stored_sync", "sync_site"]
