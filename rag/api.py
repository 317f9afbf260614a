"""HTTP API (FastAPI), versioned under /v1: the routers of rag/routes/ put together, the API key, /health
and the error handlers. Thin: parse, call RagService, render.

Errors a caller can act on come back as {"error": {"code", "message": "<one sentence>"}} with a 4xx/503
status, never a traceback.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from rag.llm import BackendUnavailable
from rag.routes import error_response as _error
from rag.routes.ask import ask_router
from rag.routes.briefings import briefings_router
from rag.routes.documents import documents_router
from rag.routes.openai import openai_router
from rag.routes.search import search_router
from rag.service import RagService
from vectorstore.chroma import StoreError


def key_matches(given: str, expected: str) -> bool:
    """Constant-time comparison: how long a refusal takes tells nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode(), expected.encode())


def build_api(service: RagService, api_key: str | None = None) -> APIRouter:
    """The /v1 routes (behind the API key when one is set) and /health, bound to one service."""

    def require_key(request: Request) -> None:
        if not api_key:
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not key_matches(token, api_key):
            raise HTTPException(401, "A valid API key is required: send 'Authorization: Bearer <NEWSRAG_API_KEY>'.",
                                headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter()

    @router.get("/health")
    def health():
        try:
            passages = service.passage_count()
            articles = service.article_count()
        except StoreError as exc:
            return JSONResponse({"status": "unavailable", "error": {"code": 503, "message": str(exc)}}, status_code=503)
        return {"status": "ok", "store": "ok", "articles": articles, "passages": passages,
                "llm": service.settings.llm, "model": service.model_status()}

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])
    for part in (ask_router, search_router, briefings_router, documents_router, openai_router):
        v1.include_router(part(service))
    router.include_router(v1)
    return router


def install_error_handlers(app: FastAPI) -> None:
    """Every error is JSON {"error": {"code", "message"}} with one sentence, never a stack trace."""
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request, exc):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or "the request"
        return _error(422, f"Invalid {where}: {first.get('msg', 'bad input')}.")

    @app.exception_handler(StoreError)
    async def store_error(request, exc):
        return _error(503, str(exc))

    @app.exception_handler(BackendUnavailable)
    async def backend_down(request, exc):
        return _error(503, str(exc))

    @app.exception_handler(ValueError)
    async def bad_value(request, exc):
        return _error(400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request, exc):
        return _error(500, f"newsrag failed unexpectedly ({exc.__class__.__name__}); the server log has the details.")
