"""The answerers and what they share.

- `extractive`: the offline answerer, quoting the best sentences of the retrieved passages;
- `generate`: the generative answerer, asking the chat model and checking its citations;
- `compose`, `ranking`, `answerability`: how the extractive answer is picked and whether to abstain;
- `refusal`: the answer given when the passages do not hold one;
- `messages`: the chat messages sent to the model.

`Answerer` is the seam both answerers implement; `Asked` is what they are given.
Named `answering` rather than `answer` so the package never shadows `rag.answer()`.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

    from rag.history import Message
    from rag.types import Answer, Context, Usage


@dataclass(frozen=True)
class Asked:
    """One question as an answerer receives it, after retrieval."""

    question: str  # as the user asked it
    search: str  # what was searched for: the question, or its follow-up made standalone
    vector: np.ndarray  # the embedding of `search`
    contexts: list[Context]  # the retrieved passages, best first
    turns: list[Message]  # the conversation before the question
    live: bool  # stream the answer as it is made (else the whole answer at once)
    condensing: Usage | None = None  # what making the follow-up standalone cost


class Answerer(Protocol):
    """Answers a question from retrieved passages: the extractive and the generative answerer.

    `Pipeline` picks one when it is built (from `Settings.answer_mode`) and hands it every
    question.
    """

    def condense(self, question: str, turns: list[Message]) -> tuple[str, Usage | None]:
        """The follow-up `question` rewritten to stand on its own, and the tokens that took."""
        ...

    def run(self, answer: Answer, asked: Asked) -> Generator[str, None, Answer]:
        """Yield the answer's text in pieces; return `answer` completed (a new object)."""
        ...
