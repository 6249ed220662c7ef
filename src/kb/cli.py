"""The ``kb`` command: a thin face over the library.

Each command resolves the corpus and index folders (flags, then ``KB_CORPUS``
and ``KB_INDEX``), calls one library function and prints its result, as text
or, with ``--json``, as one JSON document. Library errors become one line on
stderr and exit 1; usage errors exit 2; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import html
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from kb import settings
from kb.errors import CorpusError, KbError, UsageError
from kb.model import MODES, SORTS

if TYPE_CHECKING:
    from kb.search import KnowledgeBase

_MARK = re.compile(r"</?mark>")


def _out(data: Any, as_json: bool, text_fn: Callable[[Any], None]) -> None:
    if as_json:
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        text_fn(data)


def _plain_snippet(s: str) -> str:
    return html.unescape(_MARK.sub(lambda m: "*" if m.group(0) == "<mark>" else "*", s))


def _kb(args: argparse.Namespace) -> KnowledgeBase:
    from kb.search import KnowledgeBase

    return KnowledgeBase(args.settings.index)


def _date(value: str | None, flag: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise UsageError(f"{flag} {shown!r}: use a date as YYYY-MM-DD") from None


# -- commands ----------------------------------------------------------------------------
def cmd_check(args: argparse.Namespace) -> int:
    from kb.corpus.read import read_corpus

    corpus, problems = read_corpus(args.settings.corpus)
    data = {
        "corpus": str(args.settings.corpus),
        "ok": not problems,
        "problems": problems,
        "articles": len(corpus.articles),
        "comments": len(corpus.comments),
    }

    def text(d: dict[str, Any]) -> None:
        for p in problems:
            print(p)
        if problems:
            print(f"{len(problems)} problem(s) found", file=sys.stderr)
        else:
            print(f"ok: {d['articles']} articles, {d['comments']} comments")

    _out(data, args.json, text)
    return 1 if problems else 0


def cmd_build(args: argparse.Namespace) -> int:
    from kb.index.build import build_index

    progress: Callable[[int, int, str], None] | None = None
    if not args.json and sys.stderr.isatty():

        def show(n: int, total: int, slug: str) -> None:
            print(f"\rindexing {n}/{total} {slug[:40]:<40}", end="", file=sys.stderr, flush=True)

        progress = show

    try:
        report = build_index(
            args.settings.corpus, args.settings.index, full=args.full, progress=progress
        )
    except CorpusError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(
            f"kb: not built: {len(exc.problems)} problem(s) in the corpus; the index is unchanged",
            file=sys.stderr,
        )
        return 1
    if progress:
        print(file=sys.stderr)
    data = report.as_dict()
    if not args.words_only and not (report.vectors or {}).get("error"):
        from kb.errors import ModelError

        try:
            data["vectors"] = _complete_vectors(args, progress is not None) or report.vectors
        except ModelError as exc:  # the words are built and swapped in; say so
            print(f"kb: the words index is built; no vectors were made: {exc}", file=sys.stderr)
            return 1

    def text(r: dict[str, Any]) -> None:
        if r["up_to_date"]:
            print(
                f"up to date: {r['documents']} documents ({r['articles']} articles, "
                f"{r['comments']} comments)"
            )
        else:
            what = (
                "full build" + (f" ({r['reason']})" if r["reason"] else "")
                if r["full"]
                else "updated"
            )
            print(
                f"{what}: {r['documents']} documents from {r['articles']} articles and "
                f"{r['comments']} comments in {r['seconds']:.1f} s"
            )
        if not r["full"]:
            for key in ("added", "changed", "removed"):
                if r[key]:
                    print(f"  {key}: {', '.join(r[key])}")
        v = r.get("vectors") or {}
        if v.get("error"):
            print(f"vectors: none ({v['error']}); search uses words only")
        elif v:
            state = "complete" if v["complete"] else f"{v['missing']} still missing"
            print(
                f"vectors: {v['documents'] - v['missing']} of {v['documents']} documents "
                f"({state}; {v['embedded']} embedded now) by {v['model']}"
            )
        print(f"index: {args.settings.index}")

    _out(data, args.json, text)
    return 0


def _complete_vectors(args: argparse.Namespace, tty: bool) -> dict | None:
    """Embed what the new generation still lacks, with a progress line on a terminal."""
    from kb.semantic import build as vector_build

    started = time.monotonic()

    def progress(n: int, total: int, _what: str) -> None:
        rate = n / max(time.monotonic() - started, 1e-6)
        left = (total - n) / rate if rate else 0
        print(
            f"\rembedding {n}/{total} texts ({rate:.0f}/s, about {left:.0f} s left)",
            end="",
            file=sys.stderr,
            flush=True,
        )

    report = vector_build.complete(args.settings.index, progress=progress if tty else None)
    if tty and report and report.embedded:
        print(file=sys.stderr)
    return report.as_dict() if report else None


def _print_hits(title: str, hits: list[dict]) -> None:
    print(f"== {title} ==")
    if not hits:
        print("  (none)")
    for h in hits:
        where = h["id"] if h["kind"] != "section" else f"{h['id']}  [{h['article_title']}]"
        print(f"- {where}  {h['kind']}  {h['date']}  score {h['score']}")
        print(f"  {h['title']}")
        print(f"  {_plain_snippet(h['snippet'])}")
        if h.get("replies"):
            print(f"  author replies: {', '.join(h['replies'])}")
    print()


def cmd_search(args: argparse.Namespace) -> int:
    from kb.search import Filters

    filters = Filters(
        tags=tuple(args.tag or ()),
        article=args.article,
        since=_date(args.since, "--since"),
        until=_date(args.until, "--until"),
        answered=args.answered,
    )
    result = _kb(args).search(
        " ".join(args.text), filters=filters, limit=args.limit, mode=args.mode
    )
    data = result.as_dict()
    if data["notice"] and args.mode != "words":
        print(f"kb: {data['notice']}", file=sys.stderr)

    def text(d: dict[str, Any]) -> None:
        if d["did_you_mean"]:
            print(f"did you mean: {d['did_you_mean']}")
        if d["relaxed"]:
            print(f"({d['relaxed']})")
        if d["message"]:
            print(d["message"])
        elif not d["fits"]:
            print("nothing here is really about that; these are the closest")
        _print_hits(f"advice ({d['total_advice']})", d["advice"])
        _print_hits(f"stories ({d['total_stories']})", d["stories"])

    _out(data, args.json, text)
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    hits = _kb(args).similar(args.comment_id, limit=args.limit, mode=args.mode)
    data = {"id": args.comment_id, "stories": [h.as_dict() for h in hits]}
    _out(data, args.json, lambda d: _print_hits(f"stories like {d['id']}", d["stories"]))
    return 0


def cmd_tags(args: argparse.Namespace) -> int:
    from kb import tagstats

    kb = _kb(args)
    if args.suggest:
        ranked = tagstats.suggestions(kb)
        data: dict[str, Any] = {
            "suggestions": {
                cid: [{"tag": t, "score": sc} for t, sc in pairs] for cid, pairs in ranked.items()
            }
        }

        def text_suggestions(d: dict[str, Any]) -> None:
            for cid, pairs in d["suggestions"].items():
                shown = ", ".join(f"{p['tag']} {p['score']:.2f}" for p in pairs) or "(none)"
                print(f"{cid:<14} {shown}")

        _out(data, args.json, text_suggestions)
        return 0
    if args.evaluate:
        report = tagstats.evaluate_suggestions(kb, folds=args.folds)

        def text_evaluation(r: dict[str, Any]) -> None:
            if "error" in r:
                print(f"cannot evaluate: {r['error']}")
                return
            b = r["baseline"]
            print(f"{r['comments']} hand-tagged comments, {r['folds']}-fold cross-validation")
            print("               accuracy@1  accuracy@3")
            print(f"suggestions    {r['accuracy@1']:10.3f}  {r['accuracy@3']:10.3f}")
            print(
                f"baseline       {b['accuracy@1']:10.3f}  {b['accuracy@3']:10.3f}  ({b['method']})"
            )
            print(f"\nper tag (suggested when score >= {r['threshold']}):")
            for tag, m in r["per_tag"].items():
                print(
                    f"  {tag:<22} precision {m['precision']:.2f}  recall {m['recall']:.2f}"
                    f"  ({m['support']} comments)"
                )

        _out(report, args.json, text_evaluation)
        return 1 if "error" in report else 0
    tags = tagstats.tag_overview(kb, threshold=args.threshold)
    data = {"tags": tags}

    def text(d: dict[str, Any]) -> None:
        for t in d["tags"]:
            often = ", ".join(o["tag"] for o in t["together"])
            print(
                f"{t['count']:6d}  {t['id']:<22} hand {t['hand']:4d}  rule {t['rule']:4d}  "
                f"suggested {t['suggested']:4d}  often with: {often or '-'}"
            )

    _out(data, args.json, text)
    return 0


def cmd_browse(args: argparse.Namespace) -> int:
    from kb import tagstats

    total, hits = tagstats.browse(
        _kb(args),
        args.tag,
        sort=args.sort,
        limit=args.limit,
        offset=args.offset,
        threshold=args.threshold,
    )
    data = {
        "tags": args.tag,
        "sort": args.sort,
        "count": total,
        "comments": [h.as_dict() for h in hits],
    }
    _out(
        data,
        args.json,
        lambda d: _print_hits(f"{' + '.join(d['tags'])}: {d['count']} comments", d["comments"]),
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from kb.evaluate import evaluate, load_judgments

    report = evaluate(_kb(args), load_judgments(Path(args.judgments)), mode=args.mode)

    def text(r: dict[str, Any]) -> None:
        for p in r["per_query"]:
            print(
                f"{p['id']:<16} {p['list']:<8} nDCG@10 {p['ndcg@10']:.3f}  MRR {p['mrr']:.3f}  "
                f"P@5 {p['p@5']:.2f}  R@10 {p['recall@10']:.2f}"
            )
        print(
            f"\n{r['queries']} queries: nDCG@10 {r['ndcg@10']:.3f}  MRR {r['mrr']:.3f}  "
            f"P@5 {r['p@5']:.3f}  recall@10 {r['recall@10']:.3f}"
        )

    _out(report, args.json, text)
    return 0


def cmd_faq(args: argparse.Namespace) -> int:
    from kb import questions

    kb = _kb(args)
    if args.evaluate:
        import yaml

        path = Path(args.evaluate)
        try:
            judged = yaml.safe_load(path.read_text("utf-8"))["questions"]
            judged = [
                {"comment": str(q["comment"]), "text": str(q["text"]), "group": str(q["group"])}
                for q in judged
            ]
        except FileNotFoundError:
            raise KbError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise KbError(f"{path}: is a folder, not a file of hand-labelled questions") from None
        except OSError as exc:
            raise KbError(f"{path}: cannot read: {exc.strerror}") from None
        except (yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise KbError(
                f"{path}: expected `questions:` with comment, text and group for each"
                f" ({type(exc).__name__})"
            ) from None
        report = questions.evaluate_grouping(kb, judged)

        def text_grouping(r: dict[str, Any]) -> None:
            print(
                f"{r['judged']} judged questions in {r['judged_groups']} groups; "
                f"{r['matched']} found by extraction (recall {r['extraction_recall']:.3f})"
            )
            print(
                f"{r['groups']} groups made: adjusted Rand index {r['adjusted_rand_index']:.3f}, "
                f"purity {r['purity']:.3f}"
            )

        _out(report, args.json, text_grouping)
        return 0
    report = questions.review(
        kb,
        since=_date(args.since, "--since"),
        min_count=args.min_count,
        sort=args.sort,
        unanswered=args.unanswered,
        not_covered=args.not_covered,
    )
    if args.markdown:
        sys.stdout.write(
            questions.markdown_draft(report, kb, kb.manifest.get("site", {}).get("base_url", ""))
        )
        return 0

    def text(r: dict[str, Any]) -> None:
        print(f"{r['questions']} reader questions in {len(r['groups'])} groups shown\n")
        for g in r["groups"]:
            cover = g["covered_by"] or "NOT COVERED"
            if g["score"]:  # the nearest section's cosine (or, by words, its score)
                cover += f" ({g['score']:g})"
            print(
                f"{g['count']:4d} comments, {g['readers']} readers, {g['answered']} answered, "
                f"{g['first_seen']}..{g['last_seen']}  -> {cover}"
            )
            print(f"     {g['representative']}")
            print(f"     terms: {', '.join(g['key_terms'])}")
        if r["searches"]:
            print("\nasked in search, not answered anywhere:")
            for sgroup in r["searches"][:20]:
                print(f"{sgroup['count']:4d}  {sgroup['representative']}")

    _out(report, args.json, text)
    return 0


def cmd_redact(args: argparse.Namespace) -> int:
    from kb.index.purge import redact_comment

    report = redact_comment(args.settings.corpus, args.settings.index, args.comment_id)

    def text(r: dict[str, Any]) -> None:
        if r["already_redacted"]:
            print(f"{r['comment']} was already removed; the index was purged again")
        else:
            print(f"removed {r['comment']} from {r['file']}; its thread stays readable")
        if r["index"]:
            print(
                f"index rewritten without it ({r['index']['documents']} documents); "
                "earlier index generations deleted"
            )

    _out(report.as_dict(), args.json, text)
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    import getpass

    from kb.auth import hash_password

    if sys.stdin.isatty():
        first = getpass.getpass("Author's password: ")
        if first != getpass.getpass("Again: "):
            raise UsageError("the two passwords differ")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        raise UsageError("use a password of at least 8 characters")
    print(f'author_password_hash = "{hash_password(first)}"')
    print("# put the line above in .streamlit/secrets.toml", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import os

    app = Path(__file__).resolve().parent / "ui" / "streamlit_app.py"
    env = dict(os.environ, KB_CORPUS=str(args.settings.corpus), KB_INDEX=str(args.settings.index))
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.port",
        str(args.port),
        "--server.address",
        args.address,
        "--browser.gatherUsageStats",
        "false",
        "--server.headless",
        "true",
        "--client.toolbarMode",
        "minimal",
        # an exception (a forged widget state, a bug) shows no traceback in the page;
        # the server's log keeps it
        "--client.showErrorDetails",
        "none",
        "--theme.primaryColor",
        "#2e7d6b",
    ]
    print(f"kb: serving on http://{args.address}:{args.port}", file=sys.stderr)
    return serve_child(cmd, env)


SERVE_GRACE = 10.0  # seconds the app server gets to stop before it is killed


def _die_with_parent() -> None:
    """In the app server's process: be sent SIGTERM if `kb serve` itself dies (Linux)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def serve_child(cmd: list[str], env: dict) -> int:
    """Run the app server as a child and stop it when `kb serve` gets SIGTERM, SIGINT or SIGHUP.

    The child is asked to stop with SIGTERM, given ``SERVE_GRACE`` seconds, then killed, so no
    server is left behind holding the port. Returns 0 after a requested stop, else the
    server's own exit code.
    """
    import signal
    import subprocess

    stopping = []

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {
        sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        child = subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)
        while True:
            try:
                code = child.wait(timeout=0.2)
                return 0 if stopping else code
            except subprocess.TimeoutExpired:
                pass
            if stopping:
                break
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=SERVE_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- parser ------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as usage errors should
        self.exit(2, f"kb: {message} (see `{self.prog} --help`)\n")


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not from 1 to 65535")
    return port


