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
    """The API key's id (or the client address without auth), once it is within its rate limit. An address that
    sent too many bad keys is refused (429) before its key is even checked, until its bucket refills."""
    address = f"ip:{request.client.host if request.client else 'unknown'}"
    if not service.keys:
        return _within_limit(service, address)
    if wait := service.auth_failures.wait(address):
        limit = service.params.auth_failures_per_minute
        raise ApiError(429, f"too many failed authentications from this address ({limit} per minute)",
                       "rate_limit_exceeded", **{"retry-after": str(max(1, round(wait)))})  # fmt: skip
    kid = authenticate(service.keys, request.headers.get("authorization"))
    if kid is None:
        service.auth_failures.allow(address)
        raise ApiError(401, "missing or invalid API key (Authorization: Bearer <key>)", "invalid_api_key")
    return _within_limit(service, kid)


def _within_limit(service: Service, kid: str) -> str:
    if wait := service.limiter.allow(kid):
        raise ApiError(429, f"rate limit of {service.params.rate_limit_per_minute} requests per minute reached",
                       "rate_limit_exceeded", **{"retry-after": str(max(1, round(wait)))})  # fmt: skip
    return kid


CallerDep = Annotated[str, Depends(caller)]
