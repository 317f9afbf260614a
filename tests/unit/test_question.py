"""Question understanding, and the answer forms it leads to (yes/no with every part backed, a short answer
first, one passage per named outlet). Questions and articles are written for these tests."""

from __future__ import annotations

import re
from datetime import date

import pytest

from rag.question import Part, claim_of_part, named_outlets, question_kind, split_parts, understand
from rag.service import RagService

OUTLETS = ["The Harbour Times", "Ridge Weekly", "Valley Wire | Business News Desk", "Globe"]


@pytest.mark.parametrize("question, kind", [
    ("Does the Ridge Weekly article say the mill closed?", "yes-no"),
    ("Did the council approve the budget, while Globe reported a delay?", "yes-no"),
    ("After the report by Globe on May 2, did Ridge Weekly say the mill closed?", "yes-no"),
    ("Which company, reported by Globe, has been fined twice this year?", "entity"),
    ("Who is the engineer that designed the new lock gates?", "person"),
    ("How many workers were laid off at the mill?", "number"),
    ("When did the ferry service resume?", "date"),
    ("Where did the tanker run aground?", "place"),
    ("Why did the council delay the vote?", "why"),
    ("How did the strike end?", "how"),
    ("Between the Globe report and the Ridge Weekly piece, which one described the flood first?", "choice"),
    ("Tell me about the harbour.", "any"),
    ("Which outlets reported on the mill closure?", "outlet"),
    ("What news organisations have covered the ferry strike?", "outlet"),
    ("Which newspaper owner bought the mill?", "entity"),  # an outlet's owner is a name in a passage
    ("Which publication's editor resigned over the report?", "entity"),
])
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_named_outlets_match_the_store_as_whole_words():
    question = "Does 'The Harbour Times' agree with Valley Wire and Globe that fares rose?"
    assert named_outlets(question, OUTLETS) == ["The Harbour Times", "Valley Wire | Business News Desk", "Globe"]
    assert named_outlets("Did harbour times change? Ridge weekly said so.", OUTLETS) == ["The Harbour Times", "Ridge Weekly"]
    # a word inside another word is no mention: "Globes" and "globetrotters" are not Globe
    assert named_outlets("Were globetrotters warned by Globes English?", OUTLETS) == []


def test_parts_of_a_compound_yes_no_question_keep_their_outlets():
    parts = split_parts("Does the Ridge Weekly article suggest that the mill closed in March, while Globe reports "
                        "that 40 jobs were lost?", OUTLETS)
    assert [p.outlets for p in parts] == [["Ridge Weekly"], ["Globe"]]
    assert claim_of_part(parts[0]) == "the mill closed in March"
    assert claim_of_part(parts[1]) == "40 jobs were lost"
    # a part that attributes nothing is checked as it is
    assert claim_of_part(Part("the ferry resumed on Monday")) == "the ferry resumed on Monday"


def test_understand_reads_names_outlets_and_time():
    q = understand("Which port did Globe say reopened this week?", OUTLETS, today=date(2026, 5, 8))
    assert q.kind == "place" and q.outlets == ["Globe"] and "globe" not in q.names
    assert (q.hints.since, q.hints.until) == ("2026-05-01", "2026-05-08")


# --- answer forms, over a small archive with two outlets -----------------------------------------

ARTICLES = [
    ("mill-ridge", "Ridge Weekly", "2026-03-04", "Brennock mill closes",
     "The Brennock paper mill closed in March after 80 years. Owner Castelline Group said demand had fallen."),
    ("mill-globe", "Globe", "2026-03-06", "Jobs lost at Brennock",
     "Castelline Group confirmed that 40 jobs were lost when the Brennock mill shut. Union leader Mara Ostrova "
     "said the workers had expected the news."),
    ("ferry-globe", "Globe", "2026-03-02", "Ferry resumes",
     "The island ferry resumed sailing on Monday after storms, the operator said."),
]


