"""Gold question sets: JSONL, one {"id", "question", "answers", "sources", "type"} per line, with an
optional "as_of" (the ISO date the question is asked on)."""

from __future__ import annotations

import json
import random
import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError, field_validator

QuestionType = Literal["factoid", "temporal", "multi-doc", "comparison", "reasoning", "unanswerable"]
DATASETS = Path(__file__).resolve().parent / "datasets"


class GoldQuestion(BaseModel):
    id: str
    question: str
    answers: list[str]  # aliases; empty means the archive does not answer it
    sources: list[str]  # article ids that hold the answer
    type: QuestionType
    as_of: str | None = None  # YYYY-MM-DD: the archive is read as it stood that day

    @field_validator("as_of")
    @classmethod
    def _whole_iso_date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"as_of must be an ISO date such as 2026-01-08, not {value!r}") from None
        return value

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def seeded_sample(count: int, limit: int | None, seed: int) -> list[int]:
    """Indexes of a seeded random sample of `limit` of `count` items, in order (all of them without a
    limit): the one draw behind `newsrag eval --limit/--seed` and the importers' --limit/--seed."""
    if not limit or limit >= count:
        return list(range(count))
    return sorted(random.Random(seed).sample(range(count), limit))


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
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number} is not a valid gold question ({exc.msg}).") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first.get("loc", ())) or "the line"
            raise ValueError(f"{path} line {number} is not a valid gold question ({where}: "
                             f"{first['msg'].removeprefix('Value error, ')}).") from exc
    return questions
