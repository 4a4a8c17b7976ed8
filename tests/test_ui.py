"""The chat page through Streamlit's AppTest runner, on the real pipeline."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from rag import Settings

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture
def app_env(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(sample_settings.corpus_dir))


def _texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [t.value for t in at.text] + [c.value for c in at.caption]
    )
    return "\n".join(str(p) for p in parts).replace("\\", "")  # Markdown escapes removed


def test_ask_shows_answer_and_source_cards(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    at.chat_input[0].set_value("Where did Trump hand Putin the letter?").run()
    assert not at.exception and not at.error
    shown = _texts(at)
    assert "Alaska" in shown and "[1]" in shown
    assert "000_e5097b3054c473ee.txt" in shown  # a source card names the file
    assert ":orange-background[US President Donald Trump delivered the letter by hand" in shown
    assert len(at.chat_message) == 2


def test_refusal_looks_like_a_refusal(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value("What is the boiling point of mercury?").run()
    assert not at.error
    assert any("Nothing in the articles answers this" in i.value for i in at.info)


def test_missing_index_is_an_error_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "rag index" in at.error[0].value


def test_conflicting_sources_are_flagged(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value("Did the letter mention the abducted children?").run()
    assert not at.exception and not at.error
    assert any("sources disagree" in w.value for w in at.warning)
    values = {m.value for m in at.metric}  # one column per side of the disagreement
    assert {"yes", "no"} <= values
    assert "2025-10-10" in _texts(at)


def test_source_filter_changes_the_sources(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    only = "003_1305e3d104303dd2.txt"
    at.multiselect[0].set_value([only]).run()
    at.chat_input[0].set_value("Where did Trump hand Putin the letter?").run()
    assert not at.exception and not at.error
    files = {c.value.replace("\\", "").split(" · ")[0] for c in at.caption if " · " in c.value}
    assert files == {only}


def test_download_and_new_chat(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value("Where was Melania Trump born?").run()
    assert len(at.chat_message) == 2
    new_chat = next(b for b in at.button if b.label == "New chat")
    new_chat.click().run()
    assert len(at.chat_message) == 0


def test_a_damaged_store_is_offered_a_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixture = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "broken-store"
    if not fixture.is_dir():
        pytest.skip("the broken-store fixture is not beside the repo")
    shutil.copytree(fixture / "store", tmp_path / "store")
    shutil.copytree(fixture / "corpus", tmp_path / "corpus")
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "store"))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(tmp_path / "corpus"))
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert "is damaged" in at.error[0].value and "rag index --rebuild" in at.error[0].value
    rebuild = next(b for b in at.button if "Rebuild" in str(b.label))
    rebuild.click().run()
    assert not at.exception
    assert any("Rebuilt:" in str(s.value) for s in at.success)
    at = AppTest.from_file(APP, default_timeout=300).run()  # a new visit: the store answers
    assert not at.error and not at.exception
