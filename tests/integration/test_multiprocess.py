"""Two processes, one archive: one ingests, the other answers from the new article without restart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from rag.config import Settings
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS


@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_reader_sees_what_another_process_ingested(backend, tmp_path, request):
    url = request.getfixturevalue("chroma_server") if backend == "server" else None
    collection = f"mp-{tmp_path.name[-12:]}".replace("_", "-")
    settings = Settings(data_dir=tmp_path / "reader", chroma_url=url, collection=collection,
                        embedding="fake", _env_file=None)
    reader = RagService(settings)
    reader.ingest([SAMPLE_CORPUS])
    assert all(h.article_id != "zeppelin" for h in reader.search("zeppelin over the harbour", k=3))

    new = tmp_path / "new"
    new.mkdir()
    (new / "zeppelin.txt").write_text(" date 2022-08-01 A zeppelin was seen over the harbour at dawn.")
    env = {**os.environ, "NEWSRAG_EMBEDDING": "fake", "NEWSRAG_COLLECTION": collection,
           "NEWSRAG_DATA_DIR": str(tmp_path / ("writer" if url else "reader"))}
    env.pop("NEWSRAG_CHROMA_URL", None)
    if url:
        env["NEWSRAG_CHROMA_URL"] = url
    done = subprocess.run([sys.executable, "-m", "rag.cli", "ingest", str(new), "--json"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 1

    for mode in ("dense", "bm25", "hybrid"):
        # A Chroma server indexes new records asynchronously: allow it a few seconds (seen once in CI:
        # the dense query right after the writer exited missed the new passage).
        deadline = time.monotonic() + 15
        while True:
            hits = reader.search("zeppelin over the harbour", k=3, mode=mode)
            if (hits and hits[0].article_id == "zeppelin") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert hits and hits[0].article_id == "zeppelin", mode
    answer = reader.ask("What was seen over the harbour at dawn?", backend="extractive")
    assert not answer.abstained and "zeppelin" in answer.answer.lower(), answer.answer
    assert [c.article_id for c in answer.citations] == ["zeppelin"]
    if url:
        reader.store.drop()
