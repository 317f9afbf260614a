"""HTTP API (FastAPI), versioned under /v1. Thin: parse, call RagService, render.

Errors a caller can act on come back as {"detail": "<one sentence>"} with a 4xx/503 status, never a
traceback.
"""

from __future__ import annotations

import hmac
import itertools
import json
import os
import re
import time
import unicodedata
import uuid
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from rag.documents import SUPPORTED_SUFFIXES, content_mismatch
from rag.llm import BackendUnavailable
from rag.service import RagService
from vectorstore.chroma import StoreError

MAX_QUESTION_CHARS = 2000


class Turn(BaseModel):
    role: Literal["user", "assistant", "system"] = "user"
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question.")
    history: list[Turn] = Field(default_factory=list, max_length=50, description="Earlier turns, oldest first.")
    since: str | None = Field(None, description="Only articles dated on or after this date.")
    until: str | None = Field(None, description="Only articles dated on or before this date.")
    sources: list[str] | None = Field(None, description="Only these outlets.")
    llm: Literal["llamacpp", "openai", "ollama", "extractive"] | None = Field(None, description="Answer backend.")
    as_of: str | None = Field(None, description="Read the archive as it stood on this day (nothing dated later); "
                              "relative time in the question resolves against it.")


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=100)
    since: str | None = None
    until: str | None = None
    sources: list[str] | None = None
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    as_of: str | None = Field(None, description="Read the archive as it stood on this day (nothing dated later); "
                              "relative time in the question resolves against it.")


class BriefingRequest(BaseModel):
    topic: str = Field(min_length=1, max_length=500)
    since: str | None = None
    until: str | None = None
    max_points: int = Field(6, ge=1, le=20)
    sources: list[str] | None = None
    as_of: str | None = Field(None, description="Read the archive as it stood on this day (nothing dated later); "
                              "relative time in the question resolves against it.")


class ChatMessage(BaseModel):
    role: str
    content: str | list | None = None


class ChatRequest(BaseModel):
    model: str = "newsrag"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    temperature: float | None = None
    max_tokens: int | None = None
    as_of: str | None = Field(None, description="newsrag extension: answer as of this day (see /v1/ask).")


def _text(content) -> str:
    """OpenAI message content: a string or a list of {"type": "text", "text": ...} parts."""
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


# Letters and digits of any script stay (a Київ.txt upload keeps its name); separators, control and
# format characters (such as right-to-left overrides) do not.
_SAFE_NAME = re.compile(r"[^\w. -]+")


def safe_filename(name: str) -> str:
    """A file name with no directory part, no traversal and no control characters."""
    base = Path(name.replace("\\", "/")).name
    base = _SAFE_NAME.sub("_", unicodedata.normalize("NFC", base)).strip(" .") or "upload"
    stem, suffix = os.path.splitext(base)
    return stem[:100] + suffix[:20]  # a long name is cut in its stem, so the type survives


def key_matches(given: str, expected: str) -> bool:
    """Constant-time comparison: how long a refusal takes tells nothing about how much of a guess was right."""
    return hmac.compare_digest(given.encode(), expected.encode())


