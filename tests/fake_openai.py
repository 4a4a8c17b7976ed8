"""An OpenAI-protocol HTTP server on 127.0.0.1 with scripted replies, for tests.

Speaks `POST /v1/chat/completions`, plain JSON or SSE chunks when the request streams,
and records every request body so tests can check what was sent.
"""

from __future__ import annotations

import json
import select
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: text (split into `pieces` when streamed) or an HTTP error."""

    text: str = ""
    status: int = 200
    pieces: int = 4
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None  # streamed pieces sent before the connection drops
    raw_body: str | None = None  # sent as is (e.g. malformed JSON)
    raw_stream: bytes | None = None  # sent as is as an event stream (e.g. one huge event)
    delay: float = 0.0  # seconds before answering (for read timeouts)
    message: str | None = None  # the error message of a non-200 reply
    drip: float = 0.0  # send the reply one byte at a time, this many seconds apart
    endless: bool = False  # stream `text` again and again (until the client leaves, <= 60 s)
    finish: str = "stop"  # the finish reason ("length": the token limit was reached)
    hold: float = 0.0  # stream one piece, then say nothing for this long, watching the client


class FakeOpenAI:
    """Start with `with FakeOpenAI() as server:`; `server.base_url` goes to OPENAI_BASE_URL."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.disconnects: list[float] = []  # when a held stream saw its client hang up
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def script(self, *replies: Reply | str) -> None:
        """Queue replies, served in order; plain strings are 200 answers."""
        self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                reply = fake.replies.popleft() if fake.replies else Reply("(no reply scripted)")
                time.sleep(reply.delay)
                try:
                    self._reply(body, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what bounded clients do

            def _reply(self, body: dict[str, Any], reply: Reply) -> None:
                if reply.raw_body is not None:
                    data = reply.raw_body.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif reply.raw_stream is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for at in range(0, len(reply.raw_stream), 1 << 20):
                        self.wfile.write(reply.raw_stream[at : at + (1 << 20)])
                elif reply.status != 200:
                    message = reply.message or f"scripted {reply.status}"
                    self._send_json(
                        reply.status,
                        {"error": {"message": message, "type": "server_error"}},
                        reply.headers,
                    )
                elif reply.drip:
                    self._drip(body, reply)
                elif reply.hold:
                    self._hold(body["model"], reply)
                elif reply.endless:
                    self._send_endless(body["model"], reply)
                elif body.get("stream"):
                    self._send_stream(body["model"], reply)
                else:
                    self._send_json(200, _completion(body["model"], reply.text, reply.finish))

            def _drip(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                if body.get("stream"):
                    self.send_header("Content-Type", "text/event-stream")
                    events = [_chunk(body["model"], {"content": ch}, None) for ch in reply.text]
                    data = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
                else:
                    data = json.dumps(_completion(body["model"], reply.text)).encode()
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.drip)

            def _hold(self, model: str, reply: Reply) -> None:
                """Like a server still generating: one piece, then silence; a client that
                closes the connection is seen at once (its socket reads as ended)."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self._event(_chunk(model, {"content": reply.text}, None))
                stop_at = time.monotonic() + reply.hold
                poller = select.poll()
                poller.register(self.connection, select.POLLIN)
                while time.monotonic() < stop_at:
                    # poll, not select: a long test run's descriptors pass select's 1,024
                    ready = poller.poll(50)
                    if ready and not self.connection.recv(1):
                        fake.disconnects.append(time.monotonic())
                        return

            def _send_endless(self, model: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                stop_at = time.monotonic() + 60  # a test server stops by itself
                while time.monotonic() < stop_at:
                    self._event(_chunk(model, {"content": reply.text}, None))
                    time.sleep(0.01)

            def _send_json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, model: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                size = max(1, -(-len(reply.text) // reply.pieces))
                for n, i in enumerate(range(0, len(reply.text), size)):
                    if reply.cut_after is not None and n == reply.cut_after:
                        self.close_connection = True
                        return  # the connection drops mid-stream: no finish, no [DONE]
                    self._event(_chunk(model, {"content": reply.text[i : i + size]}, None))
                    time.sleep(0.001)
                self._event(_chunk(model, {}, reply.finish))
                self._event({**_chunk(model, {}, None), "choices": [], "usage": _usage(reply.text)})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _usage(text: str) -> dict[str, int]:
    return {
        "prompt_tokens": 100,
        "completion_tokens": len(text.split()),
        "total_tokens": 100 + len(text.split()),
    }


def _completion(model: str, text: str, finish: str = "stop") -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": finish, "message": {"role": "assistant", "content": text}}
        ],
        "usage": _usage(text),
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
