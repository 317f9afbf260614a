"""The HTTP API's routers, one per part of the API, each a few lines per route over RagService.

rag/api.py puts them together under /v1; request and response shapes are defined next to their routes."""

from fastapi.responses import JSONResponse

MAX_QUESTION_CHARS = 2000
AS_OF = ("Read the archive as it stood on this day (nothing dated later); "
         "relative time in the question resolves against it.")


def error_response(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    """The API's one error shape: {"error": {"code", "message"}} with one sentence."""
    return JSONResponse({"error": {"code": status, "message": message}}, status_code=status, headers=headers)
