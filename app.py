"""Composition root: Settings -> RagService -> FastAPI app (HTTP API) with the Gradio UI mounted at /.

`python app.py`, `newsrag serve` and `make run` all end here. The server binds to 127.0.0.1 unless
NEWSRAG_HOST says otherwise.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

from rag.cli import _guard

SAMPLE_CORPUS = Path(__file__).resolve().parent / "data"


def create_app(settings=None, service=None):
    """The FastAPI application: /v1 API, /health, OpenAPI docs at /docs, the UI at /."""
    import gradio as gr
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    from rag.api import build_api, install_error_handlers, key_matches
    from rag.config import Settings
    from rag.service import RagService
    from rag.ui import CSS, build_ui

    settings = settings or Settings()
    service = service or RagService(settings)
    app = FastAPI(title="newsrag", version="0.1.0", description="Cited answers from your news archive.")
    # Always installed, so that Gradio leaves CORS to it (Gradio's own middleware reflects any origin
    # when the host is not localhost); with no origins configured, no cross-origin request is allowed.
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                       allow_headers=["Authorization", "Content-Type"])
    install_error_handlers(app)
    api_key = settings.api_key.get_secret_value() if settings.api_key else None
    app.include_router(build_api(service, api_key))
    auth = (lambda _user, password: key_matches(password, api_key)) if api_key else None
    app = gr.mount_gradio_app(app, build_ui(service), path="/", auth=auth,
                              auth_message="Enter any user name and the API key as password." if auth else None,
                              footer_links=[], css=CSS,
                              # The UI's uploads stop at the same limit as the API's, while they arrive.
                              max_file_size=int(settings.max_file_mb * 1e6))
    app.state.service = service
    return app


def serve(settings=None, ingest_sample: bool = True) -> None:
    """Ingest the sample corpus into an empty store, warm the models up, and serve."""
    import uvicorn

    from rag.config import Settings
    from rag.service import RagService

    settings = settings or Settings()
    service = RagService(settings)
    if ingest_sample and service.is_empty():
        report = service.ingest([SAMPLE_CORPUS])
        print(f"Ingested the sample corpus: {report.added} articles, {report.passages} passages.")
    service.warm_up()
    # The writer reads the archive's manifest in the background: the server answers at once, and the
    # first article added does not pay for reading every record (an ingest meanwhile waits for it).
    threading.Thread(target=service.prime_writer, name="newsrag-prime-writer", daemon=True).start()
    print(f"newsrag on http://{settings.host}:{settings.port}/  (API docs at /docs)")
    uvicorn.run(create_app(settings, service), host=settings.host, port=settings.port, log_level="warning")


# `newsrag serve`: rag.cli finds this through the `newsrag.commands` entry point (pyproject.toml).
serve_cli = typer.Typer(add_completion=False)


@serve_cli.command("serve")
@_guard
def serve_command(
    host: Annotated[Optional[str], typer.Option(help="Address to bind (default NEWSRAG_HOST, 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default NEWSRAG_PORT, 7860).")] = None,
    sample: Annotated[bool, typer.Option(help="Ingest the sample corpus when the store is empty.")] = True,
):
    """Serve the web UI and the HTTP API in one process."""
    from rag.config import Settings

    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    serve(Settings().model_copy(update=updates), ingest_sample=sample)


if __name__ == "__main__":
    serve()
