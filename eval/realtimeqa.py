"""Turn RealTime QA weekly files (Kasai et al., 2023) into a newsrag corpus and a gold file.

A week is `<YYYYMMDD>_qa.jsonl` (news-quiz questions, four `choices`, the 0-based index of the right one)
and `<YYYYMMDD>_gcs.jsonl` (the search results the organisers gathered for each question). The corpus is
the union of the weeks' search results, one feed file per week; each question's gold answer is the text of
its right choice, asked as of the question's date. A question's gold sources are those of its own search
results whose text holds that answer string, so a question with none has no gold article (the week's
archive may not answer it at all).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.feeds import FeedWriter, iso_date, jsonl_objects, outlet_of
from eval.gold import seeded_sample

QA_SUFFIX = "_qa.jsonl"
GCS_SUFFIX = "_gcs.jsonl"


def _question(path: Path, number: int, row: dict) -> dict:
    """One RealTime QA question as a gold row (sources filled in later)."""
    try:
        qid, sentence, choices = str(row["question_id"]), str(row["question_sentence"]).strip(), row["choices"]
        answer = row["answer"]
        index = int(answer[0])
        if not isinstance(choices, list) or len(answer) != 1 or not 0 <= index < len(choices):
            raise IndexError
        text = str(choices[index]).strip()
        if not (qid and sentence and text):
            raise ValueError
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{path} line {number} is not a RealTime QA question (it needs question_id, "
                         "question_sentence, choices and a one-item answer index into them).") from exc
    as_of = iso_date(row.get("question_date"))
    if not as_of or len(as_of) != 10:
        raise ValueError(f"{path} line {number} has a question_date that is not a whole date "
                         f"({row.get('question_date')!r}).")
    return {"id": qid, "question": sentence, "answers": [text], "sources": [], "type": "factoid", "as_of": as_of}


def import_realtimeqa(folder: Path, corpus_out: Path, gold_out: Path, limit: int | None = None, seed: int = 0) -> dict:
    """Write one feed file per week into `corpus_out` and the questions to `gold_out` (JSONL); with `limit`,
    a seeded sample of questions and only the weeks they come from (whole weeks, distractors included)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder; give the RealTime QA folder of <week>_qa.jsonl and "
                         "<week>_gcs.jsonl files.")
    qa_files = sorted(folder.glob(f"*{QA_SUFFIX}"))
    if not qa_files:
        raise ValueError(f"{folder} has no <week>{QA_SUFFIX} files, so it is not a RealTime QA folder "
                         "(such as ../shared/benchmarks/realtimeqa-2026/past_2026).")
    questions: list[tuple[str, dict]] = []
    for path in qa_files:
        week = path.name.removesuffix(QA_SUFFIX)
        questions.extend((week, _question(path, number, row)) for number, row in jsonl_objects(path))
    picked = [questions[i] for i in seeded_sample(len(questions), limit, seed)]
    weeks = sorted({week for week, _ in picked})
    for week in weeks:
        if not (folder / f"{week}{GCS_SUFFIX}").is_file():
            raise ValueError(f"{folder} has {week}{QA_SUFFIX} but no {week}{GCS_SUFFIX} with its search results.")

    results: dict[str, list[str]] = {}  # question id -> ids of its search results as written
    with FeedWriter(corpus_out, stale="realtimeqa-*.jsonl") as feed:
        for week in weeks:
            feed.start(f"realtimeqa-{week}")
            gcs = folder / f"{week}{GCS_SUFFIX}"
            for number, row in jsonl_objects(gcs):
                hits = row.get("search_result")
                if row.get("question_id") is None or not isinstance(hits, list) or not all(
                        isinstance(hit, dict) and isinstance(hit.get("url"), str) and hit["url"].strip() for hit in hits):
                    raise ValueError(f"{gcs} line {number} is not a RealTime QA search result (it needs question_id "
                                     "and a search_result list of {url, title, text, publish_date}).")
                ids = [feed.add(hit["url"], hit.get("title"), hit.get("text"), outlet_of(hit["url"]),
                                iso_date(hit.get("publish_date"))) for hit in hits]
                own = results.setdefault(str(row["question_id"]), [])
                own.extend(i for i in ids if i and i not in own)

    in_corpus = with_sources = 0
    gold_out = Path(gold_out)
    gold_out.parent.mkdir(parents=True, exist_ok=True)
    with gold_out.open("w", encoding="utf-8") as gold:
        for _, q in picked:
            answer = q["answers"][0]
            # Checked against the text as written: an article seen in several weeks keeps its first copy.
            q["sources"] = [i for i in results.get(q["id"], []) if feed.contains(answer, i)]
            with_sources += bool(q["sources"])
            in_corpus += bool(q["sources"]) or feed.contains(answer)
            gold.write(json.dumps(q, ensure_ascii=False) + "\n")
    return {"articles": feed.articles, "files": len(feed.files), "weeks": len(weeks), "skipped": feed.skipped,
            "questions": len(picked), "answer_in_corpus": in_corpus, "with_sources": with_sources}
