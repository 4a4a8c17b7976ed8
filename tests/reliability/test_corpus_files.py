"""Awkward corpus files: each is indexed, skipped with a reason, or warned about by name."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import index.ingest as ingest
from index import build_index
from rag import Pipeline, Settings
from rag.store.corpus import read_text
from tests.support import SAMPLE

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@pytest.fixture
def messy(tmp_path: Path) -> tuple[Path, Settings]:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    (corpus / "empty.txt").write_text("")
    (corpus / "image.txt").write_bytes(PNG)
    (corpus / "latin1.txt").write_bytes(
        "Caf\xe9 owners in Tartu sold 3,100 pastries.".encode("latin-1")
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The vault code in Tallinn is 7781.")
    (corpus / "link.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked-dir").symlink_to(outside, target_is_directory=True)
    (corpus / "notes.pdf").write_text("not an article")
    (corpus / 'Zürich "quoted" report.md').write_text(
        "# Lake report\n\nThe lake in Zürich froze in 1963.\n"
    )
    return corpus, Settings(
        chroma_path=tmp_path / "chroma", corpus_dir=corpus, answer_mode="extractive"
    )


def test_each_awkward_file_gets_the_right_treatment(messy: tuple[Path, Settings]) -> None:
    corpus, settings = messy
    report = build_index(corpus, settings, progress=False)
    assert report.skipped == {
        "empty.txt": "no text",
        "image.txt": "binary data, or UTF-16 text without a byte-order mark; "
        "save text as UTF-8 to index it",
        "notes.pdf": "not a readable PDF (Stream has ended unexpectedly)",
    }
    assert (
        list(report.warnings) == ["latin1.txt"] and "invalid UTF-8" in report.warnings["latin1.txt"]
    )
    indexed = {f.source_file for f in Pipeline.from_settings(settings).corpus().files}
    assert 'Zürich "quoted" report.md' in indexed and "latin1.txt" in indexed
    assert not {"link.txt", "linked-dir/secret.txt", "notes.pdf"} & indexed


def test_odd_names_are_citable_with_exact_offsets(messy: tuple[Path, Settings]) -> None:
    corpus, settings = messy
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    result = pipeline.answer("When did the lake in Zürich freeze?")
    cited = result.citations[0]
    assert cited.source_file == 'Zürich "quoted" report.md' and "1963" in result.text
    assert read_text(corpus / cited.source_file)[cited.start : cited.end] == cited.quote
    assert not any("7781" in c.quote for c in pipeline.answer("What is the vault code?").citations)


def test_a_file_deleted_while_indexing_is_skipped(
    messy: tuple[Path, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, settings = messy
    listed = ingest.article_sources(corpus, settings.upload_dir)
    gone = corpus / "001_ef341db465d16e61.txt"
    gone.unlink()  # listed, then deleted before it is read
    monkeypatch.setattr(ingest, "article_sources", lambda folder, uploads: listed)
    report = build_index(corpus, settings, progress=False)
    assert report.skipped["001_ef341db465d16e61.txt"].startswith("cannot read")
    assert "000_e5097b3054c473ee.txt" in report.added


@pytest.mark.slow  # indexes 50 MB: minutes
def test_a_50_mb_file_is_cut_into_bounded_chunks(tmp_path: Path) -> None:
    from index.chunking import chunk_article, make_splitter
    from rag.store.corpus import parse_article
    from rag.text.tokens import count_tokens

    one = "\n\n".join(read_text(p) for p in sorted(SAMPLE.glob("*.txt")))
    big = tmp_path / "big.txt"
    big.write_text((one + "\n\n") * (50_000_000 // len(one) + 1), encoding="utf-8")
    text = read_text(big)
    assert len(text) >= 50_000_000
    nodes = chunk_article(parse_article("big.txt", text), make_splitter(192, 32), "0" * 24, 0.0)
    assert len(nodes) > 50_000
    for node in nodes[:: len(nodes) // 500]:  # a spread sample: exact slices of bounded size
        start, end = node.metadata["start"], node.metadata["end"]
        assert text[start:end] == node.text and count_tokens(node.text) <= 192
