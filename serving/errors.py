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


def _validation_message(err: RequestValidationError) -> tuple[str, str, str | None]:
    """(message, code, param) in the API's words: the parameter as a client wrote it, not the validator's path."""
    first = err.errors()[0]
    kind = first.get("type")
    if kind == "json_invalid":
        return "the request body is not valid JSON", "invalid_request", None
    if kind == "unsupported_parameter":
        return first["msg"], "unsupported_parameter", first["ctx"]["param"]
    loc = [str(p) for p in first.get("loc", ()) if p != "body" and not _validator_name(p)]
    param = ".".join(loc) or None
    if param is None and kind == "missing":
        return "the request body is empty; send a JSON object (model, messages)", "invalid_request", None
    if len(loc) >= 3 and loc[0] == "messages" and loc[2] == "content":
        param = ".".join(loc[:3])
        return (f"{param}: content must be text, or a list of text parts ({{\"type\": \"text\", \"text\": ...}}); "
                "images and other parts are not supported", "invalid_request", param)  # fmt: skip
    if loc and loc[0] == "stop":
        return "stop: a string or at most 4 strings, each 1 to 64 characters", "invalid_request", "stop"
    return (f"{param}: {first['msg']}" if param else first["msg"]), "invalid_request", param


def _validator_name(part: object) -> bool:
    """pydantic's names for union branches and constraints ('constrained-str', 'list[TextPart]', 'str')."""
    return isinstance(part, str) and ("-" in part or "[" in part or part in ("str", "int", "float", "bool"))


def install_handlers(app: FastAPI) -> None:
    """Our errors, invalid bodies, unknown routes and crashes all answer with OpenAI's error body."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return error_response(request, err.status, err.message, err.code, err.param, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        message, code, param = _validation_message(err)
        return error_response(request, 400, message, code, param)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> JSONResponse:
        if err.status_code == 400:  # a body FastAPI could not even decode
            return error_response(request, 400, "the request body could not be read; send UTF-8 JSON",
                                  "invalid_request")  # fmt: skip
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error_response(request, err.status_code, str(err.detail), codes.get(err.status_code, "http_error"))

    @app.exception_handler(Exception)
    async def _crash(request: Request, err: Exception) -> JSONResponse:
        return error_response(request, 500, f"internal error: {type(err).__name__}", "internal_error")
