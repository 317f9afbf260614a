"""`newsrag eval verify`: score the claim verifier on public claim data (SummEdits news, RAGTruth summaries).

Three formats are read as published (see the README.md next to each file under ../shared/benchmarks/claims):
- SummEdits: a JSON list of {id, doc, summary, label, edit_types, ...}; one claim per summary.
- RAGTruth summary_sentences.jsonl: one claim per response sentence; the article comes from the sibling
  summary_responses.jsonl, joined on response_id.
- RAGTruth summary_responses.jsonl: one claim per whole response, supported only when every sentence is.

Examples are split into a calibration part (to fit thresholds or weights on) and a report part (to quote
figures from) by document, so no article's claims are in both. The verifier is given the whole article as a
single passage; it decides how to look inside it.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import numpy as np

Part = Literal["calibration", "report"]
PARTS = ("report", "calibration", "all")
RESPONSES_FILE = "summary_responses.jsonl"
TYPE_SEPARATOR = ", "  # joins several error types of one claim; claim_metrics splits on it again
BOOTSTRAP_RESAMPLES = 1000
BATCH = 32  # claims per verify_many call: small enough for a live progress bar
WORST = 15  # errors listed each way in report.md


@dataclass
class ClaimExample:
    """One claim to check against its source text, with the human label."""

    id: str
    doc_id: str
    source: str  # the article the claim must be supported by
    claim: str
    label: bool  # True = supported / consistent
    error_type: str | None  # the annotated kind(s) of error, joined by TYPE_SEPARATOR; None for supported claims
    part: Part
    sentences: list[str] = field(default_factory=list)  # response format only: the claim's sentences


def part_of(doc_key: str) -> Part:
    """The part a document belongs to: stable across runs, machines and Python versions."""
    return "calibration" if int(hashlib.sha256(doc_key.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "report"


def claim_sentences(text: str) -> list[str]:
    """The sentences a response is checked in (the one place the sentence splitter is called)."""
    from rag.text import sentences

    return sentences(text) or [text]


# --- loading ---------------------------------------------------------------------------------


def detect_format(path: Path) -> str:
    """Which format ("summedits", "ragtruth-sentences", "ragtruth-responses") the file holds, judged from its content; ValueError when it is none of them."""
    path = Path(path)
    first = _first_record(path)
    if isinstance(first, list):
        if first and isinstance(first[0], dict) and {"doc", "summary"} <= first[0].keys():
            return "summedits"
    elif isinstance(first, dict):
        if {"sentence", "response_id"} <= first.keys():
            return "ragtruth-sentences"
        if {"response", "article"} <= first.keys():
            return "ragtruth-responses"
    raise ValueError(f"{path} is not a claim dataset: expected a SummEdits JSON list (doc, summary, label) or a "
                     f"RAGTruth summary_sentences.jsonl or {RESPONSES_FILE}.")


def load_claims(path: Path) -> list[ClaimExample]:
    """The examples of a claim dataset in file order, each with its calibration/report part."""
    return _load(Path(path))[1]


def _load(path: Path) -> tuple[str, list[ClaimExample]]:
    data_format = detect_format(path)
    loader = {"summedits": _load_summedits, "ragtruth-sentences": _load_sentences,
              "ragtruth-responses": _load_responses}[data_format]
    examples = loader(path)
    if not examples:
        raise ValueError(f"{path} holds no claims.")
    return data_format, examples


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ValueError(f"{path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise ValueError(f"{path} is a folder; give the dataset file itself.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is unreadable ({exc.__class__.__name__}).") from exc


def _first_record(path: Path):
    """The whole document when the file is one JSON value, else its first JSONL line; None when neither parses."""
    text = _read(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    for line in text.splitlines():
        if line.strip():
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def _jsonl(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(_read(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number} is not valid JSON.") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path} line {number} is not a JSON object.")
        rows.append(row)
    return rows


def _field(row: dict, key: str, where: str):
    try:
        return row[key]
    except KeyError as exc:
        raise ValueError(f"{where} has no '{key}' field.") from exc


def _binary(value, where: str) -> bool:
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"{where} has label {value!r}; expected 1 (supported) or 0 (unsupported).")


def _types(value) -> str | None:
    """Annotated error types (a list, or already a string) as one string; None when there are none."""
    if isinstance(value, str):
        return value.strip() or None
    names = [str(v).strip() for v in value or [] if str(v).strip()]
    return TYPE_SEPARATOR.join(dict.fromkeys(names)) or None


def _load_summedits(path: Path) -> list[ClaimExample]:
    examples = []
    for number, row in enumerate(json.loads(_read(path)), 1):
        where = f"{path} item {number}"
        if not isinstance(row, dict):
            raise ValueError(f"{where} is not a JSON object.")
        doc = str(_field(row, "doc", where))
        label = _binary(_field(row, "label", where), where)
        examples.append(ClaimExample(
            id=str(_field(row, "id", where)), doc_id=hashlib.sha256(doc.encode("utf-8")).hexdigest()[:12],
            source=doc, claim=str(_field(row, "summary", where)), label=label,
            # Two consistent rows carry predicted edit types too: an edit that kept the summary true is no error.
            error_type=None if label else _types(row.get("edit_types")), part=part_of(doc)))
    return examples


def _load_sentences(path: Path) -> list[ClaimExample]:
    responses_path = path.parent / RESPONSES_FILE
    if not responses_path.is_file():
        raise ValueError(f"{path} needs {RESPONSES_FILE} next to it for the article texts, and it is missing.")
    articles = {str(_field(r, "response_id", f"{responses_path} row")): str(_field(r, "article", f"{responses_path} row"))
                for r in _jsonl(responses_path)}
    examples = []
    for number, row in enumerate(_jsonl(path), 1):
        where = f"{path} line {number}"
        response_id = str(_field(row, "response_id", where))
        if response_id not in articles:
            raise ValueError(f"{where}: response {response_id} is not in {RESPONSES_FILE}.")
        source_id = str(_field(row, "source_id", where))
        label = _binary(_field(row, "label", where), where)
        examples.append(ClaimExample(
            id=f"{response_id}:{_field(row, 'sentence_index', where)}", doc_id=source_id, source=articles[response_id],
            claim=str(_field(row, "sentence", where)), label=label,
            error_type=_types(row.get("overlapping_span_types")), part=part_of(source_id)))
    return examples


def _load_responses(path: Path) -> list[ClaimExample]:
    examples = []
    for number, row in enumerate(_jsonl(path), 1):
        where = f"{path} line {number}"
        source_id = str(_field(row, "source_id", where))
        verdict = _field(row, "response_label", where)
        if verdict not in ("supported", "hallucinated"):
            raise ValueError(f"{where} has response_label {verdict!r}; expected 'supported' or 'hallucinated'.")
        response = str(_field(row, "response", where))
        spans = row.get("hallucination_spans") or []
        examples.append(ClaimExample(
            id=str(_field(row, "response_id", where)), doc_id=source_id, source=str(_field(row, "article", where)),
            claim=response, label=verdict == "supported",
            error_type=_types(sorted({s.get("label_type", "") for s in spans if isinstance(s, dict)})),
            part=part_of(source_id), sentences=claim_sentences(response)))
    return examples


# --- metrics ---------------------------------------------------------------------------------


def roc_auc(labels: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Probability that a supported claim scores above an unsupported one (ties count half); None without both."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives or np.isnan(s).any():
        return None
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based; tied scores share their mean rank
    ranks = average_rank[inverse]
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _balanced(kept, positives, dropped, negatives):
    """Balanced accuracy from counts; works elementwise on arrays (NaN where a class is absent)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.asarray(kept) / positives + np.asarray(dropped) / negatives) / 2


