"""Readers' feedback: kept in SQLite, exported by `rag feedback export` as a suite `rag eval`
runs as it is (👎 as cases to complete, 👍 as regression cases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from evals.feedback import entries, export_suite, feedback_path, record
from evals.suite import load_suite
from rag import Pipeline, Settings

runner = CliRunner()


@pytest.fixture
def votes(sample_settings: Settings, tmp_path: Path) -> Path:
    pipeline = Pipeline.from_settings(sample_settings)
    path = tmp_path / "feedback.sqlite3"
    record(path, pipeline.answer("Where was Melania Trump born?"), 1)
    record(path, pipeline.answer("Where did Trump hand Putin the letter?"), -1, "too vague")
    return path


def test_verdicts_are_kept_and_exported_as_a_valid_suite(
    votes: Path, sample_settings: Settings, tmp_path: Path
) -> None:
    kept = entries(votes)
    assert [e.rating for e in kept] == [1, -1] and kept[1].comment == "too vague"
    suite_file = tmp_path / "feedback.yaml"
    suite_file.write_text(export_suite(votes, sample_settings.corpus_dir), encoding="utf-8")
    suite = load_suite(suite_file)
    up, down = suite.cases
    assert up.expected_sources and "regression" in up.tags
    assert down.question == "Where did Trump hand Putin the letter?"
    assert "to-complete" in down.tags and not down.expected_sources
    text = suite_file.read_text(encoding="utf-8")
    assert "# reader: too vague" in text and "# answered: " in text and "# cited: " in text


def test_rag_feedback_export_writes_a_suite_rag_eval_runs(
    votes: Path, sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(chroma_path=tmp_path / "store", corpus_dir=sample_settings.corpus_dir)
    feedback_path(settings).write_bytes(votes.read_bytes())
    monkeypatch.setenv("RAG_CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(settings.corpus_dir))
    out = tmp_path / "cases.yaml"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Wrote 2 cases" in result.output
    run = runner.invoke(app, ["eval", str(out), "--mode", "extractive", "-q", "--no-judge"])
    assert run.exit_code == 0, run.output
    assert "errors: 0" in run.output


def test_no_feedback_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "store"))
    result = runner.invoke(app, ["feedback", "export", "--out", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1 and "No feedback yet" in result.output
