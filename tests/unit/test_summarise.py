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


def test_sentence_scores_add_the_lead_prior_and_the_weighted_relevance():
    from rag.summarise import sentence_scores

    vectors = np.stack([unit(1, 0), unit(0.6, 0.8)])
    policy = BriefingPolicy(lead_weight=2.0, lead_chars=100.0, relevance_weight=0.5)
    scores = sentence_scores(vectors, ["x", "y"], np.asarray([0, 300]), policy, np.asarray([0.2, 0.4]))
    # centrality 0.6 each; lead 2 / (1 + 0) and 2 / (1 + 3); relevance 0.5 * 0.2 and 0.5 * 0.4
    assert scores == pytest.approx([0.6 + 2.0 + 0.1, 0.6 + 0.5 + 0.2])
    assert sentence_scores(vectors, ["x", "y"], np.asarray([0, 300]), policy) == pytest.approx([2.6, 1.1])


def test_one_article_centrality_is_the_mean_over_its_other_sentences():
    vectors = np.stack([unit(1, 0), unit(0.6, 0.8), unit(0, 1)])
    assert centrality(vectors, ["x", "x", "x"]) == pytest.approx([(0.6 + 0) / 2, (0.6 + 0.8) / 2, (0 + 0.8) / 2])


def test_budget_edges():
    same = np.eye(3)  # no centrality: the lead prior orders them a, b, c
    three = [sentence("x", 0, "a"), sentence("x", 100, "b"), Candidate("x", 200, "c three four five six seven eight")]
    loose = BriefingPolicy(lead_weight=1.0, redundancy_cosine=1.0, min_words=1)
    assert select(three, same, loose, budget_words=0) == []
    assert select(three, same, loose, budget_words=1) == [0]  # the first sentence however long
    # exactly on budget: stop there, even though the next sentence would fit in the overrun
    assert select(three, same, loose.model_copy(update={"overrun_words": 11}), budget_words=11) == [0]
    # past the budget by at most the overrun: taken
    assert select(three, same, loose.model_copy(update={"overrun_words": 10}), budget_words=15) == [0, 1]
    # a sentence that would overrun is skipped for a shorter one after it
    assert select(three, same, loose.model_copy(update={"overrun_words": 0}), budget_words=19) == [0, 2]


def test_a_sentence_exactly_at_the_redundancy_cosine_is_a_repeat():
    candidates = [sentence("x", 0, "a"), sentence("y", 0, "b")]
    vectors = np.asarray([[1.0, 0.0], [1.0, 0.0]])
    assert len(select(candidates, vectors, BriefingPolicy(redundancy_cosine=1.0), budget_words=30)) == 1


def test_a_sentence_of_exactly_min_words_is_usable():
    from rag.summarise import usable

    policy = BriefingPolicy(min_words=3)
    assert usable(Candidate("x", 0, "three words here"), policy)
    assert not usable(Candidate("x", 0, "two words"), policy)
    assert not usable(Candidate("x", 0, "NO LOWER CASE AT ALL"), policy)


def test_article_candidates_and_summarise():
    from rag.summarise import article_candidates, summarise
    from vectorstore.embeddings import HashingFakeEmbeddings

    found = article_candidates(["First one here. Second one here.", "Third one here."])
    assert [(c.article, c.offset, c.text) for c in found] == [
        ("0", 0, "First one here."), ("0", 16, "Second one here."), ("1", 0, "Third one here.")]
    assert article_candidates(["One. Two. Three."], max_sentences=2)[-1].text == "Two."
    chosen = summarise(ARTICLES, HashingFakeEmbeddings(), BriefingPolicy(), budget_words=20)
    assert chosen and sum(c.words for c in chosen) <= 20 + BriefingPolicy().overrun_words
    assert len(summarise(ARTICLES, HashingFakeEmbeddings(), BriefingPolicy(), budget_words=200)) > len(chosen)
    assert summarise([], HashingFakeEmbeddings(), BriefingPolicy()) == []


def test_two_articles_count_only_each_other():
    vectors = np.stack([unit(1, 0), unit(0, 1), unit(0.6, 0.8)])
    assert centrality(vectors, ["x", "x", "y"]) == pytest.approx([0.6, 0.8, (0.6 + 0.8) / 2])
