"""A WordPress site's public REST API read into a batch, as the export would give it.

Only what any visitor may read is asked for: published posts (and pages, when asked),
their categories and tags, the post authors' public names, and approved comments
(``_fields`` leaves out ``author_url`` and ``author_avatar_urls``, which hold a hash of
the commenter's e-mail, so they are never even downloaded). Lists are read 100 at a
time, page after page, as the ``X-WP-TotalPages`` header says. Ids are the export's,
``wp-<post>-<comment>``, so a comment imported from the export and read again here is
the same comment.

Every network fault becomes one :class:`SyncError` line that names the address and
what went wrong; nothing is written before everything has been read.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from kb.corpus.identity import normalise_text
from kb.errors import SyncError
from kb.importers import common as c
from kb.importers.markup import html_to_markdown

PER_PAGE = 100
TRIES = 4  # a 429 or 5xx answer is tried again three times, waiting longer each time
MAX_WAIT = 30.0  # the longest wait between tries, whatever Retry-After says
BACKOFF = 1.0  # the first wait; each next one is twice as long
POST_FIELDS = (
    "id,date,date_gmt,modified_gmt,slug,link,title,content,excerpt,author,categories,"
    "tags,status,type"
)
COMMENT_FIELDS = "id,post,parent,author,author_name,date,date_gmt,content,status,type"

Fetched = Callable[[str, int, int], None]  # (what, done, total)


@dataclass
class Remote:
    """What a read of the site gave, beside the batch of articles and comments."""

    batch: c.Batch
    api: str = ""
    post_count: int = 0
    comment_count: int = 0
    requests: int = 0
    protected: list[str] = field(default_factory=list)
    article_bodies: dict[str, str] = field(default_factory=dict)  # key -> Markdown
    author_id: int = 0  # the user id of the site's main author
    known_posts: set[int] = field(default_factory=set)  # posts of comments, already in the corpus


class Client:
    """GET JSON from one site with timeouts, retries on 429/5xx and a same-host redirect rule."""

    def __init__(
        self,
        base: str,
        *,
        timeout: float = 30.0,
        follow_redirects: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        backoff: float | None = None,
    ) -> None:
        self.base = base
        self.host = (urlsplit(base).hostname or "").lower()
        self.timeout = timeout
        self.follow = follow_redirects
        self.sleep = sleep
        self.backoff = BACKOFF if backoff is None else backoff
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "kb-sync (+a knowledge base of this site)"
        self.session.headers["Accept"] = "application/json"
        self.session.trust_env = False  # no proxy or .netrc credentials from the environment
        self.count = 0

    def get(self, url: str) -> tuple[object, requests.structures.CaseInsensitiveDict]:
        """Return the JSON document at ``url`` and the answer's headers."""
        for attempt in range(1, TRIES + 1):
            answer = self._fetch(url)
            if answer.status_code == 429 or answer.status_code >= 500:
                if attempt == TRIES:
                    raise SyncError(
                        f"{_shown(url)}: {self._status(answer)} after {TRIES} tries; the "
                        "site is busy or failing, try again later"
                    )
                self.sleep(self._wait(answer, attempt))
                continue
            return self._json(url, answer), answer.headers
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, answer: requests.Response, attempt: int) -> float:
        wait = self.backoff * 2 ** (attempt - 1)
        after = answer.headers.get("Retry-After", "")
        if after.strip().isdigit():
            wait = max(wait, float(after))
        return min(wait, MAX_WAIT)

    def _fetch(self, url: str) -> requests.Response:
        for _ in range(6):
            self.count += 1
            try:
                answer = self.session.get(url, timeout=self.timeout, allow_redirects=False)
                answer.content  # noqa: B018 - read the whole body here, under the timeout
            except requests.exceptions.Timeout:
                raise SyncError(
                    f"{_shown(url)}: no answer within {self.timeout:g} s (timed out); the "
                    "site is slow or down, try again later or pass a longer "
                    "--timeout"
                ) from None
            except requests.exceptions.ConnectionError as exc:
                raise SyncError(f"{_shown(url)}: {_connection_problem(exc)}") from None
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ):
                raise SyncError(
                    f"{_shown(url)}: the answer broke off before its end; try again"
                ) from None
            except requests.exceptions.RequestException as exc:
                raise SyncError(
                    f"{_shown(url)}: the request failed ({type(exc).__name__}); try again"
                ) from None
            if answer.status_code not in (301, 302, 303, 307, 308):
                return answer
            target = urljoin(url, answer.headers.get("Location", ""))
            host = (urlsplit(target).hostname or "").lower()
            if host != self.host and not self.follow:
                raise SyncError(
                    f"{_shown(url)}: redirects to {target}, another host: not followed "
                    "(sync from that address, or pass --follow-redirects)"
                )
            url = target
        raise SyncError(f"{_shown(url)}: too many redirects")

    @staticmethod
    def _status(answer: requests.Response) -> str:
        return f"{answer.status_code} {answer.reason or ''}".strip()

    def _json(self, url: str, answer: requests.Response) -> object:
        kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
        text = answer.content.decode("utf-8", errors="replace")
        if answer.status_code == 401 or answer.status_code == 403:
            raise SyncError(
                f"{_shown(url)}: {self._status(answer)}: the site refuses this to visitors "
                "(a login is needed, or a security plugin blocks the REST API); kb "
                "reads public sites only"
            )
        if answer.status_code == 404:
            raise SyncError(f"{_shown(url)}: {self._status(answer)}")
        if answer.status_code >= 400:
            raise SyncError(f"{_shown(url)}: {self._status(answer)}: {_wp_message(text)}")
        if "html" in kind or text.lstrip()[:1] == "<":
            raise SyncError(
                f"{_shown(url)}: the site answered with an HTML page, not JSON (a "
                "maintenance or login page, or a plugin in the way?)"
            )
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            declared = answer.headers.get("Content-Length")
            cut = declared and declared.isdigit() and len(answer.content) < int(declared)
            what = (
                "stops in the middle of its JSON"
                if cut or exc.msg.startswith(("Expecting", "Unterminated"))
                else "is not valid JSON"
            )
            raise SyncError(
                f"{_shown(url)}: the answer {what} (at character {exc.pos}); try again"
            ) from None


