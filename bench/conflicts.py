"""Conflict benchmark: disagreements planted in a copy of the bench, and false alarms without.

    python -m bench.conflicts [BENCH_DIR] [--baseline REV] [--limit N] [--untouched N]

1. Counterfactual set, built here from the bench: for one answerable question per gold
   paragraph, a dated copy of the paragraph (2025-10-10; the original is dated 2025-08-16)
   with the answer replaced by another value of the same kind (a year, a number, a name)
   taken from another article's answers; every tenth case instead negates the answer's
   sentence ("was" → "was not"). Recall: the conflict is flagged, both files are cited and
   (value cases) both values appear in the answer. One-sided: a flagged conflict whose side
   (its citation, or its value) is missing from the answer text. "One value only": answers
   showing exactly one of the two planted values (the reader sees one side).
2. The untouched bench: share of answers with a "sources disagree" note (all false: one
   paragraph per file, no copies).
3. The seed case: the sample articles' letter question (officials say the letter mentioned
   the abducted children; a later article says it does not).
Old and new answerers run in the same run, as in `bench.answers`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_BENCH, RESULTS, ROOT, load_questions, print_table
from bench.harness import BASELINE, answer_all, export_baseline
from rag.store.corpus import read_text

OLD_DATE, NEW_DATE = "2025-08-16", "2025-10-10"
NEGATION_EVERY = 10
_AUX = re.compile(r"\b(was|were|is|are|had|has|could|would|did|will)\b")
SEED_QUESTION = "Did the letter mention the abducted children?"


def value_kind(answer: str) -> str | None:
    """The kind of an answer string: year, number, name, or None (not a clean value)."""
    if re.fullmatch(r"1\d{3}|20\d{2}", answer):
        return "year"
    if re.fullmatch(r"\d[\d,.]*", answer):
        return "number"
    if re.fullmatch(r"[A-Z][\w'-]*(?: [A-Z][\w'-]*){0,3}", answer):
        return "name"
    return None


def _negated(text: str, answer: str) -> str | None:
    """`text` with the sentence holding `answer` negated at its first auxiliary verb."""
    at = text.find(answer)
    start = max(text.rfind(". ", 0, at) + 2, 0)
    match = _AUX.search(text, start, at)
    if match is None:
        return None
    return f"{text[: match.end()]} not{text[match.end() :]}"


def build_cases(bench: Path, questions: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """One counterfactual case per gold paragraph (see the module docstring)."""
    rng = random.Random(seed)
    pool: dict[str, list[tuple[str, str]]] = {}
    for q in questions:
        for a in q["answers"][:1]:
            kind = value_kind(a)
            if kind:
                pool.setdefault(kind, []).append((a, q["article"]))
    cases: list[dict[str, Any]] = []
    seen: set[str] = set()
    for q in questions:
        gold = q.get("gold_source")
        if not gold or gold in seen:
            continue
        text = read_text(bench / "articles" / gold)
        answer = next((a for a in q["answers"] if value_kind(a) and a in text), None)
        if answer is None:
            continue
        seen.add(gold)
        negate = len(cases) % NEGATION_EVERY == NEGATION_EVERY - 1
        changed, other = (_negated(text, answer), "not") if negate else (None, None)
        if not negate:
            kind = value_kind(answer) or ""
            others = [v for v, art in pool[kind] if art != q["article"] and v not in text]
            other = rng.choice(others) if others else None
            changed = text.replace(answer, other, 1) if other else None
        if changed is None or other is None:
            continue
        cases.append(
            {
                **q,
                "gold_value": answer,
                "planted": other,
                "negation": negate,
                "copy": f"zz_dated_{gold}",
                "text": changed,
            }
        )
    return cases


def write_corpus(bench: Path, cases: list[dict[str, Any]], into: Path) -> Path:
    """The bench's articles dated OLD_DATE, plus each case's copy dated NEW_DATE."""
    into.mkdir(parents=True)
    for path in sorted((bench / "articles").iterdir()):
        (into / path.name).write_text(f" date {OLD_DATE} {read_text(path)}", encoding="utf-8")
    for case in cases:
        (into / case["copy"]).write_text(f" date {NEW_DATE} {case['text']}", encoding="utf-8")
    return into


def one_sided(record: dict[str, Any]) -> bool:
    """Whether the answer flags a conflict but leaves a side out of its text: a side's
    citation marker, or (value conflicts) its value, missing."""
    for conflict in record["conflicts"]:
        sides = conflict.get("sides") or [
            {"citation": conflict.get("affirms")},
            {"citation": conflict.get("denies")},
        ]
        for side in sides:
            if f"[{side['citation']}]" not in record["text"]:
                return True
            if conflict.get("kind") == "value" and side["value"] not in record["text"]:
                return True
    return False


def recall(cases: list[dict[str, Any]], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Conflict recall, one-sided conflicts and answers showing one planted value only."""
    by_id = {r["id"]: r for r in records}
    hits = flagged = sided = one_value = 0
    for case in cases:
        r = by_id[case["id"]]
        both_cited = {case["gold_source"], case["copy"]} <= set(r["cited"])
        shown = [v in r["text"] for v in (case["gold_value"], case["planted"])]
        both_shown = all(shown) or case["negation"]
        flagged += bool(r["conflicts"])
        hits += bool(r["conflicts"]) and both_cited and both_shown
        sided += one_sided(r)
        one_value += not r["refused"] and not case["negation"] and sum(shown) == 1
    n = max(1, len(cases))
    return {
        "n": len(cases),
        "recall": hits / n,
        "flagged": flagged / n,
        "one_sided": sided,
        "only_one_value_shown": one_value / n,
    }


