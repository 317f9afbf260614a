"""Extractive summaries (rag/summarise.py) and their eval (`newsrag eval summaries`), with hand-made
vectors and fake embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.config import BriefingPolicy
from rag.summarise import Candidate, centrality, select

TEN_WORDS = "one two three four five six seven eight nine ten"


def unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def sentence(article: str, offset: int, label: str) -> Candidate:
    return Candidate(article, offset, f"{label} {TEN_WORDS}.")


def test_centrality_counts_support_from_other_articles_only():
    vectors = np.stack([unit(1, 0, 0), unit(1, 0, 0), unit(0, 1, 0), unit(0.9, 0.1, 0)])
    # a and b: the same article repeating itself; c and d: two other articles
    scores = centrality(vectors, ["x", "x", "y", "z"])
    assert scores[0] == pytest.approx(float(vectors[0] @ vectors[2] + vectors[0] @ vectors[3]) / 2)
    one_article = centrality(vectors[:2], ["x", "x"])  # a single article: its other sentences count
    assert one_article[0] == pytest.approx(1.0)


def test_a_point_several_articles_make_beats_one_only_its_own_article_makes():
    candidates = [sentence("x", 900, "shared"), sentence("x", 1000, "lonely"), sentence("y", 900, "echo"),
                  sentence("z", 900, "other")]
    vectors = np.stack([unit(1, 0.2, 0), unit(0, 0, 1), unit(1, 0, 0), unit(0.8, 0.6, 0)])
    policy = BriefingPolicy(lead_weight=0.0, redundancy_cosine=0.99)
    chosen = select(candidates, vectors, policy, budget_words=11)
    assert [candidates[i].text.split()[0] for i in chosen] == ["shared"]


def test_lead_prior_prefers_an_article_s_first_sentences():
    candidates = [sentence("x", 2000, "late"), sentence("x", 0, "early")]
    vectors = np.stack([unit(1, 0), unit(0, 1)])
    chosen = select(candidates, vectors, BriefingPolicy(lead_weight=1.0), budget_words=11)
    assert [candidates[i].text.split()[0] for i in chosen] == ["early"]
    without_prior = select(candidates[::-1], vectors[::-1], BriefingPolicy(lead_weight=0.0), budget_words=11)
    assert len(without_prior) == 1  # ties broken by order, so the prior above is what chose "early"


def test_repeats_are_left_out_and_the_budget_holds_in_reading_order():
    candidates = [sentence("x", 0, "alpha"), sentence("y", 0, "alpha-copy"), sentence("x", 200, "beta"),
                  sentence("y", 300, "gamma"), Candidate("z", 0, "Too short to say anything.")]
    vectors = np.stack([unit(1, 0, 0), unit(1, 0.01, 0), unit(0.6, 0.8, 0), unit(0.6, 0, 0.8), unit(1, 0, 0)])
    policy = BriefingPolicy(lead_weight=0.1, redundancy_cosine=0.9, min_words=8, overrun_words=0)
    chosen = select(candidates, vectors, policy, budget_words=33)
    texts = [candidates[i].text.split()[0] for i in chosen]
    assert "Too" not in texts  # under min_words
    assert not {"alpha", "alpha-copy"} <= set(texts)  # one of the two near-identical sentences
    assert len(texts) == 3 and sum(candidates[i].words for i in chosen) <= 33
    assert chosen == sorted(chosen, key=lambda i: ({"x": 0, "y": 1}[candidates[i].article], candidates[i].offset))
    assert len(select(candidates, vectors, policy, budget_words=11)) == 1


def test_relevance_weighs_in_when_given():
    candidates = [sentence("x", 0, "first"), sentence("y", 0, "second")]
    vectors = np.stack([unit(1, 0), unit(0, 1)])
    relevance = np.asarray([0.0, 1.0])
    chosen = select(candidates, vectors, BriefingPolicy(relevance_weight=1.0), budget_words=11, relevance=relevance)
    assert [candidates[i].text.split()[0] for i in chosen] == ["second"]
    unweighted = select(candidates, vectors, BriefingPolicy(relevance_weight=0.0), budget_words=11, relevance=relevance)
    assert [candidates[i].text.split()[0] for i in unweighted] == ["first"]


ARTICLES = [
    "The river Kessa burst its banks at dawn on Tuesday and flooded the lower town of Dunmore. "
    "Rescue crews moved four hundred residents to the sports hall before noon. "
    "The mayor said the bridge would stay closed while engineers checked its piers.",
    "Flood water covered the lower town of Dunmore after the Kessa rose two metres overnight. "
    "Four hundred people spent the night in the sports hall, volunteers said. "
    "A bakery on the quay handed out bread to the families waiting for news.",
]


@pytest.fixture
def clusters(tmp_path):
    path = tmp_path / "clusters.jsonl"
    rows = [{"id": "c1", "articles": ARTICLES, "reference": "The Kessa flooded Dunmore; four hundred residents were moved to the sports hall."},
            {"id": "c2", "articles": ARTICLES[::-1], "reference": "Dunmore's bridge stayed closed after the flood."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_eval_summaries_scores_both_the_summary_and_the_lead(fake_settings, clusters):
    from eval.summaries import lead, run_summaries

    settings = fake_settings.model_copy(update={"briefing": BriefingPolicy(budget_words=30, overrun_words=0)})
    report = run_summaries(clusters, "all", settings)
    assert report["clusters"] == 2 and report["budget_words"] == 30
    for kind in ("summary", "lead"):
        assert set(report[kind]) == {"rouge1", "rouge2", "rougeL"} and all(0 < v <= 100 for v in report[kind].values())
    assert all(row["words"] <= 30 for row in report["rows"])
    assert lead(ARTICLES, 5) == "The river Kessa burst its"
    assert run_summaries(clusters, "calibration", settings)["clusters"] == 1
    assert [r["id"] for r in run_summaries(clusters, "report", settings)["rows"]] == ["c2"]


@pytest.mark.parametrize("content, says", [
    ('{"id": "c1", "articles": "not a list", "reference": "x"}\n', "Line 1"),
    ('{"articles": ["a"], "reference": "x"}\nnot json\n', "Line 2"),
    ("\n\n", "holds no clusters"),
])
def test_eval_summaries_names_the_bad_line(tmp_path, content, says):
    from eval.summaries import load_clusters

    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=says):
        load_clusters(path)


def test_eval_summaries_cli_refuses_an_unknown_part(clusters):
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["eval", "summaries", "--dataset", str(clusters), "--part", "half"])
    assert result.exit_code != 0 and "--part must be all, calibration or report" in result.output


def test_sentences_under_min_words_are_not_chosen_while_longer_ones_exist():
    candidates = [Candidate("x", 0, "Photo: Reuters staff."), sentence("y", 900, "long")]
    vectors = np.stack([unit(1, 0), unit(0, 1)])
    chosen = select(candidates, vectors, BriefingPolicy(lead_weight=1.0, min_words=8), budget_words=30)
    assert [candidates[i].text.split()[0] for i in chosen] == ["long"]
    assert select(candidates[:1], vectors[:1], BriefingPolicy(min_words=8), budget_words=30) == [0]  # nothing longer
