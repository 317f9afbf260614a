"""Hostile uploads, URLs that are never fetched, API keys that stay secret, loopback by default."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag.config import Settings
from rag.service import RagService
from tests.fakes import FakeChatModel
from tests.unit.test_documents import minimal_pdf

KEY = "k3y-Zq8Vw2-never-logged"


def make_app(settings: Settings, **overrides):
    from app import create_app

    settings = settings.model_copy(update={"llm": "fake", **overrides})
    service = RagService(settings, llm=FakeChatModel(replies=["A ferry sank near Odesa [1]."]))
    return create_app(settings, service)


@pytest.fixture
def client(fake_settings):
    return TestClient(make_app(fake_settings))


def upload(client, *files: tuple[str, bytes]):
    return client.post("/v1/documents", files=[("files", (name, data, "application/octet-stream")) for name, data in files])


def one_sentence(message: str) -> bool:
    return message.endswith(".") and "\n" not in message and message.count(". ") == 0


# --- uploads: type by content ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, phrase",
    [
        ("report.pdf", b"<html><body>Not a PDF at all.</body></html>", "does not start with %PDF-"),
        ("story.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary file"),
        ("story.md", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "binary file"),
        ("page.html", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "binary file"),
        ("story.txt", b"abc \x81\x8d\x8f\x90\x9d def", "neither UTF-8 nor Windows-1252"),
        ("feed.jsonl", b"id,title,text\n1,A,B\n", "not JSON Lines"),
        ("feed.json", b"{'id': 1, 'text': 'single quotes'}", "is not JSON"),
    ],
)
def test_upload_whose_content_does_not_match_its_type_is_415(client, fake_settings, name, data, phrase):
    response = upload(client, (name, data))
    assert response.status_code == 415
    message = response.json()["error"]["message"]
    assert message.startswith(name) and phrase in message and one_sentence(message), message
    assert not [p for p in (fake_settings.data_dir / "uploads").rglob("*") if p.is_file()], "a refused upload was kept"


def test_upload_of_matching_content_is_accepted(client):
    response = upload(
        client,
        ("report.pdf", minimal_pdf(["A PDF report on grain exports from Odesa."])),
        ("latin1.txt", b"The caf\xe9 reopened, its owner called it \x93a small victory\x94."),
        ("page.html", b"<html><body><p>A page about the pontoon bridge.</p></body></html>"),
        ("feed.jsonl", b'{"id": "f1", "text": "A feed story about ports."}\nnot json\n'),
        ("feed.json", b'[{"id": "f2", "text": "A second feed story, about trains."}]'),
    )
    data = response.json()
    assert response.status_code == 200 and data["added"] == 5, data
    assert [f["path"] for f in data["failed"]] == ["feed.jsonl (line 2)"]  # one bad line, the rest of the feed in


def test_mismatched_upload_beside_a_good_one_is_reported_and_the_good_one_lands(client):
    response = upload(client, ("fake.pdf", b"GIF89a not a pdf"), ("good.txt", b"A story about the ferry timetable."))
    data = response.json()
    assert response.status_code == 200 and data["added"] == 1
    assert data["failed"] == [{"path": "fake.pdf", "error": "fake.pdf does not start with %PDF-, so it is not a PDF."}]


def test_ui_uploads_stop_at_the_same_size_limit(fake_settings):
    client = TestClient(make_app(fake_settings, max_file_mb=0.001))
    big = client.post("/gradio_api/upload", files=[("files", ("big.txt", b"x" * 5000, "text/plain"))])
    assert big.status_code == 413 and "1000 bytes" in big.text
    assert client.post("/gradio_api/upload", files=[("files", ("small.txt", b"x" * 50, "text/plain"))]).status_code == 200


# --- uploads: names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, stored",
    [
        ("../../../escape.txt", "escape.txt"),
        ("..\\..\\windows escape.txt", "windows escape.txt"),
        ("/etc/cron.d/absolute.txt", "absolute.txt"),
        ("C:\\Users\\x\\drive.txt", "drive.txt"),
        ("Київ звіт 2022.txt", "Київ звіт 2022.txt"),
        ("my story .. part 2.txt", "my story .. part 2.txt"),
        ("evil\u202etxt.md", "evil_txt.md"),
    ],
)
def test_upload_names_are_sanitised_and_stay_in_the_upload_folder(client, fake_settings, name, stored):
    response = upload(client, (name, b"An article about a ferry on the river."))
    assert response.status_code == 200, response.json()
    uploads = (fake_settings.data_dir / "uploads").resolve()
    written = [p for p in uploads.rglob("*") if p.is_file()]
    assert [p.name for p in written] == [stored]
    assert all(p.resolve().parent.parent == uploads for p in written)
    assert [d["id"] for d in client.get("/v1/documents").json()] == [stored.rsplit(".", 1)[0]]


def test_two_uploads_whose_names_sanitise_alike_never_overwrite_each_other(client):
    response = upload(client, ("a/story.txt", b"The first story, about a bridge."), ("b/story.txt", b"The second one, about a dam."))
    data = response.json()
    assert data["added"] == 1 and len(data["failed"]) == 1
    assert "same name as another file" in data["failed"][0]["error"]
    assert "bridge" in client.get("/v1/documents/story").json()["text"]


# --- URLs are data, never fetched -----------------------------------------------------------------


@pytest.fixture
def connection_attempts(monkeypatch):
    """Every DNS lookup or connection attempted, recorded (and refused) rather than only refused, so a
    code path that swallowed the refusal would still be caught."""
    attempts: list[str] = []

    def refuse(kind):
        def record(*args, **kwargs):
            attempts.append(f"{kind} {args[1:] if kind == 'connect' else args}")
            raise OSError("network access blocked in tests")
        return record

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    return attempts


LINKED = {
    "feed.jsonl": json.dumps({"id": "linked-feed", "text": "A feed story about a dam.", "url": "http://198.51.100.7/story"}).encode(),
    "page.html": b"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://198.51.100.7/x.dtd">
        <?xml-stylesheet href="http://198.51.100.7/s.xsl"?>
        <html><head><link rel="canonical" href="http://198.51.100.7/page">
        <link rel="stylesheet" href="http://198.51.100.7/s.css"><script src="http://198.51.100.7/s.js"></script></head>
        <body><img src="http://198.51.100.7/i.png"><iframe src="http://198.51.100.7/f"></iframe>
        <p>A page about the ferry, with <a href="http://198.51.100.7/more">a link</a>.</p></body></html>""",
    "note.md": b"---\nurl: http://198.51.100.7/note\n---\nA note about a ferry, see ![map](http://198.51.100.7/m.png).\n",
}


