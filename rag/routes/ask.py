"""POST /v1/ask: a verified, cited answer, whole or as server-sent events."""

from __future__ import annotations

import itertools
import json
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from rag.llm import BackendUnavailable
from rag.routes import AS_OF, MAX_QUESTION_CHARS
from rag.service import RagService
from vectorstore.chroma import StoreError


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
    as_of: str | None = Field(None, description=AS_OF)


def answer_events(first: dict, events):
    """Server-sent events of an answer stream: `token` events, then one `answer` (or one `error`)."""
    try:
        for event in itertools.chain([first], events):
            if event["event"] == "token":
                yield {"event": "token", "data": json.dumps({"text": event["text"]})}
            else:
                yield {"event": "answer", "data": json.dumps(event["answer"].to_json(), ensure_ascii=False)}
    except (StoreError, BackendUnavailable, ValueError) as exc:
        yield {"event": "error", "data": json.dumps({"detail": str(exc)})}


def ask_router(service: RagService) -> APIRouter:
    router = APIRouter()

    @router.post("/ask")
    def ask(body: AskRequest, stream: bool = Query(False, description="Server-sent events: tokens, then the answer.")):
        history = [turn.model_dump() for turn in body.history]
        if not stream:
            return service.ask(body.question, history, body.since, body.until, body.sources, body.llm, body.as_of).to_json()
        events = service.ask_stream(body.question, history, body.since, body.until, body.sources, body.llm, body.as_of)
        # Retrieval runs before the first event: a store that is down fails here, as a 503, rather
        # than as an error event inside a 200 stream.
        first = next(events)
        return EventSourceResponse(answer_events(first, events))

    return router
