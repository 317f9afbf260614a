"""`newsrag eval briefing-topics`: briefings on topics over a real archive, scored against quiz answers.

Topics JSONL: {"id", "topic", "as_of", "questions": [question ids]}; the answers come from a gold file in
newsrag's format (`newsrag eval import-realtimeqa ... --gold-out FILE`), so no answer is written into the
topics file. Each topic is briefed as of its date over the archive in NEWSRAG_DATA_DIR.

  fact_recall     share of the topic's questions with a gold answer (any alias) in the briefing's text
  cited           share of the briefing's sentences that carry a citation
  verbatim        share of cited quotes found verbatim in the article they cite
  copy_pairs      pairs of summary sentences or key points quoting different articles of one story
                  (syndicated copies); should be 0
  stories         distinct stories the briefing quotes
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

from eval.briefings import _items
from eval.jsonl import read_rows
from eval.metrics import alias_in_answer
from rag.service import RagService


def _rows(path: Path, what: str, keys: tuple[str, ...]) -> list[dict]:
    return read_rows(path, what, keys)


def score_topic(service: RagService, data: dict, answers: list[list[str]]) -> dict:
    items = _items(data)
    text = " ".join(item.get("text") or item.get("quote", "") for item in items)
    articles: dict[str, dict] = {}

    def article(article_id: str) -> dict:
        if article_id not in articles:
            articles[article_id] = service.article(article_id) or {}
        return articles[article_id]

    quotes = [(c["article_id"], c["quote"]) for item in items for c in item["citations"]]
    points = [item["citations"][0]["article_id"] for item in data["summary"] + data["key_points"] if item["citations"]]
    copy_pairs = sum(1 for a, b in combinations(points, 2)
                     if a != b and article(a).get("story") and article(a).get("story") == article(b).get("story"))
    return {
        "fact_recall": sum(alias_in_answer(text, aliases) for aliases in answers) / len(answers) if answers else None,
        "cited": sum(bool(item["citations"]) for item in items) / len(items) if items else None,
        "verbatim": sum(quote in article(aid).get("text", "") for aid, quote in quotes) / len(quotes) if quotes else None,
        "copy_pairs": copy_pairs,
        "stories": len({article(aid).get("story") or aid for aid, _ in quotes}),
        "sentences": len(items),
        "covered": data.get("note") is None,
    }


def run_briefing_topics(service: RagService, topics: Path, gold: Path,
                        progress: Callable[[int, int], None] | None = None) -> dict:
    answers = {row["id"]: row["answers"] for row in _rows(gold, "gold", ("id", "answers"))}
    rows = []
    planned = _rows(topics, "topics", ("id", "topic", "as_of", "questions"))
    for done, topic in enumerate(planned, 1):
        missing = [q for q in topic["questions"] if q not in answers]
        if missing:
            raise ValueError(f"Topic {topic['id']} names questions the gold file {gold} does not hold: {', '.join(missing)}.")
        started = time.perf_counter()
        data = service.brief(topic["topic"], as_of=topic["as_of"]).to_json()
        seconds = time.perf_counter() - started
        rows.append({"id": topic["id"], "topic": topic["topic"], "as_of": topic["as_of"], "seconds": round(seconds, 2),
                     **score_topic(service, data, [answers[q] for q in topic["questions"]])})
        if progress:
            progress(done, len(planned))

    def mean(metric: str):
        values = [r[metric] for r in rows if r[metric] is not None]
        return round(statistics.fmean(values), 3) if values else None

    return {"topics": len(rows), "fact_recall": mean("fact_recall"), "cited": mean("cited"), "verbatim": mean("verbatim"),
            "copy_pairs": sum(r["copy_pairs"] for r in rows), "stories_mean": mean("stories"),
            "seconds_p50": round(statistics.median(r["seconds"] for r in rows), 2),
            "seconds_max": max(r["seconds"] for r in rows), "rows": rows}
