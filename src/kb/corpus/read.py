"""Reading and validating a corpus folder (see DESIGN.md for the format).

``read_corpus`` returns the corpus together with every problem found, each as
``path:line: what is wrong``; ``load_corpus`` refuses a corpus with problems.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from kb.corpus.yamlfile import LINE_KEY, alias_problem, load_lines
from kb.errors import CorpusError, NotFoundError
from kb.model import SUGGEST_THRESHOLD, Article, Comment, Corpus, Section, Site, Tag, anchor

_FRONT_RE = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.S | re.M)
_HEADING_RE = re.compile(r"^##[ \t]+(.+?)[ \t#]*$", re.M)
_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
SLUG_RULE = "lower-case letters, digits and '-', at most 100 characters"
MAX_BODY = 100_000  # characters in one comment's body: a long story is a few thousand


def valid_slug(slug: object) -> bool:
    """Tell whether ``slug`` names an article: the rule for article file names."""
    return isinstance(slug, str) and _SLUG_RE.fullmatch(slug) is not None


def _yaml_problem(rel: str, exc: yaml.YAMLError, offset: int = 0) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 + offset if mark else 1 + offset
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{rel}:{line}: invalid YAML: {what}"


class _Reader:
    """Collects problems while reading one corpus folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(f"{self.rel(path)}:{line}: {message}")

    def text(self, path: Path) -> str | None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.problem(path, 1, f"cannot read file: {exc.strerror}")
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            self.problem(
                path, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8"
            )
            return None

    def yaml(self, path: Path, text: str, offset: int = 0) -> Any:
        aliases = alias_problem(text)
        if aliases:
            self.problem(path, aliases[0] + offset, aliases[1])
            return None
        try:
            return load_lines(text)
        except yaml.YAMLError as exc:
            self.problems.append(_yaml_problem(self.rel(path), exc, offset))
            return None
        except (ValueError, TypeError, RecursionError) as exc:
            self.problem(path, 1 + offset, f"unreadable YAML value: {exc}")
            return None


