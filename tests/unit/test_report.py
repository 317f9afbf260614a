"""Eval reports (report.md, self-contained report.html) and run comparison, on hand-made runs."""

from __future__ import annotations

import json
import re

import pytest

from eval.report import compare_runs, format_comparison, load_run, write_reports

HOSTILE = "<script>alert(1)</script>"


def overall(**changes) -> dict:
    metrics = {"recall@1": 0.75, "recall@5": 1.0, "mrr": 0.8125, "accuracy": 0.5, "f1": 0.6667,
               "abstention": 1.0, "false_abstention": 0.25, "citation_precision": 0.9, "citation_recall": None,
               "faithfulness": 0.8, "latency_p50_s": 0.123, "latency_p95_s": 0.456, "n": 5}
    return metrics | changes


def make_report(baseline: dict | None = None, **changes) -> dict:
    return {
        "dataset": "tiny.jsonl", "corpus": "data/tiny", "backend": "extractive",
        "created": "2025-03-04T10:20:30+00:00", "questions": 5,
        "metrics": {"overall": overall(**changes),
                    "by_type": {"unanswerable": {"n": 1, "abstention": 1.0, "accuracy": None},
                                "factoid": {"n": 4, "accuracy": 0.5, "recall@5": 1.0, "abstention": None}}},
        "baseline": baseline,
        "settings": {"k": 5, "chunk_tokens": 96},
    }


def row(id: str, failure: str | None = None, **changes) -> dict:
    base = {"id": id, "type": "factoid", "question": f"Question {id}?", "gold": ["Kyiv"], "sources": ["a1"],
            "answer": "Kyiv [1].", "abstained": False, "fallback": None,
            "citations": [{"n": 1, "article_id": "a1", "title": "T", "quote": "Kyiv.", "supported": True}],
            "retrieved": ["a1", "a2"], "scores": {"accuracy": 1.0, "abstention": None}, "latency_s": 0.1,
            "failure": failure}
    return base | changes


ROWS = [
    row("q1"),
    row("q2", "wrong answer", answer=HOSTILE, question="Who <b>won</b>?"),
    row("q3", "retrieval miss", retrieved=["zz9", "zz8"], sources=["a7"]),
    row("q4", "bad citation", citations=[{"n": 2, "article_id": "a3", "title": HOSTILE, "quote": HOSTILE,
                                          "supported": False}]),
    row("q5", "answered unanswerable", type="unanswerable", gold=[], answer="It was Lviv."),
]
NAIVE = {"name": "naive", "metrics": {"overall": overall(accuracy=0.25, **{"recall@1": 0.5}), "by_type": {}}}


