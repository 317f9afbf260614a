"""Turn files (txt, md, html, pdf, jsonl/json feeds) into cleaned, dated articles.

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

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".jsonl", ".json")

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
    if b"\x00" in data[:8192]:
        raise UnreadableFile("looks like a binary file, not text")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
        if controls > 8:
            raise UnreadableFile("looks like a binary file, not text")
        return text
    raise UnreadableFile("is neither UTF-8 nor Windows-1252 text")


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


def _html_to_parts(html: str) -> dict:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and tag.get("content"):
                return tag["content"].strip()
        return None

    title = meta("og:title", "twitter:title") or (soup.title.get_text(strip=True) if soup.title else None)
    published = meta("article:published_time", "datePublished", "pubdate", "date", "dc.date", "DC.date.issued")
    if not published:
        time_tag = soup.find("time", attrs={"datetime": True})
        published = time_tag["datetime"] if time_tag else None
    source = meta("og:site_name", "publisher", "application-name")
    canonical = soup.find("link", attrs={"rel": "canonical"})
    url = meta("og:url") or (canonical.get("href") if canonical else None)
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer", "header", "aside", "form", "iframe", "svg"]):
        tag.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    if not title:
        heading = root.find("h1")
        title = heading.get_text(" ", strip=True) if heading else None
    blocks = [_own_text(element) for element in [root, *root.find_all(_BLOCK_TAGS)]]
    blocks = [block for block in blocks if block]
    text = "\n\n".join(blocks) if blocks else root.get_text("\n", strip=True)
    return {"text": text, "title": title, "published": published, "source": source, "url": url}


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
    parts = _html_to_parts(f"<html><body>{html}</body></html>")
    return {
        "text": prefix + parts["text"],
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


def _feed_records(path: Path) -> Iterator[tuple[str, dict | None, str | None]]:
    """(where, record, error) for each record of a .jsonl or .json feed."""
    text = read_text_file(path)
    if path.suffix.lower() == ".jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {number}", None, f"is not valid JSON ({exc.msg})"
                continue
            yield f"line {number}", record, None
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, 1):
        yield f"record {number}", record, None


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


def load_file(path: Path, max_bytes: int | None = None) -> Iterator[Article | LoadError]:
    """Articles in one file (several for a feed); failures come back as LoadError, never raised."""
    origin = str(path)
    suffix = path.suffix.lower()
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnreadableFile(
                f"has an unsupported type '{suffix or 'none'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})"
            )
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise UnreadableFile(
                f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (raise NEWSRAG_MAX_FILE_MB to allow it)"
            )
        if suffix in (".jsonl", ".json"):
            for where, record, error in _feed_records(path):
                if error is None:
                    try:
                        yield _feed_article(record, origin)
                        continue
                    except (UnreadableFile, ValueError) as exc:
                        error = str(exc)
                yield LoadError(f"{origin} ({where})", f"{origin} ({where}) {error}.")
            return
        if suffix == ".pdf":
            parts = _pdf_to_parts(path)
        elif suffix in (".html", ".htm"):
            parts = _html_to_parts(read_text_file(path))
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
        if path.is_dir():
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
