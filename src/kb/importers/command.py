"""The ``kb import`` command: flags in, one library call, the report out as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from kb.errors import UsageError
from kb.importers.run import SOURCES, import_files

MAP_FIELDS = ("question", "answer", "topic", "date", "author")
SHOWN = 20  # problem lines in the text report; --json lists them all


def parse_mapping(value: str) -> dict[str, str]:
    """Return the column mapping of ``--map question=Q,answer=A,...``."""
    mapping: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in value.split(","))):
        name, sep, column = part.partition("=")
        name = name.strip().lower()
        if not sep or not column.strip():
            raise argparse.ArgumentTypeError(f"{part!r}: write FIELD=COLUMN, e.g. question=Q")
        if name not in MAP_FIELDS:
            raise argparse.ArgumentTypeError(f"{name!r} is not one of {', '.join(MAP_FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def _bar(done: int, total: int, label: str) -> None:
    width = 30
    filled = width * done // max(total, 1)
    print(
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]:<40}",
        end="",
        file=sys.stderr,
        flush=True,
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in sorted(counts.items()))


def _print_report(data: dict) -> None:
    a, c = data["articles"], data["comments"]
    formats = data.get("formats") or {}
    print(
        f"{data['source']}: "
        + "; ".join(f"{f}: {formats[f]}" if f in formats else f for f in data["files"])
    )
    line = f"articles: {a['added']} added, {a['existing']} already in the corpus"
    if a["skipped"]:
        line += f", {sum(a['skipped'].values())} skipped ({_counts(a['skipped'])})"
    print(line)
    line = f"comments: {c['added']} added"
    if c["skipped"]:
        line += f", {sum(c['skipped'].values())} skipped ({_counts(c['skipped'])})"
    print(line)
    if data["tags_added"]:
        print(f"tags added: {', '.join(data['tags_added'])}")
    if data["site_created"]:
        print("site.yaml created")
    problems = [d for d in data["details"] if "(unparseable)" in d or "(too-long)" in d]
    notes = [f"note: {n}" for n in data["notes"]]
    for line in (problems + notes)[:SHOWN]:
        print(f"  {line}")
    if len(problems) + len(notes) > SHOWN:
        print(f"  ... and {len(problems) + len(notes) - SHOWN} more (see --json)")
    if data["dry_run"]:
        print("dry run: nothing written")


def cmd_import(args: argparse.Namespace) -> int:
    """Run ``kb import`` and print its report; return the exit code."""
    if args.source != "csv" and args.map:
        raise UsageError("--map is for `kb import csv` only")
    progress = _bar if not args.json and sys.stderr.isatty() else None
    report = import_files(
        args.source,
        [Path(f) for f in args.files],
        args.settings.corpus,
        article=args.article,
        include_pages=args.include_pages,
        mapping=args.map,
        author=args.author,
        dry_run=args.dry_run,
        progress=progress,
    )
    if progress:
        print(file=sys.stderr)
    data = report.as_dict()
    emit(data, args.json, _print_report)
    for line in data["failed"]:  # the other files were imported; these were not
        print(f"kb: not imported: {line}", file=sys.stderr)
    return 1 if data["failed"] else 0


def emit(data: dict, as_json: bool, printer: Callable[[dict], None]) -> None:
    """Print a report as one JSON document, or as text through ``printer``."""
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        printer(data)


def register(
    subparsers: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add the ``import`` command to the ``kb`` command's subparsers."""
    p = subparsers.add_parser(
        "import",
        help="add a WordPress export, saved pages, a PDF archive or a table",
        description="Add what the files hold to the corpus; importing again adds nothing.",
    )
    common(p)
    p.add_argument("source", choices=SOURCES, help="the kind of file")
    p.add_argument("files", nargs="+", metavar="FILE", help="the files to import")
    p.add_argument(
        "--article",
        metavar="SLUG",
        help="the article the comments belong to (pdf; csv without a topic column)",
    )
    p.add_argument(
        "--author",
        metavar="NAME",
        help="the site author's name, when the corpus has no site.yaml yet",
    )
    p.add_argument("--include-pages", action="store_true", help="wxr: import pages as articles")
    p.add_argument(
        "--map",
        type=parse_mapping,
        metavar="FIELD=COLUMN,...",
        help="csv: columns for question, answer, topic, date, author",
    )
    p.add_argument("--dry-run", action="store_true", help="show the report; write nothing")
    p.set_defaults(func=cmd_import)
