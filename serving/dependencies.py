"""What a route takes from the request: the service the app was built with, and who is calling (auth, rate limit)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from serving.access import authenticate
from serving.errors import ApiError
from serving.service import Service


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def caller(request: Request, service: ServiceDep) -> str:
    """The API key's id (or the client address without auth), once it is within its rate limit."""
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


CallerDep = Annotated[str, Depends(caller)]
