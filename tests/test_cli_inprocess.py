"""The ``kb`` command's bad input, run in-process through ``kb.cli.main``: the exact line on
stderr, the exit code (2 for usage, 1 for what the library refuses) and nothing written.

tests/test_cli.py runs the installed command in a subprocess, as a user does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import BAD, FIXTURE_CORPUS, HERE
from .conftest import run_kb as kb
from .test_import_shared import snapshot

JUDGMENTS = HERE / "eval" / "judgments.yaml"


@pytest.fixture
def where(tmp_path, clean_environ, built_index):
    """A corpus copy and the folders the cases name; the environment points at them."""
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    clean_environ.setenv("KB_CORPUS", str(corpus))
    clean_environ.setenv("KB_INDEX", str(built_index))
    afile = tmp_path / "a-file"
    afile.write_text("x")
    places = {
        "corpus": corpus,
        "index": built_index,
        "tmp": tmp_path,
        "file": afile,
        "none": tmp_path / "none",
        "judgments": JUDGMENTS,
    }
    before = _files(corpus), _files(built_index)
    yield places
    assert (_files(corpus), _files(built_index)) == before  # nothing written
    assert not (tmp_path / "cache").exists()  # and no index made elsewhere


def _files(folder: Path) -> dict[str, bytes]:
    """Every file with its bytes, but the writers' empty lock file (made by a writer that
    took the lock, then refused)."""
    files = snapshot(folder)
    if files.get(".kb-write.lock") == b"":
        del files[".kb-write.lock"]
    return files


def _fill(argv: list[str], places: dict) -> list[str]:
    return [a.format(**places) for a in argv]


# -- usage errors: exit 2 -----------------------------------------------------------------
USAGE = [
    (
        ["search", "x", "--limit", "0"],
        "kb: argument --limit: 0 must be 1 or more (see `kb search --help`)",
    ),
    (
        ["search", "x", "--limit", "many"],
        "kb: argument --limit: 'many' is not a whole number (see `kb search --help`)",
    ),
    (["search", "x", "--since", "last week"], "kb: --since 'last week': use a date as YYYY-MM-DD"),
    (
        ["search", "x", "--until", "2020-13-01"],
        "kb: --until '2020-13-01': use a date as YYYY-MM-DD",
    ),
    (
        ["search", "x", "--since", "y" * 60],
        "kb: --since '" + "y" * 40 + "…': use a date as YYYY-MM-DD",
    ),
    (["faq", "--since", "yesterday"], "kb: --since 'yesterday': use a date as YYYY-MM-DD"),
    (
        ["search", "x", "--mode", "fuzzy"],
        "kb: argument --mode: invalid choice: 'fuzzy' (choose from 'hybrid', 'words', 'meaning')"
        " (see `kb search --help`)",
    ),
    (
        ["similar", "c-000010", "--mode", "bogus"],
        "kb: argument --mode: invalid choice: 'bogus' (choose from 'hybrid', 'words', 'meaning')"
        " (see `kb similar --help`)",
    ),
    (
        ["eval", "{judgments}", "--mode", "both"],
        "kb: argument --mode: invalid choice: 'both' (choose from 'hybrid', 'words', 'meaning')"
        " (see `kb eval --help`)",
    ),
    (
        ["frobnicate"],
        "kb: argument command: invalid choice: 'frobnicate' (choose from 'check', 'build', "
        "'search', 'similar', 'tags', 'browse', 'eval', 'faq', 'redact', 'password', 'import', "
        "'sync', 'serve') (see `kb --help`)",
    ),
    ([], "kb: the following arguments are required: command (see `kb --help`)"),
    (["search"], "kb: the following arguments are required: text (see `kb search --help`)"),
    (["browse"], "kb: the following arguments are required: --tag (see `kb browse --help`)"),
    (
        ["serve", "--port", "99999"],
        "kb: argument --port: port 99999 is not from 1 to 65535 (see `kb serve --help`)",
    ),
    (
        ["serve", "--port", "http"],
        "kb: argument --port: 'http' is not a port number (see `kb serve --help`)",
    ),
    (
        ["tags", "--threshold", "2"],
        "kb: argument --threshold: 2 must be between 0 and 1 (see `kb tags --help`)",
    ),
    (
        ["browse", "--tag", "affair", "--threshold", "x"],
        "kb: argument --threshold: 'x' is not a number (see `kb browse --help`)",
    ),
    (
        ["tags", "--suggest", "--evaluate"],
        "kb: argument --evaluate: not allowed with argument --suggest (see `kb tags --help`)",
    ),
    (
        ["search", "wife", "--index", "{file}"],
        "kb: {file}: is a file, not a folder (--index / KB_INDEX must name a folder)",
    ),
    (
        ["build", "--corpus", "{file}"],
        "kb: {file}: is a file, not a folder (--corpus / KB_CORPUS must name a folder)",
    ),
    (
        ["redact", "c-000004", "--index", "{file}"],
        "kb: {file}: is a file, not a folder (--index / KB_INDEX must name a folder)",
    ),
    (["import", "csv"], "kb: the following arguments are required: FILE (see `kb import --help`)"),
    (
        ["import", "xls", "a.xls"],
        "kb: argument source: invalid choice: 'xls' (choose from 'wxr', 'html', 'pdf', 'csv')"
        " (see `kb import --help`)",
    ),
    (
        ["import", "csv", "{file}", "--map", "nonsense"],
        "kb: argument --map: 'nonsense': write FIELD=COLUMN, e.g. question=Q"
        " (see `kb import --help`)",
    ),
    (
        ["import", "csv", "{file}", "--map", "q=Question"],
        "kb: argument --map: 'q' is not one of question, answer, topic, date, author"
        " (see `kb import --help`)",
    ),
    (["import", "pdf", "{file}", "--map", "question=Q"], "kb: --map is for `kb import csv` only"),
    (
        ["import", "csv", "{file}", "--article", "../x"],
        "kb: --article '../x' is not an article slug (lower-case letters, digits and '-', at "
        "most 100 characters); nothing was imported",
    ),
    (
        ["sync"],
        "kb: kb sync needs the site's address the first time: kb sync https://example.org",
    ),
    (
        ["sync", "--timeout", "0"],
        "kb: argument --timeout: 0 must be more than 0 and at most 600 seconds"
        " (see `kb sync --help`)",
    ),
]


@pytest.mark.parametrize(("argv", "line"), USAGE, ids=[" ".join(a) or "(none)" for a, _ in USAGE])
def test_usage_errors_are_one_exact_line_and_exit_2(where, capsys, argv, line):
    code, out, err = kb(_fill(argv, where), capsys)
    assert (code, out, err) == (2, "", _fill([line], where)[0] + "\n")


# -- what the library refuses: exit 1 ----------------------------------------------------------
def _write(where: dict, name: str, text: str) -> str:
    path = where["tmp"] / name
    path.write_text(text, "utf-8")
    return str(path)


REFUSED = [
    (["search", "hello", "--index", "{none}"], "kb: {none}: no index yet; run `kb build` first"),
    (["similar", "c-404", "--index", "{none}"], "kb: {none}: no index yet; run `kb build` first"),
    (["tags", "--index", "{none}"], "kb: {none}: no index yet; run `kb build` first"),
    (
        ["browse", "--tag", "affair", "--index", "{none}"],
        "kb: {none}: no index yet; run `kb build` first",
    ),
    (["faq", "--index", "{none}"], "kb: {none}: no index yet; run `kb build` first"),
    (
        ["eval", "{judgments}", "--index", "{none}"],
        "kb: {none}: no index yet; run `kb build` first",
    ),
    (["similar", "c-404"], "kb: no comment or section with id 'c-404'"),
    (["browse", "--tag", "nosuchtag"], "kb: unknown tag 'nosuchtag'; `kb tags` lists them"),
    (["redact", "c-404"], "kb: no comment 'c-404' in {corpus}/comments"),
    (["eval", "{tmp}/nonexistent.yaml"], "kb: {tmp}/nonexistent.yaml: no such file"),
    (["eval", "{tmp}"], "kb: {tmp}: is a folder, not a judgments file"),
    (["faq", "--evaluate", "{tmp}/nonexistent.yaml"], "kb: {tmp}/nonexistent.yaml: no such file"),
    (
        ["faq", "--evaluate", "{tmp}"],
        "kb: {tmp}: is a folder, not a file of hand-labelled questions",
    ),
    (
        ["import", "wxr", "{tmp}/nonexistent.xml"],
        "kb: {tmp}/nonexistent.xml: no such file",
    ),
    (["sync", "ftp://x"], "kb: ftp://x: not a web address (write it as https://example.org)"),
    (
        ["check", "--corpus", "{tmp}/nowhere"],
        "kb: {tmp}/nowhere: no such corpus folder (set --corpus or KB_CORPUS)",
    ),
    (
        ["build", "--corpus", "{tmp}/nowhere"],
        "kb: {tmp}/nowhere: no such corpus folder (set --corpus or KB_CORPUS)",
    ),
]


def _id(case) -> str:
    return " ".join((case.values if hasattr(case, "values") else case)[0])


@pytest.mark.parametrize(("argv", "line"), REFUSED, ids=[_id(c) for c in REFUSED])
def test_refusals_are_one_exact_line_and_exit_1(where, capsys, argv, line):
    code, out, err = kb(_fill(argv, where), capsys)
    assert (code, out, err) == (1, "", _fill([line], where)[0] + "\n")
    assert not where["none"].exists()  # asking an index that is not there makes none


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("queries: 3\n", "{path}: expected `queries:` followed by a list"),
        ("[[[\n", "{path}: not a readable YAML file (while parsing a flow node)"),
        ("queries:\n  - list: advice\n", "{path}: query 1 has no `text`"),
        (
            "queries:\n  - text: x\n    list: nope\n",
            "{path}: query q1: `list` must be one of advice, stories, all",
        ),
        (
            "queries:\n  - text: wife\n    list: stories\n    relevant: [c-999999]\n",
            "judged id not in the index: q1: c-999999",
        ),
    ],
    ids=["not-a-list", "broken-yaml", "no-text", "bad-list", "unknown-id"],
)
def test_a_bad_judgments_file_is_named_in_one_line(where, capsys, text, line):
    path = _write(where, "judgments.yaml", text)
    code, out, err = kb(["eval", path], capsys)
    assert (code, out, err) == (1, "", "kb: " + line.format(path=path) + "\n")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("queries: []\n", "KeyError"), ("[[[\n", "ParserError"), ("questions: [3]\n", "TypeError")],
)
def test_a_bad_faq_labels_file_is_named_in_one_line(where, capsys, text, kind):
    path = _write(where, "faq.yaml", text)
    code, out, err = kb(["faq", "--evaluate", path], capsys)
    assert (code, out) == (1, "")
    assert err == (
        f"kb: {path}: expected `questions:` with comment, text and group for each ({kind})\n"
    )


def test_a_bad_corpus_is_listed_file_and_line_and_not_built(tmp_path, clean_environ, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, corpus)
    shutil.copy(BAD / "missing-parent.yaml", corpus / "comments" / "leaving.yaml")
    clean_environ.setenv("KB_CORPUS", str(corpus))
    clean_environ.setenv("KB_INDEX", str(tmp_path / "ix"))
    problem = "corpus/comments/leaving.yaml:7: comment c-000002: parent 'c-999999' does not exist"
    assert kb(["check"], capsys) == (1, problem + "\n", "1 problem(s) found\n")
    code, out, err = kb(["build"], capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        problem,
        "kb: not built: 1 problem(s) in the corpus; the index is unchanged",
    ]
    assert not list((tmp_path / "ix").glob("gen-*"))


def test_a_short_password_is_refused_in_one_line(where, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert kb(["password"], capsys) == (2, "", "kb: use a password of at least 8 characters\n")
