"""The claim verifier: is a sentence backed by one of the passages it cites, by which passage and which
span, and how sure are we?

Two layers:
1. Zero-tolerance guards. A number (by value, magnitude and unit), a month or weekday, a name or a link
   of the claim that the passage does not hold fails the claim outright, whatever else it shares.
2. A calibrated score. A logistic regression over a few signals of how much of the claim the passage
   says (content-word coverage of the passage and of its best window of sentences, content bigrams,
   dense similarity of claim and window, negation agreement, how much is new). The weights are data
   (rag/verifier_calibration.json) fitted by `python -m eval.calibrate_verifier` on the calibration
   half of public claim data; the threshold is a field of VerifierPolicy in the settings.

Hand-written: no library we can run offline scores entailment of news claims; the signals come from
rag/text.py and the embedding model the archive already loads.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from threading import Lock

import numpy as np

from rag import text as T
from rag.config import VerifierPolicy

_NEIGHBOUR_GAP = 4  # characters between two sentences that still makes them neighbours ("\n\n", " ", "\r\n\r\n")
FEATURES = ("coverage", "window_coverage", "bigram_coverage", "dense", "negation_mismatch", "novel_terms",
            "claim_terms")


@dataclass
class Verdict:
    """The verifier's answer for one claim."""

    supported: bool
    score: float  # calibrated probability that the claim is supported (0..1); 0 when a guard failed
    passage: int | None = None  # 1-based number of the passage that backs it best
    start: int = 0  # offsets of the backing span inside that passage
    end: int = 0
    quote: str = ""  # passage[start:end]
    reason: str = ""  # why not, in one phrase ("" when supported)
    missing: list[str] = field(default_factory=list)  # numbers, dates, names or links absent from the passage
    features: dict[str, float] = field(default_factory=dict)
    checkable: bool = True  # False for a sentence that states nothing about the news ("Here is a summary:")


@dataclass
class _Prepared:
    """A passage read once: its sentences, their stems, and windows of neighbouring sentences."""

    terms: set[str]
    bigrams: set[tuple[str, str]]
    windows: list[tuple[int, int]]  # character spans of windows of 1..N sentences
    window_terms: list[set[str]]
    window_negated: list[bool]
    vectors: np.ndarray | None = None


def _bigrams(stems: list[str]) -> set[tuple[str, str]]:
    return set(zip(stems, stems[1:]))


def guard_failures(claim: str, passage: str) -> list[str]:
    """What the claim states that the passage does not hold: numbers, dates, names, links."""
    return (T.missing_quantities(claim, passage) + T.missing_dates(claim, passage)
            + T.missing_names(claim, passage) + T.missing_urls(claim, passage))


