"""Test sets in the ecosystem's formats, read as suites; results written as JUnit XML.

- **RAGAS-style testsets** as JSON (a list of rows, or `{"samples": [...]}`), JSONL or CSV.
  A row's question is `user_input` or `question`; its ground truth `reference`,
  `ground_truth` or `ground_truths` (a list); its optional reference contexts
  `reference_contexts` (or `contexts`, as RAGAS 0.1's generator wrote them). The articles are
  a folder the caller names (`rag eval --corpus`), else `articles/` beside the file, else
  `RAG_CORPUS_DIR`. A reference context found in one of the folder's files (spacing aside)
  makes that file an expected source, so retrieval and citation metrics apply.
- **SQuAD-format JSON** (`{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}`, v1.1 or
  v2.0 with `is_impossible`). Without a corpus folder its articles are written out as text
  files (one per title) under `.rag/evals/imported/`, so the suite is self-contained.

CSV cells holding lists may be JSON (`["a", "b"]`) or Python literals, as pandas writes them.
"""

from __future__ import annotations

import ast
import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from pydantic import ValidationError

from evals.suite import Case, Suite, SuiteError
from rag.config import Settings
from rag.store.corpus import TEXT_SUFFIXES, read_text

FOREIGN_SUFFIXES = (".json", ".jsonl", ".csv")
IMPORTED = Path(".rag/evals/imported")
MAX_BYTES = 200_000_000  # a testset file larger than this is refused before it is read
MAX_CASES = 100_000
QUESTION_KEYS = ("user_input", "question")
REFERENCE_KEYS = ("reference", "ground_truth", "ground_truths", "answers")
CONTEXT_KEYS = ("reference_contexts", "contexts")
_SLUG = re.compile(r"[^A-Za-z0-9]+")


def is_foreign(path: Path) -> bool:
    """Whether `path` is a testset file this module reads (not a YAML suite or a bench
    folder's `questions.jsonl`)."""
    if path.suffix.lower() not in FOREIGN_SUFFIXES or not path.is_file():
        return False
    return not (path.name == "questions.jsonl" and (path.parent / "articles").is_dir())


def load_foreign(path: Path, corpus: Path | None = None) -> Suite:
    """Read a RAGAS-style testset or a SQuAD-format file as a `Suite`.

    Raises:
        SuiteError: the file is unreadable or a row lacks what a case needs (the message
            names the file, row and field).
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SuiteError(f"{path}: {size / 1e6:.0f} MB; testsets up to {MAX_BYTES / 1e6:.0f} MB.")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = _json(path, text)
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            return _squad(path, data["data"], corpus)
        rows = data.get("samples") if isinstance(data, dict) else data
        if not isinstance(rows, list):
            raise SuiteError(
                f"{path}: expected a list of testset rows, {{'samples': [...]}} or SQuAD's "
                "{'data': [...]}."
            )
    elif suffix == ".jsonl":
        rows = [_json(path, line, n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    return _ragas(path, rows, _corpus(path, corpus))


def _json(path: Path, text: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f", line {line}" if line else ""
        raise SuiteError(f"{path}{where}: not valid JSON: {exc}") from None


def _corpus(path: Path, corpus: Path | None) -> Path:
    if corpus is not None:
        return corpus.resolve()
    beside = path.parent / "articles"
    return (beside if beside.is_dir() else Settings.load().corpus_dir).resolve()


def _ragas(path: Path, rows: list[Any], corpus: Path) -> Suite:
    if not rows:
        raise SuiteError(f"{path}: no rows.")
    if len(rows) > MAX_CASES:
        raise SuiteError(f"{path}: {len(rows):,} rows; at most {MAX_CASES:,}.")
    texts = _corpus_texts(corpus)
    cases = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise SuiteError(f"{path}, row {n}: a row is an object with a question.")
        question = _first(row, QUESTION_KEYS)
        if not isinstance(question, str) or not question.strip():
            raise SuiteError(f"{path}, row {n}: no question ('user_input' or 'question').")
        references = _strings(path, n, _first(row, REFERENCE_KEYS))
        contexts = _strings(path, n, _first(row, CONTEXT_KEYS))
        tags = [str(row[k]) for k in ("synthesizer_name", "evolution_type") if row.get(k)]
        case = {
            "id": str(row.get("id") or f"row-{n}"),
            "question": question,
            "reference": references,
            "expected_sources": _sources_of(contexts, texts),
            "tags": tags,
        }
        cases.append(_case(path, n, case))
    return _suite(path, corpus, cases)


def _first(row: dict[str, Any], keys: Iterable[str]) -> Any:
    return next((row[k] for k in keys if row.get(k) not in (None, "")), None)


def _strings(path: Path, n: int, value: Any) -> list[str]:
    """A cell as a list of strings: a list, a JSON or Python list in a string, or one string."""
    if value is None:
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            try:
                value = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                message = f"{path}, row {n}: a list cell is not readable: {value[:60]!r}"
                raise SuiteError(message) from None
    if isinstance(value, dict) and "text" in value:  # SQuAD-style {"text": [...]}
        value = value["text"]
    items = value if isinstance(value, list) else [value]
    return [str(v["text"] if isinstance(v, dict) and "text" in v else v) for v in items if v]


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _corpus_texts(corpus: Path) -> dict[str, str]:
    """The plain-text articles directly in `corpus` (what suite sources can name), squashed."""
    if not corpus.is_dir():
        raise SuiteError(
            f"Corpus folder {corpus} does not exist; pass --corpus, put the articles in an "
            "'articles' folder beside the testset, or set RAG_CORPUS_DIR."
        )
    return {
        p.name: _squash(read_text(p))
        for p in sorted(corpus.iterdir())
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES
    }


def _sources_of(contexts: list[str], texts: dict[str, str]) -> list[str]:
    """The files each reference context is found in (spacing and case aside)."""
    found: list[str] = []
    for context in contexts:
        needle = _squash(context)
        for name, text in texts.items():
            if needle and needle in text and name not in found:
                found.append(name)
    return found


def _squad(path: Path, articles: list[Any], corpus: Path | None) -> Suite:
    if corpus is None:
        folder = _write_articles(path, articles)
        texts = {}
    else:
        folder = corpus.resolve()
        texts = _corpus_texts(folder)
    cases: list[Case] = []
    for a, article in enumerate(articles):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            raise SuiteError(f"{path}: data[{a}] has no 'paragraphs' list (SQuAD format).")
        name = _article_name(a, article)
        for p, paragraph in enumerate(article["paragraphs"]):
            if not isinstance(paragraph, dict):
                raise SuiteError(f"{path}: data[{a}].paragraphs[{p}] is not an object.")
            context = str(paragraph.get("context", ""))
            sources = [name] if corpus is None else _sources_of([context], texts)
            for q, qa in enumerate(paragraph.get("qas") or []):
                where = f"data[{a}].paragraphs[{p}].qas[{q}]"
                if not isinstance(qa, dict):
                    raise SuiteError(f"{path}: {where} is not an object.")
                impossible = bool(qa.get("is_impossible"))
                answers = list(dict.fromkeys(_strings(path, q + 1, qa.get("answers"))))
                case = {
                    "id": str(qa.get("id") or f"{a}-{p}-{q}"),
                    "question": qa.get("question"),
                    "expected_sources": [] if impossible else sources,
                    "reference": [] if impossible else answers,
                    "unanswerable": impossible,
                    "tags": [str(article.get("title") or name)],
                }
                cases.append(_case(path, len(cases) + 1, case, where))
    return _suite(path, folder, cases)


def _article_name(index: int, article: dict[str, Any]) -> str:
    slug = _SLUG.sub("_", str(article.get("title") or "article")).strip("_")[:60]
    return f"{index:04d}_{slug or 'article'}.txt"


def _write_articles(path: Path, articles: list[Any]) -> Path:
    """Each SQuAD article as a text file (title, then its paragraphs), in a folder named after
    the file's content: the same file always gives the same folder."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    folder = (IMPORTED / f"{_SLUG.sub('_', path.stem)}-{digest}").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for a, article in enumerate(articles):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs"), list):
            continue  # reported with its position when the cases are read
        paragraphs = [
            str(p.get("context", "")) for p in article["paragraphs"] if isinstance(p, dict)
        ]
        text = "\n\n".join([str(article.get("title") or ""), *paragraphs]).strip() + "\n"
        target = folder / _article_name(a, article)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return folder


