"""Turn files (txt, md, html, pdf, jsonl/json and RSS/Atom feeds) into cleaned, dated articles.

Every loader yields either an `Article` or a `LoadError` with one clear sentence, so one bad file
(or one bad feed record) never stops the rest of a batch.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from dateutil import parser as dateparser

from rag.text import MONTH_ALTERNATION

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl", ".json", ".rss", ".atom", ".xml")
SYNDICATION_SUFFIXES = (".rss", ".atom", ".xml")  # read with feedparser; an .xml file must be an RSS or Atom feed
# Files of many articles: held to a per-article limit (max_record_bytes), not to the whole-file limit.
FEED_SUFFIXES = (".jsonl", ".json", *SYNDICATION_SUFFIXES)

DateSource = Literal["header", "inferred", "none"]


@dataclass
class Article:
    """One source document. `text` is the cleaned text passages index into; `raw_text` is for display."""

    id: str
    title: str
    text: str
    raw_text: str
    date: str | None = None  # ISO at the precision known: YYYY-MM-DD, YYYY-MM or YYYY
    date_source: DateSource = "none"
    source: str | None = None
    url: str | None = None
    origin: str = ""  # the file it came from
    extra: dict = field(default_factory=dict)

    @property
    def text_hash(self) -> str:
        """Hash of the cleaned body alone: equal for the same article stored under another name."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def content_hash(self) -> str:
        """Hash of everything that is stored for the article: a change here means re-ingest."""
        payload = json.dumps(
            [self.title, self.text, self.raw_text, self.date, self.date_source, self.source, self.url],
            ensure_ascii=False,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    @property
    def date_range(self) -> tuple[int, int] | None:
        """The article date as an inclusive YYYYMMDD range (a year-only date spans the year)."""
        return date_bounds(self.date) if self.date else None


@dataclass
class LoadError:
    path: str
    error: str


# --- dates -------------------------------------------------------------------------------------

_MONTH_DAY_YEAR = rf"(?:{MONTH_ALTERNATION})\.? \d{{1,2}}, \d{{4}}"
_HEADER_DATE = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*\n?", re.IGNORECASE)
_DATELINE = re.compile(rf"\A[^\n]{{0,120}}?\b({_MONTH_DAY_YEAR})")
_TWEET_EMBED_DATE = re.compile(rf"—\s*[^\n—]{{1,80}}\(@\w+\)\s*({_MONTH_DAY_YEAR})")
_COPYRIGHT = re.compile(r"(?:©|\(c\)|copyright)\s*(\d{4})\b\s*(.*)$", re.IGNORECASE | re.MULTILINE)


def parse_date(value: str) -> str | None:
    """A date string in any common form -> ISO at the precision it gives: YYYY-MM-DD, YYYY-MM or YYYY."""
    value = value.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", value):
        return value
    try:
        # Parsing against two different defaults shows which parts the string itself supplied.
        first = dateparser.parse(value, default=datetime(1900, 1, 1))
        second = dateparser.parse(value, default=datetime(1904, 2, 2))
    except (ValueError, OverflowError):
        return None
    if first.year != second.year:
        return None
    if first.month != second.month:
        return f"{first.year:04d}"
    if first.day != second.day:
        return f"{first.year:04d}-{first.month:02d}"
    return first.date().isoformat()


def date_bounds(iso: str) -> tuple[int, int]:
    """'2022-06-08' -> (20220608, 20220608); '2022-06' -> (20220601, 20220630); '2022' -> (20220101, 20221231)."""
    parts = [int(part) for part in iso.split("-")]
    year = parts[0]
    if len(parts) == 1:
        return year * 10000 + 101, year * 10000 + 1231
    month = parts[1]
    if len(parts) == 2:
        last_day = calendar.monthrange(year, month)[1]
        return year * 10000 + month * 100 + 1, year * 10000 + month * 100 + last_day
    value = year * 10000 + month * 100 + parts[2]
    return value, value


def infer_date(text: str) -> str | None:
    """A date the text itself makes unambiguous: a dateline, the latest dated tweet embed, or a copyright year."""
    match = _DATELINE.search(text)
    if match:
        return parse_date(match.group(1))
    tweet_dates = [parse_date(m.group(1)) for m in _TWEET_EMBED_DATE.finditer(text)]
    tweet_dates = [d for d in tweet_dates if d]
    if tweet_dates:
        # An article is published no earlier than the newest post it embeds.
        return max(tweet_dates)
    years = {m.group(1) for m in _COPYRIGHT.finditer(text)}
    if len(years) == 1:
        return years.pop()
    return None


# --- boilerplate and metadata found in plain text ---------------------------------------------

_BOILERPLATE = [
    re.compile(r"^\s*advertisement\s*$", re.IGNORECASE),
    re.compile(r"pic\.twitter\.com/\S+"),  # tweet embeds
    re.compile(r"^\s*\([^()\n]{1,80}\)\s*$"),  # a bare parenthesised credit, e.g. "(AP Photo/...)"
    re.compile(r"^\s*(?:photo|image|photograph)\s*(?:credit)?\s*:\s*.{0,80}$", re.IGNORECASE),
    re.compile(r"^\s*(?:©|\(c\)|copyright)\s*\d{4}\b.{0,80}$", re.IGNORECASE),
]
_OUTLET_DATELINE = re.compile(r"^\s*\(([A-Z][A-Za-z&.' ]{1,40})\)\s*(?:--|—|–)", re.MULTILINE)
_COPYRIGHT_HOLDER = re.compile(
    r"^\s*(?:©|\(c\)|copyright)\s*\d{4}\s+(.+?)(?:[.,]?\s*(?:L\.P\.|Inc\.|Ltd\.?|LLC|All rights reserved\.?))*[.\s]*$",
    re.IGNORECASE | re.MULTILINE,
)


def is_boilerplate(line: str) -> bool:
    return any(pattern.search(line) for pattern in _BOILERPLATE)


def strip_boilerplate(text: str) -> str:
    """Drop advertisement markers, tweet embeds, bare photo credits and copyright lines; tidy blank lines."""
    kept = [line.rstrip() for line in text.splitlines() if not is_boilerplate(line)]
    cleaned = "\n".join(kept)
    cleaned = re.sub(r"[ \t]+\n", "\n", cleaned)
    cleaned = re.sub(r"\n{3,}", "\n\n", cleaned)
    return cleaned.strip()


def infer_source(text: str) -> str | None:
    """The outlet named by a wire dateline "(Bloomberg) --" or a copyright line "©2024 Bloomberg L.P."."""
    match = _OUTLET_DATELINE.search(text) or _COPYRIGHT_HOLDER.search(text)
    return match.group(1).strip().rstrip(".,;:") if match else None


def infer_title(text: str) -> str:
    """A standalone headline-like line near the top, else the start of the first sentence."""
    for line in text.splitlines()[:8]:
        words = line.split()
        if 4 <= len(words) <= 20 and not line.rstrip().endswith((".", ":", ",", ";")) and not is_boilerplate(line):
            return line.strip()
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    words = first.split()
    return " ".join(words[:14]) + (" …" if len(words) > 14 else "")


def build_article(
    article_id: str,
    raw_text: str,
    *,
    origin: str,
    title: str | None = None,
    published: str | None = None,
    source: str | None = None,
    url: str | None = None,
) -> Article:
    """Clean, date and title one article. Explicit metadata wins over what is inferred from the text."""
    body = raw_text.replace("\r\n", "\n").replace("\r", "\n")
    date_value: str | None = None
    date_source: DateSource = "none"
    header = _HEADER_DATE.match(body)
    if header:
        date_value, date_source = header.group(1), "header"
        body = body[header.end():]
    if published and not date_value:
        date_value = parse_date(published)
        date_source = "header" if date_value else "none"
    if not date_value:
        date_value = infer_date(body)
        date_source = "inferred" if date_value else "none"
    text = strip_boilerplate(body)
    if not text:
        raise ValueError("has no text left after removing boilerplate")
    return Article(
        id=article_id,
        title=(title or "").strip() or infer_title(text),
        text=text,
        raw_text=body.strip(),
        date=date_value,
        date_source=date_source,
        source=(source or "").strip() or infer_source(body),
        url=(url or "").strip() or None,
        origin=origin,
    )


# --- reading files -----------------------------------------------------------------------------


class UnreadableFile(ValueError):
    """A file that cannot become an article; the message completes "<path> ..." as one sentence."""


def read_text_file(path: Path) -> str:
    """Decode text as UTF-8, falling back to Windows-1252 (Latin-1 superset) for older archives."""
    return decode_text(path.read_bytes())


def decode_text(data: bytes) -> str:
    """The bytes of a text file as text; UnreadableFile when they are empty, binary or in neither encoding."""
    if not data.strip():
        raise UnreadableFile("is empty")
    if looks_binary(data):
        raise UnreadableFile("looks like a binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("is neither UTF-8 nor Windows-1252 text")


# What text looks like, judged on the first 8 KB. Hand-written: charset-normalizer's is_binary() was tried
# and took random bytes that avoid NUL and control bytes for text (cp1252, "ascii" or cp949 with no
# chaos) in 20 of 20 samples; what gives them away is the shape of their characters, below.
_SNIFF_BYTES = 8192
_MAX_CONTROLS = 8  # C0 control characters other than tab, newlines and form feed
_MAX_REPLACEMENT_SHARE = 0.01  # U+FFFD in text that decodes as UTF-8
_MIN_SPACE_SHARE = 0.02  # prose in a one-byte encoding has a space every 5-10 characters, random bytes 1 in 100+
_MAX_HIGH_BYTE_SHARE = 0.3  # ...and mostly ASCII letters, random bytes mostly bytes over 127


def looks_binary(data: bytes) -> bool:
    """Whether bytes are not text: a NUL byte, control characters, replacement characters, or (when they are
    not UTF-8) the statistics of random bytes rather than of prose in a one-byte encoding."""
    sample = data[:_SNIFF_BYTES]
    if b"\x00" in sample:
        return True
    utf8 = _utf8_prefix(sample)
    text = utf8 if utf8 is not None else sample.decode("cp1252", errors="replace")
    if sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f") > _MAX_CONTROLS:
        return True
    if utf8 is not None:
        return text.count("\ufffd") > _MAX_REPLACEMENT_SHARE * len(text) + 1
    if len(sample) < 256:  # too little to judge by shares
        return False
    spaces = sum(sample.count(byte) for byte in b" \t\n\r")
    high = sum(1 for byte in sample if byte > 127)
    return spaces < _MIN_SPACE_SHARE * len(sample) and high > _MAX_HIGH_BYTE_SHARE * len(sample)


def _utf8_prefix(sample: bytes) -> str | None:
    """The sample as UTF-8, allowing a character cut in two at its end; None when it is not UTF-8."""
    try:
        return sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3:
            return sample[: exc.start].decode("utf-8")
        return None


def content_mismatch(name: str, data: bytes) -> str | None:
    """Why a file's bytes do not match the type its name claims, as the rest of a sentence; None if they do.

    Hand-written rather than a MIME sniffer (libmagic and friends): the question is not "what is this" but
    "will our own loader read it as that type", so the check uses the loaders' own decoders. Empty files
    pass here; the loaders report them as empty.
    """
    suffix = Path(name).suffix.lower()
    if not data.strip() or suffix not in SUPPORTED_SUFFIXES:
        return None
    if suffix == ".pdf":
        return None if data.startswith(b"%PDF-") else "does not start with %PDF-, so it is not a PDF"
    try:
        text = decode_text(data)
    except UnreadableFile as exc:
        return str(exc)
    if suffix == ".json":
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            return f"is not JSON ({exc.msg} at line {exc.lineno})"
    elif suffix in SYNDICATION_SUFFIXES:
        if not _parse_syndication(data).get("version"):
            return "is not an RSS or Atom feed"
    elif suffix == ".jsonl":
        # One bad line among good ones is reported per line at ingestion; no good line at all is not JSONL.
        if not any(_is_json(line) for line in text.splitlines() if line.strip()):
            return "has no line that is JSON, so it is not JSON Lines"
    return None


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


_BLOCK_TAGS = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "div", "section",
               "article", "main", "td", "th", "dd", "dt", "figcaption", "body"]


def _own_text(element) -> str:
    """Text of an element without the text of block elements nested in it (they are paragraphs of their own)."""
    from bs4 import NavigableString, Tag

    pieces = []
    for child in element.children:
        if isinstance(child, Tag):
            if child.name in _BLOCK_TAGS:
                continue
            pieces.append(child.get_text())
        elif isinstance(child, NavigableString) and child.__class__.__name__ in ("NavigableString", "CData"):
            pieces.append(str(child))
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def fragment_text(html: str) -> str:
    """The text of an HTML fragment that is all content (rendered Markdown, a feed entry), one paragraph per block.

    Hand-written because trafilatura is built to find the article inside a page and, on a short fragment,
    drops or reorders pieces of it; here there is no page around the text, so every block is kept in order.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg"]):
        tag.decompose()
    root = soup.body or soup
    blocks = [_own_text(element) for element in [root, *root.find_all(_BLOCK_TAGS)]]
    blocks = [block for block in blocks if block]
    return "\n\n".join(blocks) if blocks else root.get_text("\n", strip=True)


def html_to_parts(html: str) -> dict:
    """A web page's main text (trafilatura), publication date (htmldate), title, outlet and URL.

    Chosen over newsrag's earlier hand-written extractor by `python -m eval.html_extraction` (README,
    "HTML extraction"): on benchmark articles wrapped in made-up page boilerplate it keeps as much of the
    article and lets far less boilerplate through.
    """
    import copy

    import lxml.html
    import trafilatura
    from htmldate import find_date
    from lxml.etree import ParserError

    try:
        # Parsed here, not by trafilatura: its own loader gives up on a fragment without <html> ("<p>...</p>").
        tree = lxml.html.document_fromstring(html)
    except (ParserError, ValueError) as exc:
        raise UnreadableFile("has no text (the HTML holds no elements)") from exc

    # favor_precision: on a short page trafilatura otherwise falls back to keeping the navigation; on the
    # benchmark pages it made no difference to recall. extensive_search=False: searching the visible text
    # too found 4% more dates but tripled the wrong ones (comment and "updated" dates), and a missing date
    # still gets the text's own dateline (build_article).
    document = trafilatura.bare_extraction(
        copy.deepcopy(tree), with_metadata=True, include_comments=False, include_tables=True, deduplicate=False, favor_precision=True,
    )
    text = (document.text or "") if document is not None else ""
    # trafilatura ends each paragraph with one newline; newsrag's passages are cut at blank lines.
    text = "\n\n".join(line.strip() for line in text.splitlines() if line.strip())
    if not text:
        # trafilatura finds nothing in a page nested deeper than lxml builds (a few thousand levels) or with no
        # block it takes for content; every block's text, scripts left out, is better than refusing the page.
        text = fragment_text(html)
    published = find_date(tree, original_date=True, extensive_search=False, outputformat="%Y-%m-%d")
    get = (lambda name: getattr(document, name, None)) if document is not None else (lambda name: None)
    return {"text": text, "title": get("title"), "published": published, "source": get("sitename"), "url": get("url")}


def _front_matter(text: str) -> tuple[dict, str]:
    """Simple `key: value` front matter between --- lines, as news exports write it."""
    match = re.match(r"\A---\s*\n(.*?)\n---\s*\n", text, re.DOTALL)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip().strip("'\"")
    return fields, text[match.end():]


def _markdown_to_parts(text: str) -> dict:
    from markdown_it import MarkdownIt

    fields, body = _front_matter(text)
    title = fields.get("title")
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        title = heading.group(1).strip() if heading else None
    header = _HEADER_DATE.match(body)
    prefix = body[: header.end()] if header else ""
    html = MarkdownIt("commonmark").render(body[len(prefix):])
    return {
        "text": prefix + fragment_text(html),
        "title": title,
        "published": fields.get("date") or fields.get("published"),
        "source": fields.get("source") or fields.get("outlet"),
        "url": fields.get("url"),
    }


def _pdf_to_parts(path: Path) -> dict:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if path.stat().st_size == 0:
        raise UnreadableFile("is empty")
    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableFile(f"is not a readable PDF ({exc.__class__.__name__}: truncated or damaged)") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise UnreadableFile("has no extractable text (a scanned PDF needs OCR first)")
    published = None
    created = info.get("/CreationDate") if hasattr(info, "get") else None
    if created:
        digits = re.sub(r"\D", "", str(created))[:8]
        if len(digits) == 8:
            published = f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    return {
        "text": text,
        "title": info.get("/Title") if hasattr(info, "get") else None,
        "published": published,
        "source": None,
        "url": None,
    }


_RECORD_ID = re.compile(rb'"id"\s*:\s*"?([^",}]{1,80})')


def _size_error(size: int, limit: int) -> str:
    return (f"is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB per-article limit for feeds "
            "(raise NEWSRAG_MAX_RECORD_MB to allow it)")


def _jsonl_records(path: Path, max_record_bytes: int | None) -> Iterator[tuple[str, dict | None, str | None]]:
    """(where, record, error) for each line of a .jsonl feed, read line by line so the file's size never matters."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
        if not head.strip() and not handle.read(1):
            raise UnreadableFile("is empty")
        if looks_binary(head):
            raise UnreadableFile("looks like a binary file, not text")
        handle.seek(3 if head.startswith(b"\xef\xbb\xbf") else 0)
        for number, raw in enumerate(handle, 1):
            if not raw.strip():
                continue
            where = f"line {number}"
            if max_record_bytes is not None and len(raw) > max_record_bytes:
                # The record is not parsed (that is what the limit spares), so its id is read off the line's start.
                found = _RECORD_ID.search(raw[:400])
                if found:
                    where += f", id '{found.group(1).decode('utf-8', 'replace').strip()}'"
                yield where, None, _size_error(len(raw), max_record_bytes)
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("cp1252", errors="replace")
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield where, None, f"is not valid JSON ({exc.msg})"
                continue
            yield where, record, None


