"""HTTP API through FastAPI's TestClient, with fake embeddings and a scripted fake model."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS
from tests.fakes import FakeChatModel

TORETSK = "How many civilians remain in Toretsk?"


def make_client(fake_settings, **overrides):
    from app import create_app

    settings = fake_settings.model_copy(update={"llm": "fake", **overrides})
    service = RagService(settings, llm=FakeChatModel(replies=["Some 1,400 civilians remain in Toretsk [1]."]))
    service.ingest([SAMPLE_CORPUS])
    return TestClient(create_app(settings, service))


@pytest.fixture
def client(fake_settings):
    return make_client(fake_settings)


def test_health(client):
    data = client.get("/health").json()
    assert data["status"] == "ok" and data["articles"] == 5 and data["passages"] > 5


def test_health_counts_articles_without_listing_them_and_once_per_store_version(client, monkeypatch):
    """A probe must not read every article's record (22 s at 59,000 articles): the count is kept per version."""
    service = client.app.state.service
    monkeypatch.setattr(service.store, "articles", lambda *a, **k: pytest.fail("/health listed the articles"))
    counted = []
    read_ids = service.store.article_ids
    monkeypatch.setattr(service.store, "article_ids", lambda *a, **k: counted.append(1) or read_ids(*a, **k))
    assert [client.get("/health").json()["articles"] for _ in range(3)] == [5, 5, 5]
    assert len(counted) <= 1
    monkeypatch.undo()
    assert service.delete(service.documents()[0]["id"])
    assert client.get("/health").json()["articles"] == 4


def test_ask_json(client):
    data = client.post("/v1/ask", json={"question": TORETSK}).json()
    assert "1,400" in data["answer"] and not data["abstained"]
    assert data["citations"][0]["article_id"] == "004_8551b460ac1e439b"


def test_ask_stream_sends_tokens_then_the_verified_answer(client):
    with client.stream("POST", "/v1/ask?stream=true", json={"question": TORETSK}) as response:
        body = "".join(response.iter_text())
    events = [line.split(":", 1)[1].strip() for line in body.splitlines() if line.startswith("event:")]
    assert events[0] == "token" and events[-1] == "answer"
    final = json.loads([line for line in body.splitlines() if line.startswith("data:")][-1][5:])
    assert "1,400" in final["answer"] and final["citations"]


def test_search_and_filters(client):
    rows = client.post("/v1/search", json={"query": "Toretsk civilians", "k": 2}).json()
    assert len(rows) == 2 and rows[0]["article_id"] == "004_8551b460ac1e439b"
    assert client.post("/v1/search", json={"query": "Toretsk", "since": "2031-01-01"}).json() == []
    bad = client.post("/v1/search", json={"query": "Toretsk", "since": "someday"})
    assert bad.status_code == 400 and "--since must be a date" in bad.json()["error"]["message"]


def test_documents_upload_and_delete(client):
    assert len(client.get("/v1/documents").json()) == 5
    files = [("files", ("../../etc/new story.txt", b" date 2022-07-01 A ferry sank near Odesa on Monday.", "text/plain")),
             ("files", ("empty.txt", b"", "text/plain"))]
    data = client.post("/v1/documents", files=files).json()
    assert data["added"] == 1 and len(data["failed"]) == 1 and data["failed"][0]["path"] == "empty.txt"
    ids = {d["id"] for d in client.get("/v1/documents").json()}
    assert "new story" in ids
    assert client.get("/v1/documents/new story").json()["text"].startswith("A ferry sank")
    assert client.delete("/v1/documents/new story").status_code == 204
    assert client.delete("/v1/documents/new story").status_code == 404


def test_upload_over_the_limit_is_refused(fake_settings):
    client = make_client(fake_settings, max_file_mb=0.001)
    response = client.post("/v1/documents", files=[("files", ("big.txt", b"x" * 5000, "text/plain"))])
    assert response.status_code == 422 and "upload limit" in response.json()["failed"][0]["error"]


def test_question_length_limit(client):
    response = client.post("/v1/ask", json={"question": "x" * 5000})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == 422 and "question" in error["message"] and "Traceback" not in error["message"]


def test_openai_compatible_chat(client):
    data = client.post("/v1/chat/completions", json={"model": "newsrag", "messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": TORETSK}]}).json()
    assert data["object"] == "chat.completion"
    assert "1,400" in data["choices"][0]["message"]["content"]
    assert data["citations"][0]["article_id"] == "004_8551b460ac1e439b"


def test_openai_compatible_chat_streaming(client):
    with client.stream("POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": TORETSK}], "stream": True}) as response:
        lines = [line[5:].strip() for line in response.iter_lines() if line.startswith("data:")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "1,400" in text and chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"]


def test_api_key_is_required_when_set(fake_settings):
    client = make_client(fake_settings, api_key=SecretStr("s3cret"))
    assert client.post("/v1/search", json={"query": "Toretsk"}).status_code == 401
    assert client.post("/v1/search", json={"query": "Toretsk"}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.post("/v1/search", json={"query": "Toretsk"}, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200
    assert client.get("/health").status_code == 200


def test_cors_closed_by_default(client):
    response = client.options("/v1/search", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_ui_is_served_at_root(client):
    response = client.get("/")
    assert response.status_code == 200 and "gradio" in response.text.lower()


def test_source_cards_escape_article_text(fake_settings):
    from rag.ui import source_cards

    service = RagService(fake_settings)
    answer = {"abstained": False, "citations": [{"n": 1, "article_id": "x", "title": "<b>T</b>", "source": None,
              "date": None, "quote": "<script>alert(1)</script>", "text": "Before <script>alert(1)</script> [a](javascript:x)"}]}
    cards = source_cards(answer, service)
    assert "<script>" not in cards and "&lt;script&gt;" in cards and "<mark>" in cards


def test_errors_are_json_with_code_and_message(client):
    missing = client.get("/v1/documents/nope")
    assert missing.status_code == 404 and missing.json() == {"error": {"code": 404, "message": "No article with id 'nope'."}}
    broken = client.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and set(broken.json()["error"]) == {"code", "message"}
    empty = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
    assert empty.status_code == 400 and "user message" in empty.json()["error"]["message"]


def test_unsupported_upload_type_is_415(client):
    response = client.post("/v1/documents", files=[("files", ("photo.png", b"\x89PNG....", "image/png"))])
    assert response.status_code == 415 and "unsupported type" in response.json()["error"]["message"]


def test_upload_name_never_decides_where_it_is_written(client, fake_settings):
    response = client.post("/v1/documents", files=[("files", ("../../../escape.txt", b"An article about a ferry.", "text/plain"))])
    assert response.status_code == 200
    uploads = fake_settings.data_dir / "uploads"
    written = [p for p in uploads.rglob("*") if p.is_file()]
    assert [p.name for p in written] == ["escape.txt"]
    assert all(uploads in p.parents for p in written)
    assert not (fake_settings.data_dir.parent / "escape.txt").exists()


def test_models_route(client):
    assert client.get("/v1/models").json()["data"][0]["id"] == "newsrag"


def test_store_down_is_503_with_one_sentence(fake_settings):
    from app import create_app

    settings = fake_settings.model_copy(update={"llm": "fake", "chroma_url": "http://127.0.0.1:9"})
    client = TestClient(create_app(settings, RagService(settings)))
    response = client.post("/v1/search", json={"query": "Toretsk"})
    assert response.status_code == 503 and "not reachable" in response.json()["error"]["message"]
    assert client.get("/health").status_code == 503