def _shown(url: str) -> str:
    """Return an address as an error line shows it: without the list of fields asked for."""
    return re.sub(r"([?&])_fields=[^&]*&?", r"\1", url).rstrip("?&")


def _connection_problem(exc: Exception) -> str:
    text = str(exc)
    if (
        "Name or service not known" in text
        or "nodename nor servname" in text
        or "getaddrinfo failed" in text
        or "Temporary failure in name resolution" in text
    ):
        return "no such host (check the address)"
    if "Connection refused" in text:
        return "connection refused: nothing answers at that address"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the answer broke off before its end; try again"
    if "SSL" in text or "certificate" in text:
        return "the secure connection failed (certificate?)"
    return "no answer (the connection failed)"


def _wp_message(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return "the site reports an error"
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return html.unescape(re.sub(r"<[^>]+>", "", data["message"]))[:200]
    return "the site reports an error"


def site_root(url: str) -> str:
    """Return the site's address as kb keeps it: scheme and host (and path), no trailing slash."""
    url = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.I):
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SyncError(f"{_shown(url)}: not a web address (write it as https://example.org)")
    path = re.sub(r"/wp-json(/.*)?$", "", parts.path).rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path}"


class _Api:
    """The site's REST routes, at ``/wp-json/`` or, on sites without pretty links, ``?rest_route=``."""

    def __init__(self, client: Client, root: str) -> None:
        self.client = client
        self.root = root
        self.style = "pretty"

    def url(self, route: str, params: dict | None = None) -> str:
        query = urlencode(params or {}, doseq=True)
        if self.style == "pretty":
            return f"{self.root}/wp-json{route}" + (f"?{query}" if query else "")
        return f"{self.root}/?rest_route={route}" + (f"&{query}" if query else "")

    def discover(self) -> dict:
        """Return the API's index document, finding where the API lives.

        A site without pretty links answers ``/wp-json/`` with a 404 or with its home
        page; its API is then at ``/?rest_route=/``.
        """
        first = self.url("/")
        try:
            index, _ = self.client.get(first)
        except SyncError as exc:
            if "404" not in str(exc) and "HTML page" not in str(exc):
                raise
            self.style = "plain"
            try:
                index, _ = self.client.get(self.url("/"))
            except SyncError:
                if "HTML page" in str(exc):
                    raise exc from None
                raise SyncError(
                    f"{first}: 404 Not Found: REST API disabled on this site? (kb "
                    "reads the site through its public REST API)"
                ) from None
        if not isinstance(index, dict) or "wp/v2" not in (index.get("namespaces") or []):
            raise SyncError(f"{first}: not a WordPress REST API (no wp/v2 in its namespaces)")
        return index

    def pages(
        self, route: str, params: dict, what: str, fetched: Fetched | None
    ) -> tuple[list[dict], int]:
        """Return every item of a paginated list, and the total the site announced."""
        items: list[dict] = []
        page, total_pages, total = 1, 1, 0
        while page <= total_pages:
            url = self.url(route, {**params, "per_page": PER_PAGE, "page": page})
            data, headers = self.client.get(url)
            if not isinstance(data, list):
                raise SyncError(
                    f"{_shown(url)}: expected a list of {what}, got {type(data).__name__}"
                )
            items += [d for d in data if isinstance(d, dict)]
            total_pages = _header_int(headers, "X-WP-TotalPages", 1)
            total = _header_int(headers, "X-WP-Total", len(items))
            if fetched:
                fetched(what, len(items), max(total, len(items)))
            page += 1
        return items, total


