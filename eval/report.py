"""Eval run reports: report.md and a self-contained report.html for one run, and a comparison of two runs.

A run directory holds report.json (metrics overall, by type, optionally a baseline's) and
results.jsonl (one row per question, with "failure" None when the question went right).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import textwrap
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import get_args

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from eval.gold import QuestionType

GROUPS = {
    "retrieval": ["recall@1", "recall@5", "mrr", "answer_in_shown"],
    "answer": ["accuracy", "f1", "short_f1"],
    "abstention": ["abstention", "false_abstention"],
    "citations": ["citation_precision", "citation_recall", "faithfulness", "grounding"],
    "latency": ["latency_p50_s", "latency_p95_s"],
}
METRICS = [name for names in GROUPS.values() for name in names] + ["n"]
# Latency is left out per type: a percentile over a handful of questions says little.
TYPE_COLUMNS = ["n"] + [name for group, names in GROUPS.items() if group != "latency" for name in names]
TYPES = get_args(QuestionType)
FAILURE_COLOURS = {
    "retrieval miss": "#f8d7da",
    "wrong answer": "#ffe5d0",
    "false abstention": "#fff3cd",
    "answered unanswerable": "#e2d9f3",
    "bad citation": "#d6eaf8",
}
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; vertical-align: top; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.charts img { max-width: 380px; }
.meta, .detail { color: #555; font-size: 13px; }
.badge { font-size: 12px; color: #555; border: 1px solid #aaa; border-radius: 3px; padding: 0 3px; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 6px; border: 1px solid #ccc; }
tr.failed td:last-child { font-weight: 600; }
"""


def _slug(kind: str) -> str:
    """A failure kind as a CSS class name ("retrieval miss" -> "retrieval-miss")."""
    return re.sub(r"[^a-z]+", "-", str(kind).lower()).strip("-")


_CSS += "".join(f"tr.{_slug(kind)}, .legend span.{_slug(kind)} {{ background: {colour}; }}\n"
                for kind, colour in FAILURE_COLOURS.items())


