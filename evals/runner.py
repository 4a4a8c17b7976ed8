"""Run a suite: index its corpus, answer every case (concurrently, with a timeout), score,
save each case as it finishes (so a crashed run resumes), then write the reports."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.judge import Judge
from evals.metrics import answer_text, score_case
from evals.render import write_reports
from evals.report import Report, build_report, read_results, write_results
from evals.suite import Case, Suite, SuiteError, load_suite
from index import build_index
from rag.config import Settings
from rag.pipeline import Pipeline
from rag.types import Answer

DEFAULT_RUNS = Path("evals/results/runs")
# What `make bench-ui` (`bench/ui.py`) last measured in a browser, beside the runs.
BROWSER_TIMINGS = DEFAULT_RUNS.parent / "ui.json"
EVAL_STORE = Path(".rag/evals/chroma")

Progress = Callable[[int, int], None]


def run_suite(
    path: str | Path,
    *,
    mode: str | None = None,
    out: str | Path | None = None,
    concurrency: int = 1,
    timeout: float = 120.0,
    repeat: int = 1,
    judge: bool | None = None,
    judge_model: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    compare: str | Path | None = None,
    progress: bool = True,
    on_progress: Progress | None = None,
    env_file: str | Path | None = None,
    corpus: str | Path | None = None,
    **overrides: Any,
) -> Report:
    """Run the suite at `path` and write its reports; returns the `Report`.

    Args:
        mode: answer mode (`extractive`, `openai`, `auto`); default: the settings'.
        out: run folder; reusing the folder of an unfinished run resumes it.
        concurrency: cases answered at once.
        timeout: seconds a case may take before it is recorded as timed out.
        repeat: run every case this many times (metrics then report their spread).
        judge: add LLM-judge metrics; default: when an OpenAI key is configured.
        compare: an earlier run folder to report deltas and regressed cases against.
        corpus: the articles folder of a testset in another tool's format (`evals.formats`).
        **overrides: settings for this run (e.g. `top_k=8`), over the suite's own.
    """
    if concurrency < 1 or repeat < 1 or timeout <= 0:
        raise SuiteError("concurrency and repeat must be at least 1 and timeout above 0.")
    suite = load_suite(path, limit=limit, seed=seed, corpus=corpus)
    settings = eval_settings(suite, mode, env_file, overrides)
    run_dir = Path(out) if out else _default_dir(suite)
    done = _prepare_run(run_dir, suite, settings, repeat)
    build_index(suite.corpus, settings, progress=progress)
    pipeline = Pipeline.from_settings(settings)
    use_judge = settings.openai_api_key is not None if judge is None else judge
    grader = Judge(settings, judge_model) if use_judge else None
    todo = [(case, r) for r in range(repeat) for case in suite.cases if (case.id, r) not in done]
    worker = _Worker(pipeline, grader, timeout, run_dir / "results.jsonl")
    worker.run_all(todo, concurrency, len(done), progress, on_progress)
    rows = read_results(run_dir)
    report = build_report(suite, settings, rows, run_dir, repeat, use_judge, compare)
    write_reports(report, rows)
    return report


def eval_settings(
    suite: Suite, mode: str | None, env_file: str | Path | None, overrides: dict[str, Any]
) -> Settings:
    """The run's settings: the environment, then the suite's settings, then `overrides`.

    The corpus is indexed into a store of its own (unless the caller names one), so an eval
    never touches the chat's index.
    """
    merged: dict[str, Any] = {**suite.settings, **overrides, "corpus_dir": suite.corpus}
    if mode is not None:
        merged["answer_mode"] = mode
    settings = Settings.load(env_file=env_file, **merged)
    own: dict[str, Any] = {}
    if "collection" not in merged:
        digest = hashlib.sha256(str(suite.corpus.resolve()).encode()).hexdigest()[:10]
        own["collection"] = f"eval-{digest}"
    if "chroma_path" not in merged and not settings.uses_server:
        own["chroma_path"] = EVAL_STORE
    return settings.model_copy(update=own)


def _default_dir(suite: Suite) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return DEFAULT_RUNS / f"{suite.name}-{stamp}"


def run_fingerprint(suite: Suite, settings: Settings, repeat: int) -> str:
    """What must match for a run folder to be resumed: the suite, the settings, the repeats."""
    body = {
        "suite": suite.fingerprint(),
        "settings": settings.model_dump(mode="json", exclude={"openai_api_key"}),
        "repeat": repeat,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def _prepare_run(run_dir: Path, suite: Suite, settings: Settings, repeat: int) -> set[Any]:
    """Create or reopen the run folder; the (case, repeat) pairs it already holds."""
    manifest = run_dir / "run.json"
    fingerprint = run_fingerprint(suite, settings, repeat)
    if (run_dir / "summary.json").is_file():
        raise SuiteError(
            f"{run_dir} holds a finished run; pass a new --out folder (or none, for a fresh "
            "timestamped one), and --compare it to see what changed."
        )
    if manifest.is_file():
        saved = json.loads(manifest.read_text(encoding="utf-8"))
        if saved.get("fingerprint") != fingerprint:
            raise SuiteError(
                f"{run_dir} holds a run of another suite, settings or repeat count; pass a new "
                "--out folder (or delete that one) to start afresh."
            )
        rows = read_results(run_dir)
        # rewrite without a line a crash cut short, so appended rows start on a line of their own
        write_results(run_dir, rows)
        return {(row["case_id"], row["repeat"]) for row in rows}
    run_dir.mkdir(parents=True, exist_ok=True)
    body = {
        "fingerprint": fingerprint,
        "suite": suite.name,
        "source": suite.source,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    manifest.write_text(json.dumps(body, indent=2), encoding="utf-8")
    return set()


class _Worker:
    """Answers cases on a thread pool and appends each finished row to results.jsonl."""

    def __init__(
        self, pipeline: Pipeline, judge: Judge | None, timeout: float, results: Path
    ) -> None:
        self.pipeline = pipeline
        self.judge = judge
        self.timeout = timeout
        self.results = results
        self._lock = threading.Lock()

    def run_all(
        self,
        todo: list[tuple[Case, int]],
        concurrency: int,
        already: int,
        progress: bool,
        on_progress: Progress | None,
    ) -> None:
        total = already + len(todo)
        bar = tqdm(
            total=total, initial=already, desc="Evaluating", unit="case", disable=not progress
        )
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            futures = [pool.submit(self.run_one, case, r) for case, r in todo]
            for finished, future in enumerate(as_completed(futures), start=already + 1):
                self._save(future.result())
                bar.update()
                if on_progress is not None:
                    on_progress(finished, total)
        bar.close()

    def run_one(self, case: Case, repeat: int) -> dict[str, Any]:
        """One case's row; an exception or a timeout becomes the row's error, never a crash."""
        box: dict[str, Any] = {}
        thread = threading.Thread(target=self._answer, args=(case, box), daemon=True)
        started = time.perf_counter()
        thread.start()
        thread.join(self.timeout)
        base = {"case_id": case.id, "repeat": repeat, "question": case.question, "tags": case.tags}
        if thread.is_alive():  # the thread is abandoned; its result is never read
            return {**base, "status": "timeout", "error": f"no answer within {self.timeout:g} s"}
        if "error" in box:
            return {**base, "status": "error", "error": box["error"]}
        answer: Answer = box["answer"]
        row = {**base, "status": "ok", **_describe(answer), "latency_s": box["seconds"]}
        row.update(score_case(case, answer, self.pipeline.source_text))
        row["seconds_total"] = time.perf_counter() - started
        if self.judge is not None:
            row["judge"] = self.judge.grade(case, answer)
            for name, verdict in row["judge"].items():
                if "score" in verdict:
                    row["scores"][name] = verdict["score"]
        return row

    def _answer(self, case: Case, box: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            box["answer"] = self.pipeline.answer(
                case.question,
                filters=case.filters or None,
                history=[turn.model_dump() for turn in case.history],
            )
            box["seconds"] = time.perf_counter() - started
        except Exception as exc:  # recorded against the case; the run goes on
            box["error"] = f"{type(exc).__name__}: {exc}"

    def _save(self, row: dict[str, Any]) -> None:
        with self._lock, self.results.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row, default=str) + "\n")
            out.flush()


def _describe(answer: Answer) -> dict[str, Any]:
    usage = answer.usage
    return {
        "answer": answer.text,
        "answer_plain": answer_text(answer),
        "refused": answer.refused,
        "mode": answer.mode,
        "rewritten_question": answer.rewritten_question,
        "unsupported": answer.unsupported,
        "citations": [
            {k: getattr(c, k) for k in ("n", "source_file", "start", "end", "quote")}
            for c in answer.citations
        ],
        "retrieved": [c.source_file for c in answer.contexts],
        "tokens": usage.total_tokens if usage else 0,
        "cost_usd": usage.cost_usd if usage else None,
    }


def iter_runs(root: Path = DEFAULT_RUNS) -> Iterator[Path]:
    """Run folders under `root` that have a summary, newest first."""
    if root.is_dir():
        found = [p.parent for p in root.glob("*/summary.json")]
        yield from sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def reader_wait(path: Path = BROWSER_TIMINGS) -> tuple[float, float, str] | None:
    """(later answers' median, first answer, date measured) from `make bench-ui`'s JSON, or
    None when there is none or it does not read as one (a file of any shape may be there)."""
    try:
        if path.stat().st_size > 100_000:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        later, first = float(data["later_answers_median_s"]), float(data["first_answer_s"])
        when = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).strftime("%Y-%m-%d")
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not (0 < later < 3600 and 0 < first < 3600):
        return None
    return later, first, when