def _archive_of(fake_settings, tmp_path, articles):
    folder = tmp_path / "articles"
    folder.mkdir()
    for article_id, outlet, day, title, body in articles:
        (folder / f"{article_id}.md").write_text(f"---\ntitle: {title}\ndate: {day}\nsource: {outlet}\n---\n\n{body}\n",
                                                encoding="utf-8")
    # Fake embeddings score low: these tests are about the form of an answer, not about when to abstain.
    policy = fake_settings.answer.model_copy(update={"abstain_threshold": 0.0})
    service = RagService(fake_settings.model_copy(update={"llm": "extractive", "answer": policy}))
    service.ingest([folder])
    return service


@pytest.fixture
def archive(fake_settings, tmp_path):
    return _archive_of(fake_settings, tmp_path, ARTICLES)


def test_store_outlets_are_listed(archive):
    assert archive.searcher.outlets() == ["Globe", "Ridge Weekly"]


def test_yes_when_every_part_is_backed_by_its_outlet(archive):
    answer = archive.ask("Does the Ridge Weekly article say that the Brennock paper mill closed in March, while "
                         "Globe reports that Castelline Group confirmed that 40 jobs were lost?")
    assert answer.answer.startswith("Yes. ")
    assert {c.article_id for c in answer.citations} == {"mill-ridge", "mill-globe"}


def test_no_verdict_when_a_part_is_not_backed(archive):
    # Globe never reports 90 jobs: the number guard fails that part, so there is no "Yes", only the evidence.
    answer = archive.ask("Does the Ridge Weekly article say that the Brennock paper mill closed in March, while "
                         "Globe reports that Castelline Group confirmed that 90 jobs were lost?")
    from rag.answer import PARTLY_BACKED_TEXT
    from rag.citations import parse_citations

    assert not answer.answer.startswith("Yes") and not answer.abstained
    assert answer.answer.startswith(PARTLY_BACKED_TEXT) and "90" not in answer.answer
    # the lead-in states nothing a passage could back; every quote after it is checked word for word
    claims = parse_citations(answer.answer, len(answer.retrieved))
    verdicts = [archive.answers.verifier.verify(c.text, [archive.article(a)["text"] for a in answer.retrieved])
                for c in claims]
    assert not verdicts[0].checkable and all(v.supported and v.score == 1.0 for v in verdicts[1:])


def test_a_named_outlet_is_shown_even_when_another_ranks_higher(archive):
    answer = archive.ask("What did Ridge Weekly and Globe report about the Brennock mill?")
    sources = {archive.article(a)["source"] for a in answer.retrieved}
    assert {"Ridge Weekly", "Globe"} <= sources
    # one quote per named outlet, from different articles
    assert {c.article_id for c in answer.citations} == {"mill-ridge", "mill-globe"}


OTHER_OUTLET = ("vote-valley", "Valley Wire", "2026-03-05", "Council vote",
                "The county council approved a new budget for road repairs on Tuesday.")


def test_which_outlets_reported_lists_the_outlets_of_the_articles_with_the_evidence(fake_settings, tmp_path):
    service = _archive_of(fake_settings, tmp_path, ARTICLES + [OTHER_OUTLET])
    answer = service.ask("Which outlets reported on the Brennock mill?")
    lead = answer.answer.split(". “", 1)[0]
    by_n = {c.n: c for c in answer.citations}
    listed = dict(re.findall(r"([A-Z][\w ]+?) \[(\d+)\]", lead))
    # each outlet named is the outlet of the article it cites, and that article's sentence is quoted
    assert set(listed) == {"Ridge Weekly", "Globe"}
    assert all(by_n[int(n)].source == outlet for outlet, n in listed.items())
    assert {by_n[int(n)].article_id for n in listed.values()} == {"mill-ridge", "mill-globe"}
    assert all(f"“{by_n[int(n)].quote}” [{n}]" in answer.answer for n in listed.values())
    # an outlet whose article is shown but is about something else is not listed, unless the share is 0
    assert "vote-valley" in answer.retrieved and "Valley Wire" not in answer.answer
    everything = service.settings.answer.model_copy(update={"outlet_share": 0.0})
    service.answers.settings = service.settings.model_copy(update={"answer": everything})
    assert "Valley Wire [" in service.ask("Which outlets reported on the Brennock mill?").answer


def test_short_answer_first_for_an_entity_question(archive):
    answer = archive.ask("Which company owned the Brennock paper mill that closed?")
    short = answer.answer.split(" [", 1)[0]
    assert "Castelline Group" in short and len(short.split()) <= 3  # spaCy may take "Owner" into the name
    assert any("Castelline Group" in c.quote for c in answer.citations)


