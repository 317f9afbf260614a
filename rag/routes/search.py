"""POST /v1/search: passages for a query."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from rag.routes import AS_OF, MAX_QUESTION_CHARS
from rag.service import RagService


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    k: int = Field(5, ge=1, le=100)
    since: str | None = None
    until: str | None = None
    sources: list[str] | None = None
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"
    as_of: str | None = Field(None, description=AS_OF)


def search_router(service: RagService) -> APIRouter:
    router = APIRouter()

    @router.post("/search")
    def search(body: SearchRequest):
        hits = service.search(body.query, body.k, body.since, body.until, body.sources, body.mode, body.as_of)
        return [hit.to_json() for hit in hits]

    return router
