"""Chat timings in a real browser: the first answer after start-up, then later answers.

    python -m bench.ui [--questions N] [--out DIR]

Starts `rag ui` on 127.0.0.1 against a fresh index of the sample corpus (it loads the models
and index before serving: "server up" includes that), drives Debian's Chromium with
Playwright, and times question → finished answer with its sources. The first answer is timed
from opening the page, so it includes everything a first visitor waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.common import ROOT
from devtools.serve import CHROMIUM, CHROMIUM_FLAGS, running_chat
from index import build_index
from rag import Settings

QUESTIONS = [
    "Where did Trump hand Putin the letter?",
    "Where was Melania Trump born?",
    "Who issued an arrest warrant against Putin?",
    "How many children were reunited with their families in the last 24 hours?",
    "What did Zelenskyy call the letter?",
    "When was the previous US-Russia summit held?",
]


def main(argv: list[str] | None = None) -> int:
    """Measure and print the timings; write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        corpus = Path(tmp) / "articles"
        shutil.copytree(ROOT / "data" / "articles", corpus)
        settings = Settings(chroma_path=Path(tmp) / "chroma", corpus_dir=corpus)
        build_index(corpus, settings, progress=False)
        env = os.environ | {
            "RAG_CHROMA_PATH": str(settings.chroma_path),
            "RAG_CORPUS_DIR": str(corpus),
            "RAG_ANSWER_MODE": "extractive",
        }
        started = time.perf_counter()
        with running_chat(env, Path(tmp)) as url:
            startup = time.perf_counter() - started
            ready, timings = _ask_all(url)
    later = timings[1:]
    result = {
        "server_start_s": startup,
        "first_page_ready_s": ready,
        "first_answer_s": timings[0],
        "later_answers_median_s": statistics.median(later),
        "later_answers_s": later,
    }
    print(
        f"server up in {startup:.2f} s; first visit: chat box ready in {ready:.2f} s; "
        f"first answer {timings[0]:.2f} s; later answers "
        f"median {statistics.median(later):.2f} s (n={len(later)}); "
        f"first / later = {timings[0] / statistics.median(later):.1f}x"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ui.json").write_text(json.dumps(result, indent=2))
    return 0


def _ask_all(url: str) -> tuple[float, list[float]]:
    """Seconds from page open to a usable chat box; from page open to the first answer
    (models load then), then per question."""
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS
        )
        page = browser.new_page()
        opened = time.perf_counter()
        page.goto(url)
        box = page.get_by_placeholder("Ask about the articles")
        box.wait_for(timeout=120_000)
        ready = time.perf_counter() - opened
        for i, question in enumerate(QUESTIONS, start=1):
            box.wait_for(timeout=120_000)
            started = opened if i == 1 else time.perf_counter()
            box.fill(question)
            box.press("Enter")
            page.locator(f"#answer-a{2 * i - 1}").wait_for(timeout=120_000)
            times.append(time.perf_counter() - started)
        browser.close()
    return ready, times


if __name__ == "__main__":
    raise SystemExit(main())
