"""Round three, items 1 and 9: a suite file is data someone else may have written (it cannot
choose where the API key goes or which store is written); suites and feedback exports that are
damaged, tampered with, mis-encoded or huge give one red line, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from evals import SuiteError, load_suite
from evals.feedback import export_suite, feedback_path, record
from rag import Answer, Settings
from tests.fake_openai import FakeOpenAI
from tests.support import SAMPLE

runner = CliRunner()


def _suite(folder: Path, settings: str) -> Path:
    path = folder / "suite.yaml"
    path.write_text(
        f"name: t\ncorpus: {SAMPLE}\nsettings: {settings}\ncases:\n  - question: Where?\n",
        encoding="utf-8",
    )
    return path


def _one_red_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize(
    "key",
    [
        "openai_base_url",
        "OPENAI_BASE_URL",
        "openai_api_key",
        "chroma_path",
        "chroma_host",
        "collection",
        "bm25_cache",
        "corpus_dir",
        "upload_dir",
        "embedding_backend",
    ],
)
def test_a_suite_cannot_choose_endpoints_keys_or_stores(tmp_path: Path, key: str) -> None:
    path = _suite(tmp_path, f"{{{key}: 'http://127.0.0.1:9/v1'}}")
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    message = str(caught.value)
    assert key in message and "not allowed in a suite" in message and "\n" not in message


def test_allowed_suite_settings_still_apply(tmp_path: Path) -> None:
    suite = load_suite(_suite(tmp_path, "{top_k: 3, answer_mode: extractive, min_support: 0.4}"))
    assert suite.settings == {"top_k": 3, "answer_mode": "extractive", "min_support": 0.4}


def test_rag_eval_never_sends_the_key_to_a_suites_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-of-the-user")
    path = _suite(tmp_path, f"{{openai_base_url: '{fake_openai.base_url}', answer_mode: openai}}")
    result = runner.invoke(app, ["eval", str(path), "--quiet", "--no-judge"])
    assert result.exit_code == 1
    assert "openai_base_url" in _one_red_line(result.output)
    assert fake_openai.requests == []  # nothing, let alone the key, reached the suite's server


def test_a_non_utf8_suite_is_one_red_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(f"name: café\ncorpus: {SAMPLE}\ncases:\n  - question: Où?\n".encode("cp1252"))
    result = runner.invoke(app, ["eval", str(path), "--quiet"])
    assert result.exit_code == 1
    line = _one_red_line(result.output)
    assert "latin1.yaml" in line and "UTF-8" in line


def test_a_huge_suite_is_refused_by_size_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    case = "  - question: Where did Trump hand Putin the letter on that day in August?\n"
    with path.open("w", encoding="utf-8") as out:
        out.write(f"name: huge\ncorpus: {SAMPLE}\ncases:\n")
        out.write(case * (25_000_000 // len(case)))
    result = runner.invoke(app, ["eval", str(path), "--quiet"])
    assert result.exit_code == 1
    line = _one_red_line(result.output)
    assert "huge.yaml" in line and "MB" in line and "limit" in line


def test_a_yaml_alias_bomb_suite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 12):
        prev = chr(ord("a") + n - 1)
        levels.append(f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{', '.join(['*' + prev] * 9)}]")
    path.write_text(
        "\n".join(levels) + f"\nname: t\ncorpus: {SAMPLE}\ncases:\n  - question: Where?\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="alias"):
        load_suite(path)


# Feedback export (item 9).


def _answer(question: str) -> Answer:
    return Answer(question=question, text="An answer.", mode="extractive")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "chroma"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(SAMPLE))
    return Settings.load()


def test_export_of_a_damaged_feedback_db_is_one_red_line(store: Settings) -> None:
    path = feedback_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database, " * 200)
    result = runner.invoke(app, ["feedback", "export"])
    assert result.exit_code == 1
    line = _one_red_line(result.output)
    assert path.name in line and "damaged" in line
    assert path.read_bytes().startswith(b"this is not")  # never deleted or overwritten


def test_a_tampered_row_is_skipped_with_a_warning(store: Settings) -> None:
    path = feedback_path(store)
    ids = [record(path, _answer(q), 1) for q in ("First?", "Second?", "Third?")]
    with sqlite3.connect(path) as db:
        db.execute("UPDATE feedback SET answer = '{not json' WHERE id = ?", (ids[1],))
    with pytest.warns(UserWarning, match=f"row {ids[1]}"):
        text = export_suite(path, SAMPLE)
    assert "First?" in text and "Third?" in text and "Second?" not in text
    result = runner.invoke(app, ["feedback", "export", "-o", "out.yaml"])
    assert result.exit_code == 0, result.output
    assert f"row {ids[1]}" in result.output and "Wrote 2 cases" in result.output


def test_export_into_a_missing_folder_is_one_red_line(store: Settings) -> None:
    record(feedback_path(store), _answer("First?"), 1)
    result = runner.invoke(app, ["feedback", "export", "-o", "no/such/folder/f.yaml"])
    assert result.exit_code == 1
    assert "no/such/folder" in _one_red_line(result.output)
