"""Speed benchmark: kb against SQLite FTS5 on the same synthetic corpora and queries.

    .venv/bin/python -m benchmarks.run            # 10,000 and 100,000 comments
    .venv/bin/python -m benchmarks.run --quick    # 10,000 only

For each size it generates the corpus (deterministic, cached in benchmarks/out/),
then measures, each step in its own process: the full build, an update after
adding 100 comments, 200 reader-style situation searches (8-25 words, through
``KnowledgeBase.search``, the app's code path, snippets and reply ids included),
50 similar-story lookups, index size and peak memory, for kb and for FTS5. At the
largest size it also times the app's script (Streamlit's AppTest) and profiles
the searches and a one-process build. It prints a table with the kb/FTS5 ratios
and writes everything as JSON (benchmarks/results/).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import generate

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "benchmarks" / "out"
RESULTS = REPO / "benchmarks" / "results"
ARTICLES = 300
QUERIES = 200
ADDED = 100
TARGETS = {  # at the largest size
    "search p95 within 2x of FTS5": lambda r: (
        r["kb"]["search"]["latency_ms"]["p95"] <= 2 * r["fts5"]["search"]["latency_ms"]["p95"]
    ),
    "similar stories under 100 ms (p95)": lambda r: r["kb"]["similar"]["latency_ms"]["p95"] < 100,
    "full build at least 1,500 comments/s": lambda r: r["kb"]["comments_per_second"] >= 1500,
    "adding 100 comments under 2 s": lambda r: r["kb"]["update"]["seconds"] < 2,
    "app's first results within 1 s": lambda r: (
        r["kb"]["app"]["first_seconds"] < 1 and max(r["kb"]["app"]["typed_seconds"]) < 1
    ),
}


def phase(name: str, **args) -> dict:
    """Run one measurement in a fresh process and return its JSON."""
    cmd = [sys.executable, "-m", "benchmarks.phases", name, json.dumps(args, default=str)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"benchmark step {name} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def corpus_for(comments: int) -> Path:
    """Return the generated corpus of a size, generating it once."""
    path = OUT / f"corpus-{comments}"
    stamp = path / ".generated"
    want = f"{comments} {ARTICLES} seed=7 v1"
    if not stamp.exists() or stamp.read_text() != want:
        print(f"generating {comments:,} comments over {ARTICLES} articles ...", flush=True)
        generate.generate(path, comments, ARTICLES, seed=7)
        stamp.write_text(want)
    return path


def machine() -> dict:
    """Describe the machine the numbers come from."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(ValueError, OSError):
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    import numpy
    import whoosh

    return {
        "cpu": cpu or platform.processor(),
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh": getattr(whoosh, "__version__", "?"),
        "numpy": numpy.__version__,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def workspace(comments: int, name: str = "work") -> tuple[Path, Path, Path, Path, Path]:
    """Return (work folder, corpus copy, index, FTS5 database, queries file) for one size."""
    source = corpus_for(comments)
    work = OUT / f"{name}-{comments}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    corpus, index, db = work / "corpus", work / "index", work / "fts.db"
    shutil.copytree(source, corpus)
    queries = work / "queries.json"
    queries.write_text(json.dumps(generate.queries(QUERIES, seed=3)))
    return work, corpus, index, db, queries


def run_size(comments: int, app: bool, profile: bool) -> dict:
    """Measure kb and FTS5 on one corpus size."""
    work, corpus, index, db, queries = workspace(comments)
    step = _Steps(comments)

    kb: dict = {}
    fts: dict = {}
    kb["read"] = step("kb: read and check the corpus", "kb-read", corpus=corpus)
    kb["build"] = step("kb: full build", "kb-build", corpus=corpus, index=index, full=True)
    fts["build"] = step("FTS5: full build", "fts-build", corpus=corpus, db=db)
    kb["search"] = step("kb: situation searches", "kb-query", index=index, queries=queries)
    kb["search_uncached"] = step(
        "kb: situation searches, no term cache",
        "kb-query",
        index=index,
        queries=queries,
        cache=False,
    )
    fts["search"] = step("FTS5: situation searches", "fts-query", db=db, queries=queries)
    kb["similar"] = step("kb: similar stories", "kb-similar", index=index)
    fts["similar"] = step("FTS5: similar stories", "fts-similar", db=db, ids=kb["similar"]["ids"])
    kb["overlap"] = step("top-10 overlap", "fts-overlap", index=index, db=db, queries=queries)
    before = {p.name: p.stat().st_size for p in (corpus / "comments").glob("*.yaml")}
    ids = generate.add_comments(corpus, ADDED)
    changed = sorted(
        p.stem
        for p in (corpus / "comments").glob("*.yaml")
        if p.stat().st_size != before.get(p.name)
    )
    kb["update"] = step(
        f"kb: update after adding {ADDED} comments", "kb-build", corpus=corpus, index=index
    )
    fts["update"] = step(
        f"FTS5: insert {ADDED} comments",
        "fts-update",
        corpus=corpus,
        db=db,
        ids=ids,
        articles=changed,
    )
    if app:
        kb["app"] = step(
            "kb: the app (AppTest)", "kb-app", corpus=corpus, index=index, queries=queries
        )
    if profile:
        kb["profile"] = step(
            "kb: profiles",
            "kb-profile",
            corpus=corpus,
            index=index,
            queries=queries,
            build=str(work / "profile-index"),
        )
    kb["comments_per_second"] = round(comments / kb["build"]["seconds"])
    fts["comments_per_second"] = round(comments / fts["build"]["seconds"])
    del kb["similar"]["ids"]
    return {
        "comments": comments,
        "articles": ARTICLES,
        "queries": QUERIES,
        "documents": kb["build"]["documents"],
        "kb": kb,
        "fts5": fts,
        "ratios": ratios(kb, fts),
    }


class _Steps:
    def __init__(self, comments: int):
        self.comments = comments

    def __call__(self, label: str, name: str, **args) -> dict:
        t = time.perf_counter()
        print(f"[{self.comments:,}] {label} ...", end="", flush=True)
        out = phase(name, **args)
        print(f" {time.perf_counter() - t:.1f} s", flush=True)
        return out


def ratios(kb: dict, fts: dict) -> dict:
    """Return kb/FTS5 for each measure both have (below 1: kb is faster or smaller)."""
    pairs = {
        "full build": (kb["build"]["seconds"], fts["build"]["seconds"]),
        "update": (kb["update"]["seconds"], fts["update"]["seconds"]),
        "search p50": (kb["search"]["latency_ms"]["p50"], fts["search"]["latency_ms"]["p50"]),
        "search p95": (kb["search"]["latency_ms"]["p95"], fts["search"]["latency_ms"]["p95"]),
        "similar p50": (kb["similar"]["latency_ms"]["p50"], fts["similar"]["latency_ms"]["p50"]),
        "similar p95": (kb["similar"]["latency_ms"]["p95"], fts["similar"]["latency_ms"]["p95"]),
        "index size": (kb["build"]["index_bytes"], fts["build"]["index_bytes"]),
        "search memory": (kb["search"]["peak_rss_mb"], fts["search"]["peak_rss_mb"]),
    }
    return {k: round(a / b, 2) if b else None for k, (a, b) in pairs.items()}


def table(result: dict) -> str:
    """Render one size's measurements as a text table."""
    kb, fts, r = result["kb"], result["fts5"], result["ratios"]
    rows = [
        ("full build, s", kb["build"]["seconds"], fts["build"]["seconds"], r["full build"]),
        ("  comments per second", kb["comments_per_second"], fts["comments_per_second"], None),
        ("  CPU time, all processes, s", kb["build"]["cpu_seconds"], None, None),
        ("  reading the corpus alone, s", kb["read"]["seconds"], None, None),
        (
            f"update after {ADDED} new comments, s",
            kb["update"]["seconds"],
            fts["update"]["seconds"],
            r["update"],
        ),
        (
            "situation search p50, ms",
            kb["search"]["latency_ms"]["p50"],
            fts["search"]["latency_ms"]["p50"],
            r["search p50"],
        ),
        (
            "situation search p95, ms",
            kb["search"]["latency_ms"]["p95"],
            fts["search"]["latency_ms"]["p95"],
            r["search p95"],
        ),
        (
            "  without the term cache, p50, ms",
            kb["search_uncached"]["latency_ms"]["p50"],
            None,
            None,
        ),
        (
            "  without the term cache, p95, ms",
            kb["search_uncached"]["latency_ms"]["p95"],
            None,
            None,
        ),
        (
            "first search in a new process, ms",
            kb["search"]["cold_ms"],
            fts["search"]["cold_ms"],
            None,
        ),
        (
            "similar stories p50, ms",
            kb["similar"]["latency_ms"]["p50"],
            fts["similar"]["latency_ms"]["p50"],
            r["similar p50"],
        ),
        (
            "similar stories p95, ms",
            kb["similar"]["latency_ms"]["p95"],
            fts["similar"]["latency_ms"]["p95"],
            r["similar p95"],
        ),
        (
            "index size, MB",
            round(kb["build"]["index_bytes"] / 2**20, 1),
            round(fts["build"]["index_bytes"] / 2**20, 1),
            r["index size"],
        ),
        ("peak memory, build, MB", _build_mem(kb["build"]), fts["build"]["peak_rss_mb"], None),
        (
            "peak memory, searching, MB",
            kb["search"]["peak_rss_mb"],
            fts["search"]["peak_rss_mb"],
            r["search memory"],
        ),
    ]
    if "app" in kb:
        rows.append(
            ("app: shared link to first results, s", kb["app"]["first_seconds"], None, None)
        )
        rows.append(
            ("app: typed search, slowest of 5, s", max(kb["app"]["typed_seconds"]), None, None)
        )
    head = f"{result['comments']:,} comments ({result['documents']:,} documents)"
    out = [f"{head:<40}{'kb':>12}{'FTS5':>12}{'kb/FTS5':>10}"]
    for label, a, b, ratio in rows:
        out.append(f"{label:<40}{_fmt(a):>12}{_fmt(b):>12}{_fmt(ratio):>10}")
    out.append(f"{'top-10 overlap with FTS5':<40}{_fmt(kb['overlap']['overlap_at_10']):>12}")
    return "\n".join(out)


def _build_mem(build: dict) -> str:
    worker = build.get("worker_peak_rss_mb") or 0
    return f"{build['peak_rss_mb']:.0f}+{worker:.0f}" if worker else f"{build['peak_rss_mb']:.0f}"


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, int) or (isinstance(v, float) and v >= 1000):
        return f"{v:,.0f}"
    return f"{v:.3g}" if isinstance(v, float) and v < 10 else f"{v:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="kb against SQLite FTS5: build, update, search.")
    ap.add_argument("--quick", action="store_true", help="10,000 comments only")
    ap.add_argument("--sizes", help="comma-separated corpus sizes (default 10000,100000)")
    ap.add_argument("--no-app", action="store_true", help="skip timing the app")
    ap.add_argument("--no-profile", action="store_true", help="skip the profiles")
    ap.add_argument(
        "--json",
        type=Path,
        help="where to write the results (default benchmarks/results/speed[-quick].json)",
    )
    args = ap.parse_args(argv)
    sizes = [10000] if args.quick else [int(s) for s in (args.sizes or "10000,100000").split(",")]
    info = machine()
    print(
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB; Python {info['python']}, "
        f"SQLite {info['sqlite']}; load average {info['load_average_at_start']}",
        flush=True,
    )
    started = time.perf_counter()
    runs = []
    for n in sizes:
        largest = n == max(sizes)
        runs.append(
            run_size(n, app=largest and not args.no_app, profile=largest and not args.no_profile)
        )
    print("\nrelevance on the judged set (kb eval) ...", end="", flush=True)
    relevance = phase("kb-eval")
    print(f" nDCG@10 {relevance['ndcg@10']}, MRR {relevance['mrr']}")
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "seconds": round(time.perf_counter() - started, 1),
        "relevance": relevance,
        "runs": runs,
    }
    largest = runs[-1]
    result["targets"] = {
        "at": largest["comments"],
        **{
            name: bool(check(largest))
            for name, check in TARGETS.items()
            if "app" in largest["kb"] or "app" not in name
        },
    }
    print()
    for r in runs:
        print(table(r))
        print()
    where = f"{largest['comments']:,} comments"
    if largest["comments"] < 100_000:
        where += (
            " (they are set for 100,000: a small corpus pays the fixed costs on fewer comments)"
        )
    print(f"targets at {where}:")
    for name, ok in result["targets"].items():
        if name != "at":
            print(f"  {'met    ' if ok else 'NOT met'}  {name}")
    path = args.json or RESULTS / ("speed-quick.json" if args.quick else "speed.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    print(f"\nwritten to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
