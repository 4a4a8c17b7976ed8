"""Fit the sentence ranker on a SQuAD-style bench, with cross-validation by article.

    python -m fit.fit_sentence_ranker [BENCH_DIR] [--extra SET.jsonl ...] [--held-out ARTICLE ...]

Fitted on the bench's questions and the paraphrase set written from them
(`evals/sets/squad_paraphrase.jsonl`: the same articles asked the way people ask), except
those of the held-out articles (`bench.common.HELD_OUT`), which no shipped model sees: the
answer benchmark reports on them.

For every answerable question, retrieves as the answerer does, takes the best
`rag.answering.ranking.DEPTH` readable sentences and labels each by whether it contains one of the
question's gold answers. Fits a conditional logit (a softmax over each question's
candidates, L2-regularised, Newton steps in numpy) in leave-one-article-out folds and
reports, for the cross-validated ranker and for the orders it replaces (support alone, and
support with the expected-answer-type rule the answerer used before): how often the first
sentence holds an answer and comes from the gold file. Refits on everything and writes
`rag/assets/sentence_ranker.json` (and `evals/results/sentence_ranker.json`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
from tqdm import tqdm

from bench.common import (
    fitting_questions,
    print_table,
)
from bench.harness import indexed
from fit.fit_answerability import cross_fitted, fit_parser, fitted, standardiser
from rag import Pipeline
from rag.answering.compose import lead_pool
from rag.answering.ranking import DEPTH, FEATURES, MODEL_PATH, features
from rag.answering.reader import AnswerEncoder, encoder_in_use
from rag.retrieval.scoring import Evidence
from rag.text.answertype import has_type

L2 = 1.0


def fit(sets: list[dict[str, Any]], l2: float = L2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means and scales, and the coefficients of a softmax over each question's
    candidates that puts the probability on those holding an answer."""
    x_all, _ = _stack(sets)
    mean, scale = standardiser(x_all)
    groups = [
        ((np.array(s["rows"]) - mean) / scale, np.array(s["hit"], dtype=np.float64))
        for s in sets
        if any(s["hit"])  # a question none of whose candidates answers teaches no order
    ]
    w = np.zeros(x_all.shape[1])
    for _ in range(50):
        grad = l2 * w
        hess = l2 * np.eye(len(w))
        for x, hit in groups:
            z = x @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            grad += x.T @ (p - hit / hit.sum())
            hess += x.T @ (np.diag(p) - np.outer(p, p)) @ x
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, w


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def collect(
    pipeline: Pipeline,
    questions: list[dict[str, Any]],
    encoders: dict[str, AnswerEncoder] | None = None,
) -> list[dict[str, Any]]:
    """Per question: the candidate rows, their labels and sources (answerable questions);
    `encoders` as `bench.harness.gated_feature_rows` takes them."""
    out = []
    for q in tqdm(questions, desc="sentences", unit="q", leave=False):
        with encoder_in_use((encoders or {}).get(str(q.get("article", "")))):
            row = _collect_one(pipeline, q)
        if row is not None:
            out.append(row)
    return out


def _collect_one(pipeline: Pipeline, q: dict[str, Any]) -> dict[str, Any] | None:
    vector = pipeline.retriever.embed_query(q["question"])
    contexts = pipeline.retriever.retrieve(q["question"], pipeline.settings.top_k, None, vector)
    pool = lead_pool(pipeline.scorer.candidates(q["question"], vector, contexts))
    if not pool:
        return None
    answers = [_norm(a) for a in q["answers"] if a.strip()]
    heads = pool[:DEPTH]
    return {
        "article": str(q.get("article", "")),
        "set": str(q.get("set", "")),
        "rows": features(q["question"], pool),
        "hit": [any(a in _norm(ev.text) for a in answers) for ev in heads],
        "gold": [ev.context.source_file == q.get("gold_source") for ev in heads],
        "typed": _position(typed_lead(q["question"], pool), heads),
    }


TYPE_SHARE = 0.9  # the rule before the ranker: a sentence holding the expected answer type
# led from this share of the best score


def typed_lead(question: str, pool: list[Evidence]) -> Evidence:
    """The lead before the ranker: the best sentence, unless one nearly as good holds the
    kind of answer asked for."""
    best = pool[0]
    if has_type(question, best.text):
        return best
    for ev in pool[1:]:
        if ev.score < best.score * TYPE_SHARE:
            break
        if has_type(question, ev.text):
            return ev
    return best


def _position(ev: Any, heads: list[Any]) -> int:
    return next((i for i, h in enumerate(heads) if h is ev), 0)


