"""The ``kb import`` command: its report, its errors, and an author's whole site end to end."""

import argparse
import json
import subprocess
import time

import pytest

from kb.cli import _common
from kb.errors import StoreError
from kb.importers.command import register
from kb.settings import Settings

from .conftest import kb_command
from .test_import_shared import FIXTURES, corpus_text, snapshot


def _args(corpus, *argv):
    parser = argparse.ArgumentParser(prog="kb")
    register(parser.add_subparsers(dest="command", required=True), _common)
    args = parser.parse_args(["import", *argv])
    args.settings = Settings(corpus=corpus, index=corpus.parent / "index")
    return args


def test_the_text_report_counts_what_was_added_and_skipped(tmp_path, capsys):
    args = _args(tmp_path / "corpus", "wxr", str(FIXTURES / "export.xml"))
    assert args.func(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert (
        out[1] == "articles: 2 added, 0 already in the corpus, 3 skipped "
        "(attachment 1, page 1, unpublished 1)"
    )
    assert (
        out[2] == "comments: 7 added, 5 skipped (pending 1, pingback 1, "
        "post-not-imported 1, spam 1, trash 1)"
    )
    assert "tags added: breakups, no-contact, space" in out
    assert "site.yaml created" in out


def test_a_dry_run_says_so(tmp_path, capsys):
    args = _args(tmp_path / "corpus", "wxr", str(FIXTURES / "export.xml"), "--dry-run")
    assert args.func(args) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "dry run: nothing written"
    assert not (tmp_path / "corpus").exists()


def test_an_import_that_cannot_finish_leaves_the_corpus_as_it_was(tmp_path):
    corpus = tmp_path / "corpus"
    args = _args(corpus, "wxr", str(FIXTURES / "export.xml"))
    args.func(args)
    (corpus / "articles" / "giving-space.md").unlink()
    (corpus / "comments" / "giving-space.yaml").unlink()
    flow = corpus / "comments" / "when-she-leaves.yaml"
    flow.write_text(
        'article: when-she-leaves\ncomments: [{id: "x-1", author: Sam, '
        'date: 2010-03-02, body: "Hand-written."}]\n'
    )
    before = snapshot(corpus)
    with pytest.raises(StoreError, match="when-she-leaves.yaml: `comments:` is not written"):
        args.func(args)
    assert snapshot(corpus) == before


def test_map_is_only_for_tables(tmp_path):
    from kb.errors import UsageError

    args = _args(tmp_path / "c", "wxr", str(FIXTURES / "export.xml"), "--map", "question=Q")
    with pytest.raises(UsageError, match="--map is for `kb import csv` only"):
        args.func(args)


# -- end to end, the installed command ---------------------------------------------------
def _kb(args, env, timeout=120):
    return subprocess.run(
        kb_command() + args, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def wired(clean_env):
    r = _kb(["import", "--help"], clean_env)
    if r.returncode != 0:
        pytest.skip("`kb import` is not part of the kb command yet")
    return clean_env


@pytest.mark.e2e
def test_a_whole_site_imports_into_one_clean_searchable_corpus(tmp_path, wired):
    corpus = tmp_path / "corpus"
    env = dict(wired, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
    steps = [
        ["wxr", str(FIXTURES / "export.xml")],
        [
            "html",
            str(FIXTURES / "when-she-leaves.html"),
            str(FIXTURES / "when-she-leaves-comment-page-2.html"),
            str(FIXTURES / "texting-after-a-breakup.html"),
        ],
        ["pdf", str(FIXTURES / "archive.pdf"), "--article", "when-she-leaves"],
        [
            "csv",
            str(FIXTURES / "questions.csv"),
            "--map",
            "question=Q,answer=A,topic=Topic,date=Asked,author=Name",
        ],
    ]
    added = []
    for step in steps:
        r = _kb(["import", *step, "--json"], env)
        assert r.returncode == 0, r.stderr
        added.append(json.loads(r.stdout)["comments"]["added"])
    assert added == [7, 4, 4, 5]
    for step in steps:  # again: nothing new
        r = _kb(["import", *step, "--json"], env)
        assert json.loads(r.stdout)["comments"]["added"] == 0
    r = _kb(["check", "--json"], env)
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["comments"] == 20
    assert "mailbox.example" not in corpus_text(corpus)
    assert _kb(["build"], env).returncode == 0
    r = _kb(["search", "girlfriend left and blocked me, I keep calling her friends", "--json"], env)
    assert r.returncode == 0, r.stderr
    stories = json.loads(r.stdout)["stories"]
    assert stories[0]["id"] == "wp-12-101" and stories[0]["replies"] == ["wp-12-102"]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["wxr", str(FIXTURES / "billion-laughs.xml")], "billion-laughs.xml:3: refused"),
        (["wxr", str(FIXTURES / "truncated.xml")], "truncated.xml:83: not well-formed XML"),
        (["pdf", str(FIXTURES / "not-a-pdf.pdf"), "--article", "x"], "not-a-pdf.pdf: not a PDF"),
        (["csv", str(FIXTURES / "latin1.csv")], "latin1.csv:2: not UTF-8 text"),
    ],
)
def test_bad_files_exit_1_with_one_line(tmp_path, wired, argv, message):
    env = dict(wired, KB_CORPUS=str(tmp_path / "corpus"), KB_INDEX=str(tmp_path / "ix"))
    started = time.monotonic()
    r = _kb(["import", *argv], env, timeout=30)
    assert time.monotonic() - started < 20
    assert r.returncode == 1
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "corpus").exists()


def test_a_broken_comments_file_is_named_and_nothing_is_written(tmp_path):
    corpus = tmp_path / "corpus"
    args = _args(corpus, "wxr", str(FIXTURES / "export.xml"))
    args.func(args)
    (corpus / "articles" / "giving-space.md").unlink()
    (corpus / "comments" / "giving-space.yaml").unlink()
    broken = corpus / "comments" / "when-she-leaves.yaml"
    broken.write_text("article: when-she-leaves\ncomments:\n  - id: [oops\n")
    before = snapshot(corpus)
    with pytest.raises(StoreError, match=r"when-she-leaves.yaml:\d+: invalid YAML; fix it first"):
        args.func(args)
    assert snapshot(corpus) == before


@pytest.mark.e2e
@pytest.mark.parametrize(
    "slug", ["../../outside", "/tmp/kb-outside-abs", "a b", "Upper", ".hidden", "x" * 101]
)
@pytest.mark.parametrize("source", ["csv", "pdf"])
def test_an_article_slug_that_is_not_one_is_refused_before_anything_is_written(
    tmp_path, clean_env, slug, source
):
    from .test_import_shared import make_site

    corpus = make_site(tmp_path / "deep" / "er" / "corpus")
    before = snapshot(corpus)
    files = {"csv": FIXTURES / "semicolon.csv", "pdf": FIXTURES / "archive.pdf"}
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
    r = subprocess.run(
        kb_command() + ["import", source, str(files[source]), "--article", slug],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "not an article slug" in r.stderr
    assert snapshot(corpus) == before
    assert not list(tmp_path.rglob("outside*")) and not list(tmp_path.rglob("*.md"))
    assert not list((tmp_path / "deep").rglob("a b*"))
