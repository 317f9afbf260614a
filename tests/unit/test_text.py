"""rag/text.py, table-driven, on sentences written for these tests (not from the sample articles)."""

import pytest

from rag import text as T


@pytest.mark.parametrize("source, expected", [
    ("Gov. Maria Lenz said the bridge would reopen. Traffic resumed at noon.",
     ["Gov. Maria Lenz said the bridge would reopen.", "Traffic resumed at noon."]),
    ("The U.S. and the U.K. signed it. Dr. Okafor disagreed.",
     ["The U.S. and the U.K. signed it.", "Dr. Okafor disagreed."]),
    ("Sen. Alvarez left at 3 p.m. on Friday. She did not return.",
     ["Sen. Alvarez left at 3 p.m. on Friday.", "She did not return."]),
    ("Prices rose 2.5% in May. Analysts expected 2.1%!", ["Prices rose 2.5% in May.", "Analysts expected 2.1%!"]),
    ("Port strike ends\n\nDockworkers in Rotterdam voted to return.", ["Port strike ends", "Dockworkers in Rotterdam voted to return."]),
    ('"We will rebuild," the mayor said. Work starts in June.', ['"We will rebuild," the mayor said.', "Work starts in June."]),
])
def test_sentences(source, expected):
    assert T.sentences(source) == expected


def test_sentence_spans_are_offsets_into_the_text():
    source = "  First one here.  Second one, by Gen. Ortiz.\n\nThird."
    for start, end in T.sentence_spans(source):
        assert source[start:end].strip() == source[start:end] and source[start:end]
    assert [source[s:e] for s, e in T.sentence_spans(source)] == ["First one here.", "Second one, by Gen. Ortiz.", "Third."]


@pytest.mark.parametrize("source, values", [
    ("1,400 people", [1400]),
    ("a 1.5 billion dollar loan", [1.5e9]),
    ("1.5 million", [1.5e6]),
    ("$3bn and £2.4m", [3e9, 2.4e6]),
    ("twenty-five trucks and two hundred thousand ballots", [25, 200000]),
    ("forty per cent, 40 percent and 40%", [40, 40, 40]),
    ("one of the victims", []),  # a pronoun, not a count
    ("one million residents", [1e6]),
    ("COVID19 and F16 jets", []),
    ("in 2019 about 7.25 tonnes", [2019, 7.25]),
])
def test_quantities(source, values):
    assert [q.value for q in T.quantities(source)] == pytest.approx(values)


@pytest.mark.parametrize("source, unit", [("40%", "percent"), ("40 per cent", "percent"), ("$40", "usd"),
                                          ("€40", "eur"), ("40 euros", "eur"), ("40 crates", None)])
def test_units(source, unit):
    assert [q.unit for q in T.quantities(source)] == [unit]


@pytest.mark.parametrize("claim, passage, missing", [
    ("It cost 1.5 billion.", "It cost 1.5 million.", ["1.5 billion"]),
    ("It cost 1.5 billion.", "It cost 1,500 million.", []),
    ("Twenty-five trucks.", "25 trucks arrived.", []),
    ("Twenty-six trucks.", "25 trucks arrived.", ["Twenty-six"]),
    ("Turnout was 40%.", "Turnout cost $40.", ["40%"]),
    ("Turnout was 40 per cent.", "Turnout was 40%.", []),
    ("Only 3 ships.", "Only three ships.", []),
])
def test_missing_quantities(claim, passage, missing):
    assert T.missing_quantities(claim, passage) == missing


@pytest.mark.parametrize("claim, passage, missing", [
    ("It happened in March.", "It happened in May.", ["march"]),
    ("It happened on Sept. 4.", "It happened on September 4.", []),
    ("It happened on Tuesday.", "It happened on Wednesday.", ["tuesday"]),
    ("You may leave.", "You can leave.", []),  # the verb, not the month
])
def test_missing_dates(claim, passage, missing):
    assert T.missing_dates(claim, passage) == missing


@pytest.mark.parametrize("name, haystack, present", [
    ("oman", "A woman spoke.", False),
    ("oman", "Talks in Oman resumed.", True),
    ("zelensky", "President Zelenskyy spoke.", True),
    ("kyiv", "Київ and Kyiv", True),
    ("київ", "Kyiv only", False),
    ("北京", "会议在北京举行", True),  # Chinese puts no spaces between words
    ("上海", "会议在北京举行", False),
    ("ana", "Banana prices", False),
])
def test_name_present(name, haystack, present):
    assert T.name_present(name, haystack) is present


def test_names_skip_sentence_starters_used_in_lower_case_and_keep_other_scripts():
    assert T.names("After the vote, Okafor left. The vote was after noon.") == {"okafor"}
    assert "київ" in T.names("Talks moved to Київ.")
    assert "東京" in T.names("The envoy flew to 東京.")
    assert T.names("Gov. Lenz and Mr. Abara met in Lagos.") == {"lenz", "abara", "lagos"}


def test_missing_names_use_word_boundaries_and_abbreviations():
    assert T.missing_names("Oman signed.", "A woman signed.") == ["oman"]
    assert T.missing_names("The UN said so.", "The United Nations said so.") == []
    assert T.missing_names("The U.S. agreed.", "The United States agreed.") == []
    assert T.missing_names("Okafor agreed.", "Abara agreed.") == ["okafor"]


def test_urls_and_missing_urls():
    assert T.urls("See https://example.org/a. Or www.example.com.") == {"https://example.org/a", "www.example.com"}
    assert T.missing_urls("Go to https://evil.test/x", "Go to https://example.org/a") == ["https://evil.test/x"]


def test_content_terms_stem_and_drop_stop_words():
    assert T.content_terms("The ministers were meeting") == {"minist", "meet"}
    assert T.content_terms("Gov. Lenz") == {"governor", "lenz"}


def test_expand_abbreviations():
    assert T.expand_abbreviations("Gov. Lenz met U.S. envoys") == "Governor Lenz met United States US envoys"


def test_negation():
    assert T.has_negation("The mayor did not resign.") and T.has_negation("She wasn't there.")
    assert not T.has_negation("The mayor resigned.")


def test_preambles():
    assert T.is_preamble("Sure!") and T.is_preamble("Here is a summary of the article in 90 words:")
    assert not T.is_preamble("The article says prices rose.") and not T.is_preamble("40%.")
    assert T.strip_preamble("Here is the answer: Prices rose 4%.") == "Prices rose 4%."
    assert T.strip_preamble("Prices rose: 4% in May.") == "Prices rose: 4% in May."
