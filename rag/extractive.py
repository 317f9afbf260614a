"""Sentence-level evidence: find the passage sentences that best answer a question, and how well.

Used three ways: as the `extractive` backend's answer (no LLM), as the fallback when an LLM answer
does not survive verification, and as the evidence score that decides whether to abstain before any
LLM is called.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rag.text import (content_terms, date_words, expand_abbreviations, name_present, names, number_values,
                      sentence_spans, stop_words, title_pattern)
from rag.injection import is_instruction

AnswerType = Literal["number", "date", "person", "place", "any"]

_TYPE_PATTERNS: list[tuple[AnswerType, str]] = [
    ("number", r"\bhow (many|much|far|long|large|big|old)\b|\bwhat (percentage|percent|share|proportion|number|figure|amount)\b|\bhow many\b"),
    ("date", r"^\s*(when|on what (day|date))\b|\bwhat (date|day|year|month|weekday)\b|\b(on )?which (day|date|year|month|weekday)\b|\bwhen did\b"),
    ("person", r"^\s*who\b|\bwhose\b|\bwhich (\w+ )?(official|minister|governor|mayor|leader|analyst|president|person|commander|spokes\w*|reporter|general|head|ambassador)\b|\bwho\b"),
    ("place", r"^\s*where\b|\bwhich (\w+ )?(city|town|country|region|river|port|village|province|state|capital)\b|\bin which (city|town|country|region)\b"),
]


def answer_type(question: str) -> AnswerType:
    for kind, pattern in _TYPE_PATTERNS:
        if re.search(pattern, question, re.IGNORECASE):
            return kind
    return "any"


def has_answer_type(sentence: str, kind: AnswerType, question: str) -> bool:
    """Does the sentence hold something of the asked type that the question does not already say?"""
    if kind == "number":
        new_numbers = number_values(sentence) - number_values(question)
        return bool(new_numbers) or bool(re.search(r"\b(hundreds|thousands|dozens|millions|half|several)\b", sentence, re.I))
    if kind == "date":
        # An absolute date: a month or weekday name, or a year. "this month" or "yesterday" does not
        # answer "on what date".
        return bool(date_words(sentence) - date_words(question)) or bool(re.search(r"\b(1[89]|20)\d{2}\b", sentence))
    if kind == "person":
        return bool(person_names(sentence) - names(question))
    if kind == "place":
        return bool(names(sentence) - names(question))
    return True


_TITLES = title_pattern()


def person_names(text: str) -> set[str]:
    """Lower-cased words of likely person names: runs of two or more capitalised words (Amara Okafor),
    or a capitalised word right after a title (Gov. Okafor) or before/after "said"."""
    found: set[str] = set()
    for match in re.finditer(r"\b([A-Z][a-z'’-]+(?:\s+[A-Z][a-z'’-]+)+)\b", text):
        words = match.group(1).split()
        found.update(w.lower() for w in words if w.lower() not in stop_words() and not _role_or_demonym(w))
    for match in re.finditer(rf"{_TITLES}\s+([A-Z][a-z'’-]+)|\b([A-Z][a-z'’-]+)\s+said\b|\bsaid\s+([A-Z][a-z'’-]+)", text):
        word = next(g for g in match.groups() if g)
        if word.lower() not in stop_words():
            found.add(word.lower())
    return found & names(text)


_ROLES = {"minister", "foreign", "prime", "president", "governor", "mayor", "general", "defense", "defence",
          "interior", "deputy", "chief", "head", "secretary", "state", "staff", "army", "armed", "forces",
          "ministry", "republic", "people", "institute", "council", "university", "regional", "news", "photo",
          # places, so that "Red Sea" or "Harbour Plant" do not pass for a person
          "sea", "river", "ocean", "region", "oblast", "city", "plant", "complex", "street", "square", "bridge",
          "port", "station", "black", "north", "south", "east", "west", "central", "eastern", "western"}


def _role_or_demonym(word: str) -> bool:
    """Titles, institutions and nationality adjectives ("Russian Foreign Minister") are not person names."""
    lower = word.lower()
    return lower in _ROLES or lower.endswith(("ian", "ese", "ish"))


def _answering_spans(text: str) -> list[tuple[int, int, int]]:
    """The passage's sentences to score, as (start, end, where the text scored starts): each sentence, and
    the sentence after a question scored together with that question ("Which boat won the regatta? The
    Blue Heron, by two lengths."). A question restates what a reader asks, so it matches the reader's
    question best while holding none of the answer; the sentence after it gives the answer (explainers
    and live pages are written this way) and is what gets quoted. A question is never evidence itself."""
    spans = sentence_spans(text)
    found = []
    for i, (start, end) in enumerate(spans):
        if re.search(r"\?[\"”’')\]]*\s*$", text[start:end]):
            if i + 1 < len(spans):
                found.append((spans[i + 1][0], spans[i + 1][1], start))
            continue
        found.append((start, end, start))
    return found


@dataclass
class Evidence:
    passage: int  # 1-based number of the passage in the list given
    sentence: str
    start: int  # offsets of the sentence inside the passage text
    end: int
    score: float
    typed: bool  # holds something of the asked answer type
    lexical: float = 0.0  # IDF-weighted share of the question's content words in the sentence
    dense: float = 0.0  # cosine similarity of question and sentence


class EvidenceScorer:
    """Scores every sentence of the given passages against a question.

    score = 0.5 * dense cosine (question vs sentence) + 0.4 * IDF-weighted share of the question's
    content words found in the sentence + 0.1 * passage rank prior; halved when the question asks for a
    number, date, person or place and the sentence has none that the question does not already name.
    """

    def __init__(self, embeddings):
        self.embeddings = embeddings

    def score(self, question: str, passages: list[str], titles: list[str] | None = None,
              kind: AnswerType | None = None) -> list[Evidence]:
        """Every sentence of the passages scored against the question, best first; `kind` overrides the
        answer type read from the question ("any" for a yes/no question that happens to say "who")."""
        candidates: list[tuple[int, int, int, str]] = []
        scored_texts: list[str] = []  # what each candidate is scored on: itself, or the question it answers too
        for number, text in enumerate(passages, 1):
            for start, end, from_ in _answering_spans(text):
                sentence = text[start:end]
                # A sentence addressing the model is never evidence: it could not be quoted as an answer.
                if len(re.findall(r"\w+", sentence)) >= 4 and not is_instruction(sentence):
                    candidates.append((number, start, end, sentence))
                    scored_texts.append(text[from_:end])
        if not candidates:
            return []
        kind = kind or answer_type(question)
        q_terms = content_terms(question)
        q_names = names(question)
        sentence_terms = [content_terms(t) for t in scored_texts]
        df: dict[str, int] = {}
        for terms in sentence_terms:
            for term in terms:
                df[term] = df.get(term, 0) + 1
        n = len(candidates)
        idf = {t: math.log(1 + n / (1 + df.get(t, 0))) for t in q_terms}
        total = sum(idf.values()) or 1.0
        texts = [question] + [expand_abbreviations(t) for t in scored_texts]
        vectors = np.asarray(self.embeddings.embed_documents(texts), dtype=np.float32)
        dense = vectors[1:] @ vectors[0]
        results = []
        for index, (number, start, end, sentence) in enumerate(candidates):
            lexical = sum(idf[t] for t in q_terms & sentence_terms[index]) / total
            typed = has_answer_type(sentence, kind, question)
            score = 0.5 * float(dense[index]) + 0.4 * lexical + 0.1 / number
            if kind != "any" and not typed:
                score *= 0.5
            if q_names:
                # The question's own names (places, people) should appear where its answer is.
                context = f"{passages[number - 1]} {titles[number - 1] if titles else ''}".lower()
                covered = sum(name_present(name, context) for name in q_names) / len(q_names)
                score *= 0.5 + 0.5 * covered
            results.append(Evidence(number, sentence, start, end, score, typed, lexical, float(dense[index])))
        results.sort(key=lambda e: -e.score)
        # A sentence after a question is a candidate twice (alone and with its question): the better stands.
        seen: set[tuple[int, int]] = set()
        return [e for e in results if (e.passage, e.start) not in seen and not seen.add((e.passage, e.start))]
