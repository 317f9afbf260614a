"""Answer quality on a gold set through RagService.ask (the same path the CLI, UI and API use).

    python -m eval.answer_bench [--dataset FILE] [--corpus DIR] [--llm BACKEND] [--json] [--out FILE]

  accuracy        answerable questions whose answer contains a gold alias (normalised) and did not abstain
  abstention      unanswerable questions on which newsrag abstained
  false_abstain   answerable questions on which it abstained
  gold_citation   answered (non-abstained) answerable questions citing at least one gold-article passage
  p50/p95 s       seconds per question
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from eval.gold import DATASETS, load_gold
from eval.metrics import alias_in_answer
from rag.config import Settings
from rag.service import RagService

ROOT = Path(__file__).resolve().parent.parent


def run(dataset: Path, corpus: Path, backend: str, data_dir: Path | None = None) -> dict:
    questions = load_gold(dataset)
    with tempfile.TemporaryDirectory(prefix="newsrag-answers-") as tmp:
        settings = Settings(data_dir=data_dir or Path(tmp), chroma_url=None, llm=backend, _env_file=None)
        service = RagService(settings)
        service.ingest([corpus])
        service.ask("warm up the models", backend=backend)
        rows = []
        for q in questions:
            started = time.perf_counter()
            answer = service.ask(q.question, backend=backend)
            seconds = time.perf_counter() - started
            cited = {c.article_id for c in answer.citations}
            rows.append({
                "id": q.id, "type": q.type, "question": q.question, "gold": q.answers, "sources": q.sources,
                "answer": answer.answer, "abstained": answer.abstained, "fallback": answer.fallback,
                "cited": sorted(cited), "evidence": round(answer.evidence, 3), "seconds": round(seconds, 3),
                "correct": (not answer.abstained and alias_in_answer(answer.answer, q.answers)) if q.answerable else answer.abstained,
                "gold_citation": bool(cited & set(q.sources)) if q.answerable and not answer.abstained else None,
            })
    answerable = [r for r in rows if r["gold"]]
    unanswerable = [r for r in rows if not r["gold"]]
    answered = [r for r in answerable if not r["abstained"]]
    seconds = sorted(r["seconds"] for r in rows)
    summary = {
        "backend": backend,
        "questions": len(rows),
        "accuracy": round(sum(r["correct"] for r in answerable) / len(answerable), 3),
        "abstention": round(sum(r["correct"] for r in unanswerable) / len(unanswerable), 3) if unanswerable else None,
        "false_abstain": round(sum(r["abstained"] for r in answerable) / len(answerable), 3),
        "gold_citation": round(sum(r["gold_citation"] for r in answered) / len(answered), 3) if answered else None,
        "llm_answer_kept": round(sum(1 for r in answered if r["fallback"] is None) / len(answered), 3) if answered else None,
        "p50_s": round(statistics.median(seconds), 2),
        "p95_s": round(seconds[int(0.95 * (len(seconds) - 1))], 2),
    }
    return {"summary": summary, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS / "ukraine-2022.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "ukraine-2022")
    parser.add_argument("--llm", default="llamacpp")
    parser.add_argument("--out", type=Path, help="write every row and the summary as JSON here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.dataset, args.corpus, args.llm)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()
