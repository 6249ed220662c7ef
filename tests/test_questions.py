import datetime as dt
import json
import re
import subprocess

import pytest

from kb import questions as Q
from kb import searchlog
from kb.search import KnowledgeBase

from .conftest import FIXTURE_CORPUS, HERE, kb_command


def test_extracts_explicit_and_implicit_questions():
    text = (
        "My wife left in May. Should I text her or wait?? I don't know what to do anymore. "
        "Is it normal that I can't sleep. Right? Thanks so much for this site, is it ok?"
    )
    assert Q.extract(text) == [
        "Should I text her or wait??",
        "I don't know what to do anymore.",
        "Is it normal that I can't sleep.",
    ]


def test_long_questions_are_cut_to_a_short_unit():
    q = Q.extract("Should I " + "really " * 80 + "call?")[0]
    assert len(q) <= Q.MAX_CHARS and q.endswith("…")


def test_concepts_fold_paraphrases_together():
    a = set(Q.question_terms("should I call her?"))
    b = set(Q.question_terms("is it ok to text him first?"))
    c = set(Q.question_terms("do I reach out or wait?"))
    assert "@contact" in a & b & c


def _q(i, text, author="a", year=2020, answered=False):
    return Q.Question(f"c-{i}", text, author, dt.datetime(year, 1, 1), "x", answered)


PARAPHRASES = [
    "should I call her?",
    "is it ok to text him first?",
    "do I reach out or wait for her to text?",
    "should I message her now?",
    "how long do I wait before contacting him?",
    "what do we tell the kids?",
    "how do we explain the divorce to our children?",
    "what should we say to the kids about the separation?",
    "how do I tell my son?",
]


def test_grouping_is_deterministic_and_keeps_paraphrases_together():
    qs = [_q(i, t) for i, t in enumerate(PARAPHRASES)]
    first = Q.group(qs, k=2)
    again = Q.group(list(qs), k=2)
    assert [g.comment_ids for g in first] == [g.comment_ids for g in again]
    kids = next(g for g in first if "c-5" in g.comment_ids)
    assert {"c-5", "c-6", "c-7"} <= set(kids.comment_ids)
    assert {"c-0", "c-1", "c-2"}.isdisjoint(kids.comment_ids)


def test_group_statistics():
    g = Q.Group(
        1,
        "should I call?",
        ["contact"],
        [
            _q(1, "should I call?", "Ann", 2010, True),
            _q(1, "or text?", "Ann", 2010, True),
            _q(2, "do I ring him", "bob", 2012),
            _q(3, "call her?", "BOB", 2015, True),
        ],
    )
    s = g.stats()
    assert s["count"] == 3 and s["readers"] == 2 and s["answered"] == 2
    assert (s["first_seen"], s["last_seen"]) == ("2010-01-01", "2015-01-01")
    assert s["trend"] == {"2010": 1, "2012": 1, "2015": 1}


def test_review_reports_groups_with_the_contract_fields(kb):
    report = Q.review(kb)
    assert report["questions"] >= 3
    for g in report["groups"]:
        assert {
            "representative",
            "count",
            "readers",
            "comment_ids",
            "first_seen",
            "last_seen",
            "answered",
            "covered_by",
            "score",
        } <= set(g)
        assert isinstance(g["count"], int) and g["count"] == len(g["comment_ids"])


def test_author_questions_are_not_reader_questions(kb):
    ids = {q.comment for q in Q.collect(kb)}
    assert "c-000002" not in ids and "c-000011" not in ids  # the author's replies
    assert "c-000010" in ids


def test_coverage_finds_the_section_that_answers(kb):
    g = Q.Group(
        1,
        "How long should I wait when she needs space?",
        ["space", "long", "wait"],
        [_q(1, "How long should I wait when she needs space?")],
    )
    Q.cover(kb, [g])
    assert g.score > 0
    assert g.covered_by in {"space#how-long-space-lasts", "space#what-space-means"}


def test_weak_searches_are_recorded_with_text_only(kb, tmp_path):
    kb_dir = tmp_path / "ix"
    weak = kb.search("zebra quantum")
    strong = kb.search("my wife moved out after twelve years and says she needs space")
    assert searchlog.record(kb_dir, weak)
    assert searchlog.record(kb_dir, weak)
    assert not searchlog.record(kb_dir, strong)
    raw = (kb_dir / searchlog.LOG).read_text()
    assert json.loads(raw) == {"searches": {"zebra quantum": 2}}


def test_review_includes_searches_that_found_little(built_index, tmp_path):
    import shutil

    copy = tmp_path / "ix"
    shutil.copytree(built_index, copy, symlinks=True)
    kb = KnowledgeBase(copy)
    for text in ("zebra quantum", "zebra quantum", "alimony lawyer fees"):
        searchlog.record(copy, kb.search(text))
    searches = Q.review(kb)["searches"]
    assert sum(s["count"] for s in searches) == 3
    assert any("zebra quantum" in s["searches"] for s in searches)


