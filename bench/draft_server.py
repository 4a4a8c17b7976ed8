"""An OpenAI-protocol server on 127.0.0.1 that answers every chat request with a set draft.

`POST /control/draft {"draft": ...}` sets the next answer; `[@FILE]` markers in it become the
number of FILE's first source in the request's prompt (`<source id="n" file="FILE" …>`), or
`[99]` when no source of FILE was sent. Answers stream as SSE when the request streams, else
come as one JSON body: what `tests/fake_openai.py` does, for the claims benchmark.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SOURCE = re.compile(r'<source id="(\d+)" file="([^"]*)"')
_AT = re.compile(r"\[@([^\]]+)\]")


def resolve(draft: str, prompt: str) -> str:
    """`draft` with each `[@FILE]` replaced by the number of FILE's source in `prompt` that
    shares most words with the draft (a file may come as several chunks)."""
    wanted = set(re.findall(r"\w+", draft.lower()))
    best: dict[str, tuple[int, str]] = {}
    for match in _SOURCE.finditer(prompt):
        n, file = match.groups()
        end = prompt.find("</source>", match.end())
        shared = len(wanted & set(re.findall(r"\w+", prompt[match.end() : end].lower())))
        if file not in best or shared > best[file][0]:
            best[file] = (shared, n)
    return _AT.sub(lambda m: f"[{best.get(m.group(1), (0, '99'))[1]}]", draft)


class DraftServer:
    """`with DraftServer() as server:`; `server.base_url` is its /v1."""

    def __init__(self) -> None:
        self.draft = ""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/v1"

    def __enter__(self) -> DraftServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.endswith("/control/draft"):
                    owner.draft = str(body["draft"])
                    self._send(200, b"{}", "application/json")
                    return
                prompt = str(body["messages"][-1]["content"])
                text = resolve(owner.draft, prompt)
                if body.get("stream"):
                    self._stream(body["model"], text)
                else:
                    message = {"role": "assistant", "content": text}
                    payload = {
                        "id": "draft",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                    }
                    self._send(200, json.dumps(payload).encode(), "application/json")

            def _send(self, status: int, data: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = [text[i : i + 16] for i in range(0, len(text), 16)]
                for piece, finish in [*((p, None) for p in pieces), ("", "stop")]:
                    delta = {"content": piece} if piece else {}
                    choice = {"index": 0, "delta": delta, "finish_reason": finish}
                    event = {"id": "draft", "object": "chat.completion.chunk", "created": 0}
                    event.update(model=model, choices=[choice])
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler
