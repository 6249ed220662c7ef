"""Builds and imports killed with SIGKILL part-way leave a readable index and a sound corpus.

The real ``kb`` command runs in a subprocess on a generated corpus large enough for a
full build to take a while; it is killed after a delay drawn from a fixed seed, as a
fraction of how long an uninterrupted run took on this machine. After every kill the
command answers from the index it answered from before (or, when the kill came after
the swap, from the finished new one), ``kb check`` passes, and the build lock is free.
Two more tests stop the process at exact points: at every rename of an import and
around the index swap.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.corpus.read import check_corpus
from kb.index.generations import CURRENT, MANIFEST, build_lock, current_generation

from .conftest import FIXTURE_CORPUS, kb_command

pytestmark = pytest.mark.e2e

SEED = 20240601
FULL_KILLS = 8  # kills of `kb build --full`
INCREMENTAL_KILLS = 3  # kills of an incremental `kb build`
IMPORT_KILLS = 3  # kills of `kb import wxr`
PROBE = "zeppelin hangar"
WXR = Path(__file__).parent / "fixtures" / "import" / "export.xml"
WORDS = [
    "left",
    "moved",
    "out",
    "space",
    "texts",
    "blocked",
    "wife",
    "husband",
    "girlfriend",
    "boyfriend",
    "weeks",
    "months",
    "years",
    "fight",
    "trust",
    "coworker",
    "kids",
    "wedding",
    "ring",
    "call",
    "message",
    "silence",
    "therapy",
    "counselor",
    "apartment",
    "lonely",
    "angry",
    "hopeful",
    "waiting",
    "friends",
    "family",
    "holiday",
    "birthday",
    "phone",
    "letter",
]


def make_corpus(root: Path, articles: int = 14, per_article: int = 150, seed: int = SEED) -> None:
    """Write a corpus of ``articles`` articles with ``per_article`` comments each."""
    rnd = random.Random(seed)
    (root / "articles").mkdir(parents=True)
    (root / "comments").mkdir()
    (root / "site.yaml").write_text("title: Load\nauthor: Ada\n", "utf-8")
    (root / "tags.yaml").write_text(
        "tags:\n  - id: space\n    label: Space\n    phrases: [needs space]\n"
        "  - id: no-contact\n    label: No contact\n",
        "utf-8",
    )
    for a in range(articles):
        slug = f"a{a:03d}"
        words = " ".join(rnd.choice(WORDS) for _ in range(300))
        (root / "articles" / f"{slug}.md").write_text(
            f"---\ntitle: Article {a}\ndate: 2012-01-01\n---\n\n## One\n\n{words}\n", "utf-8"
        )
        lines = [f"article: {slug}", "comments:"]
        for k in range(per_article):
            body = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(30, 90)))
            lines += [
                f'  - id: "g-{a:03d}-{k:04d}"',
                '    author: "Reader"',
                "    date: 2013-02-03",
                f"    body: {body}",
            ]
        (root / "comments" / f"{slug}.yaml").write_text("\n".join(lines) + "\n", "utf-8")


def set_version(root: Path, version: int) -> None:
    """Put the probe words in comment g-000-0001 (version 0) or g-001-0001 (version 1)."""
    for a in (0, 1):
        path = root / "comments" / f"a{a:03d}.yaml"
        text = path.read_text("utf-8").replace(" zeppelin hangar", "")
        if a == version:
            start = text.index(f'id: "g-{a:03d}-0001"')
            at = text.index("    body: ", start) + len("    body: ")
            end = text.index("\n", at)
            text = text[:end] + " zeppelin hangar" + text[end:]
        path.write_text(text, "utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file under a folder with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def corpus_files(root: Path) -> dict[str, bytes]:
    """Return the corpus files proper (no staging leftovers) with their bytes."""
    return {k: v for k, v in snapshot(root).items() if not Path(k).name.startswith(".")}


class Kb:
    """The installed command on one corpus and one index folder."""

    def __init__(self, corpus: Path, index: Path, tmp: Path):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
        self.env.update(
            KB_CORPUS=str(corpus), KB_INDEX=str(index), XDG_CACHE_HOME=str(tmp / "cache")
        )
        self.corpus, self.index = corpus, index

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            kb_command() + list(args), env=self.env, capture_output=True, text=True, timeout=300
        )

    def answer(self) -> list[str]:
        r = self.run("search", PROBE, "--json", "--limit", "3", "--mode", "words")
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
        data = json.loads(r.stdout)
        return [h["id"] for h in data["stories"]]

    def check(self) -> None:
        r = self.run("check")
        assert r.returncode == 0, r.stdout + r.stderr

    def timed(self, *args: str) -> float:
        start = time.monotonic()
        r = self.run(*args)
        assert r.returncode == 0, r.stderr
        return time.monotonic() - start

    def killed(self, delay: float, *args: str) -> bool:
        """Start the command, SIGKILL it after ``delay`` seconds; tell whether it was killed."""
        proc = subprocess.Popen(
            kb_command() + list(args),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)  # the builder alone, as a crash would
        _, err = proc.communicate(timeout=60)
        _reap_group(proc.pid)
        if proc.returncode == 0:
            return False
        assert proc.returncode == -signal.SIGKILL, err.decode()
        return True


def _reap_group(pgid: int, wait: float = 10.0) -> None:
    """Wait for any helper processes the killed command had started to end; then end them."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    pytest.fail("the killed command left helper processes running")


