"""Metadata filters (source files, date range), translated for both retrieval sides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from rag.errors import BadInputError


def date_key(value: dt.date) -> int:
    """The integer a date is stored and compared as (Chroma compares numbers only)."""
    return value.year * 10_000 + value.month * 100 + value.day


class Filters(BaseModel):
    """Restrict retrieval to some source files and/or an inclusive date range.

    Articles with no date never match a date range; `as_of` only drops articles dated
    after it (undated ones stay).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    as_of: dt.date | None = None

    @field_validator("sources", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ordered(self) -> Filters:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        return self

    @classmethod
    def coerce(
        cls, value: Filters | dict[str, Any] | None, as_of: dt.date | str | None = None
    ) -> Filters | None:
        """Accept a `Filters`, a plain dict of its fields, or None; `as_of` is merged in."""
        if as_of is not None:
            fields = value.model_dump() if isinstance(value, Filters) else dict(value or {})
            value = {**fields, "as_of": as_of}
        if value is None or isinstance(value, Filters):
            return value
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise BadInputError(
                f"Bad filters ({problems}). Use sources=[file names], since/until=YYYY-MM-DD."
            ) from None

    def is_empty(self) -> bool:
        """Whether the filter lets everything through."""
        return not self.sources and self.since is None and self.until is None and not self.as_of

    def mask(self, sources: np.ndarray, dates: np.ndarray) -> np.ndarray:
        """The same filter over arrays of chunks' source files and date keys: which pass."""
        keep = np.ones(len(sources), dtype=bool)
        if self.sources:
            keep &= np.isin(sources, list(self.sources))
        if self.since or self.until:
            keep &= dates >= (date_key(self.since) if self.since else 1)
        if self.until:
            keep &= dates <= date_key(self.until)
        if self.as_of:
            keep &= dates <= date_key(self.as_of)
        return keep

    def to_chroma_where(self) -> dict[str, Any] | None:
        """The same filter as a Chroma `where` clause."""
        parts: list[dict[str, Any]] = []
        if self.sources:
            parts.append({"source_file": {"$in": list(self.sources)}})
        if self.since or self.until:
            parts.append({"date_int": {"$gte": date_key(self.since) if self.since else 1}})
        if self.until:
            parts.append({"date_int": {"$lte": date_key(self.until)}})
        if self.as_of:
            parts.append({"date_int": {"$lte": date_key(self.as_of)}})
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else {"$and": parts}
