"""Articles added through the chat: sanitised names, limits, text only; then citable."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import build_index
from rag import BadInputError, Pipeline, Settings
from rag.corpus import save_upload

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
        ("a.pdf", ARTICLE, "only .txt and .md"),
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
