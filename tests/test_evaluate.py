import math

import pytest

from kb.errors import KbError
from kb.evaluate import evaluate, load_judgments, ndcg_at, precision_at, recall_at, reciprocal_rank


def test_metrics_on_a_hand_computed_case():
    ranked = ["a", "x", "b", "y", "z"]
    rel = {"a": 3, "b": 1, "c": 2}
    # DCG = 7/log2(2) + 0 + 1/log2(4) = 7.5; ideal = 7 + 3/log2(3) + 1/log2(4)
    ideal = 7 + 3 / math.log2(3) + 0.5
    assert ndcg_at(ranked, rel) == pytest.approx(7.5 / ideal)
    assert reciprocal_rank(ranked, rel) == 1.0
    assert reciprocal_rank(["x", "y", "b"], rel) == pytest.approx(1 / 3)
    assert precision_at(ranked, rel, 5) == pytest.approx(2 / 5)
    assert recall_at(ranked, rel) == pytest.approx(2 / 3)


def test_nothing_relevant_found_scores_zero():
    assert ndcg_at(["x"], {"a": 2}) == 0.0
    assert reciprocal_rank(["x"], {"a": 2}) == 0.0


def test_evaluate_runs_judged_queries(kb, tmp_path):
    f = tmp_path / "j.yaml"
    f.write_text(
        "queries:\n"
        "  - id: q1\n    text: my wife needs space\n    list: stories\n"
        "    relevant: {c-000010: 3, c-000004: 2}\n"
        "  - id: q2\n    text: how long does space last\n    list: advice\n"
        "    relevant: [space#how-long-space-lasts]\n"
    )
    report = evaluate(kb, load_judgments(f))
    assert report["queries"] == 2
    assert report["per_query"][0]["ranked"][:2] == ["c-000010", "c-000004"]
    assert report["per_query"][0]["ndcg@10"] == 1.0
    assert 0 < report["mrr"] <= 1


def test_unknown_judged_id_is_an_error(kb, tmp_path):
    f = tmp_path / "j.yaml"
    f.write_text("queries:\n  - id: q1\n    text: space\n    relevant: [c-404]\n")
    with pytest.raises(KbError, match="q1: c-404"):
        evaluate(kb, load_judgments(f))


def test_bad_judgments_file_names_the_query(tmp_path):
    f = tmp_path / "j.yaml"
    f.write_text("queries:\n  - id: q9\n    text: x\n    list: everything\n    relevant: [a]\n")
    with pytest.raises(KbError, match="q9: `list` must be one of"):
        load_judgments(f)
