"""The API in-process (httpx's ASGI transport): every endpoint and error, keys and limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from api.app import create_app
from api.config import ApiConfig
from api.serve import check_exposure
from index import build_index
from rag import Answer, ConfigError, Pipeline, Settings
from rag.types import Citation, CorpusInfo
from tests.api.serving import call, sse_events
from tests.fake_openai import FakeOpenAI, Reply
from tests.support import file_text

QUESTION = "Where did Trump hand Putin the letter?"
ZEBRAS = b"date 2025-09-01 Zebra census\n\nThe 2025 zebra census in Kenya counted 4,812 zebras.\n"
KEY = "sk-rag-test-0123456789"


@pytest.fixture(scope="module")
def app(sample_settings: Settings) -> FastAPI:
    """The API over the shared sample index, without keys (loopback use)."""
    return create_app(sample_settings, ApiConfig(rate_per_minute=0), warm=False)


@pytest.fixture
def own_store(corpus_copy: tuple[Path, Settings], tmp_path: Path) -> Settings:
    """A private store of the sample corpus, with its own upload folder (for writes)."""
    corpus, settings = corpus_copy
    settings = settings.model_copy(
        update={"answer_mode": "extractive", "upload_dir": tmp_path / "uploads"}
    )
    build_index(corpus, settings, progress=False)
    return settings


def error(response: object) -> tuple[int, str]:
    """The status and the stable code of an error response (its body must be the JSON shape)."""
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert "Traceback" not in body["error"]["message"]
    return response.status_code, body["error"]["code"]  # type: ignore[attr-defined]


def test_health_and_readiness(app: FastAPI) -> None:
    assert call(app, "GET", "/healthz").json() == {"status": "ok"}
    ready = call(app, "GET", "/readyz").json()
    assert ready["status"] == "ready" and ready["articles"] == 5 and ready["mode"] == "extractive"


def test_answer_is_the_librarys_answer(app: FastAPI, sample_settings: Settings) -> None:
    response = call(app, "POST", "/v1/answer", json={"question": QUESTION})
    assert response.status_code == 200
    answer = Answer.model_validate(response.json())
    direct = Pipeline.from_settings(sample_settings).answer(QUESTION)
    assert answer.text == direct.text and answer.citations == direct.citations
    assert answer.citations and "Alaska" in answer.text
    for c in answer.citations:
        assert file_text(sample_settings, c.source_file)[c.start : c.end] == c.quote


def test_answer_options_filter_and_converse(app: FastAPI) -> None:
    only = "004_8aaae1f506dad48b.txt"
    body = {"question": "What did the letter say?", "sources": [only], "top_k": 3}
    answer = Answer.model_validate(call(app, "POST", "/v1/answer", json=body).json())
    assert answer.citations and {c.source_file for c in answer.citations} == {only}
    dated = {"question": QUESTION, "since": "2025-08-01", "until": "2025-08-31"}
    answer = Answer.model_validate(call(app, "POST", "/v1/answer", json=dated).json())
    assert all(c.date and c.date.month == 8 for c in answer.citations)
    follow = {
        "question": "Where did he give it to him?",
        "history": [
            {"role": "user", "content": "Did Trump deliver Melania's letter to Putin?"},
            {"role": "assistant", "content": "Yes, Trump delivered the letter by hand [1]."},
        ],
    }
    answer = Answer.model_validate(call(app, "POST", "/v1/answer", json=follow).json())
    assert answer.rewritten_question and answer.citations


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"question": "   "}, 400, "bad_input"),
        ({"question": QUESTION, "since": "2025-09-01", "until": "2025-08-01"}, 400, "bad_input"),
        ({"question": QUESTION, "top_k": 0}, 422, "invalid_request"),
        ({"question": QUESTION, "colour": "red"}, 422, "invalid_request"),
        ({"question": QUESTION, "mode": "psychic"}, 422, "invalid_request"),
        ({"question": QUESTION, "mode": "openai"}, 400, "bad_input"),  # no key on the server
        ({"question": "x" * 5000}, 400, "question_too_long"),
        ({}, 422, "invalid_request"),
    ],
)
def test_bad_requests_are_json_errors(
    app: FastAPI, body: dict[str, object], status: int, code: str
) -> None:
    assert error(call(app, "POST", "/v1/answer", json=body)) == (status, code)


def test_malformed_and_oversized_bodies(app: FastAPI) -> None:
    headers = {"content-type": "application/json"}
    bad = call(app, "POST", "/v1/answer", content=b'{"question": "Where', headers=headers)
    assert error(bad) == (400, "malformed_json")
    huge = json.dumps({"question": QUESTION, "sources": ["a" * 100] * 20_000})
    assert error(call(app, "POST", "/v1/answer", content=huge, headers=headers)) == (
        413,
        "body_too_large",
    )
    assert error(call(app, "GET", "/v1/nothing")) == (404, "not_found")
    assert error(call(app, "PUT", "/v1/answer", json={})) == (405, "method_not_allowed")


def test_stream_sends_drafts_then_the_verified_answer(app: FastAPI) -> None:
    response = call(app, "POST", "/v1/answer/stream", json={"question": QUESTION})
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and set(kinds[:-1]) == {"draft"} and len(kinds) > 1
    final = Answer.model_validate_json(events[-1][1])
    plain = Answer.model_validate(
        call(app, "POST", "/v1/answer", json={"question": QUESTION}).json()
    )
    assert final.citations == plain.citations
    drafted = "".join(json.loads(data)["text"] for kind, data in events if kind == "draft")
    assert drafted.strip()
    assert error(call(app, "POST", "/v1/answer/stream", json={"question": ""})) == (
        400,
        "bad_input",
    )


def test_articles_listing_and_text(app: FastAPI, sample_settings: Settings) -> None:
    corpus = CorpusInfo.model_validate(call(app, "GET", "/v1/articles").json())
    assert len(corpus.files) == 5 and corpus.chunks > 0
    name = corpus.files[0].source_file
    article = call(app, "GET", f"/v1/articles/{name}").json()
    assert article["text"] == file_text(sample_settings, name) and article["title"]
    assert error(call(app, "GET", "/v1/articles/nope.txt")) == (404, "not_found")
    assert error(call(app, "GET", "/v1/articles/../../etc/passwd")) == (404, "not_found")


def test_the_openapi_page_describes_the_librarys_types(app: FastAPI) -> None:
    assert "swagger" in call(app, "GET", "/docs").text.lower()
    schemas = call(app, "GET", "/openapi.json").json()["components"]["schemas"]
    assert {"Answer", "Citation", "CorpusInfo", "ChatCompletion", "ErrorBody"} <= set(schemas)
    assert set(schemas["Citation"]["properties"]) == set(Citation.model_fields)


def test_keys_are_required_once_configured(sample_settings: Settings) -> None:
    app = create_app(sample_settings, ApiConfig(keys=f"{KEY}, other-key"), warm=False)
    body = {"question": QUESTION}
    missing = call(app, "POST", "/v1/answer", json=body)
    assert error(missing) == (401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = call(app, "POST", "/v1/answer", json=body, headers={"Authorization": "Bearer nope"})
    assert error(wrong) == (401, "unauthorized")
    basic = call(app, "GET", "/v1/articles", headers={"Authorization": f"Basic {KEY}"})
    assert error(basic) == (401, "unauthorized")
    right = call(app, "POST", "/v1/answer", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert right.status_code == 200
    assert call(app, "GET", "/healthz").status_code == 200  # probes need no key
    kept = repr(vars(app.state.service.keys)) + repr(vars(app.state.service))
    assert KEY not in kept and "other-key" not in kept  # only digests are kept


def test_rate_limit_is_per_key(sample_settings: Settings) -> None:
    config = ApiConfig(keys=f"{KEY},second-key", rate_per_minute=2)
    app = create_app(sample_settings, config, warm=False)
    first = {"Authorization": f"Bearer {KEY}"}
    assert call(app, "GET", "/v1/models", headers=first).status_code == 200
    assert call(app, "GET", "/v1/models", headers=first).status_code == 200
    limited = call(app, "GET", "/v1/models", headers=first)
    assert error(limited) == (429, "rate_limited") and int(limited.headers["retry-after"]) >= 1
    other = call(app, "GET", "/v1/models", headers={"Authorization": "Bearer second-key"})
    assert other.status_code == 200


def test_uploads_need_a_key_even_on_loopback(own_store: Settings) -> None:
    app = create_app(own_store, ApiConfig(), warm=False)
    files = {"files": ("zebras.txt", ZEBRAS, "text/plain")}
    assert error(call(app, "POST", "/v1/articles", files=files)) == (403, "uploads_disabled")
    assert error(call(app, "DELETE", "/v1/articles/uploads/x.txt")) == (403, "uploads_disabled")
    assert not own_store.upload_dir.exists()


def test_add_answer_and_remove_an_upload(own_store: Settings) -> None:
    app = create_app(own_store, ApiConfig(keys=KEY), warm=False)
    auth = {"Authorization": f"Bearer {KEY}"}
    files = [
        ("files", ("zebras.txt", ZEBRAS, "text/plain")),
        ("files", ("tool.exe", b"MZ...", "application/octet-stream")),
    ]
    added = call(app, "POST", "/v1/articles", files=files, headers=auth)
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["added"] == ["uploads/zebras.txt"] and "tool.exe" in body["refused"][0]
    question = {"question": "How many zebras did the 2025 census in Kenya count?"}
    answer = Answer.model_validate(
        call(app, "POST", "/v1/answer", json=question, headers=auth).json()
    )
    assert answer.citations[0].source_file == "uploads/zebras.txt" and "4,812" in answer.text
    text = call(app, "GET", "/v1/articles/uploads/zebras.txt", headers=auth).json()["text"]
    assert text == ZEBRAS.decode()
    corpus_file = "000_e5097b3054c473ee.txt"
    assert error(call(app, "DELETE", f"/v1/articles/{corpus_file}", headers=auth)) == (
        400,
        "bad_input",
    )
    removed = call(app, "DELETE", "/v1/articles/uploads/zebras.txt", headers=auth)
    assert removed.status_code == 200 and removed.json()["removed"] == "uploads/zebras.txt"
    listed = call(app, "GET", "/v1/articles", headers=auth).json()["files"]
    assert "uploads/zebras.txt" not in {f["source_file"] for f in listed}
    again = call(app, "DELETE", "/v1/articles/uploads/zebras.txt", headers=auth)
    assert error(again) == (404, "not_found")
    target = own_store.corpus_dir / corpus_file  # ../ encoded, so the URL keeps it
    escape = call(
        app, "DELETE", f"/v1/articles/uploads/..%2Farticles%2F{corpus_file}", headers=auth
    )
    assert error(escape) == (404, "not_found") and target.is_file()


def test_refused_uploads_change_nothing(own_store: Settings) -> None:
    app = create_app(own_store, ApiConfig(open_uploads=True), warm=False)
    only_bad = {"files": ("notes.txt", b"\x00\x01binary", "text/plain")}
    response = call(app, "POST", "/v1/articles", files=only_bad)
    assert error(response) == (400, "bad_input") and "not a text file" in response.text
    assert error(call(app, "POST", "/v1/articles", data={})) == (400, "bad_input")
    huge = {"files": ("big.txt", b"a" * 6_000_000, "text/plain")}
    assert error(call(app, "POST", "/v1/articles", files=huge)) == (413, "body_too_large")
    private = call(app, "POST", "/v1/articles", data={"url": "http://127.0.0.1:9/page"})
    assert error(private) == (400, "bad_input") and "127.0.0.1" in private.text
    assert not own_store.upload_dir.exists() or not any(own_store.upload_dir.iterdir())


def test_library_errors_map_to_statuses(tmp_path: Path) -> None:
    empty = Settings(chroma_path=tmp_path / "none", corpus_dir=tmp_path, answer_mode="extractive")
    app = create_app(empty, ApiConfig(), warm=False)
    assert error(call(app, "POST", "/v1/answer", json={"question": QUESTION})) == (
        503,
        "index_not_built",
    )
    assert error(call(app, "GET", "/readyz")) == (503, "not_ready")
    assert call(app, "GET", "/healthz").status_code == 200


def test_an_unexpected_failure_is_a_plain_500(app: FastAPI, sample_settings: Settings) -> None:
    broken = create_app(sample_settings, ApiConfig(), warm=False)

    def fail(mode: str | None = None) -> Pipeline:
        raise RuntimeError("secret internals /etc/shadow")

    broken.state.service.pipeline = fail
    response = call(broken, "GET", "/v1/articles")
    assert error(response) == (500, "internal_error") and "secret" not in response.text


def test_cors_is_off_unless_configured(app: FastAPI, sample_settings: Settings) -> None:
    origin = {"Origin": "https://cms.example.org"}
    assert "access-control-allow-origin" not in call(app, "GET", "/healthz", headers=origin).headers
    open_app = create_app(
        sample_settings, ApiConfig(cors_origins="https://cms.example.org"), warm=False
    )
    allowed = call(open_app, "GET", "/healthz", headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://cms.example.org"


def test_it_refuses_to_listen_off_loopback_without_keys() -> None:
    with pytest.raises(ConfigError, match="RAG_API_KEYS"):
        check_exposure("0.0.0.0", ApiConfig())
    check_exposure("0.0.0.0", ApiConfig(keys=KEY))
    check_exposure("127.0.0.1", ApiConfig())
    check_exposure("::1", ApiConfig())


def test_rag_serve_refuses_an_open_address_without_keys() -> None:
    from typer.testing import CliRunner

    from cli import app as cli_app

    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0", "--port", "9"])
    assert result.exit_code == 1 and "RAG_API_KEYS" in result.output


def test_mode_per_request_and_provider_failure(
    sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    settings = sample_settings.model_copy(
        update={
            "openai_api_key": SecretStr("sk-test-key"),
            "openai_base_url": fake_openai.base_url,
            "chat_model": "local-model-7b",
            "max_retries": 0,
        }
    )
    app = create_app(settings, ApiConfig(), warm=False)  # the server's mode: extractive
    fake_openai.script(*[Reply(status=500)] * 4)
    asked = call(app, "POST", "/v1/answer", json={"question": QUESTION, "mode": "openai"})
    assert error(asked) == (502, "provider_error") and fake_openai.requests
    plain = call(app, "POST", "/v1/answer", json={"question": QUESTION})
    assert plain.status_code == 200 and plain.json()["mode"] == "extractive"


def test_answers_run_in_parallel(sample_settings: Settings) -> None:
    """Two requests meet inside the pipeline at once: no lock serialises answers (were they
    run one at a time, the first would wait at the barrier alone and fail)."""
    import asyncio
    import threading

    import httpx

    app = create_app(sample_settings, ApiConfig(rate_per_minute=0), warm=False)
    pipeline = app.state.service.pipeline()
    barrier = threading.Barrier(2, timeout=30)
    answer = pipeline.answer

    def meeting(*args: object, **kwargs: object) -> Answer:
        barrier.wait()
        return answer(*args, **kwargs)  # type: ignore[arg-type]

    pipeline.answer = meeting

    async def both() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ask = {"question": QUESTION}
            return list(await asyncio.gather(*(c.post("/v1/answer", json=ask) for _ in "ab")))

    assert [r.status_code for r in asyncio.run(both())] == [200, 200]
