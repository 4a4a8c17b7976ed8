"""Answer benchmark: the old and the new extractive answerer on a SQuAD-style bench, one run.

    python -m bench.answers [BENCH_DIR] [--baseline REV] [--limit N] [--extra SET.jsonl ...]
        [--natural QUESTIONS.jsonl]

Sets: the bench (squad-dev), the paraphrase set written from it (evals/sets/), each also
on its held-out articles alone (`bench.common.HELD_OUT`: no shipped model was fitted on
them, so only those figures are out of sample), and the natural questions on the sample
articles (../shared/bench/natural: answered right / refused right, per kind).

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

from bench.common import (
    DEFAULT_BENCH,
    HELD_OUT,
    PARAPHRASE,
    RESULTS,
    ROOT,
    load_jsonl,
    load_questions,
    print_table,
)
from bench.harness import answer_all, export_baseline
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
        "p95_ms": 1000 * _p95([r["seconds"] for r in records]),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


BASELINE = "abdc8ac"  # main before issue 24: the answerer fitted on SQuAD questions alone
NATURAL = ROOT.parent / "shared" / "bench" / "natural" / "questions.jsonl"


def natural_right(question: dict[str, Any], record: dict[str, Any]) -> bool:
    """The natural set's rule: an unanswerable question is right when refused; an answerable
    one when every fact (a|b: either) is in the text and one of its sources is cited."""
    if question.get("unanswerable"):
        return bool(record["refused"])
    text = record["text"].lower()
    facts = all(any(a.lower() in text for a in f.split("|")) for f in question["facts"])
    return not record["refused"] and facts and bool(set(question["sources"]) & set(record["cited"]))


def summarise_natural(
    questions: list[dict[str, Any]], records: list[dict[str, Any]]
) -> dict[str, Any]:
    """Answered right (answerable) and refused right (unanswerable), overall and per kind."""
    by_id = {r["id"]: r for r in records}
    kinds: dict[str, list[bool]] = {}
    for q in questions:
        kinds.setdefault(q["kind"], []).append(natural_right(q, by_id[q["id"]]))
    answerable = [ok for k, oks in kinds.items() if k != "unanswerable" for ok in oks]
    refused = kinds.get("unanswerable", [])
    return {
        "answered_right": f"{sum(answerable)}/{len(answerable)}",
        "refused_right": f"{sum(refused)}/{len(refused)}",
        "per_kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(kinds.items())},
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
    ("p95 ms", "{p95_ms:.1f}"),
]


def _subsets(questions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The question sets reported: each set whole, and its held-out articles alone."""
    sets: dict[str, list[dict[str, Any]]] = {}
    for q in questions:
        sets.setdefault(q["set"], []).append(q)
        if q.get("article") in HELD_OUT:
            sets.setdefault(f"{q['set']} (held-out articles)", []).append(q)
    return sets


def main(argv: list[str] | None = None) -> int:
    """Index the bench, answer every question with both answerers, print and write figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--baseline", default=BASELINE, help="git revision of the old answerer")
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--extra", type=Path, nargs="*", default=[PARAPHRASE])
    parser.add_argument("--natural", type=Path, default=NATURAL, help="natural questions")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    questions = [dict(q, set=args.bench.name) for q in load_questions(args.bench, args.limit)]
    for path in args.extra:
        questions += [dict(q, set=path.stem) for q in load_jsonl(path)][: args.limit]
    natural = load_jsonl(args.natural) if args.natural.exists() else []
    articles = args.bench / "articles"
    sample = ROOT / "data" / "articles"
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        work = Path(tmp)
        old_rag = export_baseline(args.baseline, work / "baseline")
        runs = {}
        for name, path_first in ((f"old ({args.baseline})", old_rag), ("new", None)):
            tag = "old" if path_first else "new"
            runs[name] = (
                answer_all(articles, questions, work / tag, path_first),
                answer_all(sample, natural, work / f"{tag}-natural", path_first) if natural else [],
            )
    results: dict[str, Any] = {}
    for subset, chosen in _subsets(questions).items():
        print(f"{subset}: {len(chosen)} questions")
        ids = {q["id"] for q in chosen}
        rows = [
            {"name": name, **summarise(chosen, [r for r in recs if r["id"] in ids])}
            for name, (recs, _) in runs.items()
        ]
        print_table(rows, COLUMNS)
        results[subset] = {row["name"]: row for row in rows}
    natural_rows = [
        {"name": name, **summarise_natural(natural, recs)} for name, (_, recs) in runs.items()
    ]
    if natural:
        print(f"natural questions ({args.natural}): {len(natural)}")
        print_table(
            natural_rows,
            [
                ("answerer", "{name}"),
                ("answered right", "{answered_right}"),
                ("refused right", "{refused_right}"),
                ("per kind", "{per_kind}"),
            ],
        )
    old_name = f"old ({args.baseline})"
    whole = results[args.bench.name]
    ratio = whole["new"]["p50_ms"] / whole[old_name]["p50_ms"]
    print(f"latency p50 new/old ({args.bench.name}): {ratio:.2f}x")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "answers.json"
    payload = {
        "bench": str(args.bench),
        "baseline": args.baseline,
        "held_out_articles": list(HELD_OUT),
        "results": results,
        "natural": {row["name"]: row for row in natural_rows},
        "latency_ratio": ratio,
    }
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
