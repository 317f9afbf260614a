"""Real servers for integration tests: started here on loopback, stopped at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not listen on port {port} within {timeout:.0f}s")


@contextmanager
def serving(args: list[str], port: int, log_path: Path, env: dict | None = None, timeout: float = 60.0):
    """Run a server process until the block ends; it must listen on `port` within `timeout` seconds."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, process, timeout)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` on 127.0.0.1; yields its URL."""
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if not chroma:
        pytest.fail("the `chroma` command is missing: run `make install`")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    args = [chroma, "run", "--path", str(path / "db"), "--host", "127.0.0.1", "--port", str(port)]
    with serving(args, port, path / "server.log"):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def newsrag_app(tmp_path_factory, name: str = "app"):
    """`python app.py` on a free loopback port with a fresh store (the sample corpus goes in at start)."""
    root = Path(__file__).resolve().parents[2]
    port = free_port()
    env = {**os.environ, "NEWSRAG_DATA_DIR": str(tmp_path_factory.mktemp(f"{name}-store")), "NEWSRAG_PORT": str(port),
           "NEWSRAG_HOST": "127.0.0.1"}
    for variable in ("NEWSRAG_CHROMA_URL", "NEWSRAG_API_KEY", "NEWSRAG_LLM"):
        env.pop(variable, None)
    log = tmp_path_factory.mktemp(f"{name}-log") / "server.log"
    with serving([sys.executable, str(root / "app.py")], port, log, env=env, timeout=180):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def newsrag_server(tmp_path_factory):
    """One app server shared by the tests that only read the sample corpus."""
    with newsrag_app(tmp_path_factory) as url:
        yield url