def _feed_records(path: Path, max_record_bytes: int | None = None) -> Iterator[tuple[str, dict | None, str | None]]:
    """(where, record, error) for each record of a .jsonl or .json feed."""
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl_records(path, max_record_bytes)
        return
    text = read_text_file(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, 1):
        where = f"record {number}"
        if max_record_bytes is not None and isinstance(record, dict):
            size = len(str(record.get("text") or "").encode("utf-8"))
            if size > max_record_bytes:
                yield f"{where}, id '{record.get('id')}'", None, _size_error(size, max_record_bytes)
                continue
        yield where, record, None


def _feed_article(record, origin: str) -> Article:
    if not isinstance(record, dict):
        raise UnreadableFile("is not a JSON object")
    missing = [key for key in ("id", "text") if record.get(key) is None or not str(record[key]).strip()]
    if missing:
        raise UnreadableFile(f"has no {' or '.join(repr(m) for m in missing)} field")
    return build_article(
        str(record["id"]).strip(),
        str(record["text"]),
        origin=origin,
        title=str(record.get("title") or "") or None,
        published=str(record.get("published") or record.get("date") or "") or None,
        source=str(record.get("source") or "") or None,
        url=str(record.get("url") or "") or None,
    )


# --- RSS and Atom ------------------------------------------------------------------------------