def test_ingesting_articles_with_urls_opens_no_connection(fake_service, tmp_path, connection_attempts):
    for name, data in LINKED.items():
        (tmp_path / name).write_bytes(data)
    report = fake_service.ingest([tmp_path])
    assert (report.added, report.failed) == (3, [])
    assert connection_attempts == []
    assert fake_service.article("linked-feed")["url"] == "http://198.51.100.7/story"  # kept as metadata only
    assert fake_service.article("page")["url"] == "http://198.51.100.7/page"


def test_uploading_articles_with_urls_opens_no_connection(client, connection_attempts):
    response = upload(client, *LINKED.items())
    assert response.status_code == 200 and response.json()["added"] == 3
    assert connection_attempts == []


def test_the_url_recorder_sees_a_fetch(connection_attempts):
    """The recorder above can fail: a fetch that swallows its error is still recorded."""
    import urllib.request

    with pytest.raises(OSError):
        urllib.request.urlopen("http://198.51.100.7/story", timeout=1)
    assert connection_attempts


# --- API keys -------------------------------------------------------------------------------------


def test_settings_never_show_keys(monkeypatch):
    monkeypatch.setenv("NEWSRAG_API_KEY", KEY)
    monkeypatch.setenv("NEWSRAG_OPENAI_API_KEY", "sk-" + KEY)
    settings = Settings(_env_file=None)
    assert settings.api_key.get_secret_value() == KEY and settings.openai_api_key.get_secret_value() == "sk-" + KEY
    for shown in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert KEY not in shown


def test_api_key_is_compared_in_constant_time(fake_settings, monkeypatch):
    import hmac

    import rag.api

    compared, real = [], hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(rag.api.hmac, "compare_digest", spy)
    client = TestClient(make_app(fake_settings, api_key=SecretStr(KEY)))
    assert client.post("/v1/search", json={"query": "ferry"}, headers={"Authorization": "Bearer guess"}).status_code == 401
    assert client.post("/login", data={"username": "me", "password": "guess2"}).status_code == 400  # the UI's login
    assert client.post("/login", data={"username": "me", "password": KEY}).status_code == 200
    assert compared == [(b"guess", KEY.encode()), (b"guess2", KEY.encode()), (KEY.encode(), KEY.encode())]


@pytest.fixture
def unix_server(fake_settings, tmp_path):
    """The real app under a real uvicorn, over a Unix socket (unit tests may open no network socket)."""
    import httpx
    import uvicorn

    path = tmp_path / "newsrag.sock"
    app = make_app(fake_settings, api_key=SecretStr(KEY))
    # log_config=None: uvicorn's loggers propagate to the root logger, where caplog listens.
    server = uvicorn.Server(uvicorn.Config(app, uds=str(path), log_config=None, log_level="debug", access_log=True))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(path)), base_url="http://newsrag") as http:
        yield http
    server.should_exit = True
    thread.join(10)


def test_keys_never_appear_in_logs_or_errors(unix_server, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "wr0ng-" + KEY[::-1]
    refused = unix_server.post("/v1/search", json={"query": "ferry"}, headers={"Authorization": f"Bearer {wrong}"})
    allowed = unix_server.post("/v1/search", json={"query": "ferry"}, headers={"Authorization": f"Bearer {KEY}"})
    login_refused = unix_server.post("/login", data={"username": "me", "password": wrong})
    login_allowed = unix_server.post("/login", data={"username": "me", "password": KEY})
    assert [r.status_code for r in (refused, allowed, login_refused, login_allowed)] == [401, 200, 400, 200]
    for response in (refused, login_refused):
        assert KEY not in response.text and wrong not in response.text
    assert '"POST /v1/search HTTP/1.1" 401' in caplog.text  # the access log was captured: its silence means something
    logged = caplog.text + "".join(r.getMessage() + str(r.exc_text) for r in caplog.records)
    assert KEY not in logged and wrong not in logged


# --- where the server listens ---------------------------------------------------------------------


def test_server_binds_to_loopback_by_default(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from rag.cli import app

    for name in ("NEWSRAG_HOST", "NEWSRAG_PORT", "NEWSRAG_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NEWSRAG_EMBEDDING", "fake")
    monkeypatch.setenv("NEWSRAG_DATA_DIR", str(tmp_path / "store"))
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    bound = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kwargs: bound.update(host=host, port=port))
    result = CliRunner().invoke(app, ["serve", "--no-sample"])
    assert result.exit_code == 0, result.output
    assert bound == {"host": "127.0.0.1", "port": 7860}
    assert Settings(_env_file=None).host == "127.0.0.1"
