"""Citation markers: renumbering a model's `[i]` source markers; citations of quotes.

Sources are numbered 1..k in the prompt; the answer's citations are numbered in order
of first appearance. `MarkerRewriter` does that on a stream, so streamed text and the
final `Answer.text` carry the same numbers.
"""

from __future__ import annotations

import json
import re

from rag.prompts import REFUSAL
from rag.types import Citation, Context

_MARKER = re.compile(r"(\s*)\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
# A possibly unfinished marker (or whitespace that may precede one) at the end of a piece.
_PENDING = re.compile(r"(?:\s*\[[^\[\]\n]{0,20}|\s+)$")
CITED = re.compile(r"\[(\d+)\]")
# What a model may mean as a marker but that names no source: "[-1]", "[1a]", "[source 2]".
JUNK_MARKER = re.compile(
    r"\s*\[(?!\s*\d+\s*(?:[,;]\s*\d+\s*)*\])\s*(?:sources?\b\W*)?[-+]?\d[^\[\]\n]{0,12}\]",
    re.IGNORECASE,
)
# C0/C1 control characters but tab and newline: escape sequences (terminal hyperlinks, colours,
# cursor moves) in model text would act on a terminal instead of showing.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_controls(text: str) -> str:
    """`text` without control characters (tab and newline kept)."""
    return _CONTROLS.sub("", text)


class MarkerRewriter:
    """Rewrites source markers to citation numbers, dropping markers of unknown sources."""

    def __init__(self, n_sources: int) -> None:
        self.n_sources = n_sources
        self.order: list[int] = []  # 1-based source numbers, in citation order
        self.dropped: list[int] = []
        self._held = ""

    def feed(self, piece: str) -> str:
        """Take the next piece of model text; return what can be shown so far."""
        text = self._held + piece
        match = _PENDING.search(text)
        cut = match.start() if match else len(text)
        self._held = text[cut:]
        return JUNK_MARKER.sub("", _MARKER.sub(self._replace, text[:cut]))

    def finish(self) -> str:
        """Flush what is held back at the end of the stream."""
        text, self._held = self._held, ""
        return JUNK_MARKER.sub("", _MARKER.sub(self._replace, text))

    def rewrite(self, text: str) -> str:
        """Rewrite a whole text at once."""
        return self.feed(text) + self.finish()

    def _replace(self, match: re.Match[str]) -> str:
        numbers: list[str] = []
        for raw in re.split(r"[,;]", match.group(2)):
            source = int(raw)
            if not 1 <= source <= self.n_sources:
                self.dropped.append(source)
                continue
            if source not in self.order:
                self.order.append(source)
            marker = f"[{self.order.index(source) + 1}]"
            if marker not in numbers:
                numbers.append(marker)
        return match.group(1) + "".join(numbers) if numbers else ""


def quote_citation(n: int, context: Context, start: int, end: int, score: float) -> Citation:
    """A citation quoting the file span [start:end] of a retrieved chunk."""
    local_start, local_end = start - context.start, end - context.start
    return Citation(
        n=n,
        source_file=context.source_file,
        quote=context.text[local_start:local_end],
        start=start,
        end=end,
        chunk_id=context.chunk_id,
        score=round(score, 4),
        date=context.date,
        title=context.title,
    )


# One {"text": ..., "sources": [...]} item of a structured answer, for JSON that was cut short.
_ITEM = re.compile(r'\{\s*"text"\s*:\s*("(?:[^"\\]|\\.)*")\s*,\s*"sources"\s*:\s*\[([\d,\s]*)\]')


def draft_from_json(text: str) -> str | None:
    """A structured answer as marker text ("sentence [1][2]. ..."); None if `text` is not one.

    JSON cut short (a size or time limit) keeps its complete sentences.
    """
    try:
        data = json.loads(text, strict=False)  # raw line breaks inside strings are common
        if data.get("refused") and not data.get("sentences"):
            return REFUSAL
        items = [(str(item["text"]), list(item.get("sources", []))) for item in data["sentences"]]
    except (ValueError, TypeError, KeyError, AttributeError):
        if not text.lstrip().startswith("{"):
            return None
        items = [(json.loads(t, strict=False), s.split(",")) for t, s in _ITEM.findall(text)]
    parts = []
    for sentence, sources in items:
        numbers = [int(n) for n in sources if str(n).strip().lstrip("-").isdigit()]
        parts.append(sentence.strip() + "".join(f" [{n}]" for n in numbers))
    return " ".join(parts)
