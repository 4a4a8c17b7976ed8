"""Answers a list of questions with whatever `rag` is first on the path; one JSON line each.

    python -m bench.answer_worker ARTICLES STORE QUESTIONS.jsonl OUT.jsonl

Run by `bench.answers` and `bench.conflicts` twice in one run: once with this checkout's
`rag` and `index`, once with the baseline commit's exported next to it. Each version indexes
the articles into its own store first (the index holds sentence vectors cut by that
version's sentence splitter, which its answerer expects), then answers every question. It
uses only the API both versions share (`build_index`, `Pipeline`, `Settings`, `Answer`'s
common fields).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from index import build_index
from rag import Pipeline, Settings


def _conflict(conflict: Any) -> dict[str, Any]:
    return json.loads(conflict.model_dump_json())  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    """Answer every question of the file, write one JSON line per answer."""
    articles, store, questions, out = (Path(a) for a in (argv or sys.argv[1:]))
    settings = Settings.load(
        chroma_path=store,
        corpus_dir=articles,
        upload_dir=store / "uploads",
        answer_mode="extractive",
    )
    build_index(articles, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines()]
    pipeline.answer(rows[0]["question"])  # warm-up: first-call costs are not per-answer latency
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            started = time.perf_counter()
            answer = pipeline.answer(row["question"])
            seconds = time.perf_counter() - started
            record = {
                "id": row["id"],
                "text": answer.text,
                "refused": answer.refused,
                "cited": [c.source_file for c in answer.citations],
                "quotes": [c.quote for c in answer.citations],
                "conflicts": [_conflict(c) for c in answer.conflicts],
                "seconds": seconds,
            }
            fh.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
