"""The store: everything that knows Chroma, the corpus files and the lexical index.

- `corpus`: article files on disk (reading, parsing, uploads);
- `chroma`: the Chroma client and collections, paged reads, the index generation;
- `integrity`: damage probes, interrupted runs, the rebuild-and-swap of a store folder;
- `articles`: one record per article (title, date, source) beside the chunks;
- `lexical`: the BM25 index kept next to Chroma;
- `catalogue`: what the store holds, as `CorpusInfo` and `IndexedFile`.

`__all__` is the API the indexer (`index/`) writes the store through. Names are imported on
first use, so importing `rag.store.corpus` does not load Chroma.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.store.articles import (
        record_of,
        write_records,
    )
    from rag.store.chroma import (
        describe_location,
        drop_collections,
        forget_client,
        open_client,
        open_collection,
        open_stores,
        read_all,
        read_generation,
        read_metadatas,
        write_generation,
    )
    from rag.store.corpus import (
        SUPPORTED_SUFFIXES,
        UPLOADS_PREFIX,
        Article,
        article_sources,
        load_text,
        parse_article,
        save_upload,
    )
    from rag.store.integrity import (
        REBUILD_HINT,
        SQLITE_FILE,
        finish_interrupted_swap,
        isolated_problem,
        mark_run,
        probe,
        rebuild_folder,
        run_interrupted,
        sqlite_problem,
        swap_in,
    )
    from rag.store.lexical import (
        LexicalIndex,
    )

# Each exported name and the module that defines it.
_HOMES = {
    "Article": "rag.store.corpus",
    "LexicalIndex": "rag.store.lexical",
    "REBUILD_HINT": "rag.store.integrity",
    "SQLITE_FILE": "rag.store.integrity",
    "SUPPORTED_SUFFIXES": "rag.store.corpus",
    "UPLOADS_PREFIX": "rag.store.corpus",
    "article_sources": "rag.store.corpus",
    "describe_location": "rag.store.chroma",
    "drop_collections": "rag.store.chroma",
    "finish_interrupted_swap": "rag.store.integrity",
    "forget_client": "rag.store.chroma",
    "isolated_problem": "rag.store.integrity",
    "load_text": "rag.store.corpus",
    "mark_run": "rag.store.integrity",
    "open_client": "rag.store.chroma",
    "open_collection": "rag.store.chroma",
    "open_stores": "rag.store.chroma",
    "parse_article": "rag.store.corpus",
    "probe": "rag.store.integrity",
    "read_all": "rag.store.chroma",
    "read_generation": "rag.store.chroma",
    "read_metadatas": "rag.store.chroma",
    "rebuild_folder": "rag.store.integrity",
    "record_of": "rag.store.articles",
    "save_upload": "rag.store.corpus",
    "run_interrupted": "rag.store.integrity",
    "sqlite_problem": "rag.store.integrity",
    "swap_in": "rag.store.integrity",
    "write_generation": "rag.store.chroma",
    "write_records": "rag.store.articles",
}

__all__ = [
    "Article",
    "LexicalIndex",
    "REBUILD_HINT",
    "SQLITE_FILE",
    "SUPPORTED_SUFFIXES",
    "UPLOADS_PREFIX",
    "article_sources",
    "describe_location",
    "drop_collections",
    "finish_interrupted_swap",
    "forget_client",
    "isolated_problem",
    "load_text",
    "mark_run",
    "open_client",
    "open_collection",
    "open_stores",
    "parse_article",
    "probe",
    "read_all",
    "read_generation",
    "read_metadatas",
    "rebuild_folder",
    "record_of",
    "run_interrupted",
    "save_upload",
    "sqlite_problem",
    "swap_in",
    "write_generation",
    "write_records",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'rag.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