def build_api(service: RagService, api_key: str | None = None) -> APIRouter:
    """The /v1 routes and /health, bound to one service."""

    def require_key(request: Request) -> None:
        if not api_key:
            return
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not key_matches(token, api_key):
            raise HTTPException(401, "A valid API key is required: send 'Authorization: Bearer <NEWSRAG_API_KEY>'.",
                                headers={"WWW-Authenticate": "Bearer"})

    router = APIRouter()
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)])

    @router.get("/health")
    def health():
        try:
            passages = service.passage_count()
            articles = len(service.documents())
            store = "ok"
        except StoreError as exc:
            return JSONResponse({"status": "unavailable", "error": {"code": 503, "message": str(exc)}}, status_code=503)
        return {"status": "ok", "store": store, "articles": articles, "passages": passages,
                "llm": service.settings.llm, "model": service.model_status()}

    @v1.post("/ask")
    def ask(body: AskRequest, stream: bool = Query(False, description="Server-sent events: tokens, then the answer.")):
        history = [turn.model_dump() for turn in body.history]
        if not stream:
            answer = service.ask(body.question, history, body.since, body.until, body.sources, body.llm, body.as_of)
            return answer.to_json()
        events = service.ask_stream(body.question, history, body.since, body.until, body.sources, body.llm, body.as_of)
        # Retrieval runs before the first event: a store that is down fails here, as a 503, rather
        # than as an error event inside a 200 stream.
        first = next(events)

        def sse():
            try:
                for event in itertools.chain([first], events):
                    if event["event"] == "token":
                        yield {"event": "token", "data": json.dumps({"text": event["text"]})}
                    else:
                        yield {"event": "answer", "data": json.dumps(event["answer"].to_json(), ensure_ascii=False)}
            except (StoreError, BackendUnavailable, ValueError) as exc:
                yield {"event": "error", "data": json.dumps({"detail": str(exc)})}

        return EventSourceResponse(sse())

    @v1.post("/search")
    def search(body: SearchRequest):
        hits = service.search(body.query, body.k, body.since, body.until, body.sources, body.mode, body.as_of)
        return [hit.to_json() for hit in hits]

    @v1.post("/briefings")
    def briefings(body: BriefingRequest, format: Literal["json", "md"] = Query("json", description="json or md (Markdown).")):
        briefing = service.brief(body.topic, body.since, body.until, body.max_points, body.sources, body.as_of)
        if format == "md":
            return Response(briefing.to_markdown(), media_type="text/markdown; charset=utf-8")
        return briefing.to_json()

    @v1.get("/documents")
    def documents():
        return service.documents()

    @v1.get("/documents/{article_id}")
    def document(article_id: str):
        article = service.article(article_id)
        if article is None:
            raise HTTPException(404, f"No article with id '{article_id}'.")
        return article

    @v1.post("/documents")
    async def upload(files: list[UploadFile] = File(..., description="One or more article files.")):
        limit = int(service.settings.max_file_mb * 1e6)
        folder = Path(service.settings.data_dir) / "uploads" / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True, exist_ok=True)
        saved, rejected, wrong_type = [], [], 0
        for upload_file in files:
            name = safe_filename(upload_file.filename or "upload")
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                rejected.append({"path": name, "error": f"{name} has an unsupported type (supported: {', '.join(SUPPORTED_SUFFIXES)})."})
                wrong_type += 1
                continue
            data = await upload_file.read(limit + 1)
            if len(data) > limit:
                rejected.append({"path": name, "error": f"{name} is over the {service.settings.max_file_mb:g} MB upload limit."})
                continue
            mismatch = content_mismatch(name, data)
            if mismatch:
                rejected.append({"path": name, "error": f"{name} {mismatch}."})
                wrong_type += 1
                continue
            target = folder / name
            if target.exists():  # two uploads whose names sanitise alike: never overwrite the first
                rejected.append({"path": name, "error": f"{name} has the same name as another file in this upload; rename one of them."})
                continue
            target.write_bytes(data)
            saved.append(target)
        # In a worker thread: ingesting on the event loop would stall every other request until it ends.
        report = await run_in_threadpool(service.ingest, saved) if saved else None
        result = report.to_json() if report else {"added": 0, "updated": 0, "unchanged": 0, "removed": 0,
                                                   "duplicates": [], "failed": [], "passages": service.passage_count()}
        for failure in result["failed"]:  # report names the user's file, not our storage path
            failure["path"] = Path(failure["path"]).name
            failure["error"] = failure["error"].replace(str(folder) + "/", "")
        result["failed"] = rejected + result["failed"]
        if not saved and rejected and wrong_type == len(rejected):  # wrong type, by name or by content
            return _error(415, rejected[0]["error"])
        status = 200 if result["added"] or result["updated"] or result["unchanged"] or result["duplicates"] else 422
        return JSONResponse(result, status_code=status)

    @v1.delete("/documents/{article_id}", status_code=204)
    def delete(article_id: str):
        if not service.delete(article_id):
            raise HTTPException(404, f"No article with id '{article_id}'.")
        return Response(status_code=204)

    @v1.post("/chat/completions")
    def chat(body: ChatRequest):
        turns = [{"role": m.role, "content": _text(m.content)} for m in body.messages if m.role in ("user", "assistant")]
        if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
            raise HTTPException(400, "The last message must be a non-empty user message.")
        question = turns[-1]["content"]
        if len(question) > MAX_QUESTION_CHARS:
            raise HTTPException(413, f"The question is longer than {MAX_QUESTION_CHARS} characters.")
        answer = service.ask(question, turns[:-1], as_of=body.as_of)
        payload = answer.to_json()
        created, completion_id = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
        extra = {"citations": payload["citations"], "abstained": payload["abstained"], "fallback": payload["fallback"]}
        if not body.stream:
            return {
                "id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                **extra,
            }

        # Only the verified answer is streamed: an OpenAI client shows the deltas as they come, and an
        # unverified draft must not reach it.
        def chunks():
            base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model}
            yield {"data": json.dumps({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})}
            for piece in re.findall(r"\S+\s*", answer.answer):
                yield {"data": json.dumps({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}, ensure_ascii=False)}
            yield {"data": json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], **extra}, ensure_ascii=False)}
            yield {"data": "[DONE]"}

        return EventSourceResponse(chunks())

    @v1.get("/models")
    def models():
        return {"object": "list", "data": [{"id": "newsrag", "object": "model", "owned_by": "newsrag"}]}

    router.include_router(v1)
    return router


def _error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status, headers=headers)


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
