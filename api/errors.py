"""Errors as JSON: `{"error": {"code": ..., "message": ...}}` with a stable code, never a
traceback. The library's error tree (`rag.errors`) maps to HTTP statuses here."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from rag.errors import (
    BadInputError,
    ConfigError,
    IndexNotBuiltError,
    ProviderError,
    RagError,
    StoreDamagedError,
    StoreError,
)

log = logging.getLogger("api")

# Most specific first: the first class an error is an instance of decides.
LIBRARY_ERRORS: tuple[tuple[type[RagError], int, str], ...] = (
    (BadInputError, 400, "bad_input"),
    (IndexNotBuiltError, 503, "index_not_built"),
    (StoreDamagedError, 503, "store_damaged"),
    (StoreError, 503, "store_unavailable"),
    (ProviderError, 502, "provider_error"),
    (ConfigError, 500, "config_error"),
    (RagError, 500, "rag_error"),
)
# Codes of errors raised by the HTTP layer itself, by status.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    """What went wrong: a stable `code` for programs, a `message` for people."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error response's body."""

    error: ErrorDetail


class ApiError(Exception):
    """An error the HTTP layer raises: its status, stable code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    """The JSON body of an error."""
    return {"error": {"code": code, "message": message}}


def from_library(exc: RagError) -> ApiError:
    """The status and code a library error is answered with."""
    for kind, status, code in LIBRARY_ERRORS:
        if isinstance(exc, kind):
            return ApiError(status, code, str(exc))
    return ApiError(500, "rag_error", str(exc))  # pragma: no cover - RagError is last above


def _respond(error: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(error.code, error.message), status_code=error.status, headers=error.headers
    )


def _validation_message(exc: RequestValidationError) -> tuple[int, str, str]:
    problems = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return 400, "malformed_json", "The request body is not valid JSON."
        where = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
        problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return 422, "invalid_request", "; ".join(problems)


def install(app: FastAPI) -> None:
    """Answer every error as JSON: library errors, HTTP errors, validation, the unexpected."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return _respond(exc)

    @app.exception_handler(RagError)
    async def _library(request: Request, exc: RagError) -> JSONResponse:
        return _respond(from_library(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        return _respond(ApiError(status, code, message))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        return _respond(ApiError(exc.status_code, code, str(exc.detail), headers))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(
            ApiError(500, "internal_error", "The server failed to answer; the error is logged.")
        )
