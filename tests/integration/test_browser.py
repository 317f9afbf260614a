"""The web UI in a real browser: Debian's chromium driven by Playwright, against `python app.py`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "chat.png"


@pytest.fixture(scope="module")
def page():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed and could not be: install it with `apt-get install -y chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield browser.new_page()
        browser.close()


def test_ask_in_the_browser_streams_an_answer_with_source_cards(newsrag_server, page):
    server = newsrag_server
    page.goto(server + "/", wait_until="networkidle")
    page.locator("#nr-question textarea").fill("How many civilians remain in Toretsk?")
    page.locator("#nr-ask").click()
    card = page.locator("#nr-sources [data-testid=source-card]").first
    card.wait_for(timeout=90_000)
    assert "Toretsk" in card.inner_text()
    assert card.locator("mark").count() == 1  # the quoted span is highlighted
    chat = page.locator("#nr-chat").inner_text()
    assert "1,400" in chat
    # The README shows this screenshot; every run of the test refreshes it.
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000


def test_article_text_with_markup_is_shown_as_text(newsrag_server, page):
    server = newsrag_server
    import httpx

    hostile = (" date 2022-07-02 The zeppelin mayor said <script>window.pwned=1</script> "
               "<img src=x onerror=\"window.pwned=2\"> and [click](javascript:alert(1)) about the zeppelin harbour.")
    response = httpx.post(server + "/v1/documents", files={"files": ("zeppelin.txt", hostile.encode(), "text/plain")}, timeout=60)
    assert response.status_code == 200, response.text
    page.goto(server + "/", wait_until="networkidle")
    page.locator("#nr-question textarea").fill("What did the zeppelin mayor say about the zeppelin harbour?")
    page.locator("#nr-ask").click()
    page.locator("#nr-sources [data-testid=source-card]").first.wait_for(timeout=90_000)
    assert page.evaluate("window.pwned") is None
    assert page.locator("#nr-sources script").count() == 0 and page.locator("#nr-sources img").count() == 0


def test_briefing_tab_generates_a_cited_briefing(newsrag_server, page):
    page.goto(newsrag_server + "/", wait_until="networkidle")
    page.get_by_role("tab", name="Briefing").click()
    page.locator("#nr-topic textarea").fill("Battle for Sievierodonetsk")
    page.locator("#nr-generate").click()
    page.locator("#nr-briefing h4", has_text="Timeline").wait_for(timeout=120_000)
    text = page.locator("#nr-briefing").inner_text()
    assert "Who said what" in text and "Sources" in text and "[1]" in text