def _header_int(headers: Mapping[str, str], name: str, default: int) -> int:
    value = str(headers.get(name, "")).strip()
    return int(value) if value.isdigit() else default


_TEXTURIZED = re.compile(r"&#(8216|8217|8242|8220|8221|8243|8230);")
_PLAIN_CHARS = {
    "8216": "'",
    "8217": "'",
    "8242": "'",
    "8220": '"',
    "8221": '"',
    "8243": '"',
    "8230": "...",
}


def _rendered(value: Any) -> str:
    """Return display HTML as the export holds it: WordPress's typographic quotes undone.

    When it renders, WordPress writes the quotes and dots typed as ``'``, ``"`` and
    ``...`` as numeric entities (``&#8217;``); curly quotes the writer typed stay
    characters. So undoing the entities gives the text as written, as the export has it.
    """
    if isinstance(value, dict):
        value = value.get("rendered", "")
    if not isinstance(value, str):
        return ""
    return _TEXTURIZED.sub(lambda m: _PLAIN_CHARS[m.group(1)], value)


def _date(item: dict, key: str = "date") -> dt.datetime | None:
    value = item.get(key)
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "")).replace(tzinfo=None)
    except ValueError:
        return None


def read_site(
    url: str,
    *,
    since: str = "",
    include_pages: bool = False,
    timeout: float = 30.0,
    follow_redirects: bool = False,
    overlap: dt.timedelta = dt.timedelta(days=2),
    new_comments_only: bool = False,
    known_posts: set[int] | frozenset[int] = frozenset(),
    author_id: int = 0,
    fetched: Fetched | None = None,
    client: Client | None = None,
) -> Remote:
    """Read the site's posts (those changed since ``since``, when given) and approved comments.

    WordPress does not date an edit to a comment, so every approved comment is read each
    time, and an edited one is found by its text; with ``new_comments_only`` only those
    written since ``since`` are.
    """
    root = site_root(url)
    client = client or Client(root, timeout=timeout, follow_redirects=follow_redirects)
    api = _Api(client, root)
    index = api.discover()
    batch = c.Batch(source="sync", files=[root])
    remote = Remote(batch=batch, api=api.url("/"))
    batch.formats[root] = "WordPress REST API"
    batch.site = c.SiteInfo(
        title=c.html_text(str(index.get("name") or "")),
        base_url=str(index.get("home") or index.get("url") or root),
    )
    after = ""
    if since:
        start = dt.datetime.fromisoformat(since) - overlap
        after = start.strftime("%Y-%m-%dT%H:%M:%S")
    kinds = [("posts", "/wp/v2/posts")] + ([("pages", "/wp/v2/pages")] if include_pages else [])
    posts: list[dict] = []
    for what, route in kinds:
        params = {"_fields": POST_FIELDS, "orderby": "id", "order": "asc"}
        if after:
            params["modified_after"] = after
        items, _ = api.pages(route, params, what, fetched)
        posts += items
    params = {"_fields": COMMENT_FIELDS, "orderby": "id", "order": "asc"}
    if after and new_comments_only:
        params["after"] = after
    comments, _ = api.pages("/wp/v2/comments", params, "comments", fetched)
    # post ids are whole numbers; anything else names no post (and could not be sorted)
    known = {i for p in posts if isinstance(i := p.get("id"), int)}
    # the posts of comments that are not yet in the corpus, when the posts did not change
    commented = {i for cm in comments if isinstance(i := cm.get("post"), int)} - {0}
    remote.known_posts = (commented & set(known_posts)) - known
    missing = sorted(commented - known - set(known_posts))
    for what, route in kinds:  # the posts of new comments, when the posts themselves did not change
        for first in range(0, len(missing), PER_PAGE):
            chunk = missing[first : first + PER_PAGE]
            items, _ = api.pages(
                route,
                {"_fields": POST_FIELDS, "include": ",".join(str(i) for i in chunk)},
                what,
                None,
            )
            posts += [p for p in items if p.get("id") not in known]
            known |= {i for p in items if isinstance(i := p.get("id"), int)}
    remote.post_count, remote.comment_count = len(posts), len(comments)
    terms = _terms(api, posts)
    owners = _read_posts(batch, remote, posts, terms, root)
    batch.site.author, batch.site.aliases, remote.author_id = _author_name(api, owners)
    remote.author_id = remote.author_id or author_id
    for post_id in remote.known_posts:
        owners[post_id] = remote.author_id
    _read_comments(batch, comments, owners, root)
    remote.requests = client.count
    return remote


