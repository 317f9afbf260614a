"""`newsrag sync` against a local web server on 127.0.0.1: feeds, pages, redirects, slow and broken responses."""

from __future__ import annotations

import hashlib
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from rag.config import FetchPolicy
from rag.service import RagService
from rag.sources import NETWORK_OFF, NetworkDisabled, SourceRegistry

WORDS = ("harbour council river bridge vote budget school strike minister port grain rail union court mayor "
         "storm flood energy price market trade border village hospital doctor teacher farmer factory election "
         "report audit police fire crew ferry island road tunnel tram station airport cargo ship dock shift "
         "winter summer spring autumn north south east west coast valley forest mountain lake canal water power "
         "grid wind solar tariff loan bank pension tax levy fund grant charity museum library theatre festival").split()

FETCH = FetchPolicy(timeout_s=1.0, max_response_mb=1.0, host_interval_s=0.0, max_redirects=3)


def prose(seed: str, paragraphs: int = 4) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(" ".join(rng.choice(WORDS) for _ in range(14)).capitalize() + "." for _ in range(3))
            for _ in range(paragraphs)]


def page_html(title: str, paragraphs: list[str], published: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>{title}</title><meta property='og:title' content='{title}'>"
            f"<meta property='article:published_time' content='{published}'></head><body>"
            "<nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<aside>Related: <a href='/x'>Another story</a></aside><footer>Subscribe to our newsletter</footer>"
            "</body></html>")


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict = field(default_factory=dict)
    conditional: bool = True  # answers If-None-Match / If-Modified-Since with 304
    delay: float = 0.0
    truncate: bool = False  # promises more bytes than it sends, then closes


class NewsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {"/robots.txt": Route(b"User-agent: *\nDisallow: /private/\n", "text/plain")}
        self.connections = 0
        self.log: list[tuple[float, str, dict]] = []  # (arrival, path, request headers)
        self.lock = threading.Lock()

    def process_request(self, request, client_address):
        with self.lock:
            self.connections += 1
        super().process_request(request, client_address)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.log]

    def feed(self, name: str, items: int = 50, private: tuple[int, ...] = ()) -> str:
        """Serve an RSS feed of `items` articles, each with its own page; returns the feed URL."""
        entries = []
        for n in range(items):
            path = f"/{'private/' if n in private else ''}{name}/{n}.html"
            self.article(path, f"{name} story {n}", prose(f"{name}-{n}"))
            entries.append(f"<item><title>{name} story {n}</title><link>{self.base}{path}</link>"
                           f"<guid>{name}-{n}</guid><pubDate>{formatdate(1_770_000_000 + n * 3600, usegmt=True)}</pubDate>"
                           f"<description>Teaser {n} of {name}: {prose(f'teaser-{name}-{n}', 1)[0]}</description></item>")
        self.routes[f"/feeds/{name}.xml"] = Route(
            f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name.title()} Gazette</title>"
            f"<link>{self.base}/</link>{''.join(entries)}</channel></rss>".encode(), "application/rss+xml")
        return f"{self.base}/feeds/{name}.xml"

    def article(self, path: str, title: str, paragraphs: list[str], published: str = "2026-02-02") -> None:
        self.routes[path] = Route(page_html(title, paragraphs, published).encode())


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        server: NewsServer = self.server
        path = self.path.split("?")[0]
        with server.lock:
            server.log.append((time.monotonic(), path, dict(self.headers)))
        route = server.routes.get(path)
        if route is None:
            self.send_error(404)
            return
        if route.delay:
            time.sleep(route.delay)
        etag = '"' + hashlib.sha1(route.body).hexdigest()[:16] + '"'
        modified = "Mon, 02 Feb 2026 10:00:00 GMT"
        # If-None-Match, when sent, decides alone (RFC 9110 13.2.2)
        match = (self.headers["If-None-Match"] == etag if "If-None-Match" in self.headers
                 else self.headers.get("If-Modified-Since") == modified)
        if route.conditional and route.status == 200 and match:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if route.conditional:
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
        for key, value in route.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(route.body) + (1000 if route.truncate else 0)))
        self.end_headers()
        try:
            self.wfile.write(route.body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server():
    httpd = NewsServer()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def online(fake_settings):
    return fake_settings.model_copy(update={"allow_network": True, "fetch": FETCH})


def service_with(settings, *urls: tuple[str, str]) -> RagService:
    registry = SourceRegistry(settings.data_dir)
    for url, kind in urls:
        registry.add(url, kind)
    return RagService(settings)


def manifest(service: RagService) -> dict:
    return service.store.articles(with_text=True)


def passages_of(service: RagService, article_id: str) -> list[str]:
    return [row["text"] for batch in service.store.iter_passages(where={"article_id": article_id}) for row in batch]


def one_sentence(text: str) -> bool:
    body = text.rstrip(".")
    return text.endswith(".") and "\n" not in text and ". " not in body.replace("e.g. ", "")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- what must hold ------------------------------------------------------------------------------


def test_three_feeds_of_fifty_sync_in_one_run_and_a_second_run_changes_nothing(server, online):
    feeds = [server.feed(name) for name in ("north", "south", "east")]
    service = service_with(online, *[(url, "feed") for url in feeds])

    started = time.perf_counter()
    first = service.sync()
    took = time.perf_counter() - started
    print(f"\n3 feeds x 50 items: {first.added} added, {first.passages} passages, {first.requests} requests in {took:.1f} s")
    assert (first.added, first.updated, first.failed) == (150, 0, [])
    assert first.requests == 1 + 3 + 150  # robots.txt once, the feeds, every page once
    docs = service.documents()
    assert len(docs) == 150 and {row["source"] for row in docs} == {"North Gazette", "South Gazette", "East Gazette"}
    stored = manifest(service)
    page = next(record for record in stored.values() if record["url"].endswith("/north/7.html"))
    assert " ".join(prose("north-7")[:2]).split(".")[0] in page["text"]  # the page's own text, not the feed's teaser
    assert "Subscribe" not in page["text"] and "Teaser" not in page["text"]

    server.log.clear()
    version = service.store.version()
    second = service.sync()
    print(f"second run: {second.requests} requests, {second.not_modified} answered 304, in {second.seconds:.2f} s")
    assert (second.added, second.updated, second.unchanged, second.not_modified, second.failed) == (0, 0, 0, 3, [])
    assert sorted(server.paths()) == sorted(["/robots.txt"] + [f"/feeds/{n}.xml" for n in ("north", "south", "east")])
    assert all("If-None-Match" in headers for _, path, headers in server.log if path.startswith("/feeds/"))
    assert manifest(service) == stored and service.store.version() == version


def test_a_feed_without_validators_is_read_again_but_its_unchanged_items_are_not_fetched(server, online):
    url = server.feed("west", items=20)
    server.routes["/feeds/west.xml"].conditional = False
    service = service_with(online, (url, "feed"))
    assert service.sync().added == 20
    stored = manifest(service)
    server.log.clear()
    again = service.sync()
    assert (again.added, again.updated, again.skipped, again.not_modified) == (0, 0, 20, 0)
    assert sorted(server.paths()) == ["/feeds/west.xml", "/robots.txt"]
    assert manifest(service) == stored


def test_an_updated_item_replaces_its_old_passages_and_the_change_is_recorded(server, online):
    url = server.feed("harbour", items=5)
    service = service_with(online, (url, "feed"))
    assert service.sync().added == 5
    old = manifest(service)
    article_id = next(i for i, record in old.items() if record["url"].endswith("/harbour/2.html"))
    old_passages = passages_of(service, article_id)

    new_text = ["Correction: the harbour tunnel reopened on Friday after a zeppelin inspection found no damage."] + prose("v2", 3)
    server.article("/harbour/2.html", "harbour story 2", new_text)
    feed = server.routes["/feeds/harbour.xml"]
    feed.body = feed.body.replace(b"Teaser 2 of harbour", b"Updated teaser 2 of harbour")
    report = service.sync()
    assert (report.added, report.updated, report.failed) == (0, 1, [])
    assert report.changed == [{"id": article_id, "url": f"{server.base}/harbour/2.html"}]
    record = manifest(service)[article_id]
    assert "Correction: the harbour tunnel" in record["text"] and record["content_hash"] != old[article_id]["content_hash"]
    hits = service.search("zeppelin", k=3, mode="bm25")  # the keyword index was rebuilt with the new text
    assert hits and hits[0].article_id == article_id and "zeppelin" in hits[0].text
    assert len(SourceRegistry(online.data_dir).pages[f"{server.base}/harbour/2.html"]["changed_at"]) == 1
    new_passages = passages_of(service, article_id)
    assert new_passages and not set(new_passages) & set(old_passages)
    assert all(text in record["text"] for text in new_passages)
    assert {i: r["content_hash"] for i, r in manifest(service).items() if i != article_id} == \
        {i: r["content_hash"] for i, r in old.items() if i != article_id}


def test_a_dead_feed_gets_one_sentence_and_the_others_still_sync(server, online):
    good = server.feed("valley", items=10)
    server.routes["/feeds/broken.xml"] = Route(b"<html><body><p>Down for maintenance</p></body></html>", "application/rss+xml")
    server.routes["/feeds/error.xml"] = Route(b"oops", "text/plain", status=500)
    server.routes["/feeds/slow.xml"] = Route(b"<rss/>", "application/rss+xml", delay=3.0)
    server.routes["/feeds/cut.xml"] = Route(b"<?xml version='1.0'?><rss version='2.0'>", "application/rss+xml", truncate=True)
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    dead = f"http://127.0.0.1:{closed_port()}/feed.xml"
    bad = [dead, f"{server.base}/feeds/broken.xml", f"{server.base}/feeds/error.xml", f"{server.base}/feeds/slow.xml",
           f"{server.base}/feeds/cut.xml", f"{server.base}/loop", f"{server.base}/missing.xml"]
    service = service_with(online, (good, "feed"), *[(url, "feed") for url in bad])

    report = service.sync()
    assert report.added == 10
    errors = {failure["url"]: failure["error"] for failure in report.failed}
    assert set(errors) == set(bad), errors
    assert all(one_sentence(error) and error.startswith(url) for url, error in errors.items()), errors
    assert "could not be reached" in errors[dead]
    assert "HTTP 500" in errors[f"{server.base}/feeds/error.xml"] and "HTTP 404" in errors[f"{server.base}/missing.xml"]
    assert "within 1 s" in errors[f"{server.base}/feeds/slow.xml"]
    assert "redirected more than 3 times" in errors[f"{server.base}/loop"]
    assert "RSS or Atom" in errors[f"{server.base}/feeds/broken.xml"]
    listed = {row["url"]: row for row in service.sources()}
    assert listed[dead]["last_error"] == errors[dead] and listed[good]["last_error"] is None

    # The good feed dies later: what it gave stays stored, and it syncs again once it is back.
    stored = manifest(service)
    route = server.routes.pop("/feeds/valley.xml")
    later = service.sync()
    assert f"{good}" in {failure["url"] for failure in later.failed}
    assert manifest(service) == stored
    server.routes["/feeds/valley.xml"] = route
    back = service.sync()
    assert good not in {failure["url"] for failure in back.failed} and len(service.documents()) == 10


def test_network_off_opens_no_connection(server, fake_settings, monkeypatch):
    registry = SourceRegistry(fake_settings.data_dir)
    registry.add(server.feed("quiet", items=3), "feed")
    service = RagService(fake_settings)
    assert fake_settings.allow_network is False  # the default
    connects = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connects.append(address) or real_connect(self, address))

    with pytest.raises(NetworkDisabled, match="NEWSRAG_ALLOW_NETWORK=true"):
        service.sync()
    with pytest.raises(NetworkDisabled):
        service.add_source(f"{server.base}/feeds/quiet.xml")
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(fake_settings.data_dir))
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.delenv("NEWSRAG_ALLOW_NETWORK", raising=False)
    for args in (["sync"], ["sources", "add", f"{server.base}/other.xml"]):
        from rag.cli import app

        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2 and NETWORK_OFF in " ".join(result.output.split()), result.output
    assert connects == [] and server.connections == 0 and service.documents() == []


