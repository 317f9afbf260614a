"""Turn the MultiHop-RAG sample (Tang & Yang, 2024) into a newsrag corpus and a gold file.

The folder holds `queries_with_gold.jsonl` (query, question_type, answer, evidence_list) and
`derived_evidence_articles.jsonl` (one line per evidence article, with its evidence sentences as `facts`).
The full article bodies are not in the sample, so each article's text is its facts, one paragraph each.
"Insufficient information." (the null queries) becomes an unanswerable gold question.
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.feeds import FeedWriter, iso_date, jsonl_objects
from eval.gold import seeded_sample

QUERIES = "queries_with_gold.jsonl"
ARTICLES = "derived_evidence_articles.jsonl"
NO_ANSWER = "insufficient information."
TYPES = {"inference": "multi-doc", "comparison": "comparison", "temporal": "temporal", "null": "unanswerable"}


def _gold(path: Path, number: int, row: dict, stored: dict[str, str]) -> dict:
    """One MultiHop-RAG query as a gold row; `stored` maps article URLs to the ids they were written under."""
    try:
        kind = str(row["question_type"]).removesuffix("_query")
        answer = str(row["answer"] or "").strip()
        urls = [str(evidence["url"]).strip() for evidence in row.get("evidence_list") or []]
        question, qid = str(row["query"]).strip(), str(row["id"])
        if kind not in TYPES or not question:
            raise ValueError
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} line {number} is not a MultiHop-RAG query (it needs id, query, a question_type "
                         f"of {', '.join(TYPES)}, answer and an evidence_list of {{url, ...}}).") from exc
    missing = [url for url in urls if url not in stored]
    if missing:
        raise ValueError(f"{path} line {number} cites {missing[0]}, an article with no facts in {ARTICLES}.")
    answers = [] if kind == "null" or answer.lower() == NO_ANSWER or not answer else [answer]
    if answer.lower() in ("yes", "no"):
        answers = [answer.capitalize()]
    return {
        "id": f"mh-{qid}",
        "question": question,
        "answers": answers,
        "sources": list(dict.fromkeys(stored[url] for url in urls)) if answers else [],
        "type": TYPES[kind] if answers else "unanswerable",
        "as_of": None,
    }


def import_multihop(folder: Path, corpus_out: Path, gold_out: Path, limit: int | None = None, seed: int = 0) -> dict:
    """Write every evidence article into one feed in `corpus_out` and the queries (a seeded sample of
    `limit` with a limit) to `gold_out` (JSONL)."""
    folder = Path(folder)
    queries, articles = folder / QUERIES, folder / ARTICLES
    if not (queries.is_file() and articles.is_file()):
        raise ValueError(f"{folder} has no {QUERIES} and {ARTICLES}, so it is not a MultiHop-RAG folder "
                         "(such as ../shared/benchmarks/multihop-rag-sample500).")
    stored: dict[str, str] = {}
    with FeedWriter(corpus_out, stale="multihop-*.jsonl") as feed:
        feed.start("multihop-articles")
        for number, row in jsonl_objects(articles):
            facts = row.get("facts")
            url = row.get("url")
            if not (isinstance(url, str) and url.strip() and isinstance(facts, list)
                    and all(isinstance(fact, str) for fact in facts)):
                raise ValueError(f"{articles} line {number} is not a MultiHop-RAG article (it needs url and a "
                                 "facts list of sentences).")
            # Twin texts are stored once (see FeedWriter); the URL still resolves to the id kept.
            article_id = feed.add(url, row.get("title"), "\n\n".join(f.strip() for f in facts if f.strip()),
                                  str(row.get("source") or "").strip() or None, iso_date(row.get("published_at")))
            if article_id:
                stored[url.strip()] = article_id

    rows = [_gold(queries, number, row, stored) for number, row in jsonl_objects(queries)]
    picked = [rows[i] for i in seeded_sample(len(rows), limit, seed)]
    gold_out = Path(gold_out)
    gold_out.parent.mkdir(parents=True, exist_ok=True)
    with gold_out.open("w", encoding="utf-8") as gold:
        for row in picked:
            gold.write(json.dumps(row, ensure_ascii=False) + "\n")
    by_type: dict[str, int] = {}
    for row in picked:
        by_type[row["type"]] = by_type.get(row["type"], 0) + 1
    return {"articles": feed.articles, "skipped": feed.skipped, "questions": len(picked),
            "unanswerable": by_type.get("unanswerable", 0), "by_type": by_type}

