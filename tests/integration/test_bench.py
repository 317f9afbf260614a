"""`newsrag bench --quick` runs every part of the benchmark harness end to end (the numbers are not checked:
the quick sizes are too small to mean anything, and this machine is shared)."""

import json
import subprocess
import sys

from tests.conftest import ROOT

HEADLINE = {"ingest_speedup_vs_naive", "embed_share_of_limit", "query_p95_ms", "hnsw_recall_at_10", "ttft_s",
            "answer_speedup_vs_naive", "peak_rss_mb", "add_one_article_s", "second_process_sees_it_s"}


def test_quick_bench_reports_every_headline_figure(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "rag.cli", "bench", "--quick", "--json", "--out", str(out)],
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
    for key in ("ingest_speedup_vs_naive", "embed_share_of_limit", "ttft_s", "answer_speedup_vs_naive", "peak_rss_mb",
                "add_one_article_s", "second_process_sees_it_s"):
        assert printed[key] > 0, key
    added = details["add_one_article"]
    assert added["found"] and added["second_process_found"] and added["article_passages"] > 0
    assert details["ingest"]["passages_per_s"]["naive"] > 0
    assert details["answer"]["naive"]["answer_chars"] > 0 and details["answer"]["newsrag"]["answer_chars"] > 0
    assert details["stores"]["1k"]["failed"] == 0
