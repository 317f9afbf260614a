"""/v1/documents: list, read, upload and delete articles."""

from __future__ import annotations

from fastapi import APIRouter, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from rag.routes import error_response
from rag.service import RagService


def documents_router(service: RagService) -> APIRouter:
    router = APIRouter()

    @router.get("/documents")
    def documents():
        return service.documents()

    @router.get("/documents/{article_id}")
    def document(article_id: str):
        article = service.article(article_id)
        if article is None:
            raise HTTPException(404, f"No article with id '{article_id}'.")
        return article

    @router.post("/documents")
    async def upload(files: list[UploadFile] = File(..., description="One or more article files.")):
        # In a worker thread: ingesting on the event loop would stall every other request until it ends.
        result = await run_in_threadpool(service.upload, [(file.filename, file.file) for file in files])
        if refusal := result.refused_for_type:  # nothing stored, and every file had the wrong type
            return error_response(415, refusal.sentence)
        return JSONResponse(result.report, status_code=200 if result.stored_any else 422)

    @router.delete("/documents/{article_id}", status_code=204)
    def delete(article_id: str):
        if not service.delete(article_id):
            raise HTTPException(404, f"No article with id '{article_id}'.")
        return Response(status_code=204)

    return router
