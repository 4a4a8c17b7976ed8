"""The layout: packages import one way (rag ← index ← evals ← api ← cli; ui and bench beside
cli), `rag` exports what its public methods return, and importing the library changes no
process-wide state."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "index", "cli", "evals", "ui", "bench", "api")
# What each package may import of the others; anything not listed is a violation.
ALLOWED = {
    "rag": set(),
    "index": {"rag"},
    "evals": {"rag", "index"},
    "cli": {"rag", "index", "evals", "api"},
    "ui": {"rag", "index", "evals"},
    "bench": {"rag", "index", "evals"},
    "api": {"rag", "index", "evals"},
}


def _imported_packages(path: Path) -> set[str]:
    """Top-level project packages that the module at `path` imports (at any depth)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & set(PACKAGES)
    return found


def package_graph() -> dict[str, set[str]]:
    """Each project package and the other project packages its modules import."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        edges: set[str] = set()
        for path in (ROOT / package).rglob("*.py"):
            edges |= _imported_packages(path)
        graph[package] = edges - {package}
    return graph


def test_packages_import_only_downstream() -> None:
    graph = package_graph()
    wrong = {p: sorted(graph[p] - ALLOWED[p]) for p in PACKAGES if graph[p] - ALLOWED[p]}
    assert not wrong, f"imports against the layout: {wrong}"


def test_the_package_graph_is_acyclic() -> None:
    graph = package_graph()
    visiting: set[str] = set()
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        assert node not in visiting, f"import cycle: {' -> '.join([*trail, node])}"
        if node in done:
            return
        visiting.add(node)
        for nxt in sorted(graph[node]):
            visit(nxt, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for package in PACKAGES:
        visit(package, [])


def test_the_import_checker_sees_a_cycle(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import index.ingest\nfrom cli import app\ndef f():\n    import evals\n")
    assert _imported_packages(module) == {"index", "cli", "evals"}


def test_importing_the_library_changes_no_process_state() -> None:
    code = (
        "import os, sys\n"
        "before = dict(os.environ)\n"
        "import nltk\n"
        "paths = list(nltk.data.path)\n"
        "import rag, rag.text, rag.tokens\n"
        "rag.tokens.count_tokens('a b c'); rag.text.sentence_spans('One. Two.')\n"
        "assert dict(os.environ) == before, set(os.environ) ^ set(before)\n"
        "assert nltk.data.path == paths\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_offline_answering_imports_neither_openai_nor_llama_index(
    sample_settings: rag.Settings,
) -> None:
    code = (
        "import sys\n"
        "from rag import Pipeline, Settings\n"
        f"settings = Settings(chroma_path={str(sample_settings.chroma_path)!r},"
        f" corpus_dir={str(sample_settings.corpus_dir)!r}, answer_mode='extractive')\n"
        "pipeline = Pipeline.from_settings(settings)\n"
        "answer = pipeline.answer('Where did Trump hand Putin the letter?')\n"
        "assert answer.citations\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('openai', 'streamlit',"
        " 'altair', 'vl_convert') or m.startswith('llama_index.core'))\n"
        "assert not heavy, heavy[:5]\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_vendored_encoding_is_tiktokens_cl100k() -> None:
    from rag.tokens import encoding, vendored_data

    code = (
        "import sys, tiktoken\n"
        "e = tiktoken.get_encoding('cl100k_base')\n"
        "print(repr((e._pat_str, sorted(e._special_tokens.items()), e.n_vocab)))\n"
    )
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(vendored_data("tiktoken_cache")))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    ours = encoding()
    mine = (ours._pat_str, sorted(ours._special_tokens.items()), ours.n_vocab)
    assert done.stdout.strip() == repr(mine)


def test_every_package_folder_is_installed() -> None:
    # An editable install finds any folder; a real install ships only the listed packages.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in PACKAGES
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - {"evals.suites", "rag.assets"} <= listed
    assert all((ROOT / name.replace(".", "/")).is_dir() for name in listed)