def write_run(path, report, rows):
    path.mkdir(parents=True)
    (path / "report.json").write_text(json.dumps(report))
    (path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def written(tmp_path):
    write_reports(tmp_path, make_report(), ROWS)
    return (tmp_path / "report.md").read_text(encoding="utf-8"), (tmp_path / "report.html").read_text(encoding="utf-8")


def test_both_files_are_written_with_title(tmp_path):
    write_reports(tmp_path / "run", make_report(), ROWS)
    md = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# newsrag eval: tiny.jsonl · extractive · 2025-03-04 10:20")
    assert (tmp_path / "run" / "report.html").read_text(encoding="utf-8").startswith("<!doctype html>")


def test_markdown_headline_values_to_three_decimals(written):
    md, _ = written
    assert "| metric | newsrag |" in md
    assert "| mrr | 0.812 |" in md and "| f1 | 0.667 |" in md and "| latency_p95_s | 0.456 |" in md
    assert "| n | 5 |" in md


def test_none_is_shown_as_a_dash(written):
    md, html = written
    assert "| citation_recall | — |" in md
    assert "<td>citation_recall</td><td class=num>—</td>" in html
    # per-type table: unanswerable has no accuracy, factoid no abstention
    assert re.search(r"\| unanswerable \| 1 \| (— \| )+", md)


def test_per_type_table_orders_types_like_the_gold_schema(written):
    md, _ = written
    assert md.index("| factoid | 4 |") < md.index("| unanswerable | 1 |")


def test_markdown_lists_the_failures_and_not_the_correct_questions(written):
    md, _ = written
    failures = md.split("## Failures (4 of 5)")[1]
    assert "- **q2** (factoid, wrong answer): Who &lt;b&gt;won&lt;/b&gt;? Gold: Kyiv. Answer: " \
           "&lt;script&gt;alert(1)&lt;/script&gt;" in failures
    assert "- **q5** (unanswerable, answered unanswerable): Question q5? Gold: (unanswerable). Answer: It was Lviv." in failures
    assert "retrieval miss" in failures and "bad citation" in failures
    assert "**q1**" not in failures
    # markdown viewers render inline HTML, so row text is escaped here too
    assert "<script" not in md and "<b>" not in md


def test_no_baseline_column_without_a_baseline(written):
    md, html = written
    assert "naive" not in md and "delta" not in md
    assert "naive" not in html and "delta" not in html


def test_baseline_column_and_delta_with_a_baseline(tmp_path):
    write_reports(tmp_path, make_report(baseline=NAIVE), ROWS)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "| metric | newsrag | naive | delta (newsrag − naive) |" in md
    assert "| accuracy | 0.500 | 0.250 | +0.250 |" in md
    assert "| recall@5 | 1.000 | 1.000 | +0.000 |" in md
    assert "| citation_recall | — | — | — |" in md
    assert "<th class=num>naive</th>" in html and "+0.250" in html


def test_html_is_self_contained_with_embedded_charts(written):
    _, html = written
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", html, re.I)
    assert "<link" not in html.lower()
    # one chart per metric group
    assert html.count('src="data:image/png;base64,') == 5


def test_html_escapes_hostile_text_and_has_no_script_tag(written):
    _, html = written
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Who &lt;b&gt;won&lt;/b&gt;?" in html
    assert "<script" not in html.lower() and "<b>" not in html


def test_html_question_table_marks_failures_by_kind_and_explains_them(written):
    _, html = written
    assert '<tr class="failed retrieval-miss"><td>q3</td>' in html
    assert '<tr class="failed answered-unanswerable"><td>q5</td>' in html
    assert '<tr class="ok"><td>q1</td>' in html
    assert "tr.retrieval-miss" in html  # the class has a colour
    assert "gold articles a7; retrieved zz9, zz8" in html
    assert "[2] a3 (unsupported)" in html
    # failures come before the correct questions
    assert html.index("<td>q5</td>") < html.index("<td>q1</td>")


def test_chart_for_a_group_with_no_values_is_left_out(tmp_path):
    report = make_report(citation_precision=None, faithfulness=None)
    write_reports(tmp_path, report, ROWS)
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 4


def test_compare_runs_deltas_and_flips_in_both_directions(tmp_path):
    a = write_run(tmp_path / "a", make_report(), [row("q1"), row("q2", "wrong answer"), row("q3"), row("only-a")])
    b = write_run(tmp_path / "b", make_report(accuracy=0.75, citation_recall=0.5, n=6),
                  [row("q1"), row("q2"), row("q3", "bad citation"), row("only-b", "wrong answer")])
    result = compare_runs(a, b)
    assert result["metrics"]["accuracy"] == {"a": 0.5, "b": 0.75, "delta": 0.25}
    assert result["metrics"]["n"] == {"a": 5, "b": 6, "delta": 1}
    assert result["metrics"]["citation_recall"] == {"a": None, "b": 0.5, "delta": None}
    assert result["metrics"]["mrr"]["delta"] == 0
    assert result["flipped"] == [
        {"id": "q2", "question": "Question q2?", "type": "factoid", "from": "wrong", "to": "correct"},
        {"id": "q3", "question": "Question q3?", "type": "factoid", "from": "correct", "to": "wrong"},
    ]


def test_format_comparison_signs_and_labels(tmp_path):
    a = write_run(tmp_path / "a", make_report(), [row("q2", "wrong answer"), row("q3")])
    b = write_run(tmp_path / "b", make_report(accuracy=0.75, f1=0.5), [row("q2"), row("q3", "wrong answer")])
    text = format_comparison(compare_runs(a, b))
    assert "| accuracy | 0.500 | 0.750 | +0.250 |" in text
    assert "| f1 | 0.667 | 0.500 | -0.167 |" in text
    assert "| citation_recall | — | — | — |" in text
    assert "- now correct: q2 (factoid) Question q2?" in text
    assert "- now wrong: q3 (factoid) Question q3?" in text


def test_format_comparison_without_flips(tmp_path):
    a = write_run(tmp_path / "a", make_report(), [row("q1")])
    b = write_run(tmp_path / "b", make_report(), [row("q1")])
    text = format_comparison(compare_runs(a, b))
    assert "now correct" not in text and "now wrong" not in text
    assert "No question changed" in text


def test_load_run_round_trips(tmp_path):
    run = write_run(tmp_path / "run", make_report(), ROWS)
    report, rows = load_run(run)
    assert report["backend"] == "extractive" and [r["id"] for r in rows] == ["q1", "q2", "q3", "q4", "q5"]


def test_load_run_without_report_json(tmp_path):
    (tmp_path / "results.jsonl").write_text("")
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path} is not an eval run: report.json is missing.")):
        load_run(tmp_path)


def test_load_run_without_results_or_with_broken_files(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps(make_report()))
    with pytest.raises(ValueError, match="results.jsonl is missing"):
        load_run(tmp_path)
    (tmp_path / "results.jsonl").write_text('{"id": "q1"}\n{broken\n')
    with pytest.raises(ValueError, match="results.jsonl line 2 is not valid JSON"):
        load_run(tmp_path)
    (tmp_path / "report.json").write_text("{broken")
    with pytest.raises(ValueError, match="report.json is unreadable"):
        load_run(tmp_path)