def _terms(api: _Api, posts: list[dict]) -> dict[tuple[str, Any], tuple[str, str]]:
    terms: dict[tuple[str, Any], tuple[str, str]] = {}  # by (field, the site's term id)
    for field_name, route in (("categories", "/wp/v2/categories"), ("tags", "/wp/v2/tags")):
        ids = sorted({i for p in posts for i in (p.get(field_name) or []) if isinstance(i, int)})
        for start in range(0, len(ids), PER_PAGE):
            chunk = ids[start : start + PER_PAGE]
            items, _ = api.pages(
                route,
                {"include": ",".join(map(str, chunk)), "_fields": "id,name,slug"},
                field_name,
                None,
            )
            for term in items:
                terms[(field_name, term.get("id"))] = (
                    str(term.get("slug") or ""),
                    c.html_text(str(term.get("name") or "")),
                )
    return terms


def _read_posts(
    batch: c.Batch, remote: Remote, posts: list[dict], terms: dict, root: str
) -> dict[int, int]:
    """Add the posts to the batch; return each post's author user id."""
    owners: dict[int, int] = {}
    for post in posts:
        post_id: Any = post.get("id")
        title = c.html_text(_rendered(post.get("title"))) or f"Post {post_id}"
        where = f"{root} post {post_id}"
        content = post.get("content")
        if not isinstance(content, dict):
            content = {}
        if content.get("protected"):
            batch.skip("article", c.UNPUBLISHED, where, f"{title!r}: password-protected")
            remote.protected.append(title)
            owners[post_id] = -1
            continue
        if post.get("status", "publish") != "publish":
            batch.skip("article", c.UNPUBLISHED, where, f"{title!r}: status {post['status']!r}")
            continue
        date = _date(post) or _date(post, "date_gmt")
        if date is None:
            batch.skip("article", c.UNPARSEABLE, where, f"{title!r}: no valid date")
            continue
        author = post.get("author")
        owners[post_id] = author if isinstance(author, int) else 0
        tags: dict[str, str] = {}
        for field_name in ("categories", "tags"):
            for term_id in post.get(field_name) or []:
                slug, label = terms.get((field_name, term_id), ("", ""))
                tag = c.tag_id(slug, label) if (slug or label) else ""
                if tag and tag != "uncategorized":
                    tags.setdefault(tag, label)
        body = html_to_markdown(_rendered(post.get("content")))
        summary = _summary(_rendered(post.get("excerpt")), _rendered(post.get("content")))
        link = str(post.get("link") or "")
        slug = c.article_slug(str(post.get("slug") or ""), link, title)
        key = f"wp:{post_id}"
        batch.articles.append(
            c.SourceArticle(
                key=key,
                slug=slug,
                title=title,
                date=date.date(),
                body=body or summary or title,
                tags=tuple(tags.items()),
                url=link,
                summary=summary,
                where=where,
            )
        )
        remote.article_bodies[key] = body or summary or title
    return owners


