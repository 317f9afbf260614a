"""Turn a SQuAD 1.1/2.0 JSON file into a newsrag corpus (one article per paragraph) and a gold file.

SQuAD 2.0's unanswerable questions (`is_impossible`) become unanswerable gold questions: the right
behaviour is to abstain. Question types are all "factoid" except those.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "article"


def import_squad(squad_file: Path, corpus_out: Path, gold_out: Path) -> dict:
    """Write one .txt per paragraph into `corpus_out` and the questions to `gold_out` (JSONL)."""
    try:
        data = json.loads(Path(squad_file).read_text(encoding="utf-8"))
        articles = data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{squad_file} is not a SQuAD JSON file ({exc.__class__.__name__}).") from exc
    corpus_out.mkdir(parents=True, exist_ok=True)
    gold_out.parent.mkdir(parents=True, exist_ok=True)
    paragraphs = questions = unanswerable = 0
    with gold_out.open("w", encoding="utf-8") as gold:
        for article in articles:
            title = article.get("title", "untitled").replace("_", " ")
            for index, paragraph in enumerate(article.get("paragraphs", [])):
                article_id = f"{_slug(title)}-{index:03d}"
                (corpus_out / f"{article_id}.txt").write_text(f"{title}\n\n{paragraph['context']}\n", encoding="utf-8")
                paragraphs += 1
                for qa in paragraph.get("qas", []):
                    impossible = bool(qa.get("is_impossible")) or not qa.get("answers")
                    aliases = list(dict.fromkeys(a["text"].strip() for a in qa.get("answers", []) if a.get("text", "").strip()))
                    row = {
                        "id": qa["id"],
                        "question": qa["question"].strip(),
                        "answers": [] if impossible else aliases,
                        "sources": [] if impossible else [article_id],
                        "type": "unanswerable" if impossible else "factoid",
                    }
                    gold.write(json.dumps(row, ensure_ascii=False) + "\n")
                    questions += 1
                    unanswerable += impossible
    return {"articles": paragraphs, "questions": questions, "unanswerable": unanswerable}
