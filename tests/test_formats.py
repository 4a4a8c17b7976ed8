"""Every format indexes from a folder, and its citations are exact spans of `rag.article_text`.

The corpus is built here from the sample articles: a news-site HTML page (as `make
bench-extract` builds them), a two-page PDF Chromium printed (tests/fixtures), a Word file, an
RSS feed and a JSONL export of all five articles, a Markdown file with YAML front matter, and a
.txt file as the sample corpus has them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

import rag
from devtools.extract_set import articles, jsonl, news_page, rss, write_docx
from index import build_index
from rag import Pipeline, Settings

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "articles"


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, object]:
    """A folder holding every format, indexed once; the index report."""
    root = tmp_path_factory.mktemp("formats")
    corpus = root / "corpus"
    corpus.mkdir()
    items = articles()
    (corpus / "page.html").write_text(news_page(items[0], items, 0), encoding="utf-8")
    shutil.copy(FIXTURES / "two-pages.pdf", corpus / "printed.pdf")
    write_docx(items[3], corpus / "letter.docx")
    (corpus / "world.rss").write_text(rss(items), encoding="utf-8")
    (corpus / "export.jsonl").write_text(jsonl(items), encoding="utf-8")
    body = "\n\n".join(items[4]["paragraphs"])
    front = "---\ntitle: Open channel\ndate: 2025-10-10\nauthor: Elena Novak\n"
    front += "url: https://news.example.com/open-channel\n---\n"
    (corpus / "notes.md").write_text(front + body + "\n", encoding="utf-8")
    shutil.copy(SAMPLE / "002_d141276db4e5eb8d.txt", corpus / "plain.txt")
    settings = Settings(chroma_path=root / "chroma", corpus_dir=corpus, answer_mode="extractive")
    report = build_index(corpus, settings, progress=False)
    return settings, report


SOURCES = [
    "page.html",
    "printed.pdf",
    "letter.docx",
    "world.rss#trump-gives-putin-letter-from-melania",
    "export.jsonl#001_ef341db465d16e61",
    "notes.md",
    "plain.txt",
]


def test_every_format_is_indexed_with_its_metadata(formats: tuple[Settings, object]) -> None:
    settings, report = formats
    assert not report.skipped  # type: ignore[attr-defined]
    fields = report.fields["export.jsonl"]  # type: ignore[attr-defined]
    assert fields == (
        "json fields: text=body, title=headline, date=published_at (4 of 5), author=byline, "
        "url=url, outlet=publisher"
    )
    files = {f.source_file: f for f in Pipeline.from_settings(settings).corpus().files}
    assert set(SOURCES) <= set(files)
    assert len([n for n in files if n.startswith("world.rss#")]) == 5
    assert len([n for n in files if n.startswith("export.jsonl#")]) == 5
    page = files["page.html"]
    assert (page.date, page.author, page.outlet) == (
        dt.date(2025, 8, 16),
        "Anna Kowalski",
        "The Daily Ledger",
    )
    assert page.url == "https://news.example.com/world/000_e5097b3054c473ee"
    assert page.language == "en"
    undated = files["world.rss#trump-gives-putin-letter-from-melania"]
    assert undated.date is None and undated.author == "Priya Raman"
    assert files["export.jsonl#001_ef341db465d16e61"].date == dt.date(2025, 8, 16)
    assert files["notes.md"].title == "Open channel" and files["notes.md"].author == "Elena Novak"
    assert files["notes.md"].date == dt.date(2025, 10, 10)
    assert files["letter.docx"].author == "Tomás Herrera"
    assert files["printed.pdf"].author == "Anna Kowalski"


def test_extracted_text_is_the_article_not_the_page(formats: tuple[Settings, object]) -> None:
    settings, _ = formats
    text = rag.article_text("page.html", settings=settings)
    assert "Next time in Moscow" in text
    for furniture in ("cookie", "Advertisement", "Related stories", "ridiculous", "Sign up"):
        assert furniture not in text
    assert "<p>" not in rag.article_text(
        "world.rss#trump-gives-putin-letter-from-melania", settings=settings
    )


@pytest.mark.parametrize(
    ("source", "question"),
    [
        ("page.html", "Where was Melania Trump born?"),
        ("printed.pdf", "What did the first lady say every child shares?"),
        ("letter.docx", "What did the letter say about children's dreams?"),
        ("world.rss#trump-gives-putin-letter-from-melania", "Who first obtained the letter?"),
        ("export.jsonl#001_ef341db465d16e61", "What did Melania Trump write to Putin?"),
        ("notes.md", "What did Putin respond to Melania Trump?"),
        ("plain.txt", "Who first obtained the letter?"),
    ],
)
def test_citations_are_exact_spans_of_the_article_text(
    formats: tuple[Settings, object], source: str, question: str
) -> None:
    settings, _ = formats
    pipeline = Pipeline.from_settings(settings)
    answer = pipeline.answer(question, filters={"sources": [source]})
    cited = answer.citations or answer.closest
    assert cited, answer.text
    text = rag.article_text(source, settings=settings)
    for c in cited:
        assert c.source_file == source
        assert text[c.start : c.end] == c.quote and not c.stale


def test_a_pdf_citation_names_its_page(formats: tuple[Settings, object]) -> None:
    settings, _ = formats
    pipeline = Pipeline.from_settings(settings)
    text = rag.article_text("printed.pdf", settings=settings)
    answer = pipeline.answer("Where was Melania Trump born?", filters={"sources": ["printed.pdf"]})
    born = [c for c in answer.citations if "Slovenia" in c.quote]
    assert born and born[0].page == 1
    answer = pipeline.answer(
        "What is the universal nature of childhood innocence?", filters={"sources": ["printed.pdf"]}
    )
    later = [c for c in answer.citations + answer.closest if c.start > text.index("First lady")]
    assert later and all(c.page == 2 for c in later)


def test_feed_and_json_entries_carry_their_own_url(formats: tuple[Settings, object]) -> None:
    settings, _ = formats
    pipeline = Pipeline.from_settings(settings)
    answer = pipeline.answer(
        "Who first obtained the letter?",
        filters={"sources": ["world.rss#trump-gives-putin-letter-from-melania"]},
    )
    assert answer.citations
    assert answer.citations[0].url == "https://news.example.com/world/002_d141276db4e5eb8d"


def test_verification_never_re_extracts(formats: tuple[Settings, object], tmp_path: Path) -> None:
    """The kept text answers for the article even once the file is gone."""
    settings, _ = formats
    moved = tmp_path / "page.html"
    shutil.move(settings.corpus_dir / "page.html", moved)
    try:
        pipeline = Pipeline.from_settings(settings)
        answer = pipeline.answer(
            "Where was Melania Trump born?", filters={"sources": ["page.html"]}
        )
        assert answer.citations and not any(c.stale for c in answer.citations)
        assert "Slovenia" in rag.article_text("page.html", settings=settings)
    finally:
        shutil.move(moved, settings.corpus_dir / "page.html")


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(FIXTURES / "two-pages.pdf").pages[:1]:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _image_only_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zip_of_something_else() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "not a Word document")
    return out.getvalue()


BAD = {
    "locked.pdf": (_encrypted_pdf, "encrypted PDF; save a copy without a password"),
    "scan.pdf": (_image_only_pdf, "no text layer"),
    "broken.html": (lambda: b"<html><body><div><script>x()</script>", "no article text"),
    "empty.rss": (
        lambda: (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
        ),
        "no entries",
    ),
    "fields.json": (lambda: json.dumps([{"id": 1, "headline": "x"}]).encode(), "no text field"),
    "fake.docx": (_zip_of_something_else, "not a Word document"),
}


def test_bad_files_are_skipped_with_one_line_each(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE / "000_e5097b3054c473ee.txt", corpus / "good.txt")
    for name, (make, _) in BAD.items():
        (corpus / name).write_bytes(make())
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    report = build_index(corpus, settings, progress=False)
    assert report.added == ["good.txt"]
    for name, (_, reason) in BAD.items():
        assert reason in report.skipped[name], report.skipped[name]
    lines = report.notices()
    assert all("\n" not in line for line in lines)
    assert sum(line.startswith("skipped ") for line in lines) == len(BAD)
    pipeline = Pipeline.from_settings(settings)
    assert [f.source_file for f in pipeline.corpus().files] == ["good.txt"]
    for name in BAD:
        with pytest.raises(rag.BadInputError):
            pipeline.source_text(name)


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbor Times</title>
<entry><title>Zebra census</title><link href="https://harbor.example/zebras"/>
<id>tag:harbor.example,2025:zebras</id><updated>2025-09-01T08:00:00-04:00</updated>
<author><name>Ana Ruiz</name></author>
<content type="html">&lt;p&gt;The 2025 zebra census counted 4,812 zebras.&lt;/p&gt;
&lt;p&gt;Rangers credit two good rainy seasons.&lt;/p&gt;</content></entry>
<entry><title>No body</title><id>tag:harbor.example,2025:empty</id></entry>
</feed>"""


