"""The RealTime QA and MultiHop-RAG importers, on tiny folders written here in each benchmark's format
(made-up questions and articles: no benchmark text is copied)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.feeds import FeedWriter, article_id_of, outlet_of
from eval.gold import load_gold
from eval.multihop import import_multihop
from eval.realtimeqa import import_realtimeqa
from rag.documents import Article, load_file

pytestmark = pytest.mark.unit

CNN = "https://www.cnn.com/2026/01/08/us/lisvale-dock-strike"
USAT = "https://www.usatoday.com/story/news/2026/01/07/ohio-snow/123"
CHOIR = "https://theweek.co.uk/news/ostmark-choir-school"


def _jsonl(path: Path, rows: list) -> None:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows), encoding="utf-8")


def write_realtimeqa(folder: Path) -> Path:
    """Two weeks in the RealTime QA past/ format: one CNN week (dashed dates), one THE WEEK week (slashes)."""
    folder.mkdir(parents=True, exist_ok=True)
    _jsonl(folder / "20260109_qa.jsonl", [
        {"question_id": "20260109_0", "question_date": "2026-01-08", "question_source": "CNN",
         "question_sentence": "Which port city was the centre of a dockworkers' strike this week?",
         "choices": ["Ostmark", "Varlen", "Brennock", "Lisvale"], "answer": ["3"], "evidence": ""},
        {"question_id": "20260109_1", "question_date": "2026-01-08", "question_source": "CNN",
         "question_sentence": "Which state had the most snow?", "choices": ["Ohio", "Utah", "Maine", "Iowa"],
         "answer": ["0"], "evidence": ""},
    ])
    _jsonl(folder / "20260109_gcs.jsonl", [
        {"question_id": "20260109_0", "search_time": "2026/01/09/23:06", "search_result": [
            {"url": CNN, "title": "Dockworkers walk out in Lisvale", "authors": [], "publish_date": "2026/01/08",
             "text": "CNN —\n\nTensions flared in Lisvale this week after dockworkers walked out over pay."},
            {"url": USAT, "title": "Snow in the Midwest", "authors": [], "publish_date": None,
             "text": "An Ohioan shovelled snow for the third day running, and the roads stayed closed."},
            {"url": "https://www.cnn.com/empty", "title": "A page that did not load"},
        ]},
        {"question_id": "20260109_1", "search_time": "2026/01/09/23:07", "search_result": [
            {"url": USAT, "title": "Snow in the Midwest", "authors": [], "publish_date": None,
             "text": "An Ohioan shovelled snow for the third day running, and the roads stayed closed."},
        ]},
    ])
    _jsonl(folder / "20260619_qa.jsonl", [
        {"question_id": "20260619_0", "question_date": "2026/06/19", "question_source": "THE WEEK",
         "question_sentence": "Which school will the Ostmark choir sing at in September?",
         "choices": ["Kellan Academy", "Ridgefield College", "Harrow Vale School", "Brook Hall"], "answer": ["1"],
         "evidence": ""},
    ])
    _jsonl(folder / "20260619_gcs.jsonl", [
        {"question_id": "20260619_0", "search_time": "2026/06/19/10:00", "search_result": [
            {"url": CHOIR, "title": "Ostmark choir to sing at Ridgefield", "authors": ["A. Writer"], "publish_date": "2026/06/17",
             "text": "The Ostmark choir will sing at Ridgefield College in September, its director said."},
            {"url": CNN, "title": "Dockworkers walk out in Lisvale", "authors": [], "publish_date": "2026/01/08",
             "text": "CNN —\n\nTensions flared in Lisvale this week after dockworkers walked out over pay."},
        ]},
    ])
    (folder / "20260619_qa_nota.jsonl").write_text("not read\n", encoding="utf-8")
    return folder


TC = "https://techcrunch.com/2023/10/05/castelline-trial"
VERGE = "https://www.theverge.com/2023/10/06/vasko-testimony"
AGE = "https://www.theage.com.au/technology/brightfind-20231012"


def write_multihop(folder: Path) -> Path:
    """A MultiHop-RAG sample folder: queries_with_gold.jsonl and derived_evidence_articles.jsonl."""
    folder.mkdir(parents=True, exist_ok=True)

    def evidence(url, fact):
        return {"url": url, "fact": fact, "title": "t", "source": "s", "author": "a", "category": "c",
                "published_at": "2023-10-05T14:00:00+00:00"}

    _jsonl(folder / "derived_evidence_articles.jsonl", [
        {"url": TC, "title": "Castelline founder on trial", "source": "TechCrunch", "author": "A. Reporter",
         "category": "technology", "published_at": "2023-10-05T14:00:00+00:00",
         "facts": ["Oren Vasko is on trial for fraud.", "The trial opened in Manhattan."], "cited_by": ["0", "1"]},
        {"url": VERGE, "title": "Vasko takes the stand", "source": "The Verge", "author": "B. Writer",
         "category": "technology", "published_at": "2023-10-06T09:30:00-04:00",
         "facts": ["The founder of Castelline testified that he made mistakes."], "cited_by": ["0", "2"]},
        {"url": AGE, "title": "Is Brightfind better than the rest?", "source": "The Age", "author": "C. Columnist",
         "category": "technology", "published_at": "2023-10-22T18:00:00+00:00",
         "facts": ["Brightfind ranks its own shops first, she maintains."], "cited_by": ["1"]},
    ])
    _jsonl(folder / "queries_with_gold.jsonl", [
        {"id": "0", "query": "Who is the Castelline founder that TechCrunch and The Verge report on?",
         "question_type": "inference_query", "answer": "Oren Vasko",
         "evidence_list": [evidence(TC, "Oren Vasko is on trial for fraud."),
                           evidence(VERGE, "The founder of Castelline testified that he made mistakes.")]},
        {"id": "1", "query": "Do TechCrunch and The Age report on the same company?", "question_type": "comparison_query",
         "answer": "no", "evidence_list": [evidence(TC, "The trial opened in Manhattan."),
                                           evidence(AGE, "Brightfind ranks its own shops first, she maintains.")]},
        {"id": "2", "query": "Did The Verge report the testimony after TechCrunch reported the trial?",
         "question_type": "temporal_query", "answer": "Yes",
         "evidence_list": [evidence(VERGE, "The founder of Castelline testified that he made mistakes.")]},
        {"id": "3", "query": "What did the Castelline jury eat for lunch?", "question_type": "null_query",
         "answer": "Insufficient information.", "evidence_list": []},
    ])
    return folder


def ingest_folder(folder: Path) -> list[Article]:
    """Every article of a corpus folder as newsrag's own reader loads it; fails on any load error."""
    articles = []
    for path in sorted(folder.iterdir()):
        for item in load_file(path, max_bytes=20_000_000):
            assert isinstance(item, Article), item
            articles.append(item)
    return articles


