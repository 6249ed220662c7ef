"""The ``kb sync`` command: flags in, one library call, the report out as text or JSON."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from kb.importers.command import emit
from kb.importers.sync import sync_site

SHOWN = 20


def _timeout(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds <= 600:
        raise argparse.ArgumentTypeError(f"{value} must be more than 0 and at most 600 seconds")
    return seconds


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


def _progress(what: str, done: int, total: int) -> None:
    print(f"\rfetching {what}: {done} of {total}".ljust(50), end="", file=sys.stderr, flush=True)


def _print_report(data: dict) -> None:
    since = f" (changes since {data['since']}, with a safety overlap)" if data["since"] else ""
    print(f"sync: {data['site']}{since}")
    f = data["fetched"]
    print(f"read: {f['posts']} posts, {f['comments']} comments in {data['requests']} requests")
    a, c = data["articles"], data["comments"]
    line = f"articles: {a['added']} added, {len(a['updated'])} updated, {a['unchanged']} unchanged"
    if a["skipped"]:
        line += f", {sum(a['skipped'].values())} skipped ({_counts(a['skipped'])})"
    print(line)
    line = f"comments: {c['added']} added, {len(c['updated'])} updated, {c['unchanged']} unchanged"
    if c["kept_redacted"]:
        line += f", {len(c['kept_redacted'])} redacted (kept removed)"
    if c["skipped"]:
        line += f", {sum(c['skipped'].values())} skipped ({_counts(c['skipped'])})"
    print(line)
    for title in data["password_protected"][:SHOWN]:
        print(f"  skipped, password-protected: {title}")
    if data["tags_added"]:
        print(f"tags added: {', '.join(data['tags_added'])}")
    if data["site_created"]:
        print("site.yaml created")
    for note in data["notes"][:SHOWN]:
        print(f"  note: {note}")
    if not data["changed"]:
        print("nothing new on the site: the corpus was up to date")
    if data["dry_run"]:
        print("dry run: nothing written")
    elif data["index"]:
        r = data["index"]
        print(
            "index: up to date"
            if r["up_to_date"]
            else f"index: updated ({r['documents']} documents)"
        )


def cmd_sync(args: argparse.Namespace) -> int:
    """Run ``kb sync`` and print its report; return the exit code."""
    tty = not args.json and sys.stderr.isatty()
    report = sync_site(
        args.settings.corpus,
        args.url,
        index=args.settings.index,
        include_pages=args.include_pages,
        full=args.full,
        dry_run=args.dry_run,
        build=not args.no_build,
        follow_redirects=args.follow_redirects,
        timeout=args.timeout,
        author=args.author,
        new_comments_only=args.new_comments_only,
        fetched=_progress if tty else None,
    )
    if tty:
        print(file=sys.stderr)
    emit(report.as_dict(), args.json, _print_report)
    return 0


def register(
    subparsers: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``sync`` command to the ``kb`` command's subparsers."""
    p = subparsers.add_parser(
        "sync",
        help="add new posts and comments from the site itself (its public REST API)",
        description="Read the site's public REST API; add what is new, update what changed, "
        "then bring the index up to date. Without URL, the site of the last sync.",
    )
    common(p)
    p.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help="the site's address, e.g. https://example.org (remembered in site.yaml)",
    )
    p.add_argument("--include-pages", action="store_true", help="import pages as articles too")
    p.add_argument(
        "--full",
        action="store_true",
        help="read everything again, not only what changed since the last sync",
    )
    p.add_argument(
        "--new-comments-only",
        action="store_true",
        help="read only comments written since the last sync (faster on a large site; an "
        "edit to an older comment waits for the next sync without it)",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    p.add_argument("--no-build", action="store_true", help="do not update the index afterwards")
    p.add_argument(
        "--follow-redirects", action="store_true", help="follow a redirect to another host"
    )
    p.add_argument(
        "--timeout",
        type=_timeout,
        default=30.0,
        metavar="SECONDS",
        help="how long to wait for each answer (default 30)",
    )
    p.add_argument(
        "--author",
        metavar="NAME",
        help="the site author's name, when the corpus has no site.yaml yet and the "
        "site hides its users",
    )
    p.set_defaults(func=cmd_sync)
