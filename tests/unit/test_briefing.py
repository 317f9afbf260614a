"""Briefings with fake embeddings: structure, citations, dating, voices, empty topics, API and CLI."""

from __future__ import annotations

import pytest

from rag.briefing import NO_COVERAGE, _explicit_date, _resolve_weekday
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def service(fake_service):
    fake_service.ingest([SAMPLE_CORPUS])
    return fake_service


def all_items(briefing):
    data = briefing.to_json()
    items = data["summary"] + data["key_points"] + data["timeline"] + data["voices"]
    items += [side for d in data["disagreements"] for side in d["sides"]]
    return items


def test_every_sentence_is_cited_and_quoted_verbatim(service):
    briefing = service.brief("Battle for Sievierodonetsk")
    items = all_items(briefing)
    assert items and all(item["citations"] for item in items)
    for item in items:
        for citation in item["citations"]:
            assert citation["quote"] in service.article(citation["article_id"])["text"]
    assert len(briefing.sources) >= 3 and briefing.coverage["used"] == len(briefing.sources)


def test_timeline_is_oldest_first_and_says_where_dates_come_from(service):
    timeline = service.brief("Battle for Sievierodonetsk").timeline
    dates = [event["date"] for event in timeline]
    assert dates == sorted(dates)
    assert {e["date_source"] for e in timeline} <= {"text", "weekday in the text, dated from the article", "article date"}


def test_dates_from_the_text():
    assert _resolve_weekday("troops were ordered out on Friday", "2022-06-24") == "2022-06-24"
    assert _resolve_weekday("fighting on Wednesday", "2022-06-12") == "2022-06-08"
    assert _resolve_weekday("no weekday here", "2022-06-12") is None
    assert _explicit_date("posted June 22, 2022 by a channel", None) == "2022-06-22"
    assert _explicit_date("since March 3 the city", "2022-06-12") == "2022-03-03"


def test_voices_name_the_governor_and_the_mayor_with_roles(service):
    voices = service.brief("Battle for Sievierodonetsk").voices
    speakers = {v["speaker"]: v["role"] for v in voices}
    assert "Serhiy Haidai" in speakers and "Gov" in speakers["Serhiy Haidai"]
    assert "Oleksandr Stryuk" in speakers and "Mayor" in speakers["Oleksandr Stryuk"]


def test_topic_the_archive_does_not_cover(service):
    briefing = service.brief("Volcanic eruptions in Iceland tourism")
    assert briefing.note == NO_COVERAGE
    assert briefing.summary == briefing.key_points == briefing.timeline == briefing.voices == []


def test_date_range_limits_the_articles(service):
    briefing = service.brief("Battle for Sievierodonetsk", since="2022-06-20", until="2022-06-30")
    assert {s["article_id"] for s in briefing.sources} == {"001_4073937ff637e79c"}


def test_markdown_and_api(service, fake_settings):
    from fastapi.testclient import TestClient

    from app import create_app

    markdown = service.brief("Battle for Sievierodonetsk").to_markdown()
    assert markdown.startswith("# Briefing: Battle for Sievierodonetsk") and "## Timeline" in markdown
    client = TestClient(create_app(fake_settings, service))
    data = client.post("/v1/briefings", json={"topic": "Battle for Sievierodonetsk", "max_points": 3}).json()
    assert len(data["key_points"]) <= 3 and data["sources"]
    md = client.post("/v1/briefings?format=md", json={"topic": "Battle for Sievierodonetsk"})
    assert md.headers["content-type"].startswith("text/markdown") and "## Key points" in md.text
    assert client.post("/v1/briefings", json={"topic": ""}).status_code == 422


def test_briefing_html_escapes_article_text():
    from rag.ui import briefing_to_html

    hostile = {"article_id": "x", "title": "<b>t</b>", "date": "2022-06-01", "source": None, "quote": "q"}
    data = {"topic": "<script>x</script>", "note": None, "summary": [{"text": "<img src=x onerror=alert(1)>", "citations": [hostile]}],
            "key_points": [], "timeline": [], "voices": [], "disagreements": [], "coverage": {"matched": 1, "used": 1},
            "sources": [{"article_id": "x", "title": "<b>t</b>", "source": None, "date": "2022-06-01"}]}
    page = briefing_to_html(data)
    assert "<script>" not in page and "<img" not in page and "&lt;img" in page and "<a href='#nr-src-1'>[1]</a>" in page


def test_briefing_eval_scores(service):
    from eval.briefings import score_briefing

    data = service.brief("Battle for Sievierodonetsk").to_json()
    gold = {"id": "t", "must_include": [["Stryuk"], ["no such fact anywhere"]],
            "must_cite": ["001_4073937ff637e79c", "000_da9fdc523bd132db"]}
    scores = score_briefing(service, gold, data)
    assert scores["fact_recall"] == 0.5 and scores["verified"] == 1.0 and scores["cite_recall"] == 1.0
    assert 0 < scores["citation_precision"] < 1
    empty = service.brief("Volcanic eruptions in Iceland tourism").to_json()
    assert score_briefing(service, {"id": "e", "must_include": [], "must_cite": []}, empty) == {"id": "e", "abstention": 1.0}
    wrong = score_briefing(service, {"id": "e", "must_include": [], "must_cite": []}, data)
    assert wrong["abstention"] == 0.0


def test_summary_has_two_to_four_sentences_even_for_one_article(service):
    for topic in ("Battle for Sievierodonetsk", "Russian offensive on Toretsk"):
        summary = service.brief(topic).summary
        assert 2 <= len(summary) <= 4 and all(item["citations"] for item in summary)


def _sentence(article_id: str, day: str, text: str):
    from rag.briefing import Sentence
    from rag.retrieval import SearchHit

    hit = SearchHit(f"{article_id}#0", article_id, article_id, day, "Wire", None, text, 1.0, 0, len(text))
    return Sentence(hit, text, 0, len(text), 1.0)


def test_disagreements_pair_different_figures_and_opposite_moves_from_different_articles():
    from rag.briefing import BriefingBuilder

    figures = [_sentence("a", "2026-03-01", "The harbour authority counted 40 ferries stranded at Dunmore port."),
               _sentence("b", "2026-03-03", "The harbour authority counted 65 ferries stranded at Dunmore port.")]
    found = BriefingBuilder._disagreements(figures)
    assert len(found) == 1 and "different figures" in found[0]["about"]
    assert [side["date"] for side in found[0]["sides"]] == ["2026-03-01", "2026-03-03"]  # older first
    moves = [_sentence("c", "2026-03-02", "Rebel units withdrew from the Kessa river crossing overnight."),
             _sentence("d", "2026-03-04", "Rebel units recaptured the Kessa river crossing overnight.")]
    assert "ground gained" in BriefingBuilder._disagreements(moves)[0]["about"]
    # the same figures, the same article or the same day: no disagreement
    same = [figures[0], _sentence("e", "2026-03-05", "The harbour authority counted 40 ferries stranded at Dunmore port.")]
    assert BriefingBuilder._disagreements(same) == []
    one_article = [figures[0], _sentence("a", "2026-03-06", figures[1].text)]
    assert BriefingBuilder._disagreements(one_article) == []
    same_day = [figures[0], _sentence("f", "2026-03-01", figures[1].text)]
    assert BriefingBuilder._disagreements(same_day) == []
    # sentences that share fewer than two words or names (here one: "counted") are about different things
    unrelated = [figures[0], _sentence("g", "2026-03-07", "Bakers counted 65 loaves.")]
    assert BriefingBuilder._disagreements(unrelated) == []
