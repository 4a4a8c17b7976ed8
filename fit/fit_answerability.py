"""Fit the answerability model on a SQuAD-style bench, with cross-validation by article.

    python -m fit.fit_answerability [BENCH_DIR] [--extra SET.jsonl ...] [--held-out ARTICLE ...]
        [--max-false-refusals 0.03]

Fitted on the bench's questions and the paraphrase set (`evals/sets/squad_paraphrase.jsonl`:
answerable questions reworded, and near-topic questions the articles do not answer), except
the held-out articles'. The threshold keeps cross-validated false refusals under the bar
counting the answerer's other refusal rule (the asked-for kind of answer missing).

Computes `rag.answering.answerability.features` for every question (as the answerer does), fits an
L2-regularised logistic regression (Newton steps, numpy only) in leave-one-article-out
folds, reports the cross-validated AUC and refusal curve, picks the refusal threshold whose
cross-validated false-refusal rate stays under the bar, then refits on everything and writes
`rag/assets/answerability.json` (and `evals/results/answerability.json`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    DEFAULT_BENCH,
    HELD_OUT,
    PARAPHRASE,
    RESULTS,
    fitting_questions,
    print_table,
)
from bench.harness import gated_feature_rows, indexed
from rag import Pipeline
from rag.answering.answerability import FEATURES, MODEL_PATH
from rag.answering.reader import AnswerEncoder

VERSION = 1
L2 = 1.0


def fit(x: np.ndarray, y: np.ndarray, l2: float = L2) -> tuple[np.ndarray, float]:
    """Logistic regression coefficients and intercept (x already standardised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    penalty = np.eye(xb.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1 / (1 + np.exp(-(xb @ w)))
        grad = xb.T @ (p - y) + penalty @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties counted half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and scales of the columns (scale 1 for a constant column, which then adds 0)."""
    scale = x.std(0)
    return x.mean(0), np.where(scale > 1e-6, scale, 1.0)


def cross_validate(x: np.ndarray, y: np.ndarray, groups: list[str]) -> np.ndarray:
    """Out-of-fold P(answerable), one fold per group (article)."""
    out = np.zeros(len(y))
    labels = np.array(groups)
    for group in sorted(set(groups)):
        test = labels == group
        mean, scale = standardiser(x[~test])
        coef, intercept = fit((x[~test] - mean) / scale, y[~test])
        out[test] = 1 / (1 + np.exp(-(((x[test] - mean) / scale) @ coef + intercept)))
    return out


def curve(
    prob: np.ndarray, y: np.ndarray, gate: np.ndarray | None = None
) -> list[dict[str, float]]:
    """Refusal rate on unanswerable and false-refusal rate, per threshold (a question the
    answerer refuses anyway, `gate`, counts as refused at every threshold)."""
    points = []
    forced = gate if gate is not None else np.zeros(len(y), dtype=bool)
    for t in np.linspace(0.05, 0.95, 91):
        refused = (prob < t) | forced
        points.append(
            {
                "threshold": round(float(t), 3),
                "refusal_rate_impossible": float(refused[y == 0].mean()),
                "false_refusal_rate": float(refused[y == 1].mean()),
            }
        )
    return points


def best_within(points: list[dict[str, float]], bar: float) -> dict[str, float]:
    """The point refusing most unanswerable questions with false refusals at most `bar`."""
    within = [p for p in points if p["false_refusal_rate"] <= bar]
    return max(within, key=lambda p: p["refusal_rate_impossible"]) if within else points[0]


def fitted(
    bench: Path, features: tuple[str, ...], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray
) -> dict[str, Any]:
    """The JSON form of a fitted linear model's shared part (what `rag` reads back)."""
    return {
        "version": VERSION,
        "fitted_on": str(bench.name),
        "features": list(features),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": coef.round(6).tolist(),
    }


def _rates(refused: np.ndarray, y: np.ndarray, sets: np.ndarray) -> list[dict[str, Any]]:
    """Refusal rates on unanswerable and answerable questions, per question set."""
    out = []
    for name in sorted(set(sets.tolist())):
        mine = sets == name
        out.append(
            {
                "set": name,
                "answerable": int((y[mine] == 1).sum()),
                "impossible": int((y[mine] == 0).sum()),
                "refusal_rate_impossible": float(refused[mine & (y == 0)].mean())
                if (mine & (y == 0)).any()
                else 0.0,
                "false_refusal_rate": float(refused[mine & (y == 1)].mean()),
            }
        )
    return out


def fit_parser(doc: str, model_path: Path) -> argparse.ArgumentParser:
    """The options both fitting scripts take: the bench, the extra question sets, the held-out
    articles, the store, where the model and the report go, rows saved by an earlier run."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--extra", type=Path, nargs="*", default=[PARAPHRASE])
    parser.add_argument("--held-out", nargs="*", default=list(HELD_OUT), help="articles")
    parser.add_argument("--store", type=Path, default=None, help="build or reuse this store")
    parser.add_argument("--model-out", type=Path, default=model_path)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--reuse", type=Path, default=None, help="rows saved by a run")
    parser.add_argument(
        "--encoders",
        type=Path,
        default=None,
        help="cross-fitted answer encoders (folds.json: article -> ONNX file beside it), so "
        "no question's features come from an encoder fitted on its article",
    )
    return parser


def cross_fitted(folder: Path | None) -> dict[str, AnswerEncoder]:
    """The answer encoder to use for each article's questions (none: the shipped one)."""
    if folder is None:
        return {}
    folds = json.loads((folder / "folds.json").read_text(encoding="utf-8"))
    loaded: dict[str, AnswerEncoder] = {}
    for name in set(folds.values()):
        loaded[name] = AnswerEncoder(folder / name)
    return {article: loaded[name] for article, name in folds.items()}


def main(argv: list[str] | None = None) -> int:
    """Collect features, cross-validate, fit, write the model and a report."""
    parser = fit_parser(__doc__ or "", MODEL_PATH)
    parser.add_argument("--max-false-refusals", type=float, default=0.03)
    args = parser.parse_args(argv)
    fitting, held = fitting_questions(args.bench, args.extra, args.held_out)
    questions = fitting + held
    if args.reuse is not None and args.reuse.exists():
        collected = [(r, bool(g)) for r, g in json.loads(args.reuse.read_text())]
    else:
        with indexed(args.bench / "articles", args.store) as settings:
            collected = gated_feature_rows(
                Pipeline.from_settings(settings), questions, cross_fitted(args.encoders)
            )
        if args.reuse is not None:
            args.reuse.write_text(json.dumps(collected))
    x_all = np.array([r for r, _ in collected], dtype=np.float64)
    gate_all = np.array([g for _, g in collected], dtype=bool)
    y_all = np.array([0 if q.get("is_impossible") else 1 for q in questions], dtype=np.float64)
    sets_all = np.array([q["set"] for q in questions])
    fit_mask = np.array([i < len(fitting) for i in range(len(questions))])
    x, y, gate = x_all[fit_mask], y_all[fit_mask], gate_all[fit_mask]
    prob = cross_validate(x, y, [str(q.get("article", "")) for q in fitting])
    points = curve(prob, y, gate)
    chosen = best_within(points, args.max_false_refusals)
    single = {name: auc(x[:, i], y) for i, name in enumerate(FEATURES)}
    mean, scale = standardiser(x)
    coef, intercept = fit((x - mean) / scale, y)
    test = ~fit_mask
    held_prob = 1 / (1 + np.exp(-(((x_all[test] - mean) / scale) @ coef + intercept)))
    threshold = chosen["threshold"]
    per_set = [
        {"what": "cross-validated", **r}
        for r in _rates((prob < threshold) | gate, y, sets_all[fit_mask])
    ] + [
        {"what": "held-out articles", **r}
        for r in _rates((held_prob < threshold) | gate_all[test], y_all[test], sets_all[test])
    ]
    model = {
        **fitted(args.bench, FEATURES, mean, scale, coef),
        "fitted_on": f"{args.bench.name} + {', '.join(p.stem for p in args.extra)}",
        "held_out": list(args.held_out),
        "intercept": round(intercept, 6),
        "threshold": threshold,
        "cv_auc": round(auc(prob, y), 4),
    }
    args.model_out.write_text(json.dumps(model, indent=1) + "\n")
    rows_out = [
        {"what": f"cv @ {bar:.2f} false refusals", **best_within(points, bar)}
        for bar in (0.02, 0.03, 0.04, 0.05, 0.10)
    ]
    print(
        f"{len(fitting)} fitting questions, {len(held)} held out; "
        f"cross-validated AUC {model['cv_auc']:.3f}; gate refuses {gate.mean():.3f} of them"
    )
    print_table(
        rows_out,
        [
            ("operating point (with the kind gate)", "{what}"),
            ("threshold", "{threshold:.2f}"),
            ("refused impossible", "{refusal_rate_impossible:.3f}"),
            ("false refusals", "{false_refusal_rate:.3f}"),
        ],
    )
    print(f"at the shipped threshold {threshold:.2f}:")
    print_table(
        per_set,
        [
            ("figures", "{what}"),
            ("set", "{set}"),
            ("answerable", "{answerable}"),
            ("impossible", "{impossible}"),
            ("refused impossible", "{refusal_rate_impossible:.3f}"),
            ("false refusals", "{false_refusal_rate:.3f}"),
        ],
    )
    print("single-feature AUC: " + ", ".join(f"{k} {v:.2f}" for k, v in single.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "model": model,
        "cv_auc": model["cv_auc"],
        "chosen": chosen,
        "operating_points": rows_out,
        "per_set": per_set,
        "single_feature_auc": single,
        "curve": points,
    }
    (args.out / "answerability.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {args.model_out} and {args.out / 'answerability.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
