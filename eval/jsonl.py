"""One reader for the eval's JSONL inputs (summaries clusters, briefing topics and gold): one sentence for
a file that cannot be read or a line that is not a row of its kind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def read_rows(path: Path, what: str, keys: tuple[str, ...] = (), valid: Callable[[dict], bool] | None = None,
              needs: str | None = None) -> list[dict]:
    """The JSON objects of the non-blank lines of `path`. Each must hold `keys` and pass `valid`; else a
    ValueError names the line and what a `what` row needs (`needs`, or the keys)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"The {what} file {path} cannot be read ({exc}).") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = isinstance(row, dict) and all(key in row for key in keys) and (valid is None or valid(row))
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"Line {number} of {path} is not a {what} row: it needs {needs or ', '.join(keys)}.")
        rows.append(row)
    return rows
