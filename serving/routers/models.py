"""GET /v1/models: the one model this server serves, at the version now loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.dependencies import CallerDep, ServiceDep
from serving.service import Service

router = APIRouter()


def model_card(service: Service, version: str) -> dict[str, Any]:
    return {"id": service.model_name, "object": "model", "created": 0, "owned_by": "llmops", "version": version}


@router.get("/v1/models")
async def list_models(_kid: CallerDep, service: ServiceDep) -> dict[str, Any]:
    loaded = service.loaded
    return {"object": "list", "data": [] if loaded is None else [model_card(service, loaded.version)]}
