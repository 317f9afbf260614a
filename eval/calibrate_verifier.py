"""Fit the claim verifier's weights and threshold on the calibration half of public claim data.

    python -m eval.calibrate_verifier --dataset ../shared/benchmarks/claims/ragtruth-summary-news-sample/summary_sentences.jsonl \
        --dataset ../shared/benchmarks/claims/summedits-news/upstream/summedits_news.json [--write]

Only examples of the "calibration" part (split by document, eval/claims.py) are used; the "report"
part is what `newsrag eval verify` reports on. A logistic regression (scikit-learn) is fitted on the
claims that pass the zero-tolerance guards, each dataset weighted equally and each class balanced;
the threshold is the one that maximises the mean balanced accuracy over the datasets while keeping at
least --min-kept of the supported claims of every dataset. --write stores the result in
rag/verifier_calibration.json with its provenance.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from eval.claims import load_claims
from rag.config import CALIBRATION_FILE
from rag.verify import FEATURES, ClaimVerifier


def feature_rows(examples, verifier: ClaimVerifier, progress: bool = True):
    """(features matrix, passes the guards, is checkable, labels) for sentence-level examples."""
    rows, guards, checkable, labels = [], [], [], []
    for index, example in enumerate(examples):
        verdict = verifier.verify(example.claim, [example.source])
        rows.append([verdict.features.get(name, 0.0) for name in FEATURES])
        # A claim with nothing to check is dropped by the verifier: count it as failing the guards.
        guards.append(not verdict.missing and bool(verdict.features))
        checkable.append(verdict.checkable)
        labels.append(bool(example.label))
        if progress and index % 100 == 0:
            print(f"  {index}/{len(examples)}", file=sys.stderr)
    return np.asarray(rows, dtype=np.float64), np.asarray(guards), np.asarray(checkable), np.asarray(labels)


def balanced(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    kept = float(predicted[labels].mean()) if labels.any() else float("nan")
    dropped = float((~predicted[~labels]).mean()) if (~labels).any() else float("nan")
    return (kept + dropped) / 2, kept, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", action="append", required=True, type=Path)
    parser.add_argument("--min-kept", type=float, default=0.87)
    parser.add_argument("--c", type=float, default=1.0, help="Inverse regularisation strength.")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)

    from sklearn.linear_model import LogisticRegression

    from rag.service import make_verifier

    verifier = make_verifier()
    sets = []
    for path in args.dataset:
        examples = [e for e in load_claims(path) if e.part == "calibration" and not getattr(e, "sentences", None)]
        print(f"{path.name}: {len(examples)} calibration claims", file=sys.stderr)
        x, guard, checkable, y = feature_rows(examples, verifier)
        sets.append((path.name, x, guard, checkable, y))

    xs, ys, ws = [], [], []
    for _, x, guard, checkable, y in sets:
        x, y = x[guard & checkable], y[guard & checkable]
        weight = np.where(y, 0.5 / max(1, y.sum()), 0.5 / max(1, (~y).sum()))  # classes balanced, sets equal
        xs.append(x), ys.append(y), ws.append(weight)
    model = LogisticRegression(C=args.c, max_iter=2000)
    model.fit(np.vstack(xs), np.concatenate(ys), sample_weight=np.concatenate(ws) * len(np.concatenate(ys)))

    def probabilities(x):
        return model.predict_proba(x)[:, 1]

    best = None
    for threshold in np.linspace(0.05, 0.95, 181):
        results = []
        for name, x, guard, checkable, y in sets:
            # A sentence that states nothing about the news is kept; the rest must pass guards and score.
            predicted = ~checkable | (guard & (probabilities(x) >= threshold))
            results.append((name,) + balanced(y, predicted))
        if min(r[2] for r in results) < args.min_kept:
            continue
        mean = float(np.mean([r[1] for r in results]))
        if best is None or mean > best[0]:
            best = (mean, float(threshold), results)
    if best is None:
        print(f"no threshold keeps {args.min_kept:.0%} of supported claims on every dataset", file=sys.stderr)
        return 1
    mean, threshold, results = best
    figures = "; ".join(f"{name}: balanced accuracy {ba:.3f}, kept {kept:.3f}, dropped {dropped:.3f}"
                        for name, ba, kept, dropped in results)
    calibration = {
        "calibrated_on": (f"calibration half (by document) of {', '.join(p.name for p in args.dataset)}; "
                          f"{date.today().isoformat()}; on that half: {figures}"),
        "threshold": round(threshold, 4),
        "bias": round(float(model.intercept_[0]), 6),
        "window_sentences": verifier.policy.window_sentences,
        "weights": {name: round(float(w), 6) for name, w in zip(FEATURES, model.coef_[0])},
    }
    print(json.dumps(calibration, indent=2))
    if args.write:
        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
        print(f"written to {CALIBRATION_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
