"""Streamlit Articles page: the corpus listed (title, outlet, date, format, passages), articles
added from files or a web address, uploaded ones removed, the folder re-indexed, and every
file's outcome reported. Rendering and session state only: `index` does the work."""

from __future__ import annotations

import datetime as dt
from pathlib import PurePosixPath
from typing import Any

import streamlit as st

from index import ACCEPTED_SUFFIXES
from index.fetch import fetch_page
from index.uploads import reindex, save_uploads, upload_path
from rag import Pipeline, RagError
from rag.store.corpus import MAX_UPLOAD_BYTES, UPLOADS_PREFIX
from rag.types import CorpusInfo
from ui.markup import untagged
from ui.state import display_names, load_pipeline

Result = tuple[str, str]  # ("ok" | "error" | "info", what happened, in words)


def article_rows(corpus: CorpusInfo) -> list[dict[str, Any]]:
    """One row per article, newest first: what a reader tells articles apart by."""
    names = display_names(corpus)
    rows = []
    for f in sorted(corpus.files, key=lambda f: f.date or dt.date.min, reverse=True):
        suffix = PurePosixPath(f.source_file.split("#", 1)[0]).suffix.lstrip(".").upper()
        rows.append(
            {
                "title": untagged(names[f.source_file], f.date),
                "outlet": f.outlet or "—",
                "date": f.date,
                "format": suffix or "—",
                "passages": f.chunks,
                "file": f.source_file,
            }
        )
    return rows


def listing(corpus: CorpusInfo) -> None:
    """The indexed articles as a sortable table."""
    last = corpus.last_indexed
    when = f" · last indexed {last:%Y-%m-%d %H:%M} UTC" if last else ""
    st.caption(f"{len(corpus.files)} articles, {corpus.chunks} passages{when}")
    st.dataframe(
        article_rows(corpus),
        hide_index=True,
        use_container_width=True,
        column_config={
            "date": st.column_config.DateColumn("date", format="D MMM YYYY"),
            "passages": st.column_config.NumberColumn("passages", help="Chunks in the index"),
        },
    )


def results() -> None:
    """What the last action did, one line per file (added, refused and why)."""
    for kind, text in st.session_state.pop("upload_results", []):
        {"ok": st.success, "error": st.error}.get(kind, st.info)(text)


def uploads(pipeline: Pipeline) -> None:
    """Add articles from files or a web page, or re-index the folder; then report each file."""
    done = st.session_state.get("uploads_done", 0)
    limit = MAX_UPLOAD_BYTES / 1e6
    suffixes = [s.lstrip(".") for s in ACCEPTED_SUFFIXES]
    files = st.file_uploader(
        f"Add articles ({', '.join(suffixes)}; up to {limit:.0f} MB each)",
        type=suffixes,
        accept_multiple_files=True,
        key=f"uploader-{done}",  # a new key clears the widget
    )
    add = st.button("Add to corpus", disabled=not files, type="primary")
    url = st.text_input("Or add a web page by its address", key=f"url-{done}")
    fetch = st.button("Add page", disabled=not url.strip())
    reindex = st.button(
        "Re-index folder", help="Read the corpus folder again: new, changed and removed files"
    )
    if add or fetch or reindex:
        if fetch:
            found = _add_page(pipeline, url)
        else:
            found = _index_uploads(pipeline, list(files or []) if add else [])
        st.session_state.upload_results = found
        st.session_state.uploads_done = done + 1
        st.rerun()  # the list shows the new corpus at once


def _index_uploads(pipeline: Pipeline, files: list[Any]) -> list[Result]:
    found: list[Result] = []
    saved, refused = save_uploads(pipeline.settings, [(f.name, f.getvalue()) for f in files])
    found += [("error", f"Not added: {why}") for why in refused]
    if files and not saved:
        return found
    return _reindex(pipeline, [p.name for p in saved], found)


def _add_page(pipeline: Pipeline, url: str) -> list[Result]:
    try:
        with st.spinner("Downloading…"):
            page = fetch_page(url, pipeline.settings)
    except RagError as exc:
        return [("error", f"Not added: {exc}")]
    return _reindex(pipeline, [page.path.name], [])


def _reindex(pipeline: Pipeline, saved: list[str], found: list[Result]) -> list[Result]:
    settings = pipeline.settings
    bar = st.progress(0.0, text="Indexing…")

    def advance(done: int, total: int) -> None:
        bar.progress(done / max(1, total), text="Indexing…")

    try:
        report = reindex(settings, embedder=pipeline.embedder, on_progress=advance)
        pipeline.refresh()
        added = f"Added {', '.join(saved)}. " if saved else ""
        found.insert(0, ("ok", added + report.summary()))
        found += [("error", f"{name}: skipped. {why}") for name, why in report.skipped.items()]
        found += [("info", f"{name}: {why}") for name, why in report.warnings.items()]
    except RagError as exc:
        found.append(("error", str(exc)))
    bar.empty()
    return found


def remove_panel(pipeline: Pipeline, corpus: CorpusInfo) -> None:
    """Remove uploaded articles: their files, then their passages (the index drops files that
    are gone from the folders). Articles of the corpus folder are managed there."""
    added = [f for f in corpus.files if f.source_file.startswith(UPLOADS_PREFIX)]
    if not added:
        st.caption("Articles you add here can be removed here; none are added yet.")
        return
    names = display_names(corpus)
    labels = {f.source_file: f"{names[f.source_file]} ({f.source_file})" for f in added}
    chosen = st.multiselect(
        "Uploaded articles to remove", list(labels), format_func=labels.__getitem__
    )
    if not st.button("Remove", icon=":material/delete:", disabled=not chosen):
        return
    found: list[Result] = []
    for name in chosen:
        try:
            upload_path(pipeline.settings, name).unlink(missing_ok=True)
        except RagError as exc:
            found.append(("error", str(exc)))
    st.session_state.upload_results = _reindex(pipeline, [], found)
    st.rerun()


def main() -> None:
    """Render the Articles page."""
    st.title("Articles")
    try:
        pipeline = load_pipeline()
    except RagError as exc:
        st.error(str(exc))
        st.stop()
    results()
    corpus = pipeline.corpus()
    listing(corpus)
    left, right = st.columns(2)
    with left:
        st.subheader("Add")
        uploads(pipeline)
    with right:
        st.subheader("Remove")
        remove_panel(pipeline, corpus)


main()
