"""50 concurrent /v1/ask and /v1/search requests against the real server while an upload ingests articles.

Every request must come back 200 with the right answer (asks) or the right article on top (searches),
the ingest must land every article, and the run must end (no deadlock: each request has a timeout).
The throughput and p95 latency printed here are the ones reported in the README (Web UI and HTTP API).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from eval.metrics import percentile
from eval.synthetic import NEW_PEOPLE, synthetic_articles
from tests.integration.conftest import newsrag_app

pytestmark = pytest.mark.slow

ASKS = [
    ("How many civilians remain in Toretsk?", "1,400"),
    ("What was the prewar population of Toretsk?", "60,000"),
    ("How many people lived in Sievierodonetsk before the invasion?", "100,000"),
]
# (query, a word the top passage must hold: the uploaded articles may rank first, so long as they hold it)
SEARCHES = [
    ("Azot plant fire", "Azot"),
    ("Toretsk coal mining city", "Toretsk"),
    ("advanced missile systems pledged by the United States and Britain", "missile"),
    ("DeepState map service", "DeepState"),
]
UPLOADED = 40


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with newsrag_app(tmp_path_factory, "load") as url:
        yield url


def test_fifty_concurrent_requests_while_ingesting(server, tmp_path):
    client = httpx.Client(base_url=server, timeout=600)
    before = {doc["id"] for doc in client.get("/v1/documents").json()}

    files = [("files", (name, text.encode(), "text/plain")) for name, text in synthetic_articles(UPLOADED, seed=7)]
    upload: dict = {}

    def ingest():
        upload["started"] = time.perf_counter()
        response = httpx.post(server + "/v1/documents", files=files, timeout=900)
        upload["ended"] = time.perf_counter()
        upload["status"], upload["body"] = response.status_code, response.json()

    def request(i: int):
        started = time.perf_counter()
        if i % 2 == 0:
            question, expected = ASKS[(i // 2) % len(ASKS)]
            response = httpx.post(server + "/v1/ask", json={"question": question}, timeout=600)
            kind = "ask"
        else:
            query, expected = SEARCHES[(i // 2) % len(SEARCHES)]
            response = httpx.post(server + "/v1/search", json={"query": query, "k": 5}, timeout=600)
            kind = "search"
        return kind, expected, response.status_code, response.json(), started, time.perf_counter()

    writer = threading.Thread(target=ingest)
    writer.start()
    time.sleep(1.0)  # the upload is under way (40 articles take far longer than this to embed)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(request, range(50)))
    elapsed = time.perf_counter() - started
    writer.join(timeout=900)
    assert not writer.is_alive(), "the upload never finished"

    assert len(results) == 50
    wrong = []  # every wrong reply in full (signals, passages retrieved, timings), so a failure can be read
    for n, (kind, expected, status, body, began, ended) in enumerate(results):
        if status != 200:
            wrong.append({"request": n, "kind": kind, "status": status, "body": body})
        elif kind == "ask" and not (expected in body["answer"] and body["citations"]):
            wrong.append({"request": n, "kind": kind, "expected": expected, "during_ingest": began < upload["ended"],
                          **{key: body.get(key) for key in ("question", "answer", "abstained", "kind", "signals",
                                                           "retrieved", "timings", "fallback")},
                          "shown": [text[:160] for text in body.get("shown", [])]})
        elif kind == "search" and not (body and expected in body[0]["text"]):
            wrong.append({"request": n, "kind": kind, "expected": expected, "top": body[:2]})
    assert not wrong, json.dumps(wrong, indent=1, default=str)
    # The requests overlapped the ingest: some were answered before it ended.
    assert min(r[5] for r in results) < upload["ended"], "the ingest ended before any request was answered"

    assert upload["status"] == 200, upload["body"]
    assert upload["body"]["added"] == UPLOADED and not upload["body"]["failed"], upload["body"]
    after = {doc["id"] for doc in client.get("/v1/documents").json()}
    assert len(after - before) == UPLOADED and before <= after
    health = client.get("/health").json()
    assert health["articles"] == len(after)

    # The new articles are searchable from the same process, without a restart.
    new_ids = after - before
    for _, text in list(synthetic_articles(UPLOADED, seed=7))[:5]:
        # A sentence naming a person only synthetic articles name: the longest sentence overall can be one
        # whose only change is a synonym, which the sample article holds too and may rank above the copy.
        sentence = max((s for s in text.split(". ") if any(name in s for name in NEW_PEOPLE)), key=len)[:300]
        hits = client.post("/v1/search", json={"query": sentence, "k": 3}).json()
        assert hits and hits[0]["article_id"] in new_ids, (sentence, hits[:1])

    for kind in ("ask", "search"):
        latencies = [r[5] - r[4] for r in results if r[0] == kind]
        print(f"{len(latencies)} concurrent /v1/{kind}: p50 {statistics.median(latencies):.2f} s, "
              f"p95 {percentile(latencies, 95):.2f} s")
    print(f"50 requests in {elapsed:.1f} s ({50 / elapsed:.2f}/s) while {UPLOADED} articles were ingested in "
          f"{upload['ended'] - upload['started']:.1f} s")
