"""Large files are chunked a segment at a time and written in pieces; size limits skip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import index.ingest as ingest
from index import build_index
from index.chunking import chunk_article, iter_chunks, make_splitter
from rag import Settings
from rag.providers.embeddings import build_embedder
from rag.store.chroma import open_client, open_collection
from rag.store.corpus import parse_article, read_text

WORDS = "harbour tallinn ferry cargo crane quay pilot tide berth mooring".split()


def _long_line(words: int) -> str:
    """One line, no punctuation: the shape that used to hold a whole file in memory."""
    return " ".join(WORDS[(i * 7) % len(WORDS)] + str(i % 97) for i in range(words))


class CountingSplitter:
    """The real splitter, counting the texts it is asked to split."""

    def __init__(self) -> None:
        self.calls = 0
        self._real = make_splitter(192, 32)

    def get_nodes_from_documents(self, docs: list[Any]) -> list[Any]:
        self.calls += 1
        return self._real.get_nodes_from_documents(docs)


def test_a_huge_single_line_is_chunked_lazily() -> None:
    article = parse_article("huge.txt", _long_line(400_000))  # ~3.8 MB
    splitter = CountingSplitter()
    chunks = iter_chunks(article, splitter, "d" * 24, 0.0)  # type: ignore[arg-type]
    first = next(chunks)
    assert splitter.calls == 1  # only the first segment was split to give the first chunk
    assert article.text[first.metadata["start"] : first.metadata["end"]] == first.text


def test_segmented_chunks_cover_the_file_exactly() -> None:
    text = "date 2025-01-02 Title line\n\n" + "\n\n".join(_long_line(3000) for _ in range(4))
    article = parse_article("a.txt", text)
    nodes = list(iter_chunks(article, make_splitter(192, 32), "d" * 24, 0.0, segment_chars=5000))
    assert [n.metadata["position"] for n in nodes] == list(range(len(nodes)))
    for node in nodes:
        assert text[node.metadata["start"] : node.metadata["end"]] == node.text
    # Every word of the body is in some chunk: segment cuts lose nothing.
    covered = set().union(*(range(n.metadata["start"], n.metadata["end"]) for n in nodes))
    body_words = [i for i in range(article.body_start, len(text)) if text[i].isalnum()]
    assert all(i in covered for i in body_words)


@pytest.mark.slow  # a large file
def test_a_large_file_is_written_in_pieces_and_completes(
    corpus_copy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"index_batch": 8})
    big = corpus / "big.txt"
    big.write_text("date 2025-03-04 Harbour log\n\n" + _long_line(3000), encoding="utf-8")
    expected = len(
        chunk_article(parse_article("big.txt", read_text(big)), make_splitter(192, 32), "x", 0)
    )
    assert expected > 3 * settings.index_batch
    sizes: list[int] = []
    real_write = ingest._write

    def record(*args: Any, **kwargs: Any) -> None:
        batch = args[-2]
        sizes.extend(len(p.nodes) for p in batch if p.name == "big.txt")
        real_write(*args, **kwargs)

    monkeypatch.setattr(ingest, "_write", record)
    report = build_index(corpus, settings, progress=False)
    assert "big.txt" in report.added
    assert sum(sizes) == expected and max(sizes) <= settings.index_batch + 1 and len(sizes) > 3
    client = open_client(settings, create=False)
    chunks = open_collection(client, settings, build_embedder(settings), create=False)
    got = chunks.get(where={"source_file": "big.txt"}, include=["metadatas", "documents"])
    assert len(got["ids"]) == expected
    text = read_text(big)
    for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=True):
        assert text[int(meta["start"]) : int(meta["end"])] == doc
    monkeypatch.undo()
    again = build_index(corpus, settings, progress=False)
    assert "big.txt" in again.unchanged and again.chunks_written == 0


@pytest.mark.slow  # a large file
def test_a_run_killed_inside_a_large_file_is_completed_next_time(
    corpus_copy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"index_batch": 8})
    (corpus / "big.txt").write_text(_long_line(3000), encoding="utf-8")
    real_write = ingest._write
    writes = 0

    def crash_after_two(*args: Any, **kwargs: Any) -> None:
        nonlocal writes
        writes += 1
        if writes > 2:
            raise KeyboardInterrupt  # stands for the process dying between two writes
        real_write(*args, **kwargs)

    monkeypatch.setattr(ingest, "_write", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        build_index(corpus, settings, progress=False)
    monkeypatch.undo()
    report = build_index(corpus, settings, progress=False)
    # big.txt was partly written (no chunk declared its count): it is indexed again, whole.
    assert "big.txt" in report.added + report.updated
    assert build_index(corpus, settings, progress=False).chunks_written == 0


def test_a_file_over_the_size_limit_is_skipped_naming_the_setting(
    corpus_copy: tuple[Path, Settings],
) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"max_file_mb": 0.01})
    (corpus / "long.txt").write_text(_long_line(3000), encoding="utf-8")
    report = build_index(corpus, settings, progress=False)
    assert "MB is over the limit of 0.01 MB" in report.skipped["long.txt"]
    assert "RAG_MAX_FILE_MB" in report.skipped["long.txt"]
    assert len(report.added) == 5