def _parse_syndication(data: bytes):
    import feedparser

    # Bytes, never a string: feedparser fetches a string that looks like a URL, and ingestion never goes online.
    return feedparser.parse(data, sanitize_html=True, resolve_relative_uris=False)


def _struct_date(value) -> str | None:
    return f"{value.tm_year:04d}-{value.tm_mon:02d}-{value.tm_mday:02d}" if value else None


def _detail_text(value: str, kind: str | None) -> str:
    """A feed field as text: HTML (what most feeds put in content and summary) cleaned, plain text as it is."""
    if kind in ("text/html", "application/xhtml+xml") or "<" in value:
        return fragment_text(value)
    return value.strip()


def entry_id(entry, fallback: str) -> str:
    """A short id that stays the same for the same entry in every copy of its feed: the outlet's host and a
    hash of the entry's guid (else its link)."""
    from urllib.parse import urlsplit

    key = (entry.get("id") or entry.get("link") or "").strip()
    if not key:
        return fallback
    host = (urlsplit(entry.get("link") or key).hostname or "").lower().removeprefix("www.")
    slug = re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:24] or "feed"
    return f"{slug}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


def entry_article(entry, number: int, origin: str, stem: str, outlet: str | None,
                  max_record_bytes: int | None) -> Article:
    """One feed entry as an article (its content, else its summary); `stem` names an entry with no guid or link."""
    contents = [c for c in entry.get("content") or [] if (c.get("value") or "").strip()]
    summary = entry.get("summary") or ""
    summary_kind = (entry.get("summary_detail") or {}).get("type")
    if contents:  # the full text is preferred to the summary; an entry may carry it in several parts
        raw = "\n".join(c["value"] for c in contents)
        body = "\n\n".join(_detail_text(c["value"], c.get("type")) for c in contents)
    elif summary.strip():
        raw, body = summary, _detail_text(summary, summary_kind)
    else:
        raise UnreadableFile("has neither content nor a summary")
    if max_record_bytes is not None and len(raw.encode("utf-8")) > max_record_bytes:
        raise UnreadableFile(_size_error(len(raw.encode("utf-8")), max_record_bytes))
    title = entry.get("title") or ""
    title = _detail_text(title, (entry.get("title_detail") or {}).get("type")) if title else None
    published = _struct_date(entry.get("published_parsed")) or _struct_date(entry.get("updated_parsed"))
    article = build_article(
        entry_id(entry, f"{stem}-{number}"),
        body,
        origin=origin,
        title=title,
        published=published,
        source=outlet,
        url=entry.get("link"),
    )
    article.extra = {
        "author": (entry.get("author") or "").strip() or None,
        "summary": _detail_text(summary, summary_kind) if summary.strip() else None,
        "updated": _struct_date(entry.get("updated_parsed")),
    }
    return article


