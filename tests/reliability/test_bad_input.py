"""Bad input from the tracker: article files with odd encodings or headers, and malformed
settings. Each gives one line naming the file or key and the problem, or is handled cleanly."""

from __future__ import annotations

import codecs
import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from index import IndexReport, build_index
from rag import ConfigError, Pipeline, Settings
from rag.store.corpus import load_text, parse_article, read_text

# Sentences enough to push what follows past the first 8 KB of the file.
FILLER = "".join(f"Filler sentence {i} says nothing of note.\n" for i in range(260))
BAKERY = "Tartu bakery\n\nThe bakery on Ülikooli street in Tartu sold 2,904 rye loaves.\n"
PIER = " date 2025-04-02 Parnu pier\n\nThe pier in Pärnu was lengthened by 86 metres.\n"
NUL = f"Hiiumaa ferry\n\n{FILLER}The ferry to Hiiumaa carried 318\x00 passengers.\nAt dawn.\x00\n"

FILES: dict[str, bytes] = {
    "bom-dated.txt": codecs.BOM_UTF8
    + b" date 2025-03-14 Klaipeda cranes\n\nHarbour cranes in Klaipeda lifted 412 containers.\n",
    "bad-date.txt": b" date 2025-02-30 Narva glassworks\n\nThe glassworks in Narva fired 57 kilns.",
    "utf16le.txt": codecs.BOM_UTF16_LE + BAKERY.encode("utf-16-le"),
    "utf16be.txt": codecs.BOM_UTF16_BE + PIER.encode("utf-16-be"),
    "utf32le.txt": codecs.BOM_UTF32_LE
    + "Rakvere mill\n\nThe mill ground rye.\n".encode("utf-32-le"),
    "utf16-nobom.txt": "Valga mill\n\nThe mill in Valga ground 73 tonnes.\n".encode("utf-16-le"),
    "late-nul.txt": NUL.encode(),
}

Indexed = tuple[Path, Settings, IndexReport]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Indexed:
    """The bad files written to disk and indexed once for the module (real store, real model)."""
    root = tmp_path_factory.mktemp("bad-input")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, data in FILES.items():
        (corpus / name).write_bytes(data)
    settings = Settings(chroma_path=root / "chroma", corpus_dir=corpus, answer_mode="extractive")
    return corpus, settings, build_index(corpus, settings, progress=False)


@pytest.fixture(scope="module")
def pipeline(indexed: Indexed) -> Pipeline:
    """One pipeline over the module's store."""
    return Pipeline.from_settings(indexed[1])


def _listed(pipeline: Pipeline) -> dict[str, tuple[str, dt.date | None]]:
    return {f.source_file: (f.title, f.date) for f in pipeline.corpus().files}


def _cites(pipeline: Pipeline, question: str, source: str) -> str:
    """The quote of the answer's citation of `source`, checked against the file's text."""
    answer = pipeline.answer(question)
    cited = [c for c in answer.citations if c.source_file == source]
    assert cited, answer
    path = pipeline.settings.corpus_dir / source
    assert read_text(path)[cited[0].start : cited[0].end] == cited[0].quote
    return cited[0].quote


def test_both_read_paths_give_the_same_text(indexed: Indexed) -> None:
    corpus, _, _ = indexed
    for name in FILES:
        if name != "utf16-nobom.txt":  # refused by load_text, see the skip test
            assert load_text(corpus / name)[0] == read_text(corpus / name), name


def test_a_utf8_bom_does_not_hide_the_date(indexed: Indexed, pipeline: Pipeline) -> None:
    _, _, report = indexed
    assert "bom-dated.txt" in report.added and "bom-dated.txt" not in report.warnings
    assert _listed(pipeline)["bom-dated.txt"] == ("Klaipeda cranes", dt.date(2025, 3, 14))
    quote = _cites(
        pipeline, "How many containers did the cranes in Klaipeda lift?", "bom-dated.txt"
    )
    assert "412" in quote


def test_an_impossible_date_is_warned_and_kept_out_of_the_text(
    indexed: Indexed, pipeline: Pipeline
) -> None:
    corpus, _, report = indexed
    warning = report.warnings["bad-date.txt"]
    assert warning == "date header '2025-02-30' is not a real date; indexed without a date"
    assert _listed(pipeline)["bad-date.txt"] == ("Narva glassworks", None)
    article = parse_article("bad-date.txt", read_text(corpus / "bad-date.txt"))
    assert "2025" not in article.body and article.warnings == (warning,)


@pytest.mark.parametrize(
    ("name", "title", "date"),
    [
        ("utf16le.txt", "Tartu bakery", None),
        ("utf16be.txt", "Parnu pier", dt.date(2025, 4, 2)),
        ("utf32le.txt", "Rakvere mill", None),  # its mark begins with UTF-16-LE's
    ],
)
def test_utf16_or_32_with_a_bom_is_indexed_as_text(
    indexed: Indexed, pipeline: Pipeline, name: str, title: str, date: dt.date | None
) -> None:
    corpus, _, report = indexed
    assert name in report.added and name not in report.skipped
    assert _listed(pipeline)[name] == (title, date)
    text = read_text(corpus / name)
    assert text.lstrip(" date0123456789-").startswith(title)  # the byte-order mark is not text


