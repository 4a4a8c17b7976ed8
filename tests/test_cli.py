"""The `rag` command through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from rag import Settings

runner = CliRunner()


def test_index_then_ask(corpus_copy: tuple[Path, Settings], monkeypatch) -> None:
    corpus, settings = corpus_copy
    monkeypatch.setenv("RAG_CHROMA_PATH", str(settings.chroma_path))
    first = runner.invoke(app, ["index", str(corpus), "--quiet"])
    assert first.exit_code == 0, first.output
    assert "5 added" in first.output
    again = runner.invoke(app, ["index", str(corpus), "--quiet"])
    assert "5 unchanged" in again.output and "0 chunks written" in again.output

    asked = runner.invoke(app, ["ask", "Where did Trump hand Putin the letter?"])
    assert asked.exit_code == 0, asked.output
    assert "Alaska" in asked.output and "Sources:" in asked.output
    assert "[1] " in asked.output

    as_json = runner.invoke(app, ["ask", "Where was Melania Trump born?", "--json"])
    data = json.loads(as_json.output)
    assert data["citations"][0]["source_file"] == "000_e5097b3054c473ee.txt"

    filtered = runner.invoke(
        app,
        [
            "ask",
            "Where did Trump hand Putin the letter?",
            "--json",
            "--source",
            "003_1305e3d104303dd2.txt",
            "--top-k",
            "2",
        ],
    )
    contexts = json.loads(filtered.output)["contexts"]
    assert {c["source_file"] for c in contexts} == {"003_1305e3d104303dd2.txt"}
    assert len(contexts) <= 2


def test_user_errors_are_one_line_and_exit_1(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "none"))
    result = runner.invoke(app, ["ask", "Where?"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "rag index" in result.output and "Traceback" not in result.output

    monkeypatch.setenv("RAG_TOP_K", "many")
    bad = runner.invoke(app, ["ask", "Where?"])
    assert bad.exit_code == 1 and "RAG_TOP_K" in bad.output and "integer" in bad.output

    monkeypatch.delenv("RAG_TOP_K")
    missing = runner.invoke(app, ["index", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "not found" in missing.output


@pytest.mark.slow  # python -m index in a subprocess
def test_python_m_index_is_the_same_command(
    corpus_copy: tuple[Path, Settings], monkeypatch
) -> None:
    import subprocess
    import sys

    corpus, settings = corpus_copy
    monkeypatch.setenv("RAG_CHROMA_PATH", str(settings.chroma_path))
    done = subprocess.run(
        [sys.executable, "-m", "index", str(corpus), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "5 added" in done.stdout


@pytest.mark.slow  # starts rag ui (a Streamlit server)
def test_rag_ui_stops_when_it_is_told_to(sample_settings: Settings, tmp_path: Path) -> None:
    # `rag ui` used to start the server as a child: a SIGTERM to it left the server running.
    import os
    import socket
    from urllib.parse import urlparse

    from devtools.serve import running_chat

    env = os.environ | {
        "RAG_CHROMA_PATH": str(sample_settings.chroma_path),
        "RAG_CORPUS_DIR": str(sample_settings.corpus_dir),
        "RAG_ANSWER_MODE": "extractive",
    }
    with running_chat(env, tmp_path) as url:
        port = urlparse(url).port
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
