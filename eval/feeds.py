"""What the benchmark importers share: reading their JSONL lines, and writing their articles as newsrag
JSONL feed files ({"id", "title", "text", "url", "source", "published"} per line, as rag/documents.py
reads them), one article per URL and per text."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from eval.metrics import normalise
from rag.documents import build_article, parse_date

# Well under newsrag's 20 MB per-file limit (NEWSRAG_MAX_FILE_MB), so a default install ingests every part.
MAX_FEED_BYTES = 8_000_000


def outlet_of(url: str) -> str | None:
    """The outlet a URL belongs to, from its host without "www." ("https://www.cnn.com/x" -> "cnn.com")."""
    host = (urlsplit(url.strip()).hostname or "").lower()
    return host.removeprefix("www.") or None


def article_id_of(url: str) -> str:
    """A short id that stays the same for the same URL on every import: outlet slug plus a URL hash."""
    slug = re.sub(r"[^a-z0-9]+", "-", outlet_of(url) or "article").strip("-")[:24]
    return f"{slug}-{hashlib.sha1(url.strip().encode('utf-8')).hexdigest()[:12]}"


def iso_date(value) -> str | None:
    """A date in any common form as ISO (at the precision it gives), None when missing or unreadable."""
    return parse_date(str(value)) if value is not None and str(value).strip() else None


def jsonl_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-empty line of a JSONL file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({getattr(exc, 'strerror', None) or exc}).") from exc
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} line {number} is not valid JSON ({exc.msg}).") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{path} line {number} is not a JSON object.")
        yield number, row


class FeedWriter:
    """Appends articles to `<stem>.jsonl` files in a folder, starting `<stem>-2.jsonl` and so on before a
    file would pass MAX_FEED_BYTES; files matching the glob `stale` are removed first.

    An article is written once per URL and once per cleaned text: newsrag's ingestion keeps only the first
    of two articles with the same text, so a later twin is answered with the first one's id and gold sources
    always name an article that is in the store.
    """

    def __init__(self, folder: Path, stale: str | None = None, max_bytes: int = MAX_FEED_BYTES):
        self.folder = Path(folder)
        self.stale = stale
        self.max_bytes = max_bytes
        self.by_url: dict[str, str] = {}
        self.by_text: dict[str, str] = {}
        self.normalised: dict[str, str] = {}  # article id -> normalised text, for answer-string checks
        self.files: list[Path] = []
        self.skipped = 0  # no text, or nothing left once newsrag strips boilerplate
        self._handle = None
        self._size = 0
        self._stem, self._part = "articles", 1
        self._joined: str | None = None

    def __enter__(self) -> FeedWriter:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.stale:
            # Files an earlier import wrote (say, of more weeks) would otherwise be ingested with the new ones.
            for old in self.folder.glob(self.stale):
                old.unlink()
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def start(self, stem: str) -> None:
        """Write the next articles to `<stem>.jsonl` (created on the first article, so none is left empty)."""
        self._close()
        self._stem, self._part = stem, 1

    def add(self, url: str, title: str | None, text: str | None, source: str | None, published: str | None) -> str | None:
        """Write one article unless its URL or text is already written; the id it is stored under, or None
        when it has no usable text."""
        url = (url or "").strip()
        if url in self.by_url:
            return self.by_url[url]
        if not (text or "").strip():
            self.skipped += 1
            return None
        record = {"id": article_id_of(url), "title": (title or "").strip(), "text": text, "url": url,
                  "source": source, "published": published}
        record = {key: value for key, value in record.items() if value}
        try:
            # The same cleaning ingestion applies, so a record that would fail there is not written at all.
            article = build_article(record["id"], text, origin="import", title=record.get("title"),
                                    published=published, source=source, url=url)
        except ValueError:
            self.skipped += 1
            return None
        twin = self.by_text.get(article.text_hash)
        if twin:
            self.by_url[url] = twin
            return twin
        line = json.dumps(record, ensure_ascii=False) + "\n"
        size = len(line.encode("utf-8"))
        if self._handle is not None and self._size and self._size + size > self.max_bytes:
            self._close()
            self._part += 1
        if self._handle is None:
            self._open()
        self._handle.write(line)
        self._size += size
        self.by_url[url] = self.by_text[article.text_hash] = record["id"]
        self.normalised[record["id"]] = f" {normalise(article.text)} "
        self._joined = None
        return record["id"]

    def contains(self, answer: str, article_id: str | None = None) -> bool:
        """Whether an article's text (or, without an id, any article's) holds the answer string after SQuAD
        normalisation, on whole tokens: the same match the accuracy metric makes."""
        needle = normalise(answer)
        if not needle:
            return False
        if article_id is not None:
            return f" {needle} " in self.normalised.get(article_id, "")
        if self._joined is None:
            self._joined = "\n".join(self.normalised.values())
        return f" {needle} " in self._joined

    @property
    def articles(self) -> int:
        return len(self.normalised)

    def _open(self) -> None:
        name = self._stem if self._part == 1 else f"{self._stem}-{self._part}"
        path = self.folder / f"{name}.jsonl"
        self._handle = path.open("w", encoding="utf-8")
        self._size = 0
        self.files.append(path)

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
