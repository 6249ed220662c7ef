"""A small local web server that answers like a WordPress site's public REST API.

It serves what the tests put in it (posts, comments, terms, users) with WordPress's
pagination headers and its ``modified_after``, ``after`` and ``include`` filters, and it
can misbehave on purpose: answer slowly, fail with 500 or 429, cut its JSON short, send
an HTML page, redirect to another host, or have no REST API at all. It listens on
127.0.0.1 only and counts every request.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit


def serve_in_background(server: http.server.HTTPServer) -> str:
    """Serve in a daemon thread; return the address. ``server.shutdown()`` stops it at once."""
    # a short poll, so that shutdown() does not wait up to half a second for the loop to notice
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


class RestSite:
    """The site's content and its misbehaviours; ``url`` is where it answers."""

    def __init__(self):
        self.name = "Harbour Notes"
        self.posts: list[dict] = []
        self.comments: list[dict] = []
        self.terms: dict[str, list[dict]] = {"categories": [], "tags": []}
        self.users: dict[int, dict] = {}
        self.fault: str | None = None  # slow, 500, 429, truncated, html, redirect, no-api, 401
        self.fault_route = ""  # only requests whose path contains this misbehave
        self.fault_times = 10**6  # how many requests misbehave before it behaves again
        self.hits: list[str] = []
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body leave in two writes: without this, each answer on a kept-alive
            # connection waits for the client's delayed acknowledgement (about 40 ms)
            disable_nagle_algorithm = True

            def do_GET(self):  # noqa: N802 - the name http.server calls
                site.hits.append(self.path)
                site._answer(self)

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up (the timeout test) is not a failure here

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = serve_in_background(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # -- content ---------------------------------------------------------------------
    def add_post(
        self,
        post_id: int,
        title: str,
        content: str,
        *,
        slug: str,
        date: str,
        author: int = 1,
        categories=(),
        tags=(),
        protected: bool = False,
        modified: str | None = None,
    ) -> dict:
        post = {
            "id": post_id,
            "date": date,
            "date_gmt": date,
            "modified_gmt": modified or date,
            "slug": slug,
            "status": "publish",
            "type": "post",
            "link": f"{self.url}/{date[:4]}/{slug}/",
            "title": {"rendered": title},
            "content": {"rendered": "" if protected else content, "protected": protected},
            "excerpt": {
                # as WordPress makes one when the author wrote none: the first words
                "rendered": "" if protected else " ".join(content.split()[:6]) + " [&hellip;]</p>",
                "protected": protected,
            },
            "author": author,
            "categories": list(categories),
            "tags": list(tags),
        }
        self.posts.append(post)
        return post

    def add_comment(
        self,
        comment_id: int,
        post: int,
        name: str,
        content: str,
        date: str,
        *,
        parent: int = 0,
        author: int = 0,
    ) -> dict:
        comment = {
            "id": comment_id,
            "post": post,
            "parent": parent,
            "author": author,
            "author_name": name,
            "author_url": "https://commenter.example/",
            "author_avatar_urls": {
                "96": "https://secure.gravatar.com/avatar/0123456789abcdef0123456789abcdef?s=96"
            },
            "date": date,
            "date_gmt": date,
            "content": {"rendered": content},
            "status": "approved",
            "type": "comment",
            "link": f"{self.url}/#c{comment_id}",
        }
        self.comments.append(comment)
        return comment

    # -- answers ---------------------------------------------------------------------
    def _send(
        self,
        h,
        status: int,
        body: bytes,
        kind: str = "application/json; charset=UTF-8",
        headers: dict | None = None,
        length: int | None = None,
    ):
        h.send_response(status)
        h.send_header("Content-Type", kind)
        h.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _misbehave(self, h, path: str) -> bool:
        if not self.fault or self.fault_route not in path or self.fault_times <= 0:
            return False
        self.fault_times -= 1
        if self.fault == "slow":
            time.sleep(3)
            return False
        if self.fault in ("500", "429"):
            self._send(
                h,
                int(self.fault),
                b'{"code":"oops","message":"Busy"}',
                headers={"Retry-After": "0"} if self.fault == "429" else None,
            )
        elif self.fault == "401":
            self._send(
                h,
                401,
                b'{"code":"rest_not_logged_in","message":"You are not currently logged in."}',
            )
        elif self.fault == "truncated":
            body = json.dumps([{"id": 1, "title": {"rendered": "x" * 500}}]).encode()
            self._send(h, 200, body[:200], length=len(body))
            h.close_connection = True
        elif self.fault == "broken-json":
            self._send(h, 200, b'[{"id": 1, "title": {"rendered": "cut')
        elif self.fault == "html":
            self._send(
                h,
                200,
                b"<!DOCTYPE html><html><body>Under maintenance</body></html>",
                kind="text/html; charset=UTF-8",
            )
        elif self.fault == "redirect":
            h.send_response(302)
            h.send_header("Location", "http://localhost.invalid/wp-json/")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif self.fault == "no-api":
            self._send(h, 404, b"<html>Not Found</html>", kind="text/html")
        return True

    def _answer(self, h):
        parts = urlsplit(h.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path
        if path == "/" and "rest_route" in query:
            path = "/wp-json" + query.pop("rest_route")
        if self._misbehave(h, path):
            return
        if not path.startswith("/wp-json"):
            self._send(h, 404, b"<html>Not Found</html>", kind="text/html")
            return
        route = path[len("/wp-json") :].rstrip("/") or "/"
        if route == "/":
            doc = {
                "name": self.name,
                "description": "",
                "url": self.url,
                "home": self.url,
                "namespaces": ["oembed/1.0", "wp/v2"],
            }
            self._send(h, 200, json.dumps(doc).encode())
            return
        if route.startswith("/wp/v2/users/"):
            user = self.users.get(int(route.rsplit("/", 1)[1]))
            if user is None:
                self._send(h, 404, b'{"code":"rest_user_invalid_id"}')
            else:
                self._send(h, 200, json.dumps(user).encode())
            return
        items = self._list(route, query)
        if items is None:
            self._send(h, 404, b'{"code":"rest_no_route","message":"No route"}')
            return
        per_page = int(query.get("per_page", 10))
        page = int(query.get("page", 1))
        pages = max(1, -(-len(items) // per_page))
        if page > pages:
            self._send(h, 400, b'{"code":"rest_post_invalid_page_number"}')
            return
        chunk = items[(page - 1) * per_page : page * per_page]
        fields = query.get("_fields")
        if fields:
            wanted = set(fields.split(","))
            chunk = [{k: v for k, v in item.items() if k in wanted} for item in chunk]
        self._send(
            h,
            200,
            json.dumps(chunk).encode(),
            headers={"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)},
        )

    def _list(self, route: str, query: dict) -> list[dict] | None:
        include = {int(i) for i in query.get("include", "").split(",") if i}
        if route == "/wp/v2/posts":
            items = list(self.posts)
            if "modified_after" in query:
                items = [p for p in items if p["modified_gmt"] > query["modified_after"]]
        elif route == "/wp/v2/pages":
            items = []
        elif route == "/wp/v2/comments":
            protected = {p["id"] for p in self.posts if p["content"]["protected"]}
            items = [cm for cm in self.comments if cm["post"] not in protected]
            if "after" in query:
                items = [cm for cm in items if cm["date"] > query["after"]]
        elif route in ("/wp/v2/categories", "/wp/v2/tags"):
            items = list(self.terms[route.rsplit("/", 1)[1]])
        else:
            return None
        if include:
            items = [i for i in items if i["id"] in include]
        return sorted(items, key=lambda i: i["id"])
