"""Hybrid search with fake embeddings: fusion, filters, per-article cap, keyword index upkeep."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.retrieval import build_filter, reciprocal_rank_fusion
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def loaded(fake_service):
    fake_service.ingest([SAMPLE_CORPUS])
    return fake_service


def test_rrf_rewards_agreement():
    scores = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a", "d"]], k=60)
    assert scores["a"] == scores["b"] > scores["c"] > 0
    assert scores["c"] == scores["d"] == pytest.approx(1 / 63)


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_article_that_holds_the_words(loaded, mode):
    hits = loaded.search("Toretsk civilians Filashkin", k=3, mode=mode)
    assert hits[0].article_id == "004_8551b460ac1e439b"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_hits_carry_offsets_into_the_article_text(loaded):
    for hit in loaded.search("Azot chemical plant civilians shelter", k=5):
        article = loaded.article(hit.article_id)
        assert article["text"][hit.start:hit.end] == hit.text
        assert hit.title == article["title"]


def test_at_most_n_passages_per_article(loaded):
    hits = loaded.search("Sievierodonetsk", k=10)
    per_article = {}
    for hit in hits:
        per_article[hit.article_id] = per_article.get(hit.article_id, 0) + 1
    assert max(per_article.values()) <= loaded.settings.max_passages_per_article
    assert len(per_article) == 5  # every article mentions the city: none is crowded out


def test_date_filter(loaded):
    hits = loaded.search("Sievierodonetsk", k=10, since="2022-06-06", until="2022-06-30")
    assert {h.article_id for h in hits} == {"000_da9fdc523bd132db", "001_4073937ff637e79c", "003_103a057d188281ee"}


def test_year_only_date_matches_a_range_inside_that_year(loaded):
    hits = loaded.search("Toretsk", k=10, since="2024-09-01", until="2024-10-31")
    assert {h.article_id for h in hits} == {"004_8551b460ac1e439b"}


def test_date_filter_matching_nothing_returns_nothing(loaded):
    assert loaded.search("Sievierodonetsk", since="2030-01-01") == []
    assert loaded.search("Sievierodonetsk", until="1999-12-31") == []


def test_undated_articles_are_left_out_by_a_date_filter(fake_service, tmp_path):
    (tmp_path / "undated.txt").write_text("Harvest figures for the grain corridor were published.")
    (tmp_path / "dated.txt").write_text(" date 2022-07-01 Harvest figures for the grain corridor rose again.")
    fake_service.ingest([tmp_path])
    assert {h.article_id for h in fake_service.search("harvest grain corridor")} == {"undated", "dated"}
    assert [h.article_id for h in fake_service.search("harvest grain corridor", since="2000-01-01")] == ["dated"]


def test_source_filter_is_case_insensitive(loaded):
    hits = loaded.search("Russian forces", k=10, sources=["bloomberg"])
    assert hits and {h.source for h in hits} == {"Bloomberg"}
    assert loaded.search("Russian forces", sources=["No Such Outlet"]) == []


@pytest.mark.parametrize(
    "since, until, message",
    [("yesterday-ish", None, "--since must be a date"), (None, "13/45/2022", "--until must be a date"),
     ("2022-07-01", "2022-06-01", "is after --until")],
)
def test_bad_dates_are_one_clear_sentence(since, until, message):
    with pytest.raises(ValueError, match=message):
        build_filter(since, until)


def test_empty_query_is_refused(loaded):
    with pytest.raises(ValueError, match="empty"):
        loaded.search("   ")


def test_search_on_empty_store_returns_nothing(fake_service):
    assert fake_service.search("anything at all") == []


def test_json_shape(loaded):
    row = loaded.search("grain exports Black Sea", k=1)[0].to_json()
    assert set(row) == {"article_id", "title", "date", "source", "text", "score", "start", "end", "story",
                        "also_carried_by"}


def test_keyword_index_is_reloaded_from_disk_not_rebuilt(loaded, fake_settings):
    from rag.service import RagService

    loaded.search("grain", k=1)
    other = RagService(fake_settings)
    other.keyword.build = None  # a rebuild would fail loudly
    assert other.search("grain exports Black Sea", k=1, mode="bm25")[0].article_id == "000_da9fdc523bd132db"


def test_a_second_service_sees_articles_another_one_ingested(loaded, fake_settings, tmp_path):
    from rag.service import RagService

    reader = RagService(fake_settings)
    assert reader.search("zeppelin", mode="bm25") == []
    (tmp_path / "new.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour.")
    loaded.ingest([tmp_path / "new.txt"])
    assert [h.article_id for h in reader.search("zeppelin", mode="bm25")] == ["new"]


def test_keyword_index_matches_the_store_after_changes(loaded, tmp_path):
    (tmp_path / "x.txt").write_text("Extra article about a pontoon bridge.")
    loaded.ingest([tmp_path / "x.txt"])
    loaded.delete("000_da9fdc523bd132db")
    loaded.search("bridge", k=1)
    stored = {r["id"] for page in loaded.store.iter_passages() for r in page}
    assert set(loaded.keyword.ids) == stored
    assert not any(pid.startswith("000_da9fdc523bd132db#") for pid in stored)


def _chroma_filtered(service, query, n, where):
    vector = service.embeddings.embed_query(query)
    return [(r["id"], round(r["distance"], 5)) for r in service.store.query(vector, n, where.chroma_where())]


@pytest.mark.parametrize("since,until", [("2022-06-01", "2022-06-09"), ("2022-06-10", None), (None, "2022-06-05"),
                                         ("2024-01-01", "2024-12-31"), ("2031-01-01", None)])
def test_dense_filter_done_in_memory_matches_chromas_filter(loaded, since, until):
    where = build_filter(since, until)
    searcher = loaded.searcher
    searcher.sync_keyword_index()
    for query, n in [("Toretsk civilians", 3), ("Sievierodonetsk retreat", 8), ("missiles", 40)]:
        vector = loaded.embeddings.embed_query(query)
        ours = [(r["id"], round(r["distance"], 5)) for r in searcher._dense(vector, n, where)]
        assert ours == _chroma_filtered(loaded, query, n, where), (query, n)


def test_dense_filter_judges_passages_the_keyword_index_does_not_hold_yet(loaded, tmp_path):
    searcher = loaded.searcher
    searcher.sync_keyword_index()
    (tmp_path / "late.txt").write_text(" date 2022-06-07 Toretsk civilians queued for water at dawn.", encoding="utf-8")
    (tmp_path / "early.txt").write_text(" date 2021-01-07 Toretsk civilians queued for bread at dawn.", encoding="utf-8")
    loaded.ingest([tmp_path])
    where = build_filter("2022-06-01", "2022-06-30")
    vector = loaded.embeddings.embed_query("Toretsk civilians queued at dawn")
    # The keyword index is deliberately left stale: the two new articles are unknown to it.
    ids = [r["metadata"]["article_id"] for r in searcher._dense(vector, 5, where)]
    assert "late" in ids and "early" not in ids
    assert [(r["id"], round(r["distance"], 5)) for r in searcher._dense(vector, 5, where)] == _chroma_filtered(
        loaded, "Toretsk civilians queued at dawn", 5, where)


_dates = st.sampled_from([None, 0, 20220101, 20220605, 20220606, 20221231])


@given(since=st.sampled_from([None, 20220101, 20220606]), until=st.sampled_from([None, 20220605, 20221231]),
       sources=st.sampled_from([None, frozenset({"a"}), frozenset({"a", "b"})]),
       date_min=_dates, date_max=_dates, key=st.sampled_from([None, "", "a", "b"]))
def test_one_records_filter_test_is_the_same_rule_as_the_mask(since, until, sources, date_min, date_max, key):
    """`matches` (one story member or passage at a time) and `mask` (arrays) must never disagree; missing
    fields count as an unknown date and no outlet."""
    from vectorstore.filters import PassageFilter

    where = PassageFilter(since=since, until=until, sources=sources)
    record = {name: value for name, value in (("date_min", date_min), ("date_max", date_max), ("source_key", key))
              if value is not None}
    keep = where.mask(np.asarray([record.get("date_min", 0)]), np.asarray([record.get("date_max", 0)]),
                      np.asarray([record.get("source_key", "")], dtype=object))
    assert where.matches(record) == (True if keep is None else bool(keep[0]))


def _feed(path, *records):
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_outlets_come_with_the_writers_version_and_the_manifest_is_read_only_without_them(fake_service, tmp_path, monkeypatch):
    """A question's outlets are matched against the store's: the writer records them with its last version
    bump, so a reader needs no full manifest read (21 s at 59,453 articles) unless something else bumped."""
    first = _feed(tmp_path / "one.jsonl",
                  {"id": "o1", "title": "Harbour cranes", "text": "Cranes at the harbour were idle all week.", "source": "Coast Post"},
                  {"id": "o2", "title": "Rail strike", "text": "Train drivers stopped work over pay.", "source": " Valley Times "})
    fake_service.ingest([first])
    assert fake_service.store.outlets() == ["Coast Post", "Valley Times"]
    second = _feed(tmp_path / "two.jsonl",
                   {"id": "o3", "title": "Orchard frost", "text": "A late frost hit the apple orchards.", "source": "Hill Herald"})
    fake_service.ingest([second])
    searcher = fake_service.searcher
    read = searcher.store.articles
    searcher.store.articles = lambda *a, **k: pytest.fail("the manifest was read for the outlets")
    assert searcher.outlets() == ["Coast Post", "Hill Herald", "Valley Times"]
    searcher.store.articles = read
    assert fake_service.delete("o3")
    assert fake_service.store.outlets() == ["Coast Post", "Valley Times"]
    fake_service.store.bump_version()  # as another writer would: what was recorded no longer holds
    assert fake_service.store.outlets() is None
    assert searcher.outlets() == ["Coast Post", "Valley Times"]  # from the manifest
    monkeypatch.setattr(fake_service.store, "only_own_changes", lambda since, version: False)  # that writer's
    assert fake_service.delete("o2")  # this writer's manifest is no longer the store's: it records none
    assert fake_service.store.outlets() is None and searcher.outlets() == ["Coast Post"]


def test_a_writer_on_a_chroma_server_records_no_outlets(fake_service, tmp_path, monkeypatch):
    """Another writer may interleave on a server, so the writer's manifest is not the store's there."""
    fake_service.ingest([_feed(tmp_path / "one.jsonl",
                               {"id": "s1", "title": "Ferry delays", "text": "Ferries ran late in fog.", "source": "Isle News"})])
    assert fake_service.store.outlets() == ["Isle News"]
    fake_service.ingest([_feed(tmp_path / "two.jsonl",
                               {"id": "s2", "title": "Bridge works", "text": "The bridge closes for repairs.", "source": "Town Crier"})])
    monkeypatch.setattr(fake_service.store, "url", "http://127.0.0.1:9")  # the client is open: no connection is made
    assert fake_service.delete("s2")  # every change its own, yet on a server
    assert fake_service.store.outlets() is None
    monkeypatch.setattr(fake_service.store, "only_own_changes", lambda since, version: False)
    fake_service.ingest([_feed(tmp_path / "three.jsonl",
                               {"id": "s3", "title": "Bridge works", "text": "The bridge closes for repairs.", "source": "Town Crier"})])
    assert fake_service.store.outlets() is None


def test_passages_written_elsewhere_are_searched_exactly_and_filtered():
    """The exact search beside an outdated HNSW index (rag.retrieval._Recent) ranks by cosine distance and
    keeps only the passages a filter admits."""
    import numpy as np

    from rag.retrieval import _Recent
    from vectorstore.filters import PassageFilter

    records = {"a#0": {"id": "a#0", "text": "x", "metadata": {"source_key": "gazette", "date_min": 20220801, "date_max": 20220801}},
               "b#0": {"id": "b#0", "text": "y", "metadata": {"source_key": "ledger", "date_min": 20220601, "date_max": 20220601}}}
    matrix = np.asarray([[1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    recent = _Recent(records, {"a#0": "x", "b#0": "y"}, ["a#0", "b#0"], matrix, removed=0)
    assert [pid for pid, _ in recent.nearest([0.0, 2.0], 2)] == ["b#0", "a#0"]
    assert recent.nearest([0.0, 2.0], 1)[0][1] == pytest.approx(0.2)
    assert [pid for pid, _ in recent.nearest([0.0, 2.0], 2, PassageFilter(sources=frozenset({"gazette"})))] == ["a#0"]
    assert recent.nearest([0.0, 2.0], 2, PassageFilter(since=20220901)) == []


def test_carriers_counted_on_columns_match_the_member_by_member_count():
    """A big story's carriers are counted on numpy columns (rag.retrieval._Members.carried_by); the count
    must be rag.stories.other_outlets over the members a date filter admits, member by member."""
    import random

    from rag.retrieval import _Members
    from rag.stories import other_outlets
    from vectorstore.filters import PassageFilter

    rng = random.Random(5)
    outlets = ["", "", "reuters", "ap", "bloomberg", "afp", "the verge"]
    for round_ in range(200):
        members = [{"id": f"a{i}", "source_key": rng.choice(outlets),
                    **({} if rng.random() < 0.1 else {"date_min": 20220100 + rng.randrange(1, 28),
                                                      "date_max": 20220100 + rng.randrange(1, 28)})}
                   for i in range(rng.randrange(1, 40))]
        cache = _Members("v")
        cache.add({"s": members})
        low = 20220100 + rng.randrange(1, 28)
        dates = rng.choice([PassageFilter(), PassageFilter(since=low), PassageFilter(until=low),
                            PassageFilter(since=low, until=low + 5)])
        article, outlet = rng.choice(members)["id"], rng.choice(outlets)
        expected = other_outlets([(m["id"], m.get("source_key", "")) for m in members if dates.matches(m)], article, outlet)
        assert cache.carried_by("s", article, outlet, dates) == expected, round_
