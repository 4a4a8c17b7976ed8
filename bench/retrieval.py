"""Retrieval benchmark: the project's retriever against llama-index's obvious alternatives.

    python -m bench.retrieval [BENCH_DIR] [--out evals/results] [--limit N]

BENCH_DIR has `articles/` and `questions.jsonl` (SQuAD-style, with `gold_source`). Every
system is measured in the same run, on the same machine, with the same embedding model:
  1. llama-index `VectorStoreIndex` over Chroma, default splitter settings;
  2. llama-index `BM25Retriever` alone, over the same default-splitter nodes;
  3. the project's default retriever (its own chunks, hybrid, fused).
Metrics are file-level (a file counted once, at its best rank) over answerable questions.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from llama_index.retrievers.bm25 import BM25Retriever
from llama_index.vector_stores.chroma import ChromaVectorStore
from pydantic import PrivateAttr
from tqdm import tqdm

from bench.common import DEFAULT_BENCH, ROOT, load_questions
from index import build_index
from rag import Pipeline, Settings
from rag.providers.embeddings import Embedder, build_embedder
from rag.store.chroma import open_client
from rag.store.corpus import list_article_files, read_text, source_name

DEPTH = 10

Ranker = Callable[[str], list[str]]  # question -> source files, best first


class LlamaEmbedding(BaseEmbedding):
    """The project's embedder behind llama-index's embedding interface (for the baseline)."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder) -> None:
        super().__init__(model_name=embedder.model_id, embed_batch_size=64)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return [float(x) for x in self._embedder.embed([query])[0]]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_query_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [[float(x) for x in row] for row in self._embedder.embed(texts)]

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


def file_ranking(sources: Sequence[str]) -> list[str]:
    """Source files in order of their best chunk."""
    return list(dict.fromkeys(sources))


def score(rankings: list[list[str]], golds: list[str], latencies: list[float]) -> dict[str, Any]:
    """hit@k, MRR@10 and nDCG@10 at file level, plus latency percentiles in ms."""
    ranks = [
        r.index(g) + 1 if g in r[:DEPTH] else None for r, g in zip(rankings, golds, strict=True)
    ]
    n = len(ranks)
    ms = sorted(x * 1000 for x in latencies)
    return {
        "n": n,
        "hit@1": sum(1 for r in ranks if r == 1) / n,
        "hit@5": sum(1 for r in ranks if r and r <= 5) / n,
        "hit@10": sum(1 for r in ranks if r) / n,
        "mrr@10": sum(1 / r for r in ranks if r) / n,
        "ndcg@10": sum(1 / math.log2(r + 1) for r in ranks if r) / n,
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))],
    }


