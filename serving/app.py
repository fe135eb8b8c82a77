"""The HTTP API: OpenAI-compatible completions in front of the registry's champion, plus health, metrics, feedback.

    llmops serve                      # params.yaml serving: section; then point any OpenAI client at it:
    OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...").chat.completions.create(model="llmops-support", ...)

Every response names the version that answered (`system_fingerprint`, `x-model-version`) and its request id
(`x-request-id`, the id `/feedback` takes). Every error, the client's or ours, has OpenAI's error body.
"""

from __future__ import annotations

import time
import uuid
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.errors import error_response, install_handlers
from serving.routers import chat, completions, feedback, health, models
from serving.service import Service
from tasks.monitoring.request_log import Entry


def create_app(service: Service) -> FastAPI:
    """Assemble the app: the service in `app.state`, its lifespan, error bodies, the size check and the routers."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.start()
        yield
        service.stop()

    # /docs and /redoc with their scripts served from the package, not a CDN: they work on a machine offline
    app = FastAPIOffline(title="llmops serving", version="1", lifespan=lifespan)
    app.state.service = service
    install_handlers(app)
    app.add_middleware(Observe)
    for module in (health, models, chat, completions, feedback):
        app.include_router(module.router)
    return app


PROBES = {"/health", "/ready", "/metrics"}  # polled all day: counted, never written to the request log


class Observe:
    """Give every request an id (x-request-id), refuse bodies over serving.max_request_bytes before reading them,
    count and time every answer, and log every refusal that no completion call logged (auth, limits, bad bodies,
    unknown routes) with its status.

    Plain ASGI rather than `@app.middleware("http")`: that wrapper hides the client's disconnect from the routes,
    and a completion whose client went away must stop generating.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        service: Service = request.app.state.service
        request.state.request_id, request.state.logged = f"req-{uuid.uuid4().hex}", False
        started, status = time.perf_counter(), [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                MutableHeaders(scope=message).setdefault("x-request-id", request.state.request_id)
            await send(message)

        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > service.params.max_request_bytes:
            limit = service.params.max_request_bytes
            refusal = error_response(request, 413, f"the request body is over serving.max_request_bytes ({limit} "
                                     "bytes)", "too_large")  # fmt: skip
            await refusal(scope, receive, send_with_id)
        else:
            await self.app(scope, receive, send_with_id)
        endpoint = _endpoint(request)
        service.metrics.requests.labels(endpoint, str(status[0])).inc()
        service.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        if status[0] >= 400 and not request.state.logged and endpoint not in PROBES:
            service.log.record(Entry(id=request.state.request_id, endpoint=endpoint[:32], messages=[],
                                     status=status[0], error=getattr(request.state, "error", None),
                                     latency_ms=(time.perf_counter() - started) * 1000))  # fmt: skip


def _endpoint(request: Request) -> str:
    """The route's path template (bounded label values); FastAPI's own pages (/docs, /openapi.json) by their path."""
    route = request.scope.get("route") or next(
        (r for r in request.app.routes if request.scope.get("endpoint") is getattr(r, "endpoint", False)), None
    )
    return getattr(route, "path", None) or "unmatched"
