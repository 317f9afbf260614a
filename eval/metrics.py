"""Answer metrics. Normalisation as in the SQuAD evaluation script (Rajpurkar et al., 2016):
lower-case, drop punctuation and the articles a/an/the, collapse white space."""

from __future__ import annotations

import math
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


def retrieval_scores(ranked_articles: list[str], gold: set[str]) -> dict[str, float]:
    """Article-level retrieval metrics for one question from its ranked passages' article ids.

    recall@k: a gold article among the top k (DPR's retrieval recall, Karpukhin et al., 2020);
    coverage@5: share of the gold articles in the top 5; mrr: 1/rank of the first gold article (top 10).
    """
    first = next((rank for rank, article in enumerate(ranked_articles[:10], 1) if article in gold), None)
    return {
        "recall@1": float(bool(gold & set(ranked_articles[:1]))),
        "recall@5": float(bool(gold & set(ranked_articles[:5]))),
        "coverage@5": len(gold & set(ranked_articles[:5])) / len(gold),
        "mrr": 1.0 / first if first else 0.0,
    }


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
