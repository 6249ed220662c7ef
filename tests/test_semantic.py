"""Meaning beside words, with the real bundled model: vectors, their builds, hybrid search."""

import json
import shutil

import numpy as np
import pytest

from kb.index.build import build_index
from kb.index.generations import current_generation
from kb.search import KnowledgeBase
from kb.semantic import build as vector_build
from kb.semantic import model as semantic_model
from kb.semantic import vectors as V

from .conftest import FIXTURE_CORPUS


@pytest.fixture(scope="module")
def embedder():
    return semantic_model.load()


@pytest.fixture(scope="module")
def semantic_index(tmp_path_factory):
    """The fixture corpus indexed with its vectors (read-only for tests)."""
    index_dir = tmp_path_factory.mktemp("semantic")
    build_index(FIXTURE_CORPUS, index_dir)
    report = vector_build.complete(index_dir)
    assert report is not None and report.complete
    return index_dir


def _live_docs(index_dir):
    kb = KnowledgeBase(index_dir)
    with kb.reading() as (s, _):
        return [f for f in s.all_stored_fields() if not f.get("redacted")]


# -- the model ---------------------------------------------------------------------------
def test_vectors_are_unit_length_and_the_same_whatever_the_batch(embedder):
    texts = [
        "my wife moved out and says she needs space",
        "how do I bake sourdough bread",
        "he cheated on me with a coworker",
    ]
    one = np.stack([embedder.embed([t])[0] for t in texts])
    many = embedder.embed(texts)
    assert one.shape == (3, 384)
    assert np.allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-4)
    assert np.allclose(one, many, atol=1e-5)


def test_a_paraphrase_is_closer_than_another_subject(embedder):
    a, b, c = embedder.embed(
        [
            "my wife left me and wants time apart",
            "my spouse moved out and asked for some space",
            "the car makes a grinding noise when I brake",
        ]
    )
    assert a @ b > 0.5 > a @ c


def test_the_model_key_names_the_model_and_its_weights(tmp_path):
    key = semantic_model.model_key(semantic_model.BUNDLED)
    assert key.startswith("all-MiniLM-L6-v2-")
    other = tmp_path / "other"
    shutil.copytree(semantic_model.BUNDLED, other)
    with open(other / "model.onnx", "ab") as f:
        f.write(b"\0")
    assert semantic_model.model_key(other) != key
    with pytest.raises(semantic_model.ModelError, match="not an embedding model folder"):
        semantic_model.model_key(tmp_path)


def test_int8_on_disk_keeps_the_ranking(embedder):
    vecs = embedder.embed(
        [f"story number {i} about a partner who left after {i} years" for i in range(30)]
    )
    back = V.dequantize(*V.quantize(vecs))
    assert np.min(np.sum(back * vecs, axis=1)) > 0.999
    q = vecs[0]
    assert list(np.argsort(-(vecs @ q))[:5]) == list(np.argsort(-(back @ q))[:5])


# -- builds ------------------------------------------------------------------------------
def test_every_live_document_gets_its_vector(semantic_index):
    gen = current_generation(semantic_index)
    data = V.read_vectors(gen)
    assert bool(data["complete"])
    assert len(data["docnums"]) == len(_live_docs(semantic_index))
    assert str(data["model"]) == semantic_model.model_key(semantic_model.BUNDLED)


def test_a_build_embeds_only_what_changed(corpus_copy, tmp_path):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    first = vector_build.complete(index)
    assert first.embedded == first.documents and first.complete
    path = corpus_copy / "comments" / "space.yaml"
    path.write_text(
        path.read_text("utf-8")
        + (
            '  - id: "c-000012"\n    author: "Kim"\n    date: 2013-02-01\n    body: |\n'
            "      My partner packed a bag and went to her sister's. She says it is not over.\n"
        ),
        "utf-8",
    )
    report = build_index(corpus_copy, index)
    assert report.vectors["embedded"] == 1  # the new comment, before the swap
    assert report.vectors["complete"]
    assert vector_build.complete(index).embedded == 0
    # a full rebuild embeds nothing: every text is in the cache
    assert build_index(corpus_copy, index, full=True).vectors["embedded"] == 0
    assert V.read_vectors(current_generation(index))["complete"]