def bootstrap_ci(labels: Sequence[bool], predicted: Sequence[bool], groups: Sequence | None = None,
                 resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0) -> list[float] | None:
    """95% percentile interval of balanced accuracy, resampling whole groups (default: single examples)."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    if not y.any() or y.all():
        return None
    _, group = np.unique(np.asarray(groups if groups is not None else np.arange(len(y)), dtype=str),
                         return_inverse=True)
    # Per-group counts, so a resample of groups is a sum of rows: one matrix product for all resamples.
    counts = np.zeros((group.max() + 1, 4))
    np.add.at(counts, group, np.stack([y & p, y, ~y & ~p, ~y], axis=1).astype(float))
    draws = np.random.default_rng(seed).integers(0, len(counts), size=(resamples, len(counts)))
    totals = counts[draws].sum(axis=1)
    values = _balanced(totals[:, 0], totals[:, 1], totals[:, 2], totals[:, 3])
    values = values[~np.isnan(values)]  # resamples that drew one class only say nothing about balance
    if not len(values):
        return None
    low, high = np.percentile(values, [2.5, 97.5])
    return [round(float(low), 3), round(float(high), 3)]


def claim_metrics(labels: Sequence[bool], predicted: Sequence[bool], scores: Sequence[float],
                  error_types: Sequence[str | None], groups: Sequence | None = None, seed: int = 0) -> dict:
    """How well `predicted` (True = the verifier keeps the claim) matches `labels` (True = supported).

    by_error_type gives, for each annotated error type, the share of unsupported claims of that type the
    verifier drops; a claim annotated with several types (joined by TYPE_SEPARATOR) counts for each.
    The balanced-accuracy interval resamples `groups` (pass document ids: claims about one article are not
    independent) or, without them, single claims.
    """
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    if len(y) != len(p) or len(y) != len(scores) or len(y) != len(error_types):
        raise ValueError("labels, predicted, scores and error_types must have one entry per claim.")
    positives, negatives = int(y.sum()), int((~y).sum())
    kept, dropped = int((y & p).sum()), int((~y & ~p).sum())
    wrongly_dropped = int((y & ~p).sum())

    def share(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    precision = share(dropped, dropped + wrongly_dropped)
    recall = share(dropped, negatives)
    by_type: dict[str, dict] = {}
    for label, keep, types in zip(y, p, error_types):
        if label or not types:
            continue
        for name in types.split(TYPE_SEPARATOR):
            entry = by_type.setdefault(name, {"n": 0, "dropped": 0})
            entry["n"] += 1
            entry["dropped"] += int(not keep)
    auc = roc_auc(y, scores)
    return {
        "n": len(y), "n_supported": positives, "n_unsupported": negatives,
        "balanced_accuracy": round(float(_balanced(kept, positives, dropped, negatives)), 3)
        if positives and negatives else None,
        "balanced_accuracy_ci95": bootstrap_ci(y, p, groups, seed=seed),
        "supported_kept": share(kept, positives),
        "unsupported_dropped": recall,
        # Precision and F1 of the unsupported class, the figures RAGTruth publishes for hallucination detectors.
        "unsupported_precision": precision,
        "unsupported_f1": round(2 * precision * recall / (precision + recall), 3) if precision and recall else None,
        "auc": None if auc is None else round(auc, 3),
        "by_error_type": {name: {"n": e["n"], "dropped": share(e["dropped"], e["n"])}
                          for name, e in sorted(by_type.items(), key=lambda item: -item[1]["n"])},
    }


# --- running ---------------------------------------------------------------------------------


def select(examples: list[ClaimExample], part: str, limit: int | None, seed: int) -> list[ClaimExample]:
    """The examples of one part ("all" keeps both), then a seeded sample of `limit` of them in file order."""
    if part not in PARTS:
        raise ValueError(f"--part must be one of {', '.join(PARTS)} (got '{part}').")
    chosen = [e for e in examples if part == "all" or e.part == part]
    if limit is not None and limit < len(chosen):
        picked = random.Random(seed).sample(range(len(chosen)), limit)
        chosen = [chosen[i] for i in sorted(picked)]
    return chosen


def passages_of(example: ClaimExample) -> list[str]:
    """What the verifier checks a claim against: the whole article, as one passage."""
    return [example.source]


def _verdict_json(verdict) -> dict:
    return {"supported": bool(verdict.supported), "score": float(verdict.score), "reason": verdict.reason,
            "passage": verdict.passage, "quote": verdict.quote, "missing": list(verdict.missing),
            "features": dict(verdict.features)}


def _verify_all(verifier, examples: list[ClaimExample], progress: Callable[[int, int], None] | None) -> list[dict]:
    """One result per example; a response is kept only when every one of its sentences is."""
    items = [(sentence, passages_of(e)) for e in examples for sentence in (e.sentences or [e.claim])]
    verdicts = []
    for start in range(0, len(items), BATCH):
        verdicts += verifier.verify_many(items[start:start + BATCH])
        if progress:
            progress(len(verdicts), len(items))
    results, cursor = [], 0
    for e in examples:
        if not e.sentences:
            results.append(_verdict_json(verdicts[cursor]))
            cursor += 1
            continue
        parts = [_verdict_json(v) for v in verdicts[cursor:cursor + len(e.sentences)]]
        cursor += len(e.sentences)
        failed = [(i, v) for i, v in enumerate(parts) if not v["supported"]]
        weakest = min(parts, key=lambda v: v["score"])
        results.append({
            "supported": not failed,
            # The response stands only if its weakest sentence does.
            "score": weakest["score"],
            "reason": "; ".join(f"sentence {i + 1}: {v['reason'] or 'unsupported'}" for i, v in failed),
            "passage": None, "quote": "", "missing": [m for _, v in failed for m in v["missing"]], "features": {},
            "sentences": [{"sentence": s, **v} for s, v in zip(e.sentences, parts)],
        })
    return results


def _policy(verifier):
    policy = getattr(verifier, "policy", None)
    if policy is None:
        return None
    if hasattr(policy, "model_dump"):
        return {key: str(value) for key, value in policy.model_dump().items() if "key" not in key}
    return repr(policy)


def run_verify_eval(path: Path, part: str = "report", limit: int | None = None, seed: int = 0, verifier=None,
                    out_dir: Path | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Score a verifier (anything with verify_many; default: the one answers use) on one part of a claim dataset."""
    path = Path(path)
    data_format, examples = _load(path)
    chosen = select(examples, part, limit, seed)
    if not chosen:
        raise ValueError(f"{path} has no claims in the {part} part.")
    if verifier is None:
        from rag.service import make_verifier

        verifier = make_verifier()
    started = time.perf_counter()
    results = _verify_all(verifier, chosen, progress)
    elapsed = time.perf_counter() - started
    checked = sum(len(e.sentences) or 1 for e in chosen)
    rows = [{"id": e.id, "doc_id": e.doc_id, "part": e.part, "label": e.label, **r, "error_type": e.error_type,
             "claim": e.claim} for e, r in zip(chosen, results)]
    metrics = claim_metrics([e.label for e in chosen], [r["supported"] for r in results],
                            [r["score"] for r in results], [e.error_type for e in chosen],
                            groups=[e.doc_id for e in chosen], seed=seed)
    report = {
        "dataset": str(path), "format": data_format, "part": part,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "limit": limit, "seed": seed,
        "counts": {"claims": len(chosen), "documents": len({e.doc_id for e in chosen}), "checked": checked,
                   "supported": metrics["n_supported"], "unsupported": metrics["n_unsupported"]},
        "metrics": metrics,
        "ci_resamples": f"{BOOTSTRAP_RESAMPLES} bootstrap resamples of documents",
        "timings": {"total_s": round(elapsed, 3), "s_per_claim": round(elapsed / len(chosen), 4),
                    "s_per_check": round(elapsed / checked, 4)},
        "verifier": type(verifier).__name__,
        "policy": _policy(verifier),
    }
    if out_dir is not None:
        write_verify_run(Path(out_dir), report, rows)
    return report


