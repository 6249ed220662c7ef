"""Every form a WordPress export takes: WordPress.com's https namespaces, odd namespace
declarations and CDATA, several files with a bad one, captions, saved pages' comment
counts and slugs, and the PDF import's --article."""

import json
import re

import pytest

from kb.corpus.read import check_corpus, load_corpus
from kb.errors import UsageError
from kb.importers.run import import_files

from .conftest import run_kb
from .test_import_shared import FIXTURES, SHARED, corpus_text, make_site, run_import, snapshot

EXPORT = FIXTURES / "export.xml"
WPCOM = FIXTURES / "wordpress-com.xml"
ODD = FIXTURES / "odd-namespaces.xml"


def _contents(corpus):
    kb = load_corpus(corpus)
    return (
        {slug: (a.title, a.date, a.body) for slug, a in kb.articles.items()},
        {cid: (c.parent, c.author, c.body) for cid, c in kb.comments.items()},
    )


def test_a_wordpress_com_export_imports_and_says_where_it_comes_from(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    report = run_import(capsys, corpus, "wxr", str(WPCOM))
    assert report["formats"] == {str(WPCOM): "WordPress export 1.2 (WordPress.com)"}
    assert report["articles"]["added_slugs"] == ["stay-for-the-children", "leaving-quietly"]
    assert report["comments"] == {"seen": 4, "added": 3, "skipped": {"spam": 1}}
    kb = load_corpus(corpus)
    assert kb.site.author == "Marin Holt"
    reply = kb.comments["wp-210-3302"]
    assert reply.parent == "wp-210-3301" and reply.is_author
    body = kb.articles["stay-for-the-children"].body
    assert "there’s no one answer" in body and "shouting & slammed" in body
    assert "\n\nAn empty swing in the park near our old house.\n\n" in body  # the [caption]
    assert "The door, open." in kb.articles["leaving-quietly"].body  # the block editor's
    text = corpus_text(corpus)
    for private in (
        "harbour-mail.example",
        "203.0.113.77",
        "198.51.100.4",
        "2001:db8::1f",
        "noor-notes.example",
        "swing.jpg",
    ):
        assert private not in text
    assert check_corpus(corpus) == []


def test_the_text_report_names_the_export_kind(tmp_path, clean_environ, capsys):
    code, out, err = run_kb(["import", "wxr", str(WPCOM), "--corpus", str(tmp_path / "c")], capsys)
    assert code == 0, err
    assert out.splitlines()[0] == f"wxr: {WPCOM}: WordPress export 1.2 (WordPress.com)"


def _variant(tmp_path, name, old, new, rename_prefix=None):
    text = EXPORT.read_text()
    assert old in text
    text = text.replace(old, new)
    if rename_prefix:
        text = re.sub(r"(</?)wp:", rf"\1{rename_prefix}:", text)
    path = tmp_path / f"{name}.xml"
    path.write_text(text)
    return path


WP_NS = 'xmlns:wp="http://wordpress.org/export/1.2/"'


@pytest.mark.parametrize(
    ("name", "new", "rename"),
    [
        ("https", 'xmlns:wp="https://wordpress.org/export/1.2/"', None),
        ("www", 'xmlns:wp="http://www.wordpress.org/export/1.1/"', None),
        ("another-address", 'xmlns:wp="http://plugins.example/not-wordpress/"', None),
        ("never-declared", "", None),
        ("another-prefix", 'xmlns:wordpress="http://wordpress.org/export/1.2/"', "wordpress"),
    ],
)
def test_an_export_reads_the_same_however_its_namespace_is_declared(tmp_path, name, new, rename):
    import_files("wxr", [EXPORT], tmp_path / "plain")
    variant = _variant(tmp_path, name, WP_NS, new, rename)
    import_files("wxr", [variant], tmp_path / name)
    assert _contents(tmp_path / name) == _contents(tmp_path / "plain")


def test_every_published_post_of_an_oddly_written_export_imports(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    report = run_import(capsys, corpus, "wxr", str(ODD))
    assert sorted(report["articles"]["added_slugs"]) == sorted(
        [
            "two-prefixes",
            "shadowed-prefix",
            "default-namespace",
            "empty-namespace",
            "undeclared-prefix",
            "nested-cdata",
            "no-date-at-all",
        ]
    )
    assert report["articles"]["skipped"] == {"unpublished": 1}
    kb = load_corpus(corpus)
    assert kb.site.author == "Robin Vale"  # from an author element under a shadowed prefix
    assert kb.articles["two-prefixes"].date.isoformat() == "2019-04-01"
    assert kb.articles["empty-namespace"].body.strip() == "Split into three CDATA sections."
    assert kb.articles["undeclared-prefix"].body.strip().endswith("not a CDATA end: ]] >")
    assert kb.articles["nested-cdata"].body.strip() == "An old exporter wrapped this part twice."
    assert "has no date" in " ".join(report["notes"])
    assert list(kb.comments) == ["wp-1-11"]
    text = corpus_text(corpus)
    assert "lee.t@" not in text and "10.1.2.3" not in text and "plugin" not in text
    assert check_corpus(corpus) == []


def _published_posts(path):
    """Count an export's published posts by reading its items as plain text."""
    text = path.read_text(encoding="utf-8", errors="replace")
    count = 0
    for item in re.findall(r"<item>(.*?)</item>", text, re.S):
        kind = re.search(r"<wp:post_type>(?:<!\[CDATA\[)?(\w*)", item)
        status = re.search(r"<wp:status>(?:<!\[CDATA\[)?(\w*)", item)
        password = re.search(r"<wp:post_password>(?:<!\[CDATA\[)?([^<\]]+)", item)
        if (
            (kind.group(1) if kind else "post") in ("post", "")
            and (status.group(1) if status else "publish") in ("publish", "")
            and not password
        ):
            count += 1
    return count


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared WordPress fixtures are not present")
@pytest.mark.parametrize(
    "name",
    [
        "valid-wxr-1.0.xml",
        "valid-wxr-1.1.xml",
        "small-export.xml",
        "wxr-comprehensive.xml",
        "wxr-simple.xml",
        "crazy-cdata.xml",
        "crazy-cdata-escaped.xml",
    ],
)
def test_every_published_post_of_wordpress_own_test_exports_imports(tmp_path, capsys, name):
    corpus = make_site(tmp_path / "corpus")
    report = run_import(capsys, corpus, "wxr", str(SHARED / name))
    assert report["articles"]["added"] == _published_posts(SHARED / name) > 0
    assert report["formats"][str(SHARED / name)].startswith("WordPress export 1.")
    assert check_corpus(corpus) == []


def test_several_files_with_one_bad_import_the_good_ones_and_name_the_bad(
    tmp_path, clean_environ, capsys
):
    corpus = tmp_path / "corpus"
    bad = FIXTURES / "truncated.xml"
    argv = ["import", "wxr", str(EXPORT), str(bad), str(WPCOM), "--corpus", str(corpus)]
    code, out, err = run_kb([*argv, "--author", "Ada Reyes"], capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        f"kb: not imported: {bad}:83: not well-formed XML: the XML ends too early (a truncated "
        "export?) (column 38)"
    ]
    assert "articles: 4 added" in out
    assert {"when-she-leaves", "stay-for-the-children"} <= set(load_corpus(corpus).articles)


def test_files_that_are_all_bad_write_nothing(tmp_path):
    corpus = make_site(tmp_path / "corpus")
    before = snapshot(corpus)
    with pytest.raises(Exception, match="none of the 2 files could be read: .*truncated.xml:83"):
        import_files("wxr", [FIXTURES / "truncated.xml", FIXTURES / "not-wxr.xml"], corpus)
    assert snapshot(corpus) == before


def test_a_saved_page_says_when_it_holds_fewer_comments_than_it_announces(tmp_path, capsys):
    page = tmp_path / "when-she-leaves.html"
    page.write_text(
        (FIXTURES / "when-she-leaves.html")
        .read_text()
        .replace(">7 thoughts on", ">342 Comments on")
    )
    report = run_import(capsys, make_site(tmp_path / "c"), "html", str(page))
    assert (
        f"{page}: page shows 4 of 342 comments: save and import the other comment pages, "
        "or use the export" in report["notes"]
    )
    both = run_import(
        capsys,
        make_site(tmp_path / "d"),
        "html",
        str(FIXTURES / "when-she-leaves.html"),
        str(FIXTURES / "when-she-leaves-comment-page-2.html"),
    )
    assert not [n for n in both["notes"] if "page shows" in n]


@pytest.mark.parametrize(
    ("permalink", "slug"),
    [
        ("https://heartwise.example/archives/123", "texting-after-a-breakup"),
        ("https://heartwise.example/?p=123", "texting-after-a-breakup"),
        ("https://heartwise.example/2012/06/texting-ex/comment-page-2/", "texting-ex"),
        ("https://heartwise.example/blog/texting-ex.html", "texting-ex"),
    ],
)
def test_a_saved_page_is_named_by_its_own_slug(tmp_path, capsys, permalink, slug):
    page = tmp_path / "page.html"
    page.write_text(
        (FIXTURES / "texting-after-a-breakup.html")
        .read_text()
        .replace("https://heartwise.example/2012/06/texting-after-a-breakup/", permalink)
    )
    report = run_import(capsys, make_site(tmp_path / "c"), "html", str(page))
    assert report["articles"]["added_slugs"] == [slug]


def test_an_export_post_without_a_slug_takes_its_permalink_s(tmp_path):
    export = tmp_path / "no-slug.xml"
    export.write_text(EXPORT.read_text().replace("<![CDATA[when-she-leaves]]>", ""))
    report = import_files("wxr", [export], tmp_path / "c")
    assert "when-she-leaves" in report.articles_added  # from .../2010/03/when-she-leaves/


def test_pdf_article_missing_or_mistyped_lists_the_slugs(tmp_path, clean_environ, capsys):
    corpus = tmp_path / "corpus"
    import_files("wxr", [EXPORT], corpus)
    archive = FIXTURES / "archive.pdf"
    with pytest.raises(
        UsageError,
        match=r"needs --article SLUG .*: one of giving-space, "
        r"when-she-leaves$",
    ):
        import_files("pdf", [archive], corpus)
    with pytest.raises(
        UsageError,
        match=r"--article when-she-leave: no such article .*did you "
        r"mean when-she-leaves\?",
    ):
        import_files("pdf", [archive], corpus, article="when-she-leave")
    code, out, err = run_kb(["import", "pdf", str(archive), "--corpus", str(corpus)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "giving-space, when-she-leaves" in err
    argv = ["import", "pdf", str(archive), "--article", "when-she-leaves", "--corpus", str(corpus)]
    code, out, err = run_kb([*argv, "--json"], capsys)
    data = json.loads(out)
    assert data["articles"]["existing"] == 1
