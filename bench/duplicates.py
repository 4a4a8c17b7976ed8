"""Grouping syndicated copies: precision and recall of `index.dedup.group` on a generated set.

    python -m bench.duplicates [--stories 120] [--out DIR]

Stories are made of dev-bench paragraphs (2-3 consecutive paragraphs of one topic, so every
topic yields several different stories) plus the five sample articles. Each story gets copies:
an exact copy; a new headline, byline and outlet boilerplate; a sentence removed; a sentence
added; and both edits with new boilerplate. Stories of the same topic that share no paragraph
are "same topic" pairs: they must never be grouped. The threshold is chosen on the first half
of the stories (best F1 with no same-topic merge) and reported on the other half.
Pairwise precision/recall over all pairs of articles. Prints a table and writes duplicates.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, print_table
from bench.synthetic import PARAGRAPHS
from index.dedup import group, signature

OUTLETS = ["Reuters", "The Daily Ledger", "Harbour Times", "Metro Post", "AP"]
THRESHOLDS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def _stories(count: int, rng: random.Random) -> list[tuple[str, str]]:
    """(topic, body) of each story."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PARAGRAPHS.glob("*.txt")):
        by_topic[re.sub(r"_p\d+$", "", path.stem)].append(path.read_text(encoding="utf-8").strip())
    stories = []
    for topic, paras in by_topic.items():
        for start in range(0, len(paras) - 1, 3):  # disjoint runs: same topic, other text
            stories.append((topic, "\n\n".join(paras[start : start + rng.choice((2, 3))])))
    rng.shuffle(stories)
    sample = sorted((ROOT / "data" / "articles").glob("*.txt"))
    # The five samples report one event (the letter to Putin) in their own words: same event.
    stories = [("sample event", p.read_text(encoding="utf-8")) for p in sample] + stories
    return stories[:count]


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.!?])\s+", text)


def _copies(body: str, rng: random.Random, others: list[str]) -> dict[str, str]:
    sentences = _sentences(body)
    outlet = rng.choice(OUTLETS)
    dropped = list(sentences)
    dropped.pop(rng.randrange(len(dropped)))
    added = list(sentences)
    extra = rng.choice(_sentences(rng.choice(others)))
    added.insert(rng.randrange(len(added) + 1), extra)
    boiler = f"By Staff Writer, {outlet}\n\n{{}}\n\nCopyright {outlet}. All rights reserved."
    return {
        "exact copy": body,
        "headline/byline/boilerplate": "New headline here\n\n" + boiler.format(body),
        "sentence removed": " ".join(dropped),
        "sentence added": " ".join(added),
        "both edits + boilerplate": boiler.format(" ".join(dropped[:-1] + [extra])),
    }


def _pairs(names: list[str], of: dict[str, int]) -> set[tuple[str, str]]:
    return {(a, b) for a, b in itertools.combinations(sorted(names), 2) if of[a] == of[b]}


def _score(
    bodies: dict[str, str], story: dict[str, int], topic: dict[str, str], threshold: float
) -> dict[str, Any]:
    names = sorted(bodies)
    found = group({n: signature(bodies[n]) for n in names}, bodies.__getitem__, threshold)
    ids = {n: i for i, n in enumerate(sorted(set(found.values())))}
    predicted = _pairs(names, {n: ids[found[n]] for n in names})
    truth = _pairs(names, story)
    hits = predicted & truth
    same_topic = {(a, b) for a, b in predicted - truth if topic[a] == topic[b]}
    precision = len(hits) / len(predicted) if predicted else 1.0
    recall = len(hits) / len(truth) if truth else 1.0
    missed: dict[str, int] = defaultdict(int)
    for a, b in truth - predicted:
        for name in (a, b):
            missed[name.split("|", 1)[1]] += 1
    return {
        "threshold": threshold,
        "articles": len(names),
        "true_pairs": len(truth),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "same_topic_merges": len(same_topic),
        "missed_by_kind": dict(missed),
    }


def build(count: int, seed: int) -> list[tuple[dict[str, str], dict[str, int], dict[str, str]]]:
    """Two halves: (name -> body, name -> story number, name -> topic)."""
    rng = random.Random(seed)
    stories = _stories(count, rng)
    halves: list[tuple[dict[str, str], dict[str, int], dict[str, str]]] = [
        ({}, {}, {}),
        ({}, {}, {}),
    ]
    for number, (topic, body) in enumerate(stories):
        bodies, story, topics = halves[number % 2]
        versions = {"original": body} | _copies(body, rng, [b for _, b in stories])
        for kind, text in versions.items():
            name = f"{number:04d}|{kind}"
            bodies[name], story[name], topics[name] = text, number, topic
    return halves


def main(argv: list[str] | None = None) -> int:
    """Pick the threshold on one half, report on the other; print and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    tune, test = build(args.stories, args.seed)
    tuning = [_score(*tune, t) for t in THRESHOLDS]
    print("tuning half:")
    columns = [
        ("threshold", "{threshold:.2f}"),
        ("articles", "{articles}"),
        ("true pairs", "{true_pairs}"),
        ("precision", "{precision:.3f}"),
        ("recall", "{recall:.3f}"),
        ("same-topic merges", "{same_topic_merges}"),
    ]
    print_table(tuning, columns)
    clean = [r for r in tuning if r["same_topic_merges"] == 0] or tuning
    best = max(clean, key=lambda r: (r["f1"], -abs(r["threshold"] - 0.5)))
    held = _score(*test, best["threshold"])
    print(f"\nheld-out half at the chosen threshold {best['threshold']:.2f}:")
    print_table([held], columns)
    print(f"missed pairs by kind of copy: {held['missed_by_kind'] or 'none'}")
    args.out.mkdir(parents=True, exist_ok=True)
    result = {"tuning": tuning, "chosen": best["threshold"], "held_out": held}
    (args.out / "duplicates.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
