import difflib
import json
import subprocess

import pytest
import yaml

from kb import tagstats
from kb.corpus.edit import add_tag, apply_decisions, set_comment_tags
from kb.corpus.read import load_corpus
from kb.errors import EditError, NotFoundError, UsageError
from kb.index.build import build_index
from kb.model import Comment, Tag
from kb.search import KnowledgeBase
from kb.suggest import Example, Suggester, cross_validate
from kb.tagging import RuleTagger

from .conftest import FIXTURE_CORPUS, kb_command

TAGS = [
    Tag("no-contact", "No contact", phrases=("no contact", "contact her")),
    Tag("affair", "Affair", phrases=("affair",)),
    Tag("space", "Space", phrases=("needs space",)),
]


def test_rule_matches_stems_case_and_punctuation():
    tagger = RuleTagger(TAGS)
    assert tagger.match("Should I keep CONTACTING her?!") == ["no-contact"]
    assert tagger.match("He had two affairs.") == ["affair"]
    assert tagger.match("She says she NEEDS   space...") == ["space"]


def test_rule_needs_whole_words_in_order():
    tagger = RuleTagger(TAGS)
    assert tagger.match("the scaffairing was odd") == []
    assert tagger.match("her contact") == []
    assert tagger.match("contact with her") == []
    assert tagger.match("no, contact") == ["no-contact"]  # punctuation between words is ignored


def _comment(body, tags=(), removed=()):
    return Comment("c-1", "a", "Sam", None, body, tags=tuple(tags), removed_tags=tuple(removed))


def test_hand_tags_win_over_rules():
    tagger = RuleTagger(TAGS)
    assert tagger.tags_for(_comment("an affair", tags=["affair"])) == []
    assert tagger.tags_for(_comment("an affair and no contact", removed=["affair"])) == [
        "no-contact"
    ]


def test_removed_tag_stays_removed_in_the_index(corpus_copy, tmp_path):
    set_comment_tags(corpus_copy, "c-000001", ["breakup"], removed=["no-contact"])
    build_index(corpus_copy, tmp_path / "ix")
    kb = KnowledgeBase(tmp_path / "ix")
    doc = kb.get("c-000001")
    assert "no-contact" not in doc.rule_tags  # "blocked me" would have tagged it


TRAIN = [
    ("he cheated with a coworker and lied about the affair", {"affair"}),
    ("found texts from another woman, an affair for a year", {"affair"}),
    ("she had an affair with her trainer and I found out", {"affair"}),
    ("my husband cheated on me, the affair lasted months", {"affair"}),
    ("our kids are small and ask where daddy went", {"kids"}),
    ("how do we tell the children about the separation at school", {"kids"}),
    ("my son cries every night since his father left, the kids miss him", {"kids"}),
    ("we share custody of the children every other weekend", {"kids"}),
    ("she says she needs space and time to think alone", {"space"}),
    ("he asked for space and a break from us for a while", {"space"}),
    ("she wants space, time apart, room to breathe", {"space"}),
    ("giving him space is killing me, he needs room", {"space"}),
]


def _examples(pairs):
    return [Example(f"c-{i}", text, frozenset(tags)) for i, (text, tags) in enumerate(pairs)]


def test_suggestions_on_a_small_fixture_with_known_answers():
    model = Suggester().fit(_examples(TRAIN))
    new = [
        Example("n1", "I found out about his affair with a woman from work"),
        Example("n2", "the children keep asking about custody and school"),
        Example("n3", "she wants time alone and space to think", removed=frozenset({"space"})),
    ]
    out = model.suggest(new)
    assert out["n1"][0][0] == "affair"
    assert out["n2"][0][0] == "kids"
    assert "space" not in [t for t, _ in out["n3"]]  # removed by hand: never suggested again
    assert all(0.0 <= s <= 1.0 for pairs in out.values() for _, s in pairs)