def test_ingested_files_never_fetch_even_with_network_on(server, online, tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSRAG_ALLOW_NETWORK", "true")
    url = server.feed("files", items=3)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "feed.xml").write_bytes(server.routes["/feeds/files.xml"].body)
    (tmp_path / "in" / "page.html").write_text(
        f"<html><head><link rel='canonical' href='{url}'><img src='{server.base}/pixel.gif'></head><body><article>"
        f"<p>{prose('file', 1)[0]} See {server.base}/files/0.html for more.</p></article></body></html>")
    report = RagService(online).ingest([tmp_path / "in"])
    assert report.added == 4 and report.failed == []
    assert server.connections == 0


def test_redirects_robots_size_and_slow_pages(server, online):
    url = server.feed("metro", items=6, private=(1,))
    server.routes["/old-feed"] = Route(status=301, headers={"Location": "/feeds/metro.xml"})
    server.routes["/metro/2.html"].delay = 3.0  # slower than the 1 s budget
    server.routes["/metro/3.html"].body = b"<html><body><p>" + b"word " * 300_000 + b"</p></body></html>"  # 1.5 MB
    server.routes["/metro/4.html"] = Route(status=302, headers={"Location": "/metro/4-moved.html"})
    server.article("/metro/4-moved.html", "metro story 4", prose("metro-4-moved"))
    server.routes["/metro/5.html"] = Route(b"%PDF-1.4 not a page", "application/pdf")
    service = service_with(online, (f"{server.base}/old-feed", "feed"))

    report = service.sync()
    assert report.failed == [] and report.added == 6  # pages that could not be read are stored from the feed's text
    assert "/private/metro/1.html" not in server.paths()  # robots.txt disallows it: never requested
    notes = " ".join(report.from_feed)
    assert len(report.from_feed) == 4 and all(one_sentence(note) for note in report.from_feed)
    assert "robots.txt" in notes and "within 1 s" in notes and "larger than 1 MB" in notes and "application/pdf" in notes
    texts = {record["url"].rsplit("/", 1)[-1]: record["text"] for record in manifest(service).values()}
    assert prose("metro-4-moved")[0][:40] in texts["4.html"]  # followed the redirect to the page
    assert texts["1.html"].startswith("Teaser 1 of metro")
    # A source with a page stored from its feed is read again next time (its validators are not kept).
    server.log.clear()
    service.sync()
    assert "/feeds/metro.xml" in server.paths() and "/metro/0.html" not in server.paths()


