"""The keyword index kept in step with the store: only what differs from the manifest is written, whether
the index is behind the store (a writer died before indexing) or ahead of it (an article it holds was
rolled back, deleted or rewritten), and a process sharing the index re-opens Chroma to see new vectors."""

from __future__ import annotations

import pytest

import rag.retrieval
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS


@pytest.fixture
def loaded(fake_service):
    fake_service.ingest([SAMPLE_CORPUS])
    return fake_service


def spy_updates(monkeypatch, service) -> list[tuple[set[str], set[str]]]:
    """Record each index write as (articles put, articles removed)."""
    calls: list[tuple[set[str], set[str]]] = []
    real = service.keyword.update

    def update(put, remove=(), version=None):
        calls.append((set(put), set(remove)))
        return real(put, remove, version)

    monkeypatch.setattr(service.keyword, "update", update)
    monkeypatch.setattr(service.keyword, "clear", lambda: pytest.fail("the index was emptied and rebuilt"))
    return calls


def write_behind_the_index(service, folder, name: str, text: str) -> None:
    """Ingest as a writer that died before it indexed: Chroma has the article, the index does not."""
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    service._ingestor.ingest([folder / f"{name}.txt"])


def test_an_index_behind_the_store_gets_only_the_missing_article(loaded, tmp_path, monkeypatch):
    loaded.search("grain", k=1)
    write_behind_the_index(loaded, tmp_path / "new", "zeppelin", " date 2022-08-01 A zeppelin was seen over the harbour.")
    calls = spy_updates(monkeypatch, loaded)
    assert [h.article_id for h in loaded.search("zeppelin harbour", mode="bm25")] == ["zeppelin"]
    assert [put for put, _ in calls] == [{"zeppelin"}] and all(not removed for _, removed in calls)
    assert loaded.keyword.version == loaded.store.version()


def test_an_index_ahead_of_the_store_loses_the_article_the_store_dropped(loaded, monkeypatch):
    loaded.search("grain", k=1)
    gone = loaded.documents()[0]  # any stored article: its title finds it by keyword while it is indexed
    assert gone["id"] in {h.article_id for h in loaded.search(gone["title"], mode="bm25")}
    loaded._ingestor.remove(gone["id"])  # as a writer that died before re-indexing
    loaded.store.bump_version()
    calls = spy_updates(monkeypatch, loaded)
    assert all(h.article_id != gone["id"] for h in loaded.search(gone["title"], mode="bm25"))
    assert calls == [(set(), {gone["id"]})]
    assert not any(pid.startswith(f"{gone['id']}#") for pid in loaded.keyword.ids)


def test_a_rewritten_article_is_indexed_again_by_its_content_hash(loaded, tmp_path, monkeypatch):
    write_behind_the_index(loaded, tmp_path / "v", "story", " date 2022-08-01 A zeppelin was seen over the harbour.")
    loaded.search("zeppelin", k=1)
    write_behind_the_index(loaded, tmp_path / "v", "story", " date 2022-08-01 A balloon drifted over the harbour.")
    calls = spy_updates(monkeypatch, loaded)
    assert [h.article_id for h in loaded.search("balloon", mode="bm25")] == ["story"]
    assert loaded.search("zeppelin", mode="bm25") == []
    assert [put for put, _ in calls] == [{"story"}]


@pytest.mark.parametrize("embed_at_most", [256, 0])
def test_a_process_sharing_the_index_catches_up_without_indexing_again(loaded, fake_settings, tmp_path, monkeypatch,
                                                                       embed_at_most):
    """The keyword index is already current (the writer indexed it); the reader's vectors are not: it
    searches the new passages exactly beside its HNSW index (tests/integration/test_multiprocess.py has
    the two-process case), or re-opens the store when there are more than it would embed."""
    monkeypatch.setattr(rag.retrieval, "_RECENT_EMBED", embed_at_most)
    reader = RagService(fake_settings)
    reader.search("grain", k=1)
    (tmp_path / "new.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour.", encoding="utf-8")
    loaded.ingest([tmp_path / "new.txt"])  # indexes it in the shared index: the reader has nothing to index
    reopened = []
    monkeypatch.setattr(reader.store, "refresh", lambda: reopened.append(True))
    monkeypatch.setattr(reader.keyword, "update", lambda *a, **k: pytest.fail("the reader indexed again"))
    assert [h.article_id for h in reader.search("zeppelin harbour", mode="bm25")] == ["new"]
    assert [h.article_id for h in reader.search("zeppelin harbour", k=1, mode="dense")] == ["new"]
    assert reopened == ([] if embed_at_most else [True])
    assert (reader.searcher._recent is not None) == bool(embed_at_most)


