"""One measurement per process, so that time and peak memory belong to that step alone.

    python -m benchmarks.phases PHASE '{"corpus": ..., "index": ..., ...}'

prints one JSON object. ``benchmarks.run`` calls these in turn; they can be run by
hand to look at one step.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _rss_mb(who=resource.RUSAGE_SELF) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux reports KiB


def _cpu() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _size(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _latency(values_ms: list[float]) -> dict:
    v = sorted(values_ms)
    q = statistics.quantiles(v, n=100, method="inclusive")
    return {
        "n": len(v),
        "p50": round(q[49], 2),
        "p95": round(q[94], 2),
        "mean": round(statistics.fmean(v), 2),
        "max": round(v[-1], 2),
    }


# -- kb ------------------------------------------------------------------------------------
def kb_read(a: dict) -> dict:
    from kb.corpus.read import read_corpus

    t = time.perf_counter()
    corpus, problems = read_corpus(Path(a["corpus"]))
    return {
        "seconds": round(time.perf_counter() - t, 3),
        "comments": len(corpus.comments),
        "problems": len(problems),
    }


def kb_build(a: dict) -> dict:
    from kb.index.build import build_index
    from kb.index.generations import current_generation

    cpu, t = _cpu(), time.perf_counter()
    report = build_index(Path(a["corpus"]), Path(a["index"]), full=a.get("full", False))
    seconds = time.perf_counter() - t
    gen = current_generation(Path(a["index"]))
    return {
        "seconds": round(seconds, 3),
        "cpu_seconds": round(_cpu() - cpu, 2),
        "full": report.full,
        "documents": report.documents,
        "comments": report.comments,
        "changed": report.changed,
        "index_bytes": _size(gen),
        "peak_rss_mb": _rss_mb(),
        "worker_peak_rss_mb": _rss_mb(resource.RUSAGE_CHILDREN),
    }


def kb_query(a: dict) -> dict:
    from kb.engine import scoring
    from kb.search import KnowledgeBase

    if not a.get("cache", True):  # every query reads its posting lists from the index files
        scoring.CACHE_POSTINGS = 0
    queries = json.loads(Path(a["queries"]).read_text("utf-8"))
    kb = KnowledgeBase(Path(a["index"]))
    t = time.perf_counter()
    kb.search(queries[0], limit=10)
    cold = (time.perf_counter() - t) * 1000
    lat, hits, suggested = [], 0, 0
    for q in queries:
        t = time.perf_counter()
        r = kb.search(q, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
        hits += len(r.advice) + len(r.stories)
        suggested += bool(r.did_you_mean)
    return {
        "cold_ms": round(cold, 1),
        "latency_ms": _latency(lat),
        "hits": hits,
        "did_you_mean": suggested,
        "peak_rss_mb": _rss_mb(),
    }


def kb_similar(a: dict) -> dict:
    from whoosh import query as Q

    from kb.index.generations import open_index
    from kb.search import KnowledgeBase

    ix = open_index(Path(a["index"]))
    with ix.searcher() as s:
        stories = list(s.docs_for_query(Q.Term("kind", "story")))
        n = a.get("n", 50)
        pick = [stories[round(k * (len(stories) - 1) / (n - 1))] for k in range(n)]
        ids = [s.stored_fields(d)["id"] for d in pick]
    kb = KnowledgeBase(Path(a["index"]))
    kb.similar(ids[0])
    lat = []
    for cid in ids:
        t = time.perf_counter()
        kb.similar(cid, limit=10)
        lat.append((time.perf_counter() - t) * 1000)
    return {"ids": ids, "latency_ms": _latency(lat)}


def kb_app(a: dict) -> dict:
    """Time the app's script runs in Streamlit's AppTest: a shared link, then a typed search."""
    os.environ["KB_CORPUS"], os.environ["KB_INDEX"] = a["corpus"], a["index"]
    from streamlit.testing.v1 import AppTest

    queries = json.loads(Path(a["queries"]).read_text("utf-8"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    at.query_params["q"] = queries[0]
    t = time.perf_counter()
    at.run()
    first = time.perf_counter() - t
    runs = []
    for q in queries[1:6]:
        t = time.perf_counter()
        at.text_area(key="q").input(q).run()
        runs.append(time.perf_counter() - t)
    shown = [s.value for s in at.subheader]
    return {
        "first_seconds": round(first, 3),
        "typed_seconds": [round(x, 3) for x in runs],
        "exception": [str(e.value)[:200] for e in at.exception],
        "headings": shown[:2],
    }


def kb_eval(a: dict) -> dict:
    import tempfile

    from kb.evaluate import evaluate, load_judgments
    from kb.index.build import build_index
    from kb.search import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        build_index(REPO / "corpus", Path(tmp) / "ix")
        kb = KnowledgeBase(Path(tmp) / "ix")
        m = evaluate(kb, load_judgments(REPO / "tests" / "eval" / "judgments.yaml"))
        kb.close()
    return {k: m[k] for k in ("queries", "ndcg@10", "mrr", "p@5", "recall@10")}


def kb_profile(a: dict) -> dict:
    """Profile searches (and, with ``build``, a one-process build of a copy)."""
    from kb.search import KnowledgeBase

    queries = json.loads(Path(a["queries"]).read_text("utf-8"))[: a.get("n", 60)]
    kb = KnowledgeBase(Path(a["index"]))
    kb.search(queries[0])
    prof = cProfile.Profile()
    prof.enable()
    for q in queries:
        kb.search(q, limit=10)
    prof.disable()
    out = {"search": _top_lines(prof, len(queries))}
    if a.get("build"):
        from kb.engine import parallel
        from kb.index.build import build_index

        parallel.processes = lambda: 1  # one process, so the profile sees all the work
        prof = cProfile.Profile()
        prof.enable()
        build_index(Path(a["corpus"]), Path(a["build"]), full=True)
        prof.disable()
        out["build"] = _top_lines(prof, 1)
    return out


def _top_lines(prof: cProfile.Profile, calls: int, n: int = 22) -> list[str]:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(n)
    lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    head = f"{calls} call(s); cProfile, sorted by own time (tottime), seconds:"
    return [
        head,
        *(ln.replace(str(REPO) + "/", "").replace(sys.prefix + "/", "") for ln in lines[start:]),
    ]


# -- SQLite FTS5 ---------------------------------------------------------------------------
def _docs(corpus_dir: Path, slugs=None) -> list[dict]:
    from kb.corpus.read import load_corpus
    from kb.index.documents import thread_docs

    corpus = load_corpus(corpus_dir)
    out = []
    for slug in sorted(corpus.articles):
        if slugs is None or slug in slugs:
            out.extend(thread_docs(corpus, slug))
    return out


def fts_build(a: dict) -> dict:
    from benchmarks import fts

    rows = fts.rows(_docs(Path(a["corpus"])))  # reading the corpus is not timed here
    db_path = Path(a["db"])
    if db_path.exists():
        db_path.unlink()
    t = time.perf_counter()
    db = fts.connect(db_path)
    fts.insert(db, rows)
    db.close()
    return {
        "seconds": round(time.perf_counter() - t, 3),
        "documents": len(rows),
        "index_bytes": _size(db_path),
        "peak_rss_mb": _rss_mb(),
    }


def fts_update(a: dict) -> dict:
    from benchmarks import fts

    new = set(a["ids"])
    docs = _docs(Path(a["corpus"]), set(a["articles"]))
    by_id = {d["id"]: d for d in docs}
    parents = {by_id[i]["parent"] for i in new if by_id[i]["parent"]} - new
    rows = fts.rows([by_id[i] for i in sorted(new | parents)])
    db = fts.connect(Path(a["db"]))
    t = time.perf_counter()
    fts.insert(db, rows, replace=True)
    seconds = time.perf_counter() - t
    db.close()
    return {"seconds": round(seconds, 4), "rows": len(rows)}


def fts_query(a: dict) -> dict:
    from benchmarks import fts

    queries = json.loads(Path(a["queries"]).read_text("utf-8"))
    db = fts.connect(Path(a["db"]))
    t = time.perf_counter()
    fts.search(db, queries[0])
    cold = (time.perf_counter() - t) * 1000
    lat, hits = [], 0
    for q in queries:
        t = time.perf_counter()
        r = fts.search(db, q)
        lat.append((time.perf_counter() - t) * 1000)
        hits += len(r["advice"]) + len(r["stories"])
    return {
        "cold_ms": round(cold, 1),
        "latency_ms": _latency(lat),
        "hits": hits,
        "peak_rss_mb": _rss_mb(),
    }


def fts_similar(a: dict) -> dict:
    from benchmarks import fts

    db = fts.connect(Path(a["db"]))
    fts.similar(db, a["ids"][0])
    lat = []
    for cid in a["ids"]:
        t = time.perf_counter()
        fts.similar(db, cid)
        lat.append((time.perf_counter() - t) * 1000)
    return {"latency_ms": _latency(lat)}


def fts_overlap(a: dict) -> dict:
    """How many of kb's top ten FTS5 also returns, per list (a sanity check, not relevance)."""
    from benchmarks import fts
    from kb.search import KnowledgeBase

    queries = json.loads(Path(a["queries"]).read_text("utf-8"))[: a.get("n", 50)]
    kb = KnowledgeBase(Path(a["index"]))
    db = fts.connect(Path(a["db"]))
    shares = []
    for q in queries:
        r, f = kb.search(q, limit=10), fts.search(db, q)
        for mine, theirs in ((r.advice, f["advice"]), (r.stories, f["stories"])):
            if mine:
                shares.append(len({h.id for h in mine} & {h["id"] for h in theirs}) / len(mine))
    return {"overlap_at_10": round(statistics.fmean(shares), 3) if shares else None}


