"""What an index run did, for people and programs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IndexReport:
    """What an index run did."""

    folder: str
    collection: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)
    # Per JSON/JSONL file: which of its fields were read as the articles' text and metadata.
    fields: dict[str, str] = field(default_factory=dict)
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    rebuilt: str | None = None  # why the store was built afresh, if it was

    def summary(self) -> str:
        """One line for people."""
        line = (
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged; {self.chunks_written} chunks written, "
            f"{self.chunks_total} in the index; {self.seconds:.1f} s"
        )
        if self.skipped:
            line += f"; {len(self.skipped)} skipped"
        return line

    def notices(self) -> list[str]:
        """One line per skipped file, per warning and per JSON file's fields used (and a
        rebuild's reason), for people."""
        rebuilt = [f"rebuilt the store from the folder: {self.rebuilt}"] if self.rebuilt else []
        return (
            rebuilt
            + [f"skipped {name}: {why}" for name, why in self.skipped.items()]
            + [f"warning {name}: {what}" for name, what in self.warnings.items()]
            + [f"read {name} with {what}" for name, what in self.fields.items()]
        )
