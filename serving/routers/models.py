"""GET /v1/models (and /v1/models/{id}): the one model this server serves, at the version now loaded."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.dependencies import CallerDep, ServiceDep
from serving.errors import ApiError
from serving.service import Service

router = APIRouter()


def model_card(service: Service, version: str) -> dict[str, Any]:
    return {"id": service.model_name, "object": "model", "created": 0, "owned_by": "llmops", "version": version}


@router.get("/v1/models")
async def list_models(_kid: CallerDep, service: ServiceDep) -> dict[str, Any]:
    loaded = service.loaded
    return {"object": "list", "data": [] if loaded is None else [model_card(service, loaded.version)]}


@router.get("/v1/models/{model_id}")
async def retrieve_model(model_id: str, _kid: CallerDep, service: ServiceDep) -> dict[str, Any]:
    loaded = service.loaded
    if model_id != service.model_name or loaded is None:
        raise ApiError(404, f"model {model_id!r} does not exist; this server serves {service.model_name!r}",
                       "model_not_found", "model")  # fmt: skip
    return model_card(service, loaded.version)