class ClaimVerifier:
    """claim, passages -> Verdict. Light constructor; the embedding model loads on first use."""

    def __init__(self, policy: VerifierPolicy | None = None, embeddings=None):
        self.policy = policy or VerifierPolicy()
        self.embeddings = embeddings
        self._cache: OrderedDict[str, _Prepared] = OrderedDict()
        self._lock = Lock()

    # --- passages --------------------------------------------------------------------------------

    def _prepare(self, passage: str) -> _Prepared:
        key = hashlib.blake2b(passage.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        spans = T.sentence_spans(passage) or [(0, len(passage))]
        # Sentences are neighbours when a space or a line break separates them; a longer run of blanks is
        # text that was blanked out (an instruction to the model), and no window may quote across it.
        joined = [len(passage[spans[i][1]:spans[i + 1][0]]) <= _NEIGHBOUR_GAP for i in range(len(spans) - 1)]
        windows = [(spans[i][0], spans[i + size - 1][1])
                   for size in range(1, min(self.policy.window_sentences, len(spans)) + 1)
                   for i in range(len(spans) - size + 1) if all(joined[i:i + size - 1])]
        stems = T.content_stems(passage)
        prepared = _Prepared(
            terms=set(stems), bigrams=_bigrams(stems), windows=windows,
            window_terms=[T.content_terms(passage[s:e]) for s, e in windows],
            window_negated=[T.has_negation(passage[s:e]) for s, e in windows],
        )
        if self.embeddings is not None:
            texts = [T.expand_abbreviations(passage[s:e]) for s, e in windows]
            prepared.vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)
        with self._lock:
            self._cache[key] = prepared
            while len(self._cache) > 256:
                self._cache.popitem(last=False)
        return prepared

    # --- scoring ---------------------------------------------------------------------------------

    def features(self, claim: str, passage: str, claim_vector: np.ndarray | None = None) -> tuple[dict[str, float], tuple[int, int]]:
        """The signals the score is made of, and the span of the passage's best window."""
        prepared = self._prepare(passage)
        stems = T.content_stems(claim)
        terms = set(stems)
        n = len(terms) or 1
        overlaps = [len(terms & w) / n for w in prepared.window_terms]
        dense = None
        if prepared.vectors is not None and claim_vector is not None:
            dense = prepared.vectors @ claim_vector
        # The best window: most of the claim's words, ties broken by dense similarity.
        order = [(overlaps[i] + (0.25 * float(dense[i]) if dense is not None else 0.0), i) for i in range(len(overlaps))]
        best = max(order, key=lambda pair: (pair[0], -pair[1]))[1]  # a tie goes to the first (tightest) window
        claim_bigrams = _bigrams(stems)
        features = {
            "coverage": len(terms & prepared.terms) / n,
            "window_coverage": overlaps[best],
            "bigram_coverage": (len(claim_bigrams & prepared.bigrams) / len(claim_bigrams)) if claim_bigrams else 1.0,
            "dense": float(dense.max()) if dense is not None else 0.0,
            "negation_mismatch": float(T.has_negation(claim) != prepared.window_negated[best]),
            "novel_terms": math.log1p(len(terms - prepared.terms)),
            "claim_terms": math.log1p(len(terms)),
        }
        return features, prepared.windows[best]

    def probability(self, features: dict[str, float]) -> float:
        z = self.policy.bias + sum(self.policy.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def _claim_vector(self, claim: str) -> np.ndarray | None:
        if self.embeddings is None:
            return None
        return np.asarray(self.embeddings.embed_query(T.expand_abbreviations(claim)), dtype=np.float32)

    def verify(self, claim: str, passages: Sequence[str]) -> Verdict:
        """Is `claim` backed by one of `passages`? The best-scoring passage that passes every guard wins."""
        claim = (claim or "").strip()
        if T.is_preamble(claim) or T.is_verdict(claim):  # nothing to check, whatever it cites
            return Verdict(True, 1.0, reason="", checkable=False)
        if not passages:
            return Verdict(False, 0.0, reason="cites no passage")
        if not T.content_terms(claim) and not T.quantities(claim):
            return Verdict(False, 0.0, reason="says nothing that can be checked")
        claim_vector = self._claim_vector(claim)
        best: Verdict | None = None
        refusals: list[Verdict] = []
        for number, passage in enumerate(passages, 1):
            features, (start, end) = self.features(claim, passage, claim_vector)
            # A word-for-word quote of whole passage sentences is what the passage says: it needs no score
            # (the fitted score penalises long claims, and a long quote is no less true for its length).
            quoted = T.verbatim_span(claim, passage, self.policy.window_sentences)
            if quoted is not None:
                return Verdict(True, 1.0, number, quoted[0], quoted[1], passage[quoted[0]:quoted[1]], "", [], features)
            missing = guard_failures(claim, passage)
            if not missing and T.is_bare_answer(claim):
                # "BYD [2]": a short answer stands when its passage holds it; the quote after it says why.
                return Verdict(True, 1.0, number, start, end, passage[start:end], "", [], features)
            score = self.probability(features)
            if missing:
                refusals.append(Verdict(False, 0.0, number, start, end, passage[start:end],
                                        f"[{number}] does not contain {', '.join(missing)}", missing, features))
                continue
            verdict = Verdict(score >= self.policy.threshold, score, number, start, end, passage[start:end],
                              "", [], features)
            if not verdict.supported:
                verdict.reason = (f"[{number}] does not say enough of it (score {score:.2f} < "
                                  f"{self.policy.threshold:.2f}; {features['window_coverage']:.0%} of its words in the best span)")
            if best is None or verdict.score > best.score:
                best = verdict
        if best is not None and best.supported:
            return best
        if best is None:
            reasons = "; ".join(r.reason for r in refusals)
            return Verdict(False, 0.0, refusals[0].passage, refusals[0].start, refusals[0].end, refusals[0].quote,
                           reasons, sorted({m for r in refusals for m in r.missing}), refusals[0].features)
        if refusals:
            best.reason = "; ".join([best.reason] + [r.reason for r in refusals])
        return best

    def verify_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[Verdict]:
        return [self.verify(claim, passages) for claim, passages in items]