def test_cross_validation_arithmetic_and_baseline():
    report = cross_validate(_examples(TRAIN), k=3)
    assert report["comments"] == 12
    # Folds take every third comment. Each fold's most frequent training tag (ties broken
    # alphabetically) is kids, affair, affair, and each is right for one held-out comment.
    assert report["baseline"]["accuracy@1"] == pytest.approx(3 / 12, abs=1e-3)
    assert report["baseline"]["accuracy@3"] == 1.0
    assert report["accuracy@1"] > report["baseline"]["accuracy@1"]
    for metrics in report["per_tag"].values():
        assert 0 <= metrics["precision"] <= 1 and 0 <= metrics["recall"] <= 1


def test_cross_validation_needs_enough_examples():
    assert "error" in cross_validate(_examples(TRAIN[:3]), k=5)


def test_embedded_corpus_suggestions_beat_the_baseline(embedded_index):
    report = tagstats.evaluate_suggestions(KnowledgeBase(embedded_index))
    assert report["accuracy@1"] > report["baseline"]["accuracy@1"] + 0.2
    assert report["accuracy@3"] > report["baseline"]["accuracy@3"] + 0.2


def _diff(a: str, b: str) -> list[str]:
    return [
        d
        for d in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
        if d[:1] in "+-" and not d.startswith(("+++", "---"))
    ]


def test_edit_changes_only_the_tag_lines(corpus_copy):
    path = corpus_copy / "comments" / "leaving.yaml"
    before = path.read_text()
    set_comment_tags(corpus_copy, "c-000004", ["space", "breakup"])
    set_comment_tags(corpus_copy, "c-000001", ["no-contact"], removed=["breakup"])
    after = path.read_text()
    assert _diff(before, after) == [
        "-    tags: [breakup]",
        "+    tags: [no-contact]",
        "+    removed_tags: [breakup]",
        "+    tags: [space, breakup]",
    ]
    corpus = load_corpus(corpus_copy)
    assert corpus.comments["c-000004"].tags == ("space", "breakup")
    assert corpus.comments["c-000001"].removed_tags == ("breakup",)


def test_edit_keeps_yaml_comments_and_block_lists(corpus_copy):
    path = corpus_copy / "comments" / "affairs.yaml"
    path.write_text(
        "# kept as written\narticle: affairs\ncomments:\n"
        '  - id: "c-000020"   # the first one\n    author: "Lee"\n    date: 2016-03-01\n'
        "    tags:\n      - affair\n    body: |\n      I found out my husband cheated.\n"
    )
    set_comment_tags(corpus_copy, "c-000020", ["affair", "space"])
    text = path.read_text()
    assert text.startswith("# kept as written\n") and "# the first one" in text
    assert yaml.safe_load(text)["comments"][0]["tags"] == ["affair", "space"]
    assert "      - affair" not in text


def test_edit_refuses_unknown_tags_and_leaves_file(corpus_copy):
    path = corpus_copy / "comments" / "leaving.yaml"
    before = path.read_text()
    with pytest.raises(UsageError, match="unknown tag 'nope'"):
        set_comment_tags(corpus_copy, "c-000001", ["nope"], known=["breakup"])
    assert path.read_text() == before


def test_edit_refuses_a_broken_file(corpus_copy):
    path = corpus_copy / "comments" / "leaving.yaml"
    path.write_text(path.read_text() + "  - id: [unclosed\n")
    with pytest.raises(EditError):
        set_comment_tags(corpus_copy, "c-000001", ["breakup"])


def test_bulk_accept_and_reject(corpus_copy):
    current = {"c-000004": ([], []), "c-000010": (["space"], [])}
    n = apply_decisions(
        corpus_copy, current, accept=[("c-000004", "space")], reject=[("c-000010", "breakup")]
    )
    assert n == 2
    corpus = load_corpus(corpus_copy)
    assert corpus.comments["c-000004"].tags == ("space",)
    assert corpus.comments["c-000010"].removed_tags == ("breakup",)


