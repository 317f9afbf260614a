"""Mutation score per mutated file, from the results of the last `mutmut run` (this script runs nothing).

    .venv/bin/mutmut run --max-children 2
    .venv/bin/python scripts/mutation_score.py [--fail-under 0.85]

Prints `module: killed K, survived S, timeout T, no tests N, score X` for each file in `only_mutate` of
`[tool.mutmut]` in pyproject.toml, reading mutmut's per-file results (mutants/<file>.meta). The score is
(killed + timeout) / (killed + timeout + survived + no tests): a mutant that makes the tests hang is
caught, one that no test reaches is not. Mutants not checked yet, or suspicious, are listed apart and left
out of the score. Run from the project root. Exit status 1 when a score is below --fail-under, 2 when
there are no results.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = ("killed", "caught by type check")


def file_counts(path: str) -> Counter[str] | None:
    """Mutants of `path` by mutmut status, or None when mutmut has no results for it."""
    meta = Path("mutants") / f"{path}.meta"
    if not meta.exists():
        return None
    exit_codes = json.loads(meta.read_text())["exit_code_by_key"]
    return Counter(status_by_exit_code[code] for code in exit_codes.values())


def score(counts: Counter[str]) -> float:
    caught = sum(counts[s] for s in KILLED) + counts["timeout"]
    judged = caught + counts["survived"] + counts["no tests"]
    return caught / judged if judged else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 if a file scores below this")
    args = parser.parse_args()
    files = tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"]
    status = 0
    for path in files:
        counts = file_counts(path)
        if counts is None:
            print(f"{path}: no mutmut results; run `.venv/bin/mutmut run` first", file=sys.stderr)
            status = 2
            continue
        value = score(counts)
        others = {s: n for s, n in counts.items() if s not in (*KILLED, "survived", "timeout", "no tests")}
        print(f"{path}: killed {sum(counts[s] for s in KILLED)}, survived {counts['survived']}, "
              f"timeout {counts['timeout']}, no tests {counts['no tests']}, score {value:.3f}"
              + "".join(f", {s} {n}" for s, n in sorted(others.items())))
        if args.fail_under is not None and value < args.fail_under and status == 0:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
