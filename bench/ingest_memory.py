"""Where an index run's memory goes: resident memory per phase of one run, in a child process.

    python -m bench.ingest_memory [--sizes 2000 5000] [--out DIR]

For each size: writes N generated articles (bench/synthetic.py) and indexes them into a fresh
embedded store in a child process that reads its resident set (VmRSS) on entering and leaving
each phase of the run: reading what the store holds, embedding a batch, adding records to
Chroma, deleting, writing article records, the end-of-run BM25 build. A phase's growth is the
sum of what RSS rose across its calls (memory freed back to the system shows as a fall, so a
phase that only reuses what another freed counts little). Prints a table of growth per phase
(MB) and writes ingest_memory.json with the sampled RSS per 10% of the files.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import ROOT, print_table
from bench.synthetic import write_corpus

# (module, attribute, phase): what the child wraps; module attributes are patched where the
# indexer looks them up, so the run itself is unchanged.
_PHASES = [
    ("index.ingest", "stored_files", "read store"),
    ("index.write", "_sentence_vectors", "embed"),
    ("index.write", "write_records", "article records"),
    ("chromadb.api.models.Collection.Collection", "add", "chroma add"),
    ("chromadb.api.models.Collection.Collection", "delete", "chroma delete"),
    ("rag.store.lexical.LexicalIndex", "current", "bm25 build"),
]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _owner(dotted: str) -> Any:
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            owner = getattr(owner, name)
        return owner
    raise ImportError(dotted)


def _wrap(growth: dict[str, float], phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        before = _rss_mb()
        try:
            return fn(*args, **kwargs)
        finally:
            growth[phase] += _rss_mb() - before

    return wrapped


def _child(corpus: str, store: str, files: int, queue: Any) -> None:
    from index import build_index
    from rag import Settings
    from rag.providers.embeddings import build_embedder

    growth: dict[str, float] = defaultdict(float)
    for module, name, phase in _PHASES:
        owner = _owner(module)
        setattr(owner, name, _wrap(growth, phase, getattr(owner, name)))
    settings = Settings(chroma_path=Path(store), corpus_dir=Path(corpus))
    embedder = build_embedder(settings)
    embedder.embed(["warm up"])
    loaded = _rss_mb()
    samples: list[tuple[int, float]] = []
    step = max(1, files // 10)

    def on_progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            samples.append((done, _rss_mb()))

    started = time.perf_counter()
    report = build_index(
        corpus, settings, embedder=embedder, progress=False, on_progress=on_progress
    )
    queue.put(
        {
            "files": len(report.added),
            "chunks": report.chunks_written,
            "index_s": time.perf_counter() - started,
            "rss_loaded_mb": loaded,
            "rss_end_mb": _rss_mb(),
            "rss_peak_mb": _peak_mb(),
            "growth_mb": dict(growth),
            "samples": samples,
        }
    )


def measure(files: int, work: Path) -> dict[str, Any]:
    """The phase figures of one run over a fresh corpus of `files` articles."""
    corpus = write_corpus(work / f"corpus-{files}", files)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(
        target=_child, args=(str(corpus), str(work / f"store-{files}"), files, queue)
    )
    process.start()
    row: dict[str, Any] = queue.get()
    process.join()
    row["size"] = files
    for _, _, phase in _PHASES:
        row[phase] = row["growth_mb"].get(phase, 0.0)
    return row


def main(argv: list[str] | None = None) -> int:
    """Measure each size; print the table and write ingest_memory.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-memory-") as tmp:
        for size in args.sizes:
            rows.append(measure(size, Path(tmp)))
            print_table(rows, COLUMNS)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest_memory.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


COLUMNS = [
    ("files", "{files}"),
    ("chunks", "{chunks}"),
    ("index s", "{index_s:.0f}"),
    ("loaded", "{rss_loaded_mb:.0f}"),
    *[(phase, "{" + phase + ":+.0f}") for _, _, phase in _PHASES],
    ("end", "{rss_end_mb:.0f}"),
    ("peak", "{rss_peak_mb:.0f}"),
]


if __name__ == "__main__":
    raise SystemExit(main())
