"""Eval metrics on hand-made cases: a known answer gets known scores."""

from __future__ import annotations

import json

import pytest

from eval.gold import GoldQuestion
from eval.metrics import alias_in_answer, lead_answer, normalise, percentile, retrieval_scores, token_f1, verdict_of
from eval.runner import aggregate, failure_of, sample, score_question
from eval.squad import import_squad

PASSAGE = "Some 1,400 civilians remain in Toretsk, whose prewar population exceeded 60,000, Governor Vadym Filashkin said."
CITATION = {"n": 1, "article_id": "004", "title": "T", "quote": PASSAGE, "text": PASSAGE}


def question(answers=("1,400", "1400"), sources=("004",), kind="factoid"):
    return GoldQuestion(id="q", question="How many civilians remain in Toretsk?", answers=list(answers),
                        sources=list(sources), type=kind if answers else "unanswerable")


def test_squad_normalisation_and_containment():
    assert normalise("The  Azot plant!") == "azot plant"
    assert alias_in_answer("“Some 1,400 civilians remain.” [1]", ["1,400"])
    assert not alias_in_answer("It was 11,400 people.", ["1,400"])  # word boundaries, not substrings
    assert not alias_in_answer("", ["1,400"])


def test_token_f1_known_values():
    assert token_f1("Serhiy Haidai", ["Haidai"]) == pytest.approx(2 * 0.5 * 1 / 1.5)
    assert token_f1("nothing here", ["Haidai"]) == 0.0
    assert token_f1("the Haidai", ["Haidai", "Gaidai"]) == 1.0


def test_retrieval_scores():
    assert retrieval_scores(["a", "b", "c"], {"b"}) == {"recall@1": 0.0, "recall@5": 1.0, "coverage@5": 1.0, "mrr": 0.5}
    assert retrieval_scores(["x"] * 12 + ["b"], {"b"})["mrr"] == 0.0


def test_correct_cited_answer_scores():
    result = score_question(question(), "Some 1,400 civilians remain in Toretsk [1].", False, [CITATION], ["004", "001"])
    s = result["scores"]
    assert (s["accuracy"], s["recall@1"], s["mrr"], s["citation_precision"], s["citation_recall"], s["faithfulness"]) == (1, 1, 1, 1, 1, 1)
    assert s["abstention"] is None and s["false_abstention"] == 0
    assert result["citations"][0]["supported"] is True
    assert failure_of(question(), s) is None


def test_abstaining_on_an_answerable_question():
    s = score_question(question(), "The archive does not say.", True, [], ["004"])["scores"]
    assert (s["accuracy"], s["f1"], s["false_abstention"]) == (0.0, 0.0, 1.0)
    assert s["citation_precision"] is None and s["faithfulness"] is None
    assert failure_of(question(), s) == "false abstention"


@pytest.mark.parametrize("answer, lead", [
    ("Brenholt [1]. “The ferry docked at Brenholt.” [1]", "Brenholt"),
    ("Kash Patel [1, 3]. “Patel filed the suit.” [1]", "Kash Patel"),
    ("about 1,400 [2]. “About 1,400 tickets were sold.” [2]", "about 1,400"),
    ("Prices rose 40 percent in a week, officials said [2]. “…” [2]", "Prices rose 40 percent in a week, officials said [2]. “…” [2]"),
    # no short answer first: a sentence alone, a verdict, an abstention, nothing
    ("The ferry docked at Brenholt on Friday [1].", "The ferry docked at Brenholt on Friday [1]."),
    ("Yes. “The ferry docked.” [1]", "Yes. “The ferry docked.” [1]"),
    ("The archive does not say.", "The archive does not say."),
    ("", ""),
])
def test_the_lead_answer_is_a_first_sentence_that_only_names(answer, lead):
    assert lead_answer(answer) == lead


def test_short_f1_scores_the_short_answer_and_leaves_yes_no_questions_out():
    q = question(answers=["Brenholt"])
    s = score_question(q, "Brenholt [1]. “The night ferry finally docked at the harbour of Brenholt today.” [1]", False,
                       [CITATION], ["004"])["scores"]
    assert s["short_f1"] == 1.0 and s["f1"] < 0.3  # the quote dilutes the whole answer's F1
    s = score_question(q, "Castelline [1]. “Brenholt and Castelline were flooded.” [1]", False, [CITATION], ["004"])["scores"]
    assert s["short_f1"] == 0.0 and s["accuracy"] == 1.0  # containment counts the quote; short F1 does not
    assert score_question(q, "The archive does not say.", True, [], ["004"])["scores"]["short_f1"] == 0.0
    yes_no = question(answers=["Yes"], kind="comparison")
    assert score_question(yes_no, "Yes. “It did.” [1]", False, [CITATION], ["004"])["scores"]["short_f1"] is None


