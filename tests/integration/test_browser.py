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


HOSTILE = [  # (the name the browser sends, the bytes): an executable passed off as text, and one under its own type
    ("../../evil.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64 + b"\x90\xcd\x80" * 40),
    ("../../evil.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" * 8),
]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """`python app.py` with its data directory two levels deep, so `../../` from it stays inside a folder the
    test can search, and Gradio's cache of what the browser sent in a folder of its own."""
    import os
    import sys

    from tests.integration.conftest import free_port, serving

    root = tmp_path_factory.mktemp("hostile")
    data_dir, gradio_cache = root / "a" / "b" / "store", root / "gradio-cache"
    port = free_port()
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(data_dir), "NEWSRAG_PORT": str(port), "NEWSRAG_HOST": "127.0.0.1",
           "GRADIO_TEMP_DIR": str(gradio_cache)}
    for variable in ("NEWSRAG_CHROMA_URL", "NEWSRAG_API_KEY", "NEWSRAG_LLM"):
        env.pop(variable, None)
    app = Path(__file__).resolve().parents[2] / "app.py"
    with serving([sys.executable, str(app)], port, root / "server.log", env=env, timeout=180):
        yield f"http://127.0.0.1:{port}", root, data_dir, gradio_cache


def test_hostile_upload_through_the_ui_is_refused_like_the_api_refuses_it(hostile_server, page):
    import httpx

    server, root, data_dir, gradio_cache = hostile_server
    before = [d["id"] for d in httpx.get(server + "/v1/documents", timeout=60).json()]
    sentences = []
    for name, data in HOSTILE:
        response = httpx.post(server + "/v1/documents", files={"files": (name, data, "text/plain")}, timeout=60)
        assert response.status_code == 415, response.text
        sentences.append(response.json()["error"]["message"])
    assert sentences[0] == "evil.txt looks like a binary file, not text."
    assert sentences[1].startswith("evil.exe has an unsupported type")

    page.goto(server + "/", wait_until="networkidle")
    page.get_by_role("tab", name="Library").click()
    page.locator("#nr-upload input[type=file]").set_input_files(
        [{"name": name, "mimeType": "text/plain", "buffer": data} for name, data in HOSTILE])
    report = page.locator("#nr-upload-report", has_text="failed 2")
    report.wait_for(timeout=60_000)
    lines = [line.strip() for line in report.inner_text().splitlines() if line.strip()]
    assert lines[0] == "added 0, updated 0, unchanged 0, duplicates 0, failed 2"
    assert lines[1:] == [f"{sentence.split(' ', 1)[0]}: {sentence}" for sentence in sentences]

    assert [d["id"] for d in httpx.get(server + "/v1/documents", timeout=60).json()] == before  # nothing ingested
    assert not [p for p in (data_dir / "uploads").rglob("*") if p.is_file()]  # nothing kept in the data directory
    # The only copies anywhere are what Gradio's cache holds of the browser's bytes: none in or beside the
    # data directory, none where `../../` would point.
    copies = [p for p in root.rglob("evil*") if p.is_file()]
    assert all(gradio_cache in p.parents for p in copies), copies
