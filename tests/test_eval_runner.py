"""The eval runner end to end: a real index, real answers, reports, resume, gate, judge."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from evals import SuiteError, run_suite
from rag import Settings
from tests.fake_openai import FakeOpenAI

CASES = """\
  - id: birthplace
    question: Where was Melania Trump born?
    expected_sources: 000_e5097b3054c473ee.txt
    facts: Slovenia
    reference: Slovenia
    tags: [single]
  - id: rating
    question: How did Trump rate the summit?
    expected_sources: 000_e5097b3054c473ee.txt
    facts: [10 out of 10, {regex: "never stated"}]
    tags: [single]
  - id: too-long
    question: "{long}"
    tags: [broken]
  - id: capital
    question: What is the capital of Australia?
    unanswerable: true
    tags: [unanswerable]
"""


@pytest.fixture
def suite(tmp_path: Path, sample_settings: Settings) -> Path:
    path = tmp_path / "suite.yaml"
    cases = CASES.replace("{long}", "word " * 1500)
    path.write_text(f"name: mini\ncorpus: {sample_settings.corpus_dir}\ncases:\n{cases}")
    return path


def store(sample_settings: Settings) -> dict[str, Any]:
    """Reuse the session's index of the same corpus (indexing is tested elsewhere)."""
    return {"chroma_path": sample_settings.chroma_path, "collection": sample_settings.collection}


def rows_of(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]


def test_run_writes_every_report_and_counts_errors(
    suite: Path, tmp_path: Path, sample_settings: Settings
) -> None:
    report = run_suite(
        suite, mode="extractive", out=tmp_path / "run", progress=False, **store(sample_settings)
    )
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {
        "results.jsonl", "summary.json", "report.md", "report.html", "run.json",
    }  # fmt: skip
    rows = {r["case_id"]: r for r in rows_of(run)}
    assert rows["too-long"]["status"] == "error" and "BadInputError" in rows["too-long"]["error"]
    assert [e.case_id for e in report.errors] == ["too-long"]
    # the errored case is excluded: `passed` is measured on the other three
    assert report.metrics["passed"].n == 3
    assert rows["rating"]["missing_facts"] == ["/never stated/"]
    assert rows["rating"]["scores"]["fact_recall"] == 0.5
    assert report.metrics["fact_recall"].mean == pytest.approx((1.0 + 0.5) / 2)
    assert report.metrics["refusal_accuracy"].n == 1
    assert report.metrics["citation_validity"].mean == 1.0
    assert report.tags["single"]["fact_recall"].n == 2
    page = (run / "report.html").read_text()
    assert page.count("<svg") >= 3 and "<script" not in page
    summary = json.loads((run / "summary.json").read_text())
    assert (
        summary["metrics"]["fact_recall"]["n"] == 2 and "openai_api_key" not in summary["settings"]
    )


def test_crashed_run_resumes_from_saved_cases(
    suite: Path, tmp_path: Path, sample_settings: Settings
) -> None:
    run = tmp_path / "run"
    run_suite(suite, mode="extractive", out=run, progress=False, **store(sample_settings))
    first = rows_of(run)
    # as a crash leaves it: two cases saved, a half-written line, no summary
    (run / "results.jsonl").write_text(
        "\n".join(json.dumps(r) for r in first[:2]) + '\n{"case_id": "cap'
    )
    (run / "summary.json").unlink()
    seen: list[tuple[int, int]] = []
    report = run_suite(
        suite, mode="extractive", out=run, progress=False,
        on_progress=lambda done, total: seen.append((done, total)), **store(sample_settings),
    )  # fmt: skip
    assert seen == [(3, 4), (4, 4)]  # only the two unsaved cases ran
    again = rows_of(run)
    assert again[:2] == first[:2] and len(again) == 4
    assert report.metrics["passed"].n == 3
    with pytest.raises(SuiteError, match="holds a finished run"):
        run_suite(suite, mode="extractive", out=run, progress=False, **store(sample_settings))
    (run / "summary.json").unlink()
    with pytest.raises(SuiteError, match="another suite, settings or repeat count"):
        run_suite(
            suite, mode="extractive", out=run, progress=False, top_k=3, **store(sample_settings)
        )


