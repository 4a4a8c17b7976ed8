"""The HTTP API under load: `rag serve` on 127.0.0.1, N concurrent clients for a fixed time.

    python -m bench.api [--seconds 20] [--clients 1,4,16] [--out DIR]

Indexes a copy of the sample corpus, starts `rag serve` (offline answers, no rate limit) in a
subprocess, and drives `POST /v1/answer` with asyncio clients (one httpx connection each) asking
the sample questions in turn. Per level: answers/s, latency p50/p95/p99, errors, and the server's
resident memory (sampled from /proc) at the start and end and its peak, and its CPU use (on a
shared machine throughput follows the CPU share the server gets, so CPU ms per answer is the
figure that does not depend on the neighbours); throughput is also given as a ratio to one client
measured in the same run. Prints a table, writes `api.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.citations import SAMPLE_QUESTIONS
from bench.common import RESULTS, ROOT, print_table


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """The resident memory of process `pid`, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _client(
    http: httpx.AsyncClient, start: int, stop: float, latencies: list[float], errors: list[str]
) -> None:
    n = start
    while time.perf_counter() < stop:
        question = SAMPLE_QUESTIONS[n % len(SAMPLE_QUESTIONS)]
        n += 1
        began = time.perf_counter()
        try:
            response = await http.post("/v1/answer", json={"question": question})
            if response.status_code != 200 or not response.json().get("text"):
                errors.append(f"{response.status_code}: {response.text[:120]}")
                continue
        except httpx.HTTPError as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        latencies.append(time.perf_counter() - began)


async def _sample_rss(pid: int, stop: float, samples: list[float]) -> None:
    while time.perf_counter() < stop:
        samples.append(rss_mb(pid))
        await asyncio.sleep(0.25)


async def run_level(base_url: str, pid: int, clients: int, seconds: float) -> dict[str, Any]:
    """`clients` concurrent clients for `seconds`: throughput, latency, errors, memory."""
    latencies: list[float] = []
    errors: list[str] = []
    samples: list[float] = [rss_mb(pid)]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as http:
        cpu = cpu_seconds(pid)
        began = time.perf_counter()
        stop = began + seconds
        await asyncio.gather(
            _sample_rss(pid, stop, samples),
            *(_client(http, i * 3, stop, latencies, errors) for i in range(clients)),
        )
        wall = time.perf_counter() - began
        cpu = cpu_seconds(pid) - cpu
    samples.append(rss_mb(pid))
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "answers": len(ms),
        "answers_per_s": len(ms) / wall,
        "p50_ms": statistics.median(ms) if ms else float("nan"),
        "p95_ms": _percentile(ms, 0.95),
        "p99_ms": _percentile(ms, 0.99),
        "errors": len(errors),
        "error_samples": errors[:5],
        "rss_start_mb": samples[0],
        "rss_end_mb": samples[-1],
        "rss_peak_mb": max(samples),
        "wall_s": wall,
        # The server's CPU use: on a shared machine, throughput follows the CPU share it gets.
        "server_cpu_pct": 100 * cpu / wall,
        "cpu_ms_per_answer": 1000 * cpu / len(ms) if ms else float("nan"),
    }


def _wait_ready(base_url: str, server: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"`rag serve` exited with code {server.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"`rag serve` was not ready within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """Serve a copy of the sample corpus and load it at each client count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per client count")
    parser.add_argument("--clients", default="1,4,16", help="client counts, comma-separated")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.clients.split(",")]
    from index import build_index
    from rag import Settings

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        corpus = Path(tmp, "articles")
        shutil.copytree(ROOT / "data" / "articles", corpus)
        store = Path(tmp, "chroma")
        settings = Settings(chroma_path=store, corpus_dir=corpus, upload_dir=Path(tmp, "up"))
        build_index(corpus, settings, progress=False)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAG_"))}
        env |= {
            "RAG_CHROMA_PATH": str(store),
            "RAG_CORPUS_DIR": str(corpus),
            "RAG_UPLOAD_DIR": str(Path(tmp, "up")),
            "RAG_ANSWER_MODE": "extractive",
            "RAG_API_RATE_PER_MINUTE": "0",
        }
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
        server = subprocess.Popen(
            command, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait_ready(base_url, server)
            asyncio.run(run_level(base_url, server.pid, max(levels), args.warmup))
            rows = [asyncio.run(run_level(base_url, server.pid, n, args.seconds)) for n in levels]
        finally:
            server.terminate()
            server.wait(timeout=30)
    base = rows[0]["answers_per_s"] or float("nan")
    for row in rows:
        row["vs_one_client"] = row["answers_per_s"] / base
    print_table(
        rows,
        [
            ("clients", "{clients}"),
            ("answers/s", "{answers_per_s:.1f}"),
            ("vs 1 client", "{vs_one_client:.2f}x"),
            ("p50 ms", "{p50_ms:.1f}"),
            ("p95 ms", "{p95_ms:.1f}"),
            ("p99 ms", "{p99_ms:.1f}"),
            ("errors", "{errors}"),
            ("server CPU %", "{server_cpu_pct:.0f}"),
            ("CPU ms/answer", "{cpu_ms_per_answer:.1f}"),
            ("RSS start MB", "{rss_start_mb:.0f}"),
            ("RSS end MB", "{rss_end_mb:.0f}"),
            ("RSS peak MB", "{rss_peak_mb:.0f}"),
        ],
    )
    result = {"seconds": args.seconds, "cpus": os.cpu_count(), "levels": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "api.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if all(row["errors"] == 0 for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