def test_atom_entries_json_lists_and_front_matter(tmp_path: Path) -> None:
    from index.formats import read_articles

    (tmp_path / "harbor.atom").write_bytes(ATOM)
    found, warnings = read_articles("harbor.atom", tmp_path / "harbor.atom")
    assert [a.source_file for a in found] == ["harbor.atom#zebra-census"]
    zebra = found[0]
    assert (zebra.date, zebra.author, zebra.outlet, zebra.url) == (
        dt.date(2025, 9, 1),
        "Ana Ruiz",
        "Harbor Times",
        "https://harbor.example/zebras",
    )
    assert (
        zebra.body
        == "The 2025 zebra census counted 4,812 zebras.\n\nRangers credit two good rainy seasons."
    )
    assert warnings == ["entry 2 has no text; left out"]

    export = {
        "articles": [
            {"Title": "One", "Content": "<p>First <b>story</b>.</p>", "Date": "2025-01-02"}
        ]
    }
    (tmp_path / "cms.json").write_text(json.dumps(export), encoding="utf-8")
    (one,), _ = read_articles("cms.json", tmp_path / "cms.json")
    assert (one.source_file, one.title, one.body, one.date) == (
        "cms.json#one",
        "One",
        "First story.",
        dt.date(2025, 1, 2),
    )

    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nBody text here.\n")
    (md,), warnings = read_articles("bad.md", tmp_path / "bad.md")
    assert md.body == "Body text here.\n" and "front matter is not valid YAML" in warnings[0]


