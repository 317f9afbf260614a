"""The topic-briefing eval (`newsrag eval briefing-topics`): scoring on a hand-made briefing, and bad input."""

from __future__ import annotations

import json

import pytest

from eval.briefing_topics import run_briefing_topics, score_topic

ARTICLES = {
    "a": {"text": "The Kessa bridge reopened on Monday. Engineers from Vantor checked its piers.", "story": "s1"},
    "b": {"text": "Copy: The Kessa bridge reopened on Monday. Engineers from Vantor checked its piers.", "story": "s1"},
    "c": {"text": "Dunmore's mayor said traffic would return by Friday.", "story": "s2"},
}


class Archive:
    def article(self, article_id):
        return ARTICLES.get(article_id)


def item(text, *article_ids, quote=None):
    return {"text": text, "citations": [{"article_id": a, "quote": quote or text} for a in article_ids]}


def briefing(summary, key_points, voices=()):
    return {"summary": summary, "key_points": key_points, "timeline": [], "voices": list(voices), "disagreements": [],
            "note": None}


def test_scores_answers_citations_verbatim_quotes_and_copies():
    data = briefing([item("The Kessa bridge reopened on Monday.", "a")],
                    [item("Engineers from Vantor checked its piers.", "b"),
                     item("Dunmore's mayor said traffic would return by Friday.", "c"),
                     item("An uncited sentence.")],
                    voices=[{"quote": "traffic would return by Thursday", "citations": [{"article_id": "c", "quote": "traffic would return by Thursday"}]}])
    scores = score_topic(Archive(), data, [["Vantor"], ["Tuesday", "Wednesday"]])
    assert scores["fact_recall"] == 0.5
    assert scores["cited"] == 4 / 5
    assert scores["verbatim"] == 3 / 4  # the voice's quote is not in article c
    assert scores["copy_pairs"] == 1  # summary from a, a key point from b: one story
    assert scores["stories"] == 2 and scores["sentences"] == 5


def test_points_from_one_article_are_not_copies():
    data = briefing([item("The Kessa bridge reopened on Monday.", "a")], [item("Engineers from Vantor checked its piers.", "a")])
    assert score_topic(Archive(), data, [["Vantor"]])["copy_pairs"] == 0


def test_a_topic_naming_a_question_the_gold_lacks_is_one_sentence(tmp_path):
    topics, gold = tmp_path / "topics.jsonl", tmp_path / "gold.jsonl"
    topics.write_text(json.dumps({"id": "t1", "topic": "Kessa bridge", "as_of": "2026-03-01", "questions": ["q9"]}) + "\n")
    gold.write_text(json.dumps({"id": "q1", "answers": ["Vantor"]}) + "\n")
    with pytest.raises(ValueError, match="Topic t1 names questions the gold file .* does not hold: q9"):
        run_briefing_topics(Archive(), topics, gold)
    topics.write_text('{"id": "t1", "topic": "no date"}\n')
    with pytest.raises(ValueError, match="Line 1 of .* is not a topics row: it needs id, topic, as_of, questions"):
        run_briefing_topics(Archive(), topics, gold)