def _phase(index: Path, before: Path, existing: set[Path]) -> str:
    """Name how far a killed build got, from what it left in the index folder."""
    live = current_generation(index)
    if live != before:
        return "after the swap"
    newer = [p for p in index.glob("gen-*") if p not in existing]
    if not newer:
        return "before a new generation existed"
    if any((p / MANIFEST).exists() for p in newer):
        return "after the manifest, before the swap"
    return "while writing a generation"


def _lock_is_free(index: Path) -> bool:
    try:
        with build_lock(index, wait=0):
            return True
    except Exception:
        return False


def test_builds_killed_at_random_moments_leave_the_previous_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    make_corpus(corpus)
    kb = Kb(corpus, index, tmp_path)
    # the words index alone: its kill points are what this test spreads over the build (the
    # vector step after it has a kill test of its own, below)
    set_version(corpus, 0)
    full_time = kb.timed("build", "--words-only")  # the first build is a full one
    answers = {0: kb.answer()}
    set_version(corpus, 1)
    incremental_time = kb.timed("build", "--words-only")
    answers[1] = kb.answer()
    assert answers[0][:1] == ["g-000-0001"] and answers[1][:1] == ["g-001-0001"]
    live_version = 1

    rnd = random.Random(SEED)
    plan = [("--full", rnd.uniform(0.05, 0.75) * full_time) for _ in range(FULL_KILLS)]
    plan += [(None, rnd.uniform(0.2, 0.7) * incremental_time) for _ in range(INCREMENTAL_KILLS)]
    survived, phases = 0, []
    for flag, delay in plan:
        before_gen = current_generation(index)
        existing = set(index.glob("gen-*"))
        target = 1 - live_version
        set_version(corpus, target)
        args = ["build", "--words-only", flag] if flag else ["build", "--words-only"]
        was_killed = kb.killed(delay, *args)
        phase = _phase(index, before_gen, existing)
        if phase == "after the swap":
            live_version = target
        assert kb.answer() == answers[live_version], phase  # `kb search`, as a reader runs it
        assert check_corpus(corpus) == []  # what `kb check` reports (run for real below)
        assert _lock_is_free(index), phase
        assert (index / CURRENT).is_symlink()
        if was_killed:
            survived += 1
            phases.append(phase)
    # the next build after all that succeeds at once and cleans up what the kills left
    set_version(corpus, 1 - live_version)
    r = kb.run("build", "--json")
    assert r.returncode == 0, r.stderr
    assert kb.answer() == answers[1 - live_version]
    kb.check()
    assert all((g / MANIFEST).exists() for g in index.glob("gen-*"))  # no half generation left
    counts = {p: phases.count(p) for p in sorted(set(phases))}
    print(
        f"\ncrash safety: {survived} kill points survived of {len(plan)} runs; "
        f"full build {full_time:.1f} s, incremental {incremental_time:.1f} s; {counts}"
    )
    assert survived >= 8