def test_an_update_reads_only_what_changed_and_matches_a_full_pass(
    corpus_copy, tmp_path, monkeypatch
):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    vector_build.complete(index)
    path = corpus_copy / "comments" / "space.yaml"
    text = path.read_text("utf-8")
    assert "twelve years of marriage" in text
    path.write_text(text.replace("twelve years of marriage", "eleven years of marriage"), "utf-8")
    read = []
    real = vector_build._docs
    monkeypatch.setattr(vector_build, "_docs", lambda gen: read.append(gen) or real(gen))
    report = build_index(corpus_copy, index)
    assert read == []  # no pass over every document's stored fields
    # the edited story, and the author's reply embedded with the comment it answers
    assert report.vectors["embedded"] == 2 and report.vectors["complete"]
    gen = current_generation(index)
    quick = V.read_vectors(gen)
    V._save_npz(gen / V.VECTORS, **{**quick, "complete": np.array(False)})
    vector_build.complete(index)  # a full pass over the same generation
    full = V.read_vectors(gen)
    assert quick["docnums"].tolist() == full["docnums"].tolist()
    assert quick["digests"].tolist() == full["digests"].tolist()
    assert np.array_equal(quick["q"], full["q"])


def test_a_stopped_vector_step_resumes_where_it_stopped(corpus_copy, tmp_path, monkeypatch):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    monkeypatch.setattr(V, "PART", 4)
    parts = []
    stopped = vector_build.complete(
        index, should_stop=lambda: len(parts) >= 1, progress=lambda n, total, _: parts.append(n)
    )
    assert stopped.embedded == 4 and not stopped.complete
    # search uses the vectors that are there
    kb = KnowledgeBase(index)
    assert kb.search("my wife moved out").mode == "hybrid"
    rest = vector_build.complete(index)
    assert rest.complete and rest.embedded == stopped.documents - 4


def test_vectors_of_two_models_are_never_mixed(corpus_copy, tmp_path):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    vector_build.complete(index)
    other = corpus_copy / "model"
    shutil.copytree(semantic_model.BUNDLED, other)
    meta = json.loads((other / "kb-model.json").read_text("utf-8"))
    (other / "kb-model.json").write_text(json.dumps({**meta, "name": "renamed-copy"}), "utf-8")
    site = corpus_copy / "site.yaml"
    site.write_text(site.read_text("utf-8") + "embedding_model: model\n", "utf-8")
    build_index(corpus_copy, index)  # words only: the new model's vectors are not made yet
    result = KnowledgeBase(index).search("my wife moved out")
    assert result.mode == "words"
    assert "no vectors yet" in result.notice
    report = vector_build.complete(index)
    assert report.complete and report.model.startswith("renamed-copy-")
    assert [p.name for p in (index / V.CACHE).iterdir()] == [report.model]
    assert KnowledgeBase(index).search("my wife moved out").mode == "hybrid"


def test_a_generation_whose_vectors_belong_to_another_model_is_searched_by_words(
    corpus_copy, tmp_path
):
    index = tmp_path / "index"
    build_index(corpus_copy, index)
    vector_build.complete(index)
    gen = current_generation(index)
    data = V.read_vectors(gen)
    V._save_npz(gen / V.VECTORS, **{**data, "model": np.array("some-other-model-123")})
    result = KnowledgeBase(index).search("my wife moved out")
    assert result.mode == "words" and "made by some-other-model-123" in result.notice


def test_a_broken_model_folder_is_one_line_and_the_words_still_build(corpus_copy, tmp_path):
    from kb.corpus.read import check_corpus

    site = corpus_copy / "site.yaml"
    site.write_text(site.read_text("utf-8") + "embedding_model: nowhere\n", "utf-8")
    problems = check_corpus(corpus_copy)
    assert any("`embedding_model`: no model folder at 'nowhere'" in p for p in problems)


def test_redaction_takes_the_vector_of_the_text_with_it(corpus_copy, tmp_path):
    from kb.index.purge import redact_comment

    index = tmp_path / "index"
    build_index(corpus_copy, index)
    vector_build.complete(index)
    text = next(f for f in _live_docs(index) if f["id"] == "c-000004")
    key = V.digest(V.doc_text(text))
    cache = V.EmbeddingCache(index, semantic_model.model_key(semantic_model.BUNDLED))
    assert key in cache
    redact_comment(corpus_copy, index, "c-000004")
    cache = V.EmbeddingCache(index, semantic_model.model_key(semantic_model.BUNDLED))
    assert key not in cache and len(cache) > 0
    assert V.read_vectors(current_generation(index))["complete"]


