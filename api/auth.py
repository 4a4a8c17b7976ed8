"""Who is asking: the API key (`Authorization: Bearer KEY`) or, with no keys configured, the
client's address; and each one's rate limit."""

from __future__ import annotations

import math

from fastapi import Request

from api.errors import ApiError
from api.service import Service


def service(request: Request) -> Service:
    """The app's `Service`."""
    found: Service = request.app.state.service
    return found


async def client(request: Request) -> str:
    """The caller's id (`key:<digest prefix>` or `addr:<ip>`), once authenticated and within
    its rate limit; 401 or 429 otherwise."""
    svc = service(request)
    if svc.keys.enabled:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "unauthorized",
                "This server needs an API key: send 'Authorization: Bearer <key>'.",
                {"WWW-Authenticate": "Bearer"},
            )
        who = svc.keys.identify(token.strip())
        if who is None:
            raise ApiError(
                401, "unauthorized", "The API key is not valid.", {"WWW-Authenticate": "Bearer"}
            )
        ident = f"key:{who}"
    else:
        ident = f"addr:{request.client.host if request.client else 'unknown'}"
    wait = svc.limiter.check(ident)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"More than {svc.limiter.per_minute} requests a minute; retry in {math.ceil(wait)} s.",
            {"Retry-After": str(math.ceil(wait))},
        )
    return ident


async def editor(request: Request) -> str:
    """A caller allowed to add and remove articles: one with a key, or anyone when
    `RAG_API_OPEN_UPLOADS` is set on a keyless loopback server; 403 otherwise."""
    ident = await client(request)
    svc = service(request)
    if not svc.keys.enabled and not svc.config.open_uploads:
        raise ApiError(
            403,
            "uploads_disabled",
            "Adding and removing articles needs an API key: start the server with "
            "RAG_API_KEYS set (or RAG_API_OPEN_UPLOADS=true on a loopback server without keys).",
        )
    return ident
