"""eval/calibrate_abstention.py: the abstention score fitted on one half of the questions, reported on the other."""

from __future__ import annotations

import json

from eval.calibrate_abstention import main
from eval.claims import part_of


def _rows(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        answerable = i % 2 == 0
        signals = {"evidence": 0.8 if answerable else 0.2, "dense": 0.5, "lexical": 0.5, "coverage": 0.5,
                   "named": 1.0 if answerable else 0.5 + (i % 3) / 10}
        rows.append({"id": f"q-{i}", "gold": ["x"] if answerable else [], "abstained": False, "signals": signals,
                     "scores": {"accuracy": 1.0 if answerable else None}})
    return rows


def test_questions_of_an_excluded_run_are_kept_out_of_the_fit_and_reported_apart(tmp_path, capsys):
    rows = _rows(80)
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sample = tmp_path / "sample.jsonl"
    held = [r for r in rows if part_of(r["id"]) == "calibration"][:10]
    sample.write_text("".join(json.dumps({"id": r["id"]}) + "\n" for r in held))

    assert main(["--results", str(results)]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert main(["--results", str(results), "--exclude", str(sample)]) == 0
    kept_out = json.loads(capsys.readouterr().out)

    calibration = sum(part_of(r["id"]) == "calibration" for r in rows)
    figures, figures_all = kept_out["figures"][str(results)], everything["figures"][str(results)]
    assert figures_all["calibration"]["n"] == calibration and "held out" not in figures_all
    assert figures["calibration"]["n"] == calibration - 10
    assert figures["held out"]["n"] == 10
    assert figures["report"]["n"] == figures_all["report"]["n"] == len(rows) - calibration
    # the named signal is one of those fitted
    assert set(kept_out["weights"]) == {"evidence", "dense", "lexical", "coverage", "named"}


def test_a_benchmark_without_unanswerable_questions_weighs_in_the_threshold_not_the_weights(tmp_path, capsys):
    # The fit data: answerable and unanswerable questions that overlap on the 'evidence' signal.
    rows = []
    for i in range(120):
        answerable = i % 2 == 0
        evidence = (0.3 + (i % 7) / 10) if answerable else (0.1 + (i % 5) / 10)
        rows.append({"id": f"q-{i}", "gold": ["x"] if answerable else [], "abstained": False,
                     "signals": {"evidence": evidence, "dense": 0.5, "lexical": 0.5, "coverage": 0.5, "named": 1.0},
                     "scores": {"accuracy": 1.0 if answerable else None}})
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in rows))
    # A benchmark of answerable questions only, answered right even on weak evidence: abstaining there only loses.
    weak = [{"id": f"w-{i}", "gold": ["y"], "abstained": False, "scores": {"accuracy": 1.0},
             "signals": {"evidence": 0.2 + (i % 3) / 10, "dense": 0.5, "lexical": 0.5, "coverage": 0.5, "named": 1.0}}
            for i in range(60)]
    answerable_only = tmp_path / "weak.jsonl"
    answerable_only.write_text("".join(json.dumps(r) + "\n" for r in weak))

    assert main(["--results", str(results)]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert main(["--results", str(results), "--threshold-on", str(answerable_only)]) == 0
    both = json.loads(capsys.readouterr().out)
    assert both["weights"] == alone["weights"] and both["bias"] == alone["bias"]  # the fit is the same
    assert both["threshold"] < alone["threshold"]  # the threshold moves to keep the weak-evidence answers
    weak_figures = both["figures"][f"{answerable_only} (threshold)"]
    assert weak_figures["calibration"]["n"] == sum(part_of(r["id"]) == "calibration" for r in weak)
    assert weak_figures["calibration"]["abstention"] is None  # no unanswerable question: written as null, not NaN
