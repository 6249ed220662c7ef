"""Importing a WordPress export: articles, approved comments in threads, nothing private."""

import re
import time

import pytest
import yaml

from kb.corpus.read import check_corpus, load_corpus
from kb.errors import ImportFormatError
from kb.importers.run import import_files

from .test_import_shared import FIXTURES, SHARED, corpus_text, run_import, snapshot

EXPORT = FIXTURES / "export.xml"


@pytest.fixture
def imported(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    report = run_import(capsys, corpus, "wxr", str(EXPORT))
    return corpus, report


def test_posts_become_articles_and_every_item_is_accounted_for(imported):
    corpus, report = imported
    assert report["articles"] == {
        "seen": 5,
        "added": 2,
        "existing": 0,
        "added_slugs": ["when-she-leaves", "giving-space"],
        "skipped": {"page": 1, "attachment": 1, "unpublished": 1},
    }
    assert report["comments"] == {
        "seen": 12,
        "added": 7,
        "skipped": {"spam": 1, "pending": 1, "pingback": 1, "trash": 1, "post-not-imported": 1},
    }
    assert check_corpus(corpus) == []


def test_site_and_tags_are_created_from_the_export(imported):
    corpus, report = imported
    site = yaml.safe_load((corpus / "site.yaml").read_text())
    assert site == {
        "title": "Heartwise Advice",
        "author": "Ada Reyes",
        "author_aliases": ["ada"],
        "base_url": "https://heartwise.example",
    }
    assert report["site_created"] is True
    kb = load_corpus(corpus)
    assert kb.tags["no-contact"].label == "No contact"
    assert kb.articles["when-she-leaves"].tags == ("breakups", "no-contact")
    assert kb.articles["giving-space"].tags == ("space",)  # "Uncategorized" is not a tag


def test_post_html_becomes_clean_markdown_with_sections(imported):
    corpus, _ = imported
    article = load_corpus(corpus).articles["when-she-leaves"]
    assert [s.heading for s in article.sections][1:] == [
        "Why calling makes it worse",
        "What to do instead",
    ]
    body = article.body
    assert "## Why calling makes it worse" in body  # <h3> became the top section level
    assert "haven’t heard" in body and "quiet she asked for & keep" in body
    assert "talk…" in body
    assert "[caption" not in body and "door.jpg" not in body
    assert "\n\nA door that closed.\n\n" in body  # a classic-editor caption is visible text
    assert "- Sleep, eat and walk every day." in body and "**don't**" in body
    assert "<!--" not in body and "<p>" not in body
    assert article.summary == "What to do, and not do, in the first weeks after a breakup."
    space = load_corpus(corpus).articles["giving-space"]
    assert [s.heading for s in space.sections] == [
        "Giving each other space",
        "How long is long enough",
    ]


def test_threads_are_rebuilt_and_author_replies_recognised(imported):
    corpus, _ = imported
    kb = load_corpus(corpus)
    assert kb.comments["wp-12-102"].parent == "wp-12-101"
    assert kb.comments["wp-12-103"].parent == "wp-12-102"
    assert kb.thread_root("wp-12-103") == "wp-12-101"
    reply = kb.comments["wp-12-102"]
    assert reply.is_author and reply.author == "Ada Reyes"  # signed "Ada", user id of the author
    assert kb.comments["wp-14-202"].is_author
    assert not kb.comments["wp-12-101"].is_author
    # answering a pending comment that is not imported, it starts its own thread
    assert kb.comments["wp-12-109"].parent is None


def test_only_approved_comments_arrive(imported):
    corpus, _ = imported
    text = corpus_text(corpus)
    for gone in (
        "Cheap pills",
        "waiting for moderation",
        "Deleted by the author",
        "a good read on breakups",
        "Thank you for this site",
        "jealousy",
    ):
        assert gone not in text


def test_no_email_ip_or_commenter_url_reaches_the_corpus(imported):
    corpus, _ = imported
    text = corpus_text(corpus)
    assert not re.search(r"[\w.]+@[\w-]+\.\w+", text)
    for private in (
        "192.168.14.20",
        "203.0.113.9",
        "2001:db8",
        "10.0.0.7",
        "sams-garden",
        "priya-writes",
        "mailbox.example",
    ):
        assert private not in text
    kb = load_corpus(corpus)
    assert "[e-mail removed]" in kb.comments["wp-12-101"].body
    assert "[IP removed]" in kb.comments["wp-12-108"].body
    assert "my own blog" in kb.comments["wp-12-108"].body


def test_importing_again_adds_nothing_and_keeps_hand_edits(imported, capsys):
    corpus, _ = imported
    article = corpus / "articles" / "when-she-leaves.md"
    article.write_text(
        article.read_text()
        .replace("tags: [breakups, no-contact]", "tags: [breakups]  # hand-picked")
        .replace("The first weeks", "The very first weeks")
    )
    comments = corpus / "comments" / "when-she-leaves.yaml"
    comments.write_text(
        "# checked by hand in 2024\n"
        + comments.read_text().replace("Update: I stopped.", "Update: I finally stopped.")
    )
    before = snapshot(corpus)
    report = run_import(capsys, corpus, "wxr", str(EXPORT))
    assert report["articles"]["added"] == 0 and report["articles"]["existing"] == 2
    assert report["comments"]["added"] == 0
    assert report["comments"]["skipped"]["duplicate"] == 7
    assert report["written"] == []
    assert snapshot(corpus) == before


def test_new_comments_are_appended_as_text_after_hand_edits(imported, tmp_path):
    corpus, _ = imported
    comments = corpus / "comments" / "giving-space.yaml"
    original = comments.read_text()
    comments.write_text(
        "# my notes stay\n"
        + original.replace('  - id: "wp-14-202"', '  # Ada\'s answer below\n  - id: "wp-14-202"')
    )
    export = tmp_path / "later.xml"
    export.write_text(
        EXPORT.read_text()
        .replace("<wp:comment_id>202</wp:comment_id>", "<wp:comment_id>203</wp:comment_id>")
        .replace("Jo, a few weeks", "Jo, two or three weeks")
    )
    edited = comments.read_text()
    report = import_files("wxr", [export], corpus)
    assert report.comments_added == 1
    text = comments.read_text()
    assert text.startswith(edited)
    assert text[len(edited) :].startswith('  - id: "wp-14-203"')
    assert check_corpus(corpus) == []


def test_dry_run_reports_and_writes_nothing(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    report = run_import(capsys, corpus, "wxr", str(EXPORT), "--dry-run")
    assert report["dry_run"] is True and report["comments"]["added"] == 7
    assert not corpus.exists()


def test_pages_are_imported_when_asked(tmp_path, capsys):
    report = run_import(capsys, tmp_path / "c", "wxr", str(EXPORT), "--include-pages")
    assert "about" in report["articles"]["added_slugs"]
    assert report["comments"]["added"] == 8


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.xml", "truncated.xml:83: not well-formed XML: the XML ends too early"),
        ("latin1.xml", "latin1.xml:36: not UTF-8 text (byte 0xe9)"),
        ("not-wxr.xml", "not-wxr.xml:1: not a WordPress export: no <wp:wxr_version>"),
        ("empty.xml", "empty.xml: empty file"),
        ("xxe.xml", "xxe.xml:2: refused: the file declares XML entities"),
        ("billion-laughs.xml", "billion-laughs.xml:3: refused: the file declares XML entities"),
        ("no-such-file.xml", "no-such-file.xml: no such file"),
    ],
)
def test_bad_exports_give_one_line_and_leave_the_corpus_alone(tmp_path, name, message):
    corpus = tmp_path / "corpus"
    import_files("wxr", [EXPORT], corpus)
    before = snapshot(corpus)
    started = time.monotonic()
    with pytest.raises(ImportFormatError) as err:
        import_files("wxr", [FIXTURES / name], corpus)
    assert time.monotonic() - started < 5
    assert message in str(err.value) and "\n" not in str(err.value)
    assert snapshot(corpus) == before


