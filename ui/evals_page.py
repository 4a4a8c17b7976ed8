"""Streamlit Evals page: run a suite with progress, read its charts, drill into cases, and
compare two runs. Rendering and session state only: `evals` does the work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import streamlit as st

from evals import charts, load_suite, run_suite
from evals.feedback import Feedback, entries, export_suite, feedback_path
from evals.local import attempt
from evals.metrics import METRICS
from evals.report import Report, compare_runs, load_run, metric_rows
from evals.runner import DEFAULT_RUNS, iter_runs, reader_wait
from rag import RagError, Settings

SUITES = Path(__file__).resolve().parents[1] / "evals" / "suites"


def run_panel() -> None:
    """Pick a suite and options, run it with a progress bar."""
    shipped = sorted(str(p) for p in SUITES.glob("*.y*ml"))
    with st.form("run"):
        choice = st.selectbox(
            "Suite",
            [*shipped, "Other path…"],
            format_func=lambda p: Path(p).stem if p in shipped else p,
        )
        other = st.text_input("Other suite (a .yaml file or a bench folder)")
        left, middle, right = st.columns(3)
        mode = left.selectbox("Mode", ["auto", "extractive", "openai"])
        limit = middle.number_input("Sample size (0 = all)", min_value=0, value=0)
        concurrency = right.number_input("Concurrency", min_value=1, max_value=16, value=1)
        submitted = st.form_submit_button("Run suite", type="primary")
    if not submitted:
        return
    path = other.strip() if choice == "Other path…" else choice
    bar = st.progress(0.0, text="Indexing the suite's corpus…")
    try:
        report = run_suite(
            path,
            mode=mode,
            limit=int(limit) or None,
            concurrency=int(concurrency),
            progress=False,
            on_progress=lambda done, total: _advance(bar, done, total),
        )
    except RagError as exc:
        st.error(str(exc))
        return
    st.success(f"Finished: {report.run_dir}")
    st.session_state.latest_run = report.run_dir


def show_run(run_dir: Path, compare_to: Path | None) -> None:
    """A finished run: metrics, charts, comparison, cases."""
    summary, rows = load_run(run_dir)
    report = Report.model_validate(summary)
    if compare_to is not None:
        report.comparison = compare_runs(report, rows, compare_to)
    st.caption(
        f"{report.suite} · {report.cases} cases × {report.repeats} · mode {report.mode} · "
        f"{report.finished} · {len(report.errors)} errored"
    )
    scorecard(report)
    with st.expander("All metrics as numbers"):
        st.dataframe(
            [
                dict(zip(["metric", "mean", "n", "spread", "meaning"], r, strict=True))
                for r in metric_rows(report)
            ],
            hide_index=True,
        )
    for title, chart in [
        ("Metrics", charts.metric_bars(report)),
        ("Pass rate by tag", charts.tag_bars(report)),
        ("Time to compute each answer", charts.latency_histogram(rows)),
    ]:
        if chart is not None:
            st.subheader(title)
            st.altair_chart(chart)
            if title.startswith("Time"):
                _waits(rows)
    if report.comparison:
        show_comparison(report)
    show_cases(rows, report.source)


# Each metric in plain words; the formula is its tooltip (`evals.metrics.METRICS`).
PLAIN = {
    "hit@1": "Right article found first",
    "hit@3": "Right article in the top 3",
    "hit@5": "Right article in the top 5",
    "mrr": "How high the right article ranks",
    "citation_precision": "Citations that point at a right article",
    "citation_recall": "Right articles the answer cites",
    "citation_validity": "Quotes found word for word in their article",
    "fact_recall": "Expected facts the answer states",
    "refusal_accuracy": "Declined when nothing answers",
    "false_refusal_rate": "Declined although an article answers",
    "exact_match": "Answer word for word the reference",
    "f1": "Words shared with the reference answer",
    "passed": "Cases passed",
    "judge_correctness": "Correct, says the judge model",
    "judge_faithfulness": "Backed by its quotes, says the judge model",
}
GOOD = 0.7  # a higher-is-better score under this (or a lower-is-better one over 0.3) is flagged


def failing(name: str, mean: float) -> bool:
    """Whether a metric's mean is in the failing zone."""
    higher = METRICS.get(name, (True, ""))[0]
    return mean < GOOD if higher else mean > 1 - GOOD


