"""The benchmark's scale stores (eval/bench.py build_store): a build stopped part way resumes.

The ingest child is replaced by a scripted `subprocess.run`; the corpus is the real synthetic one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from eval import bench


class ScriptedChild:
    """Stands in for `subprocess.run` of the ingest child: fails `failures` times, then succeeds."""

    def __init__(self, failures: int, peaks: list[float]):
        self.failures, self.peaks, self.calls = failures, list(peaks), []

    def __call__(self, args, **kwargs):
        corpus = args[-1]
        self.calls.append(sorted((p.name, p.stat().st_mtime_ns) for p in Path(corpus).iterdir()))
        if self.failures:
            self.failures -= 1
            return subprocess.CompletedProcess(args, 1, "", "Killed")
        line = {"passages": 40, "timings": {"seconds": 2.5, "passages_per_s": 16.0}, "failed": 0,
                "peak_rss_mb": self.peaks.pop(0)}
        return subprocess.CompletedProcess(args, 0, json.dumps(line) + "\n", "")


def test_a_stopped_build_resumes_on_the_same_corpus_and_keeps_every_runs_peak(tmp_path, monkeypatch):
    child = ScriptedChild(failures=1, peaks=[900.0])
    monkeypatch.setattr(bench.subprocess, "run", child)
    with pytest.raises(RuntimeError, match="run it again to resume"):
        bench.build_store(40, 0, tmp_path, "minilm-int8")
    folder = tmp_path / "minilm-int8-seed0-40"
    assert (folder / "corpus").is_dir() and not (folder / "ingest.json").exists()
    written = {p.name: p.stat().st_mtime_ns for p in (folder / "corpus").iterdir()}

    store, info = bench.build_store(40, 0, tmp_path, "minilm-int8")
    assert child.calls[0] == child.calls[1] == sorted(written.items())  # the same files, not written again
    assert store == folder / "store"
    assert info["articles"] == len(written) and info["runs"] == 1 and info["peak_rss_mb"] == 900.0
    assert not (folder / "corpus").exists()  # gone once the store holds it
    assert bench.build_store(40, 0, tmp_path, "minilm-int8")[1] == info  # cached: no third child
    assert len(child.calls) == 2


def test_the_peak_and_time_of_a_build_count_every_successful_run(tmp_path, monkeypatch):
    folder = tmp_path / "minilm-int8-seed0-40"
    folder.mkdir()
    (folder / "runs.jsonl").write_text(json.dumps({"passages": 20, "timings": {"seconds": 7.5}, "failed": 0,
                                                   "peak_rss_mb": 1500.0}) + "\n")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "a.txt").write_text("Title\n\nOne article.")
    monkeypatch.setattr(bench.subprocess, "run", ScriptedChild(failures=0, peaks=[700.0]))
    info = bench.build_store(40, 0, tmp_path, "minilm-int8")[1]
    assert info["runs"] == 2 and info["peak_rss_mb"] == 1500.0 and info["build_seconds"] == 10.0
    assert info["passages"] == 40  # the store's count after the last run


def test_fresh_writes_the_corpus_again(tmp_path, monkeypatch):
    folder = tmp_path / "minilm-int8-seed0-40"
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "stale.txt").write_text("Old\n\nLeft from an earlier build.")
    child = ScriptedChild(failures=0, peaks=[500.0])
    monkeypatch.setattr(bench.subprocess, "run", child)
    bench.build_store(40, 0, tmp_path, "minilm-int8", fresh=True)
    assert child.calls[0] and "stale.txt" not in {name for name, _ in child.calls[0]}
