"""Retrieval benchmark: article-level recall@1/@5 and MRR for dense, BM25 and hybrid, per chunk size.

    python -m eval.retrieval_bench [--dataset FILE] [--corpus DIR] [--chunk-tokens 96,160,256] [--json]

Each chunk size gets a fresh temporary store with the corpus ingested into it. Only answerable gold
questions count. Definitions (as in DPR, Karpukhin et al., 2020, at article level):
  recall@k   share of questions with at least one gold article among the top-k passages' articles
  coverage@5 share of a question's gold articles found in the top 5 (differs from recall@5 on multi-doc)
  MRR        mean of 1/rank of the first passage from a gold article (0 when none in the top 10)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from eval.gold import DATASETS, GoldQuestion, load_gold
from eval.metrics import retrieval_scores
from rag.config import Settings
from rag.service import RagService

ROOT = Path(__file__).resolve().parent.parent
MODES = ("dense", "bm25", "hybrid")


def evaluate(service: RagService, questions: list[GoldQuestion], mode: str) -> dict:
    rows, latencies = [], []
    for question in questions:
        started = time.perf_counter()
        hits = service.search(question.question, k=10, mode=mode)
        latencies.append(time.perf_counter() - started)
        rows.append(retrieval_scores([hit.article_id for hit in hits], set(question.sources)))
    summary = {metric: round(statistics.fmean(row[metric] for row in rows), 3) for metric in rows[0]}
    summary["p50_ms"] = round(1000 * statistics.median(latencies), 1)
    return summary


def run(dataset: Path, corpus: Path, chunk_sizes: list[int], embedding: str = "minilm-int8") -> list[dict]:
    questions = [q for q in load_gold(dataset) if q.answerable]
    results = []
    for chunk_tokens in chunk_sizes:
        with tempfile.TemporaryDirectory(prefix="newsrag-bench-") as tmp:
            settings = Settings(data_dir=Path(tmp), chroma_url=None, embedding=embedding,
                                chunk_tokens=chunk_tokens, chunk_overlap=chunk_tokens // 5)
            service = RagService(settings)
            report = service.ingest([corpus])
            service.search("warm up", k=1)  # load the model and the keyword index outside the timings
            for mode in MODES:
                results.append({"chunk_tokens": chunk_tokens, "passages": report.passages, "mode": mode,
                                "questions": len(questions), **evaluate(service, questions, mode)})
    return results


def markdown(results: list[dict]) -> str:
    lines = ["| chunk tokens | passages | retriever | recall@1 | recall@5 | coverage@5 | MRR | p50 ms |",
             "|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['chunk_tokens']} | {r['passages']} | {r['mode']} | {r['recall@1']:.3f} | "
                     f"{r['recall@5']:.3f} | {r['coverage@5']:.3f} | {r['mrr']:.3f} | {r['p50_ms']} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASETS / "ukraine-2022.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "ukraine-2022")
    parser.add_argument("--chunk-tokens", default="160", help="comma-separated passage sizes to compare")
    parser.add_argument("--embedding", default="minilm-int8", choices=["minilm-int8", "minilm", "fake"])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(args.dataset, args.corpus, [int(x) for x in args.chunk_tokens.split(",")], args.embedding)
    print(json.dumps(results, indent=2) if args.json else markdown(results))


if __name__ == "__main__":
    main()
