"""Briefings with fake embeddings: structure, citations, dating, voices, empty topics, API and CLI."""

from __future__ import annotations

import numpy as np
import pytest

from rag.briefing import NO_COVERAGE, _explicit_date, _resolve_weekday, coverage_line
from tests.conftest import SAMPLE_CORPUS

# A topic the sample corpus covers, in words of our own (not a gold topic).
TOPIC = "Fighting around Toretsk"


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
    assert len(briefing.sources) >= 2 and briefing.coverage["used"] == len(briefing.sources)


def test_timeline_is_oldest_first_and_says_where_dates_come_from(service):
    timeline = service.brief("Battle for Sievierodonetsk").timeline
    dates = [event["date"] for event in timeline]
    assert dates == sorted(dates)
    assert {e["date_source"] for e in timeline} <= {"text", "weekday in the text, dated from the article", "article date"}


def test_dates_from_the_text():
    assert _resolve_weekday("troops were ordered out on Friday", "2022-06-24") == "2022-06-24"
    assert _resolve_weekday("fighting on Wednesday", "2022-06-12") == "2022-06-08"
    assert _resolve_weekday("no weekday here", "2022-06-12") is None
    assert _resolve_weekday("closed on Sunday", "2026-03-02") == "2026-03-01"  # a Monday: back across the week's end
    assert _resolve_weekday("on Friday", "2026-03") is None  # a partial date resolves no weekday
    assert _explicit_date("posted June 22, 2022 by a channel", None) == "2022-06-22"
    assert _explicit_date("since March 3 the city", "2022-06-12") == "2022-03-03"
    assert _explicit_date("since March 3 the city", None) is None  # no year anywhere: no date


def test_voices_name_speakers_with_the_role_the_sentence_gives():
    from rag.briefing import BriefingBuilder

    sentences = [_sentence("a", "2026-03-01", "Port Commissioner Adm. Ines Varga said the port would stay shut until Friday."),
                 _sentence("b", "2026-03-02", "“We have no ferries left,” Tomas Brandt told reporters at the quay."),
                 _sentence("c", "2026-03-02", "Ines Varga said again that the port was shut."),  # the same speaker once
                 _sentence("d", "2026-03-03", "The port stayed shut for a third day."),  # nobody speaks
                 _sentence("f", "2026-03-04", "Dock worker Lena Moritz said the cranes were idle.")]
    voices = BriefingBuilder._voices(sentences)
    assert [(v["speaker"], v["role"]) for v in voices] == [("Ines Varga", "Port Commissioner Adm."), ("Tomas Brandt", ""),
                                                          ("Lena Moritz", "")]
    assert voices[0]["citations"][0]["article_id"] == "a"


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
    # a fact the briefing holds (a word of its first summary sentence) and one it cannot hold
    held = next(w.strip(".,;:“”\"'") for w in data["summary"][0]["text"].split() if len(w) > 6)
    gold = {"id": "t", "must_include": [[held], ["no such fact anywhere"]],
            "must_cite": [data["summary"][0]["citations"][0]["article_id"]]}
    scores = score_briefing(service, gold, data)
    assert scores["fact_recall"] == 0.5 and scores["verified"] == 1.0 and scores["cite_recall"] == 1.0
    assert 0 < scores["citation_precision"] < 1
    empty = service.brief("Volcanic eruptions in Iceland tourism").to_json()
    assert score_briefing(service, {"id": "e", "must_include": [], "must_cite": []}, empty) == {"id": "e", "abstention": 1.0}
    wrong = score_briefing(service, {"id": "e", "must_include": [], "must_cite": []}, data)
    assert wrong["abstention"] == 0.0


def test_summary_is_whole_cited_sentences_within_the_word_budget(service, fake_settings):
    budget = fake_settings.briefing.budget_words + fake_settings.briefing.overrun_words
    for topic in ("Battle for Sievierodonetsk", "Russian offensive on Toretsk"):
        summary = service.brief(topic).summary
        assert summary and all(item["citations"] for item in summary)
        assert sum(len(item["text"].split()) for item in summary) <= budget
        assert len({item["text"] for item in summary}) == len(summary)


def _sentence(article_id: str, day: str, text: str, story: str | None = None):
    from rag.briefing import Sentence
    from rag.retrieval import SearchHit
    from vectorstore.embeddings import HashingFakeEmbeddings

    hit = SearchHit(f"{article_id}#0", article_id, article_id, day, "Wire", None, text, 1.0, 0, len(text), story=story)
    vector = np.asarray(HashingFakeEmbeddings().embed_query(text), dtype=np.float32)
    return Sentence(hit, text, 0, 1.0, vector)


