"""Importing question-and-answer tables with a column mapping."""

import argparse
import re

import pytest

from kb.corpus.read import check_corpus, load_corpus
from kb.errors import ImportFormatError, UsageError
from kb.importers.command import parse_mapping
from kb.importers.run import import_files

from .test_import_shared import FIXTURES, make_site, run_import, snapshot

QUESTIONS = FIXTURES / "questions.csv"
MAP = "question=Q,answer=A,topic=Topic,date=Asked,author=Name"


def test_rows_become_questions_with_the_authors_answers(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    report = run_import(capsys, corpus, "csv", str(QUESTIONS), "--map", MAP)
    assert sorted(report["articles"]["added_slugs"]) == ["breaks", "no-contact"]
    assert report["comments"] == {"seen": 9, "added": 5, "skipped": {"unparseable": 4}}
    assert any("questions.csv:5" in d and "sometime in May" in d for d in report["details"])
    kb = load_corpus(corpus)
    breaks = kb.comments_of("breaks")
    assert [c.author for c in breaks] == ["Tess", "Ada Reyes", "Anonymous"]
    assert breaks[1].parent == breaks[0].id and breaks[1].is_author
    assert breaks[0].date.isoformat() == "2016-02-11T00:00:00"
    assert kb.articles["breaks"].title == "Breaks"
    assert check_corpus(corpus) == []
    before = snapshot(corpus)
    again = run_import(capsys, corpus, "csv", str(QUESTIONS), "--map", MAP)
    assert again["comments"]["added"] == 0 and snapshot(corpus) == before


def test_columns_named_like_the_fields_need_no_mapping_and_article_groups_all(tmp_path):
    corpus = make_site(tmp_path / "corpus")
    report = import_files(
        "csv",
        [FIXTURES / "semicolon.csv"],
        corpus,
        article="friends",
        mapping={"answer": "Reply", "date": "When"},
    )
    assert report.articles_added == ["friends"] and report.comments_added == 2
    assert load_corpus(corpus).articles["friends"].title == "Friends"


@pytest.mark.parametrize(
    ("name", "mapping", "error", "message"),
    [
        ("latin1.csv", {}, ImportFormatError, "latin1.csv:2: not UTF-8 text"),
        ("empty.csv", {}, ImportFormatError, "empty.csv: empty file"),
        ("semicolon.csv", {}, ImportFormatError, "semicolon.csv:1: no date column"),
        (
            "questions.csv",
            {"question": "Frage"},
            ImportFormatError,
            "no column 'Frage' for question",
        ),
        ("semicolon.csv", {"date": "When"}, UsageError, "no topic column"),
    ],
)
def test_bad_tables_give_one_line(tmp_path, name, mapping, error, message):
    with pytest.raises(error, match=re.escape(message)):
        import_files("csv", [FIXTURES / name], make_site(tmp_path / "c"), mapping=mapping)


def test_the_mapping_flag_is_checked():
    assert parse_mapping("question=Q, answer = A") == {"question": "Q", "answer": "A"}
    for bad in ("question", "asker=Name", "question="):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_mapping(bad)
