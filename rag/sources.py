"""Web sources (feeds, pages, sitemaps) and `sync`: polite, conditional fetching into the ingestion service.

Nothing here opens a connection unless settings.allow_network is true: `Fetcher` refuses to exist
otherwise, and every path to the network goes through it. What is fetched becomes articles with the loaders
of rag/documents.py (feed entries, trafilatura and htmldate for pages) and is stored by the one Ingestor,
so the web and files share hashing, story grouping and the crash-safe write protocol.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from rag.config import FetchPolicy, Settings
from rag.documents import (
    Article,
    LoadError,
    UnreadableFile,
    build_article,
    decode_text,
    entry_article,
    entry_id,
    feed_entries,
    html_to_parts,
)

Kind = Literal["feed", "page", "sitemap"]
KINDS: tuple[str, ...] = Kind.__args__
SyncProgress = Callable[[int, int, str], None]

NETWORK_OFF = ("Network access is off, so newsrag opened no connection; set NEWSRAG_ALLOW_NETWORK=true to add "
               "or sync web sources.")
_REDIRECTS = (301, 302, 303, 307, 308)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


class NetworkDisabled(RuntimeError):
    """Raised instead of opening a connection while NEWSRAG_ALLOW_NETWORK is off."""


class FetchError(Exception):
    """A request that gave nothing usable; the message completes "<url> ..." as one sentence."""


# --- pure parts: intervals, rate limit, robots.txt, size limit, kind of document -------------------


def parse_interval(text: str) -> float:
    """'15m' -> 900.0; also '30s', '2h', '1h30m' and plain seconds ('900')."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd])", value)
        if not parts or re.sub(r"(\d+(?:\.\d+)?)\s*([smhd])", "", value).strip():
            raise ValueError(f"'{text}' is not an interval; write it like 30s, 15m, 2h or 1h30m.")
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        seconds = sum(float(number) * unit[letter] for number, letter in parts)
    if seconds <= 0:
        raise ValueError(f"'{text}' is not a positive interval; write it like 30s, 15m or 2h.")
    return seconds


class HostRateLimiter:
    """Keeps at least `interval` seconds between two requests to one host (longer when robots.txt asks)."""

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self._last: dict[str, float] = {}

    def wait(self, host: str, delay: float | None = None) -> float:
        """Sleep until `host` may be asked again, then count this request; returns the seconds slept."""
        gap = max(self.interval, delay or 0.0)
        last = self._last.get(host)
        slept = 0.0
        if last is not None:
            slept = max(0.0, last + gap - self.clock())
            if slept:
                self.sleep(slept)
        self._last[host] = self.clock()
        return slept


def robots_rules(status: int, body: bytes) -> RobotFileParser:
    """The rules a robots.txt answer gives (RFC 9309): its text when found, none when it is missing (4xx), and
    nothing allowed when access to it is refused (401, 403) or the server fails (5xx)."""
    rules = RobotFileParser()
    if 200 <= status < 300:
        rules.parse(body.decode("utf-8", errors="replace").splitlines())
    elif status in (401, 403) or status >= 500:
        rules.disallow_all = True
    else:
        rules.allow_all = True
    return rules


class ResponseTooLarge(Exception):
    pass


def read_limited(chunks: Iterable[bytes], limit: int, deadline: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> bytes:
    """The chunks joined, stopping with ResponseTooLarge once they pass `limit` bytes and with TimeoutError once
    `deadline` (on `clock`) has passed: a slow trickle is held to the same time budget as a stalled server."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise ResponseTooLarge
        if deadline is not None and clock() > deadline:
            raise TimeoutError
    return bytes(data)


def detect_kind(content_type: str, body: bytes) -> Kind | None:
    """What a fetched URL is: an RSS/Atom feed, a sitemap, or an HTML page; None for anything else."""
    head = body[:4096].lstrip().lower()
    if b"<urlset" in head or b"<sitemapindex" in head:
        return "sitemap"
    try:
        feed_entries(body)
        return "feed"
    except UnreadableFile:
        pass
    if content_type.split(";")[0].strip().lower() in _HTML_TYPES or b"<html" in head or head.startswith(b"<!doctype html"):
        return "page"
    return None


def sitemap_links(body: bytes) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(page URLs with their lastmod, nested sitemap URLs) of a sitemap or sitemap index, namespaces ignored."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise UnreadableFile(f"is not a readable sitemap (the XML is malformed: {exc.msg})") from exc

    def child(element, name: str) -> str | None:
        for sub in element:
            if isinstance(sub.tag, str) and etree.QName(sub).localname == name and (sub.text or "").strip():
                return sub.text.strip()
        return None

    pages, nested = [], []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in ("url", "sitemap") and (loc := child(element, "loc")):
            (pages.append((loc, child(element, "lastmod"))) if name == "url" else nested.append(loc))
    return pages, nested


def check_url(url: str) -> str:
    """The URL stripped, or ValueError with a sentence when it is not an http(s) URL with a host."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not a web address; give an http:// or https:// URL.")
    return url


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- fetching ------------------------------------------------------------------------------------


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes = b""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def text(self) -> str:
        charset = re.search(r"charset=[\"']?([\w.-]+)", self.content_type, re.IGNORECASE)
        if charset:
            try:
                return self.body.decode(charset.group(1), errors="replace")
            except LookupError:
                pass
        return decode_text(self.body)