def _as_str_list(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def parse_date(value: Any) -> dt.datetime | None:
    """Return a datetime from a YAML date, datetime or ISO string; None if it is not one."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.replace(tzinfo=None) if parsed.tzinfo else parsed
    return None


def _read_site(r: _Reader) -> Site:
    path = r.root / "site.yaml"
    fallback = Site(title=r.root.name, author="")
    if not path.exists():
        r.problem(path, 1, "missing file: create site.yaml with at least `title` and `author`")
        return fallback
    known = len(r.problems)
    text = r.text(path)
    data = r.yaml(path, text) if text is not None else None
    if data is None:
        if len(r.problems) == known:  # read and parsed, but nothing in it
            r.problem(path, 1, "empty file: write at least `title` and `author`")
        return fallback
    if not isinstance(data, dict):
        r.problem(path, 1, "expected a mapping with `title` and `author`")
        return fallback
    author = data.get("author")
    if not isinstance(author, str) or not author.strip():
        r.problem(path, data[LINE_KEY], "missing `author` (the name on the author's replies)")
        author = ""
    aliases = _as_str_list(data.get("author_aliases"))
    if aliases is None:
        r.problem(path, data[LINE_KEY], "`author_aliases` must be a list of names")
        aliases = []
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        r.problem(path, data[LINE_KEY], "missing `title`")
        title = r.root.name
    threshold = data.get("suggest_threshold", SUGGEST_THRESHOLD)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 <= threshold <= 1
    ):
        r.problem(path, data[LINE_KEY], "`suggest_threshold` must be a number from 0 to 1")
        threshold = SUGGEST_THRESHOLD
    record = data.get("record_weak_searches", True)
    if not isinstance(record, bool):
        r.problem(path, data[LINE_KEY], "`record_weak_searches` must be true or false")
        record = True
    model = data.get("embedding_model", "")
    if model is None:
        model = ""
    if not isinstance(model, str):
        r.problem(path, data[LINE_KEY], "`embedding_model` must be a folder name")
        model = ""
    elif model and not _model_folder_ok(r.root, model):
        r.problem(
            path,
            data[LINE_KEY],
            f"`embedding_model`: no model folder at {model!r} "
            "(it needs model.onnx, tokenizer.json and kb-model.json)",
        )
        model = ""
    return Site(
        title=title.strip(),
        suggest_threshold=float(threshold),
        record_weak_searches=record,
        author=author.strip(),
        author_aliases=tuple(a.strip() for a in aliases if a.strip()),
        base_url=str(data.get("base_url") or ""),
        tagline=str(data.get("tagline") or ""),
        embedding_model=model.strip(),
    )


def _model_folder_ok(root: Path, spec: str) -> bool:
    folder = Path(spec.strip()).expanduser()
    folder = folder if folder.is_absolute() else root / folder
    return all((folder / f).is_file() for f in ("model.onnx", "tokenizer.json", "kb-model.json"))


def _read_tags(r: _Reader) -> dict[str, Tag]:
    path = r.root / "tags.yaml"
    tags: dict[str, Tag] = {}
    if not path.exists():
        return tags
    text = r.text(path)
    data = r.yaml(path, text) if text is not None else None
    if data is None:
        return tags
    items = data.get("tags") if isinstance(data, dict) else None
    if not isinstance(items, list):
        r.problem(path, 1, "expected `tags:` followed by a list of tags")
        return tags
    for item in items:
        if not isinstance(item, dict):
            r.problem(path, 1, "each tag must be a mapping with `id` and `label`")
            continue
        line = item[LINE_KEY]
        tag_id = item.get("id")
        if not isinstance(tag_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", tag_id):
            r.problem(path, line, f"tag id {tag_id!r} must be lower-case letters, digits and '-'")
            continue
        if tag_id in tags:
            r.problem(path, line, f"duplicate tag id {tag_id!r}")
            continue
        phrases = _as_str_list(item.get("phrases"))
        if phrases is None:
            r.problem(path, line, f"tag {tag_id!r}: `phrases` must be a list of strings")
            phrases = []
        tags[tag_id] = Tag(
            id=tag_id,
            label=str(item.get("label") or tag_id),
            description=str(item.get("description") or ""),
            phrases=tuple(phrases),
        )
    return tags


def split_sections(slug: str, title: str, body: str) -> tuple[Section, ...]:
    """Split a Markdown body at its ``##`` headings; text before the first is the intro."""
    sections: list[Section] = []
    matches = list(_HEADING_RE.finditer(body))
    intro = body[: matches[0].start()] if matches else body
    if intro.strip():
        sections.append(Section(slug, "intro", title, intro.strip(), 0))
    seen: dict[str, int] = {"intro": 1} if intro.strip() else {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        heading = m.group(1).strip()
        base = anchor(heading) or "section"
        seen[base] = seen.get(base, 0) + 1
        key = base if seen[base] == 1 else f"{base}-{seen[base]}"
        sections.append(Section(slug, key, heading, body[m.end() : end].strip(), len(sections)))
    return tuple(sections)


def _check_tags(
    r: _Reader, path: Path, line: int, tags: list[str], known: dict[str, Tag], what: str
) -> None:
    for tag in tags:
        if known and tag not in known:
            r.problem(path, line, f"{what}: unknown tag {tag!r} (not in tags.yaml)")


def _read_article(r: _Reader, path: Path, known_tags: dict[str, Tag]) -> Article | None:
    text = r.text(path)
    if text is None:
        return None
    slug = path.stem
    if not valid_slug(slug):
        r.problem(path, 1, f"the file name {path.name!r} is not a slug ({SLUG_RULE}); rename it")
        return None
    m = _FRONT_RE.match(text)
    if not m:
        r.problem(
            path, 1, "missing front matter: start the file with '---', `title:`, `date:`, '---'"
        )
        return None
    known = len(r.problems)
    meta = r.yaml(path, m.group(1), offset=1)
    if meta is None:
        if len(r.problems) == known:  # parsed, but empty: say so, never drop the article silently
            r.problem(path, 2, "empty front matter: add `title:` and `date:` between the '---'")
        return None
    if not isinstance(meta, dict):
        r.problem(path, 2, "front matter must be a mapping of `key: value` lines")
        return None
    ok = True
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        r.problem(path, 2, "missing `title` in front matter")
        ok = False
    raw_date = meta.get("date")
    date = parse_date(raw_date)
    if raw_date is None:
        r.problem(path, 2, "missing `date` in front matter (YYYY-MM-DD)")
        ok = False
    elif date is None:
        r.problem(path, 2, f"invalid date {raw_date!r}: use YYYY-MM-DD")
        ok = False
    tags = _as_str_list(meta.get("tags"))
    if tags is None:
        r.problem(path, 2, "`tags` must be a list of tag ids")
        tags = []
    _check_tags(r, path, 2, tags, known_tags, "front matter")
    body = text[m.end() :]
    if not body.strip():
        r.problem(path, text[: m.end()].count("\n") + 1, "empty body: the article has no text")
        ok = False
    if not ok or not isinstance(title, str) or date is None:  # (ok is False for both)
        return None
    return Article(
        slug=slug,
        title=title.strip(),
        date=date.date(),
        body=body,
        tags=tuple(tags),
        summary=str(meta.get("summary") or ""),
        url=str(meta.get("url") or ""),
        sections=split_sections(slug, title.strip(), body),
    )


def _read_comments(
    r: _Reader,
    path: Path,
    site: Site,
    known_tags: dict[str, Tag],
    articles: dict[str, Article],
    comments: dict[str, Comment],
    where: dict[str, str],
    others: Mapping[str, str] | None = None,
) -> None:
    text = r.text(path)
    data = r.yaml(path, text) if text is not None else None
    if data is None:
        return
    if not isinstance(data, dict) or not isinstance(data.get("comments", []), list):
        r.problem(path, 1, "expected `article: <slug>` and `comments:` followed by a list")
        return
    slug = data.get("article")
    if slug is None:
        slug = path.stem
    if not isinstance(slug, str) or slug not in articles:
        r.problem(
            path, data[LINE_KEY], f"comments for a missing article {slug!r} (no articles/{slug}.md)"
        )
        return
    if slug != path.stem:
        r.problem(
            path, data[LINE_KEY], f"`article: {slug}` does not match the file name {path.name}"
        )
    pending_parents: list[tuple[str, str, int]] = []
    rel = r.rel(path)
    for item in data.get("comments") or []:
        if not isinstance(item, dict):
            r.problem(path, 1, "each comment must be a mapping with id, author, date, body")
            continue
        line = item[LINE_KEY]
        cid = item.get("id")
        if isinstance(cid, int) and not isinstance(cid, bool):
            r.problem(path, line, f'id {cid} must be a quoted string, e.g. id: "c-{cid:06d}"')
            continue
        if not isinstance(cid, str) or not cid.strip():
            r.problem(path, line, "comment without `id`")
            continue
        cid = cid.strip()
        if cid in comments or cid in where:
            r.problem(path, line, f"duplicate comment id {cid!r} (also at {where.get(cid, '?')})")
            continue
        where[cid] = f"{rel}:{line}"
        author = item.get("author")
        if not isinstance(author, str) or not author.strip():
            r.problem(path, line, f"comment {cid}: missing `author`")
            author = ""
        raw_date = item.get("date")
        date = parse_date(raw_date)
        if date is None:
            what = "missing `date`" if raw_date is None else f"invalid date {raw_date!r}"
            r.problem(path, line, f"comment {cid}: {what} (use YYYY-MM-DD or an ISO datetime)")
        body = item.get("body")
        if not isinstance(body, str) or not body.strip():
            r.problem(path, line, f"comment {cid}: empty body")
        elif len(body) > MAX_BODY:
            r.problem(
                path,
                line,
                f"comment {cid}: body of {len(body):,} characters; the limit "
                f"is {MAX_BODY:,} (shorten it or split it into replies)",
            )
            body = None
        tags = _as_str_list(item.get("tags"))
        if tags is None:
            r.problem(path, line, f"comment {cid}: `tags` must be a list of tag ids")
            tags = []
        _check_tags(r, path, line, tags, known_tags, f"comment {cid}")
        removed = _as_str_list(item.get("removed_tags"))
        if removed is None:
            r.problem(path, line, f"comment {cid}: `removed_tags` must be a list of tag ids")
            removed = []
        parent = item.get("parent")
        if parent is not None:
            if not isinstance(parent, str):
                r.problem(path, line, f"comment {cid}: parent {parent!r} must be a quoted id")
                parent = None
            else:
                pending_parents.append((cid, parent, line))
        if date is None or not isinstance(body, str) or not body.strip() or not author:
            continue
        comments[cid] = Comment(
            id=cid,
            article=slug,
            author=author.strip(),
            date=date,
            body=body.strip(),
            parent=parent,
            tags=tuple(tags),
            removed_tags=tuple(removed),
            redacted=item.get("redacted") is True,
            is_author=site.is_author(author),
            line=line,
        )
    for cid, parent, line in pending_parents:
        if parent == cid:
            r.problem(path, line, f"comment {cid}: a comment cannot answer itself")
        elif parent not in where:
            r.problem(path, line, f"comment {cid}: parent {parent!r} does not exist")
        elif (
            comments[parent].article if parent in comments else (others or {}).get(parent, slug)
        ) != slug:
            r.problem(path, line, f"comment {cid}: parent {parent!r} is under another article")


def read_corpus(
    root: Path,
    *,
    only: Collection[str] | None = None,
    known: Mapping[str, tuple[str, int]] | None = None,
) -> tuple[Corpus, list[str]]:
    """Read a corpus folder; return the corpus and every problem found in it.

    With ``only``, the comments of just those articles are read (and any comments file
    without an article): the corpus then holds every article but only those comments.
    ``known`` gives the article and line of each comment in the files left unread, so
    that ids and parents are still checked across files. An incremental build reads
    this way: the other files are unchanged since a build last read them whole.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such corpus folder (set --corpus or KB_CORPUS)")
    r = _Reader(root)
    site = _read_site(r)
    tags = _read_tags(r)
    articles: dict[str, Article] = {}
    for path in sorted((root / "articles").glob("*.md")):
        article = _read_article(r, path, tags)
        if article is not None:
            articles[article.slug] = article
    comments: dict[str, Comment] = {}
    where: dict[str, str] = {}
    others: dict[str, str] = {}
    files: dict[str, str] = {}
    for cid, (slug, line) in (known or {}).items():
        if slug not in files:
            files[slug] = r.rel(root / "comments" / f"{slug}.yaml")
        where[cid] = f"{files[slug]}:{line}"
        others[cid] = slug
    stems = {p.stem for p in (root / "articles").glob("*.md")}
    for path in sorted((root / "comments").glob("*.yaml")):
        if path.stem in stems and path.stem not in articles:
            continue  # the article itself is broken and already reported
        if only is not None and path.stem in stems and path.stem not in only:
            continue
        _read_comments(r, path, site, tags, articles, comments, where, others)
    return Corpus(site=site, tags=tags, articles=articles, comments=comments), r.problems


def load_corpus(root: Path) -> Corpus:
    """Read a corpus folder, refusing it with :class:`CorpusError` if it has any problem."""
    corpus, problems = read_corpus(root)
    if problems:
        raise CorpusError(problems)
    return corpus


def check_corpus(root: Path) -> list[str]:
    """Return every problem in a corpus folder (an empty list when it is sound)."""
    return read_corpus(root)[1]


def corpus_files(root: Path) -> list[Path]:
    """Return the files a corpus is made of, in a stable order."""
    root = Path(root)
    files = [root / "site.yaml", root / "tags.yaml"]
    files += sorted((root / "articles").glob("*.md"))
    files += sorted((root / "comments").glob("*.yaml"))
    return [f for f in files if f.exists()]


def read_site(root: Path) -> Site:
    """Return the site settings of a corpus folder (a fallback when site.yaml is unusable)."""
    return _read_site(_Reader(Path(root)))


def read_article(root: Path, slug: str) -> Article:
    """Read one article file; raise a one-line error if it is missing or broken."""
    root = Path(root)
    path = root / "articles" / f"{slug}.md"
    if "/" in slug or "\\" in slug or slug.startswith(".") or not path.is_file():
        raise NotFoundError(f"no article {slug!r} in {root}")
    r = _Reader(root)
    tags = _read_tags(r)
    article = _read_article(r, path, tags)
    if article is None:
        raise CorpusError(r.problems)
    return article