def test_outlet_and_id_of_a_url():
    assert outlet_of("https://www.cnn.com/2026/x") == "cnn.com"
    assert outlet_of("https://college.usatoday.com/x") == "college.usatoday.com"
    assert article_id_of(CNN) == article_id_of(CNN + " ") and article_id_of(CNN).startswith("cnn-com-")
    assert article_id_of(CNN) != article_id_of(USAT) and len(article_id_of(CNN)) <= 40


def test_realtimeqa_corpus_ingests_with_metadata_and_each_url_once(tmp_path):
    counts = import_realtimeqa(write_realtimeqa(tmp_path / "rtqa"), tmp_path / "corpus", tmp_path / "gold.jsonl")
    assert counts == {"articles": 3, "files": 2, "weeks": 2, "skipped": 1, "questions": 3,
                      "answer_in_corpus": 2, "with_sources": 2}
    assert sorted(p.name for p in (tmp_path / "corpus").iterdir()) == ["realtimeqa-20260109.jsonl",
                                                                     "realtimeqa-20260619.jsonl"]
    articles = {a.url: a for a in ingest_folder(tmp_path / "corpus")}
    assert list(articles) == [CNN, USAT, CHOIR]  # the CNN article of both weeks is written once, in the first
    cnn = articles[CNN]
    assert (cnn.id, cnn.title, cnn.date, cnn.date_source, cnn.source) == (
        article_id_of(CNN), "Dockworkers walk out in Lisvale", "2026-01-08", "header", "cnn.com")
    assert articles[CHOIR].source == "theweek.co.uk" and articles[CHOIR].date == "2026-06-17"
    usat = json.loads((tmp_path / "corpus" / "realtimeqa-20260109.jsonl").read_text().splitlines()[1])
    assert set(usat) == {"id", "title", "text", "url", "source"}  # no publish_date: no "published"
    assert all(p.stat().st_size < 20_000_000 for p in (tmp_path / "corpus").iterdir())


def test_realtimeqa_gold_answers_sources_and_as_of(tmp_path):
    import_realtimeqa(write_realtimeqa(tmp_path / "rtqa"), tmp_path / "corpus", tmp_path / "gold.jsonl")
    gold = {q.id: q for q in load_gold(tmp_path / "gold.jsonl")}
    assert list(gold) == ["20260109_0", "20260109_1", "20260619_0"]
    first = gold["20260109_0"]
    assert (first.question, first.answers, first.type, first.as_of) == (
        "Which port city was the centre of a dockworkers' strike this week?", ["Lisvale"], "factoid", "2026-01-08")
    assert first.sources == [article_id_of(CNN)]
    assert gold["20260109_1"].sources == []  # "Ohioan" is not the whole token "Ohio"
    assert gold["20260619_0"].as_of == "2026-06-19"  # from "2026/06/19"
    assert gold["20260619_0"].answers == ["Ridgefield College"] and gold["20260619_0"].sources == [article_id_of(CHOIR)]


