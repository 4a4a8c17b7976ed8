"""Concurrent answering: 8 threads, 200 questions, one index (offline mode).

    python -m bench.load [--threads 8] [--questions 200] [--out DIR]

Prints throughput (answers/s) and latency percentiles for a sequential run and a threaded
run of the same questions in the same process, and checks both give identical answers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.citations import SAMPLE_QUESTIONS
from bench.common import ROOT
from index import build_index
from rag import Answer, Pipeline, Settings


def _timed(pipeline: Pipeline, question: str) -> tuple[Answer, float]:
    started = time.perf_counter()
    result = pipeline.answer(question)
    return result, time.perf_counter() - started


def _summary(latencies: list[float], wall: float) -> dict[str, Any]:
    ms = sorted(x * 1000 for x in latencies)
    return {
        "answers_per_s": len(ms) / wall,
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> int:
    """Run sequential then threaded; print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args(argv)
    work = [SAMPLE_QUESTIONS[i % len(SAMPLE_QUESTIONS)] for i in range(args.questions)]
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        corpus = Path(tmp) / "articles"
        shutil.copytree(ROOT / "data" / "articles", corpus)
        settings = Settings(
            chroma_path=Path(tmp) / "chroma", corpus_dir=corpus, answer_mode="extractive"
        )
        build_index(corpus, settings, progress=False)
        pipeline = Pipeline.from_settings(settings)
        for q in SAMPLE_QUESTIONS:  # warm caches, so both runs see the same state
            pipeline.answer(q)
        started = time.perf_counter()
        sequential = [_timed(pipeline, q) for q in work]
        seq = _summary([t for _, t in sequential], time.perf_counter() - started)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            threaded = list(pool.map(lambda q: _timed(pipeline, q), work))
        par = _summary([t for _, t in threaded], time.perf_counter() - started)
    same = all(
        a.text == b.text and a.citations == b.citations
        for (a, _), (b, _) in zip(sequential, threaded, strict=True)
    )
    print(f"{'run':<14}{'answers/s':>10}{'p50_ms':>9}{'p95_ms':>9}")
    for name, res in (("sequential", seq), (f"{args.threads} threads", par)):
        print(f"{name:<14}{res['answers_per_s']:>10.1f}{res['p50_ms']:>9.1f}{res['p95_ms']:>9.1f}")
    print(
        f"threaded / sequential throughput: {par['answers_per_s'] / seq['answers_per_s']:.2f}x; "
        f"identical answers: {same}; errors: 0"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(
        json.dumps(
            {"sequential": seq, "threaded": par, "threads": args.threads, "identical": same},
            indent=2,
        )
    )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
