"""The answer chain: rewrite -> retrieve -> weigh evidence -> number passages -> prompt -> LLM ->
parse citations -> verify -> (fall back to extractive | abstain).

Nothing the model writes reaches the user unless every sentence is backed by the passage it cites;
when the evidence is weak, newsrag abstains without calling the model at all.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import date

from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda, RunnablePassthrough

from prompts import load_prompt
from rag.citations import Claim, parse_citations
from rag.text import (ENTITY_LABELS, content_stems, content_terms, entities, name_mentioned, name_present, names,
                      normalise, number_values, sentence_spans, strip_preamble, undotted)
from rag.verify import ClaimVerifier, Verdict
from rag.config import Settings
from rag.dates import time_hints
from rag.documents import source_key
from rag.extractive import Evidence, EvidenceScorer, has_answer_type
from rag.injection import mask_instructions
from rag.llm import BackendUnavailable, generation_lock, make_llm
from rag.question import Question, claim_of_part, understand
from rag.retrieval import HybridSearcher, SearchHit, build_filter

ABSTAIN_TEXT = "The archive does not say."
# Said before the evidence for each part of a yes/no question when not every part is backed (no verdict).
PARTLY_BACKED_TEXT = "The archive does not back every part of this question; the closest evidence for each part follows."


@dataclass
class Citation:
    n: int
    article_id: str
    title: str
    date: str | None
    source: str | None
    quote: str  # the exact span of the passage that supports the claim
    text: str  # the whole passage
    start: int  # passage offsets in the article text
    end: int
    quote_start: int  # quote offsets in the passage text
    quote_end: int
    also_carried_by: int = 0  # other outlets carrying the same story (syndicated copies not shown)


@dataclass
class Answer:
    question: str
    query: str  # the standalone question used for retrieval
    answer: str
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    dropped: list[dict] = field(default_factory=list)
    backend: str = ""
    fallback: str | None = None  # why the extractive answer replaced the model's, if it did
    timings: dict = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)  # article ids of the passages shown
    evidence: float = 0.0  # score of the best evidence sentence; below NEWSRAG_ABSTAIN_THRESHOLD -> abstain
    signals: dict = field(default_factory=dict)  # what the evidence looked like (evidence_signals), for calibration
    kind: str = "any"  # the kind of answer the question wants (rag/question.py)
    shown: list[str] = field(default_factory=list, repr=False)  # the passages' texts, for the eval (not in JSON)

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [
                {k: v for k, v in asdict(c).items() if k in ("n", "article_id", "title", "date", "source", "quote", "text", "start", "end",
                                                   "also_carried_by")}
                for c in self.citations
            ],
            "dropped": self.dropped,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "backend": self.backend,
            "fallback": self.fallback,
            "question": self.question,
            "query": self.query,
            "retrieved": self.retrieved,
            "evidence": round(self.evidence, 3),
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "kind": self.kind,
        }


def format_passages(hits: list[SearchHit]) -> str:
    """The numbered passages of the prompt; sentences that address the model are left out."""
    return "\n".join(
        f"[{n}] ({hit.date or 'undated'}, {hit.source or 'unknown outlet'}) {' '.join(mask_instructions(hit.text).split())}"
        for n, hit in enumerate(hits, 1)
    )


def evidence_signals(question: str, evidence: list[Evidence], hits: list[SearchHit]) -> dict[str, float]:
    """How much the shown passages say about the question: the best sentence's score, dense similarity and
    word share, the share of the question's content words that the best sentences of up to three
    different articles hold between them (a multi-part question is rarely answered by one sentence), and
    the share of the names and numbers the question gives that the passages give too (`named`)."""
    if not evidence:
        return {"evidence": 0.0, "dense": 0.0, "lexical": 0.0, "coverage": 0.0, "articles": 0.0, "named": 0.0}
    terms = content_terms(question)
    covered: set[str] = set()
    articles: list[str] = []
    for item in evidence:
        article = hits[item.passage - 1].article_id
        if article in articles:
            continue
        articles.append(article)
        covered |= terms & content_terms(item.sentence)
        if len(articles) == 3:
            break
    return {"evidence": evidence[0].score, "dense": evidence[0].dense, "lexical": evidence[0].lexical,
            "coverage": len(covered) / len(terms) if terms else 0.0, "articles": float(len({h.article_id for h in hits})),
            "named": named_share(question, hits)}


def named_share(question: str, hits: list[SearchHit]) -> float:
    """The share of the names and numbers a question gives that the shown passages give too, in their
    text, title, outlet or date; 1.0 for a question that gives none. A question about something the
    archive does not hold usually names it: a person, a place, a year no passage mentions. The question's
    first word is not looked for: it is far more often a question word, verb or preposition than a name,
    and the tagger takes some of those for names ("Considering", "Despite")."""
    first = re.match(r"\W*([^\W_][\w'’-]*)", question)
    wanted_names = names(question) - ({normalise(first.group(1))} if first else set())
    wanted_numbers = number_values(question)
    if not wanted_names and not wanted_numbers:
        return 1.0
    shown = undotted(" ".join(f"{hit.title} {hit.text} {hit.source or ''} {_spelled_date(hit.date)}" for hit in hits))
    found = sum(name_mentioned(name, shown) for name in wanted_names) + len(wanted_numbers & number_values(shown))
    return found / (len(wanted_names) + len(wanted_numbers))


def _spelled_date(value: str | None) -> str:
    """'2023-10-10' as 'October 10, 2023' (a partial date as far as it goes), so that the day and year a
    question gives are found in the passage's date."""
    if not value:
        return ""
    parts = value[:10].split("-")
    try:
        day = date(int(parts[0]), int(parts[1]) if len(parts) > 1 else 1, int(parts[2]) if len(parts) > 2 else 1)
    except (ValueError, IndexError):
        return ""
    return {1: f"{day.year}", 2: f"{day:%B} {day.year}"}.get(len(parts), f"{day:%B} {day.day}, {day.year}")


