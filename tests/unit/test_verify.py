"""The claim verifier: each guard fails a claim the passage does not back, and each test here fails when
its guard or signal is removed. Sentences are written for these tests, not taken from any benchmark."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from rag import text as T
from rag.config import VerifierPolicy
from rag.verify import FEATURES, ClaimVerifier, guard_failures
from vectorstore.embeddings import HashingFakeEmbeddings

# A fixed policy, so these tests do not move when the shipped calibration is refitted.
POLICY = VerifierPolicy(
    threshold=0.5, bias=-6.0, window_sentences=2, calibrated_on="tests",
    weights={"coverage": 2.0, "window_coverage": 4.0, "bigram_coverage": 1.0, "dense": 1.0,
             "negation_mismatch": -3.0, "novel_terms": -0.5, "claim_terms": 0.0},
)
PASSAGE = ("The port authority in Rotterdam said on Tuesday that 1,250 containers were stranded by the strike. "
           "Dockworkers voted to return after the union accepted a 4% raise. "
           "Shipping lines expect delays to last until March.")


@pytest.fixture
def verifier():
    return ClaimVerifier(POLICY, HashingFakeEmbeddings())


def test_supported_claim_names_its_passage_and_span(verifier):
    other = "A separate report covered grain exports from Odesa in the spring."
    verdict = verifier.verify("Dockworkers voted to return after the union accepted a 4% raise.", [other, PASSAGE])
    assert verdict.supported and verdict.passage == 2 and verdict.reason == ""
    assert PASSAGE[verdict.start:verdict.end] == verdict.quote and "4% raise" in verdict.quote
    assert 0.5 <= verdict.score <= 1


@pytest.mark.parametrize("claim, missing", [
    ("The port authority in Rotterdam said on Tuesday that 1,350 containers were stranded by the strike.", "1,350"),
    ("The port authority in Rotterdam said on Tuesday that 1,250 containers were stranded by the strike in 2021.", "2021"),
    ("The port authority in Rotterdam said on Friday that 1,250 containers were stranded by the strike.", "friday"),
    ("The port authority in Antwerp said on Tuesday that 1,250 containers were stranded by the strike.", "antwerp"),
    ("Shipping lines expect delays to last until April.", "april"),
    ("Dockworkers voted to return after the union accepted a 4 billion raise.", "4 billion"),
    ("Dockworkers voted to return after the union accepted a $4 raise.", "$4"),
    ("Dockworkers voted to return, see https://example.test/strike for the raise.", "https://example.test/strike"),
])
def test_each_guard_fails_a_claim_the_passage_does_not_back(verifier, claim, missing):
    verdict = verifier.verify(claim, [PASSAGE])
    assert not verdict.supported and verdict.score == 0.0
    assert missing.lower() in " ".join(verdict.missing).lower()
    assert f"[1] does not contain" in verdict.reason


def test_guards_pass_claims_that_say_the_same_in_other_forms(verifier):
    assert guard_failures("Some one thousand two hundred fifty containers were stranded.", PASSAGE) == []
    assert guard_failures("The union accepted a 4 per cent raise.", PASSAGE) == []
    assert guard_failures("Dockworkers in Rotterdam went back.", PASSAGE) == []


def test_a_claim_sharing_too_little_is_not_supported(verifier):
    verdict = verifier.verify("Dockworkers blamed automation for falling wages and threatened new walkouts.", [PASSAGE])
    assert not verdict.supported and 0 < verdict.score < POLICY.threshold
    assert "does not say enough" in verdict.reason


def test_negation_lowers_the_score(verifier):
    plain = verifier.verify("Dockworkers voted to return after the union accepted a 4% raise.", [PASSAGE])
    negated = verifier.verify("Dockworkers did not vote to return after the union accepted a 4% raise.", [PASSAGE])
    assert negated.features["negation_mismatch"] == 1.0 and plain.features["negation_mismatch"] == 0.0
    assert negated.score < plain.score


def test_threshold_decides(verifier):
    claim = "Dockworkers voted to return once the union accepted a 4% raise."  # not word for word
    strict = ClaimVerifier(POLICY.model_copy(update={"threshold": 0.9999}), HashingFakeEmbeddings())
    assert verifier.verify(claim, [PASSAGE]).supported and not strict.verify(claim, [PASSAGE]).supported


def test_window_joins_neighbouring_sentences(verifier):
    claim = "Dockworkers voted to return after a 4% raise, and shipping lines expect delays until March."
    two = verifier.verify(claim, [PASSAGE])
    one = ClaimVerifier(POLICY.model_copy(update={"window_sentences": 1}), HashingFakeEmbeddings()).verify(claim, [PASSAGE])
    assert two.features["window_coverage"] > one.features["window_coverage"]
    assert "Shipping lines" in two.quote and "Dockworkers" in two.quote


def test_no_passage_and_empty_claim():
    verifier = ClaimVerifier(POLICY)
    assert verifier.verify("Anything.", []).reason == "cites no passage"
    assert not verifier.verify("...", [PASSAGE]).supported


def test_features_are_the_declared_ones(verifier):
    features, _ = verifier.features("Dockworkers voted.", PASSAGE)
    assert tuple(features) == FEATURES


def test_shipped_policy_is_calibrated_and_loads():
    policy = VerifierPolicy()
    assert set(policy.weights) == set(FEATURES) and 0 < policy.threshold < 1 and policy.calibrated_on


# --- zero tolerance, as properties --------------------------------------------------------------

MAGNITUDES = ["", " thousand", " million", " billion"]
UNITS = [("", ""), ("$", ""), ("", "%"), ("", " per cent")]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 999), st.integers(0, 99), st.sampled_from(MAGNITUDES), st.sampled_from(MAGNITUDES),
       st.sampled_from(UNITS), st.integers(1, 50))
def test_a_number_the_passage_does_not_hold_never_passes(whole, tenths, magnitude, other_magnitude, unit, shift):
    prefix, suffix = unit
    stated = f"{prefix}{whole}.{tenths:02d}{magnitude}{suffix}"
    wrong_value = f"{prefix}{whole + shift}.{tenths:02d}{magnitude}{suffix}"
    passage = f"The agency said exports reached {stated} last quarter, its biggest figure in years."
    verifier = ClaimVerifier(POLICY, HashingFakeEmbeddings())
    assert not verifier.verify(f"The agency said exports reached {wrong_value} last quarter, its biggest figure in years.", [passage]).supported
    if other_magnitude != magnitude:
        wrong_magnitude = f"{prefix}{whole}.{tenths:02d}{other_magnitude}{suffix}"
        assert not verifier.verify(f"The agency said exports reached {wrong_magnitude} last quarter, its biggest figure in years.", [passage]).supported


SPELLED = {2: "two", 3: "three", 7: "seven", 12: "twelve", 19: "nineteen", 20: "twenty", 45: "forty-five", 90: "ninety"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(SPELLED)), st.sampled_from(sorted(SPELLED)))
def test_spelled_out_numbers_compare_by_value(stated, claimed):
    passage = f"Officials counted {stated} damaged ferries in the harbour after the storm."
    verdict = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify(
        f"Officials counted {SPELLED[claimed]} damaged ferries in the harbour after the storm.", [passage])
    assert verdict.supported is (stated == claimed)


NAME_ALPHABETS = {
    "latin": "abcdefghijklmnopqrstuvwxyz",
    "cyrillic": "абвгдежзиклмнопрстуфхцшщыэюя",
    "greek": "αβγδεζηθικλμνξοπρστυφχψω",
    "cjk": "山川田中村林森木水火金土日月星海",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
}


@st.composite
def name_pairs(draw):
    alphabet = NAME_ALPHABETS[draw(st.sampled_from(sorted(NAME_ALPHABETS)))]
    first = draw(st.text(alphabet, min_size=3, max_size=9))
    second = draw(st.text(alphabet, min_size=3, max_size=9).filter(lambda s: s != first and first not in s and s not in first))
    return first[:1].upper() + first[1:], second[:1].upper() + second[1:]


@settings(max_examples=150, deadline=None)
@given(name_pairs())
def test_a_name_the_passage_does_not_mention_never_passes(names):
    in_passage, in_claim = names
    passage = f"Negotiators met envoy {in_passage} in the capital on the third day of the talks."
    verdict = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify(
        f"Negotiators met envoy {in_claim} in the capital on the third day of the talks.", [passage])
    assert not verdict.supported


# --- the verdict, field by field -----------------------------------------------------------------

def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


SENTENCES = ["The port authority in Rotterdam said on Tuesday that 1,250 containers were stranded by the strike.",
             "Dockworkers voted to return after the union accepted a 4% raise.",
             "Shipping lines expect delays to last until March."]


def test_passage_sentences_used_below():
    assert T.sentences(PASSAGE) == SENTENCES


def test_features_are_shares_of_the_claims_words():
    # Stems of the claim: dockwork, vote, return, bonus. The passage has the first three, and the bigrams
    # (dockwork, vote) and (vote, return) but not (return, bonus). No embeddings: no dense signal.
    verdict = ClaimVerifier(POLICY).verify("Dockworkers voted to return after a bonus.", [PASSAGE])
    assert verdict.features == pytest.approx({
        "coverage": 0.75, "window_coverage": 0.75, "bigram_coverage": 2 / 3, "dense": 0.0,
        "negation_mismatch": 0.0, "novel_terms": math.log(2), "claim_terms": math.log(5)})
    z = -6.0 + 2.0 * 0.75 + 4.0 * 0.75 + 1.0 * 2 / 3 - 0.5 * math.log(2)
    assert verdict.score == pytest.approx(sigmoid(z))
    assert verdict.supported is False and verdict.passage == 1 and verdict.missing == []
    assert verdict.reason == "[1] does not say enough of it (score 0.24 < 0.50; 75% of its words in the best span)"
    assert verdict.quote == SENTENCES[1]


def test_coverage_of_the_passage_and_of_the_best_window_differ():
    # Rotterdam is in the first sentence, 'expect', 'delay' and March in the third: no window of two
    # sentences holds all four stems.
    features, (start, end) = ClaimVerifier(POLICY).features("Rotterdam expects delays until March.", PASSAGE)
    assert features["coverage"] == 1.0 and features["window_coverage"] == 0.75
    assert features["novel_terms"] == 0.0 and features["claim_terms"] == pytest.approx(math.log(5))
    assert PASSAGE[start:end] == SENTENCES[2]


def test_a_one_word_claim_has_no_bigrams_to_miss():
    features, _ = ClaimVerifier(POLICY).features("Dockworkers.", PASSAGE)
    assert features["bigram_coverage"] == 1.0 and features["coverage"] == 1.0


def test_bigrams_are_neighbouring_words_in_order():
    verifier = ClaimVerifier(POLICY)
    assert verifier.features("Dockworkers voted.", PASSAGE)[0]["bigram_coverage"] == 1.0
    assert verifier.features("Voted dockworkers.", PASSAGE)[0]["bigram_coverage"] == 0.0
    # (dockwork, return) skips a word of the passage: not one of its bigrams.
    assert verifier.features("Dockworkers return.", PASSAGE)[0]["bigram_coverage"] == 0.0


def test_dense_similarity_is_that_of_the_closest_window(verifier):
    exact = verifier.verify(SENTENCES[1], [PASSAGE])
    assert exact.features["dense"] == pytest.approx(1.0, abs=1e-6)
    unrelated = verifier.verify("Dockworkers went home.", [PASSAGE])
    assert 0 < unrelated.features["dense"] < 0.9
    # A claim vector is needed as well as embedded passages.
    features, _ = verifier.features(SENTENCES[1], PASSAGE)
    assert features["dense"] == 0.0
    features, _ = ClaimVerifier(POLICY).features(SENTENCES[1], PASSAGE, np.ones(64, dtype=np.float32))
    assert features["dense"] == 0.0


def test_probability_is_the_logistic_of_the_weighted_features():
    verifier = ClaimVerifier(POLICY)
    assert verifier.probability({}) == pytest.approx(sigmoid(-6.0))
    assert verifier.probability({"coverage": 1.0, "window_coverage": 0.5}) == pytest.approx(sigmoid(-6.0 + 2.0 + 2.0))
    assert verifier.probability({"negation_mismatch": 1.0, "novel_terms": 2.0}) == pytest.approx(sigmoid(-6.0 - 3.0 - 1.0))
    # A signal the policy has no weight for counts for nothing.
    assert verifier.probability({"not_a_feature": 5.0}) == pytest.approx(sigmoid(-6.0))


def test_probability_of_extreme_features_saturates_without_overflow():
    # The logit is clamped to [-50, 50]: no OverflowError, and a claim that passes every guard never
    # scores exactly 0, the score of a guard failure.
    verifier = ClaimVerifier(POLICY)
    assert verifier.probability({"coverage": 1e6}) == 1.0
    low = verifier.probability({"coverage": -1e6})
    assert 0 < low == pytest.approx(sigmoid(-50.0), rel=1e-9, abs=0)


def test_threshold_is_inclusive(verifier):
    score = verifier.verify("Dockworkers voted to return.", [PASSAGE]).score
    at = ClaimVerifier(POLICY.model_copy(update={"threshold": score}), HashingFakeEmbeddings())
    above = ClaimVerifier(POLICY.model_copy(update={"threshold": math.nextafter(score, 1.0)}), HashingFakeEmbeddings())
    assert at.verify("Dockworkers voted to return.", [PASSAGE]).supported is True
    assert above.verify("Dockworkers voted to return.", [PASSAGE]).supported is False


def test_early_verdicts_field_by_field(verifier):
    for verdict, supported, score, reason, checkable in [
        (verifier.verify("Dockworkers voted.", []), False, 0.0, "cites no passage", True),
        (verifier.verify("  Here is a summary of the articles:  ", [PASSAGE]), True, 1.0, "", False),
        (verifier.verify("It was said that it is so.", [PASSAGE]), False, 0.0, "says nothing that can be checked", True),
        (verifier.verify(None, [PASSAGE]), False, 0.0, "says nothing that can be checked", True),
    ]:
        assert (verdict.supported, verdict.score, verdict.reason, verdict.checkable) == (supported, score, reason, checkable)
        assert (verdict.passage, verdict.start, verdict.end, verdict.quote) == (None, 0, 0, "")
        assert verdict.missing == [] and verdict.features == {}


def test_a_claim_of_only_a_number_is_still_checked(verifier):
    wrong = verifier.verify("1,350.", [PASSAGE])
    assert wrong.missing == ["1,350"] and wrong.reason == "[1] does not contain 1,350"
    # A bare number is a short answer ("1,250 [1]."): it stands when its passage holds it.
    right = verifier.verify("1,250.", [PASSAGE])
    assert right.missing == [] and right.supported and right.score == 1.0 and "1,250" in right.quote
    assert right.features["claim_terms"] == 0.0 and right.features["coverage"] == 0.0


@pytest.mark.parametrize("claim, bare", [
    ("Castelline Group", True), ("about 1,400", True), ("March 3", True), ("Mara Ostrova.", True),
    ("The mill closed", False), ("closed", False), ("Yes", False), ("", False), ("Sure!", False), ("Thanks.", False),
    ("Castelline Group said demand had fallen sharply", False),
])
def test_bare_answers_are_only_names_numbers_and_dates(claim, bare):
    assert T.is_bare_answer(claim) is bare


def test_a_bare_name_the_passage_lacks_still_fails():
    verdict = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify("Antwerp", [PASSAGE])
    assert not verdict.supported and verdict.missing == ["antwerp"]


@pytest.mark.parametrize("word", ["Yes.", "no", "Before.", "After."])
def test_a_verdict_word_is_not_checkable(word):
    verdict = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify(word, [PASSAGE])
    assert not verdict.checkable


def test_a_verdict_word_inside_a_sentence_is_checked():
    verdict = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify("Before the strike ended.", [PASSAGE])
    assert verdict.checkable


def test_a_refused_passage_does_not_stop_the_search(verifier):
    claim = "Dockworkers voted to return after the union accepted a 4% raise."
    other = "Dockworkers voted to return after the union accepted a raise."
    verdict = verifier.verify(claim, [other, PASSAGE])
    assert verdict.supported is True and verdict.passage == 2 and verdict.reason == "" and verdict.missing == []
    assert verdict.quote == SENTENCES[1] and (verdict.start, verdict.end) == (99, 163)


def test_when_every_passage_is_refused_the_first_refusal_is_reported(verifier):
    first = "Talks stalled. Dockworkers voted to return after the union accepted a 3% raise on Monday. Cranes rusted."
    second = "Dockworkers voted to strike again."
    claim = "Dockworkers voted to return after the union accepted a 4% raise on Friday."
    verdict = verifier.verify(claim, [first, second])
    assert verdict.supported is False and verdict.score == 0.0 and verdict.passage == 1
    assert verdict.reason == "[1] does not contain 4%, friday; [2] does not contain 4%, friday"
    assert verdict.missing == ["4%", "friday"]
    quoted = "Dockworkers voted to return after the union accepted a 3% raise on Monday."
    assert (verdict.start, verdict.end) == (first.index(quoted), first.index(quoted) + len(quoted))
    assert verdict.quote == quoted
    assert verdict.features == verifier.verify(claim, [first]).features != verifier.verify(claim, [second]).features


def test_missing_items_of_all_refusals_are_merged_and_sorted(verifier):
    claim = "The port authority in Rotterdam said on Tuesday that 1,250 containers were stranded."
    verdict = verifier.verify(claim, ["The port authority said on Tuesday that 1,250 containers were stranded.",
                                      "The port authority in Rotterdam said that 1,250 containers were stranded."])
    assert verdict.missing == ["rotterdam", "tuesday"]
    assert verdict.reason == "[1] does not contain rotterdam; [2] does not contain tuesday"


def test_an_unsupported_best_passage_lists_the_refusals_too(verifier):
    claim = "Dockworkers voted to return after the union accepted a 4% raise in Rotterdam."
    weak = "Dockworkers in Rotterdam met on Sunday as the union talked about a 4% raise."
    refused = "Dockworkers voted to return after the union accepted a 4% raise in Antwerp."
    verdict = verifier.verify(claim, [refused, weak])
    assert verdict.supported is False and verdict.passage == 2 and verdict.missing == []
    assert verdict.reason.startswith("[2] does not say enough of it (score ")
    assert verdict.reason.endswith("; [1] does not contain rotterdam")
    assert verdict.score == pytest.approx(verifier.probability(verdict.features)) and verdict.score > 0


def test_the_best_scoring_passage_wins_and_ties_go_to_the_first(verifier):
    claim = "Dockworkers voted to return after the union accepted a 4% raise."
    weaker = "Dockworkers voted to return after the union accepted a 4% raise, the port authority said."
    assert verifier.verify(claim, [weaker, PASSAGE]).passage == 2
    assert verifier.verify(claim, [PASSAGE, weaker]).passage == 1
    assert verifier.verify(claim, [PASSAGE, PASSAGE]).passage == 1


def test_verify_many_verifies_each_item(verifier):
    items = [("Dockworkers voted to return.", [PASSAGE]), ("Dockworkers voted on Friday.", [PASSAGE]),
             ("Anything.", [])]
    assert verifier.verify_many(items) == [verifier.verify(claim, passages) for claim, passages in items]
    assert [v.supported for v in verifier.verify_many(items)] == [True, False, False]


def test_a_blank_passage_backs_nothing(verifier):
    for passage in ["", "   "]:
        verdict = verifier.verify("Dockworkers voted to return.", [passage])
        assert verdict.supported is False and verdict.passage == 1
        assert (verdict.start, verdict.end) == (0, len(passage))


# --- which span backs the claim --------------------------------------------------------------------

def test_the_span_is_the_tightest_window_holding_the_claim(verifier):
    # Both two-sentence windows hold every word of the claim too; the one sentence is the closest match.
    assert verifier.verify(SENTENCES[1], [PASSAGE]).quote == SENTENCES[1]
    assert verifier.verify(SENTENCES[0], [PASSAGE]).quote == SENTENCES[0]


def test_among_windows_with_as_many_of_the_claims_words_the_most_similar_is_quoted(verifier):
    passage = "Officials said the ferries waited near the port for hours. The ferries waited at the port."
    verdict = verifier.verify("The ferries waited at the port.", [passage])
    assert verdict.quote == "The ferries waited at the port." and verdict.start == passage.index(verdict.quote)


def test_without_embeddings_a_tie_goes_to_the_tightest_window():
    # Without embeddings every window holding the claim ties; the first of them is the one sentence, not
    # a pair with a neighbour whose negation would count against the claim.
    passage = "Dockworkers in the harbour voted to return to work. Officials did not comment on the vote."
    verifier = ClaimVerifier(POLICY)
    verdict = verifier.verify("Dockworkers in the harbour voted to return to work.", [passage])
    assert verdict.quote == "Dockworkers in the harbour voted to return to work."
    assert verdict.supported and verdict.features["negation_mismatch"] == 0.0
    assert verifier.verify(SENTENCES[2], [PASSAGE]).quote == SENTENCES[2]


def test_words_of_the_claim_outrank_dense_similarity_when_choosing_the_span():
    # The second sentence repeats the claim's little words and is closer in dense terms, but holds only
    # half of its content words; the first holds all of them.
    claim = "The ferry was moved to the harbour by the crew."
    first, second = "Harbour crews moved ferries overnight.", "The ferry was moved to the dock by the tug."
    verifier = ClaimVerifier(POLICY.model_copy(update={"window_sentences": 1}), HashingFakeEmbeddings())
    verdict = verifier.verify(claim, [f"{first} {second}"])
    assert verdict.quote == first and verdict.features["window_coverage"] == 1.0
    assert verdict.features["dense"] > 0.8  # the dense signal itself is the best window's by similarity


def test_windows_are_at_most_window_sentences_long():
    passage = "Rain flooded the quay. Cranes stopped at noon. Ferries waited offshore. Pilots refused to sail."
    claim = "Rain flooded the quay, cranes stopped and ferries waited offshore."
    # Stems: rain, flood, quay (first sentence), crane, stop (second), ferri, wait, offshor (third).
    for size, expected in [(1, 3 / 8), (2, 5 / 8), (3, 1.0)]:
        verifier = ClaimVerifier(POLICY.model_copy(update={"window_sentences": size}), HashingFakeEmbeddings())
        verdict = verifier.verify(claim, [passage])
        assert verdict.features["window_coverage"] == pytest.approx(expected)
    last_two = ClaimVerifier(POLICY, HashingFakeEmbeddings()).verify("Ferries waited offshore and pilots refused to sail.", [passage])
    assert last_two.quote == "Ferries waited offshore. Pilots refused to sail." and last_two.features["window_coverage"] == 1.0


# --- passages are read once ------------------------------------------------------------------------

class CountingEmbeddings(HashingFakeEmbeddings):
    def __init__(self):
        super().__init__()
        self.embedded: list[str] = []

    def embed_documents(self, texts):
        self.embedded.extend(texts)
        return super().embed_documents(texts)


def test_a_passage_is_prepared_once_and_the_cache_keeps_the_256_most_recent():
    embeddings = CountingEmbeddings()
    verifier = ClaimVerifier(POLICY, embeddings)
    passages = [f"Ferry {k} left the harbour." for k in range(258)]

    def prepared(passage: str) -> bool:
        """Whether reading `passage` embedded it anew."""
        before = len(embeddings.embedded)
        verifier.features("A ferry left.", passage)
        return len(embeddings.embedded) > before

    assert prepared(passages[0]) and not prepared(passages[0])
    assert all(prepared(p) for p in passages[1:256])  # 256 passages cached
    assert not prepared(passages[0])  # used again: now the most recent
    assert prepared(passages[256])  # evicts the least recently used, passages[1]
    assert not prepared(passages[0]) and not prepared(passages[2]) and not prepared(passages[256])
    assert prepared(passages[1])  # evicts passages[3]
    assert not prepared(passages[0]) and not prepared(passages[256]) and prepared(passages[3])


def test_a_passage_with_a_stray_surrogate_is_still_read(verifier):
    passage = "Dockworkers voted to return \ud83d after the raise."
    verdict = verifier.verify("Dockworkers voted to return after the raise.", [passage])
    assert verdict.supported and verdict.quote == passage
    assert verifier.verify("Dockworkers voted to return after the raise.", [passage + " "]).supported


def test_no_window_quotes_across_blanked_out_text(verifier):
    blank = " " * 60
    passage = f"The metro reopened on Tuesday after three months.\n\n{blank}\n\nIt carried 150,000 passengers on its first day."
    claim = "The metro reopened on Tuesday and carried 150,000 passengers on its first day."
    for start, end in verifier._prepare(passage).windows:
        assert blank not in passage[start:end]
    joined = passage.replace(f"\n\n{blank}\n\n", " ")
    assert any("reopened" in joined[s:e] and "passengers" in joined[s:e] for s, e in verifier._prepare(joined).windows)
    assert blank not in verifier.verify(claim, [passage]).quote


def test_a_word_for_word_quote_of_whole_sentences_is_supported_whatever_its_length():
    # The fitted score penalises long claims; a long quote must not fall under a strict threshold for it.
    strict = ClaimVerifier(POLICY.model_copy(update={"threshold": 0.9999}), HashingFakeEmbeddings())
    two = ("“The port authority in Rotterdam said on Tuesday that 1,250 containers were stranded by the strike. "
           "Dockworkers voted to return after the union accepted a 4% raise.”")
    verdict = strict.verify(two, [PASSAGE])
    assert verdict.supported and verdict.score == 1.0
    assert verdict.quote == PASSAGE[:PASSAGE.index("raise.") + 6]
    # A fragment of a sentence is no quote of it: it goes through the score like any claim.
    fragment = strict.verify("1,250 containers were stranded by the strike.", [PASSAGE])
    assert not fragment.supported


@pytest.mark.parametrize("claim, expected", [
    ("Shipping lines expect delays to last until March.", (2, 2)),
    ("  \"Shipping lines expect delays to last until March\"  ", (2, 2)),
    ("Shipping lines expect delays to last until April.", None),
    ("expect delays to last until March.", None),
    ("Shipping lines expect.", None),  # too short to count as a quote
])
def test_verbatim_span(claim, expected):
    span = T.verbatim_span(claim, PASSAGE)
    if expected is None:
        assert span is None
    else:
        sentences = T.sentence_spans(PASSAGE)
        assert span == (sentences[expected[0]][0], sentences[expected[1]][1])
