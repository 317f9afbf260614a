"""The real bundled embedding model, on embedded Chroma and on a real Chroma server."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.service import RagService
from tests.conftest import GOLD, SAMPLE_CORPUS


@pytest.fixture(params=[("embedded", "minilm-int8"), ("server", "minilm-int8"), ("embedded", "minilm")],
                ids=lambda p: "-".join(p))
def service(request, tmp_path):
    mode, embedding = request.param
    url = request.getfixturevalue("chroma_server") if mode == "server" else None
    settings = Settings(data_dir=tmp_path, chroma_url=url, collection=f"it-{tmp_path.name[-20:]}".replace("_", "-"),
                        embedding=embedding, _env_file=None)
    service = RagService(settings)
    yield service
    if url:
        service.store.drop()


def test_ingest_reingest_and_search(service):
    first = service.ingest([SAMPLE_CORPUS])
    assert (first.added, first.failed) == (5, [])
    assert first.embed_seconds > 0
    again = service.ingest([SAMPLE_CORPUS])
    assert (again.unchanged, again.passages) == (5, first.passages)
    hits = service.search("How many civilians are still in Toretsk?", k=3)
    assert hits[0].article_id == "004_8551b460ac1e439b"
    assert "1,400" in " ".join(h.text for h in hits)


def test_semantic_match_without_shared_words(service):
    service.ingest([SAMPLE_CORPUS])
    hits = service.search("food shortages caused by blocked ports", k=3, mode="dense")
    assert "000_da9fdc523bd132db" in {h.article_id for h in hits}


def test_filters_on_real_store(service):
    service.ingest([SAMPLE_CORPUS])
    assert service.search("Sievierodonetsk", since="2031-01-01") == []
    hits = service.search("Sievierodonetsk withdrawal", k=5, since="2022-06-20")
    assert {h.article_id for h in hits} == {"001_4073937ff637e79c", "004_8551b460ac1e439b"}


@pytest.mark.slow
def test_retrieval_benchmark_meets_the_bar():
    """Article-level recall@5 of hybrid search on the gold questions (the README table's default row)."""
    from eval.retrieval_bench import run

    rows = {r["mode"]: r for r in run(GOLD, SAMPLE_CORPUS, [Settings(_env_file=None).chunk_tokens])}
    assert rows["hybrid"]["recall@5"] >= 0.95
    assert rows["hybrid"]["mrr"] >= rows["dense"]["mrr"]
