import shutil

import pytest

from kb.corpus.read import check_corpus, load_corpus, split_sections
from kb.errors import CorpusError, NotFoundError
from kb.model import anchor

from .conftest import BAD, FIXTURE_CORPUS


def test_fixture_corpus_loads_with_threads_and_author_replies():
    corpus = load_corpus(FIXTURE_CORPUS)
    assert set(corpus.articles) == {"leaving", "space", "affairs"}
    assert corpus.comments["c-000002"].is_author
    assert corpus.comments["c-000011"].is_author  # signed with an alias
    assert not corpus.comments["c-000001"].is_author
    assert corpus.thread_root("c-000003") == "c-000001"


def test_sections_split_at_level_two_headings_with_intro():
    sections = split_sections(
        "a", "Title", "Intro text.\n\n## First one\nA\n\n## Stop (yes, really)!\nB\n"
    )
    assert [s.anchor for s in sections] == ["intro", "first-one", "stop-yes-really"]
    assert sections[2].id == "a#stop-yes-really"
    assert sections[1].body == "A"


def test_repeated_headings_get_distinct_anchors():
    sections = split_sections("a", "T", "## Same\nx\n## Same\ny\n")
    assert [s.anchor for s in sections] == ["same", "same-2"]


def test_anchor_folds_case_and_punctuation():
    assert anchor("  When to reach out?  ") == "when-to-reach-out"


@pytest.mark.parametrize(
    ("bad", "target", "expected"),
    [
        ("no-title.md", "articles/leaving.md", "articles/leaving.md:2: missing `title`"),
        ("bad-date.md", "articles/leaving.md", "articles/leaving.md:2: invalid date"),
        (
            "no-front-matter.md",
            "articles/leaving.md",
            "articles/leaving.md:1: missing front matter",
        ),
        ("empty-body.md", "articles/leaving.md", "articles/leaving.md:5: empty body"),
        ("unknown-tag.md", "articles/leaving.md", "unknown tag 'heartbreak'"),
        ("latin1.md", "articles/leaving.md", "articles/leaving.md:5: not UTF-8"),
        ("yaml-syntax.yaml", "comments/leaving.yaml", "comments/leaving.yaml:7: invalid YAML"),
        (
            "duplicate-id.yaml",
            "comments/leaving.yaml",
            "comments/leaving.yaml:7: duplicate comment id 'c-000001'",
        ),
        (
            "missing-parent.yaml",
            "comments/leaving.yaml",
            "comments/leaving.yaml:7: comment c-000002: parent 'c-999999' does not exist",
        ),
        (
            "orphan.yaml",
            "comments/orphan.yaml",
            "comments/orphan.yaml:1: comments for a missing article 'no-such-article'",
        ),
    ],
)
def test_each_bad_file_is_reported_with_file_and_line(corpus_copy, bad, target, expected):
    shutil.copy(BAD / bad, corpus_copy / target)
    problems = check_corpus(corpus_copy)
    assert any(expected in p for p in problems), problems


def test_every_problem_in_a_file_is_reported_at_once(corpus_copy):
    shutil.copy(BAD / "comment-problems.yaml", corpus_copy / "comments/leaving.yaml")
    problems = check_corpus(corpus_copy)
    text = "\n".join(problems)
    assert "comments/leaving.yaml:3: id 123 must be a quoted string" in text
    assert "comments/leaving.yaml:7: comment c-000002: invalid date 'yesterday'" in text
    assert "comments/leaving.yaml:11: comment c-000003: empty body" in text
    assert "comments/leaving.yaml:15: comment c-000004: unknown tag 'nonsense'" in text


def test_load_refuses_a_corpus_with_problems(corpus_copy):
    shutil.copy(BAD / "orphan.yaml", corpus_copy / "comments/orphan.yaml")
    with pytest.raises(CorpusError) as err:
        load_corpus(corpus_copy)
    assert "no-such-article" in str(err.value)


def test_missing_site_author_is_a_problem(corpus_copy):
    (corpus_copy / "site.yaml").write_text("title: X\n")
    assert any("site.yaml:1: missing `author`" in p for p in check_corpus(corpus_copy))


def test_missing_corpus_folder_is_one_clear_error(tmp_path):
    with pytest.raises(NotFoundError, match="no such corpus folder"):
        load_corpus(tmp_path / "nowhere")
