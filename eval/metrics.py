"""Answer metrics. Normalisation as in the SQuAD evaluation script (Rajpurkar et al., 2016):
lower-case, drop punctuation and the articles a/an/the, collapse white space."""

from __future__ import annotations

import re
import string
from collections import Counter

_PUNCTUATION = set(string.punctuation) | set("“”‘’—–…")


def normalise(text: str) -> str:
    text = "".join(ch if ch not in _PUNCTUATION else " " for ch in (text or "").lower())
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def alias_in_answer(answer: str, aliases: list[str]) -> bool:
    """Normalised containment of any gold alias, on word boundaries."""
    haystack = f" {normalise(answer)} "
    return any(f" {normalise(alias)} " in haystack for alias in aliases if normalise(alias))


def token_f1(answer: str, aliases: list[str]) -> float:
    """Best SQuAD token F1 between the answer and any alias."""
    best = 0.0
    predicted = normalise(answer).split()
    for alias in aliases:
        gold = normalise(alias).split()
        common = Counter(predicted) & Counter(gold)
        same = sum(common.values())
        if not predicted or not gold or same == 0:
            continue
        precision, recall = same / len(predicted), same / len(gold)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best
