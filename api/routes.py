"""The native endpoints: answers (JSON or server-sent events), the articles, health."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.auth import client, editor, service
from api.errors import ApiError, ErrorBody, error_body, from_library
from api.models import AddedArticles, AnswerRequest, ArticleText, Health, RemovedArticle
from api.service import Service
from index.fetch import fetch_page
from index.uploads import save_uploads, upload_path
from rag.errors import BadInputError, RagError
from rag.store.corpus import MAX_UPLOAD_BYTES, UPLOADS_PREFIX
from rag.types import Answer, CorpusInfo, Stream

log = logging.getLogger("api")
router = APIRouter()
Client = Annotated[str, Depends(client)]
Editor = Annotated[str, Depends(editor)]
# The error responses every authenticated endpoint can give, for the OpenAPI page.
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": what}
    for status, what in (
        (400, "Bad input (bad_input, malformed_json, question_too_long)"),
        (401, "No or wrong API key (unauthorized)"),
        (413, "Body too large (body_too_large)"),
        (422, "Body does not match the schema (invalid_request)"),
        (429, "Rate limit (rate_limited; see Retry-After)"),
        (503, "Index not built or store unreachable (index_not_built, store_unavailable)"),
    )
}
SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "draft events, then answer"}
}


def check_question(svc: Service, question: str) -> None:
    """Refuse a question over the configured length (the library bounds its tokens too)."""
    limit = svc.config.max_question_chars
    if len(question) > limit:
        raise ApiError(
            400,
            "question_too_long",
            f"The question is {len(question):,} characters long; the limit is {limit:,}.",
        )


@router.get("/healthz", response_model=Health, response_model_exclude_none=True, tags=["health"])
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz", response_model=Health, tags=["health"], responses={503: {"model": ErrorBody}}
)
def readyz(request: Request) -> Health:
    """The index is open and the models are loaded: answers can be served."""
    svc = service(request)
    try:
        pipeline = svc.pipeline()
        corpus = pipeline.corpus()
    except RagError as exc:
        raise ApiError(503, "not_ready", str(exc)) from None
    return Health(
        status="ready", mode=pipeline.mode, articles=len(corpus.files), chunks=corpus.chunks
    )


@router.post("/v1/answer", response_model=Answer, tags=["answers"], responses=ERRORS)
def answer(body: AnswerRequest, request: Request, _: Client) -> Answer:
    """Answer a question from the indexed articles, with citations."""
    svc = service(request)
    check_question(svc, body.question)
    return svc.pipeline(body.mode).answer(
        body.question,
        top_k=body.top_k,
        filters=body.filters(),
        history=[turn.model_dump() for turn in body.history],
        as_of=body.as_of,
    )


@router.post(
    "/v1/answer/stream",
    tags=["answers"],
    response_class=StreamingResponse,
    responses={**ERRORS, **SSE},
)
async def answer_stream(body: AnswerRequest, request: Request, _: Client) -> StreamingResponse:
    """The answer as server-sent events: `draft` events (`{"text": piece}`) as it is written,
    then one `answer` event (the verified `Answer`), or an `error` event."""
    svc = service(request)
    check_question(svc, body.question)
    pipeline = await run_in_threadpool(svc.pipeline, body.mode)
    stream = await run_in_threadpool(  # bad input raises here, before the first event
        pipeline.stream_answer,
        body.question,
        top_k=body.top_k,
        filters=body.filters(),
        history=[turn.model_dump() for turn in body.history],
        as_of=body.as_of,
    )
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(_events(stream), media_type="text/event-stream", headers=headers)


def _events(stream: Stream) -> Iterator[str]:
    """Server-sent events of an answer stream (iterated in a worker thread by Starlette)."""
    try:
        for item in stream:
            if isinstance(item, Answer):
                yield f"event: answer\ndata: {item.model_dump_json()}\n\n"
            else:
                yield f"event: draft\ndata: {json.dumps({'text': item})}\n\n"
    except RagError as exc:
        error = from_library(exc)
        yield f"event: error\ndata: {json.dumps(error_body(error.code, error.message))}\n\n"
    except Exception:
        log.exception("an answer stream failed")
        body = error_body("internal_error", "The server failed to answer; the error is logged.")
        yield f"event: error\ndata: {json.dumps(body)}\n\n"


@router.get("/v1/articles", response_model=CorpusInfo, tags=["articles"], responses=ERRORS)
def articles(request: Request, _: Client) -> CorpusInfo:
    """The indexed articles: titles, dates, chunk counts, when last indexed."""
    return service(request).pipeline().corpus()


@router.get(
    "/v1/articles/{source:path}", response_model=ArticleText, tags=["articles"], responses=ERRORS
)
def article(source: str, request: Request, _: Client) -> ArticleText:
    """One article and its text (what citation offsets index into)."""
    pipeline = service(request).pipeline()
    files = {f.source_file: f for f in pipeline.corpus().files}
    if source not in files:
        message = f"No indexed article is named {source!r}; GET /v1/articles lists them."
        raise ApiError(404, "not_found", message)
    return ArticleText(**files[source].model_dump(), text=pipeline.source_text(source))


@router.post(
    "/v1/articles",
    response_model=AddedArticles,
    status_code=201,
    tags=["articles"],
    responses={**ERRORS, 403: {"model": ErrorBody, "description": "uploads_disabled"}},
)
def add_articles(
    request: Request,
    _: Editor,
    files: Annotated[list[UploadFile], File(description="Article files.")] = [],  # noqa: B006
    url: Annotated[str | None, Form(description="A web page's address.")] = None,
) -> AddedArticles:
    """Add article files and/or a web page (the chat's rules: types, 5 MB, safe names, the
    download limits), then index them; they are cited as `uploads/<name>`."""
    svc = service(request)
    if not files and not (url and url.strip()):
        raise BadInputError("Send article files (form field 'files') or a page address ('url').")
    uploads = [(f.filename or "", f.file.read(MAX_UPLOAD_BYTES + 1)) for f in files]
    saved, refused = save_uploads(svc.settings, uploads)
    if url and url.strip():
        try:
            saved.append(fetch_page(url, svc.settings).path)
        except RagError as exc:
            refused.append(str(exc))
    if not saved:
        raise BadInputError("Nothing added: " + " ".join(refused))
    report = svc.reindex()
    sources = [UPLOADS_PREFIX + path.name for path in saved]
    skipped = {name: why for name, why in report.skipped.items() if name in sources}
    return AddedArticles(
        added=[s for s in sources if s not in skipped],
        refused=refused,
        summary=report.summary(),
        skipped=skipped,
    )


@router.delete(
    "/v1/articles/{source:path}",
    response_model=RemovedArticle,
    tags=["articles"],
    responses={**ERRORS, 403: {"model": ErrorBody, "description": "uploads_disabled"}},
)
def remove_article(source: str, request: Request, _: Editor) -> RemovedArticle:
    """Remove an uploaded article (`uploads/<name>`): its file, then its chunks."""
    svc = service(request)
    if not source.startswith(UPLOADS_PREFIX):
        upload_path(svc.settings, source)  # raises: only uploads can be removed
    try:
        path = upload_path(svc.settings, source)
    except BadInputError as exc:
        raise ApiError(404, "not_found", str(exc)) from None
    report = svc.reindex(lambda: path.unlink(missing_ok=True))
    return RemovedArticle(removed=source, summary=report.summary())