def test_disagreements_pair_different_figures_and_a_denial_from_different_stories():
    from rag.briefing import BriefingBuilder

    def pairs(sentences):
        return BriefingBuilder._disagreements(sentences, 0.6)

    figures = [_sentence("a", "2026-03-01", "The harbour authority counted 40 ferries stranded at Dunmore port."),
               _sentence("b", "2026-03-03", "The harbour authority counted 65 ferries stranded at Dunmore port.")]
    found = pairs(figures)
    assert len(found) == 1 and found[0]["about"].startswith("Sources differ (different figures) on: ")
    assert [side["date"] for side in found[0]["sides"]] == ["2026-03-01", "2026-03-03"]  # older first
    denial = [_sentence("c", "2026-03-02", "Port officials confirmed the Kessa river crossing reopened overnight."),
              _sentence("d", "2026-03-02", "Port officials said the Kessa river crossing has not reopened overnight.")]
    assert pairs(denial)[0]["about"].startswith("Sources differ (one side denies what the other states) on: ")  # the same day, two outlets: still a disagreement
    # the same figures, the same article, or copies of one story: no disagreement
    same = [figures[0], _sentence("e", "2026-03-05", "The harbour authority counted 40 ferries stranded at Dunmore port.")]
    assert pairs(same) == []
    one_article = [figures[0], _sentence("a", "2026-03-06", figures[1].text)]
    assert pairs(one_article) == []
    copies = [_sentence("f", "2026-03-01", figures[0].text, story="s1"), _sentence("g", "2026-03-02", figures[1].text, story="s1")]
    assert pairs(copies) == []
    # different figures of different units are not in conflict (40 ferries, 65 per cent of berths)
    units = [figures[0], _sentence("h", "2026-03-07", "The harbour authority counted 65% of berths stranded at Dunmore port.")]
    assert pairs(units) == []
    # sentences far apart in meaning are about different things, even sharing words and a figure
    unrelated = [figures[0], _sentence("i", "2026-03-07", "Bakers in Dunmore counted 65 loaves for the harbour fair.")]
    assert BriefingBuilder._disagreements(unrelated, 0.95) == []
    assert pairs([figures[0], _sentence("j", "2026-03-07", "Bakers counted 65 loaves.")]) == []  # one shared word


def test_facets_are_the_names_several_articles_share_and_the_topic_does_not_give():
    from rag.briefing import _facet_names
    from rag.retrieval import SearchHit

    def hit(article, text):
        return SearchHit(f"{article}#0", article, article, None, None, None, text, 1.0, 0, len(text))

    hits = [hit("a", "Talks in Oslo stalled. Mayor Ines Varga left early."),
            hit("b", "Ines Varga spoke in Oslo on Monday."),
            hit("c", "Delegates met in Oslo again; the Harbour Commission was absent."),
            hit("c", "The Harbour Commission sent a letter.")]
    facets = _facet_names("Port talks in Oslo", hits)
    assert facets == ["Ines Varga"]  # Oslo is in the topic; the commission is named by one article only
    assert "Oslo" not in _facet_names("Oslo", hits)  # a topic that is the name itself
    # an article is read whole: a name in its first passage counts though its last passage lacks it
    split = [hit("a", "Tomas Brandt met Ines Varga."), hit("c", "Tomas Brandt arrived."), hit("c", "Nobody else came.")]
    assert _facet_names("Port talks", split) == ["Tomas Brandt"]
    # at most three facets, the most widely named first
    crowd = [hit(article, "Ines Varga, Tomas Brandt, Lena Moritz and Oskar Lind met in Bergen.") for article in "abc"]
    crowd.append(hit("d", "Ines Varga spoke."))
    facets = _facet_names("Port talks", crowd)
    assert len(facets) == 3 and facets[0] == "Ines Varga"
    assert facets[1:] == sorted(facets[1:])  # names tied on three articles: one order, whatever the hash seed


def test_a_weaker_sentence_counts_as_on_topic_only_beside_one_that_clears_the_threshold():
    from rag.briefing import _on_topic
    from rag.extractive import Evidence

    def evidence(passage, score):
        return Evidence(passage, f"sentence {passage}-{score}", 0, 10, score, False)

    found = [evidence(1, 0.50), evidence(1, 0.15), evidence(2, 0.35), evidence(2, 0.15), evidence(3, 0.31)]
    kept = [(e.passage, e.score) for e in _on_topic(found, 0.40, passage_share=0.3)]
    # passage 1 clears 0.40, so its 0.15 sentence (>= 0.12) stays; passage 2 does not, so its 0.15 goes
    assert kept == [(1, 0.50), (1, 0.15), (2, 0.35), (3, 0.31)]
    assert [(e.passage, e.score) for e in _on_topic(found, 0.40, passage_share=0.75)] == [(1, 0.50), (2, 0.35), (3, 0.31)]


def test_a_weaker_sentence_counts_in_a_passage_beside_an_on_topic_one_of_the_same_article():
    from rag.briefing import _beside, _on_topic
    from rag.extractive import Evidence
    from rag.retrieval import SearchHit

    def hit(pid):
        return SearchHit(pid, pid.split("#")[0], "", None, None, None, "text", 1.0, 0, 4)

    hits = [hit("a#3"), hit("a#4"), hit("a#6"), hit("b#2"), hit("a#2")]
    assert _beside(hits, [hits[0]], width=1) == {1, 2, 5}  # a#3 itself, a#4 and a#2; not a#6 nor b#2
    assert _beside(hits, [hits[0]], width=3) == {1, 2, 3, 5}
    assert _beside(hits, [hits[0]], width=0) == {1}
    found = [Evidence(1, "on topic", 0, 8, 0.50, False), Evidence(2, "beside", 0, 6, 0.15, False),
             Evidence(4, "elsewhere", 0, 9, 0.15, False)]
    kept = [e.sentence for e in _on_topic(found, 0.40, 0.3, _beside(hits, [hits[0]], 1))]
    assert kept == ["on topic", "beside"]


def test_neighbours_are_the_adjacent_passages_of_the_same_article(service):
    hits = service.searcher.search("Toretsk coal mining city", 3)
    found = service.searcher.neighbours(hits[:1], width=1)
    article, _, chunk = hits[0].passage_id.rpartition("#")
    expected = {f"{article}#{int(chunk) + step}" for step in (-1, 1)} - {h.passage_id for h in hits[:1]}
    stored = {r["id"] for r in service.store.get_passages(sorted(expected))}
    assert stored and {n.passage_id for n in found[hits[0].passage_id]} == stored
    assert all(n.article_id == hits[0].article_id and n.text for n in found[hits[0].passage_id])
    assert service.searcher.neighbours(hits[:1], width=0) == {hits[0].passage_id: []}