def _summary(excerpt: str, content: str) -> str:
    """Return the excerpt the author wrote, or "" when WordPress made it from the text."""
    words = normalise_text(re.sub(r"\[(&hellip;|\.\.\.|…)\]|&hellip;|…", " ", excerpt))
    if not words or normalise_text(content).startswith(words):
        return ""
    return c.html_text(excerpt)


def _author_name(api: _Api, owners: dict[int, int]) -> tuple[str, tuple[str, ...], int]:
    """Return the main author's public name, login and user id (the one with most posts)."""
    counts: dict[int, int] = {}
    for owner in owners.values():
        if owner and owner > 0:
            counts[owner] = counts.get(owner, 0) + 1
    if not counts:
        return "", (), 0
    main = max(counts, key=counts.__getitem__)
    try:
        user, _ = api.client.get(api.url(f"/wp/v2/users/{main}", {"_fields": "id,name,slug"}))
    except SyncError:
        return "", (), main  # some sites hide their users; --author names the author then
    if not isinstance(user, dict):
        return "", (), main
    name, login = c.html_text(str(user.get("name") or "")), c.html_text(str(user.get("slug") or ""))
    return name, tuple(a for a in (login,) if a and a.casefold() != name.casefold()), main


def _read_comments(batch: c.Batch, comments: list[dict], owners: dict[int, int], root: str) -> None:
    for item in comments:
        post_id: Any = item.get("post")
        comment_id = item.get("id")
        where = f"{root} comment {comment_id}"
        if item.get("type", "comment") not in ("comment", ""):
            batch.skip(
                "comment",
                c.PINGBACK if item.get("type") in ("pingback", "trackback") else c.OTHER_TYPE,
                where,
                f"comment {comment_id}",
            )
            continue
        if item.get("status", "approved") not in ("approved", "approve", "1"):
            batch.skip("comment", c.PENDING, where, f"comment {comment_id}")
            continue
        owner = owners.get(post_id)
        if owner is None or owner < 0:
            batch.skip(
                "comment", c.POST_NOT_IMPORTED, where, f"on post {post_id}, which is not imported"
            )
            continue
        date = _date(item) or _date(item, "date_gmt")
        body = html_to_markdown(_rendered(item.get("content")), links=False)
        if date is None or not body:
            what = "no valid date" if date is None else "empty text"
            batch.skip("comment", c.UNPARSEABLE, where, f"comment {comment_id}: {what}")
            continue
        parent = item.get("parent")
        user = item.get("author") if isinstance(item.get("author"), int) else 0
        batch.comments.append(
            c.SourceComment(
                id=f"wp-{post_id}-{comment_id}",
                article=f"wp:{post_id}",
                author=c.html_text(str(item.get("author_name") or "")) or "Anonymous",
                date=date,
                body=body,
                parent=f"wp-{post_id}-{parent}" if parent else None,
                is_author=bool(owner) and user == owner,
                where=where,
            )
        )
