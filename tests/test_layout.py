"""The layout: packages import one way (rag ← index ← evals ← api ← cli; ui and devtools beside
api; devtools ← bench ← fit), `rag`'s layers import one way (text ← providers ← store ←
retrieval ← trust ← answering ← pipeline), `rag` exports what its public methods return, and
importing the library changes no
process-wide state."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "index", "cli", "evals", "ui", "devtools", "bench", "fit", "api")
# What each package may import of the others; anything not listed is a violation.
ALLOWED = {
    "rag": set(),
    "index": {"rag"},
    "evals": {"rag", "index"},
    "cli": {"rag", "index", "evals", "api"},
    "ui": {"rag", "index", "evals"},
    "devtools": {"rag", "index", "evals"},  # harnesses tests and benchmarks share
    "bench": {"rag", "index", "evals", "devtools"},
    "fit": {"rag", "index", "evals", "bench"},  # refits rag/assets from a bench
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


# rag's layers, lowest first. A module may import its own layer and the ones below it; the
# contract modules (settings, errors, types, prompts, filters, checks, history) may be imported
# from any layer and themselves import only the contract and `text`.
LAYERS = ("text", "providers", "store", "retrieval", "trust", "answering", "root")
CONTRACT = {"config", "errors", "types", "prompts", "filters", "checks", "history"}
ROOT_MODULES = {"__init__", "pipeline", "facade"}


def layer_of(module: str) -> str:
    """The layer of a `rag` module given by dotted name (`rag.store.chroma` → `store`)."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ROOT_MODULES:
        return "root"
    if parts[1] in CONTRACT:
        return "contract"
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: not in a layer; put it in one of {LAYERS[:-1]}")
    return parts[1]


def _rag_imports(path: Path) -> set[str]:
    """The `rag` modules (dotted names) that the module at `path` imports, at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "rag"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] == "rag":
                found.add(node.module)
    return found


def module_graph() -> dict[str, set[str]]:
    """Each `rag` module (dotted name) and the `rag` modules it imports; data folders left out."""
    graph = {}
    for path in (ROOT / "rag").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "assets" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {m for m in _rag_imports(path) if not m.startswith("rag.assets")} - {name}
    return graph


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import that goes up the layers, or from the contract into a layer above `text`."""
    wrong = []
    for source, targets in sorted(graph.items()):
        here = layer_of(source)
        for target in sorted(targets):
            there = layer_of(target)
            if here == "contract":
                ok = there in ("contract", "text")
            elif there == "contract":
                ok = True
            else:
                ok = LAYERS.index(there) <= LAYERS.index(here)
            if not ok:
                wrong.append(f"{source} ({here}) imports {target} ({there})")
    return wrong


def test_rag_layers_import_only_downward() -> None:
    assert not layer_violations(module_graph())


def test_the_layer_checker_sees_an_upward_import() -> None:
    graph = {
        "rag.text.tokens": {"rag.store.chroma"},
        "rag.errors": {"rag.providers.llm"},
        "rag.store.chroma": {"rag.errors", "rag.text.tokens"},
    }
    assert layer_violations(graph) == [
        "rag.errors (contract) imports rag.providers.llm (providers)",
        "rag.text.tokens (text) imports rag.store.chroma (store)",
    ]


def test_the_rag_module_graph_is_acyclic() -> None:
    graph = module_graph()
    done: set[str] = set()

    def visit(node: str, trail: list[str]) -> None:
        assert node not in trail, f"import cycle: {' -> '.join([*trail, node])}"
        if node in done:
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        done.add(node)

    for module in sorted(graph):
        visit(module, [])


def test_rags_top_level_holds_the_contract_and_the_root_only() -> None:
    top = {path.stem for path in (ROOT / "rag").glob("*.py")}
    assert top == CONTRACT | ROOT_MODULES
    folders = {p.name for p in (ROOT / "rag").iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(LAYERS[:-1]) | {"assets"}


def test_the_indexer_writes_the_store_through_its_api() -> None:
    import rag.store

    used = set()
    for path in (ROOT / "index").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("rag.store"):
                assert node.module == "rag.store", f"{path.name}: import from rag.store"
                used |= {alias.name for alias in node.names}
    assert used <= set(rag.store.__all__)
    assert rag.store.__all__ == sorted(rag.store.__all__)
    assert all(getattr(rag.store, name) is not None for name in rag.store.__all__)


def test_importing_the_library_changes_no_process_state() -> None:
    code = (
        "import os, sys\n"
        "before = dict(os.environ)\n"
        "import nltk\n"
        "paths = list(nltk.data.path)\n"
        "import rag, rag.text.sentences, rag.text.tokens\n"
        "rag.text.tokens.count_tokens('a b c'); rag.text.sentences.sentence_spans('One. Two.')\n"
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