def test_short_answer_for_a_person_question_is_a_person(archive):
    answer = archive.ask("Who is the union leader that spoke about the Brennock mill jobs?")
    assert answer.answer.startswith("Mara Ostrova [")


def test_the_abstention_score_decides(archive):
    question = "Which company owned the Brennock paper mill that closed?"
    strict = archive.settings.answer.model_copy(update={"abstain_threshold": 1.0})
    archive.answers.settings = archive.settings.model_copy(update={"answer": strict})
    assert archive.ask(question).abstained  # nothing reaches a probability of 1
    archive.answers.settings = archive.settings  # threshold 0: never abstains on the score
    assert not archive.ask(question).abstained


def test_the_shipped_abstention_score_is_fitted_data():
    import json

    from rag.config import ABSTENTION_FILE, AnswerPolicy

    shipped = json.loads(ABSTENTION_FILE.read_text(encoding="utf-8"))
    policy = AnswerPolicy()
    assert policy.abstain_weights == shipped["weights"] and policy.abstain_threshold == shipped["threshold"]
    assert "calibration half" in policy.abstain_calibrated_on and set(shipped["weights"]) == set(shipped["signals"])


def test_no_name_first_when_the_best_sentence_gives_none(archive):
    # "What was ..." asks for no name; and a name from a lesser sentence of another article is never put first.
    answer = archive.ask("What did the island ferry do after the storms?")
    assert answer.kind == "any" and not answer.answer.startswith(("Castelline", "Mara", "Brennock"))
    assert answer.answer.startswith("“")


@pytest.mark.parametrize("body, question", [
    # "DALLAS –" says where the story was filed; the city the question asks for is the other place.
    ("DALLAS – The regional bus company moved its main depot to Denver on Tuesday, officials said.",
     "Which city did the regional bus company move its main depot to?"),
    # The question's "US" and the passage's "U.S." are one name, and the question's own names are never the answer.
    ("The U.S. carrier Skyreach chose Denver for its new hub on Tuesday, the company said.",
     "Which city did the US carrier Skyreach choose for its new hub?"),
], ids=["dateline", "dotted-initialism"])
def test_a_place_the_article_or_question_only_frames_is_not_the_short_answer(fake_settings, tmp_path, body, question):
    service = _archive_of(fake_settings, tmp_path, [("story", "Globe", "2026-03-04", "A move", body)])
    answer = service.ask(question)
    assert answer.answer.startswith("Denver ["), answer.answer


def _quotes(answer):
    import re

    return re.findall(r"“([^”]*)” \[(\d+)\]", answer.answer)


def test_a_yes_quotes_each_part_word_for_word_and_keeps_the_weakest_part_score(archive):
    answer = archive.ask("Does the Ridge Weekly article say that the Brennock paper mill closed in March, while "
                         "Globe reports that Castelline Group confirmed that 40 jobs were lost?")
    assert answer.answer.startswith("Yes. ") and answer.abstained is False
    quoted = {archive.article(answer.retrieved[int(n) - 1])["source"]: text for text, n in _quotes(answer)}
    assert quoted == {"Ridge Weekly": "The Brennock paper mill closed in March after 80 years.",
                      "Globe": "Castelline Group confirmed that 40 jobs were lost when the Brennock mill shut."}
    for citation in answer.citations:  # each citation's quote is the sentence quoted, at its offsets in the passage
        assert citation.quote == quoted[citation.source] == citation.text[citation.quote_start:citation.quote_end]
    parts = archive.answers.settings.answer.part_threshold
    assert parts <= answer.signals["weakest_part"] <= 1.0


def test_a_part_is_backed_only_by_the_outlet_it_names(archive):
    # Globe gives the 40 jobs, Ridge Weekly does not: no part is backed, so the evidence is quoted with no verdict.
    answer = archive.ask("Does Ridge Weekly report that Castelline Group confirmed that 40 jobs were lost?")
    assert not answer.abstained and answer.answer.startswith("“")
    assert not answer.answer.startswith("Yes") and not answer.answer.startswith("The archive does not back")
    assert answer.signals["weakest_part"] < archive.answers.settings.answer.part_threshold