def test_empty_answer():
    s = score_question(question(), "", False, [], ["004"])["scores"]
    assert (s["accuracy"], s["f1"]) == (0.0, 0.0)
    assert failure_of(question(), s) == "wrong answer"


def test_citation_to_a_missing_passage_counts_against_faithfulness():
    s = score_question(question(), "Some 1,400 civilians remain in Toretsk [3].", False, [CITATION], ["004"])["scores"]
    assert s["faithfulness"] == 0.0
    assert s["citation_precision"] == 1.0  # the one real citation points at a gold article


def test_unsupported_citation_to_a_non_gold_article():
    other = {**CITATION, "article_id": "999", "text": "Grain ships left the port."}
    s = score_question(question(), "Some 1,400 civilians remain in Toretsk [1].", False, [other], ["999"])["scores"]
    assert s["citation_precision"] == 0.0 and s["citation_recall"] == 0.0 and s["faithfulness"] == 0.0
    assert failure_of(question(), s) == "retrieval miss"


def test_unanswerable_questions():
    q = question(answers=(), sources=())
    abstained = score_question(q, "The archive does not say.", True, [], [])["scores"]
    assert abstained["abstention"] == 1.0 and abstained["accuracy"] is None and abstained["recall@5"] is None
    assert failure_of(q, abstained) is None
    answered = score_question(q, "Some 1,400 civilians remain in Toretsk [1].", False, [CITATION], [])["scores"]
    assert answered["abstention"] == 0.0 and failure_of(q, answered) == "answered unanswerable"


@pytest.mark.parametrize("answer, verdict", [
    ("Yes, the Verge reported it after TechCrunch [1].", "yes"),
    ("No. The two articles describe different companies [1][2].", "no"),
    ("“YES” — both say so.", "yes"),
    ("**No**, they disagree.", "no"),
    ("'no'", "no"),
    ("Yesterday's report said so.", None),
    ("Both articles say yes [1].", None),
    ("[1] Yes.", None),
    ("", None),
])
def test_verdict_of_reads_the_first_word(answer, verdict):
    assert verdict_of(answer) == verdict


def test_yes_no_questions_score_on_the_verdict():
    q = GoldQuestion(id="mh-1", question="Did The Verge report it after TechCrunch?", answers=["Yes"], sources=["004"],
                     type="temporal")
    right = score_question(q, "Yes, the Verge report came later [1].", False, [CITATION], ["004"])["scores"]
    assert right["accuracy"] == 1.0 and failure_of(q, right) is None
    wrong = score_question(q, "No, it came first [1].", False, [CITATION], ["004"])["scores"]
    assert wrong["accuracy"] == 0.0 and failure_of(q, wrong) == "wrong answer"
    # "yes" later in the text is not a verdict, though containment alone would have counted it.
    hedged = score_question(q, "The Verge says yes and TechCrunch says no [1].", False, [CITATION], ["004"])["scores"]
    assert hedged["accuracy"] == 0.0 and alias_in_answer("The Verge says yes and TechCrunch says no", ["Yes"])
    lower = question(answers=("no",))
    assert score_question(lower, "No [1].", False, [CITATION], ["004"])["scores"]["accuracy"] == 1.0
    assert score_question(question(), "Yes: 1,400 civilians remain [1].", False, [CITATION], ["004"])["scores"]["accuracy"] == 1.0


def test_answerable_question_without_a_gold_article_has_no_retrieval_score():
    q = question(sources=())
    s = score_question(q, "Some 1,400 civilians remain in Toretsk [1].", False, [CITATION], ["004"])["scores"]
    assert (s["recall@1"], s["recall@5"], s["mrr"], s["citation_recall"]) == (None, None, None, None)
    assert s["accuracy"] == 1.0 and failure_of(q, s) is None
    wrong = score_question(q, "Nobody knows how many [1].", False, [CITATION], ["004"])["scores"]
    assert failure_of(q, wrong) == "wrong answer"


