"""The `newsrag` command line, run in-process with fake embeddings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import SAMPLE_CORPUS

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_env(monkeypatch, tmp_path):
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.delenv("NEWSRAG_CHROMA_URL", raising=False)


def invoke(*args):
    return runner.invoke(app, list(args))


def test_ingest_json_then_reingest_is_unchanged():
    first = invoke("ingest", str(SAMPLE_CORPUS), "--json")
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    assert (data["added"], data["failed"]) == (5, [])
    again = json.loads(invoke("ingest", str(SAMPLE_CORPUS), "--json").stdout)
    assert (again["unchanged"], again["added"], again["passages"]) == (5, 0, data["passages"])


def test_ingest_exit_status_is_1_when_a_file_fails(tmp_path):
    (tmp_path / "ok.txt").write_text("A fine article about a ferry.")
    (tmp_path / "bad.json").write_text("{broken")
    result = invoke("ingest", str(tmp_path), "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["added"] == 1 and data["failed"][0]["path"] == str(tmp_path / "bad.json")


def test_ingest_plain_output_names_the_failure(tmp_path):
    (tmp_path / "empty.md").write_text("   \n")
    result = invoke("ingest", str(tmp_path))
    assert result.exit_code == 1
    assert "empty.md is empty." in result.output


def test_search_json():
    invoke("ingest", str(SAMPLE_CORPUS), "--json")
    result = invoke("search", "Toretsk civilians", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2 and rows[0]["article_id"] == "004_8551b460ac1e439b"
    assert set(rows[0]) == {"article_id", "title", "date", "source", "text", "score", "start", "end", "story",
                            "also_carried_by"}


def test_search_with_filters_and_plain_output():
    invoke("ingest", str(SAMPLE_CORPUS), "--json")
    result = invoke("search", "Sievierodonetsk", "--since", "2022-06-10", "--source", "nobody")
    assert result.exit_code == 0 and "No passages match." in result.output


def test_bad_date_is_one_line_error_not_traceback():
    result = invoke("search", "grain", "--since", "not-a-date")
    assert result.exit_code == 2
    assert "--since must be a date" in result.output and "Traceback" not in result.output


def test_bad_mode():
    result = invoke("search", "grain", "--mode", "magic")
    assert result.exit_code == 2 and "--mode must be one of" in result.output


def test_docs_json():
    invoke("ingest", str(SAMPLE_CORPUS), "--json")
    rows = json.loads(invoke("docs", "--json").stdout)
    assert [r["id"] for r in rows][:1] == ["002_c0cdd448980c5b23"]  # oldest first
    assert set(rows[0]) >= {"id", "title", "date", "date_source", "source", "passages", "story", "copies"}
    by_id = {r["id"]: r for r in rows}
    assert by_id["001_4073937ff637e79c"]["date_source"] == "inferred"
    assert by_id["004_8551b460ac1e439b"]["source"] == "Bloomberg"


def test_invalid_setting_is_named(monkeypatch):
    monkeypatch.setenv("NEWSRAG_CHUNK_TOKENS", "many")
    result = invoke("docs")
    assert result.exit_code == 2 and "NEWSRAG_CHUNK_TOKENS" in result.output


def test_shell_answers_queries_until_empty_line():
    invoke("ingest", str(SAMPLE_CORPUS), "--json")
    result = runner.invoke(app, ["shell"], input="Toretsk civilians\n\n")
    assert result.exit_code == 0
    assert "search>" in result.output and "004_8551b460ac1e439b" in result.output


def test_eval_import_realtimeqa(tmp_path):
    from tests.unit.test_benchmark_import import write_realtimeqa

    folder = write_realtimeqa(tmp_path / "rtqa")
    result = invoke("eval", "import-realtimeqa", str(folder), "--corpus-out", str(tmp_path / "corpus"),
                    "--gold-out", str(tmp_path / "gold.jsonl"), "--limit", "2", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "questions in" in result.output and "the answer string is in the corpus for" in result.output
    assert len((tmp_path / "gold.jsonl").read_text().splitlines()) == 2
    assert list((tmp_path / "corpus").glob("realtimeqa-*.jsonl"))


def test_eval_import_realtimeqa_wrong_folder_is_exit_2(tmp_path):
    result = invoke("eval", "import-realtimeqa", str(tmp_path), "--corpus-out", str(tmp_path / "c"),
                    "--gold-out", str(tmp_path / "g.jsonl"))
    assert result.exit_code == 2
    assert "is not a RealTime QA folder" in result.output and "Traceback" not in result.output


def test_eval_import_multihop(tmp_path):
    from tests.unit.test_benchmark_import import write_multihop

    folder = write_multihop(tmp_path / "mh")
    result = invoke("eval", "import-multihop", str(folder), "--corpus-out", str(tmp_path / "corpus"),
                    "--gold-out", str(tmp_path / "gold.jsonl"))
    assert result.exit_code == 0, result.output
    assert "3 articles in" in result.output and "4 questions in" in result.output
    assert "1 comparison, 1 multi-doc, 1 temporal, 1 unanswerable" in result.output


def test_eval_import_multihop_wrong_folder_is_exit_2(tmp_path):
    result = invoke("eval", "import-multihop", str(tmp_path), "--corpus-out", str(tmp_path / "c"),
                    "--gold-out", str(tmp_path / "g.jsonl"))
    assert result.exit_code == 2
    assert "is not a MultiHop-RAG folder" in result.output and "Traceback" not in result.output