def test_a_part_naming_no_outlet_may_be_backed_by_any(archive):
    answer = archive.ask("Did Castelline Group confirm that 40 jobs were lost when the Brennock mill shut?")
    assert answer.answer.startswith("Yes. ")
    assert [archive.article(answer.retrieved[int(n) - 1])["source"] for _, n in _quotes(answer)] == ["Globe"]


def test_a_sentence_backing_two_parts_is_quoted_once(archive):
    # three parts: the first two are backed by one Globe sentence, the third by Ridge Weekly's
    answer = archive.ask("Did Castelline Group confirm that 40 jobs were lost, while Globe reports that Castelline "
                         "Group confirmed the Brennock mill shut, and did Ridge Weekly say the Brennock paper mill "
                         "closed in March?")
    assert answer.answer.startswith("Yes. ")
    assert [text for text, _ in _quotes(answer)] == [
        "Castelline Group confirmed that 40 jobs were lost when the Brennock mill shut.",
        "The Brennock paper mill closed in March after 80 years."]
    assert sorted(c.article_id for c in answer.citations) == ["mill-globe", "mill-ridge"]


def test_a_part_that_states_nothing_is_passed_over_and_the_next_part_still_checked(archive):
    from rag.answer import PARTLY_BACKED_TEXT

    answer = archive.ask("Is that what it was, and did Castelline Group confirm that 40 jobs were lost?")
    assert answer.answer.startswith(PARTLY_BACKED_TEXT)  # one part of two backed; the first could not be
    assert [text for text, _ in _quotes(answer)] == [
        "Castelline Group confirmed that 40 jobs were lost when the Brennock mill shut."]


def test_a_part_whose_outlet_has_no_passage_shown_scores_zero(archive):
    # Ridge Weekly's only article is dated after the as-of day, so no passage of it is shown: that part has no
    # evidence (weakest part 0), the Globe part is backed, and there is no "Yes".
    from rag.answer import PARTLY_BACKED_TEXT

    answer = archive.ask("Does Ridge Weekly say that the Brennock paper mill closed in March, while Globe reports "
                         "that the island ferry resumed sailing on Monday after storms?", as_of=date(2026, 3, 3))
    assert "mill-ridge" not in answer.retrieved
    assert answer.answer.startswith(PARTLY_BACKED_TEXT) and answer.signals["weakest_part"] == 0.0
    assert [archive.article(answer.retrieved[int(n) - 1])["source"] for _, n in _quotes(answer)] == ["Globe"]


def test_a_part_that_states_nothing_checkable_is_no_yes(archive):
    answer = archive.ask("Is it so?")
    assert not answer.answer.startswith(("Yes", "The archive does not back"))


def test_a_yes_cites_a_backing_sentence_in_the_middle_of_its_passage_at_its_own_offsets(fake_settings, tmp_path):
    articles = [("quay-herald", "Harbour Herald", "2026-04-02", "Quay works",
                 "Storms delayed the works for a week. The Tollan quay reopened to ferries on Friday after repairs. "
                 "Crews will paint it in May.")]
    service = _archive_of(fake_settings, tmp_path, articles)
    answer = service.ask("Does the Harbour Herald say that the Tollan quay reopened to ferries on Friday after repairs?")
    assert answer.answer.startswith("Yes. ")
    [citation] = answer.citations
    assert citation.quote == "The Tollan quay reopened to ferries on Friday after repairs."
    assert citation.quote_start == citation.text.index("The Tollan quay") > 0
    assert citation.text[citation.quote_start:citation.quote_end] == citation.quote