def run_system(name: str, ranker: Ranker, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Rank every answerable question with `ranker` and score it."""
    ranker(questions[0]["question"])  # warm-up: first-call costs are not per-query latency
    rankings, latencies = [], []
    for q in tqdm(questions, desc=name, unit="q", leave=False):
        started = time.perf_counter()
        rankings.append(ranker(q["question"]))
        latencies.append(time.perf_counter() - started)
    return score(rankings, [q["gold_source"] for q in questions], latencies)


def default_documents(articles: Path) -> list[Document]:
    """One llama-index Document per file, as a user of the library would load them."""
    return [
        Document(text=read_text(p), metadata={"source_file": source_name(articles, p)})
        for p in list_article_files(articles)
    ]


def baselines(articles: Path, embedder: Embedder, workdir: Path) -> dict[str, Ranker]:
    """The two llama-index baselines, built over default-splitter nodes."""
    nodes = SentenceSplitter().get_nodes_from_documents(default_documents(articles))
    settings = Settings(chroma_path=workdir / "baseline-chroma", collection="baseline")
    client = open_client(settings, create=True)
    collection = client.get_or_create_collection(
        "baseline", embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    storage = StorageContext.from_defaults(
        vector_store=ChromaVectorStore(chroma_collection=collection)
    )
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=LlamaEmbedding(embedder))
    dense = index.as_retriever(similarity_top_k=DEPTH)
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=DEPTH)
    return {
        "llama-index VectorStoreIndex (dense)": lambda q: file_ranking(
            [h.node.metadata["source_file"] for h in dense.retrieve(q)]
        ),
        "llama-index BM25Retriever": lambda q: file_ranking(
            [h.node.metadata["source_file"] for h in bm25.retrieve(q)]
        ),
    }


def project_ranker(pipeline: Pipeline) -> Ranker:
    """The project's default retriever, as `answer()` uses it."""
    return lambda q: file_ranking([c.source_file for c in pipeline.retrieve(q, top_k=DEPTH)])


ABLATIONS: dict[str, dict[str, Any]] = {
    "no sentence rerank": {"rerank_depth": 0},
    "plus sentence-dense side": {"sentence_weight": 1.0, "sentence_candidates": 60},
    "no chunk dense side": {"dense_weight": 0.0},
    "no BM25 side": {"bm25_weight": 0.0},
    "equal weights (1/1/1)": {"dense_weight": 1.0},
    "rerank by support only": {"fusion_share": 0.0},
    "rerank depth 10": {"rerank_depth": 10},
    "rerank depth 40": {"rerank_depth": 40},
}


def ablations(pipeline: Pipeline, questions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The project retriever with one lever changed at a time, on the same index."""
    default = pipeline.retriever.fusion
    results = {}
    for name, change in ABLATIONS.items():
        pipeline.retriever.fusion = dataclasses.replace(default, **change)
        results[f"project, {name}"] = run_system(name, project_ranker(pipeline), questions)
    pipeline.retriever.fusion = default
    return results


def abstention(pipeline: Pipeline, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Refusal trade-off of extractive mode: best support vs the refusal threshold."""
    top_k = pipeline.settings.top_k
    supports, impossible = [], []
    for q in tqdm(questions, desc="abstention", unit="q", leave=False):
        vector = pipeline.retriever.embed_query(q["question"])
        contexts = pipeline.retriever.retrieve(q["question"], top_k, None, vector)
        supports.append(pipeline.scorer.best_support(q["question"], vector, contexts))
        impossible.append(bool(q.get("is_impossible")))

    def rates(threshold: float) -> dict[str, float]:
        refused = [s < threshold for s in supports]
        imp = [r for r, i in zip(refused, impossible, strict=True) if i]
        ans = [r for r, i in zip(refused, impossible, strict=True) if not i]
        return {
            "threshold": round(threshold, 3),
            "refusal_rate_impossible": sum(imp) / max(1, len(imp)),
            "false_refusal_rate": sum(ans) / max(1, len(ans)),
        }

    curve = [rates(t / 100) for t in range(30, 81)]
    within = [p for p in curve if p["false_refusal_rate"] <= 0.10]
    best = max(within, key=lambda p: p["refusal_rate_impossible"]) if within else curve[0]
    return {
        "n_impossible": sum(impossible),
        "n_answerable": len(impossible) - sum(impossible),
        "configured": rates(pipeline.scorer.config.min_support),
        "best_at_most_10pct_false_refusals": best,
        "curve": curve,
    }


def table(results: dict[str, dict[str, Any]], project: str) -> str:
    """A fixed-width table of every system, plus the project's ratio to the best baseline."""
    cols = ["hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "p50_ms", "p95_ms"]
    lines = [f"{'system':<40}" + "".join(f"{c:>9}" for c in cols)]
    for name, res in results.items():
        lines.append(f"{name:<40}" + "".join(f"{res[c]:>9.3f}" for c in cols))
    others = [r for n, r in results.items() if n != project]
    ratio = []
    for c in cols:
        best = min(o[c] for o in others) if c.endswith("_ms") else max(o[c] for o in others)
        ratio.append(results[project][c] / best if best else float("nan"))
    lines.append(f"{'project / best baseline':<40}" + "".join(f"{r:>9.2f}" for r in ratio))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--ablations", action="store_true", help="also run one-lever variants")
    args = parser.parse_args(argv)
    articles = args.bench / "articles"
    everything = load_questions(args.bench, args.limit)
    questions = [q for q in everything if q.get("gold_source")]

    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        work = Path(tmp)
        settings = Settings.load(chroma_path=work / "project-chroma", answer_mode="extractive")
        embedder = build_embedder(settings)
        report = build_index(articles, settings, embedder=embedder, progress=False)
        pipeline = Pipeline.from_settings(settings)
        project = "project hybrid (default)"
        systems = {**baselines(articles, embedder, work), project: project_ranker(pipeline)}
        results = {name: run_system(name, ranker, questions) for name, ranker in systems.items()}
        variants = ablations(pipeline, questions) if args.ablations else {}
        refusals = abstention(pipeline, everything)

    print(
        f"{len(questions)} answerable questions, {report.chunks_total} project chunks, "
        f"indexed in {report.seconds:.1f} s ({report.chunks_total / report.seconds:.1f} chunks/s)"
    )
    print(table(results, project))
    if variants:
        print("\nAblations (one lever changed from the default):")
        print(table({project: results[project], **variants}, project).rsplit("\n", 1)[0])
    conf, best = refusals["configured"], refusals["best_at_most_10pct_false_refusals"]
    print(
        f"\nAbstention ({refusals['n_impossible']} impossible, {refusals['n_answerable']} "
        f"answerable): threshold {conf['threshold']:.2f} refuses "
        f"{conf['refusal_rate_impossible']:.3f} of impossible questions, falsely refuses "
        f"{conf['false_refusal_rate']:.3f}; best at <=0.10 false refusals: threshold "
        f"{best['threshold']:.2f} -> {best['refusal_rate_impossible']:.3f} / "
        f"{best['false_refusal_rate']:.3f}"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "retrieval.json"
    payload = {
        "bench": str(args.bench),
        "questions": len(questions),
        "index": {
            "seconds": report.seconds,
            "chunks": report.chunks_total,
            "chunks_per_s": report.chunks_total / report.seconds,
        },
        "settings": {
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "fusion": vars(pipeline.retriever.fusion),
        },
        "machine": {"cpus": __import__("os").cpu_count(), "python": platform.python_version()},
        "systems": results,
        "ablations": variants,
        "abstention": refusals,
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
