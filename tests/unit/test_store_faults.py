"""Store faults with fake embeddings: a store written by an older newsrag, stale collection objects, and
passages that Chroma stores but leaves out of vector query results."""

from __future__ import annotations

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag.cli import app as cli
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS
from vectorstore.chroma import _META_ID, ChromaStore, StoreVersionError


def _raw_collection(settings, which: str):
    """The Chroma collection itself, bypassing newsrag, to write what another program would have."""
    client = chromadb.PersistentClient(path=str(settings.data_dir / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_collection(f"{settings.collection}-{which}")


def _one_sentence(message: str) -> None:
    assert message.count(". ") == 0 and message.rstrip().endswith(".") and "Traceback" not in message, message


@pytest.fixture
def old_store(fake_settings):
    """A store whose schema marker says it was written by newsrag schema 0."""
    RagService(fake_settings).ingest([SAMPLE_CORPUS])
    articles = _raw_collection(fake_settings, "articles")
    meta = articles.get(ids=[_META_ID], include=["metadatas"])["metadatas"][0]
    articles.update(ids=[_META_ID], metadatas=[{**meta, "schema": 0}])
    return fake_settings


def test_older_store_is_refused_by_the_cli_in_one_sentence(old_store, monkeypatch):
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(old_store.data_dir))
    monkeypatch.delenv("NEWSRAG_CHROMA_URL", raising=False)
    for args in (["search", "Toretsk", "--json"], ["ask", "How many civilians remain in Toretsk?", "--llm", "extractive"],
                 ["docs"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""  # no search hits or answer from a store we cannot read correctly
        message = " ".join(result.stderr.split()).removeprefix("error: ")
        assert "another newsrag version (schema 0, this version reads 1)" in message
        assert "NEWSRAG_DATA_DIR" in message
        _one_sentence(message)


def test_older_store_is_refused_by_the_api_in_one_sentence(old_store):
    from app import create_app

    settings = old_store.model_copy(update={"llm": "extractive"})
    client = TestClient(create_app(settings, RagService(settings)))
    for method, route, body in (("post", "/v1/search", {"query": "Toretsk"}),
                                ("post", "/v1/ask", {"question": "How many civilians remain in Toretsk?"}),
                                ("get", "/v1/documents", None), ("get", "/health", None)):
        response = client.request(method, route, json=body)
        assert response.status_code == 503, (route, response.text)
        message = response.json()["error"]["message"]
        assert "another newsrag version (schema 0" in message
        _one_sentence(message)


def test_data_without_a_schema_marker_is_refused(fake_settings):
    RagService(fake_settings).ingest([SAMPLE_CORPUS])
    _raw_collection(fake_settings, "articles").delete(ids=[_META_ID])
    with pytest.raises(StoreVersionError, match="without a newsrag schema marker") as caught:
        RagService(fake_settings).search("Toretsk")
    _one_sentence(str(caught.value))


def test_empty_store_without_a_marker_gets_one(tmp_path):
    store = ChromaStore(path=tmp_path / "chroma", name="fresh")
    assert store.count_passages() == 0 and store.version()


def test_collections_dropped_behind_our_back_are_reopened(fake_settings):
    """A Chroma server restarted on other data, or another process dropping the store, leaves stale
    collection objects; the next call opens them anew instead of failing with Chroma's NotFoundError."""
    service = RagService(fake_settings)
    service.ingest([SAMPLE_CORPUS])
    assert service.search("Toretsk", mode="dense")
    ChromaStore(path=service.store.path, name=fake_settings.collection).drop()
    assert service.store.count_passages() == 0
    report = service.ingest([SAMPLE_CORPUS])
    assert report.added == 5
    assert service.search("How many civilians remain in Toretsk?", mode="dense")[0].article_id == "004_8551b460ac1e439b"


def test_passage_left_out_of_vector_results_is_written_again(fake_service, monkeypatch):
    """Works around chromadb 1.5.9 embedded losing a fresh record from query() while get() has it."""
    store = fake_service.store
    real_nearest, dropped, rewritten = store.nearest, [], []

    def nearest_losing_one_record_once(embeddings, n):
        found = real_nearest(embeddings, n)
        if not dropped:
            dropped.append(found[0].pop(0)[0])  # the first new passage, nearest to its own vector
        return found

    real_add = store.add_passages

    def add_passages(ids, texts, embeddings, metadatas):
        rewritten.append(list(ids))
        real_add(ids=ids, texts=texts, embeddings=embeddings, metadatas=metadatas)

    monkeypatch.setattr(store, "nearest", nearest_losing_one_record_once)
    monkeypatch.setattr(store, "add_passages", add_passages)
    report = fake_service.ingest([SAMPLE_CORPUS])
    assert dropped and rewritten[-1] == dropped  # written once more, alone
    assert report.to_json()["timings"]["passages_reindexed"] == 1
    assert report.passages == fake_service.passage_count()


def test_repeated_passages_are_not_taken_for_lost_ones(fake_settings, tmp_path):
    """Identical passages tie at distance 0 and may crowd each other out of the neighbours asked for."""
    settings = fake_settings.model_copy(update={"chunk_tokens": 16, "chunk_overlap": 0})
    service = RagService(settings)
    (tmp_path / "repeat.txt").write_text("Shelling hit the Azot chemical plant again on Monday morning. " * 40)
    report = service.ingest([tmp_path / "repeat.txt"])
    assert report.passages > 10
    assert report.passages_reindexed == 0