def scorecard(report: Report) -> None:
    """Every metric under its plain name (formula on hover), weakest first, failing ones red."""
    shown = [(n, s) for n, s in report.metrics.items() if s.n and s.mean is not None]
    shown.sort(key=lambda item: (not failing(item[0], item[1].mean or 0.0), item[1].mean or 0.0))
    for start in range(0, len(shown), 3):
        for column, (name, stat) in zip(st.columns(3), shown[start : start + 3], strict=False):
            mean = stat.mean or 0.0
            colour = "red" if failing(name, mean) else "green"
            column.metric(
                PLAIN.get(name, name),
                f"{mean:.0%}",
                help=f"{name}: {METRICS.get(name, (True, ''))[1]} (n = {stat.n})",
                border=True,
            )
            column.markdown(f":{colour}-badge[{'needs work' if colour == 'red' else 'good'}]")


def _waits(rows: list[dict[str, Any]]) -> None:
    times = sorted(r["latency_s"] for r in rows if r["status"] == "ok")
    if not times:
        return
    computed = f"Median {times[len(times) // 2]:.2f} s to compute an answer."
    waited = reader_wait()
    if waited is None:
        st.caption(
            f"{computed} A reader in the chat also waits for the page to draw it: "
            "`make bench-ui` times that in a browser, and its figures then show here."
        )
        return
    later, first, when = waited
    st.caption(
        f"{computed} What a reader waits in the chat, Enter to the finished answer with its "
        f"sources (`make bench-ui`, {when}): **{later:.2f} s** for later answers (median), "
        f"{first:.2f} s for the first answer from opening the page."
    )


def show_comparison(report: Report) -> None:
    """Deltas against the compared run and the cases that regressed."""
    comparison = report.comparison
    assert comparison is not None
    st.subheader(f"Against {Path(comparison.against).name}")
    chart = charts.delta_bars(comparison)
    if chart is not None:
        st.altair_chart(chart)
    if comparison.mismatch:
        st.warning(
            "These runs are not like for like, so differences may not be regressions: "
            + "; ".join(comparison.mismatch),
            icon="⚠️",
        )
    if comparison.regressed:
        st.error("Regressed: " + ", ".join(comparison.regressed))
    else:
        st.success("No case regressed.")
    if comparison.fixed:
        st.info("Fixed: " + ", ".join(comparison.fixed))


def show_cases(rows: list[dict[str, Any]], source: str) -> None:
    """The case table, filtered by result, and one case in full."""
    st.subheader("Cases")
    results = {r["case_id"] + f" #{r['repeat'] + 1}": r for r in rows}
    only_failed = st.toggle("Only failed or errored cases")
    table = [
        {"case": key, "result": _result(r), "question": r["question"], "tags": ", ".join(r["tags"])}
        for key, r in sorted(results.items(), key=lambda kv: _weakness(kv[1]))
        if not only_failed or _result(r) != "PASS"
    ]  # the weakest cases first: errors, then failures, then by how little they scored
    st.dataframe(table, hide_index=True)
    if not table:
        return
    key = st.selectbox("Case", [t["case"] for t in table])
    row = results[key]
    try:
        cases = {c.id: c for c in load_suite(source).cases} if source else {}
    except RagError:
        cases = {}
    st.text(row["question"])
    if row["status"] != "ok":
        st.error(f"{row['status']}: {row['error']}")
        return
    show_case(row, cases.get(row["case_id"]))


