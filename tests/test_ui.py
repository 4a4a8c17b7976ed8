"""The chat page through Streamlit's AppTest runner, on the real pipeline."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evals.feedback import entries, feedback_path
from index import build_index
from rag import Settings
from tests.fake_openai import FakeOpenAI
from tests.support import ROOT

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")
ARTICLES = str(Path(__file__).resolve().parents[1] / "ui" / "articles_page.py")


@pytest.fixture
def app_env(sample_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(sample_settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(sample_settings.corpus_dir))


def _texts(at: AppTest) -> str:
    parts = (
        [m.value for m in at.markdown] + [t.value for t in at.text] + [c.value for c in at.caption]
    )
    return "\n".join(str(p) for p in parts).replace("\\", "")  # Markdown escapes removed


def _html(at: AppTest) -> str:
    """What the page drew with st.html (answers, chips, source cards, conflict tables)."""
    return "\n".join(e.proto.body for e in at.get("html"))


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception and not at.error
    return at


def test_ask_shows_the_answer_with_chips_and_a_sources_strip(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    shown = _html(_ask(at, "Where did Trump hand Putin the letter?"))
    assert "Alaska" in shown
    # Screen readers hear who speaks (Streamlit's chat messages carry no role label).
    assert '<span class="rag-sr">You: </span>Where did Trump' in shown
    assert '<span class="rag-sr">Assistant: </span>' in shown
    # [1] is a chip linking to its source card, the quote and title in its tooltip.
    assert '<a class="rag-chip" href="#src-a1-1"' in shown and 'id="src-a1-1"' in shown
    assert 'role="tooltip">“US President Donald Trump delivered the letter by hand' in shown
    assert "<summary>Sources (2)" in shown  # one card per article, collapsed
    assert "US First Lady Melania Trump has raised concern" in shown  # titles, not only files
    # An offline quote is exact, so its card says how well it answers, not "supported".
    assert "answers the question" in shown or "may not answer the question" in shown
    assert "directly supported" not in shown and "support 1.00" not in shown
    assert '<mark class="rag-hl">US President Donald Trump delivered the letter' in shown
    assert "date 2025-08-16" not in shown  # the whole article without its metadata line
    assert len(at.chat_message) == 2
    frames = [e for e in at.main if getattr(e, "type", "") == "iframe"]
    assert any("answer-a1" in str(f.proto) for f in frames)  # the answer is scrolled into view
    assert any(b.label == "Download chat (Markdown)" for b in at.get("download_button"))


def test_refusal_is_shown_once_with_closest_passages(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.chat_input[0].set_value("What is the boiling point of mercury?").run()
    assert not at.error
    infos = [i.value for i in at.info]
    assert len(infos) == 1
    answer = at.session_state.turns[-1]["answer"]
    assert answer["refused"] and answer["text"] not in _texts(at)  # not repeated below
    if answer["closest"]:
        assert "does not answer" in _html(at)


def test_welcome_describes_the_corpus_and_offers_questions(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "5 articles, published 2025-08-16 to 2025-10-10" in _texts(at)
    examples = [b for b in at.button if str(b.label).startswith(("What did", "What happened"))]
    assert 3 <= len(examples) <= 4
    assert "What did Melania Trump say?" in [b.label for b in examples]
    examples[0].click().run()
    assert not at.exception and not at.error
    assert at.session_state.turns[0]["content"] == examples[0].label
    assert len(at.chat_message) == 2
    assert not at.session_state.turns[1]["answer"]["refused"]  # checked before it was shown
    # The welcome gives way to the answer in the same run (the page is not redrawn).
    assert not any(c.value in ("Try one of these:", "Newest articles:") for c in at.caption)
    # Questions to ask next, from the cited articles; one click asks it.
    assert any(c.value == "Ask next:" for c in at.caption)
    follow = [b for b in at.button if str(b.key).startswith("next-q-1-")]
    assert 1 <= len(follow) <= 3 and all(b.label != examples[0].label for b in follow)
    asked = follow[0].label
    follow[0].click().run()
    assert not at.exception and at.session_state.turns[2]["content"] == asked


def test_a_starter_the_index_would_refuse_is_not_shown(sample_settings: Settings) -> None:
    from rag import Pipeline
    from ui.state import _STARTERS, starters

    pipeline = Pipeline.from_settings(sample_settings)
    _STARTERS.clear()
    shown = starters(pipeline, pipeline.corpus())
    assert shown and all(not pipeline.answer(q).refused for q in shown)


def test_an_impossible_date_range_blocks_asking(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    since, until = at.date_input[0], at.date_input[1]
    since.set_value(dt.date(2025, 10, 10))
    until.set_value(dt.date(2025, 8, 17)).run()
    assert at.chat_input[0].proto.disabled
    assert any("Asking is paused" in e.value and "Swap the dates" in e.value for e in at.error)
    assert "Value error" not in " ".join(e.value for e in at.error)


def test_active_filters_are_shown_above_the_answer(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.date_input[0].set_value(dt.date(2025, 8, 17)).run()
    assert any("undated article" in c.value for c in at.caption)  # the filter drops undated
    _ask(at, "Where did Trump hand Putin the letter?")
    assert "Filters: published from 2025-08-17" in _texts(at)


def test_missing_index_is_an_error_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHROMA_PATH", str(tmp_path / "none"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "rag index" in at.error[0].value


def test_conflicting_sources_are_a_side_by_side_table(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    shown = _html(_ask(at, "Did the letter mention the abducted children?"))
    # One reconciling sentence first, built from article 002's own account of both sides.
    lead = shown.index("<b>The sources disagree.</b> According to Trump administration officials")
    assert "in contrast, the actual text of the letter, as made public" in shown[lead:]
    assert lead < shown.index('<table class="rag-conflict">')
    # Every supporting article counted: 000 and 002 say yes, 004 and 002 say no.
    assert "yes — 2 articles" in shown and "no — 2 articles" in shown
    assert "10 Oct 2025" in shown and "Sources disagree:" not in shown
    # No duplicated prose: the officials' sentence is in the reconciling sentence only.
    prose = re.search(r'<div class="rag-answer" id="answer-a1">(.*?)</div>', shown, re.S)
    assert prose is not None
    said = re.sub(r'<span class="rag-tip".*?</span></span>', "", prose.group(1))  # tooltips
    assert "mentioned the abductions" not in said and "does not mention Ukraine" in said
    answer = at.session_state.turns[-1]["answer"]
    assert answer["conflicts"][0]["summary"].startswith("According to Trump administration")


def test_export_is_clean_markdown_with_numbered_sources_and_the_same_json(
    app_env: None,
) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Did the letter mention the abducted children?")
    buttons = {b.label: b for b in at.get("download_button")}
    assert "Download chat (Markdown)" in buttons and "Download chat (JSON)" in buttons
    from ui.sidebar import conversation_export
    from ui.state import display_names, load_pipeline

    titles = display_names(load_pipeline().corpus())
    markdown, records = conversation_export(at.session_state.turns, titles)
    assert markdown.startswith("## Did the letter mention the abducted children?")
    assert "\\." not in markdown and "\\-" not in markdown  # no escapes in prose
    assert "Russia's 2022 invasion of Ukraine [1]; in contrast" in markdown
    assert "\n[1] Trump gives Putin letter from Melania — outlet unknown, date unknown." in markdown
    assert records[0]["text"] in markdown.replace("\\", "")
    assert records[0]["sources"][0]["title"] == "Trump gives Putin letter from Melania"
    copy = [h for h in at.get("html") if "rag-copy" in h.proto.body]
    assert copy and "Copy answer" in copy[0].proto.body


def test_source_filter_changes_the_sources(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    only = "003_1305e3d104303dd2.txt"
    at.multiselect[0].set_value([only]).run()
    shown = _html(_ask(at, "Where did Trump hand Putin the letter?"))
    files = set(re.findall(r'<h4 title="([^"]+)">', shown))
    assert files == {only}
    assert "Filters: only US First Lady Melania Trump wrote" in _texts(at)


def test_download_and_new_chat(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Where was Melania Trump born?")
    assert len(at.chat_message) == 2
    # The download is offered right after the first answer (it lagged one answer before).
    assert any("Markdown" in b.label for b in at.get("download_button"))
    new_chat = next(b for b in at.button if b.label == "New chat")
    new_chat.click().run()
    assert len(at.chat_message) == 0


@pytest.mark.slow  # rebuilds the 145-file broken-store fixture
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


def test_thumbs_down_with_a_comment_is_kept(app_env: None, sample_settings: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Where did Trump hand Putin the letter?")
    vote = at.get("feedback")[0]
    vote.set_value(0).run()  # 👎
    assert not at.exception
    at.text_input(key="comment-1").input("It left out the date").run()
    kept = entries(feedback_path(sample_settings))
    assert kept[-1].rating == -1 and kept[-1].comment == "It left out the date"
    assert kept[-1].answer.question == "Where did Trump hand Putin the letter?"
    at = AppTest.from_file(APP, default_timeout=120).run()  # a new visit reopens it
    # Listed under its day with its verdict.
    assert any(c.value == "Today" for c in at.caption)
    opened = "Where did Trump hand Putin the letter? · 👎1"
    next(b for b in at.button if b.label == opened).click().run()
    assert at.get("feedback")[0].value == 0  # with its 👎


def test_regenerate_is_offered_only_where_the_answer_can_change(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Where was Melania Trump born?")
    assert at.session_state.turns[-1]["answer"]["mode"] == "extractive"
    assert not any(b.label == "Regenerate" for b in at.button)  # the same text would come back


def test_regenerated_answers_are_versions_with_their_own_votes(
    app_env: None, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_ANSWER_MODE", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    fake_openai.script(*["Melania Trump was born in Slovenia [1]."] * 4)
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Where was Melania Trump born?")
    at.get("feedback")[0].set_value(0).run()  # 👎 on the first version
    assert any("Thanks, saved: your 👎" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Regenerate").click().run()
    assert not at.exception and not at.error
    turns = at.session_state.turns
    assert len(turns) == 2 and len(turns[-1]["versions"]) == 2 and turns[-1]["shown"] == 1
    assert "2/2" in _texts(at)
    assert at.get("feedback")[0].value is None  # the new version has no vote of its own yet
    next(b for b in at.button if b.key == "prev-1").click().run()
    assert "1/2" in _texts(at) and at.get("feedback")[0].value == 0  # the stored 👎


def test_conversations_are_kept_reopened_renamed_and_deleted(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    _ask(at, "Where was Melania Trump born?")
    at = AppTest.from_file(APP, default_timeout=120).run()  # a new visit: an empty chat
    assert len(at.chat_message) == 0
    opened = next(b for b in at.button if b.label == "Where was Melania Trump born?")
    opened.click().run()
    assert len(at.chat_message) == 2 and "Slovenia" in _html(at)
    at.text_input(key=f"name-{at.session_state.chat_id}").input("Melania's birthplace").run()
    assert any(str(b.label).endswith("Melania's birthplace") for b in at.button)
    chat_id = at.session_state.chat_id
    next(b for b in at.button if b.key == f"del-{chat_id}").click().run()
    assert not any(str(b.label).endswith("Melania's birthplace") for b in at.button)
    assert len(at.chat_message) == 0  # the open conversation was the deleted one
    assert any(c.value == "Deleted “Melania's birthplace”." for c in at.caption)
    next(b for b in at.button if b.label == "Undo").click().run()  # it comes back whole
    opened = next(b for b in at.button if str(b.label).endswith("Melania's birthplace"))
    opened.click().run()
    assert len(at.chat_message) == 2 and "Slovenia" in _html(at)
    _ask(at, "Did the letter mention the abducted children?")
    at = AppTest.from_file(APP, default_timeout=120).run()
    # Every word must match, in the title or any question (a later question here).
    at.text_input(key="history-search").input("birthplace ABDUCTED").run()
    listed = [str(b.label) for b in at.button if str(b.key).startswith("open-")]
    assert listed == ["Melania's birthplace"]
    at.text_input(key="history-search").input("zebras").run()
    assert any("No saved conversation has those words." in c.value for c in at.caption)


def test_an_uploaded_article_can_be_removed(
    sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "articles"
    shutil.copytree(sample_settings.corpus_dir, corpus)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "owls.txt").write_text("date 2025-09-02 Owls\n\nA hall of mechanical owls.\n")
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus, upload_dir=uploads)
    build_index(corpus, settings, progress=False)
    monkeypatch.setenv("RAG_CHROMA_PATH", str(settings.chroma_path))
    monkeypatch.setenv("RAG_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("RAG_UPLOAD_DIR", str(uploads))
    at = AppTest.from_file(ARTICLES, default_timeout=120).run()
    assert any("6 articles" in c.value for c in at.caption)
    rows = at.dataframe[0].value
    assert list(rows.columns) == ["title", "outlet", "date", "format", "passages", "file"]
    assert "uploads/owls.txt" in set(rows["file"]) and set(rows["format"]) == {"TXT"}
    at.multiselect[0].set_value(["uploads/owls.txt"]).run()
    next(b for b in at.button if b.label == "Remove").click().run()
    assert not at.exception
    assert not (uploads / "owls.txt").exists()
    assert any("1 removed" in s.value for s in at.success)
    assert any("5 articles" in c.value for c in at.caption)


def test_the_chat_sidebar_keeps_history_and_filters_and_sends_the_corpus_elsewhere(
    app_env: None,
) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.get("file_uploader")  # corpus administration lives on the Articles page
    assert not any(b.label in ("Add page", "Re-index folder", "Remove") for b in at.button)
    assert any(b.label == "New chat" for b in at.button)
    assert any("Add or remove them on the Articles page" in c.value for c in at.caption)
    # The article filter shows short, distinct titles with their dates.
    options = at.multiselect[0].options
    assert len(set(options)) == 5 and all(len(o) < 90 for o in options)
    assert "Trump gives Putin letter from Melania · undated" in options


def test_the_first_visit_uses_the_pipeline_warmed_before_serving(app_env: None) -> None:
    from ui import state

    state.forget_pipeline()
    warmed = state.warm(state.load_settings())  # what `rag ui` does before it serves
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert not state._WARM  # the page took it instead of loading another
    assert state.load_pipeline() is warmed


def test_an_answer_stopped_mid_stream_is_kept_as_incomplete(app_env: None) -> None:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    # What the page keeps while it streams, as a click on Stop (or anywhere) leaves it.
    at.session_state.partial = {
        "question": "Where did Trump hand Putin the letter?",
        "text": "US President Donald Trump delivered the letter",
        "filters": "",
    }
    at.run()
    assert not at.exception
    assert len(at.chat_message) == 2
    assert "delivered the letter" in _html(at)
    assert any("You stopped it" in w.value for w in at.warning)


def test_a_web_page_is_added_by_its_address(
    sample_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from tests.support import BARE, Handler

    served = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=served.serve_forever, daemon=True).start()
    corpus = tmp_path / "articles"
    shutil.copytree(sample_settings.corpus_dir, corpus)
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    build_index(corpus, settings, progress=False)
    for key, value in {
        "RAG_CHROMA_PATH": settings.chroma_path,
        "RAG_CORPUS_DIR": corpus,
        "RAG_UPLOAD_DIR": tmp_path / "uploads",
        "RAG_FETCH_ALLOW_PRIVATE": "true",  # the page is served from 127.0.0.1
    }.items():
        monkeypatch.setenv(key, str(value))
    try:
        at = AppTest.from_file(ARTICLES, default_timeout=120).run()
        address = f"http://127.0.0.1:{served.server_port}/bare"
        next(t for t in at.text_input if "web page" in t.label).input(address).run()
        next(b for b in at.button if b.label == "Add page").click().run()
        assert not at.exception and not at.error
        assert any("1 added" in s.value for s in at.success)
        assert any("6 articles" in c.value for c in at.caption)
        at = AppTest.from_file(APP, default_timeout=120).run()
        shown = _html(_ask(at, "How many zebras did the census count?"))
        assert "4,812" in shown and "Zebra census" in shown
        assert BARE.decode() not in shown  # the page's text, not its markup
    finally:
        served.shutdown()


def test_the_uploader_takes_every_indexed_format(app_env: None) -> None:
    at = AppTest.from_file(ARTICLES, default_timeout=120).run()
    uploader = at.get("file_uploader")[0]
    wanted = {".html", ".pdf", ".docx", ".jsonl", ".rss", ".md", ".txt"}
    assert wanted <= set(uploader.proto.type)


def test_the_uploader_bound_is_the_same_for_rag_ui_and_streamlit_run() -> None:
    """`streamlit run ui/app.py` reads .streamlit/config.toml; `rag ui` passes ui.serve.OPTIONS:
    both let a file over the corpus limit reach the page, which lists it as refused."""
    import tomllib

    from rag.store.corpus import MAX_UPLOAD_BYTES
    from ui.serve import OPTIONS

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    bound = int(OPTIONS[OPTIONS.index("--server.maxUploadSize") + 1])
    assert config["server"]["maxUploadSize"] == bound
    assert bound * 2**20 > 2 * MAX_UPLOAD_BYTES
