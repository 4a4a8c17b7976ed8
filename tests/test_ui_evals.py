"""The Evals page through Streamlit's AppTest: run a suite, read a run, compare two runs."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from evals import run_suite
from evals.feedback import feedback_path, record
from evals.runner import BROWSER_TIMINGS, DEFAULT_RUNS, reader_wait
from rag import Answer, Settings

PAGE = str(Path(__file__).resolve().parents[1] / "ui" / "evals_page.py")

CASES = """\
  - id: birthplace
    question: Where was Melania Trump born?
    expected_sources: 000_e5097b3054c473ee.txt
    facts: Slovenia
    tags: [single]
  - id: capital
    question: What is the capital of Australia?
    unanswerable: true
    tags: [unanswerable]
"""


def write_suite(tmp_path: Path, settings: Settings) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(f"name: mini\ncorpus: {settings.corpus_dir}\ncases:\n{CASES}")
    return path


def test_page_runs_a_suite_with_progress(tmp_path: Path, sample_settings: Settings) -> None:
    suite = write_suite(tmp_path, sample_settings)
    at = AppTest.from_file(PAGE, default_timeout=180).run()
    assert not at.exception
    assert "No finished runs" in at.info[0].value
    assert "articles" in at.selectbox[0].options  # the suite's name, not its path
    at.selectbox[0].set_value("Other path…")
    at.text_input[0].set_value(str(suite))
    at.selectbox[1].set_value("extractive")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Finished" in at.success[0].value
    runs = list(DEFAULT_RUNS.iterdir())
    assert len(runs) == 1 and (runs[0] / "report.html").is_file()
    assert any(r["metric"] == "passed" for r in at.dataframe[0].value.to_dict("records"))


def test_page_compares_runs_and_drills_into_cases(
    tmp_path: Path, sample_settings: Settings
) -> None:
    suite = write_suite(tmp_path, sample_settings)
    shared = {"chroma_path": sample_settings.chroma_path, "collection": sample_settings.collection}
    run_suite(suite, mode="extractive", out=DEFAULT_RUNS / "a", progress=False, **shared)
    run_suite(
        suite, mode="extractive", out=DEFAULT_RUNS / "b", progress=False, min_support=0.99, **shared
    )
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    run_box = next(s for s in at.selectbox if s.label == "Run")
    run_box.set_value(str(DEFAULT_RUNS / "b")).run()
    compare_box = next(s for s in at.selectbox if s.label == "Compare with")
    compare_box.set_value(str(DEFAULT_RUNS / "a")).run()
    assert not at.exception
    assert "Regressed: birthplace" in at.error[0].value
    assert len(at.get("vega_lite_chart")) == 4  # metric bars, tags, latency, deltas
    # Plain names, the formula on hover, failing ones first and flagged in red.
    cards = at.metric
    labels = [m.label for m in cards]
    assert "Right article found first" in labels and "hit@1" not in labels
    first = cards[0]
    assert first.proto.help.startswith(("hit@", "mrr", "citation", "fact", "passed", "f1"))
    values = [int(m.value.rstrip("%")) for m in cards]
    flagged = [m for m in at.markdown if "red-badge" in str(m.value)]
    assert flagged and values[: len(flagged)] == sorted(values[: len(flagged)])
    assert any("A reader in the chat also waits" in c.value for c in at.caption)
    at.toggle[0].set_value(True).run()
    case_box = next(s for s in at.selectbox if s.label == "Case")
    assert case_box.options == ["birthplace #1"]  # only the failed case is listed
    shown = " ".join(str(m.value) for m in at.markdown)
    assert "Expected" in shown and "000_e5097b3054c473ee.txt" in shown  # expected vs answered
    assert "Retrieved passages" in shown
    assert any("not like for like" in w.value and "settings:" in w.value for w in at.warning)
    assert run_box.format_func(run_box.value).startswith("mini · extractive · ")


def test_page_exports_readers_feedback_as_a_suite() -> None:
    settings = Settings.load()
    answer = Answer(
        question="Where was Melania Trump born?", text="In Slovenia.", mode="extractive"
    )
    record(feedback_path(settings), answer, -1, "no source")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("0 helpful, 1 not helpful" in e.label for e in at.expander)
    assert any(b.label == "Export feedback as a suite" for b in at.get("download_button"))


def test_page_shows_what_a_reader_waits_once_bench_ui_measured_it(
    tmp_path: Path, sample_settings: Settings
) -> None:
    suite = write_suite(tmp_path, sample_settings)
    shared = {"chroma_path": sample_settings.chroma_path, "collection": sample_settings.collection}
    run_suite(suite, mode="extractive", out=DEFAULT_RUNS / "a", progress=False, **shared)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert any("`make bench-ui` times that" in c.value for c in at.caption)
    timings = {"later_answers_median_s": 0.512, "first_answer_s": 2.9, "first_page_ready_s": 2.4}
    BROWSER_TIMINGS.write_text(json.dumps(timings), encoding="utf-8")
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    waits = [c.value for c in at.caption if "What a reader waits" in c.value]
    assert waits and "**0.51 s** for later answers" in waits[0] and "2.90 s" in waits[0]


def test_a_bench_ui_file_that_does_not_read_as_one_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ui.json"
    assert reader_wait(path) is None  # absent
    for text in [
        "not json",
        "[1, 2]",
        '{"later_answers_median_s": "x", "first_answer_s": 1}',
        '{"later_answers_median_s": -1, "first_answer_s": 1}',
        '{"later_answers_median_s": 1e308, "first_answer_s": 1}',
        '{"first_answer_s": 1}',
        " " * 200_000,
    ]:
        path.write_text(text, encoding="utf-8")
        assert reader_wait(path) is None, text
    path.write_text('{"later_answers_median_s": 0.5, "first_answer_s": 3}', encoding="utf-8")
    assert reader_wait(path) is not None
