"""Request and response bodies of the HTTP API. Answers, citations and the corpus listing are
the library's own types (`rag.types`), so `/docs` describes exactly what `rag` returns."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rag.checks import MAX_TOP_K
from rag.types import Citation, IndexedFile

MODEL_NAME = "rag-news"
MAX_HISTORY = 50


class Turn(BaseModel):
    """An earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class AnswerRequest(BaseModel):
    """A question and the options of `rag ask`."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in plain words.")
    top_k: int | None = Field(default=None, ge=1, le=MAX_TOP_K, description="Sources to use.")
    sources: list[str] = Field(default_factory=list, description="Only these source files.")
    since: dt.date | None = Field(default=None, description="Only articles dated from this day.")
    until: dt.date | None = Field(default=None, description="Only articles dated up to this day.")
    as_of: dt.date | None = Field(default=None, description="Ignore articles dated after this.")
    mode: Literal["auto", "extractive", "openai"] | None = Field(
        default=None, description="Answer mode (default: the server's)."
    )
    history: list[Turn] = Field(
        default_factory=list, max_length=MAX_HISTORY, description="Earlier turns, oldest first."
    )

    def filters(self) -> dict[str, Any]:
        """The retrieval filters, as `Pipeline.answer` takes them."""
        return {"sources": tuple(self.sources), "since": self.since, "until": self.until}


class ArticleText(IndexedFile):
    """An indexed article and the text its citations' offsets index into."""

    text: str


class AddedArticles(BaseModel):
    """What adding articles did: the sources added, the files refused, the index run."""

    added: list[str]
    refused: list[str] = Field(default_factory=list, description="One reason per refused file.")
    summary: str = Field(description="The index run, in one line.")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Saved files the indexer could not read, and why."
    )


class RemovedArticle(BaseModel):
    """An uploaded article removed: its file and its chunks."""

    removed: str
    summary: str


class Health(BaseModel):
    """`/healthz` and `/readyz`."""

    status: Literal["ok", "ready"]
    mode: str | None = None
    articles: int | None = None
    chunks: int | None = None


# --- The OpenAI-compatible chat endpoint ---------------------------------------------------


class TextPart(BaseModel):
    """A text part of a message's content (other parts, e.g. images, are refused)."""

    type: Literal["text"]
    text: str


class ChatMessage(BaseModel):
    """A message as OpenAI's chat API sends it."""

    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[TextPart] | None = None

    def text(self) -> str:
        """The message's text, parts joined."""
        if isinstance(self.content, list):
            return "".join(part.text for part in self.content)
        return self.content or ""


class ChatRequest(BaseModel):
    """`POST /v1/chat/completions`: sampling options (temperature, ...) are accepted and
    ignored: the answer comes from the articles."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(description=f"'{MODEL_NAME}'.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_HISTORY + 10)
    stream: bool = False


class AssistantMessage(BaseModel):
    """The answer, with `[n]` markers and its source list, as message content."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """The one choice of a completion."""

    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop", "length"] = "stop"


class ChatUsage(BaseModel):
    """Tokens the answer's model spent (0 for the offline answerer)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    """A chat completion; `citations` (an extra field) holds the structured sources."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    citations: list[Citation] = Field(
        default_factory=list, description="The sources the [n] markers name, with quotes."
    )
    refused: bool = Field(default=False, description="No article answers the question.")


class ModelCard(BaseModel):
    """A model the endpoint serves."""

    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "rag-news"


class ModelList(BaseModel):
    """`GET /v1/models`."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
