"""Answer benchmark: the old and the new extractive answerer on a SQuAD-style bench, one run.

    python -m bench.answers [BENCH_DIR] [--baseline REV] [--limit N] [--store DIR]

Both answerers run on the same machine in the same run, each in its own process over its own
index of the same articles: the new one is this checkout's `rag`, the old one is `rag/` and
`index/` exported from the baseline commit (the branch's first commit by default) with
`git archive`. Per answerer:
  gold cited       answerable questions answered with the gold file among the citations
  answer in text   answerable questions answered with a gold answer string in the text
  false refusals   answerable questions refused
  refused imposs.  unanswerable questions refused
  sentences        mean quoted sentences per answer (the "sources disagree" note left out)
  disagree         answers carrying a "sources disagree" note
  p50 ms           answer latency, median (retrieval included)
"Answered" rates are also given over the questions each answerer chose to answer.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_BENCH, RESULTS, load_questions, print_table
from bench.harness import BASELINE, answer_all, export_baseline
from rag.text.sentences import sentence_spans

_NOTE = re.compile(r"^(?:The sources disagree|Sources disagree)")


def quoted_sentences(text: str) -> int:
    """Sentences of an answer, the disagreement note left out."""
    return sum(1 for s, e in sentence_spans(text) if not _NOTE.match(text[s:e]))


def contains_answer(text: str, answers: list[str]) -> bool:
    """Whether a gold answer string occurs in `text` (case and spacing ignored)."""
    flat = " ".join(text.lower().split())
    return any(" ".join(a.lower().split()) in flat for a in answers if a.strip())


def summarise(questions: list[dict[str, Any]], records: list[dict[str, Any]]) -> dict[str, Any]:
    """The benchmark's figures for one answerer."""
    by_id = {r["id"]: r for r in records}
    answerable = [(q, by_id[q["id"]]) for q in questions if not q.get("is_impossible")]
    impossible = [by_id[q["id"]] for q in questions if q.get("is_impossible")]
    answered = [(q, r) for q, r in answerable if not r["refused"]]
    gold = [q["gold_source"] in r["cited"] for q, r in answered]
    found = [contains_answer(r["text"], q["answers"]) for q, r in answered]
    shown = [r for r in records if not r["refused"]]
    return {
        "answerable": len(answerable),
        "impossible": len(impossible),
        "gold_cited": sum(gold) / max(1, len(answerable)),
        "gold_cited_answered": sum(gold) / max(1, len(answered)),
        "answer_in_text": sum(found) / max(1, len(answerable)),
        "answer_in_text_answered": sum(found) / max(1, len(answered)),
        "false_refusals": 1 - len(answered) / max(1, len(answerable)),
        "refused_impossible": sum(r["refused"] for r in impossible) / max(1, len(impossible)),
        "sentences": statistics.mean(quoted_sentences(r["text"]) for r in shown) if shown else 0,
        "disagree_rate": sum(bool(r["conflicts"]) for r in shown) / max(1, len(shown)),
        "p50_ms": 1000 * statistics.median(r["seconds"] for r in records),
    }


COLUMNS = [
    ("answerer", "{name}"),
    ("gold cited", "{gold_cited:.3f}"),
    ("(answered)", "{gold_cited_answered:.3f}"),
    ("answer in text", "{answer_in_text:.3f}"),
    ("(answered)", "{answer_in_text_answered:.3f}"),
    ("false refusals", "{false_refusals:.3f}"),
    ("refused imposs.", "{refused_impossible:.3f}"),
    ("sentences", "{sentences:.2f}"),
    ("disagree", "{disagree_rate:.3f}"),
    ("p50 ms", "{p50_ms:.1f}"),
]


def main(argv: list[str] | None = None) -> int:
    """Index the bench, answer every question with both answerers, print and write figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old answerer")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    questions = load_questions(args.bench, args.limit)
    articles = args.bench / "articles"
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        work = Path(tmp)
        old_rag = export_baseline(args.baseline, work / "baseline")
        new = answer_all(articles, questions, work / "new")
        old = answer_all(articles, questions, work / "old", old_rag)
    results = {
        f"old ({args.baseline})": summarise(questions, old),
        "new": summarise(questions, new),
    }
    rows = [{"name": name, **figures} for name, figures in results.items()]
    print(f"{len(questions)} questions from {args.bench}")
    print_table(rows, COLUMNS)
    ratio = results["new"]["p50_ms"] / results[f"old ({args.baseline})"]["p50_ms"]
    print(f"latency p50 new/old: {ratio:.2f}x")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "answers.json"
    payload = {"bench": str(args.bench), "baseline": args.baseline, "results": results}
    payload["latency_ratio"] = ratio
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