def test_realtimeqa_sample_is_reproducible_and_keeps_whole_weeks(tmp_path):
    folder = write_realtimeqa(tmp_path / "rtqa")
    import_realtimeqa(folder, tmp_path / "corpus", tmp_path / "gold.jsonl")
    runs = []
    for _ in range(2):
        counts = import_realtimeqa(folder, tmp_path / "corpus", tmp_path / "gold.jsonl", limit=1, seed=3)
        files = {p.name: p.read_text() for p in (tmp_path / "corpus").iterdir()}
        runs.append(((tmp_path / "gold.jsonl").read_text(), files))
    assert runs[0] == runs[1] and counts["questions"] == 1 and counts["weeks"] == 1
    assert json.loads(runs[0][0])["id"] == "20260109_0"
    assert list(runs[0][1]) == ["realtimeqa-20260109.jsonl"]  # the earlier full import's other week is gone
    assert counts["articles"] == 2  # the week's distractor stays
    other = import_realtimeqa(folder, tmp_path / "corpus", tmp_path / "gold.jsonl", limit=1, seed=5)
    assert json.loads((tmp_path / "gold.jsonl").read_text())["id"] == "20260619_0" and other["articles"] == 2


def test_realtimeqa_rejects_a_folder_not_in_its_format(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.jsonl").write_text("{}\n")
    with pytest.raises(ValueError, match=r"has no <week>_qa\.jsonl files, so it is not a RealTime QA folder"):
        import_realtimeqa(tmp_path / "other", tmp_path / "c", tmp_path / "g.jsonl")
    with pytest.raises(ValueError, match="is not a folder"):
        import_realtimeqa(tmp_path / "missing", tmp_path / "c", tmp_path / "g.jsonl")
    folder = write_realtimeqa(tmp_path / "rtqa")
    qa = folder / "20260619_qa.jsonl"
    qa.write_text(qa.read_text() + "{broken\n")
    with pytest.raises(ValueError, match=r"20260619_qa\.jsonl line 2 is not valid JSON"):
        import_realtimeqa(folder, tmp_path / "c", tmp_path / "g.jsonl")
    _jsonl(qa, [{"question_id": "x", "question_sentence": "Q?", "choices": ["a"], "answer": ["4"], "question_date": "2026-06-19"}])
    with pytest.raises(ValueError, match=r"20260619_qa\.jsonl line 1 is not a RealTime QA question"):
        import_realtimeqa(folder, tmp_path / "c", tmp_path / "g.jsonl")
    _jsonl(qa, [{"question_id": "x", "question_sentence": "Q?", "choices": ["a"], "answer": ["0"], "question_date": "June"}])
    with pytest.raises(ValueError, match="line 1 has a question_date that is not a whole date"):
        import_realtimeqa(folder, tmp_path / "c", tmp_path / "g.jsonl")
    _jsonl(folder / "20260619_qa.jsonl", [{"question_id": "x", "question_sentence": "Q?", "choices": ["a"],
                                           "answer": ["0"], "question_date": "2026/06/19"}])
    _jsonl(folder / "20260619_gcs.jsonl", [{"question_id": "x", "search_result": [{"title": "no url"}]}])
    with pytest.raises(ValueError, match=r"20260619_gcs\.jsonl line 1 is not a RealTime QA search result"):
        import_realtimeqa(folder, tmp_path / "c", tmp_path / "g.jsonl")
    (folder / "20260619_gcs.jsonl").unlink()
    with pytest.raises(ValueError, match=r"has 20260619_qa\.jsonl but no 20260619_gcs\.jsonl"):
        import_realtimeqa(folder, tmp_path / "c", tmp_path / "g.jsonl")


def test_feed_files_split_before_the_size_cap(tmp_path):
    with FeedWriter(tmp_path, max_bytes=400) as feed:
        feed.start("week")
        for n in range(6):
            feed.add(f"https://example.com/{n}", f"Story {n}", f"Story number {n} is about a ferry. " * 4, "example.com", None)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) > 1 and names[0] == "week-2.jsonl" and "week.jsonl" in names
    assert all(p.stat().st_size <= 400 for p in tmp_path.iterdir())
    assert len(ingest_folder(tmp_path)) == 6


def test_an_article_with_the_text_of_an_earlier_one_answers_with_its_id(tmp_path):
    with FeedWriter(tmp_path) as feed:
        feed.start("week")
        first = feed.add("https://a.com/1", "A", "The same scraped text.", "a.com", None)
        assert feed.add("https://b.com/2", "B", "The same scraped text.", "b.com", None) == first
        assert feed.add("https://c.com/3", "C", "   ", "c.com", None) is None
    assert feed.articles == 1 and feed.skipped == 1


