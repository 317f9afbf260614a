"""Question understanding: the kind of answer a question wants, the outlets and names it mentions, the
time it refers to and, for a yes/no question, the parts each of which the evidence must back.

Hand-written: the question forms are English grammar (auxiliary verbs, wh-words, "while"/"whereas"
joining the parts of a comparison); nothing here knows any archive's topics. Outlets are matched against
the outlets the store holds, never against a list of ours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from rag.dates import TimeHints, time_hints
from rag.extractive import answer_type
from rag.text import has_negation, names, normalise

Kind = Literal["yes-no", "choice", "outlet", "number", "date", "person", "place", "entity", "why", "how", "any"]
# How a question about two reports relates them in time: "Did A ... before B ...?" / "... before or after ...?"
Order = Literal["before", "after", "before or after"]

_AUXILIARIES = r"(?:does|did|do|is|was|are|were|has|have|had|can|could|will|would|should|might|may)"
_WH = r"(?:who|whom|whose|what|which|when|where|why|how)"
# Words that join the parts of a compound yes/no question: "Does A suggest X, while B reports Y?"
_PART_JOINERS = re.compile(r",?\s+\b(?:while|whereas|whilst|but|and also|and did|and does|and is|and was|and has)\b\s+"
                           r"|;\s+", re.IGNORECASE)
_ENTITY_WORDS = re.compile(r"\b(?:which|what)\s+(?:\w+\s+){0,2}?(company|firm|organi[sz]ation|team|group|country|"
                           r"nation|city|state|person|individual|player|athlete|company's|brand|platform|app|product|"
                           r"network|agency|party|club|outlet|publication|network|band|film|movie|show|series|game|"
                           r"entity|name)\b", re.IGNORECASE)

# "Which outlets reported on ...?" / "What news organisations covered ...?": the answer is the outlets of the
# archive's articles, read from their metadata, not a name inside a passage.
_OUTLET_QUESTION = re.compile(
    r"^\W*(?:which|what)\s+(?:\w+\s+){0,2}?(?:outlets?|publications?|newspapers?|papers|news\s+(?:organi[sz]ations?|"
    r"sources|sites|agencies)|media)\s+(?:\w+\s+){0,2}?(?:reported|report|covered|cover|wrote|write|published|publish|"
    r"ran|run|carried|carry)\b", re.IGNORECASE)


@dataclass
class Question:
    """What newsrag reads from a question before it searches."""

    text: str
    kind: Kind
    outlets: list[str] = field(default_factory=list)  # outlets of the store the question names, as stored
    names: set[str] = field(default_factory=set)  # names other than the outlets, lower case
    parts: list["Part"] = field(default_factory=list)  # a yes/no question's parts, each to be backed
    hints: TimeHints = field(default_factory=TimeHints)
    # For "Did A ... before B ...?": how the first part is placed against the second (the two parts).
    order: Order | None = None


@dataclass
class Part:
    """One thing a yes/no question asserts, with the outlets it attributes it to."""

    text: str
    outlets: list[str] = field(default_factory=list)


def named_outlets(question: str, outlets: Iterable[str]) -> list[str]:
    """The store's outlets that the question names, in the order it names them ("The Verge" or "Verge";
    case and quotes do not matter; a name must stand as whole words)."""
    text = normalise(question)
    found: list[tuple[int, str]] = []
    for outlet in outlets:
        spans = _mentions(text, outlet)
        if spans:
            found.append((min(spans)[0], outlet))
    return [outlet for _, outlet in sorted(found)]


def _mentions(text: str, outlet: str) -> list[tuple[int, int]]:
    """Where the (normalised) text names the outlet as whole words: its name with or without "The", or the
    part before " | " ("Cnbc | World Business News Leader" is "Cnbc")."""
    if not outlet or not outlet.strip():
        return []
    key = normalise(outlet).strip()
    variants = {key, re.sub(r"^the\s+", "", key)}
    variants |= {v.split(" | ")[0].strip() for v in list(variants) if " | " in v}
    return [m.span() for v in variants if len(v) >= 3 for m in re.finditer(rf"(?<![\w]){re.escape(v)}(?![\w])", text)]


def _names_its_reporter(reference: str, outlets: list[str]) -> bool:
    """Is the second part of "A ... before B ..." a report, i.e. does it open with its outlet ("The Verge
    discussed ...", "the report by The Age on ...") or end with it ("... was reported by The Age")? An
    outlet in the middle ("an injury similar to how Globe reports ...") means the "before"/"after" was
    inside the first part's own words."""
    text = normalise(reference).strip(" '\"‘’“”.,")
    for outlet in outlets:
        for start, end in _mentions(text, outlet):
            if len(text[:start].split()) <= 3 or not text[end:].strip(" '\"‘’“”.,"):
                return True
    return False


def question_kind(question: str) -> Kind:
    """The kind of answer the question wants."""
    q = question.strip()
    first = re.match(r"\W*(\w+)", q)
    first_word = first.group(1).lower() if first else ""
    if re.fullmatch(_AUXILIARIES, first_word):
        return "yes-no"
    if not re.fullmatch(_WH, first_word):
        # "After the report by X on June 2, did Y ...?" / "Considering A and B, is it true that ...?"
        if re.search(rf",\s+{_AUXILIARIES}\b(?!\s+(?:been|being)\b)", q, re.IGNORECASE) and not re.search(
                rf"\b{_WH}\b", q.split(",")[0], re.IGNORECASE):
            return "yes-no"
    if _OUTLET_QUESTION.search(q):
        return "outlet"
    if re.search(r"\bwhy\b", q, re.IGNORECASE):
        return "why"
    if re.match(r"\W*how\b(?!\s+(many|much|far|long|large|big|old)\b)", q, re.IGNORECASE):
        return "how"
    typed = answer_type(q)
    if typed != "any":
        return typed
    if re.search(r"\b(?:which|who)\b[^?]*\bor\b", q, re.IGNORECASE) or re.search(r"\bbetween\b[^?]*\bwhich\b", q, re.IGNORECASE):
        return "choice"
    # "Which company ..." / "what team ..." / "name the ...": a name is asked for. A bare "what was seen"
    # may want any description, so it is not read as a request for a name.
    if _ENTITY_WORDS.search(q) or re.match(r"\W*(?:which|name)\b", q, re.IGNORECASE):
        return "entity"
    return "any"


def split_parts(question: str, outlets: Iterable[str]) -> list[Part]:
    """The parts of a yes/no question, each with the outlets it names (a part naming none keeps the
    outlets of the part before it: "Does A say X and Y" is one source for both)."""
    body = re.sub(rf"^\W*{_AUXILIARIES}\s+", "", question.strip(), flags=re.IGNORECASE).rstrip(" ?")
    pieces = [p.strip(" ,") for p in _PART_JOINERS.split(body) if p and len(p.split()) >= 3]
    parts: list[Part] = []
    store_outlets = list(outlets)
    for piece in pieces or [body]:
        named = named_outlets(piece, store_outlets)
        parts.append(Part(piece, named or (parts[-1].outlets if parts else [])))
    return parts


# "Did A ... before B ...?" / "Was A ... before or after B ...?": the word that places one report against another.
_ORDER_WORD = re.compile(r"\s+\b(before or after|before|after)\b\s+", re.IGNORECASE)
# "Before B ..., did A ...?": the reference report first, then the question about the other one.
_LEADING_ORDER = re.compile(rf"^\W*(before|after)\s+(?P<ref>.+?),\s*{_AUXILIARIES}\s+(?P<main>.+)$", re.IGNORECASE)


def order_parts(question: str, outlets: Iterable[str]) -> tuple[Order, list[Part]] | None:
    """A yes/no question asking whether one outlet's report came before (or after) another's: the
    relation and the two parts, the report asked about first, each naming the outlet of the store that
    carried it. None for any other question: a part without an outlet ("... after November 6, 2023") is
    a time, not a report, and a negated part ("fail to report ...") is left to the general form."""
    q = question.strip().rstrip(" ?")
    lead = _LEADING_ORDER.match(q)
    if lead:
        relation, main, reference = lead.group(1), lead.group("main"), lead.group("ref")
    else:
        body = re.sub(rf"^\W*{_AUXILIARIES}\s+", "", q, count=1, flags=re.IGNORECASE)
        if body == q:
            return None
        pieces = _ORDER_WORD.split(body, maxsplit=1)
        if len(pieces) != 3:
            return None
        main, relation, reference = pieces
    store_outlets = list(outlets)
    parts = [Part(text.strip(" ,"), named_outlets(text, store_outlets)) for text in (main, reference)]
    if any(not part.outlets or len(part.text.split()) < 3 for part in parts):
        return None
    if not _names_its_reporter(parts[1].text, parts[1].outlets):
        return None
    if any(has_negation(part.text) or re.search(r"\bfail(?:s|ed)?\s+to\b", part.text, re.IGNORECASE) for part in parts):
        return None
    return relation.lower(), parts  # type: ignore[return-value]


def understand(question: str, outlets: Iterable[str] = (), today: date | None = None) -> Question:
    """Read a question: its kind, the store's outlets it names, its other names, its time and its parts."""
    store_outlets = list(outlets)
    named = named_outlets(question, store_outlets)
    outlet_words = {w for outlet in named for w in normalise(outlet).split()}
    order = order_parts(question, store_outlets)
    # "Before Globe said why ..., did ...?" asks whether, not why: a question about two reports in time is yes/no.
    kind = "yes-no" if order else question_kind(question)
    return Question(
        text=question,
        kind=kind,
        outlets=named,
        names={n for n in names(question) if n not in outlet_words},
        parts=order[1] if order else split_parts(question, store_outlets) if kind == "yes-no" else [],
        hints=time_hints(question, today),
        order=order[0] if order else None,
    )


_REPORTING = re.compile(
    r"^(?P<lead>.*?)\b(?:suggests?|suggested|claims?|claimed|reports?|reported|indicates?|indicated|implies?|implied|"
    r"says?|said|states?|stated|argues?|argued|mentions?|mentioned|highlights?|highlighted|notes?|noted|shows?|showed|"
    r"reveals?|revealed|describes?|described|portrays?|portrayed|alleges?|alleged|confirms?|confirmed|agrees?|agreed)"
    r"\b\s+(?:that\s+)?(?P<rest>.+)$", re.IGNORECASE)


def claim_of_part(part: Part) -> str:
    """What a part asserts about the news, without its attribution: "'The Verge' article suggest that
    prices fell" -> "prices fell". A part that attributes nothing is returned as it is."""
    match = _REPORTING.match(part.text)
    if match and len(match.group("rest").split()) >= 3:
        lead = match.group("lead")
        if part.outlets or re.search(r"\b(article|report|piece|story|coverage|post|column)s?\b", lead, re.IGNORECASE):
            return match.group("rest").strip(" ,")
    return part.text