def test_aggregate_overall_and_by_type():
    rows = [
        {"type": "factoid", "latency_s": 1.0, "scores": {"accuracy": 1.0, "abstention": None}},
        {"type": "factoid", "latency_s": 3.0, "scores": {"accuracy": 0.0, "abstention": None}},
        {"type": "unanswerable", "latency_s": 2.0, "scores": {"accuracy": None, "abstention": 1.0}},
    ]
    for row in rows:
        for metric in ("recall@1", "recall@5", "mrr", "f1", "false_abstention", "citation_precision", "citation_recall", "faithfulness"):
            row["scores"].setdefault(metric, None)
    result = aggregate(rows)
    assert result["overall"]["accuracy"] == 0.5 and result["overall"]["abstention"] == 1.0
    assert result["overall"]["latency_p50_s"] == 2.0 and result["overall"]["n"] == 3
    assert result["by_type"]["factoid"]["accuracy"] == 0.5 and result["by_type"]["unanswerable"]["accuracy"] is None
    assert result["overall"]["f1"] is None


def test_percentile_nearest_rank():
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95
    assert percentile([], 50) is None


def test_seeded_sample_is_reproducible():
    qs = [question() for _ in range(20)]
    for i, q in enumerate(qs):
        q.id = str(i)
    first = [q.id for q in sample(qs, 5, seed=7)]
    assert first == [q.id for q in sample(qs, 5, seed=7)] and len(set(first)) == 5
    assert first != [q.id for q in sample(qs, 5, seed=8)]
    assert sample(qs, None, 0) == qs


def test_import_squad(tmp_path):
    squad = {"version": "v2.0", "data": [{"title": "Normans", "paragraphs": [{
        "context": "The Normans gave their name to Normandy, a region in France.",
        "qas": [{"id": "a", "question": "Where is Normandy?", "answers": [{"text": "France", "answer_start": 50}, {"text": "France", "answer_start": 50}], "is_impossible": False},
                {"id": "b", "question": "Who named France?", "answers": [], "plausible_answers": [{"text": "Normans"}], "is_impossible": True}]}]}]}
    source = tmp_path / "squad.json"
    source.write_text(json.dumps(squad))
    counts = import_squad(source, tmp_path / "corpus", tmp_path / "gold.jsonl")
    assert counts == {"articles": 1, "questions": 2, "unanswerable": 1}
    assert (tmp_path / "corpus" / "normans-000.txt").read_text().startswith("Normans\n\nThe Normans")
    rows = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    assert rows[0] == {"id": "a", "question": "Where is Normandy?", "answers": ["France"], "sources": ["normans-000"], "type": "factoid"}
    assert rows[1]["answers"] == [] and rows[1]["type"] == "unanswerable"
    with pytest.raises(ValueError, match="not a SQuAD JSON file"):
        bad = tmp_path / "bad.json"
        bad.write_text("{}")
        import_squad(bad, tmp_path / "c2", tmp_path / "g2.jsonl")


def test_llm_judge_scores_and_agreement(fake_settings):
    from eval.runner import judge_rows

    rows = [
        {"question": "q1", "gold": ["1,400"], "abstained": False, "answer": "1,400 [1]", "scores": {"accuracy": 1.0}},
        {"question": "q2", "gold": ["Haidai"], "abstained": False, "answer": "Kyiv [1]", "scores": {"accuracy": 0.0}},
        {"question": "q3", "gold": ["x"], "abstained": True, "answer": "The archive does not say.", "scores": {"accuracy": 0.0}},
        {"question": "q4", "gold": [], "abstained": False, "answer": "y", "scores": {"accuracy": None}},
    ]
    # The fake backend, unscripted, answers "The archive does not say." to the judge prompt: a NO.
    result = judge_rows(rows, fake_settings, "fake")
    assert result == {"judge_accuracy": 0.0, "judge_agreement": 0.5, "judge_backend": "fake"}
    assert [r["scores"]["judge"] for r in rows] == [0.0, 0.0, None, None]


