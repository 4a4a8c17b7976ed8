"""The offline answerer: the retrieved sentences that best answer the question, each cited."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import numpy as np

from rag.prompts import REFUSAL
from rag.scoring import SentenceScorer
from rag.types import Answer, Context
from rag.verify import Verifier, apply_verified, with_markers

# "[7]" inside quoted article text is the article's, not a citation: shown as "(7)".
_SOURCE_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")
# The pieces an answer is streamed in: one sentence each.
_PIECE = re.compile(r"\S.*?(?:[.!?…][\"'”’)]*(?:\s+|$)|$)", re.DOTALL)


class ExtractiveAnswerer:
    """Quotes the best supporting sentences, verified like a model's answer, or refuses."""

    def __init__(self, scorer: SentenceScorer, verifier: Verifier) -> None:
        self._scorer = scorer
        self._verifier = verifier

    def run(
        self, answer: Answer, search: str, vector: np.ndarray, contexts: list[Context]
    ) -> Iterator[str]:
        """Fill `answer` from `contexts`; yield its text sentence by sentence."""
        started = time.perf_counter()
        evidence = self._scorer.select(search, vector, contexts)
        answer.contexts = contexts
        draft = " ".join(
            with_markers(
                _SOURCE_MARKER.sub(r"(\1)", ev.text), f"[{contexts.index(ev.context) + 1}]"
            )
            for ev in evidence
        )
        apply_verified(answer, search, self._verifier.verify(draft, contexts))
        if not answer.citations:
            answer.refused, answer.text, answer.unsupported = True, REFUSAL, []
        answer.timings["answer"] = time.perf_counter() - started
        yield from _PIECE.findall(answer.text)