def test_markdown_draft_links_articles_and_replies(kb):
    draft = Q.markdown_draft(Q.review(kb), kb, "https://example.org")
    assert draft.startswith("# Frequently asked questions")
    assert "Readers put it like this:" in draft
    links = re.findall(r"\]\(([^)]*)\)", draft)
    assert links and all(u.startswith("https://example.org/") for u in links)
    # the original posts, never kb's own pages glued onto the site's address
    assert not [u for u in links if "?article=" in u or "?comment=" in u]


def test_original_addresses():
    from kb.origin import article_url, comment_url

    assert article_url("leaving", "", "https://site.example/") == "https://site.example/leaving/"
    assert (
        article_url("x", "https://site.example/2013/06/x/", "") == "https://site.example/2013/06/x/"
    )
    assert article_url("x", "javascript:alert(1)", "") == ""
    assert article_url("x") == ""
    assert (
        comment_url("wp-12-345", "x", "https://s.example/p/") == "https://s.example/p/#comment-345"
    )
    assert comment_url("c-000001", "x", "", "https://s.example") == "https://s.example/x/"


HOSTILE = [
    "<img src=x onerror=alert(1)> why does he ignore me?",
    "![tracker](https://evil.example/p.png) is it over?",
    "[click here](https://evil.example/login) to know",
    "<script>alert(1)</script>\n\n# heading\n\n    indented code",
    "**bold** _it_ <a href='javascript:alert(1)'>x</a> ) ] > quote",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_the_faq_draft_escapes_everything_readers_wrote(kb, text):
    """Rendered as Markdown, as the author's site would, the draft holds only our own links."""
    import markdown

    group = {
        "representative": text,
        "count": 2,
        "readers": 2,
        "first_seen": "2020-01-01",
        "last_seen": "2021-01-01",
        "answered": 1,
        "examples": [text, text],
        "covered_by": "leaving#x",
        "covered_title": text,
        "comment_ids": [],
    }
    draft = Q.markdown_draft({"groups": [group]}, kb, "https://example.org")
    page = markdown.markdown(draft)
    assert "<img" not in page and "<script" not in page and "<pre" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs == ["https://example.org/leaving/"]  # the original post, not a kb page
    assert page.count("<h2>") == 1 and page.count("<h1>") == 1
    assert "&lt;" in page or "<" not in text


@pytest.mark.slow  # grouping the 300 reader comments of the embedded corpus
def test_grouping_quality_on_the_embedded_corpus(embedded_index):
    import yaml

    judged = yaml.safe_load((HERE / "eval" / "faq.yaml").read_text())["questions"]
    report = Q.evaluate_grouping(KnowledgeBase(embedded_index), judged)
    assert len(judged) >= 60
    assert report["extraction_recall"] >= 0.85
    assert report["adjusted_rand_index"] >= 0.25  # README reports the current figure
    assert report["purity"] >= 0.5


@pytest.mark.e2e
def test_kb_faq_json_and_markdown(tmp_path, clean_env):
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(tmp_path / "ix"))

    def run(*args):
        return subprocess.run(
            kb_command() + list(args), env=env, capture_output=True, text=True, timeout=120
        )

    assert run("build").returncode == 0
    r = run("faq", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["groups"]
    r = run("faq", "--markdown")
    assert r.returncode == 0 and r.stdout.startswith("# Frequently asked questions")
    r = run("faq", "--evaluate", "/nonexistent.yaml")
    assert r.returncode == 1 and "no such file" in r.stderr


def test_searches_asked_alike_group_without_library_warnings(built_index, tmp_path):
    """Fewer different searches than groups: k-means was asked for more groups than it
    could make and warned (ConvergenceWarning) in `kb faq`."""
    import shutil
    import warnings

    copy = tmp_path / "ix"
    shutil.copytree(built_index, copy, symlinks=True)
    kb = KnowledgeBase(copy)
    for text in (
        "zebra quantum",
        "zebra quantum!",
        "quantum zebra",
        "zebra  quantum",
        "alimony lawyer fees",
        "lawyer fees alimony",
        "cat sofa",
        "cats sofa",
    ):
        searchlog.record(copy, kb.search(text))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = Q.review(kb)
    assert report["searches"]


@pytest.mark.slow  # the whole review of the embedded corpus
def test_key_terms_are_words_the_askers_wrote(embedded_index):
    kb = KnowledgeBase(embedded_index)
    report = Q.review(kb)
    written = {w for d in kb.all_comments() for w in re.findall(r"[a-z0-9]+", d.body.lower())}
    concepts = set(Q.CONCEPTS)
    shown = [t for g in report["groups"] for t in g["key_terms"]]
    assert shown
    assert [t for t in shown if t not in concepts and t not in written] == []  # no stems
