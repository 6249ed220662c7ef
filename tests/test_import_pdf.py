"""Importing comment archives printed to PDF: threads from indents, page breaks, bad pages."""

import re

import pytest

from kb.corpus.read import check_corpus, load_corpus
from kb.errors import ImportFormatError, UsageError
from kb.importers.pdf import read_archive
from kb.importers.run import import_files

from .test_import_shared import FIXTURES, corpus_text, make_site, run_import, snapshot

ARCHIVE = FIXTURES / "archive.pdf"


def test_comments_and_threads_are_read_from_the_printed_archive():
    batch = read_archive(ARCHIVE, "when-she-leaves")
    assert batch.articles[0].title == "When she leaves: the first weeks"
    by_author = [(c.author, c.date.isoformat()) for c in batch.comments]
    assert by_author[:3] == [
        ("Sam", "2010-03-02T10:15:00"),
        ("Ada", "2010-03-02T18:40:00"),
        ("Sam", "2010-04-20T08:05:00"),
    ]
    assert len(batch.comments) == 10 and batch.skipped == []
    ids = {c.author + c.date.date().isoformat(): c for c in batch.comments}
    assert ids["Ada2010-03-02"].parent == ids["Sam2010-03-02"].id
    assert ids["Sam2010-04-20"].parent == ids["Ada2010-03-02"].id
    assert ids["Priya2010-03-09"].parent is None
    assert ids["Marco2013-03-30"].parent == ids["Ada Reyes2013-02-04"].id


def test_headers_footers_and_reply_links_are_gone_and_page_breaks_joined():
    batch = read_archive(ARCHIVE, "when-she-leaves")
    bodies = "\n".join(c.body for c in batch.comments)
    for gone in (
        "comment archive",
        "Page 1 of 2",
        "Page 2",
        "heartwise.example/2010",
        "Reply\n",
        "10 comments",
    ):
        assert gone not in bodies
    marco = next(c for c in batch.comments if c.author == "Marco")
    # the page break falls inside the second paragraph; it reads as one
    assert (
        "but I still write a letter every night that I do not send, like you suggest." in marco.body
    )
    assert marco.body.count("\n\n") == 2
    assert marco.where.endswith("page 1")


def test_an_archive_overlapping_the_export_adds_no_duplicates(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    import_files("wxr", [FIXTURES / "export.xml"], corpus)
    import_files("html", [FIXTURES / "when-she-leaves-comment-page-2.html"], corpus)
    report = run_import(capsys, corpus, "pdf", str(ARCHIVE), "--article", "when-she-leaves")
    assert report["articles"] == {
        "seen": 1,
        "added": 0,
        "existing": 1,
        "added_slugs": [],
        "skipped": {},
    }
    assert report["comments"] == {"seen": 10, "added": 4, "skipped": {"duplicate": 6}}
    kb = load_corpus(corpus)
    marco = next(c for c in kb.comments.values() if c.author == "Marco" and c.parent is None)
    reply = next(c for c in kb.comments.values() if c.parent == marco.id)
    assert reply.is_author
    assert "sam.private" not in corpus_text(corpus)
    assert check_corpus(corpus) == []
    before = snapshot(corpus)
    again = run_import(capsys, corpus, "pdf", str(ARCHIVE), "--article", "when-she-leaves")
    assert again["comments"] == {"seen": 10, "added": 0, "skipped": {"duplicate": 10}}
    assert snapshot(corpus) == before


def test_an_archive_of_a_new_article_creates_it_from_the_title_line(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    report = run_import(
        capsys, corpus, "pdf", str(FIXTURES / "archive-new-article.pdf"), "--article", "moving-on"
    )
    assert report["articles"]["added_slugs"] == ["moving-on"]
    kb = load_corpus(corpus)
    assert kb.articles["moving-on"].title == "Moving on after divorce"
    assert kb.articles["moving-on"].date.isoformat() == "2015-01-12"
    replies = [c for c in kb.comments.values() if c.is_author]
    assert len(replies) == 1 and replies[0].author == "Ada Reyes"  # the name in site.yaml


def test_pages_without_text_and_broken_comments_are_reported_by_page(tmp_path, capsys):
    corpus = make_site(tmp_path / "corpus")
    report = run_import(
        capsys, corpus, "pdf", str(FIXTURES / "archive-missing-page.pdf"), "--article", "moving-on"
    )
    assert report["comments"] == {"seen": 3, "added": 1, "skipped": {"unparseable": 2}}
    details = "\n".join(report["details"])
    assert "archive-missing-page.pdf: page 2: comment skipped (unparseable): no text" in details
    assert "page 1: comment skipped (unparseable): 'Gil says:' is not followed by a date" in details


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("scanned.pdf", "scanned.pdf: no text layer on any page"),
        ("not-a-pdf.pdf", "not-a-pdf.pdf: not a PDF"),
        ("truncated.pdf", "truncated.pdf: damaged PDF"),
        ("empty.csv", "empty.csv: empty file"),
        ("export.xml", "export.xml: not a PDF"),
    ],
)
def test_bad_archives_give_one_line_and_change_nothing(tmp_path, name, message, capsys):
    corpus = make_site(tmp_path / "corpus")
    before = snapshot(corpus)
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        import_files("pdf", [FIXTURES / name], corpus, article="x")
    assert capsys.readouterr().err == ""
    assert snapshot(corpus) == before


def test_the_article_must_be_named(tmp_path):
    with pytest.raises(UsageError, match="--article SLUG"):
        import_files("pdf", [ARCHIVE], make_site(tmp_path / "c"))


def test_the_committed_pdfs_are_what_the_script_makes(tmp_path):
    import runpy

    runpy.run_path(str(FIXTURES / "make_pdfs.py"))["make_archive"](tmp_path / "a.pdf")
    fresh = read_archive(tmp_path / "a.pdf", "x")
    committed = read_archive(ARCHIVE, "x")
    assert [(c.author, c.body) for c in fresh.comments] == [
        (c.author, c.body) for c in committed.comments
    ]