def test_timeout_and_repeats(suite: Path, tmp_path: Path, sample_settings: Settings) -> None:
    timed = run_suite(
        suite, mode="extractive", out=tmp_path / "t", timeout=1e-6, progress=False,
        **store(sample_settings),
    )  # fmt: skip
    timeouts = {e.case_id for e in timed.errors if e.status == "timeout"}
    assert timeouts >= {"birthplace", "rating", "capital"} and len(timed.errors) == 4
    assert timed.metrics["passed"].n == 0
    repeated = run_suite(
        suite, mode="extractive", out=tmp_path / "r", repeat=2, concurrency=3, progress=False,
        **store(sample_settings),
    )  # fmt: skip
    stat = repeated.metrics["fact_recall"]
    assert stat.repeats == [0.75, 0.75] and stat.std == 0.0 and stat.n == 2
    assert len(rows_of(tmp_path / "r")) == 8


def test_compare_lists_regressions(suite: Path, tmp_path: Path, sample_settings: Settings) -> None:
    run_suite(
        suite, mode="extractive", out=tmp_path / "a", progress=False, **store(sample_settings)
    )
    strict = run_suite(
        suite, mode="extractive", out=tmp_path / "b", compare=tmp_path / "a", progress=False,
        min_support=0.99, **store(sample_settings),
    )  # fmt: skip
    comparison = strict.comparison
    assert comparison is not None
    assert comparison.regressed == ["birthplace"]  # refused now; "rating" never passed
    delta = {d.metric: d for d in comparison.deltas}
    assert delta["false_refusal_rate"].after == 1.0 and delta["false_refusal_rate"].worse
    assert "Regressed cases: birthplace" in (tmp_path / "b" / "report.md").read_text()


def test_cli_gate_fails_when_a_metric_is_under_its_bar(
    suite: Path, tmp_path: Path, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("RAG_COLLECTION", sample_settings.collection)
    runner = CliRunner()
    base = ["eval", str(suite), "--mode", "extractive", "-q"]
    ok = runner.invoke(app, [*base, "--out", "a", "--fail-under", "fact_recall=0.7"])
    assert ok.exit_code == 0, ok.output
    assert "fact_recall" in ok.output and "reports in a" in ok.output
    bad = runner.invoke(app, [*base, "--out", "b", "--fail-under", "fact_recall=0.8"])
    assert bad.exit_code == 1 and "FAIL: fact_recall = 0.750 is below 0.8" in bad.output
    capped = runner.invoke(app, [*base, "--out", "c", "--fail-above", "errors=0"])
    assert capped.exit_code == 1 and "FAIL: errors = 1.000 is above 0" in capped.output
    unknown = runner.invoke(app, [*base, "--out", "d", "--fail-under", "recall=1"])
    assert unknown.exit_code == 1 and "Unknown metric 'recall'" in unknown.output
    malformed = runner.invoke(app, [*base, "--out", "e", "--fail-under", "fact_recall"])
    assert malformed.exit_code == 2 and "takes metric=value" in malformed.output


def test_llm_judge_scores_and_records_unreadable_replies(
    suite: Path, tmp_path: Path, sample_settings: Settings, fake_openai: FakeOpenAI
) -> None:
    # extractive answers, judged through the real openai client at the wire; cases run in
    # order (concurrency 1): birthplace asks correctness then faithfulness, rating asks
    # faithfulness only (no reference), capital is refused (nothing to judge)
    fake_openai.script(
        '{"score": 1, "reason": "says Slovenia"}',
        "The answer looks faithful to me.",
        '{"score": 0.5, "reason": "one claim unsupported"}',
    )
    report = run_suite(
        suite, mode="extractive", out=tmp_path / "j", progress=False, judge=True,
        judge_model="judge-7b", openai_api_key="sk-test", openai_base_url=fake_openai.base_url,
        max_retries=0, **store(sample_settings),
    )  # fmt: skip
    assert [r["body"]["model"] for r in fake_openai.requests] == ["judge-7b"] * 3
    assert "REFERENCE: Slovenia" in fake_openai.requests[0]["body"]["messages"][1]["content"]
    assert "QUOTES:" in fake_openai.requests[1]["body"]["messages"][1]["content"]
    assert report.metrics["judge_correctness"].mean == 1.0
    assert report.metrics["judge_correctness"].n == 1
    # the unreadable verdict is an error, not a zero: faithfulness averages the one score
    assert report.metrics["judge_faithfulness"].mean == 0.5
    assert report.metrics["judge_faithfulness"].n == 1
    assert report.judge_errors == {"judge_correctness": 0, "judge_faithfulness": 1}
    rows = {r["case_id"]: r for r in rows_of(tmp_path / "j")}
    assert rows["birthplace"]["judge"]["judge_correctness"]["reason"] == "says Slovenia"
    assert rows["birthplace"]["judge"]["judge_faithfulness"]["error"] == "judge reply is not JSON"
    assert "could not be read" in (tmp_path / "j" / "report.md").read_text()
