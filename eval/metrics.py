"""Answer metrics. Normalisation as in the SQuAD evaluation script (Rajpurkar et al., 2016):
lower-case, drop punctuation and the articles a/an/the, collapse white space."""

from __future__ import annotations

import math
import re
import string
from collections import Counter

_PUNCTUATION = set(string.punctuation) | set("“”‘’—–…")
_TO_SPACE = str.maketrans({ch: " " for ch in _PUNCTUATION})
VERDICTS = ("yes", "no")


def normalise(text: str) -> str:
    text = (text or "").lower().translate(_TO_SPACE)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def alias_in_answer(answer: str, aliases: list[str]) -> bool:
    """Normalised containment of any gold alias, on word boundaries."""
    haystack = f" {normalise(answer)} "
    return any(f" {normalise(alias)} " in haystack for alias in aliases if normalise(alias))


def verdict_of(answer: str) -> str | None:
    """"yes" or "no" when the answer's first word is Yes or No (quotes and punctuation stripped), else None."""
    words = (answer or "").split(maxsplit=1)
    first = words[0].translate(_TO_SPACE).split() if words else []
    word = first[0].lower() if first else None
    return word if word in VERDICTS else None


def gold_verdict(aliases: list[str]) -> str | None:
    """"yes" or "no" when a gold answer is exactly Yes or No (any case): a yes/no question."""
    return next((alias.strip().lower() for alias in aliases if alias.strip().lower() in VERDICTS), None)


def answer_correct(answer: str, aliases: list[str]) -> bool:
    """A yes/no question needs the answer's verdict to match (a later "yes" in the text does not count);
    any other question needs a gold alias contained in the answer."""
    verdict = gold_verdict(aliases)
    if verdict is not None:
        return verdict_of(answer) == verdict
    return alias_in_answer(answer, aliases)


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


def lead_answer(answer: str) -> str:
    """What the answer puts first: its first sentence when that is a cited short answer of at most six
    words before the rest (the "BYD" of "BYD [2]. “…” [2]", however a backend wrote it), else the whole
    answer. A verdict ("Yes.") is no short answer."""
    from rag.citations import parse_citations
    from rag.text import is_verdict

    claims = parse_citations(answer or "", 1000)
    if len(claims) > 1 and claims[0].cited and not is_verdict(claims[0].text):
        first = claims[0].text.rstrip(".")
        if len(re.findall(r"[^\W_]+(?:[’'.,-][^\W_]+)*", first)) <= 6:
            return first
    return answer or ""


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