def test_multihop_corpus_and_gold(tmp_path):
    counts = import_multihop(write_multihop(tmp_path / "mh"), tmp_path / "corpus", tmp_path / "gold.jsonl")
    assert counts == {"articles": 3, "skipped": 0, "questions": 4, "unanswerable": 1,
                      "by_type": {"multi-doc": 1, "comparison": 1, "temporal": 1, "unanswerable": 1}}
    articles = {a.url: a for a in ingest_folder(tmp_path / "corpus")}
    tc = articles[TC]
    assert (tc.title, tc.source, tc.date) == ("Castelline founder on trial", "TechCrunch", "2023-10-05")
    assert tc.text == "Oren Vasko is on trial for fraud.\n\nThe trial opened in Manhattan."
    assert articles[VERGE].date == "2023-10-06" and articles[AGE].source == "The Age"
    gold = {q.id: q for q in load_gold(tmp_path / "gold.jsonl")}
    assert list(gold) == ["mh-0", "mh-1", "mh-2", "mh-3"]
    assert (gold["mh-0"].answers, gold["mh-0"].type) == (["Oren Vasko"], "multi-doc")
    assert gold["mh-0"].sources == [article_id_of(TC), article_id_of(VERGE)]
    assert (gold["mh-1"].answers, gold["mh-1"].type) == (["No"], "comparison")
    assert (gold["mh-2"].answers, gold["mh-2"].type, gold["mh-2"].sources) == (["Yes"], "temporal", [article_id_of(VERGE)])
    assert (gold["mh-3"].answers, gold["mh-3"].sources, gold["mh-3"].type) == ([], [], "unanswerable")
    assert all(q.as_of is None for q in gold.values())
    assert json.loads((tmp_path / "gold.jsonl").read_text().splitlines()[0])["as_of"] is None


def test_multihop_sample_is_reproducible_and_keeps_every_article(tmp_path):
    folder = write_multihop(tmp_path / "mh")
    golds = []
    for _ in range(2):
        counts = import_multihop(folder, tmp_path / "corpus", tmp_path / "gold.jsonl", limit=2, seed=5)
        golds.append((tmp_path / "gold.jsonl").read_text())
    assert golds[0] == golds[1] and counts["questions"] == 2 and counts["articles"] == 3
    assert len(ingest_folder(tmp_path / "corpus")) == 3


def test_multihop_rejects_a_folder_not_in_its_format(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no queries_with_gold.jsonl and derived_evidence_articles.jsonl, so it is not a MultiHop-RAG folder"):
        import_multihop(tmp_path / "empty", tmp_path / "c", tmp_path / "g.jsonl")
    folder = write_multihop(tmp_path / "mh")
    queries = folder / "queries_with_gold.jsonl"
    lines = queries.read_text().splitlines()
    queries.write_text("\n".join([lines[0], '{"id": "9", "query": "Q?", "question_type": "opinion_query", "answer": "x"}']) + "\n")
    with pytest.raises(ValueError, match=r"queries_with_gold\.jsonl line 2 is not a MultiHop-RAG query"):
        import_multihop(folder, tmp_path / "c", tmp_path / "g.jsonl")
    queries.write_text(lines[0].replace(VERGE, "https://nowhere.example/x") + "\n")
    with pytest.raises(ValueError, match=r"line 1 cites https://nowhere\.example/x, an article with no facts"):
        import_multihop(folder, tmp_path / "c", tmp_path / "g.jsonl")
    (folder / "derived_evidence_articles.jsonl").write_text('{"url": "https://a.com", "facts": "one string"}\n')
    with pytest.raises(ValueError, match=r"derived_evidence_articles\.jsonl line 1 is not a MultiHop-RAG article"):
        import_multihop(folder, tmp_path / "c", tmp_path / "g.jsonl")


def test_gold_as_of_is_optional_and_validated(tmp_path):
    path = tmp_path / "gold.jsonl"
    row = {"id": "q", "question": "Q?", "answers": ["a"], "sources": [], "type": "comparison"}
    _jsonl(path, [row, {**row, "id": "r", "as_of": "2026-01-08"}])
    assert [q.as_of for q in load_gold(path)] == [None, "2026-01-08"]
    _jsonl(path, [row, {**row, "as_of": "2026/01/08"}])
    with pytest.raises(ValueError, match=r"gold\.jsonl line 2 is not a valid gold question \(as_of: as_of must be an ISO date"):
        load_gold(path)
    _jsonl(path, [{**row, "as_of": "2026-02-30"}])
    with pytest.raises(ValueError, match="line 1 is not a valid gold question"):
        load_gold(path)
