"""The FastAPI application: routes, JSON errors, bounded bodies, optional CORS, and the
pipeline loaded before the first request."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from api import chat, errors, routes
from api.config import ApiConfig
from api.limits import BoundedBody
from api.service import Service
from rag.config import Settings
from rag.errors import RagError
from rag.store.corpus import MAX_UPLOAD_BYTES

log = logging.getLogger("api")
UPLOAD_PATH = "/v1/articles"
MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the files


def create_app(
    settings: Settings | None = None, config: ApiConfig | None = None, *, warm: bool = True
) -> FastAPI:
    """The API over the pipeline `settings` describe.

    Args:
        config: keys and limits (default: from the environment).
        warm: load the index and models at start-up (a failure is logged; `/readyz` says why).
    """
    settings = settings or Settings.load()
    config = config or ApiConfig.load()
    service = Service(settings, config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if warm:
            try:
                await run_in_threadpool(service.warm)
            except RagError as exc:
                log.warning("not ready: %s", exc)
        yield

    app = FastAPI(
        title="rag-news",
        summary="Cited answers about a folder of news articles.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.service = service
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(chat.router)
    json_limit = config.max_body_kb * 1024

    def limit(scope: Scope) -> int:
        if scope["path"] == UPLOAD_PATH and scope["method"] == "POST":
            return max(json_limit, MAX_UPLOAD_BYTES + MULTIPART_SLACK)
        return json_limit

    app.add_middleware(BoundedBody, limit=limit, timeout=config.body_timeout)
    if config.origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.origins(),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    return app
