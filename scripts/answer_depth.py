"""Where is the gold answer string? For each question of a gold file, asked as of its date over the
store in NEWSRAG_DATA_DIR: the share whose answer string is in the top-k passages of hybrid search, in
any passage of the best n articles, and anywhere in the archive dated on or before the as-of day.

    NEWSRAG_DATA_DIR=.newsrag-rtqa .venv/bin/python scripts/answer_depth.py eval/datasets/realtimeqa.jsonl

It bounds what passage selection can reach ("answer in shown" in the eval). Measured 2026-12-01 on the
RealTime QA 2026 archive (README, Answers on public news benchmarks). Run from the repository root.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from eval.metrics import alias_in_answer, normalise  # noqa: E402
from rag.dates import parse_as_of  # noqa: E402
from rag.retrieval import build_filter  # noqa: E402
from rag.service import RagService  # noqa: E402

TOP_K = (4, 8, 16, 32, 64)
TOP_ARTICLES = (1, 3, 5, 10)


def main(gold_path: str) -> None:
    service = RagService()
    gold = [json.loads(line) for line in Path(gold_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    passages: dict[str, list[str]] = {}

    def texts_of(article_id: str) -> list[str]:
        if article_id not in passages:
            passages[article_id] = [r["text"] for page in service.store.iter_passages(where={"article_id": article_id})
                                    for r in page]
        return passages[article_id]

    in_top = dict.fromkeys(TOP_K, 0)
    in_articles = dict.fromkeys(TOP_ARTICLES, 0)
    for q in gold:
        hits = service.searcher.search(q["question"], max(TOP_K), build_filter(None, None, None, parse_as_of(q.get("as_of"))))
        rank = next((i for i, h in enumerate(hits) if alias_in_answer(h.text, q["answers"])), None)
        for k in TOP_K:
            in_top[k] += rank is not None and rank < k
        articles = list(dict.fromkeys(h.article_id for h in hits))
        for n in TOP_ARTICLES:
            in_articles[n] += any(alias_in_answer(t, q["answers"]) for a in articles[:n] for t in texts_of(a))
    # Anywhere in the archive up to the as-of day: one pass over every passage.
    archive = [(r["metadata"].get("date") or "", f" {normalise(r['text'])} ")
               for page in service.store.iter_passages() for r in page]
    anywhere = 0
    for q in gold:
        wanted = [f" {normalise(a)} " for a in q["answers"] if normalise(a)]
        as_of = q.get("as_of") or "9999-12-31"
        anywhere += any(any(w in text for w in wanted) for day, text in archive if day <= as_of)
    n = len(gold)
    print(json.dumps({
        "questions": n,
        "answer_in_top_k_passages": {k: round(v / n, 3) for k, v in in_top.items()},
        "answer_in_best_n_articles": {k: round(v / n, 3) for k, v in in_articles.items()},
        "answer_in_archive_as_of": round(anywhere / n, 3),
    }, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