def _crowded_archive(fake_settings, tmp_path):
    """Six Globe reports on the ferry timetable and the short reports a question may need beside them: one
    from the Valley Ledger, three on the north pier (one before March, one in it, one after). One passage is
    shown per search, so whatever the sub-searches add shows."""
    places = ["Arran", "Bute", "Coll", "Eigg", "Jura", "Muck"]
    details = ["adds two evening crossings", "moves the first sailing to six", "drops the Sunday return",
               "doubles the summer service", "ends the night boat", "keeps winter fares"]
    articles = [(f"ferry-{i}", "Globe", f"2026-03-0{i + 1}", f"{place} ferry",
                 f"The council approved the new ferry timetable for {place}. The {place} timetable {detail}, "
                 f"council officials in {place} said on day {i}.")
                for i, (place, detail) in enumerate(zip(places, details))]
    articles += [
        ("ledger", "Valley Ledger", "2026-03-04", "Harbour notes",
         "Bus fares rise in April across the valley, and tram passes cost more from May for most riders. "
         "Parking at the station gets dearer too. The timetable was approved."),
        ("pier-old", "Globe", "2025-11-02", "North pier",
         "The harbour master closed the north pier. The north pier closed to boats, the harbour master said."),
        ("pier-new", "Globe", "2026-03-05", "Harbour works", "Works began on Tuesday. The north pier is shut."),
        ("pier-later", "Globe", "2026-04-10", "North pier again",
         "The harbour master closed the north pier again. The north pier closed, the harbour master said."),
    ]
    service = _archive_of(fake_settings, tmp_path, articles)
    service.settings.answer_passages = 1
    return service


def test_an_outlet_the_question_names_is_shown_even_when_others_rank_higher(fake_settings, tmp_path):
    service = _crowded_archive(fake_settings, tmp_path)
    question = "What did Valley Ledger report about the council and the new ferry timetable?"
    assert "ledger" not in [h.article_id for h in service.search(question, k=2)]  # the whole question ranks it lower
    assert "ledger" in service.ask(question).retrieved


def test_each_part_of_a_question_gets_its_own_search_within_the_dates_asked(fake_settings, tmp_path):
    service = _crowded_archive(fake_settings, tmp_path)
    question = "Did the council approve the new ferry timetable, and did the harbour master close the north pier?"
    shown = service.ask(question).retrieved
    assert any(a.startswith("ferry-") for a in shown) and any(a.startswith("pier-") for a in shown), shown
    within = service.ask(question, since="2026-03-01", until="2026-03-31").retrieved
    assert "pier-new" in within and not {"pier-old", "pier-later"} & set(within), within


def test_the_passages_an_outlet_sub_query_adds_come_beside_the_whole_questions_own(fake_settings, tmp_path):
    service = _crowded_archive(fake_settings, tmp_path)
    service.settings.answer_passages = 3
    question = "What did Valley Ledger report about the council and the new ferry timetable?"
    own = [h.article_id for h in service.search(question, k=3)]
    shown = service.ask(question).retrieved
    assert "ledger" in shown and set(own) <= set(shown), (own, shown)


# --- which of two reports came first --------------------------------------------------------------

@pytest.mark.parametrize("question, order, texts", [
    ("Did Ridge Weekly report that the mill closed before Globe reported that 40 jobs were lost?", "before",
     ["Ridge Weekly report that the mill closed", "Globe reported that 40 jobs were lost"]),
    ("Was the mill closure reported by Ridge Weekly after Globe reported the job losses?", "after",
     ["the mill closure reported by Ridge Weekly", "Globe reported the job losses"]),
    ("Was the mill closure reported by Ridge Weekly before or after Globe reported the job losses?", "before or after",
     ["the mill closure reported by Ridge Weekly", "Globe reported the job losses"]),
    # the reference report first: "Before B, did A?" places A against B
    ("Before Globe reported on the job losses on March 6, 2026, did Ridge Weekly report that the mill closed?", "before",
     ["Ridge Weekly report that the mill closed", "Globe reported on the job losses on March 6, 2026"]),
    # a wh-word in the reference report does not make it a why-question
    ("Before Globe reported why the mill closed, did Ridge Weekly report that 40 jobs were lost?", "before",
     ["Ridge Weekly report that 40 jobs were lost", "Globe reported why the mill closed"]),
    # the second report named at its end, in the passive
    ("Did Ridge Weekly report that the mill closed before the job losses were reported by 'Globe'?", "before",
     ["Ridge Weekly report that the mill closed", "the job losses were reported by 'Globe'"]),
    ("Did Ridge Weekly say the mill closed after the report by Globe on the job losses?", "after",
     ["Ridge Weekly say the mill closed", "the report by Globe on the job losses"]),
])
def test_a_question_about_two_reports_in_time_has_the_two_as_its_parts(question, order, texts):
    frame = understand(question, OUTLETS)
    assert frame.kind == "yes-no" and frame.order == order
    assert [p.text for p in frame.parts] == texts
    assert [p.outlets for p in frame.parts] == [["Ridge Weekly"], ["Globe"]]


