"""OpenAI-style errors: one body shape for every failure, the client's or ours, counted in /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, param: str | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.headers = status, message, code, param, headers


def error_body(status: int, message: str, code: str, param: str | None = None) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def error_response(request: Request, status: int, message: str, code: str, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:  # fmt: skip
    """The error body, counted; the message stays on the request for its request-log entry."""
    request.app.state.service.metrics.errors.labels(code).inc()
    request.state.error = message
    headers = {**(headers or {})}
    if request_id := getattr(request.state, "request_id", None):
        headers.setdefault("x-request-id", request_id)
    return JSONResponse(error_body(status, message, code, param), status_code=status, headers=headers)


def _validation_message(err: RequestValidationError) -> tuple[str, str | None]:
    first = err.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    param = ".".join(loc) or None
    return (f"{param}: {first['msg']}" if param else first["msg"]), param


def install_handlers(app: FastAPI) -> None:
    """Our errors, invalid bodies, unknown routes and crashes all answer with OpenAI's error body."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(request, err.status, err.message, err.code, err.param, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(err)
        return error_response(request, 400, message, "invalid_request", param)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error_response(request, err.status_code, str(err.detail), codes.get(err.status_code, "http_error"))

    @app.exception_handler(Exception)
    async def _crash(request: Request, err: Exception) -> JSONResponse:
        return error_response(request, 500, f"internal error: {type(err).__name__}", "internal_error")
