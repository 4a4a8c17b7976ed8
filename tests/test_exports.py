"""The public import surface is complete and sorted."""

import rag


def test_all_is_complete_and_sorted() -> None:
    public = {name for name in dir(rag) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(rag, name)).__name__ == "module"}
    assert set(rag.__all__) == public - modules
    assert rag.__all__ == sorted(rag.__all__)


def test_what_public_methods_return_is_exported() -> None:
    returned = {
        "Answer",
        "Citation",
        "Conflict",
        "ConflictSide",
        "Context",
        "CorpusInfo",
        "IndexedFile",
    }
    assert returned <= set(rag.__all__)
    for name in rag.__all__:
        assert getattr(rag, name).__module__.startswith("rag.")
