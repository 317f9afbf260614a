"""`newsrag eval`: run gold questions through RagService (the path the UI and API use), score them and
write results.jsonl, report.json, report.md and report.html."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from eval.gold import GoldQuestion, load_gold, seeded_sample
from eval.metrics import (alias_in_answer, answer_correct, gold_verdict, lead_answer, percentile, retrieval_scores,
                          token_f1)
from rag.answer import Answer
from rag.citations import parse_citations
from rag.config import Settings
from rag.service import RagService
from rag.text import name_present, names, number_values
from rag.verify import ClaimVerifier

METRICS = ("recall@1", "recall@5", "mrr", "answer_in_shown", "accuracy", "f1", "short_f1", "abstention", "false_abstention",
           "citation_precision", "citation_recall", "faithfulness", "grounding")
ABSTAIN_PHRASES = ("archive does not say", "does not say", "don't know", "do not know", "not mentioned",
                   "no information", "cannot answer", "not provided", "does not mention", "not specified")


def _cited_text(citation: dict) -> str:
    """What a citation shows a reader: its passage, under the outlet that published it (an answer naming
    the outlets that reported something cites each article for its outlet)."""
    source = citation.get("source")
    return f"{source}.\n{citation.get('text', '')}" if source else citation.get("text", "")


def citation_checks(answer_text: str, citations: list[dict], verifier: ClaimVerifier | None = None) -> tuple[list[dict], float | None]:
    """Re-check the answer independently of the chain: which citations support a sentence citing them,
    and the share of answer sentences supported by their cited passages (faithfulness)."""
    by_n = {c["n"]: c for c in citations}
    verifier = verifier or ClaimVerifier()
    if not by_n:
        return [], None
    passages = [_cited_text(by_n.get(n, {})) for n in range(1, max(by_n) + 1)]
    claims = parse_citations(answer_text, len(passages))
    supported_n: set[int] = set()
    supported_claims = checkable = 0
    for claim in claims:
        claim.cited = [n for n in claim.cited if n in by_n]
        cited = [passages[n - 1] for n in claim.cited]
        verdict = verifier.verify(claim.text, cited)  # a claim citing nothing is unsupported
        if not verdict.checkable:  # "Yes." or a lead-in: nothing a passage could back
            continue
        checkable += 1
        if verdict.supported:
            supported_claims += 1
            supported_n.add(claim.cited[verdict.passage - 1])
    checked = [{**c, "supported": c["n"] in supported_n} for c in citations]
    return checked, (supported_claims / checkable if checkable else None)


def grounding(answer_text: str, citations: list[dict]) -> float | None:
    """The share of answer sentences whose every figure and name is written in a passage they cite.

    A string check that shares nothing with the claim verifier (no embeddings, no calibrated threshold),
    so it can disagree with the filter that chose the answer's sentences; `faithfulness` re-runs that
    filter. Sentences with no figure or name are left out (nothing here can test them); None when no
    sentence is left."""
    by_n = {c["n"]: c for c in citations}
    if not by_n:
        return None
    results = []
    for claim in parse_citations(answer_text, max(by_n)):
        figures, named = number_values(claim.text), names(claim.text)
        if not figures and not named:
            continue
        cited = " ".join(_cited_text(by_n[n]) for n in claim.cited if n in by_n)
        results.append(float(figures <= number_values(cited) and all(name_present(name, cited) for name in named)))
    return statistics.fmean(results) if results else None


def score_question(q: GoldQuestion, answer_text: str, abstained: bool, citations: list[dict], ranked: list[str],
                   verifier: ClaimVerifier | None = None, shown: list[str] | None = None) -> dict:
    """Per-question scores; None where a metric does not apply to this question.

    `shown` are the passages the answer was made from: `answer_in_shown` says whether a gold answer string
    is among them (not for yes/no questions, whose answer is no string of the passages)."""
    gold = set(q.sources)
    # An answerable question with no gold article (its answer string is in none) has no retrieval score.
    retrieval = retrieval_scores(ranked, gold) if q.answerable and gold else {}
    checked, faithfulness = citation_checks(answer_text, citations, verifier) if not abstained else ([], None)
    correct = q.answerable and not abstained and answer_correct(answer_text, q.answers)
    precision = None
    if checked:
        precision = sum(1 for c in checked if c["article_id"] in gold or c["supported"]) / len(checked)
    scores = {
        "recall@1": retrieval.get("recall@1"),
        "recall@5": retrieval.get("recall@5"),
        "mrr": retrieval.get("mrr"),
        "answer_in_shown": (float(alias_in_answer(" ".join(shown), q.answers))
                            if shown is not None and q.answerable and gold_verdict(q.answers) is None else None),
        "accuracy": float(correct) if q.answerable else None,
        "f1": (0.0 if abstained else token_f1(answer_text, q.answers)) if q.answerable else None,
        # F1 of what the answer puts first (its short answer, else all of it), for questions wanting a string
        "short_f1": ((0.0 if abstained else token_f1(lead_answer(answer_text), q.answers))
                     if q.answerable and gold_verdict(q.answers) is None else None),
        "abstention": float(abstained) if not q.answerable else None,
        "false_abstention": float(abstained) if q.answerable else None,
        "citation_precision": precision,
        "citation_recall": float(any(c["article_id"] in gold for c in checked)) if correct and gold else None,
        "faithfulness": faithfulness,
        "grounding": grounding(answer_text, citations) if not abstained else None,
    }
    return {"scores": scores, "citations": checked}


def failure_of(q: GoldQuestion, scores: dict) -> str | None:
    if not q.answerable:
        return None if scores["abstention"] else "answered unanswerable"
    if scores["recall@5"] == 0.0:
        return "retrieval miss"
    if scores["false_abstention"]:
        return "false abstention"
    if not scores["accuracy"]:
        return "wrong answer"
    if scores["citation_recall"] == 0.0:
        return "bad citation"
    return None


def aggregate(rows: list[dict]) -> dict:
    def summary(subset: list[dict]) -> dict:
        result: dict = {"n": len(subset)}
        for metric in METRICS:
            values = [r["scores"][metric] for r in subset if r["scores"].get(metric) is not None]  # older runs lack newer metrics
            result[metric] = round(statistics.fmean(values), 3) if values else None
        latencies = [r["latency_s"] for r in subset]
        result["latency_p50_s"] = round(percentile(latencies, 50), 3) if latencies else None
        result["latency_p95_s"] = round(percentile(latencies, 95), 3) if latencies else None
        return result

    types = sorted({r["type"] for r in rows})
    return {"overall": summary(rows), "by_type": {t: summary([r for r in rows if r["type"] == t]) for t in types}}


def sample(questions: list[GoldQuestion], limit: int | None, seed: int) -> list[GoldQuestion]:
    """A seeded random sample of `limit` questions (all of them, in file order, without a limit)."""
    return [questions[i] for i in seeded_sample(len(questions), limit, seed)]


def _row(q: GoldQuestion, answer_text: str, abstained: bool, citations: list[dict], ranked: list[str],
         latency: float, fallback: str | None = None, verifier: ClaimVerifier | None = None,
         signals: dict | None = None, shown: list[str] | None = None) -> dict:
    scored = score_question(q, answer_text, abstained, citations, ranked, verifier, shown)
    row = {
        "id": q.id, "type": q.type, "question": q.question, "gold": q.answers, "sources": q.sources,
        "answer": answer_text, "abstained": abstained, "fallback": fallback, "citations": scored["citations"],
        "retrieved": ranked, "scores": scored["scores"], "latency_s": round(latency, 3),
        "signals": signals or {},
    }
    row["failure"] = failure_of(q, row["scores"])
    return row


def run_newsrag(service: RagService, questions: list[GoldQuestion], backend: str | None,
                progress: Callable[[int], None] | None = None) -> list[dict]:
    rows = []
    for q in questions:
        ranked = [hit.article_id for hit in service.search(q.question, k=10, as_of=q.as_of)]
        started = time.perf_counter()
        answer: Answer = service.ask(q.question, backend=backend, as_of=q.as_of)
        latency = time.perf_counter() - started
        citations = [{"n": c.n, "article_id": c.article_id, "title": c.title, "quote": c.quote, "text": c.text}
                     for c in answer.citations]
        rows.append(_row(q, answer.answer, answer.abstained, citations, ranked, latency, answer.fallback,
                         service.answers.verifier, {**answer.signals, "kind": answer.kind}, answer.shown))
        if progress:
            progress(1)
    return rows


def run_naive(service: RagService, questions: list[GoldQuestion], backend: str,
              progress: Callable[[int], None] | None = None) -> list[dict]:
    from eval.naive import NaiveChain

    chain = NaiveChain(service, backend)
    rows = []
    for q in questions:
        started = time.perf_counter()
        text, docs = chain.ask(q.question)
        latency = time.perf_counter() - started
        abstained = any(phrase in text.lower() for phrase in ABSTAIN_PHRASES)
        rows.append(_row(q, text, abstained, [], [d.metadata["article_id"] for d in docs], latency))
        if progress:
            progress(1)
    return rows


def judge_rows(rows: list[dict], settings: Settings, backend: str) -> dict:
    """LLM-as-judge correctness for answered, answerable questions, and its agreement with `accuracy`.

    Stores the verdict in each row's scores as "judge" (None where it was not asked) and returns the
    two summary figures. Off unless --judge names a backend.
    """
    from langchain_core.output_parsers import StrOutputParser

    from prompts import load_prompt
    from rag.llm import make_llm

    judge = load_prompt("judge") | make_llm(settings, backend) | StrOutputParser()
    verdicts, agreements = [], []
    for row in rows:
        row["scores"]["judge"] = None
        if not row["gold"] or row["abstained"]:
            continue
        reply = judge.invoke({"question": row["question"], "gold": " | ".join(row["gold"]), "answer": row["answer"]})
        verdict = 1.0 if reply.strip().upper().startswith("YES") else 0.0
        row["scores"]["judge"] = verdict
        verdicts.append(verdict)
        agreements.append(float(verdict == row["scores"]["accuracy"]))
    return {
        "judge_accuracy": round(statistics.fmean(verdicts), 3) if verdicts else None,
        "judge_agreement": round(statistics.fmean(agreements), 3) if agreements else None,
        "judge_backend": backend,
    }


def run_eval(dataset: Path, corpus: Path | None = None, backend: str | None = None, limit: int | None = None,
             seed: int = 0, out: Path | None = None, baseline: str | None = None, settings: Settings | None = None,
             progress: Callable[[int, int], None] | None = None, judge: str | None = None,
             briefings: Path | None = None) -> tuple[dict, list[dict]]:
    """Run a gold set; returns (report, rows) and writes the run files to `out` when given."""
    from eval.report import write_reports

    questions = sample(load_gold(dataset), limit, seed)
    if not questions:
        raise ValueError(f"{dataset} has no questions.")
    settings = settings or Settings()
    backend = backend or settings.llm
    settings = settings.model_copy(update={"llm": backend})
    total = len(questions) * (2 if baseline else 1)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    with tempfile.TemporaryDirectory(prefix="newsrag-eval-") as tmp:
        if corpus is not None:
            # A fresh throw-away store, always embedded, so the user's archive is never touched.
            settings = settings.model_copy(update={"data_dir": Path(tmp), "chroma_url": None, "collection": "eval"})
        service = RagService(settings)
        if corpus is not None:
            report = service.ingest([corpus])
            if report.failed:
                raise ValueError(f"{len(report.failed)} corpus files failed to ingest: {report.failed[0]['error']}")
        service.warm_up()
        rows = run_newsrag(service, questions, backend, tick)
        baseline_rows = None
        if baseline == "naive":
            baseline_rows = run_naive(service, questions, backend if backend not in ("extractive", "fake") else "llamacpp", tick)
        elif baseline:
            raise ValueError(f"Unknown baseline '{baseline}'; the one available is 'naive'.")
        judged = judge_rows(rows, settings, judge) if judge else None
        briefing_report = None
        if briefings is not None:
            from eval.briefings import run_briefings

            briefing_report = run_briefings(service, briefings)

    report = {
        "dataset": str(dataset), "corpus": str(corpus) if corpus else None, "backend": backend,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "questions": len(rows),
        "limit": limit, "seed": seed,
        "metrics": aggregate(rows),
        "judge": judged,
        "briefings": briefing_report,
        "baseline": {"name": baseline, "metrics": aggregate(baseline_rows)} if baseline_rows else None,
        "settings": {k: str(v) for k, v in settings.model_dump().items() if "key" not in k},
    }
    if judged:
        report["metrics"]["overall"].update({k: v for k, v in judged.items() if k != "judge_backend"})
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        with (out / "results.jsonl").open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        if baseline_rows:
            with (out / "baseline.jsonl").open("w", encoding="utf-8") as handle:
                for row in baseline_rows:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        write_reports(out, report, rows)
        if briefing_report:
            m = briefing_report["metrics"]
            with (out / "report.md").open("a", encoding="utf-8") as handle:
                handle.write(
                    f"\n## Briefings ({briefing_report['topics']} topics, {briefing_report['dataset']})\n\n"
                    "| fact recall | citation precision | cite recall | verified | abstention | p50 s |\n|---:|---:|---:|---:|---:|---:|\n"
                    + " | ".join("—" if m[k] is None else f"{m[k]:.3f}" for k in
                                 ("fact_recall", "citation_precision", "cite_recall", "verified", "abstention", "p50_s"))
                    .join(["| ", " |\n"]))
    return report, rows
