"""`POST /v1/chat/completions` in OpenAI's shape, so existing clients (the `openai` SDKs, Open
WebUI, curl scripts) can ask without new code.

The message content is the cited answer (`[n]` markers) followed by its sources, readable in any
chat client; the structured citations ride in an extra `citations` field (on the completion,
or on a stream's last chunk). The last message is the question; earlier user and assistant
messages are the conversation; system messages are ignored (the answer comes from the articles,
not from instructions). A stream carries the verified answer: an OpenAI client cannot take back
text it has shown, so no draft sentence that verification would drop is ever sent.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.auth import service
from api.errors import ApiError
from api.models import (
    MODEL_NAME,
    AssistantMessage,
    ChatChoice,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    ChatUsage,
    ModelCard,
    ModelList,
)
from api.routes import ERRORS, SSE, Client, check_question
from rag.history import Message
from rag.types import Answer, Citation

router = APIRouter(tags=["openai-compatible"])
SOURCES_HEADER = "\n\nSources:\n"
CLOSEST_HEADER = "\n\nClosest passages (they do not answer the question):\n"
_PIECE = re.compile(r"(?:\S+\s*){1,12}|\s+")  # a stream's pieces: about a dozen words each


@router.get("/v1/models", response_model=ModelList, responses=ERRORS)
async def models(_: Client) -> ModelList:
    """The one model this endpoint serves."""
    return ModelList(data=[ModelCard(id=MODEL_NAME)])


@router.post("/v1/chat/completions", response_model=ChatCompletion, responses={**ERRORS, **SSE})
async def chat_completions(body: ChatRequest, request: Request, _: Client) -> Response:
    """Answer the last user message from the articles, as a chat completion (or its chunks
    when `stream` is true)."""
    if body.model != MODEL_NAME:
        raise ApiError(
            404,
            "model_not_found",
            f"The model {body.model!r} does not exist; use {MODEL_NAME!r} (GET /v1/models).",
        )
    question, history = split_messages(body.messages)
    svc = service(request)
    check_question(svc, question)
    pipeline = await run_in_threadpool(svc.pipeline)
    result = await run_in_threadpool(pipeline.answer, question, history=history)
    completion = to_completion(result)
    if body.stream:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(
            _chunks(completion), media_type="text/event-stream", headers=headers
        )
    return JSONResponse(completion.model_dump(mode="json"))


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[Message]]:
    """The question (the last message, a user's) and the conversation before it."""
    last = messages[-1]
    if last.role != "user" or not last.text().strip():
        raise ApiError(400, "bad_input", "The last message must be the user's question (text).")
    history: list[Message] = []
    for message in messages[:-1]:
        if message.role in ("user", "assistant") and message.text().strip():
            text = message.text()
            if message.role == "assistant":  # our own answers: their source lists are not chat
                text = text.split(SOURCES_HEADER, 1)[0].split(CLOSEST_HEADER, 1)[0]
            history.append({"role": message.role, "content": text})
    return last.text(), history


def content(result: Answer) -> str:
    """The answer and its numbered sources, as a chat client shows message text."""
    text = result.text
    if result.citations:
        text += SOURCES_HEADER + "\n".join(_source_line(c, f"[{c.n}]") for c in result.citations)
    if result.closest:
        text += CLOSEST_HEADER + "\n".join(_source_line(c, "-") for c in result.closest)
    return text


def _source_line(c: Citation, label: str) -> str:
    date = c.date.isoformat() if c.date else "undated"
    title = f"{c.title} — " if c.title and c.title != c.source_file else ""
    return f'{label} {title}{c.source_file} ({date}): "{c.quote}"'


def to_completion(result: Answer) -> ChatCompletion:
    """The answer as a chat completion, citations in the extra field."""
    usage = result.usage
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=MODEL_NAME,
        choices=[
            ChatChoice(
                message=AssistantMessage(content=content(result)),
                finish_reason="length" if result.incomplete else "stop",
            )
        ],
        usage=ChatUsage(
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            total_tokens=usage.total_tokens if usage else 0,
        ),
        citations=result.citations,
        refused=result.refused,
    )


def _chunks(completion: ChatCompletion) -> Iterator[str]:
    """The completion as `chat.completion.chunk` events, then `[DONE]`."""
    head = {"id": completion.id, "created": completion.created, "model": completion.model}
    head["object"] = "chat.completion.chunk"

    def event(delta: dict[str, str], finish: str | None = None, **extra: object) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return f"data: {json.dumps({**head, 'choices': [choice], **extra})}\n\n"

    choice = completion.choices[0]
    yield event({"role": "assistant", "content": ""})
    for piece in _PIECE.findall(choice.message.content):
        yield event({"content": piece})
    citations = [c.model_dump(mode="json") for c in completion.citations]
    yield event(
        {},
        choice.finish_reason,
        citations=citations,
        refused=completion.refused,
        usage=completion.usage.model_dump(),
    )
    yield "data: [DONE]\n\n"
