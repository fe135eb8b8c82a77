"""The HTTP API: OpenAI-compatible completions in front of the registry's champion, plus health, metrics, feedback.

    llmops serve                      # params.yaml serving: section; then point any OpenAI client at it:
    OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...").chat.completions.create(model="llmops-support", ...)

Every response names the version that answered (`system_fingerprint`, `x-model-version`) and its request id
(`x-request-id`, the id `/feedback` takes). Every error, the client's or ours, has OpenAI's error body.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from serving.access import authenticate
from serving.engine import Job, QueueFullError, encode_chat, encode_text
from serving.schemas import ChatCompletionRequest, CompletionRequest, FeedbackRequest, _Sampling
from serving.service import Service
from tasks.request_log import Entry, UnknownRequestError


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str, param: str | None = None, **headers: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.headers = status, message, code, param, headers


def _error_body(status: int, message: str, code: str, param: str | None = None) -> dict[str, Any]:
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _validation_message(err: RequestValidationError) -> tuple[str, str | None]:
    first = err.errors()[0]
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    param = ".".join(loc) or None
    return (f"{param}: {first['msg']}" if param else first["msg"]), param


def create_app(service: Service) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.start()
        yield
        service.stop()

    app = FastAPI(title="llmops serving", version="1", lifespan=lifespan)
    m = service.metrics

    def error(status: int, message: str, code: str, param: str | None = None, headers=None) -> JSONResponse:
        m.errors.labels(code).inc()
        return JSONResponse(_error_body(status, message, code, param), status_code=status, headers=headers)

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, err: ApiError) -> JSONResponse:
        return error(err.status, err.message, err.code, err.param, err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(err)
        return error(400, message, "invalid_request", param)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, err: HTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return error(err.status_code, str(err.detail), codes.get(err.status_code, "http_error"))

    @app.exception_handler(Exception)
    async def _crash(_request: Request, err: Exception) -> JSONResponse:
        return error(500, f"internal error: {type(err).__name__}", "internal_error")

    @app.middleware("http")
    async def _observe(request: Request, call_next):
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > service.params.max_request_bytes:
            limit = service.params.max_request_bytes
            return error(413, f"the request body is over serving.max_request_bytes ({limit} bytes)", "too_large")
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        endpoint = route.path if route is not None else "unmatched"
        m.requests.labels(endpoint, str(response.status_code)).inc()
        m.latency.labels(endpoint).observe(time.perf_counter() - started)
        return response

    def caller(request: Request) -> str:
        if service.keys:
            kid = authenticate(service.keys, request.headers.get("authorization"))
            if kid is None:
                raise ApiError(401, "missing or invalid API key (Authorization: Bearer <key>)", "invalid_api_key")
        else:
            kid = f"ip:{request.client.host if request.client else 'unknown'}"
        wait = service.limiter.allow(kid)
        if wait:
            raise ApiError(429, f"rate limit of {service.params.rate_limit_per_minute} requests per minute reached",
                           "rate_limit_exceeded", **{"retry-after": str(max(1, round(wait)))})  # fmt: skip
        return kid

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready")
    async def ready() -> JSONResponse:
        loaded = service.loaded
        if loaded is None:
            return error(503, "no model loaded yet", "not_ready")
        return JSONResponse({"status": "ready", "model": loaded.name, "version": loaded.version})

    @app.get("/metrics")
    async def metrics() -> Response:
        m.queue_depth.set(service.engine.depth)
        return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/models")
    async def models(_kid: str = Depends(caller)) -> dict[str, Any]:
        loaded = service.loaded
        data = [] if loaded is None else [_model_card(service, loaded.version)]
        return {"object": "list", "data": data}

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest, request: Request, kid: str = Depends(caller)) -> Response:
        messages = [{"role": "system" if x.role == "developer" else x.role, "content": x.text()} for x in body.messages]
        call = _Call(service, body, request, kid, "chat", messages)
        jobs = await call.admit(lambda tok, msgs: [encode_chat(tok, msgs)], body.max_completion_tokens)
        if body.stream:
            return await call.stream(jobs[0])
        return await call.respond(jobs)

    @app.post("/v1/completions")
    async def completions(body: CompletionRequest, request: Request, kid: str = Depends(caller)) -> Response:
        prompts = body.prompts()
        if body.stream and len(prompts) > 1:
            raise ApiError(400, "stream supports one prompt per request", "invalid_request", "prompt")
        messages = [{"role": "user", "content": p} for p in prompts]
        call = _Call(service, body, request, kid, "completions", messages)
        jobs = await call.admit(lambda tok, msgs: [encode_text(tok, x["content"]) for x in msgs], None)
        if body.stream:
            return await call.stream(jobs[0])
        return await call.respond(jobs)

    @app.post("/feedback")
    async def feedback(body: FeedbackRequest, _kid: str = Depends(caller)) -> dict[str, Any]:
        try:
            fid = await run_in_threadpool(service.log.add_feedback, body.request_id, body.rating, body.correction,
                                          body.comment)  # fmt: skip
        except UnknownRequestError as err:
            raise ApiError(404, str(err), "request_not_found", "request_id") from None
        m.feedback.labels(str(body.rating)).inc()
        return {"object": "feedback", "id": fid, "request_id": body.request_id}

    return app


def _model_card(service: Service, version: str) -> dict[str, Any]:
    return {"id": service.model_name, "object": "model", "created": 0, "owned_by": "llmops", "version": version}


class _Call:
    """One completion request from admission (model, guard, limits) to its log entry."""

    def __init__(self, service: Service, body: _Sampling, request: Request, kid: str, endpoint: str,
                 messages: list[dict[str, str]]) -> None:  # fmt: skip
        self.service, self.body, self.endpoint = service, body, endpoint
        self.started = time.perf_counter()
        self.prefix = "chatcmpl" if endpoint == "chat" else "cmpl"
        self.id = f"{self.prefix}-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.conversation = body.conversation_id() or request.headers.get("x-conversation-id") or uuid.uuid4().hex
        self.entry = Entry(id=self.id, endpoint=endpoint, messages=messages, status=200, api_key_id=kid,
                           conversation_id=self.conversation)  # fmt: skip
        self.timing: dict[str, float] = {}

    def fail(self, err: ApiError) -> ApiError:
        """Log a refused or failed request; its id goes back in x-request-id, so it can be rated too."""
        self.entry.status, self.entry.error = err.status, err.message
        err.headers["x-request-id"] = self.id
        self.finish()
        return err

    async def admit(self, encode, max_completion_tokens: int | None) -> list[Job]:
        s, body = self.service, self.body
        if body.model != s.model_name:
            raise ApiError(404, f"model {body.model!r} does not exist; this server serves {s.model_name!r}",
                           "model_not_found", "model")  # fmt: skip
        loaded = s.loaded
        if loaded is None:
            raise ApiError(503, "no model loaded yet", "not_ready")
        max_tokens = max_completion_tokens or body.max_tokens or s.params.default_max_tokens
        if max_tokens > s.params.max_new_tokens:
            raise ApiError(400, f"max_tokens: at most {s.params.max_new_tokens} (serving.max_new_tokens)",
                           "invalid_request", "max_tokens")  # fmt: skip
        t0 = time.perf_counter()
        screened = await run_in_threadpool(s.guard.screen, self.entry.messages)
        self.timing["guard"] = time.perf_counter() - t0
        self.entry.guard = screened.verdicts
        for check, verdict in screened.verdicts.items():
            s.metrics.guard.labels(check, verdict).inc()
        if screened.blocked:
            raise self.fail(ApiError(400, f"blocked by the input guard: {screened.blocked}", "content_policy"))
        prompts = await run_in_threadpool(encode, loaded.tokenizer, screened.messages)
        longest = max(len(p) for p in prompts)
        if longest > s.params.max_input_tokens:
            raise self.fail(ApiError(400, f"the prompt has {longest} tokens; at most {s.params.max_input_tokens} "
                                     "(serving.max_input_tokens)", "context_length_exceeded", "messages"))  # fmt: skip
        self.entry.prompt_tokens = sum(len(p) for p in prompts)
        loop = asyncio.get_running_loop()
        jobs = [Job(p, max_tokens, body.temperature, body.stops(), loop) for p in prompts]
        try:
            for job in jobs:
                s.engine.submit(job)
        except QueueFullError as err:
            raise self.fail(ApiError(503, f"the server is at capacity ({err}); retry shortly", "overloaded",
                                     **{"retry-after": "1"})) from None  # fmt: skip
        return jobs

    def headers(self, version: str) -> dict[str, str]:
        timing = ", ".join(f"{k};dur={v * 1000:.2f}" for k, v in self.timing.items())
        return {"x-request-id": self.id, "x-model-version": version, "x-conversation-id": self.conversation,
                "server-timing": timing}  # fmt: skip

    async def _version(self, job: Job) -> str:
        kind, value = await job.events.get()
        if kind == "error":
            raise self.fail(ApiError(500, f"generation failed: {value}", "generation_failed"))
        return value

    def _envelope(self, version: str, choices: list[dict[str, Any]], streamed: bool) -> dict[str, Any]:
        kind = "text_completion" if self.endpoint == "completions" else "chat.completion"
        return {"id": self.id, "object": f"{kind}.chunk" if streamed and self.endpoint == "chat" else kind,
                "created": self.created, "model": self.body.model,
                "system_fingerprint": f"{self.service.model_name}/v{version}", "choices": choices}  # fmt: skip

    def _chunk(self, version: str, choice: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps(self._envelope(version, [choice], streamed=True)) + b"\n\n"

    def _choice(self, index: int, text: str | None, finish: str | None, delta: bool) -> dict[str, Any]:
        if self.endpoint == "completions":
            return {"index": index, "text": text or "", "finish_reason": finish, "logprobs": None}
        if delta:
            return {"index": index, "delta": {} if text is None else {"content": text}, "finish_reason": finish}
        return {"index": index, "message": {"role": "assistant", "content": text}, "finish_reason": finish}

    async def stream(self, job: Job) -> StreamingResponse:
        version = await self._version(job)
        self.entry.model_version = version
        return StreamingResponse(self._events(job, version), media_type="text/event-stream",
                                 headers=self.headers(version))  # fmt: skip

    async def _events(self, job: Job, version: str) -> AsyncIterator[bytes]:
        first = True
        try:
            while True:
                kind, value = await job.events.get()
                if kind == "delta":
                    if first:
                        self.service.metrics.first_token.observe(time.perf_counter() - self.started)
                        if self.endpoint == "chat":
                            yield self._chunk(version, {"index": 0, "delta": {"role": "assistant", "content": ""},
                                                        "finish_reason": None})  # fmt: skip
                        first = False
                    yield self._chunk(version, self._choice(0, value, None, delta=True))
                elif kind == "error":
                    self.entry.status, self.entry.error = 500, str(value)
                    yield b"data: " + orjson.dumps(_error_body(500, f"generation failed: {value}", "generation_failed"))
                    yield b"\n\n"
                    return
                else:
                    break
            yield self._chunk(version, self._choice(0, None, job.finish_reason, delta=True))
            options = self.body.stream_options
            if options and options.include_usage:
                usage = {**self._envelope(version, [], streamed=True), "usage": self._usage([job])}
                yield b"data: " + orjson.dumps(usage) + b"\n\n"
            yield b"data: [DONE]\n\n"
        finally:
            self._complete([job], version)

    def _usage(self, jobs: list[Job]) -> dict[str, int]:
        out = sum(len(j.tokens) for j in jobs)
        prompt = self.entry.prompt_tokens or 0
        return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}

    async def respond(self, jobs: list[Job]) -> JSONResponse:
        versions = [await self._version(job) for job in jobs]
        for job in jobs:
            kind, value = await job.events.get()
            while kind == "delta":
                kind, value = await job.events.get()
            if kind == "error":
                raise self.fail(ApiError(500, f"generation failed: {value}", "generation_failed"))
        version = versions[-1]
        self.entry.model_version = version
        self._complete(jobs, version)
        choices = [self._choice(i, j.text, j.finish_reason, delta=False) for i, j in enumerate(jobs)]
        body = {**self._envelope(version, choices, streamed=False), "usage": self._usage(jobs)}
        return JSONResponse(body, headers=self.headers(version))

    def _complete(self, jobs: list[Job], version: str) -> None:
        self.entry.model_version = version
        self.entry.completion = "\n".join(j.text for j in jobs)
        self.entry.completion_tokens = sum(len(j.tokens) for j in jobs)
        queued = min(j.started_at for j in jobs) - min(j.queued_at for j in jobs)
        self.timing["queue"] = max(0.0, queued)
        self.timing["generate"] = time.perf_counter() - min(j.started_at for j in jobs)
        m = self.service.metrics
        m.tokens.labels("in").inc(self.entry.prompt_tokens or 0)
        m.tokens.labels("out").inc(self.entry.completion_tokens)
        self.finish()

    def finish(self) -> None:
        t0 = time.perf_counter()
        self.entry.latency_ms = (t0 - self.started) * 1000
        self.service.log.record(self.entry)
        self.timing["log"] = time.perf_counter() - t0
