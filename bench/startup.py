"""Cold-start benchmark: a new process running `rag ask`, and `import rag`, against importing
`chromadb` + `onnxruntime` alone (what any answer needs), measured in the same run.

    python -m bench.startup [--runs 5] [--out DIR]

The sample corpus is indexed into a temporary store first; every timed command is a fresh
Python process (wall time from spawn to exit), run in turn so that none of them profits from
another's page cache more than the others. Prints a table and writes `startup.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, print_table

QUESTION = "Where did Trump hand Putin the letter?"
BASELINE = "import chromadb + onnxruntime"


def commands(rag: str) -> dict[str, list[str]]:
    """The timed commands, by name; the first is the baseline."""
    python = sys.executable
    return {
        BASELINE: [python, "-c", "import chromadb, onnxruntime"],
        "import rag": [python, "-c", "import rag"],
        "rag --help": [rag, "--help"],
        "rag ask (cold)": [rag, "ask", QUESTION],
    }


def _timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    return elapsed


def measure(runs: int, env: dict[str, str]) -> list[dict[str, Any]]:
    """Median, min and max seconds of each command over `runs` interleaved rounds."""
    timed = commands(str(Path(sys.executable).with_name("rag")))
    seconds: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(runs):
        for name, command in timed.items():
            seconds[name].append(_timed(command, env))
    base = statistics.median(seconds[BASELINE])
    return [
        {
            "command": name,
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "ratio": statistics.median(values) / base,
            "runs": values,
        }
        for name, values in seconds.items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from index import build_index
    from rag import Settings

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp, "articles")
        shutil.copytree(ROOT / "data" / "articles", corpus)
        store = Path(tmp, "chroma")
        settings = Settings(chroma_path=store, corpus_dir=corpus, upload_dir=Path(tmp, "up"))
        build_index(corpus, settings, progress=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
        env |= {"RAG_CHROMA_PATH": str(store), "RAG_CORPUS_DIR": str(corpus)}
        rows = measure(args.runs, env)
    print_table(
        rows,
        [
            ("command", "{command}"),
            ("median s", "{median_s:.2f}"),
            ("min s", "{min_s:.2f}"),
            ("max s", "{max_s:.2f}"),
            ("vs baseline", "{ratio:.2f}x"),
        ],
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
