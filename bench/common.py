"""What the benchmarks share: paths, the dev bench's questions, and one table printer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BENCH = ROOT.parent / "shared" / "bench" / "squad-dev"
RESULTS = ROOT / "evals" / "results"  # every benchmark writes its JSON here by default


def load_questions(bench: Path, limit: int | None) -> list[dict[str, Any]]:
    """Questions of the bench, in file order, optionally the first `limit`."""
    with (bench / "questions.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[:limit] if limit else rows


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """A right-aligned table: one (header, format string over a row's keys) per column."""
    cells = [[fmt.format(**row) for _, fmt in columns] for row in rows]
    widths = [
        max([len(header), *(len(line[i]) for line in cells)])
        for i, (header, _) in enumerate(columns)
    ]
    lines = [" ".join(h.rjust(w) for (h, _), w in zip(columns, widths, strict=True))]
    lines += [" ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> None:
    """Print `format_table(rows, columns)`."""
    print(format_table(rows, columns))


PARAPHRASE = ROOT / "evals" / "sets" / "squad_paraphrase.jsonl"
# Articles no shipped model is fitted on: the answer benchmark reports on them as held out.
HELD_OUT = ("Harvard_University", "Packet_switching")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fitting_questions(
    bench: Path, extra: Sequence[Path], held_out: Sequence[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bench's and the extra sets' questions, split into (fitting, held-out) by article;
    each question is tagged with the set it came from."""
    rows = [dict(q, set=bench.name) for q in load_questions(bench, None)]
    for path in extra:
        rows += [dict(q, set=path.stem) for q in load_jsonl(path)]
    fit = [q for q in rows if q.get("article") not in held_out]
    test = [q for q in rows if q.get("article") in held_out]
    return fit, test