def format_history(history: list[dict]) -> str:
    return "\n".join(f"{turn.get('role', 'user')}: {turn.get('content', '')}" for turn in history[-6:])


class AnswerEngine:
    def __init__(self, searcher: HybridSearcher, embeddings, settings: Settings, llm=None):
        self.searcher = searcher
        self.settings = settings
        self._llm_override = llm  # a chat model to use whatever the backend (tests, embedding apps)
        self.scorer = EvidenceScorer(embeddings)
        # Model-written sentences are held to the stricter answer threshold: dropping one costs only a quote.
        policy = settings.verifier.model_copy(update={"threshold": settings.verifier.answer_threshold})
        self.verifier = ClaimVerifier(policy, embeddings)
        # Whether the evidence backs each part of a yes/no question: the same verifier at the part threshold.
        self.part_verifier = ClaimVerifier(
            settings.verifier.model_copy(update={"threshold": settings.answer.part_threshold}), embeddings)
        # The steps before the model, as one LangChain chain; `stream` runs it and then `_respond`, and
        # `answer` is the last event of `stream`: one code path for both.
        self.prepare = (
            RunnablePassthrough.assign(query=RunnableLambda(self._rewrite_step))
            | RunnablePassthrough.assign(frame=RunnableLambda(self._understand_step))
            | RunnablePassthrough.assign(hits=RunnableLambda(self._retrieve_step))
            | RunnablePassthrough.assign(evidence=RunnableLambda(self._evidence_step))
            | RunnablePassthrough.assign(signals=lambda x: evidence_signals(x["query"], x["evidence"], x["hits"]))
            | RunnablePassthrough.assign(retrieve_s=lambda x: time.perf_counter() - x["started"])
        )

    # --- steps (shared by invoke and stream) ---------------------------------------------------

    def _llm(self, backend: str | None):
        return self._llm_override if self._llm_override is not None else make_llm(self.settings, backend)

    def _rewrite_step(self, inputs: dict) -> str:
        """A follow-up question made standalone; the model's rewrite is kept only if it keeps the
        question's own words, else the names from the last user turn are appended."""
        question, history = inputs["question"], inputs.get("history") or []
        user_turns = [t.get("content") or "" for t in history if t.get("role", "user") == "user"]
        user_turns = [turn for turn in user_turns if turn.strip()]  # an empty turn gives no context
        if not user_turns:
            return question
        context = sorted(n for n in names(user_turns[-1]) if n not in question.lower())
        backend = inputs.get("backend") or self.settings.llm
        if backend != "extractive":
            try:
                with generation_lock(backend):
                    rewrite = (load_prompt("rewrite") | self._llm(backend) | StrOutputParser()).invoke(
                        {"history": format_history(history), "question": question}
                    )
                rewrite = (rewrite.strip().splitlines() or [""])[0].strip()
                own = content_terms(question)
                keeps_question = len(own & content_terms(rewrite)) >= len(own) / 2
                # A follow-up with no names of its own must pick some up from the conversation.
                resolved = bool(names(question)) or not context or any(n in rewrite.lower() for n in context)
                if rewrite and len(rewrite) < 4 * len(question) + 80 and keeps_question and resolved:
                    return rewrite
            except Exception:  # a failed rewrite must not fail the answer
                pass
        return f"{question} ({', '.join(w.title() for w in context) if context else user_turns[-1]})"

    def _understand_step(self, inputs: dict) -> Question:
        today = inputs.get("as_of") or self.settings.reference_date or date.today()
        return understand(inputs["query"], self.searcher.outlets(), today)

    def _search(self, query: str, k: int, since, until, sources, as_of) -> list[SearchHit]:
        return self.searcher.search(query, k, build_filter(since, until, sources, as_of))

    def _retrieve_step(self, inputs: dict) -> list[SearchHit]:
        frame: Question = inputs["frame"]
        as_of, sources, hints = inputs.get("as_of"), inputs.get("sources"), frame.hints
        since, until = inputs.get("since") or hints.since, inputs.get("until") or hints.until
        k = self.settings.answer_passages
        hits = self._search(inputs["query"], k, since, until, sources, as_of)
        if not hits and hints.relative and not (inputs.get("since") or inputs.get("until")):
            # "this week" read as a hard window found nothing: the archive may not reach that close to the
            # day, so read it as "the most recent" instead.
            since = until = None
            hits = self._search(inputs["query"], k, None, None, sources, as_of)
            hints.prefer_recent = True
        # One sub-query per part of a compound question and per outlet it names: a named outlet must be
        # shown even when another outlet's passages rank higher for the question as a whole.
        subqueries = [(part.text, part.outlets) for part in frame.parts] if len(frame.parts) > 1 else []
        subqueries += [(inputs["query"], [outlet]) for outlet in frame.outlets]
        if subqueries and not sources:
            found = [self._search(text, 2, since, until, outlets or None, as_of) for text, outlets in subqueries]
            merged: dict[str, SearchHit] = {}
            for rank in range(2):
                for group in found:
                    if rank < len(group):
                        merged.setdefault(group[rank].passage_id, group[rank])
            for hit in hits:
                merged.setdefault(hit.passage_id, hit)
            hits = list(merged.values())[:max(k, self.settings.answer_passages_max)]
        if hints.prefer_recent:
            hits.sort(key=lambda h: h.date or "", reverse=True)
        return hits

    def _evidence_step(self, inputs: dict) -> list[Evidence]:
        hits = inputs["hits"]
        kind = self._typed_kind(inputs)
        return self.scorer.score(inputs["query"], [hit.text for hit in hits], [hit.title for hit in hits],
                                 kind) if hits else []

    @staticmethod
    def _typed_kind(inputs: dict) -> str:
        """The kind of thing the evidence must hold: a number, date, person or place, or "any"."""
        kind = inputs["frame"].kind
        return kind if kind in ("number", "date", "person", "place") else "any"

    def _weak(self, inputs: dict) -> bool:
        evidence = inputs["evidence"]
        if not evidence:
            return True
        best = evidence[0]
        return (self.answerable(inputs["signals"]) < self.settings.answer.abstain_threshold
                or (self._typed_kind(inputs) != "any" and not best.typed))

    def answerable(self, signals: dict[str, float]) -> float:
        """The calibrated probability that the shown passages answer the question (eval/calibrate_abstention.py)."""
        policy = self.settings.answer
        z = policy.abstain_bias + sum(policy.abstain_weights.get(name, 0.0) * value for name, value in signals.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def _respond(self, inputs: dict) -> Iterator[dict]:
        """Token events while the model writes, then the verified answer event."""
        backend = inputs.get("backend") or self.settings.llm
        started = time.perf_counter()
        if self._weak(inputs):
            result = self._abstain(inputs)
        elif inputs["frame"].kind == "yes-no":
            result = self._yes_no(inputs)
        elif inputs["frame"].kind == "outlet":
            result = self._outlets(inputs)
        elif backend == "extractive":
            result = self._extractive(inputs, None)
        else:
            pieces: list[str] = []
            failure = None
            try:
                llm = self._llm(backend)
                with generation_lock(backend), closing(self._generate(llm, inputs)) as generation:
                    for piece in generation:
                        pieces.append(piece)
                        yield {"event": "token", "text": piece}
                        if time.perf_counter() - started > self.settings.llm_timeout_s:
                            failure = f"the {backend} backend took longer than {self.settings.llm_timeout_s:g}s"
                            break
            except BackendUnavailable:
                raise
            except Exception as exc:
                failure = f"the {backend} backend failed ({exc.__class__.__name__}: {str(exc)[:160]})"
            result = self._extractive(inputs, failure) if failure else self._verify(inputs, "".join(pieces))
        if not result.abstained:
            result = self._with_short_answer(inputs, result)
        result.timings["generate_s"] = time.perf_counter() - started
        result.timings["retrieve_s"] = inputs.get("retrieve_s", 0.0)
        yield {"event": "answer", "answer": result}

    @staticmethod
    def _generate(llm, inputs: dict) -> Iterator[str]:
        """The model's answer text as it streams.

        The chat model is streamed by itself, not as `prompt | llm | parser`: closing a LangChain
        sequence's stream early first reads the model's stream to its end (langchain-core drains what it
        kept for tracing), so a backend past the timeout would still hold the request until it finished.
        """
        messages = load_prompt("answer").invoke({"passages": format_passages(inputs["hits"]), "question": inputs["question"]})
        for chunk in llm.stream(messages):
            if chunk.text:
                yield chunk.text

    # --- outcomes ------------------------------------------------------------------------------

    def _base(self, inputs: dict, **kwargs) -> Answer:
        return Answer(
            question=inputs["question"], query=inputs["query"], backend=inputs.get("backend") or self.settings.llm,
            retrieved=[hit.article_id for hit in inputs["hits"]],
            evidence=inputs["evidence"][0].score if inputs["evidence"] else 0.0,
            signals=dict(inputs["signals"]),  # a copy: a form may add its own (weakest_part)
            kind=inputs["frame"].kind, shown=[hit.text for hit in inputs["hits"]], **kwargs,
        )

    def _abstain(self, inputs: dict) -> Answer:
        return self._base(inputs, answer=ABSTAIN_TEXT, abstained=True)

    def _citation(self, hits: list[SearchHit], n: int, quote_start: int, quote_end: int) -> Citation:
        hit = hits[n - 1]
        return Citation(n, hit.article_id, hit.title, hit.date, hit.source, hit.text[quote_start:quote_end], hit.text,
                        hit.start, hit.end, quote_start, quote_end, hit.also_carried_by)

    def _extractive(self, inputs: dict, reason: str | None, dropped: list[dict] | None = None) -> Answer:
        """The best evidence sentence, quoted and cited, plus the runner-up when it scores within
        the answer policy's second_share of the best (and holds the asked kind of thing): two sources close in
        score often carry the answer between them."""
        evidence = inputs["evidence"]
        hits: list[SearchHit] = inputs["hits"]
        policy = self.settings.answer
        chosen = [evidence[0]]
        needs_type = self._typed_kind(inputs) != "any"
        outlets = inputs["frame"].outlets
        if len(outlets) >= 2:
            # A question about what several outlets reported: the best sentence of each, from different articles.
            for outlet in map(source_key, outlets):
                used = {hits[e.passage - 1].article_id for e in chosen}
                own = [e for e in evidence if hits[e.passage - 1].outlet == outlet
                       and hits[e.passage - 1].article_id not in used and (e.typed or not needs_type)]
                if own and len(chosen) < policy.max_quotes and not any(
                        hits[e.passage - 1].outlet == outlet for e in chosen):
                    chosen.append(own[0])
        else:
            for candidate in evidence[1:]:
                if candidate.score < policy.second_share * evidence[0].score:
                    break
                if (needs_type and not candidate.typed) or candidate.sentence.strip() == evidence[0].sentence.strip():
                    continue
                chosen.append(candidate)
                break
        parts, citations = [], []
        for item in chosen:
            parts.append(f"“{item.sentence}” [{item.passage}]")
            citations.append(self._citation(inputs["hits"], item.passage, item.start, item.end))
        return self._base(
            inputs, answer=" ".join(parts), abstained=False, dropped=dropped or [], fallback=reason,
            citations=citations,
        )

    def _yes_no(self, inputs: dict) -> Answer:
        """"Yes" and the evidence for each part when the verifier backs every part of the question with a
        passage of the outlet that part names; otherwise the closest evidence for each part, side by side,
        with no verdict. A question about which of two reports came first also gets "No" (or "Before"/
        "After") from the dates of the two reports found; otherwise newsrag never says "No": telling a false
        part from one the archive does not cover needs a contradiction check the verifier cannot make."""
        frame: Question = inputs["frame"]
        hits: list[SearchHit] = inputs["hits"]
        parts = frame.parts  # a yes/no question always has at least one (rag.question.split_parts)
        passages = [mask_instructions(hit.text) for hit in hits]
        per_part: list[tuple[int, Verdict] | None] = []  # each part's best passage (numbered) and verdict
        for part in parts:
            keys = {source_key(outlet) for outlet in part.outlets}
            numbers = [n for n, hit in enumerate(hits, 1) if not keys or hit.outlet in keys]
            verdict = (self.part_verifier.verify(claim_of_part(part), [passages[n - 1] for n in numbers])
                       if numbers else None)
            # A verdict without a passage: the part states nothing a passage could back.
            per_part.append((numbers[verdict.passage - 1], verdict) if verdict and verdict.passage is not None else None)
        found = [item for item in per_part if item is not None]
        backed = sum(verdict.supported for _, verdict in found)
        # How close the question came to a verdict: the weakest part's score (0 for a part with no passage),
        # kept in the answer's signals for the eval.
        weakest = min([v.score for _, v in found] + ([0.0] if len(found) < len(parts) else []))
        placed = self._placed(frame, hits, per_part)
        if frame.order == "before or after" and placed:
            lead = f"{placed.capitalize()}."
        elif frame.order and placed and placed != frame.order:
            lead = "No."  # the dates of the two reports contradict the order asked about, whatever they say
        elif backed == len(parts) and (not frame.order or placed == frame.order):
            lead = "Yes."
        elif backed and not frame.order:
            lead = PARTLY_BACKED_TEXT
        else:  # the archive holds evidence (not weak) but backs no part: quote it, with no verdict
            return self._with_part_signals(self._extractive(inputs, None), weakest, placed)
        quotes, citations, seen = [], [], set()
        for number, verdict in found:
            if (number, verdict.start) in seen:
                continue
            seen.add((number, verdict.start))
            window = hits[number - 1].text[verdict.start:verdict.end]
            # Each sentence of the backing window is quoted and cited on its own, so that every quote is
            # one whole passage sentence (a reader, or the eval, can check it word for word).
            quotes += [f"“{' '.join(window[a:b].split())}” [{number}]" for a, b in sentence_spans(window)]
            citations.append(self._citation(hits, number, verdict.start, verdict.end))
        result = self._base(inputs, answer=f"{lead} {' '.join(quotes)}", abstained=False,
                            citations=list({c.n: c for c in citations}.values()))
        return self._with_part_signals(result, weakest, placed)

    def _outlets(self, inputs: dict) -> Answer:
        """"Which outlets reported ...?": the outlets of the shown articles whose best sentence scores at least
        the policy's outlet_share of the best evidence, each cited, then that sentence of each quoted. The
        names come from the articles' metadata (what a citation shows beside its quote), never from a model,
        whatever the backend."""
        evidence: list[Evidence] = inputs["evidence"]
        hits: list[SearchHit] = inputs["hits"]
        floor = self.settings.answer.outlet_share * evidence[0].score
        best: dict[str, Evidence] = {}  # outlet key -> its best sentence, best outlet first
        for item in evidence:
            hit = hits[item.passage - 1]
            if item.score >= floor and hit.source and hit.outlet not in best:
                best[hit.outlet] = item
        if not best:  # no shown article names its outlet: the evidence alone
            return self._extractive(inputs, None)
        listed = ", ".join(f"{hits[e.passage - 1].source} [{e.passage}]" for e in best.values())
        lead = f"{listed}."
        quotes = " ".join(f"“{e.sentence}” [{e.passage}]" for e in best.values())
        citations = [self._citation(hits, e.passage, e.start, e.end) for e in best.values()]
        return self._base(inputs, answer=f"{lead} {quotes}", abstained=False, citations=citations)

    @staticmethod
    def _with_part_signals(result: Answer, weakest: float, placed: str | None) -> Answer:
        """The answer with how close it came to a verdict (the weakest part's score) and, for a question
        about two reports in time, how their dates placed them, in its signals for the eval and the API."""
        result.signals["weakest_part"] = weakest
        if placed:
            result.signals["order_found"] = placed
        return result

    @staticmethod
    def _placed(frame: Question, hits: list[SearchHit], per_part: list[tuple[int, Verdict] | None]) -> str | None:
        """For a question about two reports in time: "before" or "after", how the first part's report is
        dated against the second's. None when either part has no passage of its outlet, when a name the part
        gives is missing from that passage (it would be another story), when both passages are one article,
        or when the two are undated or of the same day."""
        if not frame.order or len(per_part) != 2 or None in per_part:
            return None
        reports = [hits[number - 1] for number, _ in per_part]  # type: ignore[misc]
        for part, hit in zip(frame.parts, reports):
            outlet_words = {w for outlet in part.outlets for w in normalise(outlet).split()}
            part_names = names(part.text) - outlet_words
            if not all(name_present(name, f"{hit.title} {hit.text}") for name in part_names):
                return None
        first, second = reports
        if first.article_id == second.article_id or not first.date or not second.date:
            return None
        if first.date[:10] == second.date[:10]:
            return None
        return "before" if first.date[:10] < second.date[:10] else "after"

    def _with_short_answer(self, inputs: dict, result: Answer) -> Answer:
        """The name a "which company"/"who" question asks for, first and cited ("BYD [2]. “…” [2]").

        Candidates are spaCy's entities of the asked kind in the best evidence sentence and in the
        sentences the answer quotes, less the question's own names. Each scores its best sentence's score
        plus `mention_weight` for every further shown article that mentions it, times the archive rarity
        of its rarest word: the passages were retrieved for the question, so a name they have in common is
        likely what it asks about, unless the whole archive has it in common ("Russia" in an archive on
        the war). The name is written as the longest form of it in the shown passages ("Tovar-Lind"
        -> "Ilse Tovar-Lind"), as long as that form is an entity of the asked kind too."""
        frame: Question = inputs["frame"]
        if frame.kind not in ENTITY_LABELS or not result.citations:
            return result
        hits: list[SearchHit] = inputs["hits"]
        labels = ENTITY_LABELS[frame.kind]
        # The question's own names are not the answer, in any form: "Harbour Prizes" when it says "Harbour
        # Prize", "United States" when it says "US", "Norvalia" when it says "Norvalian".
        asked = undotted(inputs["question"])
        tokens = re.findall(r"[^\W_]+", asked)
        asked_words = {normalise(w) for w in tokens}
        known = asked_words | set(content_stems(asked))
        acronyms = {w.lower() for w in tokens if len(w) > 1 and w.isupper()}

        def given(word: str) -> bool:
            """The question gives this word, or the adjective of it ("Russian" for "Russia", "Chinese" for
            "China", "Israeli" for "Israel")."""
            return word in known or len(word) >= 4 and any(
                other.startswith(word[:-1]) and len(other) - len(word) <= 3
                and other.endswith(("n", "an", "ian", "ese", "i")) and other != word for other in asked_words)
        where: dict[str, Evidence] = {}
        surface: dict[str, str] = {}
        top = inputs["evidence"][:12]
        quoted_spans = {(c.n, c.quote_start) for c in result.citations}
        proposing = [e for e in top if e.passage == top[0].passage or (e.passage, e.start) in quoted_spans]
        sentences = [e.sentence for e in proposing]
        asked_kind = entities(sentences, labels)
        # The small recogniser labels one name differently from one mention to the next ("Tovar-Lind" an
        # organisation, "Ilse Tovar-Lind" a person): a name of another kind counts as of the asked kind
        # when the shown passages give it, or a name ending in it (a surname's full name), as that kind.
        full_names = {name for found in entities([hit.text for hit in hits], labels) for name in found}

        def ends_a_full_name(text: str) -> bool:
            tail = re.compile(rf"(?<![^\W_]){re.escape(text)}$")
            return any(tail.search(name) for name in full_names)

        other_kind = entities(sentences, ENTITY_LABELS["entity"]) if labels != ENTITY_LABELS["entity"] else [[]] * len(sentences)
        for item, asked, other in zip(proposing, asked_kind, other_kind):
            for text in asked + [t for t in other if t not in asked and ends_a_full_name(t)]:
                key = normalise(undotted(text))
                spelled = re.findall(r"[^\W_]+", key)
                initials = "".join(w[0] for w in spelled if w not in ("of", "the", "and")) if len(spelled) > 1 else ""
                if all(map(given, spelled)) or not set(content_stems(key)) - known or initials in acronyms:
                    continue
                if key not in where or item.score > where[key].score:
                    where[key], surface[key] = item, text
        if not where:
            return result
        weight = self.settings.answer.mention_weight

        def standing(key: str) -> float:
            articles = {hit.article_id for hit in hits if name_mentioned(surface[key], f"{hit.title}\n{hit.text}")}
            further = max(len(articles) - 1, 0)
            return where[key].score + (weight * further * self._rarity(surface[key]) if further else 0.0)

        best = max(where, key=standing)
        item = where[best]
        self._ensure_quoted(result, hits, item)
        name, cited = self._longest_form(surface[best], hits, labels), [item.passage]
        if name != surface[best] and not name_present(name, hits[item.passage - 1].text):
            # The fuller form is written in another passage: that passage's sentence giving it is quoted and
            # cited too, so that every word of the short answer stands in a passage it cites.
            beside = next((e for e in inputs["evidence"] if name_present(name, e.sentence)), None)
            if beside is None:
                name = surface[best]
            else:
                cited.append(beside.passage)
                self._ensure_quoted(result, hits, beside)
        markers = ", ".join(str(n) for n in dict.fromkeys(cited))
        result.answer = f"{name} [{markers}]. {result.answer}"
        return result

    def _ensure_quoted(self, result: Answer, hits: list[SearchHit], item: Evidence) -> None:
        """Quote and cite the evidence sentence at the end of the answer, unless a quote already holds it."""
        if not any(c.n == item.passage and c.quote_start <= item.start and item.end <= c.quote_end
                   for c in result.citations):
            result.answer = f"{result.answer} “{item.sentence}” [{item.passage}]"
            result.citations.append(self._citation(hits, item.passage, item.start, item.end))

    def _rarity(self, name: str) -> float:
        """The archive rarity of the name's rarest word (BM25 idf in the keyword index); 1.0 without an
        index (an engine made without a searcher)."""
        return self.searcher.keyword.rarity(name) if self.searcher is not None else 1.0

    @staticmethod
    def _longest_form(name: str, hits: list[SearchHit], labels: tuple[str, ...]) -> str:
        """The fullest way the shown passages write `name`: the most frequent longer entity of the same
        kinds (up to four words) that holds it as whole words ("Patel" -> "Kash Patel"), else `name`."""
        pattern = re.compile(rf"(?<![^\W_]){re.escape(name)}(?![^\W_])")
        holding = [hit.text for hit in hits if pattern.search(hit.text)]  # only these can write a fuller form
        longer = Counter(text for found in entities(holding, labels) for text in found
                         if len(text) > len(name) and len(text.split()) <= 4 and pattern.search(text))
        return max(longer, key=lambda text: (longer[text], len(text))) if longer else name

    @staticmethod
    def _off_topic(inputs: dict, claim: str, passage: int, quote: str) -> str | None:
        """Why a supported sentence still does not answer the question, or None.

        A small model often copies a true sentence about something else: the sentence (or the quote it
        rests on) must name one of the question's names, and its quote must score close to the best
        evidence sentence for the question.
        """
        question_names = names(inputs["question"])
        haystack = f"{claim} {quote}"  # name_present normalises case
        if question_names and not any(name_present(name, haystack) for name in question_names):
            return f"is about something else (names none of: {', '.join(sorted(question_names))})"
        question_terms = content_terms(inputs["question"])
        novel = content_terms(claim) - question_terms
        backed = novel & content_terms(quote)
        new_facts = {str(v) for v in number_values(claim) - number_values(inputs["question"])} | (names(claim) - names(inputs["question"]))
        quote_facts = {str(v) for v in number_values(quote)} | names(quote)
        adds_fact = bool(new_facts & quote_facts)
        if not adds_fact and (len(backed) < 2 or len(backed) < len(novel) / 2):
            return "restates the question instead of answering it from the passage"
        evidence = inputs["evidence"]
        scores = [e.score for e in evidence if e.passage == passage and e.sentence.strip() == quote.strip()]
        if evidence and scores and scores[0] < 0.8 * evidence[0].score:
            return "rests on a passage sentence that answers the question less well than another one"
        return None

    def _check(self, claim: Claim, passages: list[str]) -> Verdict:
        """The verifier's verdict on a claim against the passages it cites, numbered as in the prompt."""
        verdict = self.verifier.verify(claim.text, [passages[n - 1] for n in claim.cited])
        if verdict.passage is not None:
            verdict.passage = claim.cited[verdict.passage - 1]
        verdict.reason = re.sub(r"\[(\d+)\]", lambda m: f"[{claim.cited[int(m.group(1)) - 1]}]", verdict.reason)
        return verdict

    def _verify(self, inputs: dict, raw: str) -> Answer:
        hits: list[SearchHit] = inputs["hits"]
        passages = [mask_instructions(hit.text) for hit in hits]  # an injected sentence backs no claim
        claims = parse_citations(raw, len(hits))
        kept: list[tuple[Claim, object]] = []
        dropped: list[dict] = []
        for claim in claims:
            claim.text = strip_preamble(claim.text)
            if claim.text.strip().rstrip(".").lower() == ABSTAIN_TEXT.rstrip(".").lower():
                dropped.append({"sentence": claim.text, "reason": "the model said the archive does not say"})
                continue
            if claim.dropped_markers:
                dropped.append({"sentence": claim.text, "reason": f"cited passages that were not shown: {claim.dropped_markers}"})
            if not claim.cited:
                # Small models often forget the marker: check the sentence against every passage instead.
                claim.cited = list(range(1, len(hits) + 1))
            verdict = self._check(claim, passages)
            if not verdict.checkable:  # "Sure! Here is the answer:" states nothing a reader needs
                dropped.append({"sentence": claim.text, "reason": "states nothing about the news"})
                continue
            if not verdict.supported:
                dropped.append({"sentence": claim.text, "reason": verdict.reason})
                continue
            off_topic = self._off_topic(inputs, claim.text, verdict.passage, verdict.quote)
            if off_topic:
                dropped.append({"sentence": claim.text, "reason": off_topic})
                continue
            if any(" ".join(claim.text.split()).lower() == " ".join(k.text.split()).lower() for k, _ in kept):
                dropped.append({"sentence": claim.text, "reason": "repeats an earlier sentence of the answer"})
                continue  # small models often say the same sentence twice
            claim.cited = [verdict.passage]
            kept.append((claim, verdict))
        answer_text = " ".join(f"{claim.text.strip().lstrip(':;,-–— ').rstrip()} [{claim.cited[0]}]" for claim, _ in kept)
        kind = self._typed_kind(inputs)
        if not kept:
            return self._extractive(inputs, "no sentence of the model's answer was supported by its passages", dropped)
        # The kept sentences without their markers: "[3]" is not the number a "how many" question asks for.
        if kind != "any" and not has_answer_type(" ".join(c.text for c, _ in kept), kind, inputs["question"]):
            dropped.extend({"sentence": c.text, "reason": f"does not give the {kind} the question asks for"} for c, _ in kept)
            return self._extractive(inputs, f"the model's answer did not give the {kind} asked for", dropped)
        citations = []
        for claim, verdict in kept:
            citations.append(self._citation(hits, verdict.passage, verdict.start, verdict.end))
        return self._base(inputs, answer=answer_text, abstained=False, dropped=dropped,
                          citations=list({c.n: c for c in citations}.values()))

    # --- public --------------------------------------------------------------------------------

    def _inputs(self, question: str, history, since, until, sources, backend, as_of: date | None = None) -> dict:
        question = (question or "").strip()
        if not question:
            raise ValueError("The question is empty; ask something about the archive.")
        return {"question": question, "history": history or [], "since": since, "until": until,
                "sources": sources, "backend": backend, "as_of": as_of, "started": time.perf_counter()}

    def answer(self, question: str, history=None, since=None, until=None, sources=None, backend=None,
               as_of: date | None = None) -> Answer:
        *_, last = self.stream(question, history, since, until, sources, backend, as_of)
        return last["answer"]

    def stream(self, question: str, history=None, since=None, until=None, sources=None, backend=None,
               as_of: date | None = None) -> Iterator[dict]:
        """Events: {"event": "token", "text"} while the model writes, then {"event": "answer", "answer": Answer}."""
        inputs = self.prepare.invoke(self._inputs(question, history, since, until, sources, backend, as_of))
        yield from self._respond(inputs)
