"""The BM25 side follows the store by its generation stamp and is saved for the next process."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chromadb.api.models.Collection import Collection

from index import build_index
from rag import Filters, Pipeline, Settings
from rag.store.chroma import open_client, read_all, read_generation, state_name, write_generation
from rag.store.lexical import LexicalIndex


def _saved(settings: Settings) -> list[Path]:
    return [p for d in settings.bm25_dir.iterdir() for p in d.iterdir()]


def _sources(pipeline: Pipeline) -> set[str]:
    snapshot = pipeline.retriever.lexical.current()
    assert snapshot is not None
    return {str(name) for name in snapshot.sources}


def _chunk_ids(pipeline: Pipeline) -> set[str]:
    return {i for got in read_all(pipeline.store, include=[]) for i in got["ids"]}


def _state(pipeline: Pipeline) -> Collection:
    state = pipeline.retriever.lexical._state  # noqa: SLF001
    assert state is not None
    return state


def _add_zorblatt(corpus: Path) -> None:
    (corpus / "new.txt").write_text("Zorblatt the lighthouse keeper retired in May.\n")


@pytest.fixture
def indexed(corpus_copy: tuple[Path, Settings]) -> tuple[Path, Settings, Pipeline]:
    """The sample corpus indexed into its own store, and a pipeline open on it."""
    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)
    return corpus, settings, Pipeline.from_settings(settings)


def test_index_runs_stamp_the_store_and_save_one_bm25_index(
    indexed: tuple[Path, Settings, Pipeline],
) -> None:
    corpus, settings, pipeline = indexed
    state = _state(pipeline)
    stamp, complete = read_generation(state) or ("", False)
    assert complete and [p.name for p in _saved(settings)] == [stamp]

    build_index(corpus, settings, progress=False)  # nothing changed: same stamp, same index
    assert read_generation(state) == (stamp, True)

    _add_zorblatt(corpus)
    build_index(corpus, settings, progress=False)
    newer, complete = read_generation(state) or ("", False)
    assert complete and newer != stamp
    assert [p.name for p in _saved(settings)] == [newer]  # the older index was dropped


def test_a_new_process_loads_the_saved_index_instead_of_building_one(
    corpus_copy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)

    def refuse(self: LexicalIndex, stamp: str | None) -> None:
        raise AssertionError("built instead of loaded")

    monkeypatch.setattr(LexicalIndex, "_build", refuse)
    pipeline = Pipeline.from_settings(settings)
    snapshot = pipeline.retriever.lexical.current()
    assert snapshot is not None
    assert set(snapshot.ids) == _chunk_ids(pipeline)
    hits = pipeline.retrieve("Where was Melania Trump born?")
    assert hits[0].source_file == "000_e5097b3054c473ee.txt"


@pytest.mark.slow  # an index run in a subprocess
def test_another_processes_index_run_reaches_a_running_pipeline(
    indexed: tuple[Path, Settings, Pipeline],
) -> None:
    corpus, settings, pipeline = indexed
    assert "new.txt" not in _sources(pipeline)

    _add_zorblatt(corpus)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_"))}
    env["RAG_CHROMA_PATH"] = str(settings.chroma_path)
    done = subprocess.run(
        [sys.executable, "-m", "index", str(corpus), "-q"], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr

    hits = pipeline.retrieve("Who is Zorblatt?")  # reopens the store if it must
    assert hits[0].source_file == "new.txt"
    assert "new.txt" in _sources(pipeline)


def test_while_a_run_writes_the_previous_index_keeps_answering(
    indexed: tuple[Path, Settings, Pipeline],
) -> None:
    corpus, settings, pipeline = indexed
    lexical = pipeline.retriever.lexical
    state = _state(pipeline)
    before = lexical.current()

    write_generation(state, complete=False)  # a run started writing (or was killed)
    assert lexical.current() is before

    build_index(corpus, settings, progress=False)  # nothing to write, but it finishes the stamp
    found = read_generation(state)
    assert found is not None and found[1]
    after = lexical.current()
    assert after is not None and after is not before


def test_a_damaged_saved_index_is_rebuilt_from_the_store(
    corpus_copy: tuple[Path, Settings], caplog: pytest.LogCaptureFixture
) -> None:
    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)
    (folder,) = _saved(settings)
    (folder / "params.index.json").write_text("{not json")

    with caplog.at_level(logging.WARNING, logger="rag.store.lexical"):
        pipeline = Pipeline.from_settings(settings)
        assert _sources(pipeline) == {p.name for p in corpus.iterdir()}
    assert "rebuilding it" in caplog.text

    caplog.clear()  # and the rebuilt index was saved in its place: the next process loads it
    with caplog.at_level(logging.WARNING, logger="rag.store.lexical"):
        assert _sources(Pipeline.from_settings(settings)) == {p.name for p in corpus.iterdir()}
    assert caplog.text == "" and [p.name for p in _saved(settings)] == [folder.name]


def test_a_store_without_a_stamp_follows_the_chunk_count(
    corpus_copy: tuple[Path, Settings],
) -> None:
    corpus, settings = corpus_copy
    report = build_index(corpus, settings, progress=False)
    open_client(settings, create=False).delete_collection(state_name(report.collection))

    pipeline = Pipeline.from_settings(settings)  # as written before stamps existed
    stamp, complete = pipeline.retriever.lexical.stamp()
    assert stamp == f"count:{report.chunks_total}" and complete
    assert _sources(pipeline) == {p.name for p in corpus.iterdir()}
    assert pipeline.retrieve("Where was Melania Trump born?")


def test_a_broad_filter_keeps_chunks_newer_than_the_snapshot(
    indexed: tuple[Path, Settings, Pipeline],
) -> None:
    corpus, settings, pipeline = indexed
    snapshot = pipeline.retriever.lexical.current()
    assert snapshot is not None

    _add_zorblatt(corpus)
    build_index(corpus, settings, progress=False)
    write_generation(
        _state(pipeline), complete=False
    )  # as if another run were writing: keep the snapshot
    assert pipeline.retriever.lexical.current() is snapshot

    filters = Filters(sources=["new.txt", "000_e5097b3054c473ee.txt"])  # passes ~1/4 of it
    hits = pipeline.retrieve("Who is Zorblatt?", filters=filters)
    assert hits[0].source_file == "new.txt"  # found by the dense side, filtered by lookup
    assert {h.source_file for h in hits} <= set(filters.sources)


def test_corpus_listing_is_kept_until_the_stamp_changes(
    indexed: tuple[Path, Settings, Pipeline],
) -> None:
    corpus, settings, pipeline = indexed
    first = pipeline.corpus()
    assert pipeline.corpus() is first  # no second read of every chunk's metadata

    _add_zorblatt(corpus)
    build_index(corpus, settings, progress=False)
    after = pipeline.corpus()
    assert "new.txt" in {f.source_file for f in after.files}
    assert after.chunks == first.chunks + 1


def test_corpus_listing_from_the_snapshot_equals_the_stores(
    indexed: tuple[Path, Settings, Pipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, settings, pipeline = indexed
    assert pipeline.retriever.lexical.records() is not None
    from_snapshot = pipeline.corpus()

    fresh = Pipeline.from_settings(settings)
    monkeypatch.setattr(fresh.retriever.lexical, "records", lambda: None)
    from_store = fresh.corpus()
    assert from_snapshot == from_store
    assert any(f.date for f in from_store.files) and all(f.title for f in from_store.files)
    assert from_store.last_indexed is not None

    write_generation(_state(pipeline), complete=False)  # a run is writing: read the store
    assert pipeline.retriever.lexical.records() is None
