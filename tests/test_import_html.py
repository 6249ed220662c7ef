"""Importing pages saved from the site: entry content, nested comments, paged comment lists."""

import re

import pytest

from kb.corpus.read import check_corpus, load_corpus
from kb.errors import ImportFormatError
from kb.importers.run import import_files

from .test_import_shared import FIXTURES, corpus_text, make_site, run_import, snapshot

PAGE_1 = FIXTURES / "when-she-leaves.html"
PAGE_2 = FIXTURES / "when-she-leaves-comment-page-2.html"
TEXTING = FIXTURES / "texting-after-a-breakup.html"


def test_a_page_of_an_exported_article_is_that_article(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    import_files("wxr", [FIXTURES / "export.xml"], corpus)
    report = run_import(capsys, corpus, "html", str(PAGE_1), str(PAGE_2))
    assert report["articles"]["added"] == 0 and report["articles"]["existing"] == 1
    assert report["comments"] == {
        "seen": 8,
        "added": 2,
        "skipped": {"duplicate": 4, "pingback": 1, "pending": 1},
    }
    kb = load_corpus(corpus)
    assert len(kb.articles) == 2
    assert kb.comments["wp-12-111"].parent == "wp-12-110"
    assert kb.comments["wp-12-111"].is_author
    assert check_corpus(corpus) == []


def test_pages_alone_make_articles_with_threads_from_the_nesting(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    report = run_import(capsys, corpus, "html", str(PAGE_2), str(PAGE_1), str(TEXTING))
    assert sorted(report["articles"]["added_slugs"]) == [
        "texting-after-a-breakup",
        "when-she-leaves",
    ]
    kb = load_corpus(corpus)
    leaves = kb.articles["when-she-leaves"]
    assert leaves.date.isoformat() == "2010-03-01"
    assert leaves.tags == ("breakups", "no-contact")
    assert leaves.url == "https://heartwise.example/2010/03/when-she-leaves/"
    assert [s.heading for s in leaves.sections][1:] == [
        "Why calling makes it worse",
        "What to do instead",
    ]
    # both comment pages merge into one thread list, page 1 first
    ids = [c.id for c in kb.comments_of("when-she-leaves")]
    assert ids == ["wp-12-101", "wp-12-102", "wp-12-103", "wp-12-108", "wp-12-110", "wp-12-111"]
    assert kb.comments["wp-12-103"].parent == "wp-12-102"
    assert kb.comments["wp-12-102"].is_author and kb.comments["wp-12-102"].author == "Ada Reyes"
    assert kb.comments["wp-12-101"].date.isoformat() == "2010-03-02T10:15:00"
    texting = kb.articles["texting-after-a-breakup"]
    assert texting.date.isoformat() == "2012-06-02"
    assert kb.comments["wp-20-402"].parent == "wp-20-401"
    assert kb.comments["wp-20-401"].date.isoformat() == "2012-06-03T21:14:00"
    assert check_corpus(corpus) == []


def test_sidebars_widgets_forms_and_private_data_stay_out(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    run_import(capsys, corpus, "html", str(PAGE_1), str(PAGE_2), str(TEXTING))
    text = corpus_text(corpus)
    for gone in (
        "Subscribe for weekly advice",
        "Recent Comments",
        "Leave a Reply",
        "Share this",
        "Post Comment",
        "Log in",
        "Newer Comments",
        "sams-garden",
        "mailbox.example",
        "10.0.0.7",
        "avatars.example",
        "Still waiting to hear back",
        "Pingback",
    ):
        assert gone not in text, gone
    assert "says:" not in text


def test_saved_pages_import_once(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    run_import(capsys, corpus, "html", str(PAGE_1), str(PAGE_2))
    before = snapshot(corpus)
    report = run_import(capsys, corpus, "html", str(PAGE_1), str(PAGE_2))
    assert report["comments"]["added"] == 0 and report["articles"]["added"] == 0
    assert snapshot(corpus) == before


def test_the_author_is_found_in_the_pages_when_there_is_no_site_yet(tmp_path):
    corpus = tmp_path / "corpus"
    import_files("html", [PAGE_1], corpus)
    assert "author: Ada" in (corpus / "site.yaml").read_text()
    assert load_corpus(corpus).comments["wp-12-102"].is_author


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no-article.html", "no-article.html: no article found"),
        ("latin1.html", "latin1.html:1: not UTF-8 text (byte 0xe9)"),
        ("empty.csv", "empty.csv: empty file"),
    ],
)
def test_bad_pages_give_one_line(tmp_path, name, message):
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        import_files("html", [FIXTURES / name], make_site(tmp_path / "c"))


def test_a_later_comment_page_alone_is_recognised_as_the_exported_article(tmp_path):
    corpus = tmp_path / "corpus"
    import_files("wxr", [FIXTURES / "export.xml"], corpus)
    report = import_files("html", [PAGE_2], corpus)
    assert report.articles_added == [] and report.articles_existing == ["when-she-leaves"]
    assert report.comments_added == 2
