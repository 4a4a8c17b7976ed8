"""Ingest throughput on generated corpora, against the model's raw embedding throughput.

    python -m bench.ingest [--sizes 1000 10000] [--raw-sample 2000] [--out DIR]

For each size: writes N generated articles (evals/synthetic.py), indexes them into a fresh
embedded store in a child process (files/s, chunks/s, peak RSS), re-runs the index on the
unchanged folder (the hash check alone), then embeds the chunks' own texts with the same
model in the same way (length-sorted batches) to measure the physical limit: raw chunks/s.
Raw throughput is measured on a random sample of `--raw-sample` chunks (it is a per-chunk
rate). Prints a table and writes ingest.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, print_table
from bench.synthetic import write_corpus


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _index_child(corpus: str, store: str, queue: Any) -> None:
    from index import build_index
    from rag import Settings
    from rag.providers.embeddings import build_embedder

    settings = Settings(chroma_path=Path(store), corpus_dir=Path(corpus))
    embedder = build_embedder(settings)
    embedder.embed(["warm up"])
    loaded = _rss_mb()
    started = time.perf_counter()
    report = build_index(corpus, settings, embedder=embedder, progress=False)
    seconds = time.perf_counter() - started
    queue.put(
        {
            "files": len(report.added),
            "chunks": report.chunks_written,
            "index_s": seconds,
            "rss_loaded_mb": loaded,
            "rss_peak_mb": _rss_mb(),
        }
    )


def _rerun_child(corpus: str, store: str, queue: Any) -> None:
    from index import build_index
    from rag import Settings

    settings = Settings(chroma_path=Path(store), corpus_dir=Path(corpus))
    started = time.perf_counter()
    report = build_index(corpus, settings, progress=False)
    queue.put({"rerun_s": time.perf_counter() - started, "rerun_unchanged": len(report.unchanged)})


def _raw_child(store: str, sample: int, queue: Any) -> None:
    from rag import Settings
    from rag.providers.embeddings import LocalEmbedder
    from rag.store.chroma import open_client, open_collection

    settings = Settings(chroma_path=Path(store))
    embedder = LocalEmbedder()
    client = open_client(settings, create=False)
    collection = open_collection(client, settings, embedder, create=False)
    got = collection.get(include=["documents", "metadatas"])
    texts = [
        f"{m.get('title', '')}\n{d}"  # what embedding a chunk whole reads: title, then text
        for d, m in zip(got["documents"] or [], got["metadatas"] or [], strict=True)
    ]
    texts = random.Random(0).sample(texts, min(sample, len(texts)))
    embedder.embed(["warm up"])
    started = time.perf_counter()
    embedder.embed(texts)
    queue.put({"raw_chunks": len(texts), "raw_s": time.perf_counter() - started})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, queue))
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def measure(files: int, raw_sample: int, work: Path) -> dict[str, Any]:
    """Every figure for one corpus size."""
    corpus = write_corpus(work / f"corpus-{files}", files)
    store = str(work / f"store-{files}")
    row: dict[str, Any] = {"size": files}
    row.update(_in_child(_index_child, str(corpus), store))
    row.update(_in_child(_rerun_child, str(corpus), store))
    row.update(_in_child(_raw_child, store, raw_sample))
    row["files_per_s"] = row["files"] / row["index_s"]
    row["chunks_per_s"] = row["chunks"] / row["index_s"]
    row["raw_chunks_per_s"] = row["raw_chunks"] / row["raw_s"]
    row["ratio_to_raw"] = row["chunks_per_s"] / row["raw_chunks_per_s"]
    return row


def main(argv: list[str] | None = None) -> int:
    """Measure each size; print the table and write ingest.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--raw-sample", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        for size in args.sizes:
            rows.append(measure(size, args.raw_sample, Path(tmp)))
            print_table(rows, INGEST_COLUMNS)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


INGEST_COLUMNS = [
    ("files", "{files}"),
    ("chunks", "{chunks}"),
    ("index s", "{index_s:.1f}"),
    ("files/s", "{files_per_s:.1f}"),
    ("chunks/s", "{chunks_per_s:.1f}"),
    ("raw chunks/s", "{raw_chunks_per_s:.1f}"),
    ("ratio", "{ratio_to_raw:.2f}"),
    ("re-run s", "{rerun_s:.2f}"),
    ("RSS loaded", "{rss_loaded_mb:.0f}MB"),
    ("RSS peak", "{rss_peak_mb:.0f}MB"),
]


if __name__ == "__main__":
    raise SystemExit(main())
