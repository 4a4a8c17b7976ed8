"""Suite files: every validation error names the case, its line and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import SuiteError, load_suite
from tests.support import ROOT, SAMPLE

BENCH = ROOT.parent / "shared" / "bench" / "squad-dev"


def write_suite(folder: Path, cases: str, header: str = "") -> Path:
    path = folder / "suite.yaml"
    path.write_text(f"name: t\ncorpus: {SAMPLE}\n{header}cases:\n{cases}", encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return str(caught.value)


def test_shipped_suite_is_valid_and_covers_what_the_issue_asks() -> None:
    suite = load_suite(ROOT / "evals" / "suites" / "articles.yaml")
    tags = [tag for case in suite.cases for tag in case.tags]
    assert len(suite.cases) >= 30
    assert sum(case.unanswerable for case in suite.cases) >= 6
    for tag in ("single-source", "multi-source", "contradiction", "date", "follow-up"):
        assert tag in tags, tag
    answerable = [c for c in suite.cases if not c.unanswerable]
    assert all(c.expected_sources and c.facts for c in answerable)
    assert all(c.history for c in suite.cases if "follow-up" in c.tags)


def test_shipped_facts_are_stated_by_an_expected_source() -> None:
    """The suite's own consistency: each fact appears in at least one expected file."""
    suite = load_suite(ROOT / "evals" / "suites" / "articles.yaml")
    for case in suite.cases:
        texts = [(suite.corpus / s).read_text(encoding="utf-8") for s in case.expected_sources]
        for fact in case.facts:
            assert any(fact.found_in(t) for t in texts), (case.id, str(fact))


def test_missing_question_names_case_and_line(tmp_path: Path) -> None:
    path = write_suite(tmp_path, "  - question: Where?\n  - facts: [x]\n")
    message = error_of(path)
    assert "case 2, line 5, question" in message and "Field required" in message


def test_unknown_field_and_wrong_type(tmp_path: Path) -> None:
    message = error_of(write_suite(tmp_path, "  - question: Q\n    expected: a.txt\n"))
    assert "case 1, line 4, expected" in message and "Extra inputs" in message
    message = error_of(write_suite(tmp_path, "  - question: Q\n    unanswerable: maybe\n"))
    assert "case 1, line 4, unanswerable" in message and "boolean" in message


def test_bad_regex_and_contradictory_case(tmp_path: Path) -> None:
    message = error_of(
        write_suite(tmp_path, "  - question: Q\n    facts: [{regex: '(unclosed'}]\n")
    )
    assert "case 1" in message and "does not compile" in message
    cases = "  - question: Q\n    unanswerable: true\n    facts: [x]\n"
    assert "an unanswerable case has no expected_sources" in error_of(write_suite(tmp_path, cases))


def test_bad_filters_duplicate_ids_and_unknown_sources(tmp_path: Path) -> None:
    cases = "  - question: Q\n    filters: {since: 2025-09-01, until: 2025-08-01}\n"
    assert "since (2025-09-01) is after until" in error_of(write_suite(tmp_path, cases))
    cases = "  - {id: a, question: Q}\n  - {id: a, question: R}\n"
    assert "case 2, line 5: id 'a' is already used by case 1" in error_of(
        write_suite(tmp_path, cases)
    )
    cases = "  - question: Q\n    expected_sources: nope.txt\n"
    assert "expected_sources ['nope.txt'] are not files of" in error_of(
        write_suite(tmp_path, cases)
    )


def test_settings_and_corpus_and_yaml_errors(tmp_path: Path) -> None:
    message = error_of(write_suite(tmp_path, "  - question: Q\n", "settings: {topk: 3}\n"))
    assert "unknown settings ['topk']" in message and "top_k" in message
    message = error_of(write_suite(tmp_path, "  - question: Q\n", "settings: {top_k: 0}\n"))
    assert "RAG_TOP_K" in message
    path = tmp_path / "gone.yaml"
    path.write_text("name: t\ncorpus: nowhere\ncases:\n  - question: Q\n", encoding="utf-8")
    assert "corpus folder" in error_of(path) and "relative to the suite file" in error_of(path)
    path.write_text("name: t\ncases: [\n", encoding="utf-8")
    assert "not valid YAML" in error_of(path)
    path.write_text("name: t\ncorpus: .\ncases: []\n", encoding="utf-8")
    assert "cases" in error_of(path)
    assert "does not exist" in error_of(tmp_path / "missing.yaml")


def test_bench_folder_loads_with_sampling() -> None:
    whole = load_suite(BENCH)
    assert len(whole.cases) == 2805
    impossible = [c for c in whole.cases if c.unanswerable]
    assert impossible and not impossible[0].expected_sources and not impossible[0].reference
    first = whole.cases[0]
    assert first.expected_sources == ("Normans_p00.txt",) and first.reference == ("France",)
    sample = load_suite(BENCH / "questions.jsonl", limit=50, seed=7)
    again = load_suite(BENCH, limit=50, seed=7)
    other = load_suite(BENCH, limit=50, seed=8)
    assert [c.id for c in sample.cases] == [c.id for c in again.cases]
    assert [c.id for c in sample.cases] != [c.id for c in other.cases]
    assert len(sample.cases) == 50


def test_bad_bench_line(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    (tmp_path / "questions.jsonl").write_text('{"id": "x", "question": "Q"}\n{oops\n')
    assert "questions.jsonl, line 1: not a bench question" in error_of(tmp_path)
