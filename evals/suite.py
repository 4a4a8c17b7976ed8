"""Eval suites: a YAML file of cases, or a SQuAD-style bench folder, validated on load."""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rag.config import Settings
from rag.errors import BadInputError, ConfigError
from rag.filters import Filters


class SuiteError(BadInputError):
    """A suite file that cannot be run; the message names the case, line and field."""


class Fact(BaseModel):
    """A string the answer must contain (case- and spacing-insensitive) or a regex."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str | None = None
    regex: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Fact:
        if (self.text is None) == (self.regex is None):
            raise ValueError("a fact is a string or {regex: '...'}, not both or neither")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"regex {self.regex!r} does not compile: {exc}") from None
        return self

    def found_in(self, text: str) -> bool:
        """Whether `text` states this fact."""
        if self.regex is not None:
            return re.search(self.regex, text, re.IGNORECASE) is not None
        return _squash(self.text or "") in _squash(text)

    def __str__(self) -> str:
        return self.text if self.text is not None else f"/{self.regex}/"


def _squash(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.casefold().split())


class Turn(BaseModel):
    """One earlier message of a follow-up case."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1)


class Case(BaseModel):
    """One question and what a right answer looks like."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    question: str = Field(min_length=1)
    expected_sources: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    reference: tuple[str, ...] = ()
    unanswerable: bool = False
    history: tuple[Turn, ...] = ()
    filters: dict[str, Any] = Field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @field_validator("expected_sources", "reference", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("facts", mode="before")
    @classmethod
    def _facts(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str | dict) else value
        return [{"text": f} if isinstance(f, str) else f for f in items or []]

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Filters.coerce(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.unanswerable and (self.expected_sources or self.facts or self.reference):
            raise ValueError(
                "an unanswerable case has no expected_sources, facts or reference; "
                "drop them or drop 'unanswerable: true'"
            )
        return self


class Suite(BaseModel):
    """A named set of cases over one corpus folder, with settings overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    corpus: Path
    settings: dict[str, Any] = Field(default_factory=dict)
    cases: tuple[Case, ...] = Field(min_length=1)
    source: str = ""  # where the suite was read from

    def fingerprint(self) -> str:
        """A hash of what the suite asks, so a resumed run can refuse a changed suite."""
        body = self.model_dump(mode="json", exclude={"source"})
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def sample(self, limit: int | None, seed: int = 0) -> Suite:
        """At most `limit` cases, drawn at random with `seed`, kept in suite order."""
        if limit is None or limit >= len(self.cases):
            return self
        keep = sorted(random.Random(seed).sample(range(len(self.cases)), limit))
        return self.model_copy(update={"cases": tuple(self.cases[i] for i in keep)})


def load_suite(
    path: str | Path, *, limit: int | None = None, seed: int = 0, corpus: str | Path | None = None
) -> Suite:
    """Read a YAML suite, a SQuAD-style bench folder or a testset in another tool's format
    (`evals.formats`: RAGAS-style JSON/JSONL/CSV, SQuAD JSON); raises `SuiteError` naming the
    problem.

    Args:
        path: a `.yaml`/`.yml` suite, or a folder (or its `questions.jsonl`) holding
            `questions.jsonl` and `articles/` in the shape of `../shared/bench/squad-dev/`.
        limit: keep a random sample of this many cases.
        seed: the sampling seed.
        corpus: the articles a testset in another format asks about (see `evals.formats`).
    """
    from evals.formats import is_foreign, load_foreign  # it imports this module

    path = Path(path)
    if not path.exists():
        raise SuiteError(f"Suite {path} does not exist; pass a .yaml suite or a bench folder.")
    if is_foreign(path):
        suite = load_foreign(path, Path(corpus) if corpus else None)
    elif path.is_dir() or path.suffix == ".jsonl":
        suite = _load_bench(path.parent if path.is_file() else path)
    elif path.suffix in (".yaml", ".yml"):
        suite = _load_yaml(path)
    else:
        raise SuiteError(
            f"{path}: a suite is a .yaml file, a bench folder with questions.jsonl, or a "
            "testset as .json, .jsonl or .csv."
        )
    _check_sources(suite)
    return suite.sample(limit, seed)