@pytest.mark.parametrize("question", [
    "Did Ridge Weekly change its account of the mill after March 6, 2026?",  # a time, not a second report
    "Did Ridge Weekly fail to report that the mill closed before Globe reported the job losses?",  # negated
    "Did Ridge Weekly not report the mill closure before Globe reported the job losses?",
    "Did Ridge Weekly report that the mill closed before Globe did?",  # too short to be a report
    "After the report by Globe on May 2, which mill did Ridge Weekly say closed?",  # not a yes/no question
    "Ridge Weekly reported the closure before Globe reported the job losses, did it?",  # no auxiliary first
    # "after" inside the first part's own words: the second part names its outlet neither first nor last
    "Does Ridge Weekly mention the striker's return after an injury similar to how Globe reports on the keeper?",
])
def test_other_questions_are_not_read_as_two_reports_in_time(question):
    assert understand(question, OUTLETS).order is None


_MILL = "that the Brennock paper mill closed in March"
_JOBS = "that Castelline Group confirmed that 40 jobs were lost"


@pytest.mark.parametrize("question, lead", [
    (f"Did Ridge Weekly report {_MILL} before Globe reported {_JOBS}?", "Yes."),  # 03-04 before 03-06
    (f"Did Globe report {_JOBS} before Ridge Weekly reported {_MILL}?", "No."),
    (f"Did Globe report {_JOBS} after Ridge Weekly reported {_MILL}?", "Yes."),
    (f"Did Ridge Weekly report {_MILL} after Globe reported {_JOBS}?", "No."),
    (f"Was it reported by Ridge Weekly {_MILL} before or after Globe reported {_JOBS}?", "Before."),
    (f"Was it reported by Globe {_JOBS} before or after Ridge Weekly reported {_MILL}?", "After."),
    (f"Before Globe reported {_JOBS}, did Ridge Weekly report {_MILL}?", "Yes."),
])
def test_which_of_two_reports_came_first_is_read_from_their_dates(archive, question, lead):
    answer = archive.ask(question)
    assert answer.answer.split(" ")[0] == lead and not answer.abstained
    assert {c.article_id for c in answer.citations} == {"mill-ridge", "mill-globe"}
    assert {text for text, _ in _quotes(answer)} == {
        "The Brennock paper mill closed in March after 80 years.",
        "Castelline Group confirmed that 40 jobs were lost when the Brennock mill shut."}


def test_a_right_order_with_a_part_not_backed_is_no_yes(archive):
    # the dates are in the order asked, but Globe never reports 90 jobs: no "Yes", and no "No" either
    answer = archive.ask(f"Did Ridge Weekly report {_MILL} before Globe reported that Castelline Group confirmed "
                         "that 90 jobs were lost?")
    assert not answer.answer.startswith(("Yes", "No")) and not answer.abstained
    assert answer.signals["order_found"] == "before"


def test_the_order_verdict_is_given_in_a_store_whose_sentences_back_no_part(archive):
    # "No." rests on the dates of the two reports, not on the verifier backing what they say
    answer = archive.ask("Did Globe report the Brennock job cuts confirmed by Castelline Group before Ridge Weekly "
                         "reported the closing of the Brennock mill?")
    assert answer.answer.startswith("No. ") and answer.signals["order_found"] == "after"


def _hit(article_id: str, day: str | None, text: str, title: str = "") -> "SearchHit":
    from rag.retrieval import SearchHit

    return SearchHit(passage_id=f"{article_id}#0", article_id=article_id, title=title, date=day, source="Globe",
                     url=None, text=text, score=1.0, start=0, end=len(text))


def _placed(hits, per_part=None, question=f"Did Ridge Weekly report the Brennock closure before Globe reported "
                                          f"the Castelline job cuts?"):
    from rag.answer import AnswerEngine
    from rag.verify import Verdict

    frame = understand(question, OUTLETS)
    per_part = per_part or [(1, Verdict(True, 0.9, passage=1)), (2, Verdict(True, 0.9, passage=1))]
    return AnswerEngine._placed(frame, hits, per_part)


