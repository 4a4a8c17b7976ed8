"""`rag serve`: the API on uvicorn, with its connection limits, refusing to listen beyond this
machine without API keys."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.app import create_app
from api.config import ApiConfig, is_loopback
from rag.config import Settings
from rag.errors import ConfigError


class IdleClosingProtocol(H11Protocol):
    """uvicorn's HTTP protocol, closing a connection that sends nothing within the keep-alive
    time (uvicorn only times out connections after a first response: thousands of silent
    sockets would hold their slots under `limit_concurrency` forever)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )


def check_exposure(host: str, config: ApiConfig) -> None:
    """Refuse to listen off loopback without keys.

    Raises:
        ConfigError: `host` is reachable from other machines and RAG_API_KEYS is empty.
    """
    if not is_loopback(host) and not config.key_list():
        raise ConfigError(
            f"Refusing to serve on {host} without API keys: anyone who can reach it could ask "
            "and add articles. Set RAG_API_KEYS (comma-separated keys), or serve on 127.0.0.1."
        )


def uvicorn_config(
    app: Any, host: str, port: int, config: ApiConfig, log_level: str = "info"
) -> uvicorn.Config:
    """The server's settings: connection and idle limits from `config`."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=IdleClosingProtocol,
        limit_concurrency=config.max_connections,
        timeout_keep_alive=config.keep_alive,
        timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=64 * 1024,  # request line and headers
        proxy_headers=False,
        server_header=False,
        log_level=log_level,
    )


def serve(host: str, port: int, settings: Settings, config: ApiConfig) -> None:
    """Serve until interrupted (the index and models load before the port opens)."""
    check_exposure(host, config)
    app = create_app(settings, config)
    uvicorn.Server(uvicorn_config(app, host, port, config)).run()