def _common(p: argparse.ArgumentParser, json_flag: bool = True) -> None:
    p.add_argument("--corpus", help="corpus folder (default: $KB_CORPUS or ./corpus)")
    p.add_argument("--index", help="index folder (default: $KB_INDEX or a cache folder)")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    if json_flag:
        p.add_argument("--json", action="store_true", help="print one JSON document")


def _mode(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--mode",
        choices=MODES,
        default=MODES[0],
        help="rank by words and meaning fused (default), by words or by meaning",
    )


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return n


def _share(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0.0 <= x <= 1.0:
        raise argparse.ArgumentTypeError(f"{value} must be between 0 and 1")
    return x


def make_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``kb`` command."""
    parser = _Parser(prog="kb", description="Search an advice site's articles and comments.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("check", help="validate the corpus; list every problem as file:line")
    _common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("build", help="build the index or bring it up to date")
    _common(p)
    p.add_argument("--full", action="store_true", help="rebuild from scratch")
    p.add_argument(
        "--words-only",
        action="store_true",
        help="leave the vectors still missing for a later build",
    )
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="find advice and stories for a situation")
    _common(p)
    p.add_argument("text", nargs="+", help="the situation, in plain words")
    p.add_argument("--tag", action="append", help="only results with this tag (repeatable)")
    p.add_argument("--article", help="only results under this article (slug)")
    p.add_argument("--since", help="only results from this date on (YYYY-MM-DD)")
    p.add_argument("--until", help="only results up to this date (YYYY-MM-DD)")
    p.add_argument("--answered", action="store_true", help="only stories the author answered")
    p.add_argument("--limit", type=_positive, default=10, help="results per list (default 10)")
    _mode(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("similar", help="stories most like a given comment")
    _common(p)
    p.add_argument("comment_id")
    p.add_argument("--limit", type=_positive, default=10)
    _mode(p)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("tags", help="every tag with its count; learned suggestions; their quality")
    _common(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--suggest",
        action="store_true",
        help="ranked tag suggestions for every comment without hand tags",
    )
    mode.add_argument(
        "--evaluate",
        action="store_true",
        help="cross-validate the suggestions on the hand-tagged comments",
    )
    p.add_argument(
        "--threshold",
        type=_share,
        default=None,
        help="count suggestions at or above this confidence (0-1)",
    )
    p.add_argument("--folds", type=_positive, default=5, help="folds for --evaluate")
    p.set_defaults(func=cmd_tags)

    p = sub.add_parser("browse", help="the comments carrying a tag")
    _common(p)
    p.add_argument("--tag", action="append", required=True, help="tag id (repeat to combine)")
    p.add_argument("--sort", choices=SORTS, default=SORTS[0])
    p.add_argument("--limit", type=_positive, default=20)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument(
        "--threshold",
        type=_share,
        default=None,
        help="also list comments suggested for the tag at this confidence (0-1)",
    )
    p.set_defaults(func=cmd_browse)

    p = sub.add_parser("eval", help="relevance metrics of the current index")
    _common(p)
    p.add_argument("judgments", help="a judgments YAML file")
    _mode(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("faq", help="frequent question groups, with counts and coverage")
    _common(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--markdown", action="store_true", help="print a FAQ draft in Markdown")
    mode.add_argument(
        "--evaluate", metavar="FILE", help="compare the grouping with hand-labelled questions"
    )
    p.add_argument("--since", help="only questions from this date on (YYYY-MM-DD)")
    p.add_argument("--min-count", type=_positive, default=1, help="groups asked at least N times")
    p.add_argument("--sort", choices=("count", "growth", "unanswered"), default="count")
    p.add_argument(
        "--unanswered",
        action="store_true",
        help="only groups where fewer than half the askers got a reply",
    )
    p.add_argument(
        "--not-covered", action="store_true", help="only groups no article section covers"
    )
    p.set_defaults(func=cmd_faq)

    p = sub.add_parser("redact", help="remove a reader's comment from corpus and index, for good")
    _common(p)
    p.add_argument("comment_id")
    p.set_defaults(func=cmd_redact)

    p = sub.add_parser("password", help="make the hash of the author's password for secrets")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--index", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_password)

    from kb.importers.command import register as register_import

    register_import(sub, _common)

    from kb.importers.sync_command import register as register_sync

    register_sync(sub, _common)

    p = sub.add_parser("serve", help="start the web app")
    _common(p, json_flag=False)
    p.add_argument("--port", type=_port, default=8501)
    p.add_argument("--address", default="127.0.0.1")
    p.set_defaults(func=cmd_serve)
    return parser


def _check_folders(cfg: settings.Settings) -> None:
    """Refuse a corpus or index path that names a file, before any command uses it."""
    for path, flag in ((cfg.corpus, "--corpus"), (cfg.index, "--index")):
        if Path(path).exists() and not Path(path).is_dir():
            raise UsageError(
                f"{path}: is a file, not a folder ({flag} / KB_"
                f"{flag[2:].upper()} must name a folder)"
            )


def main(argv: list[str] | None = None) -> int:
    """Run the ``kb`` command; return its exit code."""
    args = make_parser().parse_args(argv)
    try:
        args.settings = settings.resolve(args.corpus, args.index)
        _check_folders(args.settings)
        return args.func(args)
    except UsageError as exc:
        if args.debug:
            raise
        print(f"kb: {exc}", file=sys.stderr)
        return 2
    except KbError as exc:
        if args.debug:
            raise
        print(f"kb: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kb: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader of the output stopped (`kb tags | head`): fine
        with contextlib.suppress(OSError):  # and no second complaint when Python exits
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the disk is full, a folder is read-only: what failed, in one line
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"kb: {where}{exc.strerror or exc}; nothing was left half-written", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
