"""The public import surface is complete and sorted.

`dir(rag)` is `__all__`, so it cannot be the reference: these tests compare `__all__` with what
the package lazily maps (`_HOMES`), with what it declares for type checkers, and with the errors
and result types its modules define.
"""

import ast
import importlib
import inspect
from pathlib import Path

import rag
import rag.errors
import rag.types

INIT = Path(rag.__file__)


def _type_checking_imports() -> dict[str, str]:
    """Each name `rag/__init__.py` imports under `if TYPE_CHECKING:`, and its module."""
    names = {}
    for node in ast.parse(INIT.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imported in node.body:
                assert isinstance(imported, ast.ImportFrom) and imported.module
                names |= {alias.name: imported.module for alias in imported.names}
    return names


def _defined_in(module: object, kind: type) -> set[str]:
    """The public classes defined in `module` (not imported into it) that subclass `kind`."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isclass(value)
        and issubclass(value, kind)
        and value.__module__ == getattr(module, "__name__", None)
    }


def test_all_is_complete_and_sorted() -> None:
    assert set(rag.__all__) == set(rag._HOMES)
    assert set(rag.__all__) == set(_type_checking_imports())
    assert _type_checking_imports() == rag._HOMES
    assert rag.__all__ == sorted(rag.__all__)


def test_every_export_resolves_to_its_definition() -> None:
    for name, home in rag._HOMES.items():
        assert home.startswith("rag.")
        assert getattr(rag, name) is getattr(importlib.import_module(home), name), name


def test_every_error_and_result_type_is_exported() -> None:
    from pydantic import BaseModel

    errors = _defined_in(rag.errors, Exception)
    results = _defined_in(rag.types, BaseModel)
    assert errors and results
    assert errors <= set(rag.__all__), errors - set(rag.__all__)
    assert results <= set(rag.__all__), results - set(rag.__all__)


def test_what_public_methods_return_is_exported() -> None:
    returned = {
        "Answer",
        "Citation",
        "Conflict",
        "ConflictSide",
        "Context",
        "CorpusInfo",
        "IndexedFile",
        "Message",
        "Stream",
        "StoreDamagedError",
    }
    assert returned <= set(rag.__all__)
    for name in rag.__all__:
        assert rag._HOMES[name].startswith("rag.")
