"""Fit when newsrag abstains: a logistic regression over the evidence signals of each answer, fitted on the
calibration half of public benchmark questions, its threshold chosen there, and figures reported on the
other half.

    NEWSRAG_ANSWER__ABSTAIN_THRESHOLD=0 newsrag eval --dataset multihop.jsonl --corpus multihop --llm extractive --out runs/mh0
    NEWSRAG_ANSWER__ABSTAIN_THRESHOLD=0 newsrag eval --dataset squad.jsonl --corpus squad --llm extractive --out runs/sq0
    python -m eval.calibrate_abstention --results runs/mh0/results.jsonl --check runs/sq0/results.jsonl \
        [--exclude runs/squad/results.jsonl] [--write]

With the threshold at 0 newsrag answers every question it can (it still abstains when the evidence holds
no number for a "how many" question, or backs no part of a yes/no one); each row then records the
evidence signals and whether the answer was right. The label is whether the archive answers the question
at all (a gold answer exists). Questions go to the calibration or report half by a hash of their id
(eval/claims.part_of). The weights are fitted on the calibration half of the --results datasets, and the
threshold maximises there the mean of answerable accuracy and abstention on unanswerable questions,
averaged over those datasets; --check datasets are only reported, and the questions of an --exclude run
(a sample whose figure is reported elsewhere) are left out of the fit and reported apart. The calibration
half of a --threshold-on run (a benchmark with no unanswerable questions, such as RealTime QA) weighs in the
threshold by its accuracy, since abstaining there only loses answers, but not in the weights. (SQuAD 2.0 is a check, not a fit: its
unanswerable questions are written to match their paragraph, and the evidence signals cannot tell them
apart, AUC 0.48-0.62, so fitting on them only blurs the weights.)
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import numpy as np

from eval.claims import part_of
from rag.config import ABSTENTION_FILE

SIGNALS = ("evidence", "dense", "lexical", "coverage", "named")


def load_rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows or "signals" not in rows[0]:
        raise ValueError(f"{path} has no evidence signals; run `newsrag eval` again with this version.")
    return rows


def outcome(rows: list[dict], probability: np.ndarray, threshold: float) -> dict[str, float]:
    """Answerable accuracy and abstention on unanswerable questions if newsrag abstained below `threshold`."""
    answered = np.asarray([not r["abstained"] for r in rows]) & (probability >= threshold)
    answerable = np.asarray([bool(r["gold"]) for r in rows])
    correct = np.asarray([bool(r["scores"].get("accuracy")) for r in rows])
    accuracy = float((answered & correct)[answerable].mean()) if answerable.any() else float("nan")
    abstention = float((~answered)[~answerable].mean()) if (~answerable).any() else float("nan")
    return {"accuracy": accuracy, "abstention": abstention, "n": len(rows)}


def matrix(rows: list[dict]) -> np.ndarray:
    return np.asarray([[float(r["signals"].get(name, 0.0)) for name in SIGNALS] for r in rows], dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", action="append", required=True, type=Path,
                        help="results.jsonl of an eval run made with NEWSRAG_ANSWER__ABSTAIN_THRESHOLD=0 to fit on (repeatable).")
    parser.add_argument("--check", action="append", default=[], type=Path,
                        help="results.jsonl of such a run to report on only (repeatable).")
    parser.add_argument("--exclude", action="append", default=[], type=Path,
                        help="results.jsonl of a run whose questions are kept out of the fit (e.g. the sample whose "
                        "figure is reported); they are reported apart as 'held out' (repeatable).")
    parser.add_argument("--threshold-on", action="append", default=[], type=Path,
                        help="results.jsonl of such a run whose calibration half also weighs in the threshold, not in "
                        "the weights: a benchmark with no unanswerable questions (RealTime QA), where abstaining only "
                        "loses answers; its accuracy counts there (repeatable).")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    datasets = {str(path): load_rows(path) for path in args.results}
    checks = {str(path): load_rows(path) for path in args.check}
    answerable_only = {str(path): load_rows(path) for path in args.threshold_on}
    held = {json.loads(line)["id"] for path in args.exclude
            for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()}

    def split(rows: list[dict]) -> dict[str, list[dict]]:
        parts = {"calibration": [r for r in rows if part_of(r["id"]) == "calibration" and r["id"] not in held],
                 "report": [r for r in rows if part_of(r["id"]) == "report"]}
        if any(r["id"] in held for r in rows):
            parts["held out"] = [r for r in rows if r["id"] in held]
        return parts

    halves = {name: split(rows) for name, rows in datasets.items()}
    fit_rows = [r for h in halves.values() for r in h["calibration"] if not r["abstained"]]
    weights = []
    for name, h in halves.items():  # every dataset weighs the same, whatever its size (mean weight 1)
        own = [r for r in h["calibration"] if not r["abstained"]]
        weights += [len(fit_rows) / (len(halves) * max(1, len(own)))] * len(own)
    x, y = matrix(fit_rows), np.asarray([bool(r["gold"]) for r in fit_rows])
    model = LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y, sample_weight=np.asarray(weights))

    def probability(rows: list[dict]) -> np.ndarray:
        return model.predict_proba(matrix(rows))[:, 1] if rows else np.zeros(0)

    threshold_halves = {**halves, **{name: split(rows) for name, rows in answerable_only.items()}}

    def objective(t: float) -> float:
        # the mean of answerable accuracy and abstention per dataset; accuracy alone where none is unanswerable
        outcomes = (outcome(h["calibration"], probability(h["calibration"]), t) for h in threshold_halves.values())
        return float(np.nanmean([o["accuracy"] if np.isnan(o["abstention"]) else (o["accuracy"] + o["abstention"]) / 2
                                 for o in outcomes]))

    best = max(np.arange(0.0, 1.0, 0.01), key=objective)
    threshold = round(float(best), 2)
    figures = {name: {part: outcome(rows, probability(rows), threshold) for part, rows in h.items()}
               for name, h in halves.items()}
    for role, runs in (("threshold", answerable_only), ("check", checks)):
        figures.update({f"{name} ({role})": {part: outcome(rows, probability(rows), threshold) for part, rows in split(r).items()}
                        for name, r in runs.items()})
    result = {
        "calibrated_on": (f"calibration half (by question id) of {', '.join(Path(n).parent.name for n in datasets)}; "
                          f"{date.today().isoformat()}; the threshold maximises the mean of answerable accuracy and abstention there"),
        "signals": list(SIGNALS),
        "weights": {name: round(float(w), 6) for name, w in zip(SIGNALS, model.coef_[0])},
        "bias": round(float(model.intercept_[0]), 6),
        "threshold": threshold,
        "figures": {name: {part: {k: (None if v != v else round(v, 3)) if isinstance(v, float) else v for k, v in f.items()}
                           for part, f in parts.items()} for name, parts in figures.items()},
    }
    print(json.dumps(result, indent=2))
    if args.write:
        ABSTENTION_FILE.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        print(f"written to {ABSTENTION_FILE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
