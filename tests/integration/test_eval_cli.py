"""`newsrag eval` end to end with the real embedding model: a small seeded sample, reports, compare."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import GOLD, SAMPLE_CORPUS

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "user-store"))
    monkeypatch.delenv("NEWSRAG_CHROMA_URL", raising=False)


def run(out, *extra):
    result = runner.invoke(app, ["eval", "--dataset", str(GOLD), "--corpus", str(SAMPLE_CORPUS), "--limit", "12",
                                 "--seed", "3", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result


def test_eval_writes_every_report_and_json(tmp_path):
    result = run(tmp_path / "a", "--llm", "extractive")
    files = {p.name for p in (tmp_path / "a").iterdir()}
    assert {"results.jsonl", "report.json", "report.md", "report.html"} <= files
    rows = [json.loads(line) for line in (tmp_path / "a" / "results.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    assert set(rows[0]) >= {"question", "answer", "abstained", "citations", "retrieved", "scores", "latency_s"}
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["backend"] == "extractive" and report["questions"] == 12
    overall = report["metrics"]["overall"]
    assert overall["recall@5"] >= 0.9 and 0 <= overall["accuracy"] <= 1
    # token F1 and short-answer F1 are reported beside containment, in the summary line and the reports
    assert 0 <= overall["f1"] <= 1 and 0 <= overall["short_f1"] <= 1
    line = " ".join(result.output.split())
    assert f"accuracy {overall['accuracy']:.3f}, F1 {overall['f1']:.3f}, short F1 {overall['short_f1']:.3f}," in line
    assert "short_f1" in (tmp_path / "a" / "report.md").read_text()
    assert set(report["metrics"]["by_type"]) <= {"factoid", "temporal", "multi-doc", "reasoning", "unanswerable"}
    assert "data:image/png;base64," in (tmp_path / "a" / "report.html").read_text()
    assert not (tmp_path / "user-store").exists(), "the eval touched the user's store"


def test_same_seed_same_questions_and_compare(tmp_path):
    run(tmp_path / "a", "--llm", "extractive")
    run(tmp_path / "b", "--llm", "extractive")
    ids = lambda d: [json.loads(line)["id"] for line in (tmp_path / d / "results.jsonl").read_text().splitlines()]  # noqa: E731
    assert ids("a") == ids("b")
    result = runner.invoke(app, ["eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json"])
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)
    assert comparison["flipped"] == []
    assert comparison["metrics"]["accuracy"]["delta"] == 0


@pytest.mark.slow
def test_naive_baseline_runs_beside_newsrag(tmp_path):
    result = runner.invoke(app, ["eval", "--dataset", str(GOLD), "--corpus", str(SAMPLE_CORPUS), "--limit", "4",
                                 "--seed", "5", "--out", str(tmp_path / "n"), "--baseline", "naive", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["baseline"]["name"] == "naive"
    assert report["baseline"]["metrics"]["overall"]["n"] == 4
    assert (tmp_path / "n" / "baseline.jsonl").exists()
    assert "naive" in (tmp_path / "n" / "report.md").read_text()


def test_missing_dataset_is_one_clear_sentence(tmp_path):
    result = runner.invoke(app, ["eval", "--dataset", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "Traceback" not in result.output
