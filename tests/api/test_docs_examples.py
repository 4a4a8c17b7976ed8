"""The examples of docs/api.md run: every `bash` block (curl) and every `python` block (the
`openai` client, one namespace, in page order) against a real server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from api.config import ApiConfig, settings_table
from index import build_index
from rag import Settings
from tests.api.serving import running_api

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
DOC_URL = "http://127.0.0.1:8000"
KEY = "sk-docs-0123456789"


def blocks(language: str) -> list[str]:
    """The page's fenced code blocks in `language`, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", PAGE.read_text(), re.M | re.S)


def test_the_page_has_examples_of_both_kinds() -> None:
    assert len(blocks("bash")) >= 5 and len(blocks("python")) >= 2
    assert all(DOC_URL in block for block in blocks("bash")) and DOC_URL in blocks("python")[0]


def test_the_settings_table_is_generated() -> None:
    text = PAGE.read_text()
    table = text.split("<!-- settings-table -->\n", 1)[1].split("\n<!-- /settings-table -->")[0]
    assert table == settings_table()


def test_the_examples_run(corpus_copy: tuple[Path, Settings], tmp_path: Path) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(
        update={"answer_mode": "extractive", "upload_dir": tmp_path / "uploads"}
    )
    build_index(corpus, settings, progress=False)
    work = tmp_path / "work"
    work.mkdir()
    with running_api(settings, ApiConfig(keys=KEY)) as url:
        env = {**os.environ, "RAG_API_KEY": KEY}
        outputs = []
        for block in blocks("bash"):
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.replace(DOC_URL, url)],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, f"{block}\n{done.stdout}\n{done.stderr}"
            outputs.append(done.stdout)
        answer = json.loads(outputs[0])
        assert answer["citations"] and "Alaska" in answer["text"]
        assert outputs[1].rstrip().splitlines()[-1].startswith("data: {")  # the final Answer
        assert '"added":["uploads/zebras.txt"]' in outputs[3]
        assert "Slovenia" in json.loads(outputs[4])["choices"][0]["message"]["content"]

        printed = io.StringIO()
        namespace: dict[str, object] = {}
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
            patch.setenv("RAG_API_KEY", KEY)
            for block in blocks("python"):
                exec(compile(block.replace(DOC_URL, url), str(PAGE), "exec"), namespace)
        shown = printed.getvalue()
        assert "Alaska" in shown and "Sources:\n[1] " in shown
        assert "000_e5097b3054c473ee.txt" in shown
