"""A run's report: metrics with their n and spread, per-tag breakdown, errors, comparison to
an earlier run, the CI gate, and its results file (the rendered reports: `evals.render`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

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
    # Why the two runs are not like for like (other corpus or settings), if they are not.
    mismatch: list[str] = Field(default_factory=list)


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
    # What the run ran over: a hash of its corpus files and of its settings (older runs: "").
    corpus_fingerprint: str = ""
    settings_fingerprint: str = ""

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
        corpus_fingerprint=corpus_fingerprint(suite.corpus),
        settings_fingerprint=settings_fingerprint(settings),
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


def corpus_fingerprint(folder: Path) -> str:
    """A hash of every article file under `folder`: its path and its bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def settings_fingerprint(settings: Settings) -> str:
    """A hash of the settings that shape answers (paths, keys and timeouts left out)."""
    skip = {"openai_api_key", "chroma_path", "corpus_dir", "upload_dir", "request_timeout"}
    body = json.dumps(settings.model_dump(mode="json", exclude=skip), sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def mismatch(report: Report, before: dict[str, Any]) -> list[str]:
    """How an earlier run (its summary) differs from `report` in what it ran over."""
    found = []
    for field, what in (("corpus_fingerprint", "corpus"), ("settings_fingerprint", "settings")):
        old, new = before.get(field, ""), getattr(report, field)
        if not old or not new:
            found.append(f"{what}: not recorded by one of the runs")
        elif old != new:
            found.append(f"{what}: {old} before, {new} now")
    return found


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
        mismatch=mismatch(report, before),
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


def metric_rows(report: Report) -> list[tuple[str, str, int, str, str]]:
    """(metric, mean, n, spread, meaning) for the tables."""
    out = []
    for name, stat in report.metrics.items():
        if stat.n == 0:
            continue
        spread = f"± {stat.std:.3f} ({stat.min:.3f}-{stat.max:.3f})" if stat.repeats else ""
        out.append((name, f"{stat.mean:.3f}", stat.n, spread, METRICS[name][1]))
    return out
