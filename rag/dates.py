"""Dates in questions: "as of June 10, 2022", "in June 2022", "last week", "latest"; and the as-of date a
question is asked on (the archive as it stood that day)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from rag.documents import parse_date
from rag.text import MONTH_ALTERNATION

_MONTH = rf"(?:{MONTH_ALTERNATION})\.?"
_DATE = rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{4}}|\d{{4}})"


AS_OF_GRACE_DAYS = 3


def _plus_days(iso: str | None, days: int) -> str | None:
    if not iso or len(iso) != 10:
        return iso
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


@dataclass
class TimeHints:
    since: str | None = None
    until: str | None = None
    prefer_recent: bool = False
    relative: bool = False  # the limits come from a relative phrase ("this week"), not a date the question names


def parse_as_of(value: str | date | None) -> date | None:
    """An as-of date from user input ("2026-03-01", "March 1, 2026", a date); ValueError with one sentence
    for anything that is not a whole day."""
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    iso = parse_date(text)
    if not iso or len(iso) != 10:
        raise ValueError(f"as_of must be a whole date such as 2026-03-01 (got '{text}').")
    return date.fromisoformat(iso)


def time_hints(question: str, today: date | None = None) -> TimeHints:
    """Date limits a question implies; relative phrases resolve against `today`."""
    today = today or date.today()
    q = question.strip()
    hints = TimeHints()
    if match := re.search(rf"\b(?:as of|by|before|until|up to)\s+({_DATE})", q, re.IGNORECASE):
        # News of a day is often published a day or two later: reports up to AS_OF_GRACE_DAYS after the
        # date still describe the situation on it.
        hints.until = _plus_days(parse_date(match.group(1)), AS_OF_GRACE_DAYS)
    if match := re.search(rf"\b(?:since|after|from)\s+({_DATE})", q, re.IGNORECASE):
        hints.since = parse_date(match.group(1))
    if not (hints.since or hints.until):
        if match := re.search(rf"\bin\s+({_MONTH}\s+\d{{4}})\b", q, re.IGNORECASE):
            hints.since = hints.until = parse_date(match.group(1))
    # Windows in days back from `today`: (from, to). A week's news is read in the 7 days up to the day
    # asked on (a weekly quiz asks on Friday about Monday's news too); "today" and "yesterday" get a day of
    # grace because a day's news is often published the next morning.
    relative = {
        "yesterday": (2, 0), "this week": (7, 0), "last week": (7 + today.weekday(), today.weekday() + 1),
        "past week": (7, 0), "this month": (31, 0), "last month": (31, 0), "past month": (31, 0),
        "this year": (366, 0), "last year": (365, 0), "past year": (365, 0),
    }
    if not (hints.since or hints.until):
        for phrase, (back_from, back_to) in relative.items():
            if re.search(rf"\b{phrase}\b", q, re.IGNORECASE):
                hints.since = (today - timedelta(days=back_from)).isoformat()
                hints.until = (today - timedelta(days=back_to)).isoformat()
                hints.relative = True
                break
    # "today" and "now" ask for the newest state of things, not for articles of one day: an archive rarely
    # holds the day itself, so they order by recency instead of filtering.
    if re.search(r"\b(latest|most recent|newest|currently|current|now|so far|today|still)\b", q, re.IGNORECASE):
        hints.prefer_recent = True
    return hints
