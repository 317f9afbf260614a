"""Citation parsing (the verifier has tests/unit/test_verify.py)."""

import re

from hypothesis import example, given, settings, strategies as st

from rag.citations import _MARKER, parse_citations, strip_markers
from rag.verify import ClaimVerifier

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


@settings(max_examples=200, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=10))
def test_parsing_arbitrary_model_output_never_crashes(text, passages):
    for claim in parse_citations(text, passages):
        assert all(1 <= n <= passages for n in claim.cited)
        assert _MARKER.search(claim.text) is None  # no citation marker is left inside a claim


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Toretsk", "[1]", "[99]", "1,400", ".", " ", "\n", "[", "]", "Gov.", "[1-3]", "five"]), max_size=30))
def test_verifying_arbitrary_claims_never_crashes(tokens):
    verifier = ClaimVerifier()
    for claim in parse_citations("".join(tokens), 2):
        verdict = verifier.verify(claim.text, [PASSAGE, "Another passage."][: max(1, len(claim.cited))])
        assert 0.0 <= verdict.score <= 1.0


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
@example("0\x1f\x0c0", 0)  # two whitespace characters read as one space
def test_marker_heavy_model_output_parses_into_claims_taken_from_it(text, passages):
    claims = parse_citations(text, passages)
    for claim in claims:
        assert all(1 <= n <= passages for n in claim.cited)
        assert all(not 1 <= n <= passages for n in claim.dropped_markers)
        assert _MARKER.search(claim.text) is None
        # in order, out of the output (whose runs of whitespace the parser writes as one space): nothing invented
        remaining = iter(re.sub(r"\s{2,}", " ", text))
        assert all(ch in remaining for ch in claim.text), claim


def test_markers_after_closing_quotes_cite_the_quoted_sentence():
    claims = parse_citations("“The port reopened on Monday.” [2] “Ferries resumed.” [1]", passages=2)
    assert [(c.text, c.cited) for c in claims] == [("“The port reopened on Monday.”", [2]), ("“Ferries resumed.”", [1])]
    nested = parse_citations("““We will rebuild,” the mayor wrote on Friday.” [1]", passages=1)
    assert len(nested) == 1 and nested[0].cited == [1] and "mayor wrote" in nested[0].text
    # a short answer before a quote that opens with a quoted quote keeps its own marker
    short = parse_citations("Mara Ostrova [2]. ““We will rebuild,” the mayor wrote on Friday.” [1]", passages=2)
    assert [(c.text, c.cited) for c in short] == [("Mara Ostrova.", [2]),
                                                   ("““We will rebuild,” the mayor wrote on Friday.", [1])]


def test_verbatim_quotes_of_a_passage_verify_with_the_shipped_policy():
    from vectorstore.embeddings import HashingFakeEmbeddings

    passage = ("Dockworkers in Rotterdam voted on Tuesday to end a nine-day strike. The union said 1,250 "
               "containers had been stranded. Shipping lines expect delays to last until March.")
    verifier = ClaimVerifier(embeddings=HashingFakeEmbeddings())
    answer = " ".join(f"“{sentence}” [1]" for sentence in
                      ["Dockworkers in Rotterdam voted on Tuesday to end a nine-day strike.",
                       "The union said 1,250 containers had been stranded."])
    for claim in parse_citations(answer, passages=1):
        assert claim.cited == [1] and verifier.verify(claim.text, [passage]).supported, claim.text
