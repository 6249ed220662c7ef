"""Readers and builders at the same time: searches during index swaps, two builds at once."""

from __future__ import annotations

import shutil
import threading

import pytest

from kb.errors import BusyError
from kb.index.build import build_index
from kb.index.generations import build_lock, current_generation
from kb.search import KnowledgeBase

from .conftest import FIXTURE_CORPUS

PROBES = ("coworker", "neighbour")


def _answer(kb: KnowledgeBase, text: str) -> tuple:
    r = kb.search(text, limit=5)
    return tuple(h.id for h in r.advice), tuple(h.id for h in r.stories)


@pytest.fixture
def two_versions(tmp_path):
    """A corpus copy and a function that switches one comment between two wordings."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    path = corpus / "comments" / "affairs.yaml"
    old = path.read_text("utf-8")
    new = old.replace("coworker", "neighbour")
    assert new != old

    def use(version: int) -> None:
        path.write_text(new if version else old, "utf-8")

    return corpus, use


def test_search_after_an_incremental_rebuild_sees_only_the_new_text(two_versions, tmp_path):
    corpus, use = two_versions
    index = tmp_path / "index"
    build_index(corpus, index)
    use(1)
    assert not build_index(corpus, index).full  # the old documents are deleted, not rewritten
    kb = KnowledgeBase(index)
    assert "c-000020" in _answer(kb, "neighbour")[1]
    assert "c-000020" not in _answer(kb, "coworker")[1]


def test_a_reader_keeps_reading_a_generation_retired_under_it(two_versions, tmp_path):
    """A request that opened the index just before two swaps still reads it whole."""
    from whoosh import query as Q

    from kb.index.generations import open_index

    corpus, use = two_versions
    index = tmp_path / "index"
    build_index(corpus, index)
    searcher = open_index(index).searcher()  # a request in flight on the first generation
    try:
        for version in (1, 0):  # two swaps: the first generation is neither current nor previous
            use(version)
            build_index(corpus, index)
        docnum = searcher.document_number(id="c-000020")
        assert "coworker" in searcher.stored_fields(docnum)["body"]
        dates = [h["date"] for h in searcher.search(Q.Every(), sortedby="date", limit=None)]
        assert dates == sorted(dates) and len(dates) == searcher.doc_count()
    finally:
        searcher.close()


def test_retired_generations_are_removed_once_no_request_can_hold_them(two_versions, tmp_path):
    import os
    import time

    from kb.index.generations import MANIFEST, RETIRE_GRACE

    corpus, use = two_versions
    index = tmp_path / "index"
    for version in (0, 1, 0):
        use(version)
        build_index(corpus, index)
    assert len(list(index.glob("gen-*"))) == 3  # the first was retired a moment ago
    old = time.time() - RETIRE_GRACE - 1
    for gen in index.glob("gen-*"):
        os.utime(gen / MANIFEST, (old, old))
    use(1)
    build_index(corpus, index)
    assert len(list(index.glob("gen-*"))) == 2  # the new one and the one before it


SWAPS = 16
READERS = 4


@pytest.mark.slow  # 16 builds under 4 reading threads: a few seconds
def test_searches_during_repeated_swaps_see_the_old_or_the_new_index(two_versions, tmp_path):
    corpus, use = two_versions
    index = tmp_path / "index"
    answers = []
    for version in (0, 1):
        use(version)
        build_index(corpus, index)
        answers.append({p: _answer(KnowledgeBase(index), p) for p in PROBES})
    assert answers[0] != answers[1]
    kb = KnowledgeBase(index)  # shared by every thread, as the app shares it
    building = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []
    wrong: list[tuple] = []
    counts = {"all": 0, "during": 0}
    lock = threading.Lock()

    def reader(n: int) -> None:
        k = n
        while not stop.is_set():
            probe = PROBES[k % 2]
            k += 1
            during = building.is_set()
            try:
                got = _answer(kb, probe)
                if k % 5 == 0:
                    kb.similar("c-000010", limit=3)
                    kb.thread("c-000003")
            except BaseException as exc:  # noqa: BLE001 - every failure is reported
                errors.append(exc)
                return
            during = during or building.is_set()
            if got not in (answers[0][probe], answers[1][probe]):
                wrong.append((probe, got))
            with lock:
                counts["all"] += 1
                counts["during"] += during

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(READERS)]
    for t in threads:
        t.start()
    try:
        for i in range(SWAPS):
            use(i % 2)
            building.set()
            build_index(corpus, index, full=(i % 4 == 3))  # incremental and full swaps
            building.clear()
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not errors, repr(errors[0])
    assert not wrong, wrong[:3]
    assert _answer(kb, PROBES[0]) == answers[(SWAPS - 1) % 2][PROBES[0]]
    print(
        f"\nconcurrency: {counts['all']} searches by {READERS} threads, {counts['during']} of "
        f"them while one of {SWAPS} builds ran and swapped the index"
    )
    assert counts["during"] >= SWAPS


def test_two_builds_at_once_run_one_after_the_other(two_versions, tmp_path):
    corpus, use = two_versions
    index = tmp_path / "index"
    build_index(corpus, index)
    use(1)
    reports, errors = [], []
    release = threading.Event()

    def build(full: bool) -> None:
        release.wait()
        try:
            reports.append(build_index(corpus, index, full=full, lock_wait=30))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(full,)) for full in (True, False)]
    with build_lock(index, wait=0):  # both start while a third build holds the lock
        for t in threads:
            t.start()
        release.set()
        threading.Event().wait(0.5)
        assert not reports  # they wait their turn
    for t in threads:
        t.join(60)
    assert not errors and len(reports) == 2
    assert sum(not r.up_to_date for r in reports) >= 1
    kb = KnowledgeBase(index)
    assert "c-000020" in _answer(kb, "neighbour")[1]
    assert "c-000020" not in _answer(kb, "coworker")[1]
    assert current_generation(index) is not None


def test_a_build_that_cannot_get_the_lock_refuses_in_one_line(two_versions, tmp_path):
    corpus, use = two_versions
    index = tmp_path / "index"
    build_index(corpus, index)
    before = current_generation(index)
    use(1)
    with build_lock(index, wait=0), pytest.raises(BusyError) as info:
        build_index(corpus, index, lock_wait=0.3)
    assert "another build is running" in str(info.value) and "\n" not in str(info.value)
    assert current_generation(index) == before
    assert not build_index(corpus, index).up_to_date  # and the lock is free again
