"""What a real model does to citations: answerable dev-bench questions through OpenAI mode
against llama.cpp's server with SmolLM2-135M-Instruct (see `devtools.llm_server`).

    python -m bench.llm [--bench DIR] [--limit 100] [--seed 0] [--out FILE]

For each answer, the model's draft (what the verifier received) and the verified answer are
judged by the lexical judge of `bench.citations` (not the verifier): a citation is precise when
its quote — for the draft, the best sentence of the cited chunk — holds every number and at
least 60% of the content words of its sentence. Reported: citation precision before and after
verification, the share of draft sentences dropped (no support) or re-attributed, refusals (the
model's own, and answers the verifier turned into refusals because nothing was supported),
latency per answer and tokens. Prints a table and writes JSON (default evals/results/llm.json).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.citations import answer_sentences, judge
from bench.common import DEFAULT_BENCH, RESULTS, load_questions, print_table
from devtools.llm_server import ALIAS, LlamaServer
from index import build_index
from rag import Answer, Context, Pipeline, Settings
from rag.text.sentences import sentence_spans
from rag.trust.verify import Verified, split_claims


def main() -> None:
    """Run the benchmark and print its table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "llm.json")
    parser.add_argument(
        "--summarise", type=Path, help="only print the table of a run's rows (JSON lines)"
    )
    args = parser.parse_args()
    if args.summarise:
        rows = [json.loads(line) for line in args.summarise.read_text().splitlines() if line]
        print_table([summarise(rows)], COLUMNS)
        return
    questions = [q for q in load_questions(args.bench, None) if not q.get("is_impossible")]
    picked = random.Random(args.seed).sample(questions, min(args.limit, len(questions)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".partial.jsonl").unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as work:
        rows, server = run(args.bench, picked, Path(work), args.out.with_suffix(".partial.jsonl"))
    summary = summarise(rows)
    summary["server_start_s"] = server
    print_table([summary], COLUMNS)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2, default=str))
    print(f"wrote {args.out}")


def run(
    bench: Path, questions: list[dict[str, Any]], work: Path, partial: Path
) -> tuple[list[dict[str, Any]], float]:
    """Index the bench's articles, start the server, answer every question; one row each,
    also appended to `partial` as it is measured (a long run can be read while it goes)."""
    settings = Settings(chroma_path=work / "chroma", corpus_dir=bench / "articles")
    build_index(bench / "articles", settings, progress=False)
    with LlamaServer(work / "server.log") as server:
        settings = settings.model_copy(
            update={
                "answer_mode": "openai",
                "openai_api_key": SecretStr("sk-local"),
                "openai_base_url": server.base_url,
                "chat_model": ALIAS,
                "top_k": 3,
                "max_context_tokens": 1500,
                "max_tokens": 160,
                "request_timeout": 120.0,
            }
        )
        pipeline = Pipeline.from_settings(settings)
        drafts = _record_drafts(pipeline)
        rows = []
        for n, question in enumerate(questions, 1):
            drafts.clear()
            started = time.perf_counter()
            try:
                answer = pipeline.answer(question["question"])
            except Exception as exc:  # recorded, the run goes on
                rows.append({"id": question["id"], "error": f"{type(exc).__name__}: {exc}"})
                continue
            row = measure(answer, drafts[0] if drafts else None, question)
            rows.append({**row, "latency_s": time.perf_counter() - started})
            with partial.open("a", encoding="utf-8") as out:
                out.write(json.dumps(rows[-1], default=str) + "\n")
            print(f"{n}/{len(questions)} answered", end="\r", flush=True)
        return rows, server.started_in or 0.0


def _record_drafts(pipeline: Pipeline) -> list[tuple[str, list[Context]]]:
    """Make the pipeline's verifier keep each draft it is given (the model's raw text)."""
    seen: list[tuple[str, list[Context]]] = []
    verify = pipeline.verifier.verify

    def recording(text: str, contexts: list[Context]) -> Verified:
        seen.append((text, contexts))
        return verify(text, contexts)

    pipeline.verifier.verify = recording  # type: ignore[method-assign]
    return seen