def feed_entries(data: bytes) -> tuple[str | None, list]:
    """The outlet (the feed's title) and the entries of an RSS or Atom document; UnreadableFile when it is not one."""
    if not data.strip():
        raise UnreadableFile("is empty")
    if looks_binary(data):
        raise UnreadableFile("looks like a binary file, not text")
    parsed = _parse_syndication(data)
    if not parsed.get("version"):
        if parsed.get("bozo") and not parsed.entries:
            reason = parsed.get("bozo_exception").__class__.__name__
            raise UnreadableFile(f"is not a readable RSS or Atom feed (the XML is malformed: {reason})")
        raise UnreadableFile("is not an RSS or Atom feed")
    return (parsed.feed.get("title") or "").strip() or None, list(parsed.entries)


def _syndication_articles(path: Path, max_record_bytes: int | None) -> Iterator[Article | LoadError]:
    """One article per entry of an RSS or Atom file; an entry that cannot be read is a LoadError of its own."""
    outlet, entries = feed_entries(path.read_bytes())
    origin = str(path)
    for number, entry in enumerate(entries, 1):
        try:
            yield entry_article(entry, number, origin, path.stem, outlet, max_record_bytes)
        except (UnreadableFile, ValueError) as exc:
            yield LoadError(f"{origin} (entry {number})", f"{origin} (entry {number}) {exc}.")


