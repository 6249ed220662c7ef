"""The installed ``kb`` command, run as a user runs it, in a subprocess."""

import json
import shutil
import subprocess

import pytest

from .conftest import BAD, FIXTURE_CORPUS, kb_command

pytestmark = pytest.mark.e2e


def run(args, env, cwd=None):
    return subprocess.run(
        kb_command() + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_check_build_search_similar_tags_browse(tmp_path, clean_env):
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(tmp_path / "ix"))
    r = run(["check", "--json"], env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ok"] is True

    r = run(["build", "--json"], env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["full"] is True

    r = run(["search", "my wife moved out and says she needs space", "--json"], env)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"query", "advice", "stories"}
    for hit in data["advice"] + data["stories"]:
        assert set(hit) >= {"id", "kind", "article", "title", "snippet", "score", "tags"}
    assert data["stories"][0]["id"] == "c-000010"
    assert data["stories"][0]["replies"] == ["c-000011"]
    assert data["advice"][0]["id"] == "space#what-space-means"

    r = run(["similar", "c-000010", "--json"], env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stories"][0]["id"] == "c-000004"

    r = run(["tags", "--json"], env)
    counts = {t["id"]: t["count"] for t in json.loads(r.stdout)["tags"]}
    assert counts["breakup"] == 2

    r = run(["browse", "--tag", "affair", "--json"], env)
    data = json.loads(r.stdout)
    assert data["count"] == 1 and data["comments"][0]["id"] == "c-000020"


def test_flags_win_over_environment_and_default_index_is_outside_corpus(tmp_path, clean_env):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    env = dict(clean_env, KB_CORPUS=str(tmp_path / "elsewhere"))
    r = run(["build", "--corpus", str(corpus), "--json"], env)
    assert r.returncode == 0, r.stderr
    assert list(corpus.rglob("*.toc")) == []
    assert list((tmp_path / "cache" / "kb").glob("corpus-*/current"))


def test_build_is_incremental_and_says_what_changed(tmp_path, clean_env):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
    assert run(["build"], env).returncode == 0
    (corpus / "comments" / "affairs.yaml").write_text(
        (corpus / "comments" / "affairs.yaml").read_text().replace("coworker", "colleague")
    )
    r = run(["build"], env)
    assert r.returncode == 0
    assert "changed: affairs" in r.stdout
    assert "up to date" in run(["build"], env).stdout


def test_bad_corpus_gives_file_and_line_and_exit_1(tmp_path, clean_env):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    shutil.copy(BAD / "missing-parent.yaml", corpus / "comments" / "leaving.yaml")
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
    r = run(["check"], env)
    assert r.returncode == 1
    assert (
        "corpus/comments/leaving.yaml:7: comment c-000002: parent 'c-999999' does not exist"
        in r.stdout
    )
    r = run(["build"], env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "the index is unchanged" in r.stderr


# one of each exit path through the installed command; tests/test_cli_inprocess.py holds
# every bad-input case with its exact line
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", "hello"], 1, "no index yet; run `kb build` first"),
        (["search", "x", "--since", "last week"], 2, "use a date as YYYY-MM-DD"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_errors_are_one_line_with_exit_code(tmp_path, clean_env, args, code, message):
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(tmp_path / "none"))
    r = run(args, env)
    assert r.returncode == code
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_hostile_queries_never_crash_the_command(tmp_path, clean_env):
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(tmp_path / "ix"))
    assert run(["build"], env).returncode == 0
    for text in ['title:"x AND (', "*" * 100, "é" * 30000, "🙂 💔 😭"]:
        r = run(["search", text, "--json"], env)
        assert r.returncode == 0, r.stderr
        json.loads(r.stdout)


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("argv", "code", "words"),
    [
        (["eval", "{tmp}"], 1, "is a folder, not a judgments file"),
        (["redact", "c-000004", "--index", "{file}"], 2, "is a file, not a folder"),
    ],
)
def test_bad_paths_and_ports_are_one_line(tmp_path, clean_env, argv, code, words):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    afile = tmp_path / "a-file"
    afile.write_text("x")
    env = dict(clean_env, KB_CORPUS=str(corpus), KB_INDEX=str(tmp_path / "ix"))
    subprocess.run(kb_command() + ["build"], env=env, capture_output=True, timeout=60)
    argv = [a.format(tmp=tmp_path, file=afile) for a in argv]
    before = (corpus / "comments" / "leaving.yaml").read_text()
    r = subprocess.run(kb_command() + argv, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == code, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and words in r.stderr
    assert (corpus / "comments" / "leaving.yaml").read_text() == before


@pytest.mark.e2e
def test_a_reader_that_stops_early_ends_the_command_quietly(built_index, clean_env):
    """``kb tags | head``: the pipe closes before kb writes; exit 0 and nothing on stderr."""
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(built_index))
    p = subprocess.Popen(
        kb_command() + ["tags", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()  # before the command has written anything
    with p.stderr:
        err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert err == ""