def measure(
    answer: Answer, draft: tuple[str, list[Context]] | None, question: dict[str, Any]
) -> dict[str, Any]:
    """One question's figures: the draft's citations judged, then the verified answer's."""
    row: dict[str, Any] = {"id": question["id"], "refused": answer.refused}
    row["model_refused"] = answer.refused and draft is None
    row["draft_sentences"] = row["draft_citations"] = row["draft_precise"] = 0
    if draft is not None:
        text, contexts = draft
        for claim in split_claims(text, len(contexts)):
            row["draft_sentences"] += 1
            for source in claim.sources:
                ctx = contexts[source - 1]
                sentences = [ctx.text[a:b] for a, b in sentence_spans(ctx.text)]
                row["draft_citations"] += 1
                row["draft_precise"] += any(judge(claim.text, s) for s in sentences)
    pairs = [
        (s, c.quote) for s, ns in answer_sentences(answer) for c in answer.citations if c.n in ns
    ]
    row["citations"] = len(pairs)
    row["precise"] = sum(judge(sentence, quote) for sentence, quote in pairs)
    v = answer.verification
    row["dropped"] = v.unsupported if v else 0
    row["reattributed"] = v.reattributed if v else 0
    row["gold_in_answer"] = any(a.lower() in answer.text.lower() for a in question["answers"])
    usage = answer.usage
    row["prompt_tokens"] = usage.prompt_tokens if usage else 0
    row["completion_tokens"] = usage.completion_tokens if usage else 0
    row["incomplete"] = answer.incomplete
    return row


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's figures over every answered question."""
    ok = [r for r in rows if "error" not in r]
    drafted = sum(r["draft_sentences"] for r in ok) or 1
    latencies = sorted(r["latency_s"] for r in ok) or [0.0]
    return {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "draft_precision": sum(r["draft_precise"] for r in ok)
        / max(1, sum(r["draft_citations"] for r in ok)),
        "draft_citations": sum(r["draft_citations"] for r in ok),
        "precision": sum(r["precise"] for r in ok) / max(1, sum(r["citations"] for r in ok)),
        "citations": sum(r["citations"] for r in ok),
        "dropped": sum(r["dropped"] for r in ok) / drafted,
        "reattributed": sum(r["reattributed"] for r in ok) / drafted,
        "model_refusals": sum(r["model_refused"] for r in ok) / max(1, len(ok)),
        "verifier_refusals": sum(r["refused"] and not r["model_refused"] for r in ok)
        / max(1, len(ok)),
        "gold_in_answer": sum(r["gold_in_answer"] for r in ok) / max(1, len(ok)),
        "incomplete": sum(r["incomplete"] for r in ok) / max(1, len(ok)),
        "latency_p50_s": statistics.median(latencies),
        "latency_p95_s": latencies[int(0.95 * (len(latencies) - 1))],
        "prompt_tokens": statistics.mean(r["prompt_tokens"] for r in ok) if ok else 0,
        "completion_tokens": statistics.mean(r["completion_tokens"] for r in ok) if ok else 0,
    }


COLUMNS = [
    ("n", "{questions}"),
    ("err", "{errors}"),
    ("draft prec", "{draft_precision:.3f}"),
    ("(cites)", "{draft_citations}"),
    ("verified prec", "{precision:.3f}"),
    ("(cites)", "{citations}"),
    ("dropped", "{dropped:.3f}"),
    ("reattrib", "{reattributed:.3f}"),
    ("model refusals", "{model_refusals:.2f}"),
    ("verifier refusals", "{verifier_refusals:.2f}"),
    ("gold in answer", "{gold_in_answer:.2f}"),
    ("p50 s", "{latency_p50_s:.1f}"),
    ("p95 s", "{latency_p95_s:.1f}"),
    ("prompt tok", "{prompt_tokens:.0f}"),
    ("compl tok", "{completion_tokens:.0f}"),
]


if __name__ == "__main__":
    main()
