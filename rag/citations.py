"""Citation parsing and claim-by-claim verification of answers against the passages they cite.

Hand-written: no library checks that the numbers, dates and names of a sentence occur in a passage,
which is the check that stops a small model's invented figures from reaching the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from vectorstore.keyword import expand_abbreviations

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[-–,]\s*\d+)*)\s*\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“‘(]?[A-Z0-9\[])")
_ABBREVIATIONS = ("Gov.", "Mr.", "Mrs.", "Ms.", "Dr.", "Gen.", "Sen.", "Rep.", "St.", "Lt.", "Col.", "Maj.",
                  "Capt.", "Sgt.", "Prof.", "U.S.", "U.K.", "U.N.", "Jan.", "Feb.", "Aug.", "Sept.", "Sep.",
                  "Oct.", "Nov.", "Dec.", "No.", "vs.", "etc.", "Inc.", "Co.", "Corp.", "Ltd.", "Jr.", "Sr.")

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12, "half": 0.5,
}
_MONTHS = {m.lower() for m in (
    "January February March April May June July August September October November December "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec").split()}
_WEEKDAYS = {d.lower() for d in "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()}
# Capitalised words that are not names: sentence starters, pronouns and the like.
NOT_NAMES = {
    "the", "a", "an", "in", "on", "at", "of", "and", "but", "or", "as", "it", "its", "this", "that", "these",
    "those", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "there", "here", "after",
    "before", "when", "while", "according", "some", "about", "more", "most", "both", "all", "no", "not",
    "for", "from", "with", "by", "to", "if", "so", "yes", "also", "still", "however", "earlier", "later",
    "meanwhile", "elsewhere", "what", "who", "which", "where", "why", "how", "answer", "passage", "archive",
}
_STOPWORDS = NOT_NAMES | {
    "is", "was", "were", "are", "be", "been", "being", "has", "have", "had", "do", "did", "does", "said",
    "says", "say", "would", "will", "could", "can", "may", "might", "than", "then", "into", "over", "up",
    "out", "such", "only", "other", "any", "each", "per", "cent", "s", "t", "him", "them", "my", "me", "us",
    "very", "just", "being", "those", "many", "much", "how", "what", "does", "say",
}


@dataclass
class Claim:
    """One answer sentence and the passage numbers it cites."""

    text: str  # without citation markers
    cited: list[int]
    dropped_markers: list[int] = field(default_factory=list)


@dataclass
class Verdict:
    supported: bool
    reason: str = ""
    passage: int | None = None  # the cited passage that supports it
    quote: str = ""  # the span of that passage that supports it
    score: float = 0.0


def split_sentences(text: str) -> list[str]:
    """Sentences of news prose; common abbreviations ("Gov.", "U.S.") do not end a sentence."""
    # NUL delimits the placeholders below; one already in the text would come back as an abbreviation.
    protected = text.replace("\x00", "")
    for number, abbreviation in enumerate(_ABBREVIATIONS):
        protected = protected.replace(abbreviation, f"\x00{number}\x00")
    pieces = _SENTENCE_END.split(protected)
    result = []
    for piece in pieces:
        for number, abbreviation in enumerate(_ABBREVIATIONS):
            piece = piece.replace(f"\x00{number}\x00", abbreviation)
        for line in piece.split("\n"):
            if line.strip():
                result.append(line.strip())
    return result


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of `text`."""
    spans, cursor = [], 0
    for sentence in split_sentences(text):
        start = text.find(sentence, cursor)
        if start < 0:
            continue
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def _expand(marker: str) -> list[int]:
    numbers: list[int] = []
    for part in re.split(r"\s*,\s*", marker):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit() and int(bounds[1]) - int(bounds[0]) < 20:
            numbers.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        elif part.isdigit():
            numbers.append(int(part))
    return numbers


