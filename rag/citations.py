"""Citation markers: split an answer into claims with the [n] passages each cites.

Hand-written: the marker forms small models write ("[2]", "[1, 3]", "[2-4]", "... city. [2]") are ours
to read; whether a claim is backed by what it cites is rag/verify.py's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.text import sentences

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[-–,]\s*\d+)*)\s*\]")


@dataclass
class Claim:
    """One answer sentence and the passage numbers it cites."""

    text: str  # without citation markers
    cited: list[int]
    dropped_markers: list[int] = field(default_factory=list)


def _expand(marker: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", marker):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit() and int(bounds[1]) - int(bounds[0]) < 20:
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


def parse_citations(answer: str, passages: int) -> list[Claim]:
    """Split an answer into claims with the [n] markers they carry; markers outside 1..passages are dropped.

    A marker at the start of a sentence belongs to the sentence before it (models write "... city. [2]").
    """
    claims: list[Claim] = []
    for sentence in sentences(str(answer or "")):
        leading = re.match(r"^(\s*\[[^\]]*\]\s*)+", sentence)
        if leading and claims:
            for number in (n for m in _MARKER.finditer(leading.group(0)) for n in _expand(m.group(1))):
                if 1 <= number <= passages and number not in claims[-1].cited:
                    claims[-1].cited.append(number)
            sentence = sentence[leading.end():]
        numbers = [n for m in _MARKER.finditer(sentence) for n in _expand(m.group(1))]
        text = strip_markers(sentence)
        if not re.search(r"\w", text):
            continue
        valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
        claims.append(Claim(text, valid, [n for n in numbers if not 1 <= n <= passages]))
    return claims