def test_add_tag_to_the_taxonomy(corpus_copy):
    add_tag(corpus_copy, Tag("kids", "Children", "Kids in the picture", ("our kids",)))
    corpus = load_corpus(corpus_copy)
    assert corpus.tags["kids"].phrases == ("our kids",)
    with pytest.raises(UsageError, match="already"):
        add_tag(corpus_copy, Tag("kids", "Kids"))
    with pytest.raises(UsageError):
        add_tag(corpus_copy, Tag("Bad Id", "x"))


def test_tag_overview_counts_sources_and_co_occurrence(kb):
    overview = {t["id"]: t for t in tagstats.tag_overview(kb)}
    assert overview["breakup"]["hand"] == 1 and overview["breakup"]["rule"] == 1
    assert overview["breakup"]["together"] == [{"tag": "no-contact", "count": 1}]


@pytest.mark.e2e
def test_kb_tags_suggest_json(tmp_path, clean_env):
    env = dict(clean_env, KB_CORPUS=str(FIXTURE_CORPUS), KB_INDEX=str(tmp_path / "ix"))

    def run(*a):
        return subprocess.run(
            kb_command() + list(a), env=env, capture_output=True, text=True, timeout=120
        )

    assert run("build").returncode == 0
    r = run("tags", "--suggest", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)["suggestions"]
    hand_tagged = {"c-000001", "c-000010", "c-000020"}
    assert hand_tagged.isdisjoint(data)
    assert set(data) >= {"c-000002", "c-000004"}
    for pairs in data.values():
        assert all(set(p) == {"tag", "score"} for p in pairs)


def test_suggestions_follow_the_tags_into_the_next_index_generation(tmp_path):
    """Decided suggestions are not offered again, though the next build links the old files."""
    import shutil

    from .conftest import EMBEDDED_CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(EMBEDDED_CORPUS, corpus)
    build_index(corpus, tmp_path / "ix")
    kb = KnowledgeBase(tmp_path / "ix")
    before = tagstats.suggestions(kb)
    (take, (tag, _)), (drop, (other, _)) = [(c, p[0]) for c, p in sorted(before.items()) if p][:2]
    current = {d.id: (list(d.tags), list(d.removed_tags)) for d in kb.all_comments()}
    apply_decisions(
        corpus,
        current,
        accept=[(take, tag)],
        reject=[(drop, other)],
        known=[t["id"] for t in kb.manifest["tags"]],
    )
    first = kb.generation()
    build_index(corpus, tmp_path / "ix")
    assert kb.generation() != first
    after = tagstats.suggestions(kb, wait=False)  # at once: no waiting for the new model
    assert after is not None and take not in after
    assert other not in [t for t, _ in after.get(drop, [])]
    relearned = tagstats.suggestions(kb)
    assert take not in relearned and other not in [t for t, _ in relearned.get(drop, [])]
    # and a new reader of the index (a reload, another process) sees the same
    tagstats._LAST.clear()
    tagstats._MEMO.clear()
    again = tagstats.suggestions(KnowledgeBase(tmp_path / "ix"), wait=False)
    assert again == relearned


def test_tag_counts_cover_hand_and_rule_tags(kb):
    counts = {t["id"]: t for t in tagstats.tag_overview(kb)}
    assert counts["breakup"]["hand"] == 1 and counts["breakup"]["rule"] == 1
    assert counts["affair"]["count"] == 1


def test_browse_lists_tagged_comments_newest_first(kb):
    total, hits = tagstats.browse(kb, ["breakup"])
    assert total == 2 and [h.id for h in hits] == ["c-000005", "c-000001"]
    _, oldest = tagstats.browse(kb, ["breakup"], sort="oldest")
    assert [h.id for h in oldest] == ["c-000001", "c-000005"]


def test_browse_combines_tags(kb):
    total, hits = tagstats.browse(kb, ["breakup", "no-contact"])
    assert total == 1 and hits[0].id == "c-000001"


def test_browse_rejects_unknown_tag_and_sort(kb):
    with pytest.raises(NotFoundError):
        tagstats.browse(kb, ["nope"])
    with pytest.raises(UsageError):
        tagstats.browse(kb, ["breakup"], sort="random")