def test_a_feed_entry_removed_leaves_the_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    items = articles()
    (corpus / "world.rss").write_text(rss(items), encoding="utf-8")
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    first = build_index(corpus, settings, progress=False)
    assert len(first.added) == 5
    again = build_index(corpus, settings, progress=False)
    assert len(again.unchanged) == 5 and again.chunks_written == 0
    (corpus / "world.rss").write_text(rss(items[1:]), encoding="utf-8")
    third = build_index(corpus, settings, progress=False)
    assert len(third.removed) == 1 and len(third.unchanged) == 4
    gone = third.removed[0]
    with pytest.raises(rag.BadInputError):
        Pipeline.from_settings(settings).source_text(gone)


def test_a_record_left_by_a_killed_run_is_swept(tmp_path: Path) -> None:
    """A run killed between an article's record and its chunks, the file then removed: the
    next run (which finds the store stamped incomplete) drops the record no chunk names."""
    from rag.providers.embeddings import build_embedder
    from rag.store.articles import read_records, write_records
    from rag.store.chroma import open_client, open_collection, write_generation

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE / "000_e5097b3054c473ee.txt", corpus / "good.txt")
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    build_index(corpus, settings, progress=False)
    embedder = build_embedder(settings)
    client = open_client(settings, create=False)
    texts = open_collection(client, settings, embedder, create=False, texts=True)
    state = open_collection(client, settings, embedder, create=False, state=True)
    write_records(
        texts, [("gone.html@abc", "text", {"source_file": "gone.html", "extracted": True})]
    )
    write_generation(state, complete=False)
    build_index(corpus, settings, progress=False)
    texts = open_collection(
        open_client(settings, create=False), settings, embedder, create=False, texts=True
    )
    assert read_records(texts, ["gone.html", "good.txt"]).keys() == {"good.txt"}