def test_imports_killed_at_random_moments_leave_a_sound_corpus(tmp_path):
    pristine, corpus, index = tmp_path / "pristine", tmp_path / "corpus", tmp_path / "index"
    make_corpus(pristine, articles=4, per_article=40)
    set_version(pristine, 0)
    done = tmp_path / "done"
    shutil.copytree(pristine, done)
    shutil.copytree(pristine, corpus)
    kb = Kb(corpus, index, tmp_path)
    kb.timed("build")
    answer = kb.answer()
    finished = Kb(done, tmp_path / "done-index", tmp_path)
    import_time = finished.timed("import", "wxr", str(WXR))
    after = corpus_files(done)
    before = corpus_files(pristine)
    assert after != before

    rnd = random.Random(SEED + 1)
    survived = 0
    for _ in range(IMPORT_KILLS):
        if kb.killed(rnd.uniform(0.1, 0.95) * import_time, "import", "wxr", str(WXR)):
            survived += 1
        now = corpus_files(corpus)
        assert set(now) <= set(after)
        for name, data in now.items():  # every file is whole: as it was, or as imported
            assert data in (before.get(name), after[name]), name
        kb.check()
        assert kb.answer() == answer  # an import never touches the index
        shutil.rmtree(corpus)
        shutil.copytree(pristine, corpus)
    print(f"\ncrash safety: {survived} killed imports survived")


_STOP_AT_RENAME = """
import os, sys
from kb.corpus import write as store
calls, stop_after = [0], int(sys.argv[1])
real = os.replace
def replace(src, dst):
    if calls[0] == stop_after:
        os._exit(137)  # as abrupt as SIGKILL: no cleanup, no rollback
    calls[0] += 1
    real(src, dst)
store.os.replace = replace
from kb.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_an_import_stopped_between_any_two_renames_leaves_a_sound_corpus(tmp_path):
    pristine = tmp_path / "pristine"
    shutil.copytree(FIXTURE_CORPUS, pristine)
    done = tmp_path / "done"
    shutil.copytree(pristine, done)
    kb_done = Kb(done, tmp_path / "ix", tmp_path)
    r = kb_done.run("import", "wxr", str(WXR), "--json")
    assert r.returncode == 0, r.stderr
    written = json.loads(r.stdout)["written"]
    assert len(written) >= 3 and any(w.endswith("tags.yaml") for w in written)
    before, after = corpus_files(pristine), corpus_files(done)
    for stop_after in range(len(written)):
        corpus = tmp_path / f"c{stop_after}"
        shutil.copytree(pristine, corpus)
        kb = Kb(corpus, tmp_path / "ix", tmp_path)
        r = subprocess.run(
            [sys.executable, "-c", _STOP_AT_RENAME, str(stop_after), "import", "wxr", str(WXR)],
            env=kb.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 137, r.stderr
        now = corpus_files(corpus)
        changed = sorted(k for k in now if now[k] != before.get(k))
        assert len(changed) == stop_after
        for name in changed:
            assert now[name] == after[name]
        r = kb.run("check")
        assert r.returncode == 0, f"stopped after {stop_after} renames: {r.stdout}"
    print(
        f"\ncrash safety: an import stopped at each of its {len(written)} renames left a "
        "sound corpus"
    )


_STOP_IN_BUILD = """
import os, sys
from kb.index import build
where = sys.argv[1]
real = getattr(build, where)
def stop(*args, **kwargs):  # do the step, then die before anything else (the prune, the swap)
    real(*args, **kwargs)
    os._exit(137)