def test_briefing_reads_the_passages_beside_its_on_topic_ones(service, fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder

    asked = []
    original = type(service.searcher).neighbours

    def spy(self, hits, width=1):
        asked.append(width)
        return original(self, hits, width)

    monkeypatch.setattr(type(service.searcher), "neighbours", spy)
    builder = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold, fake_settings.briefing)
    briefing = builder.build(TOPIC)
    assert asked == [fake_settings.briefing.neighbour_passages]
    # neighbouring passages overlap, but no sentence of an article is a point or a summary line twice
    for section in (briefing.key_points, briefing.summary, briefing.timeline):
        texts = [(i["citations"][0]["article_id"], i["text"]) for i in section]
        assert len(texts) == len(set(texts)), section
    asked.clear()
    off = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold,
                          fake_settings.briefing.model_copy(update={"neighbour_passages": 0}))
    briefing = off.build(TOPIC)
    assert asked == [] and briefing.key_points


def test_a_sentence_two_overlapping_passages_share_is_taken_once():
    from rag.briefing import _distinct
    from rag.extractive import Evidence
    from rag.retrieval import SearchHit

    hits = [SearchHit(pid, pid.split("#")[0], "", None, None, None, "t", 1.0, 0, 1) for pid in ("a#1", "a#2", "b#1")]
    found = [Evidence(1, "Same words.", 0, 11, 0.6, False), Evidence(2, "Same words. ", 5, 16, 0.6, False),
             Evidence(3, "Same words.", 0, 11, 0.5, False), Evidence(2, "Other.", 0, 6, 0.4, False)]
    assert [(e.passage, e.sentence) for e in _distinct(found, hits, 40)] == [(1, "Same words."), (3, "Same words."), (2, "Other.")]
    assert len(_distinct(found, hits, 2)) == 2


def test_sentences_of_neighbouring_passages_make_points_but_not_the_summary(service, fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from rag.retrieval import SearchHit

    added = "The fighting around Toretsk went on while both sides dug in near the old mine shafts."

    def neighbours(self, hits, width=1):
        beside = hits[0]
        fake = SearchHit(f"{beside.article_id}#999", beside.article_id, beside.title, beside.date, beside.source,
                         None, added, beside.score, 0, len(added), beside.story)
        return {hit.passage_id: [fake] if hit is beside else [] for hit in hits}

    monkeypatch.setattr(type(service.searcher), "neighbours", neighbours)
    briefing = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold,
                               fake_settings.briefing).build(TOPIC)
    assert added in [i["text"] for i in briefing.key_points]  # read and used
    assert added not in [i["text"] for i in briefing.summary]


def test_a_caption_on_the_topic_is_no_point_event_or_voice(service, fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from rag.retrieval import SearchHit

    caption = "Map of the fighting around Toretsk"  # on the topic, but 6 words: under min_words (8)

    def neighbours(self, hits, width=1):
        beside = hits[0]
        fake = SearchHit(f"{beside.article_id}#999", beside.article_id, beside.title, beside.date, beside.source,
                         None, caption + "\n\n", beside.score, 0, len(caption), beside.story)
        return {hit.passage_id: [fake] if hit is beside else [] for hit in hits}

    monkeypatch.setattr(type(service.searcher), "neighbours", neighbours)
    briefing = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold,
                               fake_settings.briefing).build(TOPIC)
    texts = [i.get("text") or i.get("quote") for i in all_items(briefing)]
    assert briefing.key_points and caption not in texts
    lowered = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold,
                              fake_settings.briefing.model_copy(update={"min_words": 4})).build(TOPIC)
    assert caption in [i.get("text") or i.get("quote") for i in all_items(lowered)]  # the same caption, allowed


def test_coverage_counts_the_outlets_of_the_articles_quoted(fake_service, tmp_path):
    import json

    stories = [
        ("Daily Post", "2026-03-02", "Harbour workers in Dunmore walked out on Monday over pay. The harbour strike in Dunmore "
         "stopped every ferry, the union said, and talks with the port authority broke off after two hours."),
        ("Daily Post", "2026-03-04", "The Dunmore harbour strike entered its third day as ferries stayed tied up. Union leader "
         "Mara Quill said the harbour workers would not return until the port authority raised its offer."),
        ("Evening Star", "2026-03-05", "Ferry passengers queued for buses as the Dunmore harbour strike went on. The port "
         "authority said it had offered harbour workers a raise of four per cent, which the union turned down."),
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps({"id": f"s{n}", "title": f"Harbour strike {n}", "source": source, "date": day,
                                          "text": text}) for n, (source, day, text) in enumerate(stories)), encoding="utf-8")
    fake_service.ingest([feed])
    briefing = fake_service.brief("Dunmore harbour strike")
    assert briefing.coverage["used"] == len(briefing.sources) == 3
    assert briefing.coverage["outlets"] == 2  # two of the three articles come from one outlet
    assert "from 2 outlets" in briefing.to_markdown()