def test_requests_to_one_host_are_spaced_and_a_sitemap_and_a_page_sync(server, online):
    for n in range(4):
        server.article(f"/news/{n}.html", f"sitemap story {n}", prose(f"sitemap-{n}"))
    server.article("/about.html", "a single page", prose("single"))
    urls = "".join(f"<url><loc>{server.base}/news/{n}.html</loc><lastmod>2026-02-0{n + 1}</lastmod></url>" for n in range(4))
    server.routes["/sitemap.xml"] = Route(
        f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>".encode(),
        "application/xml")
    spaced = online.model_copy(update={"fetch": FETCH.model_copy(update={"host_interval_s": 0.2})})
    service = service_with(spaced, (f"{server.base}/sitemap.xml", "sitemap"), (f"{server.base}/about.html", "page"))

    report = service.sync()
    assert (report.added, report.failed) == (5, [])
    arrivals = [at for at, _, _ in server.log]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:])]
    assert len(arrivals) == 1 + 1 + 4 + 1 and min(gaps) >= 0.18, gaps
    server.log.clear()
    again = service.sync()
    assert (again.added, again.updated, again.not_modified) == (0, 0, 2)
    assert sorted(server.paths()) == ["/about.html", "/robots.txt", "/sitemap.xml"]


def test_sources_add_detects_the_kind_and_the_cli_lists_and_removes(server, online, monkeypatch):
    feed = server.feed("kinds", items=2)
    server.routes["/sitemap.xml"] = Route(b"<?xml version='1.0'?><urlset><url><loc>http://x/</loc></url></urlset>",
                                          "application/xml")
    server.routes["/notes.txt"] = Route(b"just text", "text/plain")
    service = RagService(online)
    assert service.add_source(feed).kind == "feed"
    assert service.add_source(f"{server.base}/sitemap.xml").kind == "sitemap"
    server.article("/solo.html", "a page of its own", prose("solo"))
    assert service.add_source(f"{server.base}/solo.html").kind == "page"
    assert service.add_source(f"{server.base}/notes.txt", kind="page").kind == "page"
    with pytest.raises(ValueError, match="already a source"):
        service.add_source(feed)

    from rag.cli import app

    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(online.data_dir))
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.setenv("NEWSRAG_ALLOW_NETWORK", "true")
    monkeypatch.setenv("NEWSRAG_FETCH__HOST_INTERVAL_S", "0")
    runner = CliRunner()
    result = runner.invoke(app, ["sources", "add", f"{server.base}/missing"])
    assert result.exit_code == 2 and "HTTP 404" in result.output and "nothing was added" in result.output
    assert runner.invoke(app, ["sources", "remove", f"{server.base}/notes.txt"]).exit_code == 0
    assert runner.invoke(app, ["sources", "remove", f"{server.base}/sitemap.xml"]).exit_code == 0
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 0, result.output
    assert "added 3" in result.output
    listed = runner.invoke(app, ["sources", "list"])
    assert f"{feed}  feed, 2 articles" in listed.output and "2 sources" in listed.output
