"""Every repository path the docs name in backticks exists: a moved or renamed module, test or
data file leaves no stale path behind in README.md, CONTRIBUTING.md or docs/*.md.

A path is the text of a single-backtick code span that starts with one of the repository's
top-level folders and a slash (`rag/answering/ranking.py`, `fit/`, `tests/support.py`); a
trailing slash names a folder. A pytest node id (`tests/test_cite.py::test_name`) names its
file and a test defined in it. Placeholders and patterns (`docs/<topic>.md`, `rag/*.py`,
`tests/...`) are not paths, and neither is what runs write (`build/`, `evals/results/`).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.support import ROOT

# Top-level folders that hold build output or local state, not sources the docs can name.
NOT_SOURCE = {"build", "site", "test-artifacts", "__pycache__"}
# Paths written at run time (reports, results, stores): they need not exist in a checkout.
GENERATED = ("build/", "site/", "test-artifacts/", "evals/results/")
# A single-backtick code span on one line (a double-backtick span is left alone).
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# Text that marks a placeholder, a pattern or an elision rather than a path.
NOT_A_PATH = ("*", "?", "<", ">", "{", "}", "$", " ", "...", "…")
PATH = re.compile(r"(?P<path>[\w.\-]+(?:/[\w.\-]+)*/?)(?:::(?P<node>[\w:]+)(?:\[[^\]]*\])?)?")
FENCE = re.compile(r"^\s*(```|~~~)")


def top_level_folders(root: Path = ROOT) -> frozenset[str]:
    """The repository's top-level folders, without hidden ones, build output and packaging."""
    return frozenset(
        p.name
        for p in root.iterdir()
        if p.is_dir()
        and not p.name.startswith(".")
        and p.name not in NOT_SOURCE
        and not p.name.endswith(".egg-info")
    )


def doc_files(root: Path = ROOT) -> list[Path]:
    """The Markdown files whose paths are checked."""
    return [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").glob("*.md"))]


def backticked_paths(text: str, folders: frozenset[str]) -> list[tuple[int, str]]:
    """(line number, code span) of every backticked repository path in Markdown `text`,
    outside fenced code blocks (where backticks are literal)."""
    found = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for span in CODE_SPAN.findall(line):
            if any(mark in span for mark in NOT_A_PATH) or "/" not in span:
                continue
            match = PATH.fullmatch(span)
            if not match or match["path"].split("/", 1)[0] not in folders:
                continue
            path = match["path"]
            if ".." in path.split("/") or path.startswith(GENERATED):
                continue
            found.append((number, span))
    return found


def exists(span: str, root: Path = ROOT) -> bool:
    """Whether a backticked path (a file, a folder with a trailing slash, or a pytest node id)
    names something in the repository at `root`."""
    match = PATH.fullmatch(span)
    assert match, span
    target = root / match["path"]
    if match["path"].endswith("/"):
        return target.is_dir()
    if not target.exists():
        return False
    if match["node"]:
        source = target.read_text(encoding="utf-8")
        return all(
            re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", source, re.M)
            for name in match["node"].split("::")
        )
    return True


def missing_paths(text: str, folders: frozenset[str], root: Path = ROOT) -> list[tuple[int, str]]:
    """(line number, path) of every backticked repository path in `text` that does not exist."""
    return [(n, span) for n, span in backticked_paths(text, folders) if not exists(span, root)]


def test_every_backticked_path_in_the_docs_exists() -> None:
    folders = top_level_folders()
    missing = [
        f"{doc.relative_to(ROOT)}:{number}: {span}"
        for doc in doc_files()
        for number, span in missing_paths(doc.read_text(encoding="utf-8"), folders)
    ]
    assert not missing, "paths in the docs that do not exist:\n" + "\n".join(missing)


def test_the_folders_are_the_source_folders() -> None:
    folders = top_level_folders()
    assert {"rag", "index", "evals", "fit", "tests", "docs"} <= folders
    assert not folders & {"build", "test-artifacts", ".venv", ".git"}


def test_the_check_finds_a_missing_path_and_only_that() -> None:
    folders = frozenset({"rag", "fit", "tests", "docs", "evals", "build"})
    text = "\n".join(
        [
            "Ranked by `rag/answering/ranking.py` (was `rag/ranking.py`), fitted in `fit/`.",
            "Gone: `fit/nowhere/`, `rag/answering/ranking.py/`, `rag/answering.ranking`.",
            "Node ids: `tests/test_doc_paths.py::test_every_backticked_path_in_the_docs_exists`,",
            "`tests/test_doc_paths.py::test_that_was_renamed[case]`.",
            "Not paths: `docs/<topic>.md`, `rag/*.py`, `tests/...`, `evals/results/api.json`,",
            "`build/answer_pairs.json`, `rag.answer`, `README.md`, `ui/nothing.py`,",
            "`make fit-answerability`, `python -m fit.answer_pairs --out build/x`,",
            "``rag/double_ticks.py``, `rag/../secret`, `/rag/absolute.py`.",
            "```",
            "`rag/in_a_fence.py`",
            "```",
            "`evals/sets/squad_paraphrase.jsonl` and `tests/support.py` exist.",
        ]
    )
    assert missing_paths(text, folders) == [
        (1, "rag/ranking.py"),
        (2, "fit/nowhere/"),
        (2, "rag/answering/ranking.py/"),
        (2, "rag/answering.ranking"),
        (4, "tests/test_doc_paths.py::test_that_was_renamed[case]"),
    ]
