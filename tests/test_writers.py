"""Writers of one corpus at the same time: imports, tag edits and redactions take turns.

Each writer holds the corpus lock from reading what it changes to renaming the new files
into place, so no writer's change is lost, whatever the interleaving.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from kb.corpus.edit import set_comment_tags
from kb.corpus.lock import corpus_lock
from kb.corpus.read import load_corpus
from kb.errors import BusyError
from kb.importers.run import import_files

from .conftest import kb_command

IMPORTS = 8
ROWS = 10
EDITS = 12
EDITED = ("c-000001", "c-000004", "c-000005")


def _table(path, n: int) -> None:
    rows = ["Question,Answer,Date,Author"]
    for i in range(ROWS):
        rows.append(
            f'"Writer {n} question {i}: my partner and I argue about chores {n * 100 + i}",'
            f'"Answer {n}-{i}: talk about it on a calm day.",2019-0{1 + i % 9}-1{n % 9},'
            f"Reader{n}x{i}"
        )
    path.write_text("\n".join(rows) + "\n", "utf-8")


@pytest.mark.e2e
def test_parallel_imports_and_tag_edits_lose_nothing(corpus_copy, tmp_path, clean_env):
    tables = []
    for n in range(IMPORTS):
        tables.append(tmp_path / f"t{n}.csv")
        _table(tables[-1], n)
    env = dict(clean_env, KB_CORPUS=str(corpus_copy), KB_INDEX=str(tmp_path / "ix"))
    edit = (
        "import sys; from kb.corpus.edit import set_comment_tags\n"
        "set_comment_tags(sys.argv[1], sys.argv[2], sys.argv[3].split(','))\n"
    )
    procs = [
        subprocess.Popen(
            kb_command() + ["import", "csv", str(t), "--article", "leaving", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for t in tables
    ]
    wanted = {}
    for i in range(EDITS):
        cid = EDITED[i % len(EDITED)]
        tags = ["breakup"] if i % 2 else ["breakup", "space"]
        wanted[cid] = tags
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", edit, str(corpus_copy), cid, ",".join(tags)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        procs[-1].wait(timeout=120)  # edits in order, so that the last one's tags are known
    added = 0
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        if out.strip():
            added += json.loads(out)["comments"]["added"]
    assert added == IMPORTS * ROWS * 2  # each row: the question and the author's answer
    corpus = load_corpus(corpus_copy)
    texts = {c.body for c in corpus.comments.values()}
    for n in range(IMPORTS):
        for i in range(ROWS):
            assert any(f"Writer {n} question {i}:" in t for t in texts), (n, i)
            assert any(f"Answer {n}-{i}:" in t for t in texts), (n, i)
    for cid, tags in wanted.items():
        assert list(corpus.comments[cid].tags) == tags


def test_threads_editing_tags_while_importing_lose_nothing(corpus_copy, tmp_path):
    """The app's sessions are threads of one process: they take turns on the lock too."""
    tables = []
    for n in range(4):
        tables.append(tmp_path / f"t{n}.csv")
        _table(tables[-1], n)
    errors: list[BaseException] = []
    reports = []

    def run(fn, *args, **kw):
        try:
            reports.append(fn(*args, **kw))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [
        threading.Thread(
            target=run, args=(import_files, "csv", [t], corpus_copy), kwargs={"article": "leaving"}
        )
        for t in tables
    ]
    threads += [
        threading.Thread(
            target=run, args=(set_comment_tags, corpus_copy, cid, ["breakup", "space"])
        )
        for cid in EDITED * 3
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    corpus = load_corpus(corpus_copy)
    bodies = " ".join(c.body for c in corpus.comments.values())
    assert all(f"Writer {n} question {i}:" in bodies for n in range(4) for i in range(ROWS))
    assert all(corpus.comments[cid].tags == ("breakup", "space") for cid in EDITED)


def test_a_held_lock_makes_a_writer_wait_then_refuse_with_one_line(corpus_copy):
    before = (corpus_copy / "comments" / "leaving.yaml").read_text()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from kb.corpus.lock import corpus_lock\n"
                "with corpus_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(30)\n"
            ),
            str(corpus_copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(BusyError) as err, corpus_lock(corpus_copy, wait=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        message = str(err.value)
        assert "\n" not in message and "nothing was changed" in message
        assert str(corpus_copy) in message
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with corpus_lock(corpus_copy, wait=5):  # the kernel freed it with its holder
        pass
    assert (corpus_copy / "comments" / "leaving.yaml").read_text() == before


def test_the_lock_is_reentrant_in_one_thread(corpus_copy):
    with corpus_lock(corpus_copy, wait=1), corpus_lock(corpus_copy, wait=1):
        set_comment_tags(corpus_copy, "c-000001", ["space"])
    assert load_corpus(corpus_copy).comments["c-000001"].tags == ("space",)
