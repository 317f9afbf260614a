"""`newsrag bench --quick` runs every part of the benchmark harness end to end (the numbers are not checked:
the quick sizes are too small to mean anything, and this machine is shared)."""

import json
import subprocess
import sys

from tests.conftest import ROOT

HEADLINE = {"ingest_speedup_vs_naive", "real_news_ingest_share_of_encoder", "embed_share_of_limit", "query_p95_ms", "hnsw_recall_at_10", "ttft_s",
            "answer_speedup_vs_naive", "peak_rss_mb", "add_one_article_s", "second_process_sees_it_s"}


def test_quick_bench_reports_every_headline_figure(tmp_path):
    out = tmp_path / "bench.json"
    # A feed export of articles written as a real one is (not the synthetic generator's files): the real-news
    # ingest is measured on it beside the synthetic one.
    feed = tmp_path / "export.jsonl"
    feed.write_text("\n".join(json.dumps({
        "id": f"r{n}", "title": f"Harbour board report {n}", "date": f"2024-05-{n + 1:02d}", "source": "Coast Gazette",
        "text": " ".join(f"Paragraph {p} of report {n}: the harbour board counted {n * 10 + p} ships at the "
                         f"northern quay on day {p}, and the pilots' union asked for {p + 2} more tugs."
                         for p in range(30)),
    }) for n in range(12)), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "bench", "--quick", "--json", "--out", str(out), "--real-news", str(feed)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert HEADLINE <= set(printed)
    details = json.loads(out.read_text())
    assert details["quick"] is True
    sizes = set(details["query"])
    assert sizes == {"300", "1k"} == set(printed["query_p95_ms"]) == set(printed["hnsw_recall_at_10"])
    assert set(details["server_mode"]) == sizes
    for name in sizes:
        for table in (details["query"], details["server_mode"]):
            row = table[name]
            assert row["passages"] >= 0.8 * (300 if name == "300" else 1000)
            assert 0 < row["hybrid"]["p50_ms"] <= row["hybrid"]["p95_ms"]
            assert 0.0 <= row["hnsw_recall_at_10"] <= 1.0
    assert details["real_news_ingest"]["articles"] == 12 and details["real_news_ingest"]["failed"] == 0
    assert details["machine"]["cpu"]["model"]
    for key in ("ingest_speedup_vs_naive", "embed_share_of_limit", "real_news_ingest_share_of_encoder", "ttft_s", "answer_speedup_vs_naive", "peak_rss_mb",
                "add_one_article_s", "second_process_sees_it_s"):
        assert printed[key] > 0, key
    added = details["add_one_article"]
    assert added["found"] and added["second_process_found"] and added["article_passages"] > 0
    assert added["writer_primed_s"] > 0  # the manifest was read before the article came, as a server does
    assert details["ingest"]["passages_per_s"]["naive"] > 0
    assert details["answer"]["naive"]["answer_chars"] > 0 and details["answer"]["newsrag"]["answer_chars"] > 0
    assert details["stores"]["1k"]["failed"] == 0
