"""`newsrag eval summaries`: ROUGE of briefing summaries on multi-document news, next to the lead baseline.

The dataset is JSONL, one cluster a line: {"id", "articles": [text, ...], "reference": human summary}
(../shared/benchmarks/multi-news-sample100/derived_clusters.jsonl has this shape). Each cluster's
articles are summarised by rag/summarise.py, the code a briefing's summary runs, at the policy's word
budget; the baseline is the first `budget_words` words of the articles as given (Multi-News' "lead").
ROUGE-1/2/L F1 with Porter stemming, as `rouge_score` computes it (rougeL without sentence splitting).

Parts: "calibration" is the even-numbered clusters (0, 2, ...), "report" the odd-numbered ones; the
summary policy's defaults were chosen on the calibration part only (rag/config.py, BriefingPolicy).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from eval.jsonl import read_rows
from rag.config import Settings
from rag.service import make_embeddings
from rag.summarise import summarise

Part = Literal["all", "calibration", "report"]
METRICS = ("rouge1", "rouge2", "rougeL")


def load_clusters(path: Path) -> list[dict]:
    """The clusters of a JSONL file; a line that is not a cluster is named in one sentence."""
    clusters = read_rows(path, "summaries", valid=lambda row: isinstance(row.get("articles"), list)
                         and isinstance(row.get("reference"), str),
                         needs="'articles' (a list of texts) and 'reference' (the human summary)")
    if not clusters:
        raise ValueError(f"{path} holds no clusters.")
    return clusters


def lead(articles: list[str], words: int) -> str:
    return " ".join(" ".join(articles).split()[:words])


def _rouge(scorer, reference: str, summary: str) -> dict[str, float]:
    scores = scorer.score(reference, summary)
    return {m: scores[m].fmeasure * 100 for m in METRICS}


def run_summaries(dataset: Path, part: Part = "all", settings: Settings | None = None,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Score every cluster of the part; the report's figures are means over clusters, in ROUGE points."""
    from rouge_score import rouge_scorer

    settings = settings or Settings()
    clusters = load_clusters(dataset)
    chosen = [c for n, c in enumerate(clusters) if part == "all" or (n % 2 == 0) == (part == "calibration")]
    embeddings = make_embeddings(settings)
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    budget = settings.briefing.budget_words
    rows = []
    for done, cluster in enumerate(chosen, 1):
        articles = [a for a in cluster["articles"] if isinstance(a, str) and a.strip()]
        started = time.perf_counter()
        summary = " ".join(c.text for c in summarise(articles, embeddings, settings.briefing))
        seconds = time.perf_counter() - started
        baseline = lead(articles, budget)
        rows.append({"id": cluster.get("id"), "articles": len(articles), "words": len(summary.split()),
                     "seconds": round(seconds, 3), "summary": _rouge(scorer, cluster["reference"], summary),
                     "lead": _rouge(scorer, cluster["reference"], baseline)})
        if progress:
            progress(done, len(chosen))

    def mean(kind: str) -> dict[str, float]:
        return {m: round(statistics.fmean(r[kind][m] for r in rows), 2) for m in METRICS}

    return {
        "dataset": str(dataset), "part": part, "clusters": len(rows), "budget_words": budget,
        "summary": mean("summary"), "lead": mean("lead"),
        "mean_words": round(statistics.fmean(r["words"] for r in rows), 1),
        "seconds_per_cluster_p50": round(statistics.median(r["seconds"] for r in rows), 3),
        "policy": settings.briefing.model_dump(), "rows": rows,
    }
