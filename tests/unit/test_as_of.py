"""as_of: the archive as it stood on a day, and relative time in a question resolved against that day."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from rag.dates import parse_as_of, time_hints
from rag.retrieval import build_filter
from rag.service import RagService

# A made-up town's bridge works reported over three months; each report gives a different figure.
ARTICLES = {
    "bridge-jan": ("2026-01-05", "Work starts on the Varlen river bridge",
                   "Crews in Ostmark began work on the Varlen river bridge on Monday. The town council said 40 workers "
                   "would be on site through the winter."),
    "bridge-feb": ("2026-02-20", "Varlen bridge works pass halfway mark",
                   "The Varlen river bridge in Ostmark is half finished, the town council said. About 65 workers "
                   "are now on site, the contractor said."),
    "bridge-mar": ("2026-03-10", "Varlen bridge opens to traffic",
                   "The Varlen river bridge in Ostmark opened to traffic on Tuesday, the town council said. The "
                   "last of 80 workers left the site the same day."),
}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "bridge"
    folder.mkdir()
    for article_id, (day, title, body) in ARTICLES.items():
        (folder / f"{article_id}.md").write_text(f"---\ntitle: {title}\ndate: {day}\nsource: Ostmark Post\n---\n\n{body}\n",
                                                encoding="utf-8")
    return folder


@pytest.fixture
def service(fake_settings, corpus):
    service = RagService(fake_settings.model_copy(update={"llm": "extractive"}))
    service.ingest([corpus])
    return service


def test_parse_as_of_reads_whole_days_only():
    assert parse_as_of("2026-03-01") == date(2026, 3, 1)
    assert parse_as_of("March 1, 2026") == date(2026, 3, 1)
    assert parse_as_of(date(2026, 3, 1)) == date(2026, 3, 1)
    assert parse_as_of(None) is None and parse_as_of("  ") is None
    for bad in ("2026-03", "2026", "not a date"):
        with pytest.raises(ValueError, match="whole date"):
            parse_as_of(bad)


def test_as_of_caps_the_upper_date_limit():
    assert build_filter(as_of=date(2026, 2, 1)).until == 20260201
    assert build_filter(until="2026-12-31", as_of=date(2026, 2, 1)).until == 20260201
    assert build_filter(until="2026-01-10", as_of=date(2026, 2, 1)).until == 20260110
    with pytest.raises(ValueError, match="as-of"):
        build_filter(since="2026-03-01", as_of=date(2026, 2, 1))


def test_relative_time_resolves_against_the_day_asked():
    hints = time_hints("What did the council say this week?", today=date(2026, 2, 21))
    assert (hints.since, hints.until, hints.relative) == ("2026-02-14", "2026-02-21", True)
    # "today" and "now" ask for the newest state of things: they order by recency instead of filtering.
    for question in ("Is the bridge open today?", "How many workers are on site now?"):
        hints = time_hints(question, today=date(2026, 2, 21))
        assert hints.since is None and hints.until is None and hints.prefer_recent
    # A date the question names wins over a relative phrase.
    hints = time_hints("What happened this week, as of March 1, 2026?", today=date(2026, 6, 1))
    assert hints.until == "2026-03-04" and hints.since is None


def test_search_as_of_leaves_out_later_articles(service):
    ids = {hit.article_id for hit in service.search("Varlen river bridge workers", k=10, as_of="2026-02-25")}
    assert ids == {"bridge-jan", "bridge-feb"}
    assert {hit.article_id for hit in service.search("Varlen river bridge workers", k=10)} == set(ARTICLES)


def test_ask_as_of_answers_from_the_archive_of_that_day(service):
    answer = service.ask("How many workers are on the Varlen bridge site?", as_of="2026-02-25")
    assert not answer.abstained
    assert answer.citations and all(c.date <= "2026-02-25" for c in answer.citations)
    assert "bridge-mar" not in answer.retrieved


def test_this_week_asked_as_of_a_day_reads_that_week(service):
    answer = service.ask("How many workers were on the Varlen bridge site this week?", as_of="2026-02-22")
    assert answer.retrieved and set(answer.retrieved) == {"bridge-feb"}


def test_an_empty_relative_window_falls_back_to_the_most_recent(service):
    # Nothing was published in the week before 2026-02-10: the newest article before that day answers.
    answer = service.ask("How many workers were on the Varlen bridge site this week?", as_of="2026-02-10")
    assert answer.retrieved == ["bridge-jan"]


def test_api_takes_as_of_everywhere(fake_settings, service):
    from app import create_app

    client = TestClient(create_app(service.settings, service))
    hits = client.post("/v1/search", json={"query": "Varlen river bridge", "k": 10, "as_of": "2026-01-31"}).json()
    assert {h["article_id"] for h in hits} == {"bridge-jan"}
    data = client.post("/v1/ask", json={"question": "How many workers are on the Varlen bridge site?",
                                        "as_of": "2026-01-31"}).json()
    assert data["retrieved"] == ["bridge-jan"]
    reply = client.post("/v1/chat/completions", json={
        "messages": [{"role": "user", "content": "How many workers are on the Varlen bridge site?"}],
        "as_of": "2026-01-31"}).json()
    assert {c["article_id"] for c in reply["citations"]} == {"bridge-jan"}
    briefing = client.post("/v1/briefings", json={"topic": "Varlen river bridge works", "as_of": "2026-02-25"}).json()
    cited = {s["article_id"] for s in briefing["sources"]}
    assert cited and "bridge-mar" not in cited
    bad = client.post("/v1/search", json={"query": "bridge", "as_of": "2026-02"})
    assert bad.status_code == 400 and "whole date" in bad.json()["error"]["message"]


def test_cli_as_of(monkeypatch, tmp_path, corpus):
    import json

    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "cli-store"))
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.setenv("NEWSRAG_LLM", "extractive")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(corpus)]).exit_code == 0
    result = runner.invoke(app, ["search", "Varlen river bridge", "--k", "10", "--as-of", "2026-01-31", "--json"])
    assert result.exit_code == 0 and {h["article_id"] for h in json.loads(result.stdout)} == {"bridge-jan"}
    result = runner.invoke(app, ["ask", "How many workers are on the Varlen bridge site?", "--as-of", "2026-01-31", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["retrieved"] == ["bridge-jan"]
    result = runner.invoke(app, ["search", "bridge", "--as-of", "soon"])
    assert result.exit_code == 2 and "whole date" in result.stderr


def test_the_fallback_reads_newest_first(service):
    # Nothing in the week before 2026-04-01: all three reports come back, the newest first.
    answer = service.ask("How many workers were on the Varlen bridge site this week?", as_of="2026-04-01")
    assert answer.retrieved == ["bridge-mar", "bridge-feb", "bridge-jan"]


@pytest.mark.parametrize("window", [{"since": "2026-02-04"}, {"until": "2026-02-09"}], ids=["since", "until"])
def test_an_empty_window_the_user_set_is_not_widened(service, window):
    # The user's own date limit holds even where the question also says "this week": no fallback.
    answer = service.ask("How many workers were on the Varlen bridge site this week?", as_of="2026-02-10", **window)
    assert answer.retrieved == [] and answer.abstained


def test_the_fallback_keeps_the_outlets_asked_for(fake_settings, corpus):
    # A newer report from another outlet, more on the question's words: asked of the Ostmark Post alone,
    # the fallback still reads the Ostmark Post alone.
    (corpus / "wire.md").write_text("---\ntitle: Varlen bridge workers\ndate: 2026-01-25\nsource: Valley Wire\n---\n\n"
                                    "How many workers were on the Varlen bridge site? About 50 workers were on the "
                                    "Varlen bridge site in Ostmark this week, the Valley Wire was told.\n",
                                    encoding="utf-8")
    service = RagService(fake_settings.model_copy(update={"llm": "extractive", "answer_passages": 1, "search_k": 3}))
    service.ingest([corpus])
    question = "How many workers were on the Varlen bridge site this week?"
    assert service.ask(question, as_of="2026-02-10").retrieved == ["wire"]
    answer = service.ask(question, as_of="2026-02-10", sources=["Ostmark Post"])
    assert answer.retrieved == ["bridge-jan"]  # one passage: answer_passages, not search_k


def test_newest_first_puts_undated_articles_last(fake_settings, corpus):
    # An undated report on the same works may be older than any: "latest" reads dated reports newest first
    # and the undated one after them, never before.
    (corpus / "undated.md").write_text("---\ntitle: Varlen bridge notes\nsource: Ostmark Post\n---\n\n"
                                       "Workers on the Varlen river bridge in Ostmark were counted, the town council "
                                       "said. The Varlen river bridge works went on.\n", encoding="utf-8")
    service = RagService(fake_settings.model_copy(update={"llm": "extractive", "answer_passages": 4}))
    service.ingest([corpus])
    answer = service.ask("What is the latest on the Varlen river bridge workers?")
    assert answer.retrieved == ["bridge-mar", "bridge-feb", "bridge-jan", "undated"]