def test_answer_in_shown_says_whether_a_gold_string_was_among_the_passages():
    from eval.gold import GoldQuestion
    from eval.runner import score_question

    q = GoldQuestion(id="q", question="Which port reopened?", answers=["Ostmark"], sources=["a"], type="factoid")
    shown = ["The port of Ostmark reopened on Monday.", "Ferries resumed."]
    assert score_question(q, "x", True, [], [], shown=shown)["scores"]["answer_in_shown"] == 1.0
    assert score_question(q, "x", True, [], [], shown=shown[1:])["scores"]["answer_in_shown"] == 0.0
    yes_no = GoldQuestion(id="y", question="Did the port reopen?", answers=["Yes"], sources=["a"], type="comparison")
    assert score_question(yes_no, "Yes.", False, [], [], shown=shown)["scores"]["answer_in_shown"] is None
    assert score_question(q, "x", True, [], [])["scores"]["answer_in_shown"] is None  # nothing shown was given


def test_a_verdict_before_its_quotes_is_not_counted_in_faithfulness():
    from eval.runner import citation_checks
    from rag.verify import ClaimVerifier
    from vectorstore.embeddings import HashingFakeEmbeddings

    passage = "The ferry resumed sailing on Monday after the storms. The operator said so."
    citations = [{"n": 1, "article_id": "a", "text": passage}]
    verifier = ClaimVerifier(embeddings=HashingFakeEmbeddings())
    _, faithfulness = citation_checks("Yes. “The ferry resumed sailing on Monday after the storms.” [1]", citations, verifier)
    assert faithfulness == 1.0
    _, faithfulness = citation_checks("The ferry sank. “The ferry resumed sailing on Monday after the storms.” [1]",
                                      citations, verifier)
    assert faithfulness == 0.5  # a sentence citing nothing still counts against it


def test_grounding_checks_figures_and_names_against_the_cited_passage_without_the_verifier():
    from eval.runner import grounding

    passage = "The Dunmore ferry carried 420 passengers on Monday, the harbour master Mara Quill said."
    cited = [{"n": 1, "article_id": "a", "text": passage}, {"n": 2, "article_id": "b", "text": "Rain fell all week."}]
    assert grounding("The ferry carried 420 passengers [1].", cited) == 1.0
    assert grounding("The ferry carried 480 passengers [1].", cited) == 0.0  # a figure the passage does not give
    assert grounding("Mara Quill said the ferry carried 420 passengers [2].", cited) == 0.0  # cites the wrong passage
    assert grounding("Harbour master Tomas Reyes counted the passengers [1].", cited) == 0.0  # a name it does not give
    assert grounding("It rained [2]. The ferry carried 420 passengers [1]. It carried 9 cars [1].", cited) == 0.5
    assert grounding("It rained all week [2].", cited) is None  # nothing to test: no figure, no name
    assert grounding("The ferry carried 420 passengers [1].", []) is None


def test_an_outlet_named_in_an_answer_is_checked_against_the_outlet_its_citation_shows():
    from eval.runner import citation_checks, grounding
    from rag.verify import ClaimVerifier

    passage = {"n": 1, "article_id": "a", "text": "The Dunmore ferry carried 420 passengers on Monday."}
    answer = "Harbour Courier [1]. “The Dunmore ferry carried 420 passengers on Monday.” [1]"
    assert grounding(answer, [{**passage, "source": "Harbour Courier"}]) == 1.0
    assert grounding(answer, [{**passage, "source": "Ridge Weekly"}]) == 0.5  # another outlet's article
    assert grounding(answer, [passage]) == 0.5  # a citation with no outlet backs no outlet name
    _, shown = citation_checks(answer, [{**passage, "source": "Harbour Courier"}], ClaimVerifier())
    _, other = citation_checks(answer, [{**passage, "source": "Ridge Weekly"}], ClaimVerifier())
    assert shown == 1.0 and other == 0.5


def test_grounding_can_disagree_with_the_verifier_that_faithfulness_reruns():
    class AgreeingVerifier:  # a verifier that backs everything: faithfulness follows it, grounding does not
        def verify(self, claim, passages):
            from rag.verify import Verdict

            return Verdict(True, 1.0, passage=1) if passages else Verdict(False, 0.0, reason="cites nothing")

    passage = "The Dunmore ferry carried 420 passengers on Monday."
    q = question(answers=("480",), sources=("a",))
    s = score_question(q, "The ferry carried 480 passengers [1].", False,
                       [{"n": 1, "article_id": "a", "title": "T", "quote": passage, "text": passage}], ["a"],
                       verifier=AgreeingVerifier())["scores"]
    assert s["faithfulness"] == 1.0 and s["grounding"] == 0.0
