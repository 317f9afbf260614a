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


# A run of markers, with the punctuation and closing quotes after it.
_MARKER_RUN = re.compile(r"(?:\s*\[[^\[\]\n]*\])+[.!?;\"”’)]*")


def _units(answer: str) -> list[str]:
    """The answer cut after each run of markers that ends a sentence ("... city.” [2] Troops ..."):
    the markers belong to the text before them, however the sentence splitter reads quotes."""
    units, start = [], 0
    for match in _MARKER_RUN.finditer(answer):
        rest = answer[match.end():]
        if _MARKER.search(match.group()) and (not rest.strip() or re.match(r"\s+[\"“‘(]*[A-Z0-9]", rest)):
            units.append(answer[start:match.end()])
            start = match.end()
    units.append(answer[start:])
    return [unit for unit in units if unit.strip()]


def parse_citations(answer: str, passages: int) -> list[Claim]:
    """Split an answer into claims with the [n] markers they carry; markers outside 1..passages are dropped.

    Markers after a sentence belong to it (models write "... city. [2]" and "“...” [2]"); a sentence
    without markers before another sentence of the same run is a claim citing nothing.
    """
    claims: list[Claim] = []
    for unit in _units(str(answer or "")):
        numbers = [n for m in _MARKER.finditer(unit) for n in _expand(m.group(1))]
        valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
        dropped = [n for n in numbers if not 1 <= n <= passages]
        pieces = [re.sub(r"\s{2,}", " ", strip_markers(sentence)) for sentence in sentences(_MARKER.sub("", unit))]
        pieces = [piece for piece in pieces if re.search(r"\w", piece)]
        if not pieces:
            if claims:  # markers alone: they belong to the claim before
                claims[-1].cited.extend(n for n in valid if n not in claims[-1].cited)
            continue
        claims.extend(Claim(piece, [], []) for piece in pieces[:-1])
        claims.append(Claim(pieces[-1], valid, dropped))
    return claims
