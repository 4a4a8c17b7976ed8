"""Deterministic answer metrics (no judge), per case and aggregated with their n and spread.

A per-case metric is None where it does not apply (e.g. fact recall of a case with no
facts); aggregates average over the cases where it applies and report that n.
"""

from __future__ import annotations

import re
import statistics
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel

from evals.suite import Case
from rag.types import Answer

HIT_KS = (1, 3, 5)

# name -> (higher is better, one-line meaning); the order is the report's order.
METRICS: dict[str, tuple[bool, str]] = {
    **{
        f"hit@{k}": (True, f"an expected source is among the first {k} retrieved chunks")
        for k in HIT_KS
    },
    "mrr": (True, "1 / rank of the first retrieved chunk from an expected source"),
    "citation_precision": (True, "share of citations pointing at an expected source"),
    "citation_recall": (True, "share of expected sources the answer cites"),
    "citation_validity": (True, "share of citations whose quote is the file's text at its offsets"),
    "fact_recall": (True, "share of the case's facts the answer states"),
    "refusal_accuracy": (True, "unanswerable cases the answer declined"),
    "false_refusal_rate": (False, "answerable cases the answer declined"),
    "exact_match": (True, "SQuAD exact match of the answer text against the reference"),
    "f1": (True, "SQuAD token F1 of the answer text against the reference"),
    "passed": (True, "cases that passed (see the report for the rule)"),
    "judge_correctness": (True, "LLM judge: the answer agrees with the reference (0-1)"),
    "judge_faithfulness": (True, "LLM judge: every claim is backed by the cited quotes (0-1)"),
}

_MARKER = re.compile(r"\s*\[\d+\]")
_PUNCT = set(string.punctuation) | {"\u2018", "\u2019", "\u201c", "\u201d"}


def answer_text(answer: Answer) -> str:
    """The answer with its citation markers removed, as facts and references are matched."""
    return _MARKER.sub("", answer.text).strip()


def retrieval_scores(case: Case, answer: Answer) -> dict[str, float | None]:
    """hit@k and reciprocal rank of the retrieved chunks against the expected sources."""
    if case.unanswerable or not case.expected_sources:
        return {**{f"hit@{k}": None for k in HIT_KS}, "mrr": None}
    ranks = [i for i, c in enumerate(answer.contexts) if c.source_file in case.expected_sources]
    first = ranks[0] + 1 if ranks else None
    scores: dict[str, float | None] = {
        f"hit@{k}": float(first is not None and first <= k) for k in HIT_KS
    }
    scores["mrr"] = 1.0 / first if first else 0.0
    return scores


def citation_scores(case: Case, answer: Answer) -> dict[str, float | None]:
    """Citation precision and recall against the case's expected sources."""
    if case.unanswerable or not case.expected_sources:
        return {"citation_precision": None, "citation_recall": None}
    cited = [c.source_file for c in answer.citations]
    precision = (
        sum(s in case.expected_sources for s in cited) / len(cited) if cited else None
    )  # an answer with no citations makes no claim to be precise about
    recall = len(set(cited) & set(case.expected_sources)) / len(set(case.expected_sources))
    return {"citation_precision": precision, "citation_recall": recall}


def citation_validity(answer: Answer, read: Callable[[str], str]) -> list[bool]:
    """Per citation: does the cited file hold the quote at exactly its offsets?"""
    valid = []
    for citation in answer.citations:
        try:
            text = read(citation.source_file)
        except Exception:
            valid.append(False)
            continue
        valid.append(text[citation.start : citation.end] == citation.quote)
    return valid


def fact_recall(case: Case, answer: Answer) -> tuple[float | None, list[str]]:
    """Share of the case's facts found in the answer, and the facts that were missing."""
    if not case.facts:
        return None, []
    text = answer_text(answer)
    missing = [str(f) for f in case.facts if not f.found_in(text)]
    return 1 - len(missing) / len(case.facts), missing


def refusal_scores(case: Case, answer: Answer) -> dict[str, float | None]:
    """Refusal accuracy (unanswerable cases) and false refusals (answerable ones)."""
    if case.unanswerable:
        return {"refusal_accuracy": float(answer.refused), "false_refusal_rate": None}
    return {"refusal_accuracy": None, "false_refusal_rate": float(answer.refused)}


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def squad_scores(prediction: str, references: Sequence[str]) -> tuple[float, float]:
    """SQuAD exact match and token F1: the best over the references."""
    pred = normalize_answer(prediction)
    best_em = best_f1 = 0.0
    for reference in references:
        ref = normalize_answer(reference)
        best_em = max(best_em, float(pred == ref))
        best_f1 = max(best_f1, _token_f1(pred.split(), ref.split()))
    return best_em, best_f1


def _token_f1(pred: list[str], ref: list[str]) -> float:
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or common == 0:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def passed(case: Case, answer: Answer, scores: dict[str, float | None]) -> bool:
    """A case passes when the decision to answer is right, every fact is stated, at least
    one expected source is cited and every citation is valid."""
    if case.unanswerable:
        return answer.refused
    if answer.refused:
        return False
    checks = [
        scores.get("fact_recall") in (None, 1.0),
        scores.get("citation_recall") is None or (scores["citation_recall"] or 0) > 0,
        scores.get("citation_validity") in (None, 1.0),
    ]
    return all(checks)


def score_case(case: Case, answer: Answer, read: Callable[[str], str]) -> dict[str, Any]:
    """Every deterministic metric of one answered case, plus what a reader needs to see why."""
    scores: dict[str, float | None] = {}
    scores.update(retrieval_scores(case, answer))
    scores.update(citation_scores(case, answer))
    valid = citation_validity(answer, read)
    scores["citation_validity"] = sum(valid) / len(valid) if valid else None
    recall, missing = fact_recall(case, answer)
    scores["fact_recall"] = recall
    scores.update(refusal_scores(case, answer))
    if case.reference and not answer.refused:
        scores["exact_match"], scores["f1"] = squad_scores(answer_text(answer), case.reference)
    elif case.reference:
        scores["exact_match"] = scores["f1"] = 0.0
    else:
        scores["exact_match"] = scores["f1"] = None
    scores["passed"] = float(passed(case, answer, scores))
    return {"scores": scores, "missing_facts": missing, "citations_valid": valid}


class Stat(BaseModel):
    """One metric over a run: the mean over cases where it applies, that n, and the spread
    of the per-repeat means when the suite ran more than once."""

    mean: float | None
    n: int
    std: float = 0.0
    min: float | None = None
    max: float | None = None
    repeats: list[float] = []


def aggregate(rows: Iterable[dict[str, Any]], repeats: int) -> dict[str, Stat]:
    """Per metric: the mean over applicable cases of each repeat, then across repeats."""
    by_repeat: dict[str, dict[int, list[float]]] = {name: {} for name in METRICS}
    for row in rows:
        if row.get("status") != "ok":
            continue
        for name, value in row["scores"].items():
            if value is not None and name in by_repeat:
                by_repeat[name].setdefault(row["repeat"], []).append(float(value))
    stats = {}
    for name, per in by_repeat.items():
        means = [statistics.fmean(per[r]) for r in sorted(per) if per[r]]
        n = max((len(v) for v in per.values()), default=0)
        if not means:
            stats[name] = Stat(mean=None, n=0)
            continue
        stats[name] = Stat(
            mean=statistics.fmean(means),
            n=n,
            std=statistics.pstdev(means) if len(means) > 1 else 0.0,
            min=min(means),
            max=max(means),
            repeats=means if repeats > 1 else [],
        )
    return stats


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