def test_the_order_of_two_reports_needs_two_dated_articles_of_different_days_naming_what_each_part_names():
    ridge, globe = "The Brennock mill closed.", "Castelline cut jobs."
    assert _placed([_hit("a", "2026-03-04", ridge), _hit("b", "2026-03-06T09:00:00", globe)]) == "before"
    assert _placed([_hit("a", "2026-03-08", ridge), _hit("b", "2026-03-06", globe)]) == "after"
    assert _placed([_hit("a", "2026-03-06T08:00:00", ridge), _hit("b", "2026-03-06T20:00:00", globe)]) is None  # one day
    assert _placed([_hit("a", None, ridge), _hit("b", "2026-03-06", globe)]) is None
    assert _placed([_hit("a", "2026-03-04", ridge), _hit("b", None, globe)]) is None
    assert _placed([_hit("a", "2026-03-04", ridge), _hit("a", "2026-03-06", globe)]) is None  # one article
    # a name of the part missing from its report's passage and title: another story
    assert _placed([_hit("a", "2026-03-04", "The mill closed."), _hit("b", "2026-03-06", globe)]) is None
    assert _placed([_hit("a", "2026-03-04", "The mill closed.", title="Brennock"), _hit("b", "2026-03-06", globe)]) == "before"
    assert _placed([_hit("a", "2026-03-04", ridge), _hit("b", "2026-03-06", "Jobs were cut.")]) is None
    # a part with no passage of its outlet, or a question about no order
    from rag.verify import Verdict

    hits = [_hit("a", "2026-03-04", ridge), _hit("b", "2026-03-06", globe)]
    assert _placed(hits, per_part=[(1, Verdict(True, 0.9, passage=1)), None]) is None
    assert _placed(hits, question="Did Ridge Weekly report the Brennock closure, while Globe reported the "
                                  "Castelline job cuts?") is None


def test_the_part_threshold_decides_whether_a_part_is_backed(fake_settings, tmp_path):
    question = ("Does the Ridge Weekly article say that the Brennock paper mill closed in March, while Globe reports "
                "that Castelline Group confirmed that 40 jobs were lost?")
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    archive = _archive_of(fake_settings, tmp_path / "a", ARTICLES)
    backed = archive.ask(question)
    assert backed.answer.startswith("Yes. ") and backed.signals["weakest_part"] < 0.999  # parts are not whole sentences
    # each part is scored by the verifier (with the engine's embeddings) against the passages of its outlet
    by_outlet = {"Ridge Weekly": ["mill-ridge"], "Globe": ["mill-globe", "ferry-globe"]}
    scores = [archive.answers.verifier.verify(claim_of_part(part), [archive.article(a)["text"].strip()
                                                                    for a in by_outlet[part.outlets[0]]]).score
              for part in understand(question, archive.searcher.outlets()).parts]
    assert backed.signals["weakest_part"] == pytest.approx(min(scores))
    strict = fake_settings.model_copy(update={"data_dir": tmp_path / "b" / "store", "answer":
                                              fake_settings.answer.model_copy(update={"part_threshold": 0.999})})
    held = _archive_of(strict, tmp_path / "b", ARTICLES).ask(question)
    # the same scores, held to the stricter threshold: no part is backed, so no "Yes"
    assert held.signals["weakest_part"] == backed.signals["weakest_part"]
    assert not held.answer.startswith("Yes") and not held.abstained


def test_reports_of_the_same_day_give_no_order_and_no_yes(fake_settings, tmp_path):
    # both parts are backed, but the two reports are dated the same day: which came first is not known
    same_day = [(a, o, "2026-03-06" if a.startswith("mill") else d, t, b) for a, o, d, t, b in ARTICLES]
    answer = _archive_of(fake_settings, tmp_path, same_day).ask(
        f"Did Ridge Weekly report {_MILL} before Globe reported {_JOBS}?")
    assert "order_found" not in answer.signals and answer.signals["weakest_part"] >= fake_settings.answer.part_threshold
    assert not answer.answer.startswith(("Yes", "No", "Before", "After")) and not answer.abstained
