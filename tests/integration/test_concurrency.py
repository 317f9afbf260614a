"""Ten concurrent /v1/ask requests against the real server process all complete correctly."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

QUESTIONS = [
    ("How many civilians remain in Toretsk?", "1,400"),
    ("What was the prewar population of Toretsk?", "60,000"),
] * 5


def test_ten_concurrent_asks(newsrag_server):
    def ask(item):
        question, expected = item
        response = httpx.post(newsrag_server + "/v1/ask", json={"question": question}, timeout=300)
        return response.status_code, response.json(), expected

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(ask, QUESTIONS))
    elapsed = time.perf_counter() - started
    for status, body, expected in results:
        assert status == 200, body
        assert expected in body["answer"] and body["citations"], body
    print(f"10 concurrent /v1/ask: {elapsed:.1f}s, {10 / elapsed:.2f} answers/s")
