"""kill -9 during ingestion and during indexing: afterwards each article is complete or absent in Chroma
and BM25 alike, the keyword index on disk is whole (each article it holds has all its rows), the next
search indexes only what the index lacks, and running the ingest again completes the job."""

from __future__ import annotations

import json
import sqlite3
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.config import Settings
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS

pytestmark = pytest.mark.slow

ARTICLES = 40


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    bodies = [p.read_text(encoding="utf-8") for p in sorted(SAMPLE_CORPUS.glob("*.txt"))]
    for i in range(ARTICLES):
        text = bodies[i % len(bodies)].replace("Sievierodonetsk", f"Town{i}") * 2
        (folder / f"art{i:03d}.txt").write_text(f" date 2022-07-{1 + i % 28:02d} Story {i}. {text}", encoding="utf-8")
    return folder


def ingest_process(corpus: Path, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "NEWSRAG_EMBEDDING": "fake", "NEWSRAG_DATA_DIR": str(data_dir),
           "NEWSRAG_INGEST_BATCH_SIZE": "4"}
    env.pop("NEWSRAG_CHROMA_URL", None)
    return subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(corpus), "--json"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def assert_index_whole(data_dir: Path) -> dict[str, str]:
    """The keyword index as a killed process left it: every article it holds has exactly its rows (an
    index write is one transaction). Returns article id -> content hash."""
    file = data_dir / "keyword" / "newsrag" / "keyword.sqlite3"
    if not file.exists():
        return {}
    with sqlite3.connect(file) as db:
        held = {a: (h, n) for a, h, n in db.execute("SELECT article_id, content_hash, passages FROM articles")}
        rows = dict(db.execute("SELECT article_id, COUNT(*) FROM passages GROUP BY article_id"))
    assert rows == {a: n for a, (_, n) in held.items() if n}, "the index holds part of an article"
    return {a: h for a, (h, _) in held.items()}


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, embedding="fake", chroma_url=None, _env_file=None)


def assert_consistent(data_dir: Path) -> int:
    assert_index_whole(data_dir)
    service = RagService(settings(data_dir))
    service._ingestor.recover()  # what the next writer does first
    service.store.bump_version()
    manifest = service.store.articles()
    counts: dict[str, int] = {}
    for page in service.store.iter_passages():
        for record in page:
            counts[record["metadata"]["article_id"]] = counts.get(record["metadata"]["article_id"], 0) + 1
    complete = {a for a, r in manifest.items() if r["status"] == "complete"}
    assert set(manifest) == complete, "a pending article survived recovery"
    assert set(counts) <= complete, "passages of an absent article are still stored"
    for article_id in complete:
        assert counts.get(article_id, 0) == manifest[article_id]["passages"], article_id
    service.searcher.sync_keyword_index()
    stored = {r["id"] for page in service.store.iter_passages() for r in page}
    assert set(service.keyword.ids) == stored
    assert assert_index_whole(data_dir) == {a: manifest[a]["content_hash"] for a in complete}
    return len(complete)


def test_kill_minus_9_at_random_points(corpus, tmp_path):
    data_dir = tmp_path / "store"
    rng = random.Random(20261121)
    # Kill points are drawn within the writing part of an ingest as timed on this machine first (a whole
    # run, less the start-up of a run with nothing to ingest), so they land mid-ingest however fast or
    # loaded the machine is.
    (tmp_path / "empty").mkdir()
    started = time.monotonic()
    ingest_process(tmp_path / "empty", tmp_path / "timing-empty").wait(timeout=300)
    startup = time.monotonic() - started
    started = time.monotonic()
    assert ingest_process(corpus, tmp_path / "timing").wait(timeout=300) == 0
    writing = max(time.monotonic() - started - startup, 0.2)
    stored_after_kills = []
    for _ in range(6):
        process = ingest_process(corpus, data_dir)
        time.sleep(startup + rng.uniform(0.05, 0.8) * writing)
        landed = process.poll() is None
        if landed:
            process.send_signal(signal.SIGKILL)
        process.wait()
        stored_after_kills.append(assert_consistent(data_dir))
        if not landed:
            # The ingest finished before the kill (a loaded machine times differently from the timing
            # run): the next try starts on a new, empty store, or every later try would find nothing to do.
            data_dir = tmp_path / f"store-{len(stored_after_kills)}"
    assert min(stored_after_kills) < ARTICLES, "no kill landed mid-ingest; the test proved nothing"
    process = ingest_process(corpus, data_dir)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()
    report = json.loads(out)
    assert report["added"] + report["unchanged"] == ARTICLES and report["failed"] == []
    assert assert_consistent(data_dir) == ARTICLES


INDEX_WORKER = """
import sys
from rag.service import RagService
service = RagService()
service.keyword.clear()
service.searcher._reconcile_keyword_index(service.store.version(), batch_passages=int(sys.argv[1]))
"""


def index_process(data_dir: Path, batch_passages: int) -> subprocess.Popen:
    env = {**os.environ, "NEWSRAG_EMBEDDING": "fake", "NEWSRAG_DATA_DIR": str(data_dir)}
    env.pop("NEWSRAG_CHROMA_URL", None)
    return subprocess.Popen([sys.executable, "-c", INDEX_WORKER, str(batch_passages)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_kill_minus_9_while_indexing_leaves_a_whole_index_that_the_next_search_completes(corpus, tmp_path, monkeypatch):
    data_dir = tmp_path / "store"
    assert ingest_process(corpus, data_dir).wait(timeout=300) == 0
    complete = RagService(settings(data_dir)).store.articles(where={"status": "complete"})
    # One transaction per 20 passages, so a kill lands between transactions as well as inside one.
    started = time.monotonic()
    assert index_process(data_dir, 20).wait(timeout=300) == 0
    whole = time.monotonic() - started
    rng = random.Random(20261201)
    partial = []
    for _ in range(4):
        process = index_process(data_dir, 20)
        time.sleep(rng.uniform(0.5, 1.0) * whole)
        process.send_signal(signal.SIGKILL)
        process.wait()
        held = assert_index_whole(data_dir)
        assert all(complete[a]["content_hash"] == h for a, h in held.items())
        reader = RagService(settings(data_dir))
        put: list[str] = []
        real = reader.keyword.update
        monkeypatch.setattr(reader.keyword, "update", lambda p, r=(), v=None: (put.extend(p), real(p, r, v)))
        monkeypatch.setattr(reader.keyword, "clear", lambda: pytest.fail("the next search rebuilt the whole index"))
        assert reader.search("Town3", k=1, mode="bm25")
        assert sorted(put) == sorted(set(complete) - set(held)), "the next search indexed more than was missing"
        assert assert_index_whole(data_dir) == {a: r["content_hash"] for a, r in complete.items()}
        partial.append(len(held) < len(complete))
    assert any(partial), "no kill landed mid-indexing; the test proved nothing"
