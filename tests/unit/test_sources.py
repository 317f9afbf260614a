"""The pure parts of web sync (rag/sources.py): intervals, rate limit, robots.txt, size limit, kinds, settings,
and the fetcher's guards driven through httpx's in-memory transport (no socket is opened)."""

from __future__ import annotations

import httpx
import pytest

from rag.config import FetchPolicy, Settings
from rag.sources import (
    NETWORK_OFF,
    Fetcher,
    FetchError,
    HostRateLimiter,
    NetworkDisabled,
    ResponseTooLarge,
    SourceRegistry,
    add_source,
    check_url,
    detect_kind,
    parse_interval,
    read_limited,
    robots_rules,
    run_every,
    sitemap_links,
)

AGENT = FetchPolicy().user_agent


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize("text, seconds", [("15m", 900), ("30s", 30), ("2h", 7200), ("1h30m", 5400), ("900", 900),
                                           (" 1D ", 86400)])
def test_parse_interval(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "15x", "0", "0m", "15m and more"])
def test_parse_interval_refuses_with_a_sentence(text):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def test_rate_limiter_spaces_requests_to_one_host_only():
    clock = FakeClock()
    limiter = HostRateLimiter(2.0, clock=clock, sleep=clock.sleep)
    assert limiter.wait("a.example") == 0
    assert limiter.wait("b.example") == 0  # another host is not held back
    clock.now += 0.5
    assert limiter.wait("a.example") == pytest.approx(1.5)
    clock.now += 5
    assert limiter.wait("a.example") == 0
    assert limiter.wait("a.example", delay=10) == pytest.approx(10)  # a longer Crawl-delay wins
    assert clock.slept == [pytest.approx(1.5), pytest.approx(10)]


def test_robots_rules_follow_rfc_9309():
    found = robots_rules(200, b"User-agent: *\nDisallow: /private/\nCrawl-delay: 3\n\nUser-agent: newsrag\nDisallow: /no-news/\n")
    assert found.can_fetch(AGENT, "http://x.example/news/1.html")
    assert not found.can_fetch(AGENT, "http://x.example/no-news/1.html")  # the group naming newsrag applies
    assert found.can_fetch(AGENT, "http://x.example/private/1.html")  # ...instead of the * group
    assert robots_rules(200, b"User-agent: *\nDisallow: /\n").can_fetch(AGENT, "http://x.example/a") is False
    assert robots_rules(404, b"").can_fetch(AGENT, "http://x.example/a")  # no robots.txt: everything allowed
    assert robots_rules(410, b"").can_fetch(AGENT, "http://x.example/a")
    for status in (401, 403, 500, 503):  # refused or failing: nothing allowed
        assert not robots_rules(status, b"User-agent: *\nAllow: /\n").can_fetch(AGENT, "http://x.example/a"), status
    assert robots_rules(200, b"User-agent: *\nCrawl-delay: 3\n").crawl_delay(AGENT) == 3


def test_read_limited_stops_past_the_limit_and_the_deadline():
    assert read_limited([b"ab", b"cd"], 4) == b"abcd"
    with pytest.raises(ResponseTooLarge):
        read_limited([b"ab", b"cd", b"e"], 4)
    clock = FakeClock()

    def trickle():
        for _ in range(10):
            clock.now += 1
            yield b"x"

    with pytest.raises(TimeoutError):
        read_limited(trickle(), 100, deadline=clock.now + 3.5, clock=clock)