class Fetcher:
    """HTTP GET with robots.txt, a per-host rate limit, a time budget, a size limit and bounded redirects."""

    def __init__(self, policy: FetchPolicy, allow_network: bool, limiter: HostRateLimiter | None = None,
                 transport=None):
        if not allow_network:
            raise NetworkDisabled(NETWORK_OFF)
        import httpx

        self.policy = policy
        self.limiter = limiter or HostRateLimiter(policy.host_interval_s)
        self.requests = 0
        self._robots: dict[str, RobotFileParser] = {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(policy.timeout_s), follow_redirects=False, transport=transport,
            headers={"User-Agent": policy.user_agent, "Accept-Encoding": "gzip, deflate"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """The response for `url` after redirects; 304 when the validators still hold. FetchError otherwise."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(self.policy.max_redirects + 1):
            rules = self._rules(url)
            if not rules.can_fetch(self.policy.user_agent, url):
                raise FetchError("is disallowed for newsrag by its site's robots.txt, so it was not fetched")
            response = self._request(url, headers, rules)
            location = response.headers.get("location")
            if response.status in _REDIRECTS and location:
                target = urljoin(url, location)
                if urlsplit(target).scheme.lower() not in ("http", "https"):
                    raise FetchError(f"redirected to {target[:80]}, which is not a web address")
                url = target
                continue
            if response.status == 304 or response.status < 300:
                return response
            raise FetchError(f"answered HTTP {response.status}{_reason(response.status)}")
        raise FetchError(f"redirected more than {self.policy.max_redirects} times (NEWSRAG_FETCH__MAX_REDIRECTS)")

    def _rules(self, url: str) -> RobotFileParser:
        parts = urlsplit(url)
        site = f"{parts.scheme}://{parts.netloc}"
        if site not in self._robots:
            robots_url = site + "/robots.txt"
            response = self._request(robots_url, {}, None)
            hops = 0
            while response.status in _REDIRECTS and response.headers.get("location") and hops < self.policy.max_redirects:
                hops += 1
                response = self._request(check_url(urljoin(robots_url, response.headers["location"])), {}, None)
            status = 404 if response.status in _REDIRECTS else response.status
            self._robots[site] = robots_rules(status, response.body)
        return self._robots[site]

    def _request(self, url: str, headers: dict, rules: RobotFileParser | None) -> Fetched:
        import httpx

        delay = rules.crawl_delay(self.policy.user_agent) if rules is not None else None
        self.limiter.wait(urlsplit(url).netloc.lower(), float(delay) if delay else None)
        limit = int(self.policy.max_response_mb * 1e6)
        self.requests += 1
        started = time.monotonic()
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                length = response.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise ResponseTooLarge
                body = read_limited(response.iter_bytes(), limit, deadline=started + self.policy.timeout_s)
                return Fetched(str(response.url), response.status_code, dict(response.headers), body)
        except ResponseTooLarge:
            raise FetchError(f"is larger than {self.policy.max_response_mb:g} MB, the limit for one response "
                             "(NEWSRAG_FETCH__MAX_RESPONSE_MB), so it was not read") from None
        except (httpx.TimeoutException, TimeoutError):
            raise FetchError(f"did not answer within {self.policy.timeout_s:g} s (NEWSRAG_FETCH__TIMEOUT_S)") from None
        except httpx.ConnectError as exc:
            raise FetchError(f"could not be reached ({_short(exc)})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"failed while it was read ({exc.__class__.__name__}: {_short(exc)})") from None


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return f" {HTTPStatus(status).phrase}"
    except ValueError:
        return ""


def _short(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return re.sub(r"^\[Errno -?\d+\]\s*", "", text).rstrip(".")[:120]


# --- the sources file ------------------------------------------------------------------------------


@dataclass
class Source:
    url: str
    kind: Kind
    added_at: str = field(default_factory=_now)
    etag: str | None = None
    last_modified: str | None = None
    last_synced: str | None = None
    last_error: str | None = None


class SourceRegistry:
    """The web sources and what was last fetched from each page, in one JSON file in the data folder."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "sources.json"
        data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        self.sources = [Source(**row) for row in data.get("sources", [])]
        # page URL -> {"id", "source", "etag", "last_modified", "fingerprint", "content_hash", "fetched_at", "changed_at"}
        self.pages: dict[str, dict] = data.get("pages", {})

    def save(self) -> None:
        """Write the file whole and atomically: a crash leaves the old file, never half of a new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": 1, "sources": [asdict(s) for s in self.sources], "pages": self.pages}
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".sources-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, indent=1)
        os.replace(temp, self.path)

    def find(self, url: str) -> Source | None:
        return next((s for s in self.sources if s.url == url), None)

    def add(self, url: str, kind: Kind) -> Source:
        if self.find(url):
            raise ValueError(f"{url} is already a source ({self.find(url).kind}); remove it first to change its kind.")
        source = Source(url=url, kind=kind)
        self.sources.append(source)
        self.save()
        return source

    def remove(self, url: str) -> bool:
        source = self.find(url.strip())
        if source is None:
            return False
        self.sources.remove(source)
        self.pages = {page: state for page, state in self.pages.items() if state.get("source") != source.url}
        self.save()
        return True


# --- sync ------------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    sources: int = 0
    requests: int = 0
    not_modified: int = 0  # feeds, sitemaps and pages answered 304
    skipped: int = 0  # feed entries and sitemap URLs not fetched: unchanged since the last sync and still stored
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)  # {"id", "url"} of articles whose old version was replaced
    from_feed: list[str] = field(default_factory=list)  # sentences: pages that failed, stored from the feed's text
    failed: list[dict] = field(default_factory=list)  # {"url", "error"}: one sentence each
    passages: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {**asdict(self), "seconds": round(self.seconds, 3)}


@dataclass
class _Pending:
    """What a sync learnt about one page, written to the sources file only once its article is stored."""

    url: str
    state: dict


def _fingerprint(*parts) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:20]


class Syncer:
    """Turns the registry's sources into articles, fetching only what may have changed."""

    def __init__(self, registry: SourceRegistry, settings: Settings, fetcher: Fetcher, stored: set[str]):
        self.registry = registry
        self.settings = settings
        self.fetcher = fetcher
        self.stored = stored  # ids of the articles complete in the store
        self.report = SyncReport(sources=len(registry.sources))
        self.pending_pages: list[_Pending] = []
        self.pending_sources: dict[str, dict] = {}  # url -> fields to set once the sync is stored
        self._incomplete: set[str] = set()  # sources with a page stored from the feed's text: read them again next time
        self._done = 0
        self._total = len(registry.sources)

    def _fail(self, url: str, error: str) -> None:
        self.report.failed.append({"url": url, "error": f"{url} {error}."})

    def articles(self, progress: SyncProgress | None = None) -> Iterator[Article | LoadError]:
        """Every article that may be new or changed, source by source; a source that fails gets one sentence in
        the report and the others go on."""
        for source in list(self.registry.sources):
            if progress:
                progress(self._done, self._total, source.url)
            failures = len(self.report.failed)
            try:
                response = self.fetcher.get(source.url, source.etag, source.last_modified)
            except FetchError as exc:
                self._fail(source.url, str(exc))
                self.pending_sources[source.url] = {"last_error": self.report.failed[-1]["error"], "last_synced": _now()}
                self._done += 1
                continue
            if response.not_modified:
                self.report.not_modified += 1
                items: Iterable[Article | LoadError] = ()
            elif source.kind == "feed":
                items = self._feed(source, response, progress)
            elif source.kind == "sitemap":
                items = self._sitemap(source, response, progress)
            else:
                items = self._page_from(source.url, source.url, response, entry_id({"link": source.url}, source.url))
            yield from items
            self._done += 1
            update = {"last_synced": _now(), "last_error": None}
            if len(self.report.failed) > failures:
                update["last_error"] = self.report.failed[failures]["error"]
            elif not response.not_modified and source.url not in self._incomplete:
                # Kept only when every item went in: otherwise the next sync must read the document again.
                update |= {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified")}
            self.pending_sources[source.url] = update
        if progress:
            progress(self._total, self._total, "")

    def _feed(self, source: Source, response: Fetched, progress) -> Iterator[Article | LoadError]:
        try:
            outlet, entries = feed_entries(response.body)
        except UnreadableFile as exc:
            self._fail(source.url, str(exc))
            return
        entries = entries[: self.settings.fetch.max_items_per_source]
        self._total += len(entries)
        stem = re.sub(r"[^a-z0-9]+", "-", urlsplit(source.url).netloc.lower()).strip("-") or "feed"
        for number, entry in enumerate(entries, 1):
            link = (entry.get("link") or "").strip()
            if progress:
                progress(self._done, self._total, link or source.url)
            self._done += 1
            try:
                from_feed = entry_article(entry, number, link or source.url, stem, outlet,
                                          int(self.settings.max_record_mb * 1e6))
            except (UnreadableFile, ValueError) as exc:
                from_feed, feed_error = None, str(exc)
            article_id = entry_id(entry, f"{stem}-{number}")
            fingerprint = _fingerprint(entry.get("id"), link, entry.get("title"), entry.get("updated"),
                                       entry.get("published"), entry.get("summary"), entry.get("content"))
            if not link:
                if from_feed is None:
                    self._fail(f"{source.url} (entry {number})", feed_error)
                else:
                    yield from_feed
                continue
            state = self.registry.pages.get(link) or {}
            if state.get("fingerprint") == fingerprint and state.get("id") in self.stored:
                self.report.skipped += 1
                continue
            yield from self._page(source.url, link, article_id, fingerprint, from_feed, state)

    def _sitemap(self, source: Source, response: Fetched, progress) -> Iterator[Article | LoadError]:
        try:
            pages, nested = sitemap_links(response.body)
            for url in nested[:10]:  # a sitemap index: its sitemaps, one level deep
                try:
                    pages += sitemap_links(self.fetcher.get(url).body)[0]
                except FetchError as exc:
                    self._fail(url, str(exc))
        except UnreadableFile as exc:
            self._fail(source.url, str(exc))
            return
        # Newest first, so the item limit keeps the most recent pages.
        pages.sort(key=lambda page: page[1] or "", reverse=True)
        pages = pages[: self.settings.fetch.max_items_per_source]
        self._total += len(pages)
        for url, lastmod in pages:
            if progress:
                progress(self._done, self._total, url)
            self._done += 1
            state = self.registry.pages.get(url) or {}
            if lastmod and state.get("fingerprint") == lastmod and state.get("id") in self.stored:
                self.report.skipped += 1
                continue
            yield from self._page(source.url, url, entry_id({"link": url}, url), lastmod, None, state)

    def _page(self, source_url: str, url: str, article_id: str, fingerprint: str | None, from_feed: Article | None,
              state: dict) -> Iterator[Article | LoadError]:
        """The article at `url`, fetched conditionally when it is stored; the feed's own text when the page cannot be."""
        stored = state.get("id") in self.stored
        try:
            url = check_url(url)
            response = self.fetcher.get(url, state.get("etag") if stored else None,
                                        state.get("last_modified") if stored else None)
        except (FetchError, ValueError) as exc:
            if from_feed is not None:  # the feed carries the article's text: store that, try the page next sync
                self._incomplete.add(source_url)
                self.report.from_feed.append(f"{url} {exc}; stored from the feed's own text for now.")
                yield from_feed
                return
            self._fail(url, str(exc))
            return
        if response.not_modified:
            self.report.not_modified += 1
            self.pending_pages.append(_Pending(url, {**state, "fingerprint": fingerprint, "fetched_at": _now()}))
            return
        yield from self._page_from(source_url, url, response, article_id, fingerprint, from_feed, state)

    def _page_from(self, source_url: str, url: str, response: Fetched, article_id: str, fingerprint: str | None = None,
                   from_feed: Article | None = None, state: dict | None = None) -> Iterator[Article | LoadError]:
        state = state if state is not None else (self.registry.pages.get(url) or {})
        article = None
        try:
            kind = response.content_type.split(";")[0].strip().lower()
            if kind and kind not in _HTML_TYPES:
                raise UnreadableFile(f"is {kind}, not an HTML page")
            parts = html_to_parts(response.text())
            feed = from_feed
            article = build_article(
                article_id,
                parts["text"],
                origin=url,
                title=(feed.title if feed else None) or parts.get("title"),
                published=(feed.date if feed and feed.date_source == "header" else None) or parts.get("published"),
                source=(feed.source if feed else None) or parts.get("source"),
                url=url,
            )
            if feed is not None:
                article.extra = dict(feed.extra)
        except (UnreadableFile, ValueError, RecursionError) as exc:
            if from_feed is None:
                self._fail(url, str(exc) if isinstance(exc, ValueError) else "is nested too deeply to parse")
                return
            # What the page serves will not change by asking again: recorded, so it is not fetched until the entry changes.
            self.report.from_feed.append(f"{url} {exc}; stored from the feed's own text.")
            article = from_feed
        self.pending_pages.append(_Pending(url, {
            **state, "id": article.id, "source": source_url, "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"), "fingerprint": fingerprint,
            "content_hash": article.content_hash, "fetched_at": _now(),
        }))
        yield article

    def commit(self, ingest_failed: Iterable[str], hashes_before: dict[str, str], hashes_after: dict[str, str]) -> None:
        """Write what this sync learnt to the sources file, for the pages whose articles are stored; record which
        articles changed (an earlier version replaced) in the report and in each page's `changed_at`."""
        failed = set(ingest_failed)
        for pending in self.pending_pages:
            if pending.url in failed:
                continue
            state = dict(pending.state)
            article_id = state.get("id")
            before, after = hashes_before.get(article_id), hashes_after.get(article_id)
            if before and after and before != after:
                state["changed_at"] = [*state.get("changed_at", []), _now()]
                self.report.changed.append({"id": article_id, "url": pending.url})
            self.registry.pages[pending.url] = state
        unstored = {p.state.get("source") for p in self.pending_pages if p.url in failed}
        for source in self.registry.sources:
            update = self.pending_sources.get(source.url)
            if update is not None:
                if source.url in unstored:  # keep the old validators, so the next sync reads the source again
                    update = {key: value for key, value in update.items() if key not in ("etag", "last_modified")}
                for key, value in update.items():
                    setattr(source, key, value)
        self.registry.save()


def add_source(registry: SourceRegistry, settings: Settings, url: str, kind: str | None = None,
               fetcher: Fetcher | None = None) -> Source:
    """Register a web source; its kind is detected from what the URL serves unless given."""
    if not settings.allow_network:
        raise NetworkDisabled(NETWORK_OFF)
    url = check_url(url)
    if kind is not None and kind not in KINDS:
        raise ValueError(f"--kind must be one of {', '.join(KINDS)} (got '{kind}').")
    if registry.find(url):
        raise ValueError(f"{url} is already a source ({registry.find(url).kind}); remove it first to change its kind.")
    if kind is None:
        own = fetcher is None
        fetcher = fetcher or Fetcher(settings.fetch, settings.allow_network)
        try:
            response = fetcher.get(url)
        except FetchError as exc:
            raise ValueError(f"{url} {exc}; nothing was added.") from None
        finally:
            if own:
                fetcher.close()
        kind = detect_kind(response.content_type, response.body)
        if kind is None:
            raise ValueError(f"{url} is neither an RSS/Atom feed, a sitemap nor an HTML page "
                             f"({response.content_type or 'no content type'}); give --kind if it is one.")
    return registry.add(url, kind)


def sync_sources(settings: Settings, ingest: Callable[[Iterable[Article | LoadError]], object],
                 stored_hashes: Callable[[], dict[str, str]], progress: SyncProgress | None = None,
                 transport=None) -> SyncReport:
    """Fetch what is new from every source and ingest it; `ingest` is the ingestion service's entry point for
    articles (it returns an IngestReport) and `stored_hashes` gives the complete articles' content hashes."""
    if not settings.allow_network:
        raise NetworkDisabled(NETWORK_OFF)
    started = time.perf_counter()
    registry = SourceRegistry(settings.data_dir)
    before = stored_hashes()
    with Fetcher(settings.fetch, settings.allow_network, transport=transport) as fetcher:
        syncer = Syncer(registry, settings, fetcher, set(before))
        ingested = ingest(syncer.articles(progress))
        syncer.report.requests = fetcher.requests
    report = syncer.report
    syncer.commit([f["path"] for f in ingested.failed], before, stored_hashes())
    report.added, report.updated, report.unchanged = ingested.added, ingested.updated, ingested.unchanged
    report.duplicates = ingested.duplicates
    report.failed += [{"url": f["path"], "error": f["error"]} for f in ingested.failed]
    report.passages = ingested.passages
    report.seconds = time.perf_counter() - started
    return report


def run_every(seconds: float, once: Callable[[], None], sleep: Callable[[float], None] = time.sleep,
              rounds: int | None = None) -> None:
    """Call `once` now and then every `seconds` (measured from each start) until interrupted, or `rounds` times."""
    done = 0
    while rounds is None or done < rounds:
        started = time.monotonic()
        once()
        done += 1
        if rounds is not None and done >= rounds:
            return
        sleep(max(0.0, seconds - (time.monotonic() - started)))