# --- run files -------------------------------------------------------------------------------


def write_verify_run(out: Path, report: dict, rows: list[dict]) -> None:
    """out/report.json, out/results.jsonl (one row per claim) and out/report.md."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "report.md").write_text(verify_markdown(report, rows), encoding="utf-8")


HEADLINE = ("n", "n_supported", "n_unsupported", "balanced_accuracy", "supported_kept", "unsupported_dropped",
            "unsupported_precision", "unsupported_f1", "auc")


def verify_markdown(report: dict, rows: list[dict]) -> str:
    """report.md of a verify run: headline metrics, drop rate per error type, the worst errors each way."""
    from eval.report import _fmt, _md_table, _one_line

    m = report["metrics"]
    ci = m.get("balanced_accuracy_ci95")
    headline = [[name, _fmt(m.get(name))] for name in HEADLINE]
    headline.insert(4, ["balanced_accuracy_ci95", f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"])
    types = [[name, _fmt(t["n"]), _fmt(t["dropped"])] for name, t in m["by_error_type"].items()]
    created = datetime.fromisoformat(report["created"]).strftime("%Y-%m-%d %H:%M")
    c, t = report["counts"], report["timings"]
    policy = report.get("policy")
    policy_text = ", ".join(f"{k}={v}" for k, v in policy.items()) if isinstance(policy, dict) else policy
    parts = [
        f"# newsrag verify eval: {report['dataset']} · {report['part']} part · {created}", "",
        f"{report['format']}; {c['claims']} claims over {c['documents']} documents ({c['checked']} verifier calls); "
        f"verifier {report['verifier']}; {t['s_per_claim']:.4f} s per claim; CI from {report['ci_resamples']}; "
        f"policy: {_one_line(str(policy_text or '—'))}", "",
        "## Headline", "", _md_table(["metric", "value"], headline), "",
        "## Unsupported claims dropped, by error type", "",
        _md_table(["error type", "n", "dropped"], types) if types else "No annotated error types.", "",
    ]
    kept_wrongly = sorted((r for r in rows if not r["label"] and r["supported"]), key=lambda r: -r["score"])
    dropped_wrongly = sorted((r for r in rows if r["label"] and not r["supported"]), key=lambda r: r["score"])
    for title, errors in ((f"Unsupported but kept (highest score first; {len(kept_wrongly)} in all)", kept_wrongly),
                          (f"Supported but dropped (lowest score first; {len(dropped_wrongly)} in all)", dropped_wrongly)):
        parts += [f"## {title}", ""]
        if not errors:
            parts.append("None.")
        for r in errors[:WORST]:
            parts.append(f"- **{_one_line(str(r['id']))}** (score {r['score']:.3f}"
                         + (f", {_one_line(r['error_type'])}" if r.get("error_type") else "")
                         + (f", {_one_line(r['reason'])}" if r.get("reason") else "")
                         + f"): {_one_line(r['claim'])}")
        parts.append("")
    return "\n".join(parts)
