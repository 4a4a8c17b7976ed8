"""Request bodies bounded in size and in time, before the application sees them.

A body larger than the limit (declared or counted while reading) is answered 413; a client
that takes longer than `body_timeout` to send it (a slow-body attack, or a stalled one) gets 408.
The body is read whole here (at most the limit) and handed on, so handlers never wait on a
client.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body

Limit = Callable[[Scope], int]


class BoundedBody:
    """ASGI middleware: read each HTTP request's body within `limit(scope)` bytes and `timeout`
    seconds, or answer with a JSON error."""

    def __init__(self, app: ASGIApp, *, limit: Limit, timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(send, 413, "body_too_large", _too_large(declared, limit))
            return
        try:
            body = await asyncio.wait_for(_read(receive, limit), self.timeout)
        except _TooLarge as exc:
            await _reject(send, 413, "body_too_large", _too_large(exc.size, limit))
            return
        except TimeoutError:
            message = f"The request body took longer than {self.timeout:g} s to arrive."
            await _reject(send, 408, "request_timeout", message, close=True)
            return
        if body is None:  # the client left
            return
        await self.app(scope, _replay(body, receive), send)


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        self.size = size


async def _read(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge(size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the client's disconnect, when it comes

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _too_large(size: int, limit: int) -> str:
    return f"The request body is over {limit:,} bytes (at least {size:,}); send less."


async def _reject(send: Send, status: int, code: str, message: str, close: bool = False) -> None:
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
