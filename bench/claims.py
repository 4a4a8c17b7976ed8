"""The verifier measured on claims (`make bench-claims`): correct and wrong drafts served by a
wire-level OpenAI server (`bench.draft_server`) through the real generative path (`Pipeline`,
the real `openai` client), for this tree's verifier and for a baseline tree's, in one run.

    python -m bench.claims [--baseline DIR] [--smoke N] [--out FILE]

`--baseline` is the root of another checkout (e.g. `git worktree add /tmp/base main`): its
`rag` answers the same cases against the same index. Cases: `bench.claim_cases` (rules over
squad-dev's gold answers, split dev/report by article, plus the hand-written sample-article
cases). A correct claim counts as kept when it is in the answer body citing every file it
should; a wrong claim counts as kept when its wrong part is in the body on a cited sentence,
and as shown when it is anywhere in the body. Prints a table per kind and writes JSON
(default evals/results/claims.json).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.claim_cases import hand_written, squad_cases
from bench.common import DEFAULT_BENCH, RESULTS
from bench.draft_server import DraftServer
from index import build_index
from rag import Settings

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "articles"
_MARKER = re.compile(r"\s*\[\d+\]")


def main() -> None:
    """Build the cases, answer them with each tree, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--baseline", type=Path, help="root of a checkout to compare with")
    parser.add_argument("--smoke", type=int, help="only the first N cases of each kind")
    parser.add_argument("--out", type=Path, default=RESULTS / "claims.json")
    parser.add_argument("--rejudge", type=Path, help="only re-print the table of a run's JSON")
    args = parser.parse_args()
    if args.rejudge:
        data = json.loads(args.rejudge.read_text())
        print_report({n: summarise(data["cases"], rows) for n, rows in data["rows"].items()})
        return
    cases = build_cases(args.bench, args.smoke)
    trees = {"new": ROOT} | ({"old": args.baseline.resolve()} if args.baseline else {})
    with tempfile.TemporaryDirectory() as work:
        results = run(cases, trees, args.bench, Path(work))
    summary = {name: summarise(cases, rows) for name, rows in results.items()}
    print_report(summary)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "cases": cases, "rows": results}, indent=1))
    print(f"wrote {args.out}")


def build_cases(bench: Path, smoke: int | None = None) -> list[dict[str, Any]]:
    """Every case (or the first `smoke` of each kind and label)."""
    # Without squad-dev (a checkout with the sample articles only), the hand-written cases.
    cases = hand_written() + (squad_cases(bench) if (bench / "questions.jsonl").exists() else [])
    if smoke is None:
        return cases
    seen: dict[tuple[str, str], int] = defaultdict(int)
    kept = []
    for case in cases:
        key = (case["kind"], case["label"])
        if seen[key] < smoke:
            seen[key] += 1
            kept.append(case)
    return kept


def run(
    cases: list[dict[str, Any]], trees: dict[str, Path], bench: Path, work: Path
) -> dict[str, list[dict[str, Any]]]:
    """Index the cases' articles once; answer every case with each tree's `rag`."""
    corpus = work / "corpus"
    corpus.mkdir()
    for case in cases:
        for name in case["files"]:
            source = SAMPLE / name if (SAMPLE / name).exists() else bench / "articles" / name
            shutil.copyfile(source, corpus / name)
    store = work / "chroma"
    build_index(corpus, Settings(chroma_path=store, corpus_dir=corpus), progress=False)
    (work / "cases.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases))
    results = {}
    with DraftServer() as server:
        for name, tree in trees.items():
            out = work / f"{name}.jsonl"
            command = [sys.executable, str(ROOT / "bench" / "claims_worker.py")]
            command += ["--store", str(store), "--corpus", str(corpus)]
            command += ["--base-url", server.base_url, "--cases", str(work / "cases.jsonl")]
            command += ["--out", str(out)]
            env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin", "HOME": str(work)}
            subprocess.run(command, env=env, check=True, cwd=work)
            rows = [json.loads(line) for line in out.read_text().splitlines() if line]
            results[name] = rows
    return results


def judge(case: dict[str, Any], row: dict[str, Any]) -> dict[str, bool]:
    """kept (with the right citation, for a correct claim) and shown, for one case."""
    body = row["text"]
    if case["label"] == "correct":
        claim = _plain(_MARKER.sub("", re.sub(r"\[@[^\]]+\]", "", case["draft"])))
        files = {c["file"] for c in row["citations"]}
        present = not row["refused"] and claim in _plain(_MARKER.sub("", body))
        return {"kept": present and set(case["expect"]) <= files, "shown": present}
    wrong = _plain(case["bad"])
    shown = not row["refused"] and wrong in _plain(body)
    cited = shown and any(
        wrong in _plain(sentence) and _MARKER.search(sentence)
        for sentence in re.split(r"(?<=[.!?])\s+(?=\S)", body)
    )
    return {"kept": cited, "shown": shown}


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w@:/.$%-]+|\.(?=\s|$)", " ", text.lower()).split())


def summarise(cases: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Kept and shown rates per split, label and kind."""
    by_id = {row["id"]: row for row in rows}
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for case in cases:
        verdict = judge(case, by_id[case["id"]])
        for key in (
            f"{case['split']}/{case['label']}",
            f"all/{case['label']}",
            f"{case['label']}/{case['kind']}",
        ):
            groups[key]["kept"].append(verdict["kept"])
            groups[key]["shown"].append(verdict["shown"])
    return {
        key: {"n": len(g["kept"]), "kept": _rate(g["kept"]), "shown": _rate(g["shown"])}
        for key, g in sorted(groups.items())
    }


def _rate(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def print_report(summary: dict[str, dict[str, Any]]) -> None:
    """One line per group: n, then kept (and shown) for each tree."""
    names = list(summary)
    keys = list(next(iter(summary.values())))
    head = f"{'group':36} {'n':>4}" + "".join(
        f" {n + ' kept':>9} {n + ' shown':>10}" for n in names
    )
    print(head)
    for key in keys:
        line = f"{key:36} {summary[names[0]][key]['n']:>4}"
        for name in names:
            g = summary[name][key]
            line += f" {g['kept']:>9.3f} {g['shown']:>10.3f}"
        print(line)


if __name__ == "__main__":
    main()
