import os
import shutil
import threading

import pytest

from kb.errors import BusyError, CorpusError, IndexMissingError
from kb.index.build import build_index
from kb.index.generations import build_lock, current_generation, open_index
from kb.search import KnowledgeBase

from .conftest import BAD


def _ids(index_dir):
    ix = open_index(index_dir)
    with ix.searcher() as s:
        return {d["id"] for d in s.all_stored_fields()}


def test_full_build_indexes_sections_and_comments(corpus_copy, tmp_path):
    report = build_index(corpus_copy, tmp_path / "ix")
    assert report.full and report.reason == "no index yet"
    ids = _ids(tmp_path / "ix")
    assert {"leaving#stop-chasing", "leaving#intro", "c-000001", "c-000020"} <= ids
    assert report.documents == len(ids)


def test_second_build_is_up_to_date(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "ix")
    report = build_index(corpus_copy, tmp_path / "ix")
    assert report.up_to_date


def test_incremental_build_reindexes_only_changed_articles(corpus_copy, tmp_path):
    ix_dir = tmp_path / "ix"
    build_index(corpus_copy, ix_dir)
    path = corpus_copy / "comments" / "affairs.yaml"
    path.write_text(
        path.read_text()
        + (
            '  - id: "c-000021"\n    author: "Rae"\n    date: 2016-04-01\n'
            "    body: He swears the affair is over but I keep checking his phone.\n"
        )
    )
    (corpus_copy / "articles" / "space.md").unlink()
    (corpus_copy / "comments" / "space.yaml").unlink()
    report = build_index(corpus_copy, ix_dir)
    assert not report.full
    assert report.changed == ["affairs"] and report.removed == ["space"] and report.added == []
    ids = _ids(ix_dir)
    assert "c-000021" in ids and "c-000010" not in ids and "c-000001" in ids


def test_incremental_build_leaves_previous_generation_intact(corpus_copy, tmp_path):
    ix_dir = tmp_path / "ix"
    build_index(corpus_copy, ix_dir)
    old = current_generation(ix_dir)
    (corpus_copy / "comments" / "space.yaml").unlink()
    build_index(corpus_copy, ix_dir)
    assert current_generation(ix_dir) != old
    from whoosh import index as wi

    with wi.open_dir(str(old)).searcher() as s:  # a reader still on the old one sees it whole
        assert s.document(id="c-000010") is not None


def test_changing_tags_yaml_forces_full_rebuild(corpus_copy, tmp_path):
    build_index(corpus_copy, tmp_path / "ix")
    with open(corpus_copy / "tags.yaml", "a") as fh:
        fh.write("  - id: kids\n    label: Kids\n")
    report = build_index(corpus_copy, tmp_path / "ix")
    assert report.full and "tags" in report.reason


def test_broken_corpus_keeps_the_old_index(corpus_copy, tmp_path):
    ix_dir = tmp_path / "ix"
    build_index(corpus_copy, ix_dir)
    before = current_generation(ix_dir)
    shutil.copy(BAD / "duplicate-id.yaml", corpus_copy / "comments" / "leaving.yaml")
    with pytest.raises(CorpusError):
        build_index(corpus_copy, ix_dir)
    assert current_generation(ix_dir) == before
    assert "c-000010" in _ids(ix_dir)


def test_failed_build_leaves_no_half_generation(corpus_copy, tmp_path, monkeypatch):
    ix_dir = tmp_path / "ix"
    build_index(corpus_copy, ix_dir)
    before = current_generation(ix_dir)
    (corpus_copy / "comments" / "space.yaml").unlink()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("kb.index.build._Build._write_articles", boom)
    with pytest.raises(RuntimeError):
        build_index(corpus_copy, ix_dir)
    assert current_generation(ix_dir) == before
    assert sorted(p.name for p in ix_dir.glob("gen-*")) == [before.name]


def test_index_lives_outside_corpus_and_missing_index_is_clear(tmp_path):
    with pytest.raises(IndexMissingError, match="run `kb build` first"):
        KnowledgeBase(tmp_path / "none").search("hello")


def test_second_builder_waits_then_refuses_clearly(corpus_copy, tmp_path):
    ix_dir = tmp_path / "ix"
    held = threading.Event()
    release = threading.Event()

    def holder():
        with build_lock(ix_dir):
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    try:
        with pytest.raises(BusyError, match="another build is running"):
            build_index(corpus_copy, ix_dir, lock_wait=0.3)
    finally:
        release.set()
        t.join()
    assert build_index(corpus_copy, ix_dir).full


def test_index_default_location_is_outside_the_corpus(tmp_path):
    from kb.settings import default_index_dir

    d = default_index_dir(tmp_path / "corpus", tmp_path / "cache")
    assert not str(d).startswith(str(tmp_path / "corpus"))
    assert os.path.commonpath([d, tmp_path / "cache"]) == str(tmp_path / "cache")