def show_case(row: dict[str, Any], case: Any) -> None:
    """Expected (sources, facts) against what was answered, cited and retrieved."""
    expected, got = st.columns(2)
    with expected:
        st.markdown("**Expected**")
        if case is None:
            st.caption("The suite file is not readable any more.")
        elif case.unanswerable:
            st.markdown("A refusal (nothing in the corpus answers).")
        else:
            st.markdown("Sources: " + (", ".join(f"`{s}`" for s in case.expected_sources) or "—"))
            st.markdown("Facts: " + ("; ".join(f"`{f}`" for f in case.facts) or "—"))
    with got:
        st.markdown("**Answered**")
        st.text(row["answer"] or "(refused)")
        if row.get("missing_facts"):
            st.warning("Missing facts: " + "; ".join(row["missing_facts"]))
    st.markdown("**Cited**")
    st.dataframe(row["citations"], hide_index=True)
    st.markdown("**Retrieved passages (files, in rank order)**")
    st.dataframe([{"rank": i + 1, "file": f} for i, f in enumerate(row["retrieved"])])
    with st.expander("Scores"):
        st.dataframe([{"metric": k, "score": v} for k, v in row["scores"].items()], hide_index=True)
        if row.get("judge"):
            st.json(row["judge"])


def run_label(run_dir: str) -> str:
    """A run as people name it: suite, mode, finish time and pass rate (the folder if unread)."""
    try:
        summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return Path(run_dir).name
    passed = (summary.get("metrics", {}).get("passed") or {}).get("mean")
    rate = f"{passed:.0%} passed" if passed is not None else "pass rate n/a"
    when = str(summary.get("finished", "")).replace("T", " ")[:16]
    return f"{summary.get('suite', '?')} · {summary.get('mode', '?')} · {when} · {rate}"


def _advance(bar: Any, done: int, total: int) -> None:
    bar.progress(done / total, text=f"{done}/{total} cases")


def _weakness(row: dict[str, Any]) -> tuple[int, float]:
    result = _result(row)
    scores = [v for v in row.get("scores", {}).values() if isinstance(v, int | float)]
    order = {"PASS": 2, "FAIL": 1}.get(result, 0)
    return order, sum(scores) / len(scores) if scores else 0.0


def _result(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return str(row["status"]).upper()
    return "PASS" if row["scores"].get("passed") == 1.0 else "FAIL"


def feedback_panel() -> None:
    """Readers' 👍/👎 from the chat as a suite file to download (`rag feedback export`)."""
    try:
        settings = Settings.load(env_file=".env" if Path(".env").is_file() else None)
    except RagError as exc:
        st.error(str(exc))
        return
    path = feedback_path(settings)
    nothing: list[Feedback] = []
    kept, problem = attempt(lambda: entries(path), nothing)
    if problem:
        st.warning(str(problem))
        return
    down = sum(1 for e in kept if e.rating < 0)
    with st.expander(f"Readers' feedback: {len(kept) - down} helpful, {down} not helpful"):
        if not kept:
            st.caption("Rate answers in the chat with 👍/👎; they become eval cases here.")
            return
        st.caption(
            "👎 answers become cases for you to complete (expected sources and facts); "
            "👍 answers become regression cases. `rag eval` runs the file as it is."
        )
        suite = export_suite(path, settings.corpus_dir)
        st.download_button("Export feedback as a suite", suite, "feedback.yaml", "text/yaml")


def main() -> None:
    """Render the Evals page."""
    st.set_page_config(page_title="Evals", page_icon="📊")
    st.title("Evals")
    feedback_panel()
    with st.expander("Run a suite", expanded=not any(iter_runs())):
        run_panel()
    runs = list(iter_runs())
    if not runs:
        st.info(f"No finished runs under {DEFAULT_RUNS} yet: run a suite above or `make eval`.")
        return
    labels = {str(p): p for p in runs}
    current = st.session_state.get("latest_run")
    index = list(labels).index(current) if current in labels else 0
    chosen = st.selectbox("Run", list(labels), index=index, format_func=run_label)
    other = st.selectbox(
        "Compare with",
        ["(none)", *[k for k in labels if k != chosen]],
        format_func=lambda k: k if k == "(none)" else run_label(k),
    )
    try:
        show_run(labels[chosen], labels.get(other))
    except (RagError, json.JSONDecodeError, OSError) as exc:
        st.error(f"Cannot read {chosen}: {exc}")


main()
