"""Reading one chat completion off the wire, bounded in time and size.

The `openai` client's timeout applies to each read, so a server that drips a byte every few
seconds, or streams forever, is never timed out by it. Here the request runs in a worker
thread that hands text to the caller through a queue; the caller waits on the queue only until
one deadline for the whole call (retries and stream included) and stops reading past a size
cap. A worker left behind at the deadline stops at its next read (each attempt's own timeout
is the time that was left) and its output is never read.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rag.types import Usage

Emit = Callable[[str], None]
Work = Callable[[Emit, threading.Event], None]


class Deadline:
    """A point in time every request of one answer must finish by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self._at - time.monotonic())


@dataclass
class Completion:
    """Filled in while a completion arrives."""

    usage: Usage | None = None
    finish_reason: str | None = None
    cut: str | None = None  # "deadline" or "size": the caller stopped reading
    pieces: list[str] = field(default_factory=list)


@dataclass
class _Failed:
    error: BaseException


_DONE = object()


def bounded(
    work: Work, deadline: Deadline, max_chars: int, completion: Completion
) -> Iterator[str]:
    """Run `work` in a thread; yield the text it emits until it ends, the deadline passes
    (`completion.cut = "deadline"`) or `max_chars` have been yielded (`cut = "size"`).

    An exception raised by `work` is raised here.
    """
    inbox: queue.Queue[object] = queue.Queue()
    stop = threading.Event()

    def run() -> None:
        try:
            work(inbox.put, stop)
            inbox.put(_DONE)
        except BaseException as exc:  # handed to the caller, who decides what it means
            inbox.put(_Failed(exc))

    threading.Thread(target=run, daemon=True, name="rag-llm-call").start()
    taken = 0
    try:
        while True:
            try:
                item = inbox.get(timeout=deadline.remaining())
            except queue.Empty:
                completion.cut = "deadline"
                return
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            text = str(item)
            if taken + len(text) > max_chars:
                completion.cut = "size"
                text = text[: max_chars - taken]
            taken += len(text)
            if text:
                completion.pieces.append(text)
                yield text
            if completion.cut:
                return
    finally:
        stop.set()


def read_stream(
    chunks: Iterable[bytes], emit: Emit, stop: threading.Event, completion: Completion, cap: int
) -> None:
    """Parse an SSE chat-completion stream, emitting its text; lines over `cap` bytes end it."""
    buffer = b""
    for chunk in chunks:
        if stop.is_set():
            return
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        if len(buffer) > cap:
            completion.cut = "size"  # one endless event: never buffered whole
            return
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                return
            _take_chunk(json.loads(payload), emit, completion)


def _take_chunk(data: Any, emit: Emit, completion: Completion) -> None:
    if not isinstance(data, dict):
        raise ValueError("a stream event is not a JSON object")
    if "error" in data:
        raise ValueError(f"the stream reported an error: {data['error']}")
    if data.get("usage"):
        completion.usage = usage_of(data["usage"])
    for choice in data.get("choices") or []:
        completion.finish_reason = choice.get("finish_reason") or completion.finish_reason
        content = (choice.get("delta") or {}).get("content")
        if content:
            emit(str(content))


def read_body(
    chunks: Iterable[bytes], emit: Emit, stop: threading.Event, completion: Completion, cap: int
) -> None:
    """Read a JSON chat completion of at most `cap` bytes and emit its text; from a larger
    body, only the start of its text is kept (`completion.cut = "size"`)."""
    body = bytearray()
    for chunk in chunks:
        if stop.is_set():
            return
        body += chunk
        if len(body) > cap:
            completion.cut = "size"
            emit(partial_content(bytes(body[:cap])))
            return
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the body is not a JSON object")
    if data.get("usage"):
        completion.usage = usage_of(data["usage"])
    choices = data.get("choices") or []
    choice = choices[0] if choices else {}
    completion.finish_reason = choice.get("finish_reason")
    emit(str((choice.get("message") or {}).get("content") or ""))


def partial_content(body: bytes) -> str:
    """The start of the message text of a JSON body that was cut short."""
    text = body.decode("utf-8", errors="ignore")
    key = text.find('"content"')
    start = text.find('"', text.find(":", key) + 1) if key >= 0 else -1
    if start < 0:
        return ""
    try:  # the text ended before the cut
        return str(json.JSONDecoder().raw_decode(text, start)[0])
    except ValueError:
        pass
    for trim in range(7):  # the cut fell inside the text, perhaps inside an escape sequence
        try:
            return str(json.loads(text[start : len(text) - trim] + '"'))
        except ValueError:
            continue
    return ""


def usage_of(raw: Any) -> Usage:
    """Token counts from a provider's `usage` object (dict or model)."""
    data: dict[str, Any] = raw if isinstance(raw, dict) else vars(raw)
    return Usage(
        prompt_tokens=data.get("prompt_tokens") or 0,
        completion_tokens=data.get("completion_tokens") or 0,
        total_tokens=data.get("total_tokens") or 0,
    )
