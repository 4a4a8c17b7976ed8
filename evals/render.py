"""The files a run writes beside its results: summary.json, report.md and report.html
(with Altair charts rendered to inline SVG)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from evals import charts
from evals.formats import write_junit
from evals.report import Comparison, Report, metric_rows, write_results


def write_reports(report: Report, rows: list[dict[str, Any]]) -> None:
    """Write summary.json, report.md, report.html and junit.xml; results.jsonl (one JSON row
    per case run) is rewritten in case order."""
    run_dir = Path(report.run_dir)
    write_results(run_dir, rows)
    (run_dir / "summary.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (run_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    (run_dir / "report.html").write_text(render_html(report, rows), encoding="utf-8")
    write_junit(run_dir / "junit.xml", report.suite, rows)


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
