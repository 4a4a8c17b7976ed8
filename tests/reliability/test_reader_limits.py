"""Round three, items 6 and 7: files small on disk that expand without bound (a YAML alias bomb,
a .docx zip bomb, a million paragraphs, twenty thousand feed entries) are refused by the reader
with one line naming the limit, each read in a child process capped at 1 GB of address space
(so a regression fails here instead of exhausting the machine); a JSONL file with bad lines
keeps its good ones and names the bad lines by their real numbers.

Memory and time per file of `rag index` are measured by `bench/hostile_files.py`, not here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import rag
from bench.hostile_files import alias_bomb, big_feed, million_paragraphs, zip_bomb
from index import build_index
from index.formats import read_articles
from rag import Settings
from tests.support import ROOT

CHILD_MEMORY = 1 << 30
CHILD_SECONDS = 120


HOSTILE = {
    "bomb.md": (alias_bomb, None, "YAML aliases"),
    "bomb.docx": (zip_bomb, 10_000_000, "over the limit of 10 MB (raise RAG_MAX_FILE_MB"),
    "paragraphs.docx": (million_paragraphs, 100_000_000, "more than 20,000 paragraphs"),
    "feed.xml": (big_feed, None, "more than 2,000 entries"),
}

_CHILD = """
import json, resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from index.formats import read_articles
from rag.errors import BadInputError
path, limit = Path(sys.argv[1]), (int(sys.argv[2]) if sys.argv[2] != "None" else None)
try:
    articles, warnings = read_articles(path.name, path, max_bytes=limit)
    print(json.dumps({{"articles": len(articles), "warnings": warnings,
        "title": articles[0].title[:200] if articles else ""}}))
except BadInputError as exc:
    print(json.dumps({{"refused": str(exc)}}))
"""


@pytest.mark.slow  # a child process per file
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_naming_the_limit(tmp_path: Path, name: str) -> None:
    make, limit, reason = HOSTILE[name]
    path = tmp_path / name
    path.write_bytes(make())
    assert path.stat().st_size < 5_000_000  # small on disk
    child = subprocess.run(
        [sys.executable, "-c", _CHILD.format(memory=CHILD_MEMORY), str(path), str(limit)],
        capture_output=True,
        text=True,
        timeout=CHILD_SECONDS,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    found = json.loads(child.stdout)
    said = found.get("refused") or "; ".join(found.get("warnings", []))
    assert reason in said, found
    if name == "bomb.md":  # the front matter is ignored, the article kept
        assert found["articles"] == 1 and "lol" not in found["title"]


def test_the_time_budget_refuses_a_slow_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("index.formats.limits.READ_SECONDS", 0.0)
    path = tmp_path / "feed.xml"
    path.write_bytes(big_feed(5))
    with pytest.raises(rag.BadInputError, match=r"reading took over 0 s \(the limit per file\)"):
        read_articles(path.name, path)


@pytest.mark.slow  # `rag index` in a child process
def test_rag_index_skips_hostile_files_with_one_line_each(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bomb.docx").write_bytes(zip_bomb())
    (corpus / "feed.xml").write_bytes(big_feed())
    (corpus / "good.txt").write_text("Harbour\n\nThe harbour in Tallinn reopened on Monday.\n")
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    report = build_index(corpus, settings, progress=False)
    assert report.added == ["good.txt"]
    assert "RAG_MAX_FILE_MB" in report.skipped["bomb.docx"]
    assert "more than 2,000 entries" in report.skipped["feed.xml"]
    notices = "\n".join(report.notices())
    assert "bomb.docx" in notices and "feed.xml" in notices


def test_jsonl_with_bad_lines_keeps_the_rest_and_names_the_lines(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "title": "Harbour", "text": "The harbour in Tallinn reopened on Monday."},
        {"id": "b", "title": "Bridge", "text": "The bridge in Tartu\u2028closed for repairs."},
        "{this line is broken",
        {"id": "c", "title": "Ferry", "text": "The ferry to Hiiumaa carried 318 passengers."},
        '{"id": "d", "text": "truncated',
        {"id": "e", "title": "Pier", "text": "The pier in Parnu was lengthened by 86 metres."},
    ]
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "export.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles, warnings = read_articles("export.jsonl", corpus / "export.jsonl")
    assert [a.source_file for a in articles] == [f"export.jsonl#{k}" for k in "abce"]
    assert warnings == ["lines 3, 5 not valid JSON; left out"]
    settings = Settings(chroma_path=tmp_path / "chroma", corpus_dir=corpus)
    report = build_index(corpus, settings, progress=False)
    assert len(report.added) == 4 and "lines 3, 5" in report.warnings["export.jsonl"]
