"""One contract suite for every store backend (embedded Chroma, Chroma server).

Concrete test classes subclass `StoreContract` and provide a `make_store` fixture returning a factory
`make_store(name=..., embedding_name=...) -> ChromaStore` on a fresh, empty backend.
"""

from __future__ import annotations

import pytest

from vectorstore.chroma import ChromaStore, StoreVersionError
from vectorstore.filters import PassageFilter

DIM = 8


def vec(i: int) -> list[float]:
    v = [0.0] * DIM
    v[i % DIM] = 1.0
    return v


def meta(article: str, chunk: int, date: int | None = None, source: str = "") -> dict:
    m = {"article_id": article, "chunk": chunk, "title": f"T {article}", "source": source,
         "source_key": source.lower(), "start": chunk * 10, "end": chunk * 10 + 9}
    if date:
        m["date_min"] = m["date_max"] = date
    return m


class StoreContract:
    @pytest.fixture
    def store(self, make_store) -> ChromaStore:
        store = make_store()
        store.add_passages(
            ids=["a#0", "a#1", "b#0", "c#0"],
            texts=["alpha one", "alpha two", "bravo", "charlie"],
            embeddings=[vec(0), vec(1), vec(2), vec(3)],
            metadatas=[meta("a", 0, 20220605, "Reuters"), meta("a", 1, 20220605, "Reuters"),
                       meta("b", 0, 20220624, "AP"), meta("c", 0)],
        )
        for article in "abc":
            store.put_article(article, {"title": f"T {article}", "status": "complete", "passages": 1,
                                        "text_hash": article}, text=f"text {article}", raw_text=f"raw {article}")
        return store

    def test_count_and_query_nearest_first(self, store):
        assert store.count_passages() == 4
        hits = store.query(vec(2), n=2)
        assert hits[0]["id"] == "b#0"
        assert hits[0]["text"] == "bravo"
        assert hits[0]["metadata"]["article_id"] == "b"
        assert hits[0]["distance"] < hits[1]["distance"]

    def test_query_with_date_filter_leaves_out_undated_and_out_of_range(self, store):
        where = PassageFilter(since=20220601, until=20220610).chroma_where()
        assert {h["id"] for h in store.query(vec(3), n=10, where=where)} == {"a#0", "a#1"}

    def test_date_filter_matching_nothing_returns_nothing(self, store):
        where = PassageFilter(since=20300101).chroma_where()
        assert store.query(vec(0), n=10, where=where) == []

    def test_source_filter(self, store):
        where = PassageFilter(sources=frozenset({"ap"})).chroma_where()
        assert [h["id"] for h in store.query(vec(0), n=10, where=where)] == ["b#0"]

    def test_delete_passages_removes_only_that_article(self, store):
        store.delete_passages("a")
        assert store.count_passages() == 2
        assert {h["metadata"]["article_id"] for h in store.query(vec(0), n=10)} == {"b", "c"}

    def test_iter_passages_pages_through_everything(self, store):
        pages = list(store.iter_passages(batch=3))
        assert [len(p) for p in pages] == [3, 1]
        assert sorted(r["id"] for page in pages for r in page) == ["a#0", "a#1", "b#0", "c#0"]

    def test_passage_text_is_kept_out_of_chromas_full_text_index(self, store):
        """The text is stored in the metadata, not as Chroma's document (which chromadb indexes word by word
        at a third of the write's cost); passages stored as documents by earlier versions read the same."""
        raw = store._call("passages", "get", ids=["b#0"], include=["documents", "metadatas"])
        assert raw["documents"] == [None] and raw["metadatas"][0]["text"] == "bravo"
        store._call("passages", "upsert", ids=["old#0"], documents=["an older passage"], embeddings=[vec(4)],
                    metadatas=[meta("old", 0)])
        for found in (store.get_passages(["old#0", "b#0"]), [r for page in store.iter_passages() for r in page
                                                             if r["id"] in ("old#0", "b#0")]):
            assert {r["id"]: r["text"] for r in found} == {"old#0": "an older passage", "b#0": "bravo"}
            assert all("text" not in r["metadata"] for r in found)
        nearest = store.query(vec(2), 1)[0]
        assert nearest["text"] == "bravo" and "text" not in nearest["metadata"]

    def test_get_passages_by_id(self, store):
        assert [r["text"] for r in store.get_passages(["c#0"])] == ["charlie"]

    def test_manifest_roundtrip_and_filters(self, store):
        assert set(store.articles()) == {"a", "b", "c"}
        record = store.articles(ids=["b"], with_text=True)["b"]
        assert record["text"] == "text b" and record["raw_text"] == "raw b" and record["status"] == "complete"
        store.put_article("b", {"title": "T b", "status": "pending", "passages": 1, "text_hash": "b"})
        assert set(store.articles(where={"status": "complete"})) == {"a", "c"}
        store.delete_article("c")
        assert set(store.articles()) == {"a", "b"}

    def test_article_ids_are_the_manifest_records_without_the_stores_own(self, store):
        assert sorted(store.article_ids()) == sorted(store.articles()) == ["a", "b", "c"]
        store.put_article("b", {"title": "T b", "status": "pending", "passages": 1, "text_hash": "b"})
        assert sorted(store.article_ids({"status": "complete"})) == ["a", "c"]
        assert store.article_ids({"status": "pending"}) == ["b"]
        store.bump_version(outlets=["Reuters"])  # the store's own record sits in the same collection
        store.delete_article("c")
        assert sorted(store.article_ids()) == ["a", "b"]
        # Filters on fields only manifest records carry, negated ones too, never return the store's own
        # record; a filter on one of its fields leaves it out by its kind.
        assert sorted(store.article_ids({"status": {"$ne": "gone"}})) == ["a", "b"]
        assert sorted(store.article_ids({"title": {"$nin": ["T z"]}})) == ["a", "b"]
        assert sorted(store.articles(where={"status": {"$ne": "gone"}})) == ["a", "b"]
        assert sorted(store.article_ids({"version": {"$ne": "x"}})) == ["a", "b"]
        assert store.article_ids({"version": store.version()}) == [] and store.articles(where={"outlets": {"$in": ['["Reuters"]']}}) == {}

    def test_the_manifest_is_read_in_bounded_pages(self, store, monkeypatch):
        """Every record is returned, and no get() asks for more than a page: larger pages made embedded
        Chroma keep memory after each full read (vectorstore/chroma.py _MANIFEST_PAGE)."""
        monkeypatch.setattr("vectorstore.chroma._MANIFEST_PAGE", 2)
        sizes = []
        call = store._call

        def spy(collection, method, **kwargs):
            if collection == "articles" and method == "get":
                sizes.append(kwargs.get("limit") or len(kwargs.get("ids") or []))
            return call(collection, method, **kwargs)

        store.put_articles([(f"x{i}", {"title": "T", "status": "complete", "passages": 1, "text_hash": f"x{i}"}, "t", "")
                            for i in range(5)])
        monkeypatch.setattr(store, "_call", spy)
        assert set(store.articles()) == {"a", "b", "c"} | {f"x{i}" for i in range(5)}
        assert len(store.articles(ids=["a", "b", "c", "x0", "x4"], with_text=True)) == 5
        assert sizes and max(sizes) <= 2

    def test_update_article_metadata_keeps_the_text(self, store):
        record = store.articles(ids=["a"])["a"]
        store.update_article_metadata({"a": {**record, "story": "s-1"}})
        again = store.articles(ids=["a"], with_text=True)["a"]
        assert again["story"] == "s-1" and again["text"] == "text a" and again["status"] == "complete"
        assert set(store.articles(where={"story": "s-1"})) == {"a"}

    def test_version_changes_on_bump(self, store):
        before = store.version()
        assert before
        after = store.bump_version()
        assert after != before and store.version() == after

    def test_outlets_hold_for_the_version_they_were_recorded_with(self, store):
        assert store.outlets() is None
        store.bump_version(outlets=["Zeta Daily", "Alpha Wire"])
        assert store.outlets() == ["Alpha Wire", "Zeta Daily"]
        store.bump_version()
        assert store.outlets() is None

    def test_reopening_keeps_data(self, store, make_store):
        again = make_store(reuse=store)
        assert again.count_passages() == 4
        assert set(again.articles()) == {"a", "b", "c"}

    def test_other_embedding_is_refused_with_a_clear_message(self, make_store):
        first = make_store(embedding_name="minilm")
        first.count_passages()
        other = make_store(reuse=first, embedding_name="fake")
        with pytest.raises(StoreVersionError, match="NEWSRAG_EMBEDDING"):
            other.count_passages()

    def test_store_from_another_schema_version_is_refused(self, make_store, monkeypatch):
        first = make_store()
        first.count_passages()
        import vectorstore.chroma as chroma

        monkeypatch.setattr(chroma, "SCHEMA_VERSION", chroma.SCHEMA_VERSION + 1)
        with pytest.raises(StoreVersionError, match="another newsrag version"):
            make_store(reuse=first).count_passages()