def load_file(path: Path, max_bytes: int | None = None, max_record_bytes: int | None = None) -> Iterator[Article | LoadError]:
    """Articles in one file (several for a feed); failures come back as LoadError, never raised.

    `max_bytes` limits a file of one article; a feed (JSONL, JSON, RSS, Atom) is held to `max_record_bytes`
    per article instead, so a large export goes in and only its oversized records are refused."""
    origin = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnreadableFile(
                f"has an unsupported type '{suffix or 'none'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
            )
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes and suffix not in FEED_SUFFIXES:
            raise UnreadableFile(
                f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (raise NEWSRAG_MAX_FILE_MB to allow it)"
            )
        if suffix in (".jsonl", ".json"):
            for where, record, error in _feed_records(path, max_record_bytes):
                if error is None:
                    try:
                        yield _feed_article(record, origin)
                        continue
                    except (UnreadableFile, ValueError) as exc:
                        error = str(exc)
                yield LoadError(f"{origin} ({where})", f"{origin} ({where}) {error}.")
            return
        if suffix in SYNDICATION_SUFFIXES:
            yield from _syndication_articles(path, max_record_bytes)
            return
        if suffix == ".pdf":
            parts = _pdf_to_parts(path)
        elif suffix in (".html", ".htm"):
            parts = html_to_parts(read_text_file(path))
        elif suffix in (".md", ".markdown"):
            parts = _markdown_to_parts(read_text_file(path))
        else:
            parts = {"text": read_text_file(path)}
        yield build_article(
            path.stem,
            parts.pop("text"),
            origin=origin,
            **{key: value for key, value in parts.items() if value},
        )
    except (UnreadableFile, ValueError) as exc:
        yield LoadError(origin, f"{origin} {exc}.")
    except RecursionError:
        yield LoadError(origin, f"{origin} is nested too deeply to parse.")
    except OSError as exc:
        yield LoadError(origin, f"{origin} cannot be read ({exc.strerror or exc}).")