def test_a_neighbour_overlapping_a_passage_adds_no_sentence_twice(service, fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from rag.retrieval import SearchHit

    def neighbours(self, hits, width=1):  # the worst overlap: the next passage repeats every sentence of this one
        def after(hit):
            return f"{hit.article_id}#{int(hit.passage_id.rpartition('#')[2]) + 1}"

        return {hit.passage_id: [SearchHit(after(hit), hit.article_id, hit.title, hit.date, hit.source, None,
                                           hit.text, hit.score, hit.start, hit.end, hit.story)] for hit in hits}

    given = []
    timeline = BriefingBuilder._timeline
    monkeypatch.setattr(type(service.searcher), "neighbours", neighbours)
    monkeypatch.setattr(BriefingBuilder, "_timeline", staticmethod(lambda sentences: given.extend(sentences) or timeline(sentences)))
    BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold,
                    fake_settings.briefing).build(TOPIC)
    seen = [(s.hit.article_id, s.text.strip()) for s in given]
    assert seen and len(seen) == len(set(seen))


def _cite(article_id):
    return {"article_id": article_id, "title": "t", "date": None, "source": None, "quote": "q"}


def test_markdown_renders_every_section_exactly():
    from rag.briefing import Briefing

    briefing = Briefing(
        topic="Harbour strike", since="2026-03-01", note="Only two outlets covered it.",
        summary=[{"text": "Dockers walked out.", "citations": [_cite("a")]},
                 {"text": "Talks resumed.", "citations": [_cite("b"), _cite("a")]}],
        key_points=[{"text": "Cranes stood idle.", "citations": [_cite("b")]}],
        timeline=[{"date": "2026-03-02", "date_source": "text", "text": "The strike began.", "citations": [_cite("a")]}],
        voices=[{"speaker": "Ana Ruiz", "role": "union head", "quote": "We stay out.", "citations": [_cite("a")]},
                {"speaker": "Port Authority", "role": None, "quote": "Ships wait.", "citations": [_cite("b")]}],
        disagreements=[{"about": "how many walked out", "sides": [
            {"date": "2026-03-02", "text": "About 300 walked out.", "citations": [_cite("a")]},
            {"date": None, "text": "About 500 walked out.", "citations": [_cite("unlisted")]}]}],
        sources=[{"article_id": "a", "title": "Strike", "source": "Globe", "date": "2026-03-02"},
                 {"article_id": "b", "title": "Talks", "source": None, "date": None}],
        coverage={"matched": 3, "used": 2, "outlets": 1, "also_carried_by": 4},
    )
    assert briefing.to_markdown() == "\n".join([
        "# Briefing: Harbour strike", "",
        "Period: 2026-03-01 to …", "",
        "Only two outlets covered it.", "",
        "## Summary", "", "Dockers walked out. [1] Talks resumed. [2] [1]", "",
        "## Key points", "", "- Cranes stood idle. [2]", "",
        "## Timeline", "", "- **2026-03-02** (text): The strike began. [1]", "",
        "## Who said what", "", "- **Ana Ruiz**, union head: We stay out. [1]", "- **Port Authority**: Ships wait. [2]", "",
        "## Where sources differ", "", "- how many walked out",
        "  - 2026-03-02: About 300 walked out. [1]", "  - undated: About 500 walked out. [0]", "",
        "## Sources", "", "1. Strike — Globe, 2026-03-02 (a)", "2. Talks — unknown outlet, undated (b)", "",
        "Coverage: 3 stories matched, 2 used, from 1 outlet (also carried by 4 more).",
    ]) + "\n"
    two = {"matched": 1, "used": 1, "outlets": 2, "also_carried_by": 1}
    assert coverage_line(two) == "1 story matched, 1 used, from 2 outlets (also carried by 1 more)."


def test_markdown_of_an_empty_briefing_is_its_title_and_note_only():
    from rag.briefing import Briefing

    empty = Briefing(topic="Harbour strike", until="2026-03-09", note=NO_COVERAGE)
    assert empty.to_markdown() == f"# Briefing: Harbour strike\n\nPeriod: … to 2026-03-09\n\n{NO_COVERAGE}\n"
    plain = Briefing(topic="Harbour strike", sources=[{"article_id": "a", "title": "Strike", "source": "Globe",
                                                        "date": "2026-03-02"}],
                     coverage={"matched": 1, "used": 1, "outlets": 1, "also_carried_by": 0})
    assert plain.to_markdown() == ("# Briefing: Harbour strike\n\n## Sources\n\n1. Strike — Globe, 2026-03-02 (a)\n\n"
                                   "Coverage: 1 story matched, 1 used, from 1 outlet.\n")
    assert Briefing(topic="x", sources=[{"article_id": "a", "title": "t", "source": "s", "date": "d"}],
                    coverage={"matched": 1, "used": 1}).to_markdown().endswith("from 0 outlets.\n")