setattr(build, where, stop)
from kb.cli import main
sys.exit(main(["build", "--full"]))
"""


@pytest.mark.parametrize(("where", "swapped"), [("swap", True), ("write_atomic", False)])
def test_a_build_stopped_around_the_swap_leaves_one_whole_index(tmp_path, where, swapped):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    kb = Kb(corpus, tmp_path / "index", tmp_path)
    assert kb.run("build").returncode == 0
    old = current_generation(kb.index)
    first = kb.run("search", "coworker", "--json")
    r = subprocess.run(
        [sys.executable, "-c", _STOP_IN_BUILD, where],
        env=kb.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 137, r.stderr
    assert (current_generation(kb.index) != old) is swapped
    again = kb.run("search", "coworker", "--json")
    assert (
        again.returncode == 0
        and json.loads(again.stdout)["stories"] == json.loads(first.stdout)["stories"]
    )
    assert _lock_is_free(kb.index)
    assert kb.run("build", "--full").returncode == 0
    assert all((g / MANIFEST).exists() for g in kb.index.glob("gen-*"))


_PARALLEL_BUILD = """
import sys
from kb.engine import parallel
parallel.PARALLEL_MIN_BYTES = 0  # even a small corpus is written by forked processes
parallel.processes = lambda: 2
from kb.cli import main
sys.exit(main(["build", "--full"]))
"""


def _children(pid: int) -> list[str]:
    r = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return r.stdout.split()


def test_a_killed_parallel_build_leaves_the_lock_free(tmp_path):
    """Forked segment writers share the lock's file; a killed builder must not leave it held."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    make_corpus(corpus, articles=6, per_article=150)
    set_version(corpus, 0)
    kb = Kb(corpus, index, tmp_path)
    assert kb.run("build").returncode == 0
    answer = kb.answer()
    set_version(corpus, 1)
    proc = subprocess.Popen(
        [sys.executable, "-c", _PARALLEL_BUILD],
        env=kb.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    helpers = _children(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)  # the builder dies while its writers work
    proc.wait(30)
    try:
        assert helpers, "the build finished before its writer processes started"
        free = _lock_is_free(index)
        still = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True)
        assert still.stdout.split(), "the writers ended before the lock was checked"
        assert free, "the writers the killed build left behind still hold the build lock"
        assert kb.answer() == answer
        start = time.monotonic()
        assert kb.run("build").returncode == 0
        assert time.monotonic() - start < 20  # no wait for a lock nobody will give back
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # writers the killed build left behind


@pytest.mark.e2e
def test_a_vector_step_killed_part_way_resumes_where_it_stopped(tmp_path, clean_env):
    """`kb build` killed while it embeds: search still works, and the next build embeds only
    what the killed one had not checkpointed."""
    from kb.search import KnowledgeBase
    from kb.semantic import vectors as V

    from .conftest import EMBEDDED_CORPUS

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(EMBEDDED_CORPUS, corpus)
    cmd = [*kb_command(), "build", "--corpus", str(corpus), "--index", str(index)]
    proc = subprocess.Popen(
        cmd, env=clean_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    parts = []
    while time.monotonic() < deadline and not parts and proc.poll() is None:
        time.sleep(0.2)
        parts = list(index.glob(f"{V.CACHE}/*/part-*.npz"))
    assert parts, "the vector step never checkpointed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    gen = current_generation(index)
    done = V.read_vectors(gen)
    assert done is not None and not bool(done["complete"])
    assert 0 < len(done["docnums"]) < 688
    assert KnowledgeBase(index).search("my wife moved out").mode == "hybrid"
    out = subprocess.run(
        [*cmd, "--json"], env=clean_env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)["vectors"]
    assert report["complete"] and report["documents"] == 688
    assert report["embedded"] == 688 - report["reused"]
    assert report["reused"] >= len(done["docnums"])
