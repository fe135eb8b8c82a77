"""/health (the process is up), /ready (a model is loaded), /metrics (Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.dependencies import ServiceDep
from serving.errors import error_response

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request, service: ServiceDep) -> JSONResponse:
    loaded = service.loaded
    if loaded is None:
        return error_response(request, 503, "no model loaded yet", "not_ready")
    return JSONResponse({"status": "ready", "model": loaded.name, "version": loaded.version})


@router.get("/metrics")
async def metrics(service: ServiceDep) -> Response:
    service.metrics.queue_depth.set(service.engine.depth)
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)