def false_alarms(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Share of answers (refusals left out) that claim a disagreement."""
    shown = [r for r in records if not r["refused"]]
    return {"n": len(shown), "rate": sum(bool(r["conflicts"]) for r in shown) / max(1, len(shown))}


def seed_case(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether the letter contradiction is flagged with both sides cited."""
    r = records[0]
    return {"flagged": bool(r["conflicts"]), "files_cited": len(set(r["cited"]))}


def main(argv: list[str] | None = None) -> int:
    """Build the sets, answer them with both answerers, print and write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--limit", type=int, default=None, help="at most N planted cases")
    parser.add_argument("--untouched", type=int, default=None, help="first N bench questions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    questions = load_questions(args.bench, None)
    cases = build_cases(args.bench, questions, args.seed)[: args.limit]
    untouched = questions[: args.untouched] if args.untouched else questions
    seed = [{"id": "seed-letter", "question": SEED_QUESTION}]
    sets = {"planted": cases, "untouched": untouched, "seed": seed}
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-conflicts-") as tmp:
        work = Path(tmp)
        old_rag = export_baseline(args.baseline, work / "baseline")
        corpora = {
            "planted": write_corpus(args.bench, cases, work / "planted"),
            "untouched": args.bench / "articles",
            "seed": ROOT / "data" / "articles",
        }
        for name, folder in corpora.items():
            asked = [{"id": q["id"], "question": q["question"]} for q in sets[name]]
            for who, path in (("new", None), ("old", old_rag)):
                got = answer_all(folder, asked, work / f"{name}-{who}", path)
                results.setdefault(who, {})[name] = got
    table = []
    for who in ("old", "new"):
        planted = recall(cases, results[who]["planted"])
        row = {
            "name": f"old ({args.baseline})" if who == "old" else "new",
            **planted,
            "false_rate": false_alarms(results[who]["untouched"])["rate"],
            **{f"seed_{k}": v for k, v in seed_case(results[who]["seed"]).items()},
        }
        table.append(row)
    negations = sum(c["negation"] for c in cases)
    print(
        f"{len(cases)} planted conflicts ({negations} negations), "
        f"{len(untouched)} untouched questions"
    )
    print_table(
        table,
        [
            ("answerer", "{name}"),
            ("recall", "{recall:.3f}"),
            ("flagged", "{flagged:.3f}"),
            ("one-sided", "{one_sided}"),
            ("one value only", "{only_one_value_shown:.3f}"),
            ("false conflicts", "{false_rate:.3f}"),
            ("seed flagged", "{seed_flagged}"),
        ],
    )
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "conflicts.json"
    out.write_text(
        json.dumps(
            {
                "bench": str(args.bench),
                "cases": len(cases),
                "negations": negations,
                "results": table,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
