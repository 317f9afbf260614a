"""The OpenAI-compatible routes: POST /v1/chat/completions and GET /v1/models."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from rag.openai_chat import ChatReply, chat_turns
from rag.routes import MAX_QUESTION_CHARS
from rag.service import RagService


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


def openai_router(service: RagService) -> APIRouter:
    router = APIRouter()

    @router.post("/chat/completions")
    def chat(body: ChatRequest):
        turns = chat_turns([(m.role, m.content) for m in body.messages])
        if not turns or turns[-1]["role"] != "user" or not turns[-1]["content"].strip():
            raise HTTPException(400, "The last message must be a non-empty user message.")
        if len(turns[-1]["content"]) > MAX_QUESTION_CHARS:
            raise HTTPException(413, f"The question is longer than {MAX_QUESTION_CHARS} characters.")
        reply = ChatReply(service.ask(turns[-1]["content"], turns[:-1], as_of=body.as_of), body.model)
        return EventSourceResponse(reply.chunks()) if body.stream else reply.completion()

    @router.get("/models")
    def models():
        return {"object": "list", "data": [{"id": "newsrag", "object": "model", "owned_by": "newsrag"}]}

    return router
