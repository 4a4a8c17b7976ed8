"""`rag watch`: from a file landing in the watched folder to it being answerable, and the
watcher's CPU while nothing happens.

    python -m bench.watch [--singles 10] [--burst 1000] [--idle 30] [--out DIR]

Starts `rag watch` as a child process on a temp folder holding 20 generated articles
(`bench/synthetic.py`), with a reader (`Pipeline`) open in this process as the chat would be:

- idle: the watcher's CPU time (user + system, from /proc) over `--idle` seconds of no change;
- singles: one article at a time, each with a made-up fact; latency = from the file being closed
  to the reader retrieving that file first for a question about the fact;
- burst: `--burst` articles written at once; latency per file = from its mtime to it appearing
  in the reader's corpus listing; and how many index runs the watcher made for the burst.

The watcher's own run times (from its output) are the baseline: what the indexer itself spent.
Prints a table and writes watch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import RESULTS, ROOT, print_table
from bench.synthetic import write_corpus
from rag.errors import RagError

_SECONDS = re.compile(r"; ([0-9.]+) s")
_WORDS = [
    "amber",
    "cobalt",
    "saffron",
    "teal",
    "crimson",
    "violet",
    "ochre",
    "jade",
    "ivory",
    "rust",
]


class Watcher:
    """`rag watch FOLDER` in a child process; its output lines are collected as they come."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "cli", "watch", str(folder)]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        self.runs: list[tuple[float, str]] = []  # (when seen, summary line)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if " changed: " in line:
                self.runs.append((time.time(), line.strip()))

    def wait_runs(self, count: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while len(self.runs) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the watcher stopped or never finished a run")
            time.sleep(0.05)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _until(check: Any, timeout: float = 600, every: float = 0.1) -> float:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError("never became answerable")
        time.sleep(every)
    return time.time()


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": float(np.percentile(values, 50)),
        "p95": float(np.percentile(values, 95)),
        "max": max(values),
    }


def _env(settings: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
    return env | {
        "RAG_CHROMA_PATH": str(settings.chroma_path),
        "RAG_UPLOAD_DIR": str(settings.upload_dir),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }


def _singles(watcher: Watcher, pipeline: Any, corpus: Path, count: int) -> dict[str, float]:
    """One file at a time: closed → retrieved first for a question about its fact."""
    single_s, index_s = [], []
    for n in range(count):
        town = f"Quorvale{n}"
        path = corpus / f"single_{n:03d}.txt"
        path.write_text(
            f" date 2026-01-{n % 28 + 1:02d} News from {town}\n\nThe town hall of {town} "
            f"was repainted {_WORDS[n % len(_WORDS)]} on Tuesday, the mayor of {town} said.\n",
            encoding="utf-8",
        )
        landed = path.stat().st_mtime
        runs = len(watcher.runs)
        question = f"What colour was the town hall of {town} repainted?"

        def answerable(question: str = question, name: str = path.name) -> bool:
            return bool(pipeline.retrieve(question, top_k=1)[0].source_file == name)

        single_s.append(_until(answerable) - landed)
        watcher.wait_runs(runs + 1)
        index_s.append(float(_SECONDS.findall(watcher.runs[-1][1])[-1]))
    return _stats(single_s) | {"index_run_p50": float(np.median(index_s))}


def _burst(watcher: Watcher, pipeline: Any, corpus: Path, count: int) -> dict[str, Any]:
    """`count` files at once: each file's mtime → listed in the reader's corpus."""
    runs = len(watcher.runs)
    written = time.time()
    write_corpus(corpus / "burst", count, seed=7)
    write_s = time.time() - written
    landed_at = {f"burst/{p.name}": p.stat().st_mtime for p in (corpus / "burst").iterdir()}
    seen: dict[str, float] = {}

    def all_seen() -> bool:
        now = time.time()
        try:
            files = pipeline.corpus().files
        except RagError as exc:  # read while the watcher writes: asked again next time
            print(f"corpus listing failed ({exc}); trying again", file=sys.stderr)
            return False
        for f in files:
            if f.source_file in landed_at and f.source_file not in seen:
                seen[f.source_file] = now
        return len(seen) == len(landed_at)

    _until(all_seen, timeout=3600, every=0.5)
    time.sleep(3)  # a run still under way would show up here
    lines = [line for _, line in watcher.runs[runs:]]
    return _stats([seen[name] - landed_at[name] for name in landed_at]) | {
        "files": count,
        "write_s": write_s,
        "runs": len(lines),
        "index_run_s": [float(_SECONDS.findall(line)[-1]) for line in lines],
    }


def run(singles: int, burst: int, idle: float) -> dict[str, Any]:
    """Start the watcher on 20 generated articles; measure idle, singles, then the burst."""
    from rag import Pipeline, Settings

    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    corpus = write_corpus(tmp / "articles", 20, seed=1)
    settings = Settings(
        chroma_path=tmp / "chroma",
        corpus_dir=corpus,
        upload_dir=tmp / "uploads",
        answer_mode="extractive",
    )
    watcher = Watcher(corpus, _env(settings))
    try:
        watcher.wait_runs(1)
        pipeline = Pipeline.from_settings(settings)
        pipeline.answer("warm up")
        time.sleep(2)  # the start-up run's aftermath (model warm, page cache) settles
        before = watcher.cpu_seconds()
        time.sleep(idle)
        idle_cpu = watcher.cpu_seconds() - before
        return {
            "idle": {"seconds": idle, "cpu_s": idle_cpu, "cpu_share": idle_cpu / idle},
            "singles": _singles(watcher, pipeline, corpus, singles),
            "burst": _burst(watcher, pipeline, corpus, burst),
        }
    finally:
        watcher.stop()


def main(argv: list[str] | None = None) -> int:
    """Measure; print the table and write watch.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=10)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.singles, args.burst, args.idle)
    rows = [
        {
            "case": "single file",
            **result["singles"],
            "runs": result["singles"]["n"],
            "index": result["singles"]["index_run_p50"],
        },
        {
            "case": f"burst of {args.burst}",
            **result["burst"],
            "index": sum(result["burst"]["index_run_s"]),
        },
    ]
    print_table(
        rows,
        [
            ("case", "{case}"),
            ("files", "{n}"),
            ("p50 s", "{p50:.2f}"),
            ("p95 s", "{p95:.2f}"),
            ("max s", "{max:.2f}"),
            ("index runs", "{runs}"),
            ("indexer s", "{index:.2f}"),
        ],
    )
    idle = result["idle"]
    print(
        f"idle: {idle['cpu_s']:.3f} s CPU over {idle['seconds']:g} s "
        f"({100 * idle['cpu_share']:.2f}% of one core)"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "watch.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
