"""The API in tests: in-process through httpx's ASGI transport, or a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.config import ApiConfig
from api.serve import uvicorn_config
from rag.config import Settings


def call(app: FastAPI, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request to `app` in-process (the app's own error handling, no network)."""

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.request(method, url, **kwargs)

    return asyncio.run(go())


def sse_events(text: str) -> list[tuple[str, str]]:
    """(event, data) pairs of a server-sent event stream."""
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((fields.get("event", "message"), fields.get("data", "")))
    return events


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_api(
    settings: Settings, config: ApiConfig | None = None, *, warm: bool = True
) -> Iterator[str]:
    """A real uvicorn serving the API on 127.0.0.1 in a thread (with `rag serve`'s limits);
    yields its base URL once it accepts requests."""
    config = config or ApiConfig()
    port = free_port()
    app = create_app(settings, config, warm=warm)
    server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", port, config, "warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