def test_detect_kind_and_sitemap_links():
    rss = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>a</title></item></channel></rss>"
    assert detect_kind("application/rss+xml", rss) == "feed"
    assert detect_kind("text/xml", b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>") == "sitemap"
    assert detect_kind("text/html; charset=utf-8", b"<p>hello</p>") == "page"
    assert detect_kind("", b"<!DOCTYPE html><html><body>x</body></html>") == "page"
    assert detect_kind("text/plain", b"just text") is None
    pages, nested = sitemap_links(
        b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<url><loc> http://x.example/a </loc><lastmod>2026-02-01</lastmod></url><url><loc>http://x.example/b</loc></url>"
        b"<url><lastmod>2026-01-01</lastmod></url></urlset>")
    assert (pages, nested) == ([("http://x.example/a", "2026-02-01"), ("http://x.example/b", None)], [])
    assert sitemap_links(b"<sitemapindex><sitemap><loc>http://x.example/s1.xml</loc></sitemap></sitemapindex>") == \
        ([], ["http://x.example/s1.xml"])
    with pytest.raises(ValueError, match="not a readable sitemap"):
        sitemap_links(b"<urlset><url>")


def test_sitemap_entities_are_not_expanded():
    evil = (b"<?xml version='1.0'?><!DOCTYPE u [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
            b"<urlset><url><loc>http://x.example/&x;</loc></url></urlset>")
    pages, _ = sitemap_links(evil)
    assert all("root:" not in url for url, _ in pages)


@pytest.mark.parametrize("url", ["ftp://x.example/feed", "file:///etc/passwd", "x.example/feed", "http://", "javascript:alert(1)"])
def test_check_url_takes_only_web_addresses(url):
    with pytest.raises(ValueError, match="not a web address"):
        check_url(url)


def test_settings_network_is_off_by_default_and_fetch_fields_come_from_the_environment(monkeypatch):
    settings = Settings(_env_file=None)
    assert settings.allow_network is False
    assert (settings.fetch.timeout_s, settings.fetch.max_response_mb, settings.fetch.host_interval_s,
            settings.fetch.max_redirects) == (15.0, 5.0, 1.0, 5)
    monkeypatch.setenv("NEWSRAG_ALLOW_NETWORK", "true")
    monkeypatch.setenv("NEWSRAG_FETCH__HOST_INTERVAL_S", "2.5")
    settings = Settings(_env_file=None)
    assert settings.allow_network is True and settings.fetch.host_interval_s == 2.5
    monkeypatch.setenv("NEWSRAG_FETCH__TIMEOUT_S", "0")
    with pytest.raises(ValueError):
        Settings(_env_file=None)


def test_network_off_refuses_before_any_client_exists(tmp_path, monkeypatch):
    def no_client(*args, **kwargs):
        raise AssertionError("an HTTP client was created with the network off")

    monkeypatch.setattr(httpx, "Client", no_client)
    with pytest.raises(NetworkDisabled, match="NEWSRAG_ALLOW_NETWORK=true"):
        Fetcher(FetchPolicy(), allow_network=False)
    settings = Settings(data_dir=tmp_path, _env_file=None)
    with pytest.raises(NetworkDisabled) as refused:
        add_source(SourceRegistry(tmp_path), settings, "http://x.example/feed.xml", "feed")
    assert str(refused.value) == NETWORK_OFF and not (tmp_path / "sources.json").exists()


def test_registry_persists_refuses_twins_and_removes(tmp_path):
    registry = SourceRegistry(tmp_path)
    registry.add("http://x.example/feed.xml", "feed")
    registry.pages["http://x.example/1"] = {"id": "a", "source": "http://x.example/feed.xml"}
    registry.save()
    again = SourceRegistry(tmp_path)
    assert [(s.url, s.kind) for s in again.sources] == [("http://x.example/feed.xml", "feed")]
    with pytest.raises(ValueError, match="already a source"):
        again.add("http://x.example/feed.xml", "page")
    assert again.remove("http://x.example/feed.xml") and not again.remove("http://x.example/feed.xml")
    assert SourceRegistry(tmp_path).sources == [] and SourceRegistry(tmp_path).pages == {}


def test_run_every_repeats_at_the_interval():
    calls, sleeps = [], []
    run_every(900, lambda: calls.append(1), sleep=sleeps.append, rounds=3)
    assert len(calls) == 3 and len(sleeps) == 2 and all(899 < s <= 900 for s in sleeps)


# --- the fetcher's guards, over httpx.MockTransport ---------------------------------------------------


def fetcher(handler, **policy) -> tuple[Fetcher, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text="User-agent: *\nDisallow: /private/\n")
        return handler(request)

    clock = FakeClock()
    limiter = HostRateLimiter(policy.pop("host_interval_s", 0.0), clock=clock, sleep=clock.sleep)
    return Fetcher(FetchPolicy(**policy), True, limiter=limiter, transport=httpx.MockTransport(record)), seen


def test_fetcher_sends_validators_and_reports_304():
    def handler(request):
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(200, headers={"ETag": '"v1"'}, text="<p>hi</p>")

    f, seen = fetcher(handler)
    first = f.get("http://x.example/a")
    assert first.status == 200 and first.headers["etag"] == '"v1"'
    again = f.get("http://x.example/a", etag='"v1"', last_modified="Mon, 02 Feb 2026 10:00:00 GMT")
    assert again.not_modified
    assert seen[-1].headers["if-modified-since"] == "Mon, 02 Feb 2026 10:00:00 GMT"
    assert [r.url.path for r in seen].count("/robots.txt") == 1  # read once per site


def test_fetcher_obeys_robots_txt_without_requesting_the_page():
    f, seen = fetcher(lambda request: httpx.Response(200, text="secret"))
    with pytest.raises(FetchError, match="robots.txt"):
        f.get("http://x.example/private/a")
    assert [r.url.path for r in seen] == ["/robots.txt"]


def test_fetcher_follows_redirects_within_the_limit():
    def handler(request):
        hops = int(request.url.params.get("n", "0"))
        if hops < 4:
            return httpx.Response(302, headers={"Location": f"/r?n={hops + 1}"})
        return httpx.Response(200, text="arrived")

    assert fetcher(handler, max_redirects=4)[0].get("http://x.example/r").body == b"arrived"
    with pytest.raises(FetchError, match="redirected more than 3 times"):
        fetcher(handler, max_redirects=3)[0].get("http://x.example/r")
    to_file = fetcher(lambda request: httpx.Response(301, headers={"Location": "file:///etc/passwd"}))[0]
    with pytest.raises(FetchError, match="not a web address"):
        to_file.get("http://x.example/r")


def test_fetcher_refuses_a_response_over_the_size_limit():
    big = b"x" * 2_000_001
    declared = fetcher(lambda request: httpx.Response(200, content=big), max_response_mb=2)[0]
    with pytest.raises(FetchError, match="larger than 2 MB"):
        declared.get("http://x.example/big")

    def undeclared(request):  # streamed without a Content-Length
        return httpx.Response(200, content=(big[i:i + 65536] for i in range(0, len(big), 65536)))

    with pytest.raises(FetchError, match="larger than 2 MB"):
        fetcher(undeclared, max_response_mb=2)[0].get("http://x.example/big")
    assert fetcher(lambda request: httpx.Response(200, content=big[:-2]), max_response_mb=2)[0].get("http://x.example/ok").body


def test_fetcher_turns_http_errors_and_timeouts_into_sentences():
    with pytest.raises(FetchError, match="answered HTTP 503 Service Unavailable"):
        fetcher(lambda request: httpx.Response(503))[0].get("http://x.example/a")

    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(FetchError, match="did not answer within 15 s"):
        fetcher(slow)[0].get("http://x.example/a")

    def refused(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(FetchError, match=r"could not be reached \(Connection refused\)"):
        fetcher(refused)[0].get("http://x.example/a")


def test_fetcher_rate_limits_per_host():
    f, _ = fetcher(lambda request: httpx.Response(200, text="ok"), host_interval_s=1.0)
    for _ in range(3):
        f.get("http://x.example/a")
    # robots.txt, then three pages: three waits of a second on one host
    assert f.limiter.sleep.__self__.slept == [pytest.approx(1.0)] * 3


def test_a_declared_size_over_the_limit_is_refused_before_the_body_is_read():
    read = []

    def body():
        read.append(1)
        yield b"x" * 100

    f, _ = fetcher(lambda request: httpx.Response(200, headers={"Content-Length": "9000000"}, content=body()),
                   max_response_mb=2)
    with pytest.raises(FetchError, match="larger than 2 MB"):
        f.get("http://x.example/big")
    assert read == []


def test_sync_with_the_network_off_reads_nothing_and_ingests_nothing(tmp_path):
    from rag.sources import sync_sources

    SourceRegistry(tmp_path).add("http://x.example/feed.xml", "feed")
    touched = []
    with pytest.raises(NetworkDisabled):
        sync_sources(Settings(data_dir=tmp_path, _env_file=None), ingest=touched.append,
                     stored_hashes=lambda: touched.append("hashes") or {})
    assert touched == []
