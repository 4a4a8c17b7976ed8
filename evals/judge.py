"""LLM-judge metrics (answer correctness, faithfulness) through any OpenAI-compatible server.

A reply that is not the asked-for JSON is recorded as that case's judge error, never
averaged in as a score.
"""

from __future__ import annotations

import json
import re
from typing import Any, cast

from openai.types.chat import ChatCompletionMessageParam

from evals.suite import Case
from rag.config import Settings
from rag.errors import ProviderError
from rag.prompts import JUDGE_CORRECTNESS_PROMPT, JUDGE_FAITHFULNESS_PROMPT, JUDGE_TEMPLATE
from rag.providers.llm import Limits, OutputFormat, complete, make_client
from rag.types import Answer

_JSON = re.compile(r"\{.*\}", re.DOTALL)
# Asked for as structured output where the server takes it (llama.cpp: as a grammar), so even
# a small model replies with a verdict that parses.
VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    # An enum, not a number range: llama.cpp's grammar enforces enums but not bounds.
    "properties": {"score": {"enum": [0, 0.25, 0.5, 0.75, 1]}, "reason": {"type": "string"}},
    "required": ["score", "reason"],
    "additionalProperties": False,
}
JUDGE_MAX_TOKENS = 200


class Judge:
    """Grades answers with a chat model; one instance per run, shared by the worker threads."""

    def __init__(self, settings: Settings, model: str | None = None) -> None:
        self.client = make_client(settings)
        self.model = model or settings.chat_model
        self.settings = settings
        self.output = OutputFormat()  # learnt from the server's first refusals, then kept

    def grade(self, case: Case, answer: Answer) -> dict[str, Any]:
        """{"judge_correctness": {...}, "judge_faithfulness": {...}} for what applies."""
        verdicts: dict[str, Any] = {}
        if case.reference:
            evidence = "REFERENCE: " + " | ".join(case.reference)
            verdicts["judge_correctness"] = self._ask(
                JUDGE_CORRECTNESS_PROMPT, case.question, evidence, answer.text
            )
        if answer.citations and not answer.refused:
            quotes = "\n".join(f'[{c.n}] "{c.quote}"' for c in answer.citations)
            verdicts["judge_faithfulness"] = self._ask(
                JUDGE_FAITHFULNESS_PROMPT, case.question, "QUOTES:\n" + quotes, answer.text
            )
        return verdicts

    def _ask(self, system: str, question: str, evidence: str, answer: str) -> dict[str, Any]:
        user = JUDGE_TEMPLATE.format(question=question, evidence=evidence, answer=answer)
        messages = cast(
            list[ChatCompletionMessageParam],
            [{"role": "system", "content": system}, {"role": "user", "content": user}],
        )
        limits = Limits.of(self.settings, JUDGE_MAX_TOKENS)
        try:
            content, completion = complete(
                self.client, self.model, messages, limits, output=self.output, schema=VERDICT_SCHEMA
            )
        except ProviderError as exc:
            return {"error": str(exc)}
        verdict = parse_verdict(content)
        if completion.usage is not None:
            verdict["tokens"] = completion.usage.total_tokens
        return verdict


def parse_verdict(content: str) -> dict[str, Any]:
    """{"score", "reason"} from the judge's reply, or {"error", "raw"} saying what was wrong."""
    found = _JSON.search(content)
    try:
        # strict=False: a small model under a grammar may put a raw line break in a string
        data = json.loads(found.group(0) if found else content, strict=False)
    except json.JSONDecodeError:
        return {"error": "judge reply is not JSON", "raw": content[:500]}
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
        return {"error": "judge reply has no score between 0 and 1", "raw": content[:500]}
    return {"score": float(score), "reason": str(data.get("reason", ""))}
