"""Model-written text is shown as text: no live links, no HTML, no terminal escape sequences —
in the chat, the Markdown export and the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from cli import app
from rag import Pipeline, Settings
from tests.fake_openai import FakeOpenAI, Reply

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
Q = "Where did Trump hand Putin the letter?"
HANDED = "Trump delivered the letter by hand to Putin during their summit talks in Alaska"
HOSTILE = (
    "Read more at http://evil.example/login, www.evil.example or write to help@evil.example "
    "<a href='http://evil.example'>here</a> [click](https://evil.example)"
)
OSC8 = "\x1b]8;;http://evil.example\x1b\\the report\x1b]8;;\x1b\\ \x1b[2J\x1b[31m"


def _marker(settings: Settings) -> int:
    contexts = Pipeline.from_settings(settings).retrieve(Q)
    return next(n for n, c in enumerate(contexts, 1) if "by hand" in c.text)


def _outside_code(markdown: str) -> str:
    """Markdown with its code spans removed: what a renderer could turn into links."""
    return re.sub(r"`[^`]*`", "", markdown)


@pytest.fixture
def chat_env(
    sample_settings: Settings, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> FakeOpenAI:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(sample_settings.corpus_dir))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.setenv("RAG_ANSWER_MODE", "openai")
    monkeypatch.setenv("RAG_MAX_RETRIES", "0")
    return fake_openai


def test_chat_and_markdown_export_show_urls_and_html_as_text(
    chat_env: FakeOpenAI, sample_settings: Settings
) -> None:
    n = _marker(sample_settings)
    chat_env.script(Reply(f"{HANDED} [{n}]. {HOSTILE}.", pieces=37))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value(Q).run()
    assert not at.exception and not at.error
    # The answer is drawn as escaped HTML: its text is shown, its markup and links are not.
    html = "\n".join(e.proto.body for e in at.get("html"))
    answer = next(b for b in (e.proto.body for e in at.get("html")) if "Alaska" in b)
    assert 'class="rag-chip"' in answer  # [n] became a chip
    # No source says the hostile sentence: it is not in the answer body but listed apart,
    # under "Not in the articles", as Markdown that shows its link and HTML as text.
    assert "evil" not in answer
    links = re.findall(r"<a\s[^>]*href=[\"']([^\"']*)", html)
    assert links and all(href.startswith("#") for href in links), links  # only in-page jumps
    assert any("evil.example/login" in str(m.value) for m in at.markdown)
    assert any("Not in the articles" in e.proto.label for e in at.get("expander"))
    shown = [str(m.value) for m in at.markdown] + [str(w.value) for w in at.warning]
    for markdown in shown:  # Markdown elements never link it or read it as HTML
        visible = _outside_code(markdown)
        assert "evil" not in visible, markdown
        assert not re.search(r"(?<!\\)[<>]", visible), markdown
    # The one-click export (Markdown in the Copy button's hidden text) leaves it out too.
    export = next(b for b in (e.proto.body for e in at.get("html")) if 'class="rag-copy"' in b)
    assert "Alaska" in export and "evil" not in export


def test_cli_prints_no_escape_sequences(
    chat_env: FakeOpenAI, sample_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = _marker(sample_settings)
    chat_env.script(f"{HANDED} [{n}]. See {OSC8} for more.")
    result = CliRunner().invoke(app, ["ask", Q])
    assert result.exit_code == 0, result.output
    assert "Alaska" in result.output and "[1]" in result.output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", result.output)
