"""Extractive multi-article summaries: the most central, least redundant sentences across articles.

Hand-written because the libraries that do this (sumy's LexRank, for one) score sentences of one text by
word overlap; news summaries need two things they lack: support counted across *different* articles
(a point several outlets make is central, one article repeating itself is not) and the lead prior of
news writing (the first sentences of an article carry its news). Both are weighed by `BriefingPolicy`,
calibrated on the Multi-News sample (README, Briefings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.config import BriefingPolicy
from rag.text import sentence_spans


@dataclass
class Candidate:
    """A sentence that may go into a summary: `article` groups sentences of one article (or one story),
    `offset` is where the sentence starts in its article, in characters."""

    article: str
    offset: int
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def usable(candidate: Candidate, policy: BriefingPolicy) -> bool:
    """Long enough to say something, and prose rather than a caption, a byline or a list of names."""
    return candidate.words >= policy.min_words and bool(re.search(r"[a-z]", candidate.text))


def centrality(vectors: np.ndarray, articles: list[str]) -> np.ndarray:
    """Each sentence's mean cosine to the sentences of the *other* articles; within one article (a
    single-article input) its mean cosine to the article's other sentences."""
    similarity = vectors @ vectors.T
    keys = np.asarray(articles)
    other = keys[:, None] != keys[None, :]
    if len(set(articles)) < 2:
        other = ~np.eye(len(articles), dtype=bool)
    return (similarity * other).sum(axis=1) / np.maximum(other.sum(axis=1), 1)


def sentence_scores(vectors: np.ndarray, articles: list[str], offsets: np.ndarray, policy: BriefingPolicy,
                    relevance: np.ndarray | None = None) -> np.ndarray:
    """centrality + lead_weight / (1 + offset / lead_chars) [+ relevance_weight * relevance]."""
    score = centrality(vectors, articles) + policy.lead_weight / (1.0 + np.asarray(offsets) / policy.lead_chars)
    if relevance is not None:
        score = score + policy.relevance_weight * np.asarray(relevance)
    return score


def select(candidates: list[Candidate], vectors: np.ndarray, policy: BriefingPolicy,
           budget_words: int | None = None, relevance: np.ndarray | None = None) -> list[int]:
    """Indices of the chosen candidates, in reading order (article by article, as they appear in it).

    Best `sentence_scores` first; a sentence whose cosine to one already chosen reaches
    `redundancy_cosine` is skipped, and whole sentences are added until the budget of words is reached
    (the last may run `overrun_words` past it; a longer one is skipped for a shorter one after it).
    """
    budget = policy.budget_words if budget_words is None else budget_words
    pool = [i for i, c in enumerate(candidates) if usable(c, policy)] or list(range(len(candidates)))
    if not pool or budget <= 0:
        return []
    vecs = np.asarray(vectors)[pool]
    articles = [candidates[i].article for i in pool]
    offsets = np.asarray([candidates[i].offset for i in pool])
    score = sentence_scores(vecs, articles, offsets, policy, None if relevance is None else np.asarray(relevance)[pool])
    chosen: list[int] = []
    total = 0
    # stable: equal scores keep the candidates' order, so the same input always gives the same summary
    for j in np.argsort(-score, kind="stable"):
        if chosen and float((vecs[chosen] @ vecs[j]).max()) >= policy.redundancy_cosine:
            continue
        words = candidates[pool[j]].words
        if chosen and total + words > budget + policy.overrun_words:
            continue
        chosen.append(int(j))
        total += words
        if total >= budget:
            break
    order = {article: n for n, article in enumerate(dict.fromkeys(c.article for c in candidates))}
    chosen.sort(key=lambda j: (order[articles[j]], offsets[j]))
    return [pool[j] for j in chosen]


def article_candidates(texts: list[str], max_sentences: int = 200) -> list[Candidate]:
    """The sentences of each article (the first `max_sentences` of a very long one)."""
    return [Candidate(str(n), start, text[start:end])
            for n, text in enumerate(texts) for start, end in sentence_spans(text)[:max_sentences]]


def summarise(texts: list[str], embeddings, policy: BriefingPolicy, budget_words: int | None = None) -> list[Candidate]:
    """A summary of the articles `texts` as the sentences chosen from them, in reading order."""
    candidates = article_candidates(texts)
    if not candidates:
        return []
    vectors = np.asarray(embeddings.embed_documents([c.text for c in candidates]))
    return [candidates[i] for i in select(candidates, vectors, policy, budget_words)]