def test_utf16_citations_quote_the_decoded_text(indexed: Indexed, pipeline: Pipeline) -> None:
    loaves = _cites(pipeline, "How many rye loaves did the Tartu bakery sell?", "utf16le.txt")
    pier = _cites(pipeline, "By how much was the pier in Pärnu lengthened?", "utf16be.txt")
    assert "2,904" in loaves and "86 metres" in pier


def test_utf16_without_a_bom_is_skipped_with_an_accurate_reason(indexed: Indexed) -> None:
    _, _, report = indexed
    reason = report.skipped["utf16-nobom.txt"]
    assert "UTF-16" in reason and "byte-order mark" in reason and "UTF-8" in reason


def test_nul_bytes_past_8_kb_are_replaced_and_warned(indexed: Indexed, pipeline: Pipeline) -> None:
    corpus, _, report = indexed
    text = read_text(corpus / "late-nul.txt")
    assert "\x00" not in text and text.count("\ufffd") == 2
    assert len(text) == len(NUL)  # one character for one: same offsets
    assert report.warnings["late-nul.txt"].startswith("2 NUL characters")
    quote = _cites(pipeline, "How many passengers did the ferry to Hiiumaa carry?", "late-nul.txt")
    assert "318\ufffd passengers" in quote


def test_the_cli_prints_one_line_per_file_problem(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("bad-date.txt", "utf16-nobom.txt", "late-nul.txt"):
        (corpus / name).write_bytes(FILES[name])
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "chroma"))
    result = CliRunner().invoke(app, ["index", str(corpus), "--quiet"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:3] == [
        "skipped utf16-nobom.txt: binary data, or UTF-16 text without a byte-order mark; "
        "save text as UTF-8 to index it",
        "warning bad-date.txt: date header '2025-02-30' is not a real date; indexed without a date",
        "warning late-nul.txt: 2 NUL characters shown as U+FFFD; "
        "remove them or re-save the file as plain text",
    ]
    assert lines[3].startswith("Indexed ") and len(lines) == 4


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"RAG_CHUNK_SIZE": "64", "RAG_CHUNK_OVERLAP": "64"},
            "RAG_CHUNK_OVERLAP: Value error, must be smaller than RAG_CHUNK_SIZE (64)",
        ),
        ({"RAG_REQUEST_TIMEOUT": "inf"}, "RAG_REQUEST_TIMEOUT: Input should be a finite number"),
        ({"RAG_REQUEST_TIMEOUT": "nan"}, "RAG_REQUEST_TIMEOUT: Input should be a finite number"),
        ({"RAG_CHROMA_PATH": ""}, "RAG_CHROMA_PATH: Value error, must not be empty"),
        ({"RAG_CHROMA_PATH": "  "}, "RAG_CHROMA_PATH: Value error, must not be empty"),
        ({"RAG_CORPUS_DIR": ""}, "RAG_CORPUS_DIR: Value error, must not be empty"),
        ({"RAG_UPLOAD_DIR": " "}, "RAG_UPLOAD_DIR: Value error, must not be empty"),
        ({"RAG_CHAT_MODEL": ""}, "RAG_CHAT_MODEL: Value error, must not be empty"),
        (
            {"RAG_OPENAI_EMBEDDING_MODEL": " "},
            "RAG_OPENAI_EMBEDDING_MODEL: Value error, must not be empty",
        ),
        (
            {"RAG_CHUNK_SIZE": "32"},  # the default overlap, 32, is as large
            "RAG_CHUNK_OVERLAP: Value error, must be smaller than RAG_CHUNK_SIZE (32)",
        ),
    ],
    ids=[
        "overlap",
        "timeout-inf",
        "timeout-nan",
        "chroma-empty",
        "chroma-blank",
        "corpus-empty",
        "uploads-blank",
        "chat-model",
        "embedding-model",
        "default-overlap",
    ],
)
def test_bad_settings_are_one_line_naming_the_key(
    monkeypatch, env: dict[str, str], expected: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    assert str(info.value).startswith(expected) and "\n" not in str(info.value)


KEY = "sk-proj-Abc123Def456"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("sk-proj Abc123Def456", "a space"),
        (f"{KEY[:8]}\n{KEY[8:]}", "a line break"),
        (f"{KEY}\u2026", "a non-ASCII character"),
        (f"{KEY[:8]}\u00a0{KEY[8:]}", "a non-ASCII character"),
        (f"{KEY[:8]}\x7f{KEY[8:]}", "a control character"),
    ],
    ids=["space", "line-break", "ellipsis", "no-break-space", "control"],
)
def test_a_malformed_api_key_is_refused_without_echoing_it(
    monkeypatch, key: str, problem: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", key)
    with pytest.raises(ConfigError) as info:
        Settings.load()
    message = str(info.value)
    assert message.startswith("OPENAI_API_KEY: Value error, malformed: it contains " + problem)
    assert "\n" not in message
    assert "Abc123" not in message and "sk-proj" not in message


def test_whitespace_around_an_api_key_is_stripped(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"  {KEY}\n")  # e.g. $(cat key.txt) or an editor's newline
    key = Settings.load().openai_api_key
    assert key is not None and key.get_secret_value() == KEY


def test_the_cli_refuses_a_malformed_key_before_any_request(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", f"{KEY[:8]} {KEY[8:]}")
    result = CliRunner().invoke(app, ["ask", "Where?"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: OPENAI_API_KEY: Value error, malformed: it contains a space; copy the key again\n"
    )
