"""Citation parsing and claim verification."""

from hypothesis import example, given, settings, strategies as st

from rag.citations import _MARKER, Claim, numbers_in, parse_citations, split_sentences, strip_markers, verify_claim

PASSAGE = ("Some 1,400 civilians remain in Toretsk, whose prewar population exceeded 60,000, Donetsk regional "
           "Governor Vadym Filashkin told Ukraine's public broadcaster.")


def test_markers_map_to_passages_and_bad_ones_are_removed():
    claims = parse_citations("Toretsk still has 1,400 civilians [1][7]. Filashkin said so [2, 3].", passages=3)
    assert [(c.text, c.cited, c.dropped_markers) for c in claims] == [
        ("Toretsk still has 1,400 civilians.", [1], [7]),
        ("Filashkin said so.", [2, 3], []),
    ]


def test_ranges_and_a_marker_after_the_full_stop():
    claims = parse_citations("The city fell. [2] Troops left [1-3].", passages=4)
    assert [c.cited for c in claims] == [[2], [1, 2, 3]]


def test_abbreviations_do_not_split_sentences():
    assert split_sentences("Luhansk Gov. Serhiy Haidai said it. The U.S. sent arms.") == [
        "Luhansk Gov. Serhiy Haidai said it.", "The U.S. sent arms."]


def test_number_forms_are_equal():
    assert numbers_in("1,400 people and five towns, 20 per cent") == {"1400", "5", "20"}
    assert "1400" in numbers_in("1400")


def test_supported_claim_gets_its_quote():
    verdict = verify_claim(Claim("About 1,400 civilians remain in Toretsk, Filashkin said.", [1]), [PASSAGE])
    assert verdict.supported and verdict.passage == 1 and verdict.quote == PASSAGE


def test_invented_number_is_not_supported():
    verdict = verify_claim(Claim("Some 2,400 civilians remain in Toretsk.", [1]), [PASSAGE])
    assert not verdict.supported and "2400" in verdict.reason


def test_invented_name_is_not_supported():
    verdict = verify_claim(Claim("Some 1,400 civilians remain in Toretsk, Governor Ivanov said.", [1]), [PASSAGE])
    assert not verdict.supported and "ivanov" in verdict.reason


def test_invented_date_is_not_supported():
    verdict = verify_claim(Claim("On Monday 1,400 civilians remained in Toretsk.", [1]), [PASSAGE])
    assert not verdict.supported and "monday" in verdict.reason


def test_unrelated_sentence_is_not_supported():
    verdict = verify_claim(Claim("It said that grain exports halted across the sea.", [1]), [PASSAGE])
    assert not verdict.supported and "too little" in verdict.reason


def test_claim_without_citation_is_not_supported():
    assert not verify_claim(Claim("Some 1,400 civilians remain in Toretsk.", []), [PASSAGE]).supported


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=10))
def test_parsing_arbitrary_model_output_never_crashes(text, passages):
    for claim in parse_citations(text, passages):
        assert all(1 <= n <= passages for n in claim.cited)
        assert _MARKER.search(claim.text) is None  # no citation marker is left inside a claim


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Toretsk", "[1]", "[99]", "1,400", ".", " ", "\n", "[", "]", "Gov.", "[1-3]", "five"]), max_size=30))
def test_verifying_arbitrary_claims_never_crashes(tokens):
    for claim in parse_citations("".join(tokens), 2):
        verify_claim(claim, [PASSAGE, "Another passage."])


# Model output rich in the things the parser looks for: markers (ranges, lists, huge numbers), sentence
# ends, abbreviations and stray brackets, among arbitrary text.
_MARKER_LIKE = st.from_regex(r"\[ ?\d{1,25}( ?[-–,] ?\d{1,25}){0,3} ?\]", fullmatch=True)
_MODEL_OUTPUT = st.lists(
    st.one_of(_MARKER_LIKE, st.text(max_size=12), st.sampled_from([". ", "! ", "? ", "\n", "Gov. ", "U.S. ", "[", "]", "[]", "“", "”"])),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MODEL_OUTPUT, st.integers(min_value=0, max_value=10))
@example("Troops left \x000\x00 the city [1].", 1)  # a NUL-wrapped digit once came back as "Gov."
def test_marker_heavy_model_output_parses_into_claims_taken_from_it(text, passages):
    claims = parse_citations(text, passages)
    for claim in claims:
        assert all(1 <= n <= passages for n in claim.cited)
        assert all(not 1 <= n <= passages for n in claim.dropped_markers)
        assert _MARKER.search(claim.text) is None
        remaining = iter(text)
        assert all(ch in remaining for ch in claim.text), claim  # in order, out of the output: nothing invented