def _load_yaml(path: Path) -> Suite:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SuiteError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: the top level must be a mapping with name, corpus and cases.")
    lines = _case_lines(root)
    if isinstance(data.get("cases"), list):
        for i, case in enumerate(data["cases"]):
            if isinstance(case, dict):
                case.setdefault("id", f"case-{i + 1}")
    corpus = data.get("corpus")
    if isinstance(corpus, str):
        data["corpus"] = (path.parent / corpus).resolve()
    try:
        suite = Suite.model_validate({**data, "source": str(path)})
    except ValidationError as exc:
        raise SuiteError(f"{path}: " + _describe(exc, lines)) from None
    _check_settings(path, suite)
    _check_unique_ids(path, suite, lines)
    return suite


def _case_lines(root: yaml.Node | None) -> list[int]:
    """The 1-based line each case starts on, to point errors at it."""
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "cases" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _describe(exc: ValidationError, lines: list[int]) -> str:
    problems = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ".".join(str(part) for part in loc) or "suite"
        if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
            n = loc[1]
            line = f", line {lines[n]}" if n < len(lines) else ""
            field = ".".join(str(part) for part in loc[2:]) or "case"
            where = f"case {n + 1}{line}, {field}"
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


def _check_settings(path: Path, suite: Suite) -> None:
    unknown = sorted(set(suite.settings) - set(Settings.model_fields))
    if unknown:
        known = ", ".join(sorted(Settings.model_fields))
        raise SuiteError(f"{path}: unknown settings {unknown}; known settings: {known}.")
    try:
        Settings.load(**suite.settings)
    except ConfigError as exc:
        raise SuiteError(f"{path}: settings: {exc}") from None


def _check_unique_ids(path: Path, suite: Suite, lines: list[int]) -> None:
    seen: dict[str, int] = {}
    for n, case in enumerate(suite.cases):
        if case.id in seen:
            line = f", line {lines[n]}" if n < len(lines) else ""
            raise SuiteError(
                f"{path}: case {n + 1}{line}: id {case.id!r} is already used by case "
                f"{seen[case.id] + 1}; ids must be unique so runs can resume and compare."
            )
        seen[case.id] = n


def _check_sources(suite: Suite) -> None:
    if not suite.corpus.is_dir():
        raise SuiteError(
            f"{suite.source}: corpus folder {suite.corpus} does not exist; 'corpus' is a path "
            "relative to the suite file."
        )
    present = {p.name for p in suite.corpus.iterdir()}
    for n, case in enumerate(suite.cases, start=1):
        missing = [s for s in case.expected_sources if s not in present]
        if missing:
            raise SuiteError(
                f"{suite.source}: case {n} ({case.id}): expected_sources {missing} are not "
                f"files of {suite.corpus}."
            )


def _load_bench(folder: Path) -> Suite:
    questions = folder / "questions.jsonl"
    articles = folder / "articles"
    if not questions.is_file() or not articles.is_dir():
        raise SuiteError(f"{folder}: a bench folder holds questions.jsonl and articles/.")
    cases = []
    with questions.open(encoding="utf-8") as lines:
        for line_no, line in enumerate(lines, start=1):
            if line.strip():
                cases.append(_bench_case(questions, line_no, line))
    if not cases:
        raise SuiteError(f"{questions}: no questions.")
    return Suite(
        name=folder.name, corpus=articles.resolve(), cases=tuple(cases), source=str(folder)
    )


def _bench_case(path: Path, line_no: int, line: str) -> Case:
    try:
        row = json.loads(line)
        impossible = bool(row.get("is_impossible"))
        return Case(
            id=str(row.get("id") or f"line-{line_no}"),
            question=row["question"],
            expected_sources=() if impossible else (row["gold_source"],),
            reference=() if impossible else tuple(row.get("answers") or ()),
            unanswerable=impossible,
            tags=(str(row["article"]),) if row.get("article") else (),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValidationError) as exc:
        raise SuiteError(f"{path}, line {line_no}: not a bench question: {exc}") from None
