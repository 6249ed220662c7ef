"""Speed of meaning beside words: the vector step, hybrid search, updates, size and memory.

    .venv/bin/python -m benchmarks.semantic               # 10,000 and 100,000 comments
    .venv/bin/python -m benchmarks.semantic --sizes 10000

On the same deterministic corpora and 200 queries as ``benchmarks.run``, each step in its
own process: the words build, the vector step (all texts embedded, or at the sizes named
by ``--sample-above`` a sample of ``--sample`` texts, from which the full step's time is
extrapolated), hybrid and words-only searches through ``KnowledgeBase.search`` beside
FTS5's words-only search, similar stories, the app's first results (Streamlit's
AppTest), adding 100 comments with their vectors, and the size and memory of the vectors.

Where only a sample was embedded, the search timings need every row of the matrix: the
sample's real vectors are then repeated over the generation's other documents (said so in
the output). Brute-force cosine costs the same whatever the values, so those timings hold;
the rankings of such a run are not meaningful and are not reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from benchmarks import generate
from benchmarks.run import ADDED, REPO, RESULTS, machine, phase, workspace

SAMPLE = 3000


def run_size(comments: int, sample: int | None) -> dict:
    _, corpus, index, db, queries = workspace(comments, "semantic")
    out: dict = {"comments": comments}

    def step(label, name, **args):
        t = time.perf_counter()
        print(f"[{comments:,}] {label} ...", end="", flush=True)
        r = phase(name, **args)
        print(f" {time.perf_counter() - t:.1f} s", flush=True)
        return r

    out["words_build"] = step("words build", "kb-build", corpus=corpus, index=index, full=True)
    out["vectors"] = step(
        "vector step" + (f" (a sample of {sample} texts)" if sample else ""),
        "vec-build",
        index=index,
        sample=sample,
    )
    out["fts_search"] = step(
        "FTS5 build and searches", "vec-fts", corpus=corpus, db=db, queries=queries
    )
    out["search"] = step("kb: hybrid and words searches", "vec-query", index=index, queries=queries)
    out["similar"] = step("kb: similar stories (hybrid)", "kb-similar", index=index)
    del out["similar"]["ids"]
    out["app"] = step(
        "kb: the app (AppTest), hybrid", "kb-app", corpus=corpus, index=index, queries=queries
    )
    ids = generate.add_comments(corpus, ADDED)
    out["update"] = step(
        f"kb: adding {ADDED} comments with their vectors",
        "vec-update",
        corpus=corpus,
        index=index,
        added=len(ids),
    )
    return out


def table(r: dict) -> str:
    v, s, f = r["vectors"], r["search"], r["fts_search"]
    rows = [
        ("documents with vectors", f"{v['rows']:,}" + (" (sample repeated)" if v["tiled"] else "")),
        (
            "vector step: texts embedded",
            f"{v['embedded']:,} in {v['seconds']:.0f} s, {v['cpu_seconds']:.0f} CPU-s",
        ),
        (
            "  texts per CPU-second / per second",
            f"{v['texts_per_cpu_second']:.1f} / {v['texts_per_second']:.1f}",
        ),
        (
            "  the whole step (estimated)" if v["tiled"] else "  the whole step",
            f"{v['full_step_seconds']:.0f} s for {v['texts_total']:,} texts",
        ),
        (
            "vectors on disk (generation / cache)",
            f"{v['gen_bytes'] / 1e6:.1f} / {v['cache_bytes'] / 1e6:.1f} MB",
        ),
        ("query embedding p50 / p95", f"{s['embed_ms']['p50']} / {s['embed_ms']['p95']} ms"),
        ("hybrid search p50 / p95", f"{s['hybrid_ms']['p50']} / {s['hybrid_ms']['p95']} ms"),
        ("words search p50 / p95", f"{s['words_ms']['p50']} / {s['words_ms']['p95']} ms"),
        ("FTS5 (words) p50 / p95", f"{f['latency_ms']['p50']} / {f['latency_ms']['p95']} ms"),
        ("hybrid p95 / FTS5 p95", f"{s['hybrid_ms']['p95'] / f['latency_ms']['p95']:.2f}"),
        (
            "similar stories p50 / p95",
            f"{r['similar']['latency_ms']['p50']} / {r['similar']['latency_ms']['p95']} ms",
        ),
        ("searching process peak memory", f"{s['peak_rss_mb']} MB"),
        (
            "app: shared link in a new process / typed",
            f"{r['app']['first_seconds']} s / {max(r['app']['typed_seconds'])} s",
        ),
        (
            f"adding {ADDED} comments with their vectors",
            f"{r['update']['seconds']} s ({r['update']['embedded']} embedded)",
        ),
    ]
    width = max(len(a) for a, _ in rows)
    return "\n".join([f"{r['comments']:,} comments"] + [f"  {a:<{width}}  {b}" for a, b in rows])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="kb's vectors: build, hybrid search, update.")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument(
        "--sample-above",
        type=int,
        default=20000,
        help="embed only a sample at larger sizes (default 20000 comments)",
    )
    ap.add_argument("--sample", type=int, default=SAMPLE)
    ap.add_argument("--json", type=Path, default=RESULTS / "semantic.json")
    args = ap.parse_args(argv)
    info = machine()
    print(f"{info['cpu']}, {info['cores']} cores; load average {info['load_average_at_start']}")
    runs = [
        run_size(n, args.sample if n > args.sample_above else None)
        for n in (int(x) for x in args.sizes.split(","))
    ]
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print()
    for r in runs:
        print(table(r) + "\n")
    largest = runs[-1]
    targets = {
        "hybrid search p95 within 2x of FTS5's words-only p95": largest["search"]["hybrid_ms"][
            "p95"
        ]
        <= 2 * largest["fts_search"]["latency_ms"]["p95"],
        "app's first results within 1 s": largest["app"]["first_seconds"] < 1
        and max(largest["app"]["typed_seconds"]) < 1,
        f"adding {ADDED} comments under 5 s with their vectors": largest["update"]["seconds"] < 5,
    }
    print(f"targets at {largest['comments']:,} comments:")
    for name, ok in targets.items():
        print(f"  {'met    ' if ok else 'NOT met'}  {name}")
    result = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": info,
        "runs": runs,
        "targets": targets,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    print(
        f"\nwritten to {args.json.relative_to(REPO) if args.json.is_relative_to(REPO) else args.json}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
