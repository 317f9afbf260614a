"""POST /v1/briefings: a cited briefing on a topic, as JSON or Markdown."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from rag.routes import AS_OF
from rag.service import RagService


class BriefingRequest(BaseModel):
    topic: str = Field(min_length=1, max_length=500)
    since: str | None = None
    until: str | None = None
    max_points: int = Field(6, ge=1, le=20)
    sources: list[str] | None = None
    as_of: str | None = Field(None, description=AS_OF)


def briefings_router(service: RagService) -> APIRouter:
    router = APIRouter()

    @router.post("/briefings")
    def briefings(body: BriefingRequest, format: Literal["json", "md"] = Query("json", description="json or md (Markdown).")):
        briefing = service.brief(body.topic, body.since, body.until, body.max_points, body.sources, body.as_of)
        if format == "md":
            return Response(briefing.to_markdown(), media_type="text/markdown; charset=utf-8")
        return briefing.to_json()

    return router
