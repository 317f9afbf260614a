"""Briefing eval: topics with must-include facts and must-cite articles.

Gold JSONL: {"id", "topic", "since", "until", "must_include": [[aliases], ...], "must_cite": [article ids]};
empty lists mean the archive does not cover the topic and the briefing should say so.

  fact_recall        share of must-include facts (any alias, normalised) found in the briefing's sentences
  citation_precision share of the briefing's citations that point to a must-cite article
  cite_recall        share of must-cite articles the briefing cites
  verified           share of briefing sentences whose quote is found verbatim in the article it cites
  abstention         on uncovered topics: the briefing says so and has no sections
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from eval.jsonl import read_rows
from eval.metrics import alias_in_answer
from rag.briefing import NO_COVERAGE
from rag.service import RagService


def load_briefing_gold(path: Path) -> list[dict]:
    return read_rows(path, "briefing gold", ("id", "topic", "must_include", "must_cite"))


def _items(data: dict) -> list[dict]:
    items = data["summary"] + data["key_points"] + data["timeline"] + data["voices"]
    return items + [side for d in data["disagreements"] for side in d["sides"]]


def score_briefing(service: RagService, gold: dict, data: dict) -> dict:
    items = _items(data)
    text = " ".join(item.get("text") or item.get("quote", "") for item in items)
    citations = [c for item in items for c in item["citations"]]
    if not gold["must_include"]:
        return {"id": gold["id"], "abstention": float(data.get("note") == NO_COVERAGE and not items)}
    verified = []
    articles: dict[str, str] = {}
    for item in items:
        ok = True
        for citation in item["citations"]:
            if citation["article_id"] not in articles:
                articles[citation["article_id"]] = (service.article(citation["article_id"]) or {}).get("text", "")
            ok &= citation["quote"] in articles[citation["article_id"]]
        verified.append(float(ok and bool(item["citations"])))
    cited = {c["article_id"] for c in citations}
    return {
        "id": gold["id"],
        "fact_recall": sum(alias_in_answer(text, aliases) for aliases in gold["must_include"]) / len(gold["must_include"]),
        "citation_precision": sum(c["article_id"] in gold["must_cite"] for c in citations) / len(citations) if citations else 0.0,
        "cite_recall": len(cited & set(gold["must_cite"])) / len(gold["must_cite"]) if gold["must_cite"] else None,
        "verified": statistics.fmean(verified) if verified else 0.0,
    }


def run_briefings(service: RagService, dataset: Path) -> dict:
    rows = []
    for gold in load_briefing_gold(dataset):
        started = time.perf_counter()
        data = service.brief(gold["topic"], gold.get("since"), gold.get("until")).to_json()
        rows.append({**score_briefing(service, gold, data), "seconds": round(time.perf_counter() - started, 3)})

    def mean(metric):
        values = [r[metric] for r in rows if r.get(metric) is not None]
        return round(statistics.fmean(values), 3) if values else None

    summary = {m: mean(m) for m in ("fact_recall", "citation_precision", "cite_recall", "verified", "abstention")}
    summary["p50_s"] = round(statistics.median(r["seconds"] for r in rows), 3)
    return {"dataset": str(dataset), "topics": len(rows), "metrics": summary, "rows": rows}
