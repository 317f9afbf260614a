"""Briefings: cited multi-article summaries of a topic, with a timeline, voices and disagreements.

Extractive by design: with a 135M model, free generation would invent facts, so every sentence of a
briefing is a sentence quoted from an article, cited with its exact span. The work is in choosing,
deduplicating, dating and grouping those sentences.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from rag.config import BriefingPolicy
from rag.documents import parse_date
from rag.extractive import EvidenceScorer, person_names
from rag.retrieval import HybridSearcher, SearchHit, build_filter
from rag.summarise import Candidate, select, usable
from rag.text import (ENTITY_LABELS, MONTH_ALTERNATION, WEEKDAYS, content_terms, entities, expand_abbreviations,
                      has_negation, names, quantities, same_quantity, stem, title_pattern, words)

NO_COVERAGE = "The archive does not cover this topic."
_MONTH_DAY = re.compile(rf"\b({MONTH_ALTERNATION})\.?\s+(\d{{1,2}})(?:,\s*(\d{{4}}))?\b")
_ROLE_NAME = re.compile(rf"((?:[A-Z][\w’'.-]+\s+){{0,3}}?{title_pattern()})\s+((?:[A-Z][a-z’'-]+\s+){{0,2}}[A-Z][a-z’'-]+)")
_SPEECH = re.compile(r"\b(said|says|told|wrote|asserted|insisted|acknowledged|claimed|added)\b")
# Sub-queries beside the topic itself: who spoke about it, and the names (people, places, bodies) the
# first results mention most, so that each facet of the story is searched for, whatever the archive.
_FACET_NAMES = 3


@dataclass
class Sentence:
    hit: SearchHit
    text: str
    start: int  # offset in the passage
    score: float
    vector: np.ndarray | None = None

    def citation(self) -> dict:
        return {"article_id": self.hit.article_id, "title": self.hit.title, "date": self.hit.date,
                "source": self.hit.source, "quote": self.text}


@dataclass
class Briefing:
    topic: str
    since: str | None = None
    until: str | None = None
    summary: list[dict] = field(default_factory=list)
    key_points: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    voices: list[dict] = field(default_factory=list)
    disagreements: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    coverage: dict = field(default_factory=lambda: {"matched": 0, "used": 0, "outlets": 0, "also_carried_by": 0})
    note: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}

    def to_markdown(self) -> str:
        def cites(item: dict) -> str:
            return " ".join(f"[{self._number(c['article_id'])}]" for c in item["citations"])

        lines = [f"# Briefing: {self.topic}", ""]
        if self.since or self.until:
            lines += [f"Period: {self.since or '…'} to {self.until or '…'}", ""]
        if self.note:
            lines += [self.note, ""]
        if self.summary:
            lines += ["## Summary", "", " ".join(f"{i['text']} {cites(i)}" for i in self.summary), ""]
        if self.key_points:
            lines += ["## Key points", ""] + [f"- {i['text']} {cites(i)}" for i in self.key_points] + [""]
        if self.timeline:
            lines += ["## Timeline", ""] + [f"- **{e['date']}** ({e['date_source']}): {e['text']} {cites(e)}" for e in self.timeline] + [""]
        if self.voices:
            lines += ["## Who said what", ""] + [
                f"- **{v['speaker']}**{', ' + v['role'] if v['role'] else ''}: {v['quote']} {cites(v)}" for v in self.voices] + [""]
        if self.disagreements:
            lines += ["## Where sources differ", ""]
            for d in self.disagreements:
                lines.append(f"- {d['about']}")
                lines += [f"  - {s['date'] or 'undated'}: {s['text']} {cites(s)}" for s in d["sides"]]
            lines.append("")
        if self.sources:
            lines += ["## Sources", ""] + [
                f"{n}. {s['title']} — {s['source'] or 'unknown outlet'}, {s['date'] or 'undated'} ({s['article_id']})"
                for n, s in enumerate(self.sources, 1)] + [""]
            lines.append(f"Coverage: {coverage_line(self.coverage)}")
        return "\n".join(lines).strip() + "\n"

    def _number(self, article_id: str) -> int:
        return next((n for n, s in enumerate(self.sources, 1) if s["article_id"] == article_id), 0)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def coverage_line(coverage: dict) -> str:
    """"3 stories matched, 2 used, from 1 outlet (also carried by 4 more)." for the Markdown and the UI."""
    carried = coverage.get("also_carried_by")
    return (f"{_count(coverage['matched'], 'story', 'stories')} matched, {coverage['used']} used, "
            f"from {_count(coverage.get('outlets', 0), 'outlet', 'outlets')}"
            + (f" (also carried by {carried} more)" if carried else "") + ".")


def _story(hit: SearchHit) -> str:
    """The story a hit belongs to; an article without one is a story of its own."""
    return hit.story or hit.article_id


def _resolve_weekday(sentence: str, article_date: str | None) -> str | None:
    """"on Friday" in an article of 2022-06-24 (a Friday) -> 2022-06-24; the latest such day on or before it."""
    if not article_date or len(article_date) != 10:
        return None
    lowered = sentence.lower()
    for index, day in enumerate(WEEKDAYS):
        if re.search(rf"\b{day}\b", lowered):
            published = date.fromisoformat(article_date)
            back = (published.weekday() - index) % 7
            return (published - timedelta(days=back)).isoformat()
    return None


def _explicit_date(sentence: str, article_date: str | None) -> str | None:
    match = _MONTH_DAY.search(sentence)
    if not match:
        return None
    year = match.group(3) or (article_date[:4] if article_date else None)
    return parse_date(f"{match.group(1)} {match.group(2)}, {year}") if year else None


class BriefingBuilder:
    def __init__(self, searcher: HybridSearcher, embeddings, threshold: float, policy: BriefingPolicy | None = None):
        self.searcher = searcher
        self.embeddings = embeddings
        self.scorer = EvidenceScorer(embeddings)
        self.threshold = threshold
        self.policy = policy or BriefingPolicy()

    def _gather(self, topic: str, where) -> list[SearchHit]:
        """Passages for the topic and its facets; each search shows one article per story, and across
        searches the first article seen of a story stands for it, so syndicated copies never count twice."""
        hits: dict[str, SearchHit] = {}
        story_article: dict[str, str] = {}

        def add(found: list[SearchHit]) -> None:
            for hit in found:
                if story_article.setdefault(_story(hit), hit.article_id) == hit.article_id:
                    hits.setdefault(hit.passage_id, hit)

        first = self.searcher.search(topic, 8, where)
        add(first)
        for facet in [f"{topic} said"] + [f"{topic} {name}" for name in _facet_names(topic, first)]:
            add(self.searcher.search(facet, 8, where))
        return list(hits.values())

    def build(self, topic: str, since: str | None = None, until: str | None = None, max_points: int = 6,
              sources: list[str] | None = None, as_of: date | None = None) -> Briefing:
        topic = (topic or "").strip()
        if not topic:
            raise ValueError("The topic is empty; name what the briefing is about.")
        briefing = Briefing(topic=topic, since=since, until=until or (as_of.isoformat() if as_of else None))
        hits = self._gather(topic, build_filter(since, until, sources, as_of))
        evidence = self.scorer.score(topic, [hit.text for hit in hits]) if hits else []
        if not evidence or evidence[0].score < self.threshold:
            briefing.note = NO_COVERAGE
            return briefing
        width = self.policy.neighbour_passages
        retrieved = {hit.passage_id for hit in hits}
        on_topic = [hits[p - 1] for p in dict.fromkeys(e.passage for e in evidence if e.score >= self.threshold)]
        if width:
            # A neighbour that was itself retrieved is there already, with its own score.
            extra = [n for found in self.searcher.neighbours(on_topic, width).values() for n in found
                     if n.passage_id not in retrieved]
            extra = list({n.passage_id: n for n in extra}.values())  # beside two on-topic passages: read once
            if extra:
                # The neighbours' sentences are scored among all the passages (word weights depend on the
                # set), but the retrieved passages keep the scores they had: reading more context must not
                # change what was already judged on the topic.
                held = len(hits)
                hits = hits + extra
                added = [e for e in self.scorer.score(topic, [hit.text for hit in hits]) if e.passage > held]
                evidence = sorted(evidence + added, key=lambda e: -e.score)
        beside = _beside(hits, on_topic, width)
        relevant = _on_topic(evidence, self.threshold, self.policy.passage_share, beside)
        sentences = [Sentence(hits[e.passage - 1], e.sentence, e.start, e.score) for e in _distinct(relevant, hits, 40)]
        vectors = np.asarray(self.embeddings.embed_documents([s.text for s in sentences]), dtype=np.float32)
        for sentence, vector in zip(sentences, vectors):
            sentence.vector = vector
        briefing.coverage["matched"] = len({_story(hits[e.passage - 1]) for e in relevant})  # stories, not copies

        # Points, events and voices are prose too: no caption, byline or list of names stands as one.
        prose = [s for s in sentences if usable(Candidate(_story(s.hit), 0, s.text), self.policy)] or sentences
        points = self._key_points(prose, max_points)
        briefing.key_points = [self._item(group) for group in points]
        # The summary is an overview: it is chosen from the retrieved passages alone. Neighbouring
        # passages add detail to the points, timeline and voices; in the summary their sentences pushed out
        # better-supported ones (calibration topics, README Briefings).
        own = [i for i, s in enumerate(sentences) if s.hit.passage_id in retrieved]
        briefing.summary = [self._item([s]) for s in self._summary([sentences[i] for i in own], vectors[own])]
        briefing.timeline = self._timeline(prose)
        briefing.voices = self._voices(prose)
        briefing.disagreements = self._disagreements(sentences, self.policy.same_claim_cosine)

        by_article = {hit.article_id: hit for hit in hits}
        items = briefing.summary + briefing.key_points + briefing.timeline + briefing.voices
        items += [side for d in briefing.disagreements for side in d["sides"]]
        used = {c["article_id"]: by_article[c["article_id"]] for item in items for c in item["citations"]}
        briefing.sources = sorted(
            ({"article_id": h.article_id, "title": h.title, "source": h.source, "date": h.date,
              "also_carried_by": h.also_carried_by} for h in used.values()),
            key=lambda s: (s["date"] is None, s["date"] or ""))
        briefing.coverage["used"] = len({_story(h) for h in used.values()})
        # Outlets of the articles quoted; an article of unknown outlet counts as one. The copies left out
        # of the results (also_carried_by) are other outlets carrying the same stories.
        named = {h.outlet for h in used.values() if h.outlet}
        briefing.coverage["outlets"] = len(named) + sum(1 for h in used.values() if not h.outlet)
        briefing.coverage["also_carried_by"] = sum(h.also_carried_by for h in used.values())
        return briefing

    def _summary(self, sentences: list[Sentence], vectors: np.ndarray) -> list[Sentence]:
        """The most central, least redundant of the topic's sentences across stories, weighed by their
        relevance and the lead prior (rag/summarise.py), in reading order."""
        candidates = [Candidate(_story(s.hit), s.hit.start + s.start, s.text) for s in sentences]
        relevance = np.asarray([s.score for s in sentences])
        return [sentences[i] for i in select(candidates, vectors, self.policy, relevance=relevance)]

    @staticmethod
    def _item(group: list[Sentence]) -> dict:
        return {"text": group[0].text, "citations": [s.citation() for s in group]}

    @staticmethod
    def _key_points(sentences: list[Sentence], max_points: int) -> list[list[Sentence]]:
        """Best sentences first; a sentence close in meaning to a chosen one (cosine >= 0.8) from another
        article becomes an extra citation of that point instead of a point of its own."""
        groups: list[list[Sentence]] = []
        for sentence in sentences:
            twin = next((g for g in groups if float(g[0].vector @ sentence.vector) >= 0.8), None)
            if twin is not None:
                if all(s.hit.article_id != sentence.hit.article_id for s in twin):
                    twin.append(sentence)
                continue
            if len(groups) < max_points:
                groups.append([sentence])
        return groups

    @staticmethod
    def _timeline(sentences: list[Sentence]) -> list[dict]:
        """Dated events, oldest first: a date written in the sentence, a weekday resolved against the
        article's date, or else the article's own date (one event per article)."""
        events, seen_articles = [], set()
        for sentence in sentences:
            when = _explicit_date(sentence.text, sentence.hit.date)
            source = "text"
            if not when:
                when = _resolve_weekday(sentence.text, sentence.hit.date)
                source = "weekday in the text, dated from the article"
            if not when:
                if sentence.hit.article_id in seen_articles or not sentence.hit.date:
                    continue
                when, source = sentence.hit.date, "article date"
            seen_articles.add(sentence.hit.article_id)
            events.append({"date": when, "date_source": source, "text": sentence.text, "citations": [sentence.citation()]})
        events.sort(key=lambda e: e["date"])
        return events[:10]

    @staticmethod
    def _voices(sentences: list[Sentence]) -> list[dict]:
        """Statements on the topic attributed to named people (with their role when the sentence gives it)."""
        voices, speakers = [], set()
        for sentence in sentences:
            text = sentence.text
            if not _SPEECH.search(text):
                continue
            role_match = _ROLE_NAME.search(text)
            if role_match:
                role, speaker = role_match.group(1).strip(), role_match.group(2).strip()
            else:
                candidates = [w for w in re.findall(r"\b[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+)+\b", text)
                              if set(w.lower().split()) & person_names(text)]
                if not candidates:
                    continue
                role, speaker = "", candidates[0]
            key = speaker.split()[-1].lower()
            if key in speakers:
                continue
            speakers.add(key)
            voices.append({"speaker": speaker, "role": role, "quote": text, "citations": [sentence.citation()]})
        return voices[:8]

    @staticmethod
    def _disagreements(sentences: list[Sentence], same_claim_cosine: float) -> list[dict]:
        """Pairs of claims about the same thing from different stories: close in meaning (cosine of their
        sentence vectors) and sharing two names or words, where the figures with the same unit differ or one
        side negates what the other states."""
        found, used = [], set()
        for i, a in enumerate(sentences):
            for b in sentences[i + 1:]:
                if _story(a.hit) == _story(b.hit) or id(a) in used or id(b) in used:
                    continue
                if float(a.vector @ b.vector) < same_claim_cosine:
                    continue
                shared = (content_terms(a.text) & content_terms(b.text)) | (names(a.text) & names(b.text))
                if len(shared) < 2:
                    continue
                about = _difference(a.text, b.text)
                if about is None:
                    continue
                first, second = sorted((a, b), key=lambda s: s.hit.date or "")
                # The shared words as the first sentence writes them ("harbour, authority"), not their stems;
                # abbreviations spelt out as they were compared ("U.S." -> "united, states"). Every shared term
                # is a word of the spelt-out sentence or its stem, so the label is never empty.
                spelt = words(expand_abbreviations(a.text))
                label = list(dict.fromkeys(w for w in spelt if w in shared or stem(w) in shared))[:4]
                found.append({"about": f"Sources differ ({about}) on: {', '.join(label)}",
                              "sides": [{"date": s.hit.date, "text": s.text, "citations": [s.citation()]} for s in (first, second)]})
                used.update({id(a), id(b)})
        return found[:4]


def _beside(hits: list[SearchHit], on_topic: list[SearchHit], width: int) -> set[int]:
    """The passage numbers (1-based, as evidence gives them) of `hits` lying within `width` passages of an
    on-topic passage of the same article."""
    near = {(hit.article_id, hit.chunk) for hit in on_topic}
    found = set()
    for number, hit in enumerate(hits, 1):
        chunk = hit.chunk
        if chunk is not None and any((hit.article_id, chunk + step) in near for step in range(-width, width + 1)):
            found.add(number)
    return found


def _distinct(evidence: list, hits: list[SearchHit], limit: int) -> list:
    """The first `limit` of the evidence, each sentence of an article once (neighbouring passages overlap,
    so the same sentence can come from two of them)."""
    seen: set[tuple[str, str]] = set()
    kept = []
    for e in evidence:
        key = (hits[e.passage - 1].article_id, e.sentence.strip())
        if key not in seen:
            seen.add(key)
            kept.append(e)
            if len(kept) == limit:
                break
    return kept


def _on_topic(evidence: list, threshold: float, passage_share: float, beside: set[int] | None = None) -> list:
    """The evidence on the topic, in the order given: a sentence that scores 0.75 of the threshold itself,
    or `passage_share` of it when its passage is about the topic: another sentence of it clears the
    threshold, or it is one of the passages `beside` such a passage (the sentence may carry its figure or
    name without repeating the topic's words)."""
    on_topic = {e.passage for e in evidence if e.score >= threshold} | (beside or set())
    # (a passage share over 0.75 adds nothing: such sentences clear 0.75 of the threshold on their own)
    return [e for e in evidence if e.score >= threshold * 0.75
            or (e.passage in on_topic and e.score >= threshold * passage_share)]


def _facet_names(topic: str, hits: list[SearchHit]) -> list[str]:
    """The named entities the most articles among `hits` mention (two at least), leaving out those the
    topic already gives."""
    topic_words = set(topic.lower().split())
    texts = {hit.article_id: "" for hit in hits}
    for hit in hits:
        texts[hit.article_id] += hit.text + "\n\n"
    counts: Counter[str] = Counter()
    for found in entities(list(texts.values()), ENTITY_LABELS["entity"]):
        # sorted: names mentioned equally often come in one order whatever the hash seed
        counts.update(sorted({name for name in found if not set(name.lower().split()) <= topic_words}))
    return [name for name, count in counts.most_common(_FACET_NAMES) if count >= 2]


def _difference(a: str, b: str) -> str | None:
    """How two claims about the same thing differ: figures of the same unit with no value in common, or a
    negation on one side only; None when neither."""
    qa, qb = quantities(a), quantities(b)
    comparable = [(x, y) for x in qa for y in qb if x.unit == y.unit]
    if comparable and not any(same_quantity(x, y) for x, y in comparable):
        return "different figures"
    if has_negation(a) != has_negation(b):
        return "one side denies what the other states"
    return None