def first_rates(sets: list[dict[str, Any]], picks: list[int]) -> dict[str, float]:
    """How often the picked sentence holds an answer / comes from the gold file."""
    n = len(sets)
    return {
        "answer_first": sum(s["hit"][i] for s, i in zip(sets, picks, strict=True)) / n,
        "gold_first": sum(s["gold"][i] for s, i in zip(sets, picks, strict=True)) / n,
    }


def _stack(sets: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([r for s in sets for r in s["rows"]], dtype=np.float64)
    y = np.array([h for s in sets for h in s["hit"]], dtype=np.float64)
    return x, y


def cross_validated_picks(sets: list[dict[str, Any]]) -> list[int]:
    """The out-of-fold ranker's first sentence per question (one fold per article)."""
    picks = [0] * len(sets)
    for article in sorted({s["article"] for s in sets}):
        mean, scale, coef = fit([s for s in sets if s["article"] != article])
        for i, s in enumerate(sets):
            if s["article"] == article:
                picks[i] = int(np.argmax(((np.array(s["rows"]) - mean) / scale) @ coef))
    return picks


def _picks(
    sets: list[dict[str, Any]], model: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> list[int]:
    mean, scale, coef = model
    return [int(np.argmax(((np.array(s["rows"]) - mean) / scale) @ coef)) for s in sets]


def _orders(sets: list[dict[str, Any]], ranker: list[int], label: str) -> list[dict[str, Any]]:
    """The first-sentence rates of each order, per question set."""
    out = []
    for name in sorted({s["set"] for s in sets}):
        idx = [i for i, s in enumerate(sets) if s["set"] == name]
        sub = [sets[i] for i in idx]
        for order, picks in (
            ("support", [0] * len(sub)),
            ("support + type (before)", [s["typed"] for s in sub]),
            (label, [ranker[i] for i in idx]),
            (f"oracle over best {DEPTH}", [int(np.argmax(s["hit"])) for s in sub]),
        ):
            out.append({"set": name, "n": len(sub), "order": order, **first_rates(sub, picks)})
    return out


def main(argv: list[str] | None = None) -> int:
    """Collect candidates, cross-validate, fit, write the model and a report."""
    args = fit_parser(__doc__ or "", MODEL_PATH).parse_args(argv)
    fitting, held = fitting_questions(args.bench, args.extra, args.held_out)
    questions = [q for q in fitting + held if not q.get("is_impossible")]
    if args.reuse is not None and args.reuse.exists():
        all_sets = json.loads(args.reuse.read_text())
    else:
        with indexed(args.bench / "articles", args.store) as settings:
            all_sets = collect(
                Pipeline.from_settings(settings), questions, cross_fitted(args.encoders)
            )
        if args.reuse is not None:
            args.reuse.write_text(json.dumps(all_sets))
    sets = [s for s in all_sets if s["article"] not in args.held_out]
    test = [s for s in all_sets if s["article"] in args.held_out]
    model = fit(sets)
    rows = _orders(sets, cross_validated_picks(sets), "ranker (cross-validated)")
    rows += _orders(test, _picks(test, model), "ranker (held-out articles)")
    print(
        f"{len(sets)} fitting questions with candidates, {len(test)} held out "
        f"({', '.join(args.held_out)})"
    )
    print_table(
        rows,
        [
            ("set", "{set}"),
            ("n", "{n}"),
            ("order", "{order}"),
            ("first holds an answer", "{answer_first:.3f}"),
            ("first from gold file", "{gold_first:.3f}"),
        ],
    )
    mean, scale, coef = model
    cv = {r["set"]: r["answer_first"] for r in rows if r["order"] == "ranker (cross-validated)"}
    held_rates = {r["set"]: r["answer_first"] for r in rows if "held-out" in r["order"]}
    shipped = {
        **fitted(args.bench, FEATURES, mean, scale, coef),
        "fitted_on": f"{args.bench.name} + {', '.join(p.stem for p in args.extra)}",
        "held_out": list(args.held_out),
        "intercept": 0.0,
        "cv_answer_first": {k: round(v, 4) for k, v in cv.items()},
        "held_out_answer_first": {k: round(v, 4) for k, v in held_rates.items()},
    }
    args.model_out.write_text(json.dumps(shipped, indent=1) + "\n")
    weights = zip(FEATURES, coef, strict=True)
    print("coefficients: " + ", ".join(f"{k} {v:+.2f}" for k, v in weights))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sentence_ranker.json").write_text(
        json.dumps({"model": shipped, "orders": rows}, indent=2)
    )
    print(f"wrote {args.model_out} and {args.out / 'sentence_ranker.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
