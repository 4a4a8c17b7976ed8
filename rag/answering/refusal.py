"""Refusals that are not a dead end: what the articles say nearest to the question.

When the retrieved text does not answer the question, the answer says so and quotes up to
three of the closest passages (each from a different place, marked as not answering) so the
reader can see what the articles do cover. Off-topic questions, whose best sentence barely
relates to them, get the plain refusal.
"""

from __future__ import annotations

import numpy as np

from rag.prompts import CLOSEST_PASSAGES, REFUSAL
from rag.retrieval.scoring import Evidence, SentenceScorer, is_statement
from rag.trust.cite import quote_citation
from rag.types import Answer, Context

MAX_CLOSEST = 3
# Kept here, not in rag.prompts, as no model ever sees it: it is the offline refusal's text.


def closest_passages(ranked: list[Evidence], floor: float) -> list[Evidence]:
    """Up to three statements at or above `floor`, best first, one per file."""
    chosen: list[Evidence] = []
    for ev in ranked:
        if ev.score < floor or len(chosen) == MAX_CLOSEST:
            break
        if is_statement(ev.text) and all(
            c.context.source_file != ev.context.source_file for c in chosen
        ):
            chosen.append(ev)
    return chosen


def refuse(
    answer: Answer,
    question: str,
    vector: np.ndarray | None,
    contexts: list[Context],
    scorer: SentenceScorer,
) -> Answer:
    """`answer` turned into a refusal, with the closest passages when there are any.

    Args:
        vector: the question's vector (embedded here when None).
    """
    if vector is None:
        vector = scorer.vectors([question])[0]
    ranked = scorer.candidates(question, vector, contexts) if contexts else []
    near = closest_passages(ranked, scorer.config.min_support)
    closest = [
        quote_citation(n, ev.context, ev.start, ev.end, ev.score).model_copy(
            update={"answers": False}
        )
        for n, ev in enumerate(near, start=1)
    ]
    text = REFUSAL
    if closest:
        listed = "; ".join(
            f'"{c.quote}" ({c.source_file}, {c.date.isoformat() if c.date else "undated"})'
            for c in closest
        )
        text = f"{CLOSEST_PASSAGES} {listed}"
    return answer.model_copy(
        update={
            "refused": True,
            "citations": [],
            "unsupported": [],
            "conflicts": [],
            "closest": closest,
            "text": text,
        }
    )
