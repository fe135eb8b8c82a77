"""The HTTP API: OpenAI-compatible completions in front of the registry's champion, plus health, metrics, feedback.

    llmops serve                      # params.yaml serving: section; then point any OpenAI client at it:
    OpenAI(base_url="http://127.0.0.1:8000/v1", api_key="...").chat.completions.create(model="llmops-support", ...)

Every response names the version that answered (`system_fingerprint`, `x-model-version`) and its request id
(`x-request-id`, the id `/feedback` takes). Every error, the client's or ours, has OpenAI's error body.
"""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from serving.errors import error_response, install_handlers
from serving.routers import chat, completions, feedback, health, models
from serving.service import Service


def create_app(service: Service) -> FastAPI:
    """Assemble the app: the service in `app.state`, its lifespan, error bodies, the size check and the routers."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.start()
        yield
        service.stop()

    app = FastAPI(title="llmops serving", version="1", lifespan=lifespan)
    app.state.service = service
    install_handlers(app)
    app.middleware("http")(_observe)
    for module in (health, models, chat, completions, feedback):
        app.include_router(module.router)
    return app


async def _observe(request: Request, call_next):
    """Refuse bodies over serving.max_request_bytes before reading them; count and time every answer."""
    service: Service = request.app.state.service
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > service.params.max_request_bytes:
        limit = service.params.max_request_bytes
        return error_response(request.app, 413, f"the request body is over serving.max_request_bytes ({limit} bytes)",
                              "too_large")  # fmt: skip
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    endpoint = route.path if route is not None else "unmatched"
    service.metrics.requests.labels(endpoint, str(response.status_code)).inc()
    service.metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
    return response
