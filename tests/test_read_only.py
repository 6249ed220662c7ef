"""A built index in a read-only folder is served; commands that must write say so in one line."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kb.index.build import build_index

from .conftest import FIXTURE_CORPUS, REPO, kb_command

PAGES = str(REPO / "src" / "kb" / "ui" / "views") + "/"


@pytest.fixture(scope="module")
def read_only_index(tmp_path_factory):
    """The fixture corpus's index, current, in a folder nobody can write to."""
    work = tmp_path_factory.mktemp("ro")
    corpus = work / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    src, mnt = work / "src", work / "mnt"
    build_index(corpus, src)
    mnt.mkdir()
    if os.geteuid() != 0:  # permissions hold for ordinary users
        subprocess.run(["chmod", "-R", "a-w", str(src)], check=True)
        yield corpus, src
        subprocess.run(["chmod", "-R", "u+w", str(src)], check=True)
        return
    # root ignores permissions: a read-only bind mount is read-only for everyone
    r = subprocess.run(["mount", "--bind", str(src), str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot make a read-only folder here: {r.stderr.decode().strip()}")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(mnt)], check=True)
        yield corpus, mnt
    finally:
        # lazily: a searcher this process keeps open on the index must not leave it mounted
        subprocess.run(["umount", "--lazy", str(mnt)], check=False)


def test_the_folder_is_really_read_only(read_only_index):
    with pytest.raises(OSError):
        (read_only_index[1] / "probe").write_text("x")


@pytest.mark.parametrize(
    ("page", "params", "text"),
    [
        (None, {"q": "wife moved out needs space"}, "Readers in your situation"),
        ("story.py", {"comment": "c-000003"}, "A reader's story"),
        ("browse.py", {"tag": "breakup"}, "Browse by tag"),
        ("article.py", {"article": "leaving"}, "Readers' conversations"),
    ],
)
def test_every_reader_page_serves_a_read_only_index(
    read_only_index, monkeypatch, page, params, text
):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    corpus, index = read_only_index
    monkeypatch.setenv("KB_CORPUS", str(corpus))
    monkeypatch.setenv("KB_INDEX", str(index))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    if page:
        at.run()
        at.switch_page(PAGES + page)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    assert not at.error
    shown = " ".join(str(e.value) for e in [*at.title, *at.subheader, *at.markdown])
    assert text in shown


@pytest.mark.e2e
@pytest.mark.parametrize("argv", [["build"], ["build", "--full"], ["redact", "c-000004"]])
def test_commands_that_must_write_the_index_say_so_in_one_line(
    read_only_index, tmp_path, clean_env, argv
):
    corpus, index = read_only_index
    copy = tmp_path / "corpus"
    shutil.copytree(corpus, copy)
    env = dict(clean_env, KB_CORPUS=str(copy), KB_INDEX=str(index))
    r = subprocess.run(kb_command() + argv, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode in (1, 2), r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert str(index) in lines[0]
    if argv[0] == "redact":  # refused before the corpus was changed
        assert "c-000004" in (copy / "comments" / "leaving.yaml").read_text()
        assert "redacted" not in (copy / "comments" / "leaving.yaml").read_text()


@pytest.mark.e2e
def test_search_and_suggestions_read_a_read_only_index(read_only_index, clean_env):
    corpus, index = read_only_index
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(index))
    for argv in (["search", "wife moved out"], ["tags", "--suggest"], ["similar", "c-000004"]):
        r = subprocess.run(kb_command() + argv, env=env, capture_output=True, text=True, timeout=60)
        # nothing on stderr but, for a search, the line saying it uses words (no vectors here)
        quiet = r.stderr == "" or r.stderr.startswith("kb: searching by words only:")
        assert r.returncode == 0 and quiet and r.stderr.count("\n") <= 1, (argv, r.stderr)
