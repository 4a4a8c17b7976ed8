"""A run's report: metrics with their n and spread, per-tag breakdown, errors, comparison to
an earlier run, the CI gate, and the files it writes (summary.json, report.md, report.html)."""

from __future__ import annotations

import datetime as dt
import html
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from evals import charts
from evals.metrics import METRICS, Stat, aggregate, percentile
from evals.suite import Suite, SuiteError
from rag.config import Settings

PASS_RULE = (
    "unanswerable: the answer declines; answerable: it answers, states every fact, cites at "
    "least one expected source and every quote is found at its offsets"
)
EXTRA_GATES = {"latency_p50_ms": False, "latency_p95_ms": False, "errors": False}


class CaseError(BaseModel):
    """A case that produced no answer (excluded from every metric, counted here)."""

    case_id: str
    repeat: int
    status: str
    error: str


class Delta(BaseModel):
    """One metric against the compared run."""

    metric: str
    before: float | None
    after: float | None
    delta: float | None
    worse: bool


class Comparison(BaseModel):
    """This run against an earlier one."""

    against: str
    deltas: list[Delta]
    regressed: list[str]  # cases that passed before and fail now
    fixed: list[str]  # cases that failed before and pass now


class Report(BaseModel):
    """Everything `summary.json` holds."""

    suite: str
    source: str
    run_dir: str
    finished: str
    mode: str
    settings: dict[str, Any]
    cases: int
    repeats: int
    judged: bool
    metrics: dict[str, Stat]
    latency_ms: dict[str, float | None]
    tokens: int
    cost_usd: float | None
    errors: list[CaseError]
    judge_errors: dict[str, int]
    tags: dict[str, dict[str, Stat]]
    pass_rule: str = PASS_RULE
    comparison: Comparison | None = None

    def value(self, name: str) -> float | None:
        """A gateable figure by name: a metric's mean, latency_p50_ms/p95_ms, or errors."""
        if name in self.metrics:
            return self.metrics[name].mean
        if name.startswith("latency_"):
            return self.latency_ms.get(name.removeprefix("latency_").removesuffix("_ms"))
        if name == "errors":
            return float(len(self.errors))
        raise SuiteError(f"Unknown metric {name!r}; known: {', '.join([*METRICS, *EXTRA_GATES])}.")

    def gate(self, under: dict[str, float], above: dict[str, float]) -> list[str]:
        """Why the run fails its bars (empty if it passes): below an under-bar, above a cap."""
        failures = []
        for name, bar in under.items():
            value = self.value(name)
            if value is None or value < bar:
                failures.append(f"{name} = {_fmt(value)} is below {bar:g}")
        for name, cap in above.items():
            value = self.value(name)
            if value is None or value > cap:
                failures.append(f"{name} = {_fmt(value)} is above {cap:g}")
        return failures


def _fmt(value: float | None) -> str:
    return "n/a (no case measured it)" if value is None else f"{value:.3f}"


def build_report(
    suite: Suite,
    settings: Settings,
    rows: list[dict[str, Any]],
    run_dir: Path,
    repeats: int,
    judged: bool,
    compare: str | Path | None,
) -> Report:
    """Aggregate a run's rows into its `Report`."""
    order = {case.id: i for i, case in enumerate(suite.cases)}
    rows.sort(key=lambda r: (order.get(r["case_id"], len(order)), r["repeat"]))
    ok = [r for r in rows if r["status"] == "ok"]
    latencies = [r["latency_s"] * 1000 for r in ok]
    costs = [r["cost_usd"] for r in ok if r.get("cost_usd") is not None]
    report = Report(
        suite=suite.name,
        source=suite.source,
        run_dir=str(run_dir),
        finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        mode=settings.resolved_mode,
        settings=settings.model_dump(mode="json", exclude={"openai_api_key"}),
        cases=len(suite.cases),
        repeats=repeats,
        judged=judged,
        metrics=aggregate(rows, repeats),
        latency_ms={
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "mean": statistics.fmean(latencies) if latencies else None,
        },
        tokens=sum(r.get("tokens", 0) for r in ok),
        cost_usd=sum(costs) if costs else None,
        errors=[CaseError(**r) for r in rows if r["status"] != "ok"],
        judge_errors=_judge_errors(ok),
        tags=_by_tag(rows, repeats),
    )
    if compare is not None:
        report.comparison = compare_runs(report, rows, Path(compare))
    return report