def test_an_external_entity_is_never_read(tmp_path):
    with pytest.raises(ImportFormatError):
        import_files("wxr", [FIXTURES / "xxe.xml"], tmp_path / "c")
    assert not (tmp_path / "c").exists()


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared WordPress fixtures are not present")
def test_real_wordpress_exports_import_cleanly(tmp_path):
    corpus = tmp_path / "corpus"
    for name in (
        "valid-wxr-1.0.xml",
        "valid-wxr-1.1.xml",
        "small-export.xml",
        "wxr-comprehensive.xml",
        "crazy-cdata.xml",
        "crazy-cdata-escaped.xml",
    ):
        import_files("wxr", [SHARED / name], corpus)
    assert check_corpus(corpus) == []
    text = corpus_text(corpus)
    assert "commenter@example.com" not in text and "127.0.0.1" not in text
    kb = load_corpus(corpus)
    assert "Great post!" in [c.body for c in kb.comments.values()]
    assert "Tagged in roar, news" in kb.articles["alpha-post"].body
    assert set(kb.articles["alpha-post"].tags) == {"alpha", "news", "roar"}


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared WordPress fixtures are not present")
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("malformed.xml", "malformed.xml:90: not well-formed XML: mismatched tag"),
        (
            "malformed-simple.xml",
            "malformed-simple.xml:14: not well-formed XML: the XML ends too early",
        ),
        ("missing-version-tag.xml", "missing-version-tag.xml:1: not a WordPress export"),
    ],
)
def test_real_broken_exports_are_refused_with_their_line(tmp_path, name, message):
    with pytest.raises(ImportFormatError, match=re.escape(message)):
        import_files("wxr", [SHARED / name], tmp_path / "c")


def test_posts_sharing_a_title_stay_two_articles(tmp_path):
    export = tmp_path / "same-title.xml"
    export.write_text(
        EXPORT.read_text().replace(
            "<![CDATA[Giving each other space]]>", "<![CDATA[When she leaves: the first weeks]]>"
        )
    )
    corpus = tmp_path / "corpus"
    assert import_files("wxr", [export], corpus).articles_added == [
        "when-she-leaves",
        "giving-space",
    ]
    again = import_files("wxr", [export], corpus)
    assert again.articles_added == [] and again.articles_existing == [
        "when-she-leaves",
        "giving-space",
    ]


def test_a_commenter_who_signed_with_an_email_address_becomes_anonymous(tmp_path):
    export = tmp_path / "signed.xml"
    export.write_text(
        EXPORT.read_text()
        .replace("<![CDATA[Jo]]>", "<![CDATA[jo.m@mailbox.example]]>")
        .replace("<![CDATA[Priya]]>", "<![CDATA[Priya (http://priya-writes.example)]]>")
    )
    corpus = tmp_path / "corpus"
    import_files("wxr", [export], corpus)
    kb = load_corpus(corpus)
    assert kb.comments["wp-14-201"].author == "Anonymous"
    assert kb.comments["wp-12-108"].author == "Priya"
    assert "mailbox.example" not in corpus_text(corpus)
