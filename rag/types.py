"""The result objects scripts, the CLI and the UI consume; all JSON-serialisable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Context(BaseModel):
    """One retrieved chunk: `text` is the text indexed (and answered from), which equals the
    source's text at [start:end] unless the file changed since the index run (`stale`)."""

    model_config = ConfigDict(frozen=True)

    chunk_id: str
    source_file: str
    title: str
    date: dt.date | None
    text: str
    start: int
    end: int
    position: int
    score: float
    support: float | None = None  # best sentence's support for the question, once reranked
    # The file changed since it was indexed: `text` and the offsets are the indexed version's.
    stale: bool = False


class Copy(BaseModel):
    """Another copy of a cited story: the same article syndicated by another outlet, or
    another version of it (grouped at index time as near-duplicates)."""

    model_config = ConfigDict(frozen=True)

    source_file: str
    outlet: str = ""
    date: dt.date | None = None
    title: str = ""
    url: str = ""
    # False: the cited quote is not in this copy (its text differs there: one corrects the
    # other, the newer date is the correction).
    has_quote: bool = True


class Citation(BaseModel):
    """A numbered source of the answer: `quote` equals the source file's text at [start:end]."""

    model_config = ConfigDict(frozen=True)

    n: int
    source_file: str
    quote: str
    start: int
    end: int
    chunk_id: str
    score: float
    date: dt.date | None
    title: str = ""
    # The phrase answering the question inside the quote, as file offsets within [start, end].
    answer_span: tuple[int, int] | None = None
    answers: bool = True  # False for the closest passages of a refusal: shown, not an answer
    # The file changed since it was indexed and the quote is no longer in it: the offsets
    # name the indexed version. (A quote still in the file is re-located instead.)
    stale: bool = False
    page: int | None = None  # the PDF page the quote starts on
    author: str = ""
    outlet: str = ""
    url: str = ""  # where the article was published (a page's, feed entry's or JSON's URL)
    # The story's other copies ("also published by ..."): answers cite one copy per story.
    also: list[Copy] = Field(default_factory=list)
    # The article was corrected: a new version (same file, URL or feed guid) replaced an older
    # one on this day, or the cited copy corrects an older copy of the story (its date).
    updated: dt.date | None = None
    # The citation quotes an old version of the article, replaced on this day (its text is
    # kept, so quote and offsets still resolve against the version quoted).
    superseded: dt.date | None = None


class Usage(BaseModel):
    """Tokens spent where an LLM ran."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = None  # estimate from list prices; None for unknown models


class Verification(BaseModel):
    """What citation verification found in the draft answer."""

    checked: int = 0  # citations the draft carried (valid source numbers)
    supported: int = 0  # of those, how many supported their sentence
    reattributed: int = 0  # sentences whose citation was moved to a supporting source
    dropped: int = 0  # citations removed as unsupported (checked == supported + dropped)
    sentences: int = 0  # sentences of the draft (== kept + reattributed + unsupported)
    kept: int = 0  # sentences that kept at least one of their own citations
    unsupported: int = 0  # sentences left with no supporting source
    invalid_markers: int = 0  # markers naming no source ([0], [99], [-1], [1a]): removed


class ConflictSide(BaseModel):
    """One side of a disagreement: the value a source gives, where and when."""

    value: str  # "1066", "Alaska", or for a negation conflict "yes" / "no"
    citation: int  # the `Citation.n` that states it
    source_file: str
    date: dt.date | None


class Conflict(BaseModel):
    """Sources that disagree about one fact: the disputed slot and each side, newest first."""

    kind: Literal["value", "negation"]
    slot: str  # what is disputed: the shared statement with the value left out, or the question
    sides: list[ConflictSide]  # one per citation stating a side (a value can have several)
    # One sentence, built from the sources and carrying their [n] markers, that says what the
    # disagreement is ("" until `rag.conflicts.reconciled` has looked for every side's support).
    summary: str = ""

    def articles(self, value: str) -> list[str]:
        """The distinct articles that state `value`, in side order."""
        return list(dict.fromkeys(s.source_file for s in self.sides if s.value == value))

    @property
    def values(self) -> list[str]:
        """The values the sides give, each once, in side order."""
        return list(dict.fromkeys(side.value for side in self.sides))

    @property
    def citations(self) -> list[int]:
        """The citation numbers of every side."""
        return [side.citation for side in self.sides]


class IndexedFile(BaseModel):
    """One article as the index holds it."""

    source_file: str
    title: str
    date: dt.date | None
    chunks: int
    indexed_at: dt.datetime | None
    author: str = ""
    outlet: str = ""
    url: str = ""
    language: str = ""


class CorpusInfo(BaseModel):
    """What the index holds."""

    files: list[IndexedFile]
    chunks: int
    last_indexed: dt.datetime | None


class Answer(BaseModel):
    """An answer whose `text` carries `[n]` markers, each resolving to one of `citations`."""

    question: str
    text: str
    citations: list[Citation] = Field(default_factory=list)
    contexts: list[Context] = Field(default_factory=list)
    mode: Literal["extractive", "openai"]
    refused: bool = False
    incomplete: bool = False  # the draft was cut short: only what arrived is shown
    incomplete_reason: str | None = None  # why: a time, size or token limit, or the provider
    unsupported: list[str] = Field(default_factory=list)  # sentences no source supports
    conflicts: list[Conflict] = Field(default_factory=list)  # sources that disagree, per fact
    # A refusal's nearest passages (`answers=False`): shown to the reader, never an answer.
    closest: list[Citation] = Field(default_factory=list)
    answerability: float | None = None  # P(answerable) from the calibrated model (offline)
    verification: Verification | None = None
    rewritten_question: str | None = None
    # The form of answer the question asks for: fact, yesno, list, summary or timeline.
    shape: Literal["fact", "yesno", "list", "summary", "timeline"] | None = None
    # How well the quoted text answers the question, in words (offline answers): "answers"
    # (calibrated answerability high) or "related" (related text that may not answer).
    confidence: Literal["answers", "related"] | None = None
    model: str | None = None
    timings: dict[str, float] = Field(default_factory=dict)
    usage: Usage | None = None

    def __str__(self) -> str:
        return self.text

    @property
    def confidence_words(self) -> str | None:
        """How well the answer's passages answer the question, in words (offline answers)."""
        if self.refused or self.confidence is None:
            return None
        if self.confidence == "answers":
            return "answers the question"
        return "related, may not answer the question"

    def citation(self, n: int) -> Citation:
        """The citation that marker `[n]` refers to."""
        for citation in self.citations:
            if citation.n == n:
                return citation
        raise KeyError(n)


# What `stream_answer` returns: the answer's text in pieces, then the finished `Answer`.
Stream = Iterator["str | Answer"]
