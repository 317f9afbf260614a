"""Faults outside newsrag, for real: the Chroma server killed and restarted under a running `python app.py`,
and OpenAI-compatible LLM servers on loopback that hang, fail with 500s, or trickle tokens past the
timeout."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.service import RagService
from tests.conftest import SAMPLE_CORPUS
from tests.integration.conftest import free_port, serving, wait_for_port

TORETSK = "How many civilians remain in Toretsk?"
TORETSK_ARTICLE = "004_8551b460ac1e439b"
ROOT = Path(__file__).resolve().parents[2]


# --- Chroma server down and back ------------------------------------------------------------------

def start_chroma(path: Path, port: int, log: Path) -> subprocess.Popen:
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    process = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    wait_for_port(port, process)
    return process


def assert_one_sentence_503(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    message = response.json()["error"]["message"]
    assert "not reachable" in message and "Traceback" not in message
    assert message.endswith(".") and message.count(". ") == 0, message


def test_chroma_server_down_then_back_without_restarting_newsrag(tmp_path):
    chroma_port, app_port = free_port(), free_port()
    chroma = start_chroma(tmp_path / "chroma", chroma_port, tmp_path / "chroma.log")
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path / "app"), "NEWSRAG_PORT": str(app_port),
           "NEWSRAG_HOST": "127.0.0.1", "NEWSRAG_CHROMA_URL": f"http://127.0.0.1:{chroma_port}"}
    for name in ("NEWSRAG_API_KEY", "NEWSRAG_LLM"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{app_port}"
    try:
        with serving([sys.executable, str(ROOT / "app.py")], app_port, tmp_path / "app.log", env=env, timeout=180) as app:
            def answers_again():
                found = httpx.post(base + "/v1/search", json={"query": TORETSK}, timeout=60)
                assert found.status_code == 200 and found.json()[0]["article_id"] == TORETSK_ARTICLE, found.text
                asked = httpx.post(base + "/v1/ask", json={"question": TORETSK}, timeout=120)
                assert asked.status_code == 200 and "1,400" in asked.json()["answer"], asked.text
                assert asked.json()["citations"][0]["article_id"] == TORETSK_ARTICLE
                assert httpx.get(base + "/health", timeout=30).json()["status"] == "ok"

            answers_again()

            chroma.send_signal(signal.SIGKILL)
            chroma.wait()
            assert_one_sentence_503(httpx.post(base + "/v1/search", json={"query": TORETSK}, timeout=60))
            assert_one_sentence_503(httpx.post(base + "/v1/ask", json={"question": TORETSK}, timeout=60))
            assert_one_sentence_503(httpx.post(base + "/v1/ask?stream=true", json={"question": TORETSK}, timeout=60))
            assert_one_sentence_503(httpx.post(base + "/v1/chat/completions", timeout=60,
                                               json={"messages": [{"role": "user", "content": TORETSK}]}))
            assert_one_sentence_503(httpx.get(base + "/v1/documents", timeout=60))
            assert httpx.get(base + "/health", timeout=30).status_code == 503

            chroma = start_chroma(tmp_path / "chroma", chroma_port, tmp_path / "chroma.log")
            answers_again()
            assert app.poll() is None  # the same newsrag process, never restarted
    finally:
        chroma.kill()
        chroma.wait()


# --- LLM backend faults ---------------------------------------------------------------------------

TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("llm-fault-store")
    RagService(Settings(data_dir=path, chroma_url=None, _env_file=None)).ingest([SAMPLE_CORPUS])
    return path


@contextmanager
def silent_server():
    """Accepts connections and reads requests, but never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


class _Failing(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"error": {"message": "model crashed", "type": "server_error"}}).encode()
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Trickling(BaseHTTPRequestHandler):
    """Streams a plausible answer one word every half second: each read is on time, the whole is not."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for word in ("Some 1,400 civilians remain in Toretsk [1]. " * 20).split(" "):
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                         "choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                time.sleep(0.5)
        except (BrokenPipeError, ConnectionResetError):
            pass  # newsrag stopped listening: what the test wants


@contextmanager
def http_server(handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def nothing_listening():
    yield f"http://127.0.0.1:{free_port()}/v1"


@pytest.mark.parametrize("server, reason", [
    (silent_server, "TimeoutError"),
    (lambda: http_server(_Failing), "Error code: 500"),
    (lambda: http_server(_Trickling), f"took longer than {TIMEOUT_S:g}s"),
    (nothing_listening, "ConnectionError"),
], ids=["hangs", "500s", "trickles", "down"])
def test_llm_backend_fault_falls_back_to_the_quoted_evidence(store_dir, server, reason):
    from app import create_app

    with server() as base_url:
        settings = Settings(data_dir=store_dir, chroma_url=None, llm="openai", openai_base_url=base_url,
                            llm_timeout_s=TIMEOUT_S, _env_file=None)
        client = TestClient(create_app(settings, RagService(settings)))
        for route, body in (("/v1/ask", {"question": TORETSK}),
                            ("/v1/chat/completions", {"messages": [{"role": "user", "content": TORETSK}]}),
                            ("/v1/ask?stream=true", {"question": TORETSK})):
            started = time.perf_counter()
            response = client.post(route, json=body)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text
            if route.endswith("stream=true"):
                events = [line for line in response.text.splitlines() if line.startswith("data:")]
                payload = json.loads(events[-1][5:])
            else:
                payload = response.json()
            text = payload["answer"] if "answer" in payload else payload["choices"][0]["message"]["content"]
            assert text.startswith("“") and "1,400" in text, text  # the quoted evidence sentence
            assert payload["citations"][0]["article_id"] == TORETSK_ARTICLE
            assert reason in payload["fallback"], payload["fallback"]
            assert elapsed < TIMEOUT_S + 15, f"{route} took {elapsed:.1f}s with a {TIMEOUT_S:g}s timeout"
