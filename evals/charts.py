"""Altair charts of a run, shared by report.html (as inline SVG) and the Streamlit Evals page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt

from evals.metrics import METRICS

if TYPE_CHECKING:
    from evals.report import Comparison, Report


def metric_bars(report: Report) -> alt.Chart | None:
    """One bar per metric (0-1), with the spread over repeats as an error bar."""
    data = [
        {
            "metric": name,
            "mean": stat.mean,
            "low": stat.min,
            "high": stat.max,
            "n": stat.n,
            "better": "higher" if METRICS[name][0] else "lower",
        }
        for name, stat in report.metrics.items()
        if stat.mean is not None
    ]
    if not data:
        return None
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("metric:N", sort=None, title=None),
        tooltip=["metric:N", "mean:Q", "n:Q", "better:N"],
    )
    bars = base.mark_bar().encode(
        x=alt.X("mean:Q", scale=alt.Scale(domain=[0, 1]), title="mean over applicable cases"),
        color=alt.Color("better:N", title="better when"),
    )
    spread = base.mark_rule(color="black").encode(x="low:Q", x2="high:Q")
    labels = base.mark_text(align="left", dx=3).encode(
        x="mean:Q", text=alt.Text("mean:Q", format=".2f")
    )
    return (bars + spread + labels).properties(width=520)


def latency_histogram(rows: list[dict[str, Any]]) -> alt.Chart | None:
    """Answer latency of every answered case."""
    data = [{"s": r["latency_s"]} for r in rows if r["status"] == "ok"]
    if not data:
        return None
    return (
        alt.Chart(alt.Data(values=data))
        .mark_bar()
        .encode(
            x=alt.X("s:Q", bin=alt.Bin(maxbins=30), title="seconds to compute the answer"),
            y=alt.Y("count():Q", title="cases"),
        )
        .properties(width=520, height=200)
    )


def tag_bars(report: Report) -> alt.Chart | None:
    """Pass rate per tag, labelled with the number of cases."""
    data = [
        {"tag": tag, "pass rate": stats["passed"].mean, "n": stats["passed"].n}
        for tag, stats in report.tags.items()
        if stats["passed"].mean is not None
    ]
    if not data:
        return None
    base = alt.Chart(alt.Data(values=data)).encode(
        y=alt.Y("tag:N", sort=None, title=None), tooltip=["tag:N", "pass rate:Q", "n:Q"]
    )
    bars = base.mark_bar().encode(
        x=alt.X(
            "pass rate:Q",
            scale=alt.Scale(domain=[0, 1]),
            title="pass rate (label: number of cases with the tag)",
        )
    )
    labels = base.mark_text(align="left", dx=3).encode(
        x="pass rate:Q", text=alt.Text("n:Q", format="d")
    )
    return (bars + labels).properties(width=520)


def delta_bars(comparison: Comparison) -> alt.Chart | None:
    """Each metric's change against the compared run, red where it got worse."""
    data = [
        {"metric": d.metric, "delta": d.delta, "worse": "worse" if d.worse else "same or better"}
        for d in comparison.deltas
        if d.delta is not None
    ]
    if not data:
        return None
    return (
        alt.Chart(alt.Data(values=data))
        .mark_bar()
        .encode(
            y=alt.Y("metric:N", sort=None, title=None),
            x=alt.X("delta:Q", title="after - before"),
            color=alt.Color(
                "worse:N",
                scale=alt.Scale(domain=["worse", "same or better"], range=["#d62728", "#2ca02c"]),
                title=None,
            ),
        )
        .properties(width=520)
    )


def to_svg(chart: alt.TopLevelMixin | None) -> str:
    """The chart rendered to inline SVG (no scripts, no network), or "" for no chart."""
    if chart is None:
        return ""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(chart.to_dict()))
