"""Retrieval latency as the index grows: ~1k, ~10k, ~100k chunks of generated articles.

    python -m bench.query_scale [--chunks 1000 10000 100000] [--questions 200] [--work DIR]

Each corpus is written by evals/synthetic.py and indexed by the real indexer. Because a
chunk's vector is the mean of its sentences' vectors and every generated sentence comes from
the dev bench's 294 paragraphs, the indexer's embedder is the real local model behind a
cache: the index holds exactly the vectors an uncached run would write, without embedding
the same sentences again for every size. Queries go through a fresh `Pipeline` (real query
embedding, dense + BM25 + rerank). Reports p50/p95 of `retrieve()` and of its parts, the
first query of a new process (it loads the BM25 index the indexer saved), the time to build
that index from the store, and the growth against the smallest index; and
p50 of `retrieve()` with a date filter that ~60% of the articles pass.

`--work DIR` keeps the corpora and indexes: a later run re-indexes incrementally (the
corpora are generated with a fixed seed, so nothing changes) and only re-times the queries.
Its "build s" is then the unchanged-folder re-run, not a build.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_BENCH, ROOT, print_table
from bench.synthetic import write_corpus
from index import build_index
from rag import Pipeline, Settings
from rag.providers.embeddings import LocalEmbedder, Matrix
from rag.store.lexical import LexicalIndex

CHUNKS_PER_FILE = 2.65  # measured on generated articles (1-3 paragraphs each)
# A date filter that lets through ~60% of the generated articles (dated 2020-01 to 2025-06).
SINCE = {"since": "2022-01-01"}


class CachedEmbedder:
    """The local model, embedding each distinct text once across every corpus size."""

    def __init__(self) -> None:
        self._model = LocalEmbedder()
        self.model_id = self._model.model_id
        self.dimension = self._model.dimension
        self._cache: dict[str, Matrix] = {}

    def embed(self, texts: Sequence[str]) -> Matrix:
        """Embed `texts`, from the cache where it can."""
        new = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if new:
            self._cache.update(zip(new, self._model.embed(new), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])


def questions(count: int) -> list[str]:
    """A fixed sample of answerable dev questions."""
    rows = [json.loads(line) for line in (DEFAULT_BENCH / "questions.jsonl").open()]
    answerable = [r["question"] for r in rows if not r["is_impossible"]]
    return random.Random(0).sample(answerable, count)


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _pcts(ms: list[float]) -> tuple[float, float]:
    ordered = sorted(ms)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _bm25(lexical: LexicalIndex, question: str) -> list[str]:
    """The BM25 side's hits, stamp check included (as a query pays it)."""
    snapshot = lexical.current()
    return snapshot.search(question, 30) if snapshot else []


def measure(target: int, asked: list[str], embedder: CachedEmbedder, work: Path) -> dict[str, Any]:
    """Build an index of about `target` chunks and time retrieval on it."""
    corpus = write_corpus(work / f"corpus-{target}", math.ceil(target / CHUNKS_PER_FILE))
    settings = Settings(chroma_path=work / f"store-{target}", corpus_dir=corpus)
    started = time.perf_counter()
    report = build_index(corpus, settings, embedder=embedder, progress=True)
    build_s = time.perf_counter() - started
    pipeline = Pipeline.from_settings(settings)
    retriever = pipeline.retriever
    first_ms = _timed(lambda: pipeline.retrieve(asked[0]))  # loads the saved BM25 index
    # What building the BM25 side from the store costs (the indexer pays it once per run).
    bm25_build_ms = _timed(lambda: LexicalIndex(pipeline.store).current())
    for q in asked[:10]:  # warm caches
        pipeline.retrieve(q)
    total, dense, lexical, filtered = [], [], [], []
    lexical_side = retriever.lexical
    for q in asked:
        vector = retriever.embed_query(q)
        dense.append(_timed(partial(retriever._dense, vector, 30, None)))  # noqa: SLF001
        lexical.append(_timed(partial(_bm25, lexical_side, q)))
        total.append(_timed(partial(pipeline.retrieve, q)))
        filtered.append(_timed(partial(pipeline.retrieve, q, filters=SINCE)))
    row: dict[str, Any] = {
        "chunks": report.chunks_total,
        "files": len(report.added) + len(report.updated) + len(report.unchanged),
        "files_indexed": len(report.added) + len(report.updated),
        "index_build_s": build_s,
        "first_query_ms": first_ms,
        "bm25_build_ms": bm25_build_ms,
    }
    parts = (("retrieve", total), ("dense", dense), ("bm25", lexical), ("filtered", filtered))
    for name, ms in parts:
        row[f"{name}_p50_ms"], row[f"{name}_p95_ms"] = _pcts(ms)
    return row


def main(argv: list[str] | None = None) -> int:
    """Measure each size; print the table and write query_scale.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    parser.add_argument("--work", type=Path, help="keep corpora and indexes here for re-runs")
    args = parser.parse_args(argv)
    asked = questions(args.questions)
    embedder = CachedEmbedder()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        work = args.work.resolve() if args.work else Path(tmp)
        for target in args.chunks:
            rows.append(measure(target, asked, embedder, work))
            print_rows(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "query_scale.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


def print_rows(rows: list[dict[str, Any]]) -> None:
    """One row per index size; growth is p50 against the first row's."""
    base = rows[0]["retrieve_p50_ms"]
    shown = [
        r | {"bm25_build_s": r["bm25_build_ms"] / 1000, "growth": r["retrieve_p50_ms"] / base}
        for r in rows
    ]
    print_table(
        shown,
        [
            ("chunks", "{chunks}"),
            ("build s", "{index_build_s:.1f}"),
            ("BM25 build s", "{bm25_build_s:.1f}"),
            ("1st query ms", "{first_query_ms:.0f}"),
            ("p50 ms", "{retrieve_p50_ms:.1f}"),
            ("p95 ms", "{retrieve_p95_ms:.1f}"),
            ("growth", "{growth:.2f}x"),
            ("dense p50", "{dense_p50_ms:.1f}"),
            ("bm25 p50", "{bm25_p50_ms:.1f}"),
            ("filtered p50", "{filtered_p50_ms:.1f}"),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