def _judge_errors(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        for name, verdict in row.get("judge", {}).items():
            counts[name] += "error" in verdict
    return dict(counts)


def _by_tag(rows: list[dict[str, Any]], repeats: int) -> dict[str, dict[str, Stat]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        for tag in row.get("tags") or ["(untagged)"]:
            grouped[tag].append(row)
    return {tag: aggregate(group, repeats) for tag, group in sorted(grouped.items())}


def read_results(run_dir: Path) -> list[dict[str, Any]]:
    """The saved case rows of a run (the last row wins if a case was saved twice)."""
    path = Path(run_dir) / "results.jsonl"
    if not path.is_file():
        return []
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: that case runs again
            rows[(row["case_id"], row["repeat"])] = row
    return list(rows.values())


def load_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An earlier run's summary and rows; `run_dir` may also be its summary.json."""
    folder = run_dir.parent if run_dir.name == "summary.json" else run_dir
    summary = folder / "summary.json"
    if not summary.is_file():
        raise SuiteError(f"--compare {run_dir}: no summary.json there; pass a finished run folder.")
    return json.loads(summary.read_text(encoding="utf-8")), read_results(folder)


def compare_runs(report: Report, rows: list[dict[str, Any]], other: Path) -> Comparison:
    """Deltas of every metric and the cases whose pass rate fell or rose."""
    before, before_rows = load_run(other)
    deltas = []
    for name, (higher_better, _) in METRICS.items():
        old = (before.get("metrics", {}).get(name) or {}).get("mean")
        new = report.metrics[name].mean if name in report.metrics else None
        if old is None and new is None:
            continue
        delta = None if old is None or new is None else new - old
        worse = delta is not None and (delta < -1e-9 if higher_better else delta > 1e-9)
        deltas.append(Delta(metric=name, before=old, after=new, delta=delta, worse=worse))
    old_pass, new_pass = _pass_rates(before_rows), _pass_rates(rows)
    common = [c for c in new_pass if c in old_pass]
    return Comparison(
        against=str(other),
        deltas=deltas,
        regressed=[c for c in common if new_pass[c] < old_pass[c]],
        fixed=[c for c in common if new_pass[c] > old_pass[c]],
    )


def _pass_rates(rows: list[dict[str, Any]]) -> dict[str, float]:
    runs: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        ok = row["status"] == "ok" and row["scores"].get("passed") == 1.0
        runs[row["case_id"]].append(float(ok))
    return {case: statistics.fmean(v) for case, v in runs.items()}


def write_results(run_dir: Path, rows: list[dict[str, Any]]) -> None:
    """results.jsonl: one JSON line per case run."""
    with (run_dir / "results.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(json.dumps(row, default=str) + "\n" for row in rows)


def write_reports(report: Report, rows: list[dict[str, Any]]) -> None:
    """Write summary.json, report.md and report.html; results.jsonl is rewritten in case order."""
    run_dir = Path(report.run_dir)
    write_results(run_dir, rows)
    (run_dir / "summary.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (run_dir / "report.html").write_text(render_html(report, rows), encoding="utf-8")


def metric_rows(report: Report) -> list[tuple[str, str, int, str, str]]:
    """(metric, mean, n, spread, meaning) for the tables."""
    out = []
    for name, stat in report.metrics.items():
        if stat.n == 0:
            continue
        spread = f"± {stat.std:.3f} ({stat.min:.3f}-{stat.max:.3f})" if stat.repeats else ""
        out.append((name, f"{stat.mean:.3f}", stat.n, spread, METRICS[name][1]))
    return out


def headline(report: Report) -> str:
    """One line: what ran and how many case runs errored."""
    return (
        f"{report.cases} cases × {report.repeats} run(s), mode {report.mode}, finished "
        f"{report.finished}; {len(report.errors)} case run(s) errored (excluded from metrics)."
    )


def render_markdown(report: Report) -> str:
    """The report as Markdown."""
    lines = [
        f"# Eval: {report.suite}",
        "",
        headline(report),
        "",
        "| metric | mean | n | spread over repeats | meaning |",
        "|---|---:|---:|---|---|",
        *(f"| {m} | {v} | {n} | {s} | {d} |" for m, v, n, s, d in metric_rows(report)),
        "",
        f"Latency p50 {_ms(report.latency_ms['p50'])}, p95 {_ms(report.latency_ms['p95'])}; "
        f"tokens {report.tokens}; cost {_cost(report.cost_usd)}.",
        "",
        f"A case passes when: {report.pass_rule}.",
    ]
    if report.judge_errors:
        lines += ["", f"Judge replies that could not be read: {report.judge_errors}."]
    if report.errors:
        lines += ["", "## Errors", ""]
        lines += [
            f"- {e.case_id} (run {e.repeat + 1}): {e.status}: {e.error}" for e in report.errors
        ]
    if report.comparison:
        lines += ["", *_markdown_comparison(report.comparison)]
    return "\n".join(lines) + "\n"


def _markdown_comparison(comparison: Comparison) -> list[str]:
    lines = [
        f"## Against {comparison.against}",
        "",
        "| metric | before | after | delta |",
        "|---|---:|---:|---:|",
    ]
    for d in comparison.deltas:
        flag = " (worse)" if d.worse else ""
        lines.append(f"| {d.metric} | {_num(d.before)} | {_num(d.after)} | {_num(d.delta)}{flag} |")
    lines += ["", f"Regressed cases: {', '.join(comparison.regressed) or 'none'}."]
    lines += [f"Fixed cases: {', '.join(comparison.fixed) or 'none'}."]
    return lines


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.3f}" if value < 0 else f"{value:.3f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


def _cost(value: float | None) -> str:
    return "n/a (no priced model ran)" if value is None else f"${value:.4f}"


def render_html(report: Report, rows: list[dict[str, Any]]) -> str:
    """The report as one self-contained HTML page: charts are inline SVG, no scripts."""
    figures = [
        ("Metrics", charts.metric_bars(report)),
        ("Latency", charts.latency_histogram(rows)),
        ("Pass rate by tag", charts.tag_bars(report)),
    ]
    if report.comparison:
        figures.append(("Change against the compared run", charts.delta_bars(report.comparison)))
    body = [
        f"<h1>Eval: {html.escape(report.suite)}</h1>",
        f"<p>{html.escape(headline(report))}</p>",
        _html_table(
            ["metric", "mean", "n", "spread over repeats", "meaning"],
            [list(map(str, row)) for row in metric_rows(report)],
        ),
        *(f"<h2>{title}</h2>{charts.to_svg(chart)}" for title, chart in figures if chart),
        "<h2>Cases</h2>",
        f"<p>A case passes when: {html.escape(report.pass_rule)}.</p>",
        _html_table(["case", "run", "result", "question", "answer / error"], _case_cells(rows)),
    ]
    if report.comparison:
        c = report.comparison
        body.append(f"<p>Regressed: {html.escape(', '.join(c.regressed) or 'none')}. ")
        body.append(f"Fixed: {html.escape(', '.join(c.fixed) or 'none')}.</p>")
    return _PAGE.format(title=html.escape(report.suite), body="\n".join(body))


def _case_cells(rows: list[dict[str, Any]]) -> list[list[str]]:
    cells = []
    for row in rows:
        if row["status"] != "ok":
            result, text = row["status"].upper(), row["error"]
        else:
            result = "PASS" if row["scores"].get("passed") == 1.0 else "FAIL"
            missing = row.get("missing_facts") or []
            text = row["answer"] + (f" — missing: {'; '.join(missing)}" if missing else "")
        cells.append([row["case_id"], str(row["repeat"] + 1), result, row["question"], text])
    return cells


def _html_table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    trs = "".join(
        f'<tr class="{_row_class(r)}">' + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>"


def _row_class(cells: list[str]) -> str:
    return "fail" if any(c in ("FAIL", "ERROR", "TIMEOUT") for c in cells) else ""


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Eval: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
tr.fail td {{ background: #fff0f0; }}
svg {{ max-width: 100%; height: auto; }}
</style></head>
<body>
{body}
</body></html>
"""