def load_run(path: Path) -> tuple[dict, list[dict]]:
    """report.json and the rows of results.jsonl of a run directory; ValueError when either is missing or broken."""
    path = Path(path)
    try:
        report = json.loads((path / "report.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path} is not an eval run: report.json is missing.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not an eval run: report.json is unreadable ({exc}).") from exc
    if not isinstance(report, dict) or not isinstance(report.get("metrics"), dict):
        raise ValueError(f"{path} is not an eval run: report.json has no metrics.")
    try:
        lines = (path / "results.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise ValueError(f"{path} is not an eval run: results.jsonl is missing.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not an eval run: results.jsonl is unreadable ({exc}).") from exc
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not an eval run: results.jsonl line {number} is not valid JSON.") from exc
    return report, rows


def write_reports(out: Path, report: dict, rows: list[dict]) -> None:
    """Write out/report.md and out/report.html for one run."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(_markdown(report, rows), encoding="utf-8")
    (out / "report.html").write_text(_html(report, rows), encoding="utf-8")


def compare_runs(run_a: Path, run_b: Path) -> dict:
    """Overall metric deltas (b - a) and the questions whose correctness changed from run a to run b."""
    report_a, rows_a = load_run(run_a)
    report_b, rows_b = load_run(run_b)
    a, b = report_a["metrics"].get("overall", {}), report_b["metrics"].get("overall", {})
    metrics = {name: {"a": a.get(name), "b": b.get(name), "delta": _delta(a.get(name), b.get(name))}
               for name in _metric_names(a, b)}
    rows_b_by_id = {row["id"]: row for row in rows_b}
    flipped = []
    for before in rows_a:
        after = rows_b_by_id.get(before["id"])
        if after is not None and _verdict(before) != _verdict(after):
            flipped.append({"id": after["id"], "question": after["question"], "type": after["type"],
                            "from": _verdict(before), "to": _verdict(after)})
    return {"metrics": metrics, "flipped": flipped}


def format_comparison(result: dict) -> str:
    """compare_runs' result as a markdown table of deltas and a list of flipped questions."""
    table = _md_table(["metric", "a", "b", "delta"],
                      [[name, _fmt(m["a"]), _fmt(m["b"]), _signed(m["delta"])] for name, m in result["metrics"].items()])
    flipped = result["flipped"]
    gained = [f for f in flipped if f["to"] == "correct"]
    lost = [f for f in flipped if f["to"] == "wrong"]
    lines = [table, ""]
    if not flipped:
        lines.append("No question changed between correct and wrong.")
    else:
        lines.append(f"Flipped questions: {len(gained)} now correct, {len(lost)} now wrong.")
        lines.append("")
        lines += [f"- now correct: {f['id']} ({f['type']}) {f['question']}" for f in gained]
        lines += [f"- now wrong: {f['id']} ({f['type']}) {f['question']}" for f in lost]
    return "\n".join(lines) + "\n"


# --- shared pieces ---------------------------------------------------------------------------


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"


def _signed(value) -> str:
    if value is None:
        return "—"
    return f"{value:+d}" if isinstance(value, int) else f"{value:+.3f}"


def _delta(a, b):
    return None if a is None or b is None else b - a


def _verdict(row: dict) -> str:
    return "correct" if row.get("failure") is None else "wrong"


def _metric_names(*tables: dict) -> list[str]:
    """Known metrics in their fixed order, then any the runner added, so new metrics are not silently dropped."""
    names = [name for name in METRICS if any(name in table for table in tables)]
    for table in tables:
        names += [name for name in table if name not in names]
    return names


def _baseline(report: dict) -> tuple[str, dict] | None:
    baseline = report.get("baseline")
    if not baseline:
        return None
    return baseline.get("name", "baseline"), baseline.get("metrics", {}).get("overall", {})


def _headline(report: dict) -> tuple[list[str], list[list[str]]]:
    ours = report["metrics"].get("overall", {})
    baseline = _baseline(report)
    if baseline is None:
        return ["metric", "newsrag"], [[name, _fmt(ours.get(name))] for name in _metric_names(ours)]
    name, theirs = baseline
    header = ["metric", "newsrag", name, f"delta (newsrag − {name})"]
    return header, [[metric, _fmt(ours.get(metric)), _fmt(theirs.get(metric)),
                     _signed(_delta(theirs.get(metric), ours.get(metric)))]
                    for metric in _metric_names(ours, theirs)]


def _by_type(report: dict) -> tuple[list[str], list[list[str]]]:
    by_type = report["metrics"].get("by_type", {})
    order = [t for t in TYPES if t in by_type] + [t for t in by_type if t not in TYPES]
    return ["type"] + TYPE_COLUMNS, [[t] + [_fmt(by_type[t].get(m)) for m in TYPE_COLUMNS] for t in order]


def _title(report: dict) -> str:
    created = datetime.fromisoformat(report["created"]).strftime("%Y-%m-%d %H:%M")
    return f"newsrag eval: {report['dataset']} · {report['backend']} · {created}"


def _meta(report: dict) -> str:
    settings = ", ".join(f"{key}={value}" for key, value in (report.get("settings") or {}).items())
    corpus = report.get("corpus") or "—"
    return f"{report['questions']} questions; corpus {corpus}; settings: {settings or '—'}"


def _gold(row: dict) -> str:
    return " / ".join(row.get("gold") or []) or "(unanswerable)"


def _failures(rows: list[dict]) -> list[dict]:
    """Failed rows grouped by kind (in FAILURE_COLOURS order), keeping run order within a kind."""
    kinds = list(FAILURE_COLOURS)
    failed = [row for row in rows if row.get("failure") is not None]
    return sorted(failed, key=lambda row: kinds.index(row["failure"]) if row["failure"] in kinds else len(kinds))


# --- markdown --------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _one_line(text: str, width: int = 300) -> str:
    """Row text for the failure list: shortened to one line (answers can be paragraphs), HTML-escaped
    because markdown passes inline HTML through, so a viewer would otherwise render or run it."""
    return html.escape(textwrap.shorten(text or "", width, placeholder=" …"), quote=False) or "(empty)"


def _markdown(report: dict, rows: list[dict]) -> str:
    failures = _failures(rows)
    parts = [f"# {_title(report)}", "", _meta(report), "", "## Headline", "", _md_table(*_headline(report)), "",
             "## By question type", "", _md_table(*_by_type(report)), "",
             f"## Failures ({len(failures)} of {len(rows)})", ""]
    if not failures:
        parts.append("No failures.")
    for row in failures:
        parts.append(f"- **{_one_line(str(row['id']))}** ({_one_line(str(row['type']))}, {row['failure']}): "
                     f"{_one_line(row['question'])} Gold: {_one_line(_gold(row))}. Answer: {_one_line(row['answer'])}")
    return "\n".join(parts) + "\n"


# --- html ------------------------------------------------------------------------------------


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    """A table of plain-text cells; the first column is a label, the rest are numbers."""
    def cells(tag: str, values: list[str]) -> str:
        return "".join(f"<{tag}{'' if i == 0 else ' class=num'}>{html.escape(v)}</{tag}>" for i, v in enumerate(values))
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def _chart(group: str, names: list[str], ours: dict, baseline: tuple[str, dict] | None) -> str | None:
    """A grouped bar chart as a PNG data URI, or None when no metric of the group has a value."""
    series = [("newsrag", [ours.get(n) for n in names])]
    if baseline is not None:
        series.append((baseline[0], [baseline[1].get(n) for n in names]))
    if all(v is None for _, values in series for v in values):
        return None
    # Figure + Agg canvas instead of pyplot: no GUI backend and no global figure state in the runner's process.
    fig = Figure(figsize=(4, 2.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for i, ((label, values), colour) in enumerate(zip(series, ("#2b6cb0", "#a0aec0"))):
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(names))]
        # A metric that does not apply gets an empty bar labelled "—" rather than a misleading 0.
        bars = ax.bar(xs, [v or 0 for v in values], width, label=label, color=colour)
        ax.bar_label(bars, labels=[_fmt(v) for v in values], fontsize=7)
    ax.set_xticks(range(len(names)), names, fontsize=8)
    ax.set_title(group)
    if group == "latency":
        ax.set_ylabel("seconds")
        ax.margins(y=0.15)
    else:
        ax.set_ylim(0, 1.12)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=len(series), frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _what_went_wrong(row: dict) -> str:
    """The failure kind plus the evidence a reader needs to judge it, as plain text."""
    failure = row.get("failure")
    if failure == "retrieval miss":
        return (f"gold articles {', '.join(row.get('sources') or []) or '—'}; "
                f"retrieved {', '.join((row.get('retrieved') or [])[:5]) or 'nothing'}")
    if failure == "bad citation":
        cited = [f"[{c.get('n')}] {c.get('article_id')}{'' if c.get('supported') else ' (unsupported)'}"
                 for c in row.get("citations") or []]
        return f"cited {', '.join(cited) or 'nothing'}; gold articles {', '.join(row.get('sources') or []) or '—'}"
    return ""


def _question_row(row: dict) -> str:
    failure = row.get("failure")
    e = html.escape
    if failure is None:
        css, wrong = "ok", "—"
    else:
        css = f"failed {_slug(failure)}"
        detail = _what_went_wrong(row)
        wrong = e(str(failure)) + (f"<div class=detail>{e(detail)}</div>" if detail else "")
    answer = e(row.get("answer") or "") + (" <span class=badge>abstained</span>" if row.get("abstained") else "")
    return (f"<tr class=\"{css}\"><td>{e(str(row['id']))}</td><td>{e(str(row['type']))}</td>"
            f"<td>{e(row['question'])}</td><td>{e(_gold(row))}</td><td>{answer}</td><td>{wrong}</td></tr>")


def _html(report: dict, rows: list[dict]) -> str:
    e = html.escape
    baseline = _baseline(report)
    ours = report["metrics"].get("overall", {})
    charts = [(group, _chart(group, names, ours, baseline)) for group, names in GROUPS.items()]
    figures = "".join(f"<figure><img alt=\"{e(group)} metrics\" src=\"{uri}\"></figure>"
                      for group, uri in charts if uri is not None)
    failures = _failures(rows)
    legend = "".join(f"<span class=\"{_slug(kind)}\">{e(str(kind))}: {count}</span>"
                     for kind, count in Counter(row["failure"] for row in failures).items())
    # Failures first, grouped by kind, so the questions to look at are at the top of the table.
    ordered = failures + [row for row in rows if row.get("failure") is None]
    questions = "".join(_question_row(row) for row in ordered)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{e(_title(report))}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{e(_title(report))}</h1>
<p class=meta>{e(_meta(report))}</p>
<h2>Headline</h2>
{_html_table(*_headline(report))}
<div class=charts>{figures}</div>
<h2>By question type</h2>
{_html_table(*_by_type(report))}
<h2>Questions ({len(failures)} of {len(rows)} failed)</h2>
<p class=legend>{legend or "No failures."}</p>
<table>
<thead><tr><th>id</th><th>type</th><th>question</th><th>gold</th><th>answer</th><th>what went wrong</th></tr></thead>
<tbody>{questions}</tbody>
</table>
</body>
</html>
"""