def test_a_neighbour_already_retrieved_or_beside_two_passages_is_read_once(service, fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from rag.retrieval import SearchHit

    text = "The fighting around Toretsk went on while both sides dug in near the old mine shafts."
    retrieved = []

    def neighbours(self, hits, width=1):
        retrieved.extend(hits)
        new = SearchHit(f"{hits[0].article_id}#999", hits[0].article_id, hits[0].title, hits[0].date, hits[0].source,
                        None, text, hits[0].score, 0, len(text), hits[0].story)
        # the new passage twice (as if beside two on-topic passages) and a passage already retrieved
        return {hit.passage_id: [new, hits[0], new] for hit in hits}

    monkeypatch.setattr(type(service.searcher), "neighbours", neighbours)
    builder = BriefingBuilder(service.searcher, service.embeddings, fake_settings.abstain_threshold, fake_settings.briefing)
    scored = []
    original = builder.scorer.score
    monkeypatch.setattr(builder.scorer, "score", lambda topic, passages: scored.append(list(passages)) or original(topic, passages))
    briefing = builder.build(TOPIC)
    assert retrieved and briefing.key_points
    assert len(scored) == 2 and scored[1] == scored[0] + [text]


def _dated(article_id, day, text, vector=None):
    sentence = _sentence(article_id, day, text)
    if vector is not None:
        sentence.vector = np.asarray(vector, dtype=np.float64)
    return sentence


def test_timeline_dates_from_the_text_then_a_weekday_then_the_article_once_and_keeps_ten():
    from rag.briefing import BriefingBuilder

    sentences = [
        _dated("a", "2026-03-06", "The strike began on March 2 at the container berths."),
        _dated("b", "2026-03-06", "Talks failed on Wednesday after a long night."),  # 2026-03-06 is a Friday
        _dated("c", "2026-03-05", "Union members voted to stay out."),
        _dated("c", "2026-03-05", "Ships queued outside the harbour."),  # article c is dated once
        _dated("a", "2026-03-06", "Cranes stood idle."),  # article a already has an event
        _dated("d", None, "Nobody knows when this happened."),  # no date at all: no event
        _dated("e", "2026-03-01", "Pickets gathered at the gates."),
        _dated("f", "2026-03-02", "Passengers were stranded on Sunday."),  # a Monday: the Sunday before
    ]
    events = BriefingBuilder._timeline(sentences)
    assert [(e["date"], e["date_source"], e["citations"][0]["article_id"]) for e in events] == [
        ("2026-03-01", "article date", "e"), ("2026-03-01", "weekday in the text, dated from the article", "f"),
        ("2026-03-02", "text", "a"), ("2026-03-04", "weekday in the text, dated from the article", "b"),
        ("2026-03-05", "article date", "c")]
    assert events[2]["text"] == "The strike began on March 2 at the container berths."
    many = [_dated(f"x{i}", f"2026-03-{i + 1:02d}", "Something happened.") for i in range(12)]
    assert [e["date"] for e in BriefingBuilder._timeline(many)] == [f"2026-03-{i + 1:02d}" for i in range(10)]


def test_key_points_fold_a_close_sentence_of_another_article_into_one_point():
    from rag.briefing import BriefingBuilder

    sentences = [
        _dated("a", "2026-03-02", "Dockers walked out at dawn.", [1.0, 0.0]),
        _dated("b", "2026-03-02", "Dockers left work at dawn.", [0.8, 0.6]),  # cosine 0.8 exactly: the same point
        _dated("a", "2026-03-03", "Dockers walked out again.", [1.0, 0.0]),  # same point, same article: not cited twice
        _dated("c", "2026-03-04", "Fares rose by a tenth.", [0.0, 1.0]),
        _dated("d", "2026-03-04", "Talks resumed on Friday.", [0.6, -0.8]),
    ]
    points = BriefingBuilder._key_points(sentences, 2)
    assert [[s.hit.article_id for s in group] for group in points] == [["a", "b"], ["c"]]
    assert points[0][1].text == "Dockers left work at dawn."
    apart = [sentences[0], _dated("b", "2026-03-02", "Dockers left.", [0.79, 0.6131])]  # just under 0.8
    assert len(BriefingBuilder._key_points(apart, 6)) == 2


def test_the_summary_weighs_each_sentence_by_its_score_and_places_it_in_its_story(monkeypatch, fake_settings):
    import rag.briefing as briefing_module
    from rag.briefing import BriefingBuilder

    seen = {}

    def select(candidates, vectors, policy, budget_words=None, relevance=None):
        seen.update(candidates=candidates, relevance=relevance)
        return [1]

    monkeypatch.setattr(briefing_module, "select", select)
    first, second = _dated("a", "2026-03-02", "One."), _dated("b", "2026-03-02", "Two.")
    first.hit.start, first.start, first.score = 100, 7, 0.9
    second.hit.story, second.score = "s-1", 0.4
    builder = BriefingBuilder(None, None, 0.5, fake_settings.briefing)
    assert builder._summary([first, second], np.zeros((2, 2))) == [second]
    assert [(c.article, c.offset, c.text) for c in seen["candidates"]] == [("a", 107, "One."), ("s-1", 0, "Two.")]
    assert list(seen["relevance"]) == [0.9, 0.4]


def test_on_topic_keeps_sentences_at_the_thresholds_exactly():
    from rag.briefing import _on_topic
    from rag.extractive import Evidence

    def e(passage, score):
        return Evidence(passage, f"s{passage}-{score}", 0, 1, score, False)

    evidence = [e(1, 0.5), e(1, 0.15), e(2, 0.375), e(2, 0.149), e(3, 0.15), e(4, 0.2)]
    kept = _on_topic(evidence, 0.5, 0.3, beside={4})
    # passage 1 clears the threshold (0.5), so its 0.15 (0.3 of it) counts; passage 2 only reaches 0.375
    # (0.75 of the threshold: kept itself, but its passage is not on the topic); passage 4 lies beside one
    assert [(x.passage, x.score) for x in kept] == [(1, 0.5), (1, 0.15), (2, 0.375), (4, 0.2)]
    assert [(x.passage, x.score) for x in _on_topic(evidence, 0.5, 1.0)] == [(1, 0.5), (2, 0.375)]


def test_disagreements_in_full_each_sentence_in_one_at_most_four_older_side_first():
    from rag.briefing import BriefingBuilder

    figures = ["The harbour authority counted 40 ferries stranded at Dunmore port.",
               "The harbour authority counted 65 ferries stranded at Dunmore port.",
               "The harbour authority counted 90 ferries stranded at Dunmore port."]
    # newest first, and the third sentence also differs from both: it is left out, each sentence serves once
    sentences = [_sentence("b", "2026-03-03", figures[1]), _sentence("a", "2026-03-01", figures[0]),
                 _sentence("c", "2026-03-04", figures[2])]
    found = BriefingBuilder._disagreements(sentences, 0.6)
    assert found == [{"about": "Sources differ (different figures) on: harbour, authority, counted, ferries",
                      "sides": [{"date": "2026-03-01", "text": figures[0], "citations": [sentences[1].citation()]},
                                {"date": "2026-03-03", "text": figures[1], "citations": [sentences[0].citation()]}]}]
    assert sentences[1].citation() == {"article_id": "a", "title": "a", "date": "2026-03-01", "source": "Wire",
                                       "quote": figures[0]}
    # a pair of one story is passed over and the next pair still checked; an undated side comes first
    copy = [_sentence("a", "2026-03-01", figures[0], story="s"), _sentence("d", "2026-03-02", figures[1], story="s"),
            _sentence("e", None, figures[2])]
    sides = [[s["text"] for s in d["sides"]] for d in BriefingBuilder._disagreements(copy, 0.6)]
    assert sides == [[figures[2], figures[0]]]
    # two shared words are enough (cosine left out of it here), one is not
    two = [_sentence("f", "2026-03-01", "Inspectors counted 65 ferries in the bay."),
           _sentence("g", "2026-03-02", "Crews counted 12 ferries near Kessa.")]
    assert len(BriefingBuilder._disagreements(two, -1.0)) == 1
    one = [_sentence("f", "2026-03-01", "Inspectors counted 65 boats in the bay."),
           _sentence("g", "2026-03-02", "Crews counted 12 ferries near Kessa.")]
    assert BriefingBuilder._disagreements(one, -1.0) == []
    # at most four
    many = [_sentence(f"m{i}", f"2026-03-{i + 1:02d}", f"The harbour authority counted {10 * (i + 1)} ferries stranded at Dunmore port.")
            for i in range(10)]
    assert len(BriefingBuilder._disagreements(many, 0.6)) == 4


class _Searcher:
    """A stand-in for the hybrid searcher: fixed hits for every search, no neighbours; records the calls."""

    def __init__(self, hits):
        self.hits, self.calls = hits, []

    def search(self, query, k, where):
        self.calls.append((query, k, where))
        return list(self.hits)

    def neighbours(self, hits, width=1):
        return {hit.passage_id: [] for hit in hits}


def _hit(pid, text, story=None, day="2026-03-02", source="Globe"):
    from rag.retrieval import SearchHit

    return SearchHit(pid, pid.split("#")[0], pid, day, source, None, text, 1.0, 0, len(text), story)


def _scored(builder, monkeypatch, *rows):
    """The builder's scorer gives these scores to sentence 1 of the given passage numbers."""
    from rag.extractive import Evidence

    def score(topic, passages, titles=None, kind=None):
        return [Evidence(p, passages[p - 1], 0, len(passages[p - 1]), s, False) for p, s in rows if p <= len(passages)]

    monkeypatch.setattr(builder.scorer, "score", score)


def test_build_searches_with_the_filters_given_and_dates_the_briefing(fake_settings, monkeypatch):
    from datetime import date

    from rag.briefing import BriefingBuilder
    from rag.retrieval import build_filter
    from vectorstore.embeddings import HashingFakeEmbeddings

    text = "Dockers at the harbour walked out over pay on Monday morning."
    searcher = _Searcher([_hit("a#0", text)])
    builder = BriefingBuilder(searcher, HashingFakeEmbeddings(), 0.5, fake_settings.briefing)
    _scored(builder, monkeypatch, (1, 0.5))  # exactly the threshold: covered
    briefing = builder.build("  Harbour strike ", since="2026-03-01", sources=["Globe"], as_of=date(2026, 3, 9))
    assert (briefing.topic, briefing.since, briefing.until, briefing.note) == ("Harbour strike", "2026-03-01", "2026-03-09", None)
    where = build_filter("2026-03-01", None, ["Globe"], date(2026, 3, 9))
    assert searcher.calls and all(k == 8 and w == where for _, k, w in searcher.calls)
    assert searcher.calls[0][0] == "Harbour strike"
    assert briefing.key_points == [{"text": text, "citations": [{"article_id": "a", "title": "a#0", "date": "2026-03-02",
                                                                 "source": "Globe", "quote": text}]}]
    assert briefing.coverage == {"matched": 1, "used": 1, "outlets": 1, "also_carried_by": 0}
    until = builder.build("Harbour strike", until="2026-03-05", as_of=date(2026, 3, 9))
    assert until.until == "2026-03-05" and searcher.calls[-1][2] == build_filter(None, "2026-03-05", None, date(2026, 3, 9))
    with pytest.raises(ValueError, match=r"^The topic is empty; name what the briefing is about\.$"):
        builder.build("   ")


def test_build_counts_stories_matched_and_reads_only_what_clears_the_thresholds(fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from vectorstore.embeddings import HashingFakeEmbeddings

    texts = ["Dockers at the harbour walked out over pay on Monday morning.",
             "Ferry crews joined the dockers at the harbour on Tuesday evening.",
             "Shipping agents said the harbour queue grew longer every single day.",
             "A bakery in the old town opened a second shop near the station."]
    hits = [_hit("a#0", texts[0], story="s1"), _hit("b#0", texts[1], story="s1"), _hit("c#0", texts[2]), _hit("d#0", texts[3])]
    builder = BriefingBuilder(_Searcher(hits), HashingFakeEmbeddings(), 0.5, fake_settings.briefing)
    # b is a copy of a's story, so a stands for it and the passages read are a, c and d (numbered 1-3);
    # a and c clear the threshold, d is under every threshold
    _scored(builder, monkeypatch, (1, 0.9), (2, 0.6), (3, 0.1))
    briefing = builder.build("Harbour strike")
    assert briefing.coverage["matched"] == 2
    quoted = {c["article_id"] for item in all_items(briefing) for c in item["citations"]}
    assert quoted == {"a", "c"}
    _scored(builder, monkeypatch, (1, 0.49))
    assert builder.build("Harbour strike").note == NO_COVERAGE  # just under the threshold: not covered


def test_voices_skip_unnamed_speech_and_names_that_are_no_person_and_stop_at_eight():
    from rag.briefing import BriefingBuilder

    sentences = [_sentence("a", "2026-03-01", "Officials said the port would stay shut."),  # speech, but nobody named
                 _sentence("b", "2026-03-01", "Outside the Russian Foreign Ministry, Mara Ostrova said the talks had stalled."),
                 *(_sentence(f"p{n}", "2026-03-02", f"{first} {last} said the quay was quiet on day {n}.")
                   for n, (first, last) in enumerate([("Ada", "Brill"), ("Cole", "Dunmore"), ("Edda", "Fenwick"),
                                                       ("Gus", "Harlow"), ("Ivo", "Jessop"), ("Kira", "Lomax"),
                                                       ("Milo", "Nyland"), ("Oona", "Pryce")]))]
    voices = BriefingBuilder._voices(sentences)
    assert [v["speaker"] for v in voices] == ["Mara Ostrova", "Ada Brill", "Cole Dunmore", "Edda Fenwick", "Gus Harlow",
                                              "Ivo Jessop", "Kira Lomax", "Milo Nyland"]  # eight at most
    assert voices[0]["role"] == "" and voices[0]["citations"][0]["article_id"] == "b"


def _with_vector(sentence, *values):
    sentence.vector = np.asarray(values, dtype=np.float32)
    return sentence


def test_disagreements_pass_over_a_pair_and_still_check_the_next_pair_of_the_same_sentence():
    """Each reason to pass a pair over (not the same claim, too little shared, no difference) skips that pair
    only: the first sentence is still compared with the ones after it."""
    from rag.briefing import BriefingBuilder

    base = "The harbour authority counted 40 ferries stranded at Dunmore port."
    later = "The harbour authority counted 90 ferries stranded at Dunmore port."
    for second, vector in [
        ("The harbour authority counted 65 ferries stranded at Dunmore port.", (0.0, 1.0)),  # not close in meaning
        ("Tides rose 65 centimetres overnight.", (1.0, 0.0)),  # one word at most in common
        (base, (1.0, 0.0)),  # the same figure: no difference
    ]:
        sentences = [_with_vector(_sentence("a", "2026-03-01", base), 1.0, 0.0),
                     _with_vector(_sentence("b", "2026-03-02", second), *vector),
                     _with_vector(_sentence("c", "2026-03-03", later), 1.0, 0.0)]
        found = BriefingBuilder._disagreements(sentences, 0.6)
        assert [[side["citations"][0]["article_id"] for side in d["sides"]] for d in found] == [["a", "c"]], second


def test_disagreements_take_a_pair_exactly_at_the_same_claim_cosine():
    from rag.briefing import BriefingBuilder

    sentences = [_with_vector(_sentence("a", "2026-03-01", "The harbour authority counted 40 ferries at Dunmore."), 1.0, 0.0),
                 _with_vector(_sentence("b", "2026-03-02", "The harbour authority counted 65 ferries at Dunmore."), 0.5, 0.75)]
    assert float(sentences[0].vector @ sentences[1].vector) == 0.5
    assert len(BriefingBuilder._disagreements(sentences, 0.5)) == 1
    assert BriefingBuilder._disagreements(sentences, 0.5000001) == []


def test_build_refuses_a_missing_topic_and_gives_six_key_points_unless_asked_for_more(fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from vectorstore.embeddings import HashingFakeEmbeddings

    texts = ["Dockers at the container terminal walked out over pay before dawn on Monday.",
             "Ferry crews joined the stoppage by noon, leaving island passengers stranded for hours.",
             "Shipping agents reported queues of lorries stretching back along the coastal motorway.",
             "The mayor urged both sides to return to talks and offered the town hall as a venue.",
             "Fishermen moved their catch to a rival port further up the coast to keep selling.",
             "Police closed two roads near the terminal after pickets blocked the main gate.",
             "Union leaders promised members a ballot next week on the employers' revised offer.",
             "Exporters warned that cargoes of fresh fruit would spoil within days if ships waited.",
             "Tourists waited in long lines for the few boats still sailing to the islands.",
             "Insurers said claims from importers over delayed goods had risen sharply this month."]
    hits = [_hit(f"h{n}#0", text) for n, text in enumerate(texts)]
    builder = BriefingBuilder(_Searcher(hits), HashingFakeEmbeddings(), 0.5, fake_settings.briefing)
    _scored(builder, monkeypatch, *((n, 0.9 - n / 100) for n in range(1, 11)))
    assert len(builder.build("Harbour strike").key_points) == 6
    assert len(builder.build("Harbour strike", max_points=8).key_points) == 8
    with pytest.raises(ValueError, match=r"^The topic is empty"):
        builder.build(None)


def test_a_disagreement_about_words_only_abbreviations_hold_is_labelled_with_them_spelt_out():
    # "U.S." is compared as "United States": the label gives the words compared, not stems ("senat") or
    # nothing (no word of the sentence as written is a shared term).
    from rag.briefing import BriefingBuilder

    sentences = [_with_vector(_sentence("a", "2026-03-01", "In the U.S. the Gov., the Sen. and the Gen. had 40."), 1.0, 0.0),
                 _with_vector(_sentence("b", "2026-03-02", "Across the U.S. the Gov., the Sen. and the Gen. had 65."), 1.0, 0.0)]
    [found] = BriefingBuilder._disagreements(sentences, 0.6)
    assert found["about"] == "Sources differ (different figures) on: united, states, governor, senator"


class _NeighbourSearcher(_Searcher):
    """The stand-in, with the passages beside each hit that the test gives, recording what was asked."""

    def __init__(self, hits, beside):
        super().__init__(hits)
        self.beside, self.asked = beside, []

    def neighbours(self, hits, width=1):
        self.asked.append(([hit.passage_id for hit in hits], width))
        return {hit.passage_id: list(self.beside.get(hit.passage_id, [])) for hit in hits}


def test_build_reads_the_neighbours_of_on_topic_passages_and_keeps_the_scores_already_given(fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from rag.extractive import Evidence
    from vectorstore.embeddings import HashingFakeEmbeddings

    topic_text = "Dockers at the container terminal walked out over pay before dawn on Monday."
    off_text = "A bakery in the old town opened a second shop near the railway station."
    figure_text = "Some 1,900 workers stayed away from the berths, the port company counted later."
    hits = [_hit("a#0", topic_text), _hit("b#0", off_text)]
    searcher = _NeighbourSearcher(hits, {"a#0": [_hit("a#1", figure_text)], "b#0": [_hit("b#1", off_text + " Again.")]})
    policy = fake_settings.briefing.model_copy(update={"neighbour_passages": 2})
    builder = BriefingBuilder(searcher, HashingFakeEmbeddings(), 0.5, policy)
    calls = []

    def score(topic, passages, titles=None, kind=None):
        calls.append(len(passages))
        # a#0 exactly at the threshold; b#0 off the topic, though the second scoring (with the neighbour
        # among the passages) would rate it higher; a#1 only high enough as a sentence beside a#0
        rows = [(1, 0.5), (2, 0.1)] if len(passages) == 2 else [(1, 0.5), (2, 0.9), (3, 0.2)]
        return [Evidence(p, passages[p - 1], 0, len(passages[p - 1]), s, False) for p, s in rows]

    monkeypatch.setattr(builder.scorer, "score", score)
    briefing = builder.build("Harbour strike")
    assert searcher.asked == [(["a#0"], 2)]  # only the on-topic passage, as far as the policy says
    assert calls == [2, 3]
    points = [item["text"] for item in briefing.key_points]
    assert topic_text in points and figure_text in points and off_text not in points
    assert briefing.coverage["matched"] == 1


def test_build_reads_at_most_forty_sentences(fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from vectorstore.embeddings import HashingFakeEmbeddings

    import random

    rng = random.Random(5)
    vocabulary = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "pu", "ro", "sa", "tu") for b in ("bel", "dor", "fen", "gar", "hul", "jin")]
    # 45 sentences of made-up words, far apart in meaning: none is grouped with another as one point
    texts = [" ".join(rng.sample(vocabulary, 10)).capitalize() + "." for _ in range(45)]
    hits = [_hit(f"h{n}#0", text) for n, text in enumerate(texts)]
    builder = BriefingBuilder(_Searcher(hits), HashingFakeEmbeddings(), 0.5, fake_settings.briefing)
    _scored(builder, monkeypatch, *((n, 0.95 - n / 100) for n in range(1, 46)))
    briefing = builder.build("Harbour strike", max_points=60)
    assert briefing.coverage["matched"] == 45
    assert len(briefing.key_points) == 40
    assert [item["text"] for item in briefing.key_points] == texts[:40]


def test_build_lists_sources_oldest_first_undated_last_and_counts_unnamed_outlets_once_each(fake_settings, monkeypatch):
    from rag.briefing import BriefingBuilder
    from vectorstore.embeddings import HashingFakeEmbeddings

    texts = ["Dockers at the container terminal walked out over pay before dawn on Monday.",
             "Ferry crews joined the stoppage by noon, leaving island passengers stranded for hours.",
             "Shipping agents reported queues of lorries stretching back along the coastal motorway.",
             "The mayor urged both sides to return to talks and offered the town hall as a venue."]
    hits = [_hit("late#0", texts[0], day="2026-03-09", source="Globe"), _hit("none#0", texts[1], day=None, source=None),
            _hit("early#0", texts[2], day="2026-03-01", source=None), _hit("mid#0", texts[3], day="2026-03-05", source="Globe")]
    hits[0].also_carried_by, hits[2].also_carried_by = 3, 1
    builder = BriefingBuilder(_Searcher(hits), HashingFakeEmbeddings(), 0.5, fake_settings.briefing)
    _scored(builder, monkeypatch, (1, 0.9), (2, 0.85), (3, 0.8), (4, 0.75))
    briefing = builder.build("Harbour strike")
    assert [(s["article_id"], s["date"], s["also_carried_by"]) for s in briefing.sources] == [
        ("early", "2026-03-01", 1), ("mid", "2026-03-05", 0), ("late", "2026-03-09", 3), ("none", None, 0)]
    assert briefing.coverage == {"matched": 4, "used": 4, "outlets": 3, "also_carried_by": 4}  # Globe, and two unnamed
