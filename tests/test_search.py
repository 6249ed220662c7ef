import pytest

from kb.errors import NotFoundError
from kb.search import MAX_QUERY_CHARS, Filters


def test_situation_search_returns_advice_and_stories(kb):
    r = kb.search("my wife moved out after twelve years and says she needs space")
    assert r.advice[0].id == "space#what-space-means"
    assert r.stories[0].id == "c-000010"
    assert {h.kind for h in r.advice} <= {"section", "author-reply"}
    assert {h.kind for h in r.stories} == {"story"}


def test_story_carries_the_author_replies_of_its_thread(kb):
    r = kb.search("girlfriend left blocked me everywhere calling")
    story = next(h for h in r.stories if h.id == "c-000001")
    assert story.replies == ["c-000002"]


def test_stemming_matches_other_forms(kb):
    r = kb.search("cheating husband")
    assert "c-000020" in [h.id for h in r.stories]


def test_matching_more_words_ranks_higher(kb):
    r = kb.search("husband moved out needs space kids")
    assert r.stories[0].id == "c-000004"


def test_snippet_marks_matches_and_escapes_html(kb):
    r = kb.search("boyfriend broke up")
    hit = next(h for h in r.stories if h.id == "c-000005")
    assert "<mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "&lt;script&gt;" in hit.snippet


def test_tag_filter_keeps_only_tagged_results(kb):
    r = kb.search("husband", filters=Filters(tags=("affair",)))
    assert [h.id for h in r.stories] == ["c-000020"]


def test_answered_filter_keeps_stories_with_author_reply(kb):
    r = kb.search("space wife husband", filters=Filters(answered=True))
    assert [h.id for h in r.stories] == ["c-000010"]


@pytest.mark.parametrize(
    "text",
    [
        "AND OR NOT",
        '"unbalanced',
        "title:(foo",
        "*",
        "?",
        "((((",
        "🙂💔",
        "\x00\x1b[31m",
        "a" * 50000,
        "body:wife^100",
        "NEAR/3",
    ],
)
def test_any_input_gives_results_or_a_message(kb, text):
    r = kb.search(text)
    assert r.advice or r.stories or r.message


def test_long_text_is_capped(kb):
    r = kb.search("space " * 5000)
    assert r.truncated and len(r.query) <= MAX_QUERY_CHARS


def test_misspelling_gets_did_you_mean_and_results(kb):
    r = kb.search("coworkr")
    assert r.did_you_mean == "coworker"
    assert r.relaxed and r.stories


def test_filters_that_exclude_everything_are_relaxed(kb):
    r = kb.search("affair", filters=Filters(tags=("space",), article="leaving"))
    assert r.relaxed and "without them" in r.relaxed


def test_similar_finds_other_threads_only(kb):
    hits = kb.similar("c-000010")
    ids = [h.id for h in hits]
    assert ids and ids[0] == "c-000004"
    assert "c-000010" not in ids and "c-000011" not in ids


def test_similar_unknown_id_is_clear(kb):
    with pytest.raises(NotFoundError, match="no comment"):
        kb.similar("c-404")


def test_thread_is_returned_whole_in_order(kb):
    thread = kb.thread("c-000003")
    assert [d.id for d in thread] == ["c-000001", "c-000002", "c-000003"]


@pytest.mark.parametrize(
    "word", ["wont", "dont", "cant", "im", "ive", "youre", "thats", "didnt", "shower", "eachother"]
)
def test_english_words_and_bare_contractions_are_known(word):
    from kb.index.spelling import known_word

    assert known_word(word)


@pytest.mark.parametrize("word", ["coworkr", "marrige", "councellor", "husbnad"])
def test_misspellings_are_not_known_words(word):
    from kb.index.spelling import known_word

    assert not known_word(word)


def test_did_you_mean_leaves_contractions_alone(kb):
    assert kb.search("ex wont text back").did_you_mean is None
    assert kb.search("im scared she dont care").did_you_mean is None


def test_did_you_mean_keeps_the_other_words_as_typed(kb):
    assert kb.search("My coworkr, again").did_you_mean == "My coworker, again"


def test_negation_words_stay_in_the_query():
    from kb.search import query_terms

    assert [t for t, _ in query_terms("no contact")] == ["no", "contact"]
    assert "not" in [t for t, _ in query_terms("not in love any more")]
    assert "never" in [t for t, _ in query_terms("he never calls")]
    assert "without" in [t for t, _ in query_terms("a week without a word")]


def test_a_search_with_no_hits_does_not_fit(kb):
    r = kb.search("zebra quantum")
    assert r.fits is False and r.as_dict()["fits"] is False


def test_a_negation_and_its_word_count_as_a_pair(corpus_copy, tmp_path, monkeypatch):
    """ "no contact": a story holding both words ranks above one that says "contact" and "ex"
    more often (and leads without the pair)."""
    from kb import search as search_module
    from kb.index.build import build_index
    from kb.search import KnowledgeBase

    path = corpus_copy / "comments" / "space.yaml"
    path.write_text(
        path.read_text("utf-8")
        + (
            '  - id: "c-000030"\n    author: "Ana"\n    date: 2014-01-01\n    body: |\n'
            "      We have had no contact since March.\n"
            '  - id: "c-000031"\n    author: "Bo"\n    date: 2014-01-02\n    body: |\n'
            "      My ex and I keep contact for the kids; my ex calls.\n"
        ),
        "utf-8",
    )
    build_index(corpus_copy, tmp_path / "index")
    kb = KnowledgeBase(tmp_path / "index")

    def order():
        ids = [h.id for h in kb.search("no contact with my ex", mode="words").stories]
        return [i for i in ids if i in ("c-000030", "c-000031")]

    assert order() == ["c-000030", "c-000031"]
    monkeypatch.setattr(search_module, "NEGATION_STEMS", frozenset())
    assert order() == ["c-000031", "c-000030"]  # without the pair, the other one leads
