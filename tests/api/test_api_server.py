"""A real uvicorn on 127.0.0.1: the real `openai` client against the compatible endpoint, and
hostile clients (slow body, huge body, malformed JSON, thousands of open connections)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import openai
import pytest

from api.config import ApiConfig
from rag import Settings
from tests.api.serving import running_api
from tests.support import file_text

QUESTION = "Where did Trump hand Putin the letter?"
KEY = "sk-rag-test-0123456789"


@pytest.fixture(scope="module")
def base_url(sample_settings: Settings) -> Iterator[str]:
    config = ApiConfig(
        keys=KEY, rate_per_minute=0, body_timeout=1.0, max_connections=40, keep_alive=1
    )
    with running_api(sample_settings, config) as url:
        yield url


def client(base_url: str, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key=key, max_retries=0, timeout=60)


def test_the_openai_client_gets_a_cited_answer(base_url: str, sample_settings: Settings) -> None:
    ai = client(base_url)
    assert [m.id for m in ai.models.list()] == ["rag-news"]
    completion = ai.chat.completions.create(
        model="rag-news",
        messages=[
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": QUESTION},
        ],
    )
    content = completion.choices[0].message.content or ""
    assert "Alaska" in content and "[1]" in content and "\n\nSources:\n[1] " in content
    citations = (completion.model_extra or {})["citations"]
    assert citations and citations[0]["n"] == 1
    for c in citations:
        assert file_text(sample_settings, c["source_file"])[c["start"] : c["end"]] == c["quote"]
        assert c["quote"] in content
    assert completion.choices[0].finish_reason == "stop"


def test_the_openai_client_streams_the_same_answer(base_url: str) -> None:
    ai = client(base_url)
    messages = [{"role": "user", "content": QUESTION}]
    plain = ai.chat.completions.create(model="rag-news", messages=messages)  # type: ignore[arg-type]
    stream = ai.chat.completions.create(model="rag-news", messages=messages, stream=True)  # type: ignore[arg-type]
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert len(chunks) > 3 and text == plain.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"] == (plain.model_extra or {})["citations"]


def test_the_openai_client_follows_a_conversation(base_url: str) -> None:
    ai = client(base_url)
    first = ai.chat.completions.create(
        model="rag-news",
        messages=[{"role": "user", "content": "Did Trump deliver Melania's letter to Putin?"}],
    )
    follow = ai.chat.completions.create(
        model="rag-news",
        messages=[
            {"role": "user", "content": "Did Trump deliver Melania's letter to Putin?"},
            {"role": "assistant", "content": first.choices[0].message.content or ""},
            {"role": "user", "content": "Where did he give it to him?"},
        ],
    )
    assert "Alaska" in (follow.choices[0].message.content or "")


def test_the_openai_client_sees_errors_as_errors(base_url: str) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(base_url, "wrong").chat.completions.create(
            model="rag-news", messages=[{"role": "user", "content": QUESTION}]
        )
    with pytest.raises(openai.NotFoundError, match="model_not_found|rag-news"):
        client(base_url).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": QUESTION}]
        )
    with pytest.raises(openai.BadRequestError):
        client(base_url).chat.completions.create(
            model="rag-news", messages=[{"role": "assistant", "content": "Hello"}]
        )


def _raw(base_url: str) -> socket.socket:
    parts = urlsplit(base_url)
    return socket.create_connection((parts.hostname or "", parts.port or 80), timeout=10)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        while chunk := sock.recv(65536):
            data += chunk
    return data


def test_a_slow_body_is_cut_off(base_url: str) -> None:
    sock = _raw(base_url)
    head = (
        "POST /v1/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Length: 200\r\n\r\n"
    )
    sock.sendall(head.encode())
    started = time.monotonic()
    reply = b""
    for byte in b'{"question": "' * 10:  # a byte every 0.1 s: never done in 1 s
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            break
        time.sleep(0.1)
        if time.monotonic() - started > 3:
            break
    reply = _read_all(sock)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in reply


def test_a_huge_body_is_refused_unread(base_url: str) -> None:
    sock = _raw(base_url)
    head = (
        "POST /v1/answer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Length: 10000000000\r\n\r\n"
    )
    sock.sendall(head.encode() + b"{" * 1000)
    reply = _read_all(sock)
    sock.close()
    assert reply.startswith(b"HTTP/1.1 413") and b'"body_too_large"' in reply

    # Without a declared length (chunked), counted while reading.
    def chunks() -> Iterator[bytes]:
        for _ in range(200):
            yield b" " * 65536

    response = httpx.post(
        f"{base_url}/v1/answer", content=chunks(), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"


def test_malformed_json_over_the_wire(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/v1/chat/completions",
        content=b'{"model": "rag-news", "messages": [',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


def test_thousands_of_idle_connections_are_bounded(base_url: str) -> None:
    parts = urlsplit(base_url)
    address = (parts.hostname or "", parts.port or 80)
    idle = [socket.create_connection(address, timeout=10) for _ in range(2000)]
    try:
        over = httpx.get(f"{base_url}/healthz", timeout=10)
        assert over.status_code == 503  # past max_connections: refused at once, not queued
        time.sleep(2.5)  # the keep-alive time (1 s) passes: silent connections are closed
        closed = 0
        for sock in idle:
            sock.settimeout(2)
            with contextlib.suppress(TimeoutError, ConnectionResetError):
                closed += sock.recv(1) == b""
        assert closed == len(idle)
    finally:
        for sock in idle:
            sock.close()
    assert httpx.get(f"{base_url}/healthz", timeout=10).status_code == 200
    answer = httpx.post(
        f"{base_url}/v1/answer",
        json={"question": QUESTION},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    )
    assert answer.status_code == 200 and answer.json()["citations"]
