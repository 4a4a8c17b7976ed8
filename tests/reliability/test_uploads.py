"""Articles added through the chat: sanitised names, limits, text only; then citable."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import build_index
from rag import BadInputError, Pipeline, Settings
from rag.store.corpus import save_upload

ARTICLE = b"date 2025-09-01 Zebra census\n\nThe 2025 zebra census in Kenya counted 4,812 zebras.\n"


@pytest.mark.parametrize(
    ("name", "saved"),
    [
        ("../../x.txt", "x.txt"),
        ("..\\..\\evil.md", "evil.md"),
        ('my "quoted" notes?.txt', "my _quoted_ notes_.txt"),
        ("<b>bold</b>.txt", "b_.txt"),
        ("Zürich report.txt", "Zürich report.txt"),
    ],
)
def test_names_are_sanitised(tmp_path: Path, name: str, saved: str) -> None:
    path = save_upload(tmp_path / "corpus", name, ARTICLE)
    assert path == tmp_path / "corpus" / saved and path.read_bytes() == ARTICLE


@pytest.mark.parametrize(
    ("name", "data", "problem"),
    [
        ("a.exe", ARTICLE, "only .txt, .md"),
        ("big.txt", b"x" * 2000, "limit"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("latin.txt", "café".encode("latin-1"), "UTF-8"),
        ("...txt", ARTICLE, "only .txt"),
    ],
)
def test_bad_uploads_are_refused(tmp_path: Path, name: str, data: bytes, problem: str) -> None:
    with pytest.raises(BadInputError, match=problem):
        save_upload(tmp_path, name, data, max_bytes=1000)
    assert not any(tmp_path.iterdir())


def test_uploaded_article_is_indexed_and_citable(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(update={"answer_mode": "extractive"})
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    save_upload(corpus, "zebras.txt", ARTICLE)
    seen: list[tuple[int, int]] = []
    report = build_index(
        corpus, settings, progress=False, on_progress=lambda d, t: seen.append((d, t))
    )
    pipeline.refresh()
    assert report.added == ["zebras.txt"] and seen[-1] == (6, 6)
    result = pipeline.answer("How many zebras did the 2025 census in Kenya count?")
    assert result.citations[0].source_file == "zebras.txt" and "4,812" in result.text
    assert "zebras.txt" in {f.source_file for f in pipeline.corpus().files}


def test_uploads_live_in_their_own_folder_and_are_cited_by_prefix(
    corpus_copy: tuple[Path, Settings], tmp_path: Path
) -> None:
    corpus, settings = corpus_copy
    settings = settings.model_copy(
        update={"answer_mode": "extractive", "upload_dir": tmp_path / "uploads"}
    )
    before = sorted(p.name for p in corpus.iterdir())
    save_upload(settings.upload_dir, "zebras.txt", ARTICLE)
    report = build_index(corpus, settings, progress=False)
    assert "uploads/zebras.txt" in report.added
    assert sorted(p.name for p in corpus.iterdir()) == before  # the corpus folder is untouched
    pipeline = Pipeline.from_settings(settings)
    result = pipeline.answer("How many zebras did the 2025 census in Kenya count?")
    cited = result.citations[0]
    assert cited.source_file == "uploads/zebras.txt"
    assert pipeline.source_text(cited.source_file)[cited.start : cited.end] == cited.quote

    (settings.upload_dir / "zebras.txt").unlink()
    assert build_index(corpus, settings, progress=False).removed == ["uploads/zebras.txt"]


def test_a_source_outside_both_folders_is_refused(corpus_copy: tuple[Path, Settings]) -> None:
    corpus, settings = corpus_copy
    build_index(corpus, settings, progress=False)
    pipeline = Pipeline.from_settings(settings)
    for name in ("../secret.txt", "uploads/../../secret.txt", "missing.txt"):
        with pytest.raises(BadInputError, match="is not a file"):
            pipeline.source_text(name)