def strip_markers(text: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


def parse_citations(answer: str, passages: int) -> list[Claim]:
    """Split an answer into claims with the [n] markers they carry; markers outside 1..passages are dropped.

    A marker at the start of a sentence belongs to the sentence before it (models write "... city. [2]").
    """
    claims: list[Claim] = []
    for sentence in split_sentences(str(answer or "")):
        leading = re.match(r"^(\s*\[[^\]]*\]\s*)+", sentence)
        if leading and claims:
            for number in (n for m in _MARKER.finditer(leading.group(0)) for n in _expand(m.group(1))):
                if 1 <= number <= passages and number not in claims[-1].cited:
                    claims[-1].cited.append(number)
            sentence = sentence[leading.end():]
        numbers = [n for m in _MARKER.finditer(sentence) for n in _expand(m.group(1))]
        text = strip_markers(sentence)
        if not re.search(r"\w", text):
            continue
        valid = list(dict.fromkeys(n for n in numbers if 1 <= n <= passages))
        claims.append(Claim(text, valid, [n for n in numbers if not 1 <= n <= passages]))
    return claims


def _normalise(text: str) -> str:
    return re.sub(r"[’‘`]", "'", text.lower())


def numbers_in(text: str) -> set[str]:
    """Numbers as canonical strings: "1,400" and "1400" are the same; "five" is "5"; "20 per cent" is "20"."""
    found = set()
    for match in re.finditer(r"\d+(?:[.,]\d+)*", text):
        raw = match.group()
        value = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw
        found.add(value.rstrip("0").rstrip(".") if "." in value else value)
    for word in re.findall(r"[a-z]+", _normalise(text)):
        if word in _NUMBER_WORDS and word not in ("half", "hundred", "thousand", "million", "billion", "dozen"):
            found.add(str(_NUMBER_WORDS[word]))
    return found


_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'\])]+|\b[\w-]+(?:\.[\w-]+)+/[^\s<>\"'\])]*", re.IGNORECASE)


def urls_in(text: str) -> set[str]:
    """Links (with a scheme, www., or a domain followed by a path), lower-cased, without trailing punctuation."""
    return {match.group().rstrip(".,;:!?").lower() for match in _URL.finditer(text)}


def dates_in(text: str) -> set[str]:
    words = set(re.findall(r"[a-z]+", _normalise(text)))
    return (words & _MONTHS) | (words & _WEEKDAYS)


def names_in(text: str) -> set[str]:
    """Capitalised words that look like names (people, places, organisations), lower-cased."""
    names = set()
    for match in re.finditer(r"\b[A-Z][\w'’-]+", text):
        word = match.group().lower()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if word in NOT_NAMES or word in _MONTHS or word in _WEEKDAYS or len(word) < 2:
            continue
        names.add(word)
    return names


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_terms(text: str) -> set[str]:
    words = [w for w in re.findall(r"[a-z0-9]+", _normalise(expand_abbreviations(text))) if w not in _STOPWORDS and len(w) > 1]
    return set(_stemmer().stemWords(words))


def name_present(name: str, haystack: str) -> bool:
    # Spelling variants of the same name share a long prefix ("Zelensky"/"Zelenskyy"/"Zelenskiy").
    if name in haystack:
        return True
    stem = name[: max(5, len(name) - 2)]
    return len(name) >= 6 and re.search(rf"\b{re.escape(stem)}", haystack) is not None


def best_quote(claim: str, passage: str) -> tuple[str, float]:
    """The sentence of `passage` that shares most content with `claim`, and that share (0..1)."""
    terms = content_terms(claim)
    best, best_score = "", 0.0
    for sentence in split_sentences(passage):
        overlap = len(terms & content_terms(sentence)) / len(terms) if terms else 0.0
        if overlap > best_score:
            best, best_score = sentence, overlap
    return best, best_score


def verify_claim(claim: Claim, passages: list[str], question: str = "", min_overlap: float = 0.5) -> Verdict:
    """Is the claim backed by one of the passages it cites? Its numbers, dates and names must all occur
    in that passage (links too), and most of its content words."""
    if not claim.cited:
        return Verdict(False, "cites no passage")
    reasons = []
    best: Verdict | None = None
    for number in claim.cited:
        passage = passages[number - 1]
        haystack = _normalise(passage)
        missing_numbers = numbers_in(claim.text) - numbers_in(passage)
        missing_dates = {d for d in dates_in(claim.text) if d not in haystack}
        missing_names = {n for n in names_in(claim.text) if not name_present(n, haystack)}
        missing_urls = {u for u in urls_in(claim.text) if u not in haystack}  # a link only as quoted
        quote, overlap = best_quote(claim.text, passage)
        if missing_numbers or missing_dates or missing_names or missing_urls:
            missing = sorted(missing_numbers | missing_dates | missing_names | missing_urls)
            reasons.append(f"[{number}] does not contain {', '.join(missing)}")
            continue
        if overlap < min_overlap:
            reasons.append(f"[{number}] shares too little with it ({overlap:.0%} of its words)")
            continue
        verdict = Verdict(True, "", number, quote, overlap)
        if best is None or verdict.score > best.score:
            best = verdict
    return best or Verdict(False, "; ".join(reasons))