def test_nothing_is_read_while_the_store_version_stays(loaded, monkeypatch):
    loaded.search("grain", k=1)
    monkeypatch.setattr(loaded.keyword, "refresh", lambda: pytest.fail("the index was read again"))
    assert loaded.search("grain exports", k=1, mode="bm25")


def test_force_rebuilds_everything(loaded):
    loaded.search("grain", k=1)
    held = set(loaded.keyword.ids)
    loaded.searcher.sync_keyword_index(force=True)
    assert set(loaded.keyword.ids) == held
    assert loaded.keyword.articles() == {a: (r["content_hash"], r["passages"])
                                         for a, r in loaded.store.articles(where={"status": "complete"}).items()}


def spy_manifest_scans(monkeypatch, service) -> list[dict]:
    """Record each read of the whole manifest (a `where` over every article record)."""
    scans: list[dict] = []
    real = service.store.articles

    def articles(ids=None, where=None, with_text=False):
        if ids is None:
            scans.append(where or {})
        return real(ids=ids, where=where, with_text=with_text)

    monkeypatch.setattr(service.store, "articles", articles)
    return scans


def test_an_ingest_indexes_its_own_articles_without_reading_the_manifest(loaded, tmp_path, monkeypatch):
    loaded.search("grain", k=1)
    calls = spy_updates(monkeypatch, loaded)
    (tmp_path / "zeppelin.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour.", encoding="utf-8")
    loaded.ingest([tmp_path / "zeppelin.txt"])
    gone = next(doc["id"] for doc in loaded.documents() if doc["id"] != "zeppelin")
    scans = spy_manifest_scans(monkeypatch, loaded)
    loaded.delete(gone)
    assert calls == [({"zeppelin"}, set()), (set(), {gone})]
    assert {"status": "complete"} not in scans, "the keyword index read the whole manifest"
    assert [h.article_id for h in loaded.search("zeppelin harbour", mode="bm25")] == ["zeppelin"]
    assert loaded.keyword.version == loaded.store.version()


def test_a_change_by_another_writer_in_between_makes_the_index_compare_the_whole_manifest(loaded, fake_settings,
                                                                                         tmp_path):
    loaded.search("grain", k=1)
    other = RagService(fake_settings)
    write_behind_the_index(other, tmp_path / "other", "balloon", " date 2022-08-01 A balloon drifted over the harbour.")
    (tmp_path / "zeppelin.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour.", encoding="utf-8")
    loaded.ingest([tmp_path / "zeppelin.txt"])
    assert [h.article_id for h in loaded.search("balloon", mode="bm25")] == ["balloon"]
    assert {"balloon", "zeppelin"} <= set(loaded.keyword.articles())


def test_on_a_chroma_server_an_ingest_compares_the_whole_manifest(loaded, tmp_path, monkeypatch):
    loaded.search("grain", k=1)
    monkeypatch.setattr(loaded.store, "url", "http://127.0.0.1:1")  # as if served: several writers may race
    scans = spy_manifest_scans(monkeypatch, loaded)
    (tmp_path / "zeppelin.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour.", encoding="utf-8")
    loaded.ingest([tmp_path / "zeppelin.txt"])
    assert {"status": "complete"} in scans


def test_an_ingest_holds_no_postings_and_warm_up_reads_them_before_the_first_request(fake_settings):
    """A process that only ingests (the CLI, a batch job) writes the index without reading its postings
    back; a server's warm_up reads them at start, so its first search does not pay for it."""
    writer = RagService(fake_settings)
    report = writer.ingest([SAMPLE_CORPUS])
    assert report.added and writer.keyword.version == writer.store.version()  # indexed, up to date
    assert not writer.keyword._segments and not writer.keyword._vocab
    server = RagService(fake_settings)
    server.warm_up()
    assert server.keyword._segments and len(server.keyword) == server.passage_count()


def test_a_writer_does_not_search_its_own_new_passages_exactly(loaded, fake_settings, tmp_path):
    """Its own writes are in its HNSW index: the mark moves past them, so that another process's next
    write is all it embeds again."""
    loaded.search("grain", k=1)
    (tmp_path / "own.txt").write_text(" date 2022-08-01 A kiln fired pottery all night.", encoding="utf-8")
    loaded.ingest([tmp_path / "own.txt"])
    other = RagService(fake_settings)
    (tmp_path / "theirs.txt").write_text(" date 2022-08-02 A zeppelin was seen over the harbour.", encoding="utf-8")
    other.ingest([tmp_path / "theirs.txt"])
    assert [h.article_id for h in loaded.search("zeppelin harbour", k=1, mode="dense")] == ["theirs"]
    assert loaded.searcher._recent is not None and loaded.searcher._recent.ids == ["theirs#0"]