# -- vectors (benchmarks.semantic) -------------------------------------------------------
def vec_build(a: dict) -> dict:
    """The vector step after a words build: all texts, or a sample then repeated (timing only)."""
    import numpy as np

    from kb.index.generations import current_generation
    from kb.semantic import build as vector_build
    from kb.semantic import vectors as V

    index, sample = Path(a["index"]), a.get("sample")
    done = {"n": 0}
    cpu, t = _cpu(), time.perf_counter()
    report = vector_build.complete(
        index,
        progress=lambda n, total, _: done.update(n=n, total=total),
        should_stop=(lambda: done["n"] >= sample) if sample else None,
    )
    seconds, cpu_seconds = time.perf_counter() - t, _cpu() - cpu
    total = done.get("total") or report.embedded
    gen = current_generation(index)
    tiled = bool(sample) and not report.complete
    if tiled:  # every document gets one of the sample's real vectors, cached as its own
        docs = list(vector_build._docs(gen))
        live = [(d, f) for d, f in docs if not f.get("redacted")]
        bodies = {f["id"]: f.get("body", "") for _, f in live}
        keys = [V.digest(V.doc_text(f, bodies.get(f.get("parent") or "", ""))) for _, f in live]
        cache = V.EmbeddingCache(index, report.model)
        have = [k for k in keys if k in cache]
        q, scale = cache.get(have)
        missing = [k for k in dict.fromkeys(keys) if k not in cache]
        for at in range(0, len(missing), 20000):
            chunk = missing[at : at + 20000]
            rows = np.arange(at, at + len(chunk)) % len(have)
            cache.add(chunk, V.dequantize(q[rows], scale[rows]))
        V.fill(gen, docs, cache, lambda: None, report.model)
    data = V.read_vectors(gen)
    per_cpu = report.embedded / cpu_seconds if cpu_seconds else 0.0
    per_s = report.embedded / seconds if seconds else 0.0
    return {
        "embedded": report.embedded,
        "texts_total": total,
        "rows": int(len(data["docnums"])),
        "complete": bool(data["complete"]),
        "tiled": tiled,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "texts_per_cpu_second": round(per_cpu, 2),
        "texts_per_second": round(per_s, 2),
        "full_step_seconds": round(total / per_s if per_s else 0.0, 1),
        "gen_bytes": (gen / V.VECTORS).stat().st_size,
        "cache_bytes": _size(index / V.CACHE),
        "peak_rss_mb": _rss_mb(),
    }