def _case(path: Path, n: int, fields: dict[str, Any], where: str | None = None) -> Case:
    try:
        return Case.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SuiteError(f"{path}, {where or f'row {n}'}: {problems}") from None


def _suite(path: Path, corpus: Path, cases: list[Case]) -> Suite:
    if not cases:
        raise SuiteError(f"{path}: no questions.")
    if len(cases) > MAX_CASES:
        raise SuiteError(f"{path}: {len(cases):,} questions; at most {MAX_CASES:,}.")
    twice = [i for i, count in Counter(case.id for case in cases).items() if count > 1]
    if twice:
        raise SuiteError(f"{path}: ids {twice[:5]} are used more than once; ids must be unique.")
    return Suite(name=path.stem, corpus=corpus, cases=tuple(cases), source=str(path))


def write_junit(path: Path, suite_name: str, rows: list[dict[str, Any]]) -> None:
    """The run's case results as JUnit XML (one testcase per case and repeat), for CI."""
    cases = []
    failures = errors = 0
    total = 0.0
    for row in rows:
        name = row["case_id"] + (f" (repeat {row['repeat'] + 1})" if row.get("repeat") else "")
        seconds = float(row.get("latency_s") or 0.0)
        total += seconds
        case = ET.Element("testcase", classname=suite_name, name=name, time=f"{seconds:.3f}")
        if row.get("status") != "ok":
            errors += 1
            ET.SubElement(case, "error", message=str(row.get("error", row.get("status"))))
        elif row.get("scores", {}).get("passed") != 1.0:
            failures += 1
            failure = ET.SubElement(case, "failure", message=_why(row))
            failure.text = f"Q: {row.get('question', '')}\nA: {row.get('answer', '')}"
        cases.append(case)
    root = ET.Element(
        "testsuite",
        name=suite_name,
        tests=str(len(rows)),
        failures=str(failures),
        errors=str(errors),
        time=f"{total:.3f}",
    )
    root.extend(cases)
    ET.indent(root)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _why(row: dict[str, Any]) -> str:
    scores = row.get("scores", {})
    reasons = []
    if row.get("missing_facts"):
        reasons.append("missing facts: " + "; ".join(row["missing_facts"]))
    if scores.get("citation_recall") == 0:
        reasons.append("no expected source cited")
    if scores.get("citation_validity") not in (None, 1.0):
        reasons.append("a citation is not in its source")
    if row.get("refused") and not reasons:
        reasons.append("refused an answerable question")
    return "; ".join(reasons) or "answered an unanswerable question"
