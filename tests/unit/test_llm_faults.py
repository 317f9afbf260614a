"""Backend faults through the API with the fake model: a failing backend falls back to the quoted
evidence (flagged on every route), a streamed answer resumed on other threads frees the model for the
next one, and a store that is down fails a streamed ask with a 503 before any event."""

from __future__ import annotations

import json
import threading

from fastapi.testclient import TestClient

from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS
from tests.fakes import FakeChatModel

TORETSK = "How many civilians remain in Toretsk?"


class BrokenModel(FakeChatModel):
    def _reply(self, messages):
        raise ConnectionError("backend answered 500")


def test_failing_backend_is_a_flagged_fallback_on_every_answer_route(fake_settings):
    from app import create_app

    settings = fake_settings.model_copy(update={"llm": "fake"})
    service = RagService(settings, llm=BrokenModel())
    service.ingest([SAMPLE_CORPUS])
    client = TestClient(create_app(settings, service))

    asked = client.post("/v1/ask", json={"question": TORETSK})
    assert asked.status_code == 200 and "1,400" in asked.json()["answer"] and asked.json()["citations"]
    assert "ConnectionError" in asked.json()["fallback"]

    streamed = client.post("/v1/ask?stream=true", json={"question": TORETSK})
    final = json.loads([line for line in streamed.text.splitlines() if line.startswith("data:")][-1][5:])
    assert streamed.status_code == 200 and "1,400" in final["answer"] and "ConnectionError" in final["fallback"]

    chat = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": TORETSK}]})
    body = chat.json()
    assert chat.status_code == 200 and "1,400" in body["choices"][0]["message"]["content"]
    assert body["citations"] and "ConnectionError" in body["fallback"]


def test_streamed_answer_resumed_on_other_threads_frees_the_model(fake_settings):
    """Starlette and Gradio resume a streaming generator on whichever worker thread is free."""
    settings = fake_settings.model_copy(update={"llm": "llamacpp"})  # the backend that takes the lock
    service = RagService(settings, llm=FakeChatModel(replies=["Some 1,400 civilians remain in Toretsk [1]."]))
    service.ingest([SAMPLE_CORPUS])

    def drain_one_thread_per_event() -> list[dict]:
        events, stream = [], service.ask_stream(TORETSK)
        while True:
            box: list = []
            worker = threading.Thread(target=lambda: box.append(next(stream, None)))
            worker.start()
            worker.join(timeout=30)
            assert not worker.is_alive(), "the next generation waited for a lock nobody holds"
            if box[0] is None:
                return events
            events.append(box[0])

    for _ in range(2):  # the second one needs the lock the first one took
        events = drain_one_thread_per_event()
        answer = events[-1]["answer"]
        assert answer.fallback is None, answer.fallback
        assert "1,400" in answer.answer


def test_store_down_fails_a_streamed_ask_with_503(fake_settings):
    from app import create_app

    settings = fake_settings.model_copy(update={"llm": "fake", "chroma_url": "http://127.0.0.1:9"})
    client = TestClient(create_app(settings, RagService(settings)))
    response = client.post("/v1/ask?stream=true", json={"question": TORETSK})
    assert response.status_code == 503
    assert "not reachable" in response.json()["error"]["message"]


class SlowModel(FakeChatModel):
    """Streams a long reply a word at a time, slowly; counts the words it was asked for."""

    sent: int = 0

    def _stream(self, messages, stop=None, run_manager=None, **kwargs):
        import time

        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        for word in ["Some", "1,400", "civilians", "remain", "in", "Toretsk", "[1]."] * 20:
            self.sent += 1
            time.sleep(0.02)
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + " "))


def test_a_backend_past_the_timeout_is_cut_off_and_flagged(fake_settings):
    model = SlowModel()
    service = RagService(fake_settings.model_copy(update={"llm": "fake", "llm_timeout_s": 0.1}), llm=model)
    service.ingest([SAMPLE_CORPUS])
    answer = service.ask(TORETSK)
    assert answer.fallback == "the fake backend took longer than 0.1s"
    assert "1,400" in answer.answer and answer.citations  # the quoted evidence instead
    assert model.sent < 140  # the model's stream was closed, not read to its end
    assert 0.1 <= answer.timings["generate_s"] < 30


def test_a_failing_backend_says_what_failed(fake_settings):
    service = RagService(fake_settings.model_copy(update={"llm": "fake"}), llm=BrokenModel())
    service.ingest([SAMPLE_CORPUS])
    answer = service.ask(TORETSK)
    assert answer.fallback == "the fake backend failed (ConnectionError: backend answered 500)"


class VerboseBrokenModel(FakeChatModel):
    def _reply(self, messages):
        raise RuntimeError("upstream said: " + "x" * 400)


def test_a_backend_error_is_named_in_at_most_160_characters_of_its_message(fake_settings):
    service = RagService(fake_settings.model_copy(update={"llm": "fake"}), llm=VerboseBrokenModel())
    service.ingest([SAMPLE_CORPUS])
    answer = service.ask(TORETSK)
    message = ("upstream said: " + "x" * 400)[:160]
    assert answer.fallback == f"the fake backend failed (RuntimeError: {message})"
    assert "1,400" in answer.answer and answer.citations


def test_the_backend_asked_for_is_the_one_made_and_locked(fake_settings, monkeypatch):
    # No model given to the service: the backend named with the question, not the configured default, is
    # made and holds the generation lock while it writes.
    from rag import answer as A

    made, locked = [], []
    model = FakeChatModel(replies=["Some 1,400 civilians remain in Toretsk [1]."])
    monkeypatch.setattr(A, "make_llm", lambda settings, backend: made.append(backend) or model)
    real_lock = A.generation_lock
    monkeypatch.setattr(A, "generation_lock", lambda backend: locked.append(backend) or real_lock(backend))
    service = RagService(fake_settings.model_copy(update={"llm": "extractive"}))
    service.ingest([SAMPLE_CORPUS])
    answer = service.ask(TORETSK, backend="ollama")
    assert made == ["ollama"] and locked == ["ollama"]
    assert answer.backend == "ollama" and answer.fallback is None and "1,400" in answer.answer
