"""The incremental keyword index: per-article writes, other instances catching up, and the same ranking
as an index built from scratch (and as bm25s, which it replaced)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from rag.text import expand_abbreviations
from vectorstore import keyword as keyword_module
from vectorstore.filters import PassageFilter
from vectorstore.keyword import KeywordIndex

TEXTS = {
    "kherson": ["Ukrainian troops crossed the Dnipro near Kherson at dawn.", "Residents of Kherson queued for water."],
    "grain": ["Grain exports across the Marrow Strait resumed under the corridor deal.",
              "Ships loaded with grain left Odesa for Istanbul."],
    "power": ["Power was cut for twelve hours after strikes on the grid.", "Engineers restored power to Kharkiv."],
    "metro": ["Families sheltered in the Kharkiv metro during the shelling."],
}


def passages(article: str, texts: list[str], content_hash: str = "h1", date: int = 20220601,
             source: str = "reuters") -> tuple[str, list[dict]]:
    return content_hash, [{"id": f"{article}#{i}", "text": text,
                           "metadata": {"article_id": article, "date_min": date, "date_max": date,
                                        "source_key": source, "content_hash": content_hash}}
                          for i, text in enumerate(texts)]


def rows(index: KeywordIndex) -> dict[str, tuple[int, bytes]]:
    """Passage id -> (database row, its terms), as stored."""
    with sqlite3.connect(index.path / "keyword.sqlite3") as db:
        return {pid: (row, terms) for row, pid, terms in db.execute("SELECT row, id, terms FROM passages")}


@pytest.fixture
def index(tmp_path):
    index = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    index.update({a: passages(a, t) for a, t in TEXTS.items() if a != "metro"}, version="v1")
    return index


def test_add_remove_and_replace_touch_only_that_articles_rows(index):
    before = rows(index)
    index.update(dict([("metro", passages("metro", TEXTS["metro"]))]), version="v2")
    after = rows(index)
    assert set(after) - set(before) == {"metro#0"}
    assert {pid: after[pid] for pid in before} == before, "adding an article rewrote another one's rows"

    index.update({"grain": passages("grain", ["Grain silos in Mykolaiv were hit."], content_hash="h2")}, version="v3")
    replaced = rows(index)
    assert set(replaced) == set(after) - {"grain#1"}
    assert replaced["grain#0"] != after["grain#0"]
    assert {pid: replaced[pid] for pid in replaced if not pid.startswith("grain#")} == {
        pid: after[pid] for pid in after if not pid.startswith("grain#")}

    index.update({}, remove=["power"], version="v4")
    removed = rows(index)
    assert set(removed) == set(replaced) - {"power#0", "power#1"}
    assert {pid: replaced[pid] for pid in removed} == removed
    assert index.articles() == {"kherson": ("h1", 2), "grain": ("h2", 1), "metro": ("h1", 1)}
    assert index.version == "v4" and len(index) == 4
    assert [h.id for h in index.search("grain silos", 3)] == ["grain#0"]
    assert index.search("power grid", 3) == []


def test_an_incremental_index_ranks_exactly_as_one_built_from_scratch(index, tmp_path):
    index.update(dict([("metro", passages("metro", TEXTS["metro"]))]))
    index.update({"grain": passages("grain", ["Grain silos in Kharkiv were hit again."], content_hash="h2")})
    index.update({}, remove=["power"])
    fresh = KeywordIndex(tmp_path / "fresh", normalise=expand_abbreviations)
    fresh.update({"kherson": passages("kherson", TEXTS["kherson"]),
                  "grain": passages("grain", ["Grain silos in Kharkiv were hit again."], content_hash="h2"),
                  "metro": passages("metro", TEXTS["metro"])})
    for query in ["Kharkiv metro shelling", "grain Kharkiv", "water Kherson troops", "power"]:
        ours = [(h.id, round(h.score, 5)) for h in index.search(query, 10)]
        assert ours == [(h.id, round(h.score, 5)) for h in fresh.search(query, 10)], query


def test_scores_are_those_of_bm25s(tmp_path):
    import bm25s

    texts = [t for group in TEXTS.values() for t in group]
    index = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    index.update({a: passages(a, t) for a, t in TEXTS.items()})
    retriever = bm25s.BM25()
    retriever.index(index._tokens(texts), show_progress=False)
    ids = [f"{a}#{i}" for a, group in TEXTS.items() for i in range(len(group))]
    for query in ["Kharkiv metro shelling", "grain exports Marrow Strait", "power power Kharkiv"]:
        tokens = [t for t in index._tokens([query])[0] if t in retriever.vocab_dict]
        scores = retriever.get_scores(tokens)
        expected = {ids[i]: round(float(scores[i]), 4) for i in np.flatnonzero(scores)}
        assert {h.id: round(h.score, 4) for h in index.search(query, 10)} == expected, query


def test_a_second_instance_takes_up_changes_without_reloading(index, monkeypatch):
    other = KeywordIndex(index.path, normalise=expand_abbreviations)
    assert other.load() and set(other.ids) == set(index.ids) and other.version == "v1"
    monkeypatch.setattr(other, "_reset_memory", lambda: pytest.fail("the second instance reloaded everything"))
    index.update({"metro": passages("metro", TEXTS["metro"])}, remove=["power"], version="v2")
    assert other.refresh() == "v2"
    assert set(other.ids) == set(index.ids) and "metro#0" in other.ids and "power#0" not in other.ids
    assert [h.id for h in other.search("metro shelling", 2)] == ["metro#0"]
    assert other.search("power grid", 2) == []


def test_a_second_instance_reloads_when_the_index_was_rebuilt(index):
    other = KeywordIndex(index.path, normalise=expand_abbreviations)
    other.load()
    index.build(passages("metro", TEXTS["metro"])[1], version="v9")
    assert other.refresh() == "v9"
    assert other.ids == ["metro#0"] and other.search("grain", 5) == []


def test_a_second_instance_reloads_when_the_removals_it_missed_were_pruned(index, monkeypatch):
    other = KeywordIndex(index.path, normalise=expand_abbreviations)
    other.load()
    monkeypatch.setattr(keyword_module, "_REMOVED_LOG_ROWS", 1)
    index.update({}, remove=["power"])
    index.update({}, remove=["grain"])
    with sqlite3.connect(index.path / "keyword.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM removed").fetchone()[0] == 1  # the log was cut
    other.refresh()
    assert sorted(other.ids) == ["kherson#0", "kherson#1"]
    assert other.search("grain exports", 5) == [] and other.search("power grid", 5) == []


def test_a_failed_update_changes_nothing(index):
    before = rows(index)
    bad = passages("grain", ["Grain silos were hit."], content_hash="h2")
    bad[1][0]["metadata"]["date_min"] = "not a date"
    with pytest.raises(ValueError):
        index.update({"grain": bad, "metro": passages("metro", TEXTS["metro"])}, version="v2")
    assert rows(index) == before and index.refresh() == "v1"
    assert index.articles()["grain"] == ("h1", 2) and "metro" not in index.articles()


def test_filters_on_dates_and_outlets(tmp_path):
    index = KeywordIndex(tmp_path / "kw")
    index.update({"a": passages("a", ["Kharkiv metro reopened."], date=20220301, source="reuters"),
                  "b": passages("b", ["Kharkiv metro closed."], date=20230301, source="bloomberg"),
                  "c": passages("c", ["Kharkiv metro flooded."], date=0, source="bloomberg")})
    assert {h.id for h in index.search("Kharkiv metro", 5)} == {"a#0", "b#0", "c#0"}
    assert [h.id for h in index.search("Kharkiv metro", 5, PassageFilter(since=20230101))] == ["b#0"]
    assert {h.id for h in index.search("Kharkiv metro", 5, PassageFilter(sources=frozenset({"bloomberg"})))} == {"b#0", "c#0"}
    keep, unknown = index.split_by_filter(["c#0", "x#1", "a#0", "b#0"], PassageFilter(until=20221231))
    assert keep == ["a#0"] and unknown == ["x#1"]
    index.update({}, remove=["b"])
    assert index.article_fields(["a", "b", "c", "x"]) == {
        "a": {"date_min": 20220301, "date_max": 20220301, "source_key": "reuters"},
        "c": {"date_min": 0, "date_max": 0, "source_key": "bloomberg"}}  # removed and unknown ones left out


def test_a_damaged_or_older_database_is_started_again(tmp_path):
    folder = tmp_path / "kw"
    folder.mkdir()
    (folder / "keyword.sqlite3").write_bytes(b"not a database at all" * 100)
    index = KeywordIndex(folder)
    assert index.refresh() is None and len(index) == 0
    index.update({"a": passages("a", ["Kharkiv metro reopened."])}, version="v1")
    with sqlite3.connect(folder / "keyword.sqlite3") as db:
        db.execute("UPDATE meta SET value = '1' WHERE key = 'schema'")
    again = KeywordIndex(folder)
    assert again.refresh() is None and again.ids == []


def test_rarity_is_the_bm25_idf_of_the_rarest_word(index, tmp_path):
    import math

    live = len(index)  # 6 passages: "kharkiv" is in one, "grain" in two, "kherson" in two
    idf = lambda df: math.log(1 + (live - df + 0.5) / (df + 0.5))  # noqa: E731
    assert index.rarity("Kharkiv") == pytest.approx(idf(1))
    assert index.rarity("grain") == pytest.approx(idf(2))
    assert index.rarity("Kherson grain Kharkiv") == pytest.approx(idf(1))  # the rarest word decides
    assert index.rarity("Zaporizhzhia") == pytest.approx(idf(0))  # never seen: in no passage
    assert index.rarity("Kharkiv") > index.rarity("grain")
    assert index.rarity("the of") == 0.0  # stop words only: no token
    assert KeywordIndex(tmp_path / "empty").rarity("Kharkiv") == 0.0


def test_loading_reads_rows_in_slices_and_merging_stops_at_the_cap(tmp_path, monkeypatch):
    """A large index is loaded a slice of rows at a time and kept as several segments, never merged past
    _MERGE_POSTINGS (both bound a process's peak memory), and ranks exactly as one merged segment."""
    many = {f"a{i}": passages(f"a{i}", [f"{text} Report {i}." for text in group])
            for i, group in enumerate(list(TEXTS.values()) * 10)}
    writer = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    for article, entry in many.items():
        writer.update({article: entry})
    whole = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    whole.load()
    assert len(whole._segments) == 1  # the defaults: one segment for an index this small

    monkeypatch.setattr(keyword_module, "_LOAD_ROWS", 4)
    monkeypatch.setattr(keyword_module, "_MERGE_POSTINGS", 40)
    slices = []
    apply = KeywordIndex._apply
    monkeypatch.setattr(KeywordIndex, "_apply", lambda self, terms, removed, added: (slices.append(len(added)),
                                                                                      apply(self, terms, removed, added)))
    capped = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    capped.load()
    assert max(slices) == 4 and sum(slices) == len(whole)
    assert len(capped._segments) > 1 and max(segment.size for segment in capped._segments) <= 40
    for query in ["Kharkiv metro shelling", "grain Kharkiv report", "water Kherson troops 7", "power"]:
        expected = [(h.id, round(h.score, 5)) for h in whole.search(query, 20)]
        assert [(h.id, round(h.score, 5)) for h in capped.search(query, 20)] == expected, query


def test_merges_through_many_adds_replacements_and_removals_rank_as_a_fresh_index(tmp_path, monkeypatch):
    """Segments merged (without a sort) while articles come, change and go hold exactly the live postings."""
    import random

    monkeypatch.setattr(keyword_module, "_MERGE_POSTINGS", 60)  # merges stop early, so both paths run
    rng = random.Random(5)
    words = ("harbour ferry strike grain port talks mayor flood bridge court rail power water vote fire "
             "school market budget storm pier").split()
    index = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    index.load()  # in memory from the start, so each update is applied (and merged) as it comes
    live: dict[str, tuple[str, list[dict]]] = {}
    for step in range(120):
        article = f"a{rng.randrange(40)}"
        if article in live and rng.random() < 0.3:
            index.update({}, remove=[article])
            del live[article]
            continue
        texts = [" ".join(rng.choices(words, k=rng.randint(3, 9))) + "." for _ in range(rng.randint(1, 3))]
        live[article] = passages(article, texts, content_hash=f"h{step}")
        index.update({article: live[article]})
    assert len(index._segments) > 1
    fresh = KeywordIndex(tmp_path / "fresh", normalise=expand_abbreviations)
    fresh.update(dict(live))
    for query in ["harbour ferry", "grain port talks", "flood bridge court water", "storm", "mayor vote budget"]:
        expected = sorted((h.id, round(h.score, 5)) for h in fresh.search(query, 200))
        assert sorted((h.id, round(h.score, 5)) for h in index.search(query, 200)) == expected, query


def test_a_process_that_only_writes_never_holds_the_postings(tmp_path):
    """Writing records the rows and the version but reads no postings into memory (an ingest-only process
    would hold about 0.7 KB per passage of the archive for nothing); the first search reads them all."""
    writer = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    for article, texts in TEXTS.items():
        writer.update({article: passages(article, texts)}, version=f"v-{article}")
    writer.update({}, remove=["kherson"], version="v-last")
    assert writer.refresh() == "v-last"
    assert writer._segments == [] and writer._applied == 0 and not writer._vocab  # nothing read back
    reader = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    reader.load()
    expected = [(h.id, round(h.score, 5)) for h in reader.search("Kharkiv metro power", 10)]
    assert expected and not any(pid.startswith("kherson") for pid, _ in expected)
    assert [(h.id, round(h.score, 5)) for h in writer.search("Kharkiv metro power", 10)] == expected
    assert writer._segments and len(writer) == len(reader)


def test_an_article_added_and_removed_between_two_looks_is_never_applied(tmp_path):
    """A reader that missed an article's whole life (added, then removed, by another process) skips its
    removal and ends exactly like a fresh reader."""
    writer = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    writer.update({"grain": passages("grain", TEXTS["grain"])})
    reader = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    reader.load()
    writer.update({"power": passages("power", TEXTS["power"])})
    writer.update({}, remove=["power"])
    writer.update({"metro": passages("metro", TEXTS["metro"])})
    reader.refresh()
    fresh = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    fresh.load()
    assert len(reader) == len(fresh) == 3
    for query in ["grain", "power Kharkiv", "metro shelling"]:
        assert [(h.id, round(h.score, 5)) for h in reader.search(query, 10)] == \
               [(h.id, round(h.score, 5)) for h in fresh.search(query, 10)], query


def test_a_loaded_index_holds_little_beside_its_postings(tmp_path):
    """Per passage in memory: the postings (8 bytes a term), the arrays, its id; one string per outlet and
    a sorted row array rather than a string and a dict entry per passage (about 160 B more each)."""
    import random
    import tracemalloc

    rng = random.Random(3)
    words = [f"w{i}" for i in range(3000)]
    put = {}
    for a in range(500):
        article = f"article-{a:05d}"
        put[article] = ("h", [{"id": f"{article}#{i}", "text": " ".join(rng.choices(words, k=40)),
                               "metadata": {"article_id": article, "date_min": 20260101, "date_max": 20260101,
                                            "source_key": f"outlet{a % 4}.example"}} for i in range(8)])
    KeywordIndex(tmp_path / "kw").update(put)
    tracemalloc.start()
    try:
        reader = KeywordIndex(tmp_path / "kw")
        reader.load()
        per_passage = tracemalloc.get_traced_memory()[0] / len(reader)
    finally:
        tracemalloc.stop()
    assert per_passage < 750, per_passage  # 671 measured; 824 with a row dict and a string per outlet


def test_hits_and_filters_use_the_database_ids_so_a_removal_elsewhere_drops_out_before_a_refresh(tmp_path):
    """Ids are read from the database, not memory: a passage another process removed is neither a hit nor
    kept by a filter, even before this process takes up the removal; one written since is unknown here."""
    writer = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    writer.update({name: passages(name, texts) for name, texts in TEXTS.items()})
    reader = KeywordIndex(tmp_path / "kw", normalise=expand_abbreviations)
    assert {h.id for h in reader.search("Kharkiv", 10)} == {"power#1", "metro#0"}
    writer.update({}, remove=["metro"])
    writer.update({"later": passages("later", ["Kharkiv trams ran again."])})
    assert {h.id for h in reader.search("Kharkiv", 10)} == {"power#1"}  # not refreshed: "later" unseen
    everything = PassageFilter()
    keep, unknown = reader.split_by_filter(["metro#0", "power#1", "later#0"], everything)
    assert keep == ["power#1"] and unknown == ["metro#0", "later#0"]
    reader.refresh()
    assert {h.id for h in reader.search("Kharkiv", 10)} == {"power#1", "later#0"}


def test_what_was_added_since_a_mark_and_a_rebuild_voids_the_mark(tmp_path):
    """added_since lists the passages another process added since a mark (still held), counts removals,
    and answers None once the index was rebuilt: every passage is new then (rag.retrieval re-opens)."""
    writer = KeywordIndex(tmp_path / "kw")
    writer.update({name: passages(name, texts) for name, texts in TEXTS.items()})
    reader = KeywordIndex(tmp_path / "kw")
    mark = reader.mark()
    assert reader.added_since(mark) == ([], 0)
    writer.update({"later": passages("later", ["Kharkiv trams ran again.", "Buses too."])})
    writer.update({}, remove=["metro"])
    writer.update({"brief": passages("brief", ["A short note."])})
    writer.update({}, remove=["brief"])  # added and removed since: not listed
    reader.refresh()
    added, removed = reader.added_since(mark)
    assert added == ["later#0", "later#1"] and removed >= 1
    writer.build([p for name, texts in TEXTS.items() for p in passages(name, texts)[1]], version="v2")
    reader.refresh()
    assert reader.added_since(mark) is None
