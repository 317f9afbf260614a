"""Gold question sets: JSONL, one {"id", "question", "answers", "sources", "type"} per line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

QuestionType = Literal["factoid", "temporal", "multi-doc", "reasoning", "unanswerable"]
DATASETS = Path(__file__).resolve().parent / "datasets"


class GoldQuestion(BaseModel):
    id: str
    question: str
    answers: list[str]  # aliases; empty means the archive does not answer it
    sources: list[str]  # article ids that hold the answer
    type: QuestionType

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_gold(path: Path) -> list[GoldQuestion]:
    """All questions of a gold file; a bad line raises ValueError naming the file and line."""
    questions = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"The gold file {path} cannot be read ({getattr(exc, 'strerror', None) or exc}).") from exc
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            questions.append(GoldQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path} line {number} is not a valid gold question ({str(exc).splitlines()[0]}).") from exc
    return questions