def iter_files(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> Iterator[Path | LoadError]:
    """Files to ingest: given files as they are, folders walked recursively (supported types only,
    hidden files and anything under `exclude`, such as newsrag's own data folder, left out)."""
    excluded = [Path(p).resolve() for p in exclude]
    for path in paths:
        inside = next((root for root in excluded if path.is_dir() and (path.resolve() == root or root in path.resolve().parents)), None)
        if inside is not None:
            # Walking it would skip every file silently; a named file inside it (an upload) is still read.
            yield LoadError(str(path), f"{path} lies inside newsrag's data folder {inside}, which is never ingested; "
                            "ingest a folder outside it.")
        elif path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.suffix.lower() in SUPPORTED_SUFFIXES
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                    and not any(root in child.resolve().parents for root in excluded)
                ):
                    yield child
        elif path.is_file():
            yield path
        else:
            yield LoadError(str(path), f"{path} does not exist.")


def source_key(source: str | None) -> str:
    """An outlet's name as filters, story groups and answers compare it: trimmed, in lower case."""
    return (source or "").strip().lower()


def stored_outlets(manifest: dict[str, dict]) -> list[str]:
    """The distinct outlets (as written, trimmed) of a manifest's complete articles, sorted."""
    return sorted({(r.get("source") or "").strip() for r in manifest.values() if r.get("status") == "complete"} - {""})