def vec_fts(a: dict) -> dict:
    """FTS5's build then its words-only searches, on this machine now."""
    fts_build(a)
    return fts_query(a)


def vec_query(a: dict) -> dict:
    from kb.search import KnowledgeBase

    queries = json.loads(Path(a["queries"]).read_text("utf-8"))
    kb = KnowledgeBase(Path(a["index"]))
    first = kb.search(queries[0])
    assert first.mode == "hybrid", first.notice
    meaning, _ = kb.meaning(kb.doc_count())
    embed, hybrid, words = [], [], []
    for q in queries:
        t = time.perf_counter()
        meaning.embed(q)
        embed.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        kb.search(q, limit=10)
        hybrid.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        kb.search(q, limit=10, mode="words")
        words.append((time.perf_counter() - t) * 1000)
    return {
        "embed_ms": _latency(embed),
        "hybrid_ms": _latency(hybrid),
        "words_ms": _latency(words),
        "peak_rss_mb": _rss_mb(),
    }


def vec_update(a: dict) -> dict:
    from kb.index.build import build_index

    t = time.perf_counter()
    report = build_index(Path(a["corpus"]), Path(a["index"]))
    seconds = time.perf_counter() - t
    v = report.vectors or {}
    return {
        "seconds": round(seconds, 3),
        "embedded": v.get("embedded"),
        "complete": v.get("complete"),
        "changed": report.changed,
    }


PHASES = {
    "kb-read": kb_read,
    "kb-build": kb_build,
    "kb-query": kb_query,
    "kb-similar": kb_similar,
    "kb-app": kb_app,
    "kb-eval": kb_eval,
    "kb-profile": kb_profile,
    "fts-build": fts_build,
    "fts-update": fts_update,
    "fts-query": fts_query,
    "fts-similar": fts_similar,
    "fts-overlap": fts_overlap,
    "vec-build": vec_build,
    "vec-fts": vec_fts,
    "vec-query": vec_query,
    "vec-update": vec_update,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    name, args = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    result = PHASES[name](args)
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
