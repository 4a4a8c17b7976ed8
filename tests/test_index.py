"""Indexing the sample corpus into a real Chroma store with the real local embeddings."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import build_index
from rag import BadInputError, Settings
from rag.providers.embeddings import build_embedder
from rag.store.chroma import open_client, open_collection
from rag.store.corpus import read_text


def _chunks(settings: Settings) -> dict[str, dict]:
    client = open_client(settings, create=False)
    got = open_collection(client, settings, build_embedder(settings), create=False).get()
    return {
        i: {"text": d, **m}
        for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
    }


def test_index_is_idempotent(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    first = build_index(corpus, settings, progress=False)
    assert sorted(first.added) == sorted(p.name for p in corpus.glob("*.txt"))
    before = _chunks(settings)
    second = build_index(corpus, settings, progress=False)
    assert (second.added, second.updated, second.removed) == ([], [], [])
    assert len(second.unchanged) == 5 and second.chunks_written == 0
    assert _chunks(settings) == before


def test_changed_file_replaces_and_removed_file_deletes(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)
    changed = corpus / "001_ef341db465d16e61.txt"
    changed.write_text(read_text(changed) + "\n\nA new closing paragraph about the zebra.\n")
    (corpus / "003_1305e3d104303dd2.txt").unlink()
    report = build_index(corpus, settings, progress=False)
    assert report.updated == ["001_ef341db465d16e61.txt"]
    assert report.removed == ["003_1305e3d104303dd2.txt"]
    chunks = _chunks(settings).values()
    assert not [c for c in chunks if c["source_file"] == "003_1305e3d104303dd2.txt"]
    mine = [c for c in chunks if c["source_file"] == "001_ef341db465d16e61.txt"]
    assert len({c["file_hash"] for c in mine}) == 1 and len(mine) == mine[0]["chunk_count"]
    assert any("zebra" in c["text"] for c in mine)


def test_chunk_metadata_matches_the_file(sample_settings: Settings) -> None:
    chunks = list(_chunks(sample_settings).values())
    assert chunks
    for chunk in chunks:
        text = read_text(sample_settings.corpus_dir / chunk["source_file"])
        assert text[chunk["start"] : chunk["end"]] == chunk["text"]
        assert chunk["title"]
        assert not chunk["text"].lstrip().startswith("date ")
    by_file = {c["source_file"]: c for c in chunks}
    assert by_file["000_e5097b3054c473ee.txt"]["date"] == "2025-08-16"
    assert "date" not in by_file["002_d141276db4e5eb8d.txt"]
    assert by_file["002_d141276db4e5eb8d.txt"]["title"] == "Trump gives Putin letter from Melania"


def test_missing_or_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(chroma_path=tmp_path / "chroma")
    with pytest.raises(BadInputError, match="not found"):
        build_index(tmp_path / "nope", settings, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInputError, match=r"No articles in .*\.txt, \.md, \.html"):
        build_index(tmp_path / "empty", settings, progress=False)


def test_empty_file_is_skipped_not_indexed(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    (corpus / "blank.txt").write_text("  \n")
    report = build_index(corpus, settings, progress=False)
    assert report.skipped == {"blank.txt": "no text"}
    assert "blank.txt" not in report.added and len(report.added) == 5
    assert not [c for c in _chunks(settings).values() if c["source_file"] == "blank.txt"]


def test_relative_store_path_follows_the_working_directory(
    corpus_copy: tuple[Path, Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma caches clients by path string; a relative path must not keep the first cwd's."""
    corpus, _ = corpus_copy
    settings = Settings(chroma_path=Path("store"), corpus_dir=corpus)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    build_index(corpus, settings, progress=False)
    monkeypatch.chdir(tmp_path / "b")
    report = build_index(corpus, settings, progress=False)
    assert len(report.added) == 5  # a new, empty store in b, not a's
    assert (tmp_path / "b" / "store").is_dir()


def test_chunk_vector_is_the_weighted_mean_of_its_sentences_and_title(
    sample_settings: Settings,
) -> None:
    """One model pass per distinct sentence: the chunk's vector is composed from them."""
    import numpy as np

    embedder = build_embedder(sample_settings)
    client = open_client(sample_settings, create=False)
    chunks = open_collection(client, sample_settings, embedder, create=False)
    sentences = open_collection(client, sample_settings, embedder, create=False, sentences=True)
    got = chunks.get(include=["embeddings", "metadatas"], limit=3)
    for chunk_id, stored, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
        parts = sentences.get(where={"chunk_id": chunk_id}, include=["documents", "embeddings"])
        texts = [*parts["documents"], meta["title"]]
        vectors = np.vstack([parts["embeddings"], embedder.embed([meta["title"]])])
        weights = np.array([len(t) for t in texts], dtype=np.float32)
        expected = (vectors * weights[:, None]).sum(axis=0)
        expected /= np.linalg.norm(expected)
        assert float(np.dot(expected, stored)) > 0.9999
        # and it still points where the chunk's own text does
        whole = embedder.embed([meta["title"] + "\n" + chunks.get(ids=[chunk_id])["documents"][0]])
        assert float(np.dot(whole[0], stored)) > 0.8


def test_whole_store_reads_are_paged(
    corpus_copy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read of a ~100k-chunk collection fails in Chroma ("too many SQL variables"), so
    every whole-collection read goes in pages; here pages of 4 records."""
    import rag.store.chroma
    from rag import Pipeline
    from rag.store.chroma import read_all

    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)
    everything = _chunks(settings)
    monkeypatch.setattr(rag.store.chroma, "PAGE", 4)
    client = open_client(settings, create=False)
    collection = open_collection(client, settings, build_embedder(settings), create=False)
    paged = [i for got in read_all(collection, ["metadatas"]) for i in got["ids"]]
    assert sorted(paged) == sorted(everything) and len(everything) > 8
    assert len(build_index(corpus, settings, progress=False).unchanged) == 5
    pipeline = Pipeline.from_settings(settings.model_copy(update={"answer_mode": "extractive"}))
    assert pipeline.corpus().chunks == len(everything)
    assert "Slovenia" in pipeline.answer("Where was Melania Trump born?").text


def test_new_files_cost_no_deletes_unless_a_run_was_interrupted(
    corpus_copy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    from chromadb.api.models.Collection import Collection

    from rag.store.chroma import open_stores, write_generation

    deletes: list[object] = []
    real = Collection.delete

    def counted(self: Collection, *args: object, **kwargs: object) -> None:
        deletes.append(kwargs.get("where"))
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Collection, "delete", counted)
    corpus, settings = corpus_copy
    assert len(build_index(corpus, settings, progress=False).added) == 5
    assert deletes == []  # nothing of a new file can be in a store whose last run finished

    (corpus / "006_new.txt").write_text(" date 2025-03-01\nA new file.\n\nIt is about a kite.\n")
    _, _, state = open_stores(
        open_client(settings, create=False), settings, build_embedder(settings)
    )
    assert state is not None
    write_generation(state, complete=False)  # as a killed run leaves it
    report = build_index(corpus, settings, progress=False)
    assert report.added == ["006_new.txt"]
    assert len(deletes) == 6  # its leftovers under its hash, and under any other, per collection
    assert [c["text"] for c in _chunks(settings).values() if c["source_file"] == "006_new.txt"]