# -- search ------------------------------------------------------------------------------
def test_meaning_finds_a_story_told_in_other_words(semantic_index):
    kb = KnowledgeBase(semantic_index)
    text = "how can I believe him again after he slept with someone at his job"
    meaning = kb.search(text, mode="meaning")
    assert meaning.mode == "meaning"
    assert meaning.stories[0].id == "c-000020"  # "cheated with a coworker ... trust him again"
    assert meaning.stories[0].similarity > 0.5
    words = kb.search(text, mode="words")
    assert words.stories == []  # not one word in common
    hybrid = kb.search(text)
    assert hybrid.mode == "hybrid" and hybrid.stories[0].id == "c-000020"
    assert hybrid.best_similarity == max(h.similarity for h in meaning.advice + meaning.stories)


def test_filters_hold_for_the_meaning_ranking_too(semantic_index):
    from kb.search import Filters

    kb = KnowledgeBase(semantic_index)
    for mode in ("meaning", "hybrid"):
        result = kb.search("my partner left me", filters=Filters(article="space"), mode=mode)
        assert result.advice and result.stories
        assert {h.article for h in result.advice + result.stories} == {"space"}
        tagged = kb.search("my partner left me", filters=Filters(tags=("affair",)), mode=mode)
        assert [h.id for h in tagged.stories] == ["c-000020"]


def test_without_vectors_search_says_it_uses_words(built_index):
    result = KnowledgeBase(built_index).search("my wife moved out", mode="hybrid")
    assert result.mode == "words" and result.notice.startswith("searching by words only")
    assert result.stories and result.stories[0].similarity is None


def test_similar_stories_by_meaning(semantic_index):
    kb = KnowledgeBase(semantic_index)
    hits = kb.similar("c-000010", mode="meaning")
    assert hits and all(h.kind == "story" and h.thread != "c-000010" for h in hits)
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True)
    # the two other partners who left come first, before the affair and the hostile note
    assert {h.id for h in hits[:2]} == {"c-000001", "c-000004"}
    assert {h.id for h in kb.similar("c-000010")[:2]} == {"c-000001", "c-000004"}


def test_unknown_mode_is_a_usage_error(semantic_index):
    from kb.errors import UsageError

    with pytest.raises(UsageError, match="unknown mode"):
        KnowledgeBase(semantic_index).search("space", mode="vibes")


def test_fusion_scales_each_ranking_before_weighing():
    from kb.search import WORDS_SHARE, fuse

    fused = fuse([(10.0, 1), (5.0, 2), (1.0, 3)], [(0.9, 3), (0.5, 4), (0.1, 1)])
    scores = dict((d, s) for s, d in fused)
    assert scores[1] == pytest.approx(WORDS_SHARE)  # top by words, bottom by meaning
    assert scores[3] == pytest.approx(1 - WORDS_SHARE)  # bottom by words, top by meaning
    assert scores[4] == pytest.approx((1 - WORDS_SHARE) * 0.5)
    assert [d for _, d in fused][0] == (3 if WORDS_SHARE < 0.5 else 1)


def test_unsure_meaning_weighs_less():
    from kb.search import SURE_MEANING, WORDS_SHARE, fuse

    lo, hi = SURE_MEANING
    words = [(10.0, 1), (1.0, 2)]
    for best, share in ((hi + 0.1, 1.0), ((lo + hi) / 2, 0.5), (lo - 0.1, 0.0)):
        scores = dict((d, s) for s, d in fuse(words, [(best, 2), (best - 0.2, 1)]))
        assert scores[2] == pytest.approx((1 - WORDS_SHARE) * share)
        assert scores[1] == pytest.approx(WORDS_SHARE)


def test_a_model_that_cannot_load_leaves_the_words_built_and_says_so(corpus_copy, tmp_path, capsys):
    from kb.cli import main

    broken = tmp_path / "model"
    broken.mkdir()
    (broken / "kb-model.json").write_text('{"name": "broken", "dimensions": 3}', "utf-8")
    (broken / "model.onnx").write_bytes(b"not a model")
    (broken / "tokenizer.json").write_text("{}", "utf-8")
    site = corpus_copy / "site.yaml"
    site.write_text(site.read_text("utf-8") + f"embedding_model: {broken}\n", "utf-8")
    index = tmp_path / "index"
    assert main(["build", "--corpus", str(corpus_copy), "--index", str(index)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"kb: the words index is built; no vectors were made: {broken}: cannot load"
    )
    result = KnowledgeBase(index).search("my wife moved out")
    assert result.mode == "words" and result.stories
