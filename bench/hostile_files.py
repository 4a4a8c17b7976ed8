"""Hostile files that are small on disk and expand without bound, and what indexing each costs.

    python -m bench.hostile_files [--out DIR]

Each file (a YAML alias bomb in Markdown front matter, a .docx zip bomb, a million-paragraph
.docx, a 20,000-entry feed, a JSONL file with bad lines) is indexed alone by `rag index` in a
child process, into a fresh store; so is one plain article, the baseline. Prints, per file, its
size on disk, the child's peak resident memory (`wait4` rusage) and wall time, as figures and as
ratios to the baseline measured in the same run, and what the index report said; writes
hostile_files.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT, print_table


def alias_bomb() -> bytes:
    """An 800-byte Markdown file whose front matter expands to 9**9 strings when printed."""
    lines = ["---", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, 9):
        name, prev = chr(ord("a") + n), chr(ord("a") + n - 1)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    lines += ["title: *i", "author: *i", "---", "The harbour in Tallinn reopened on Monday."]
    return "\n".join(lines).encode()


def docx_with(body: Iterator[bytes]) -> bytes:
    """A valid .docx (from python-docx's template) whose document.xml is `body`, streamed."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename == "word/document.xml":
                info = zipfile.ZipInfo("word/document.xml")
                info.compress_type = zipfile.ZIP_DEFLATED
                with dst.open(info, "w", force_zip64=True) as part:
                    for piece in body:
                        part.write(piece)
            else:
                dst.writestr(item, src.read(item))
    return out.getvalue()


HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body>"
)
TAIL = b"</w:body></w:document>"
PARAGRAPH = b"<w:p><w:r><w:t>Harbour news of the day.</w:t></w:r></w:p>"


def zip_bomb() -> bytes:
    """A .docx whose document.xml inflates to 1 GB (a few MB on disk)."""
    block = PARAGRAPH * (1_000_000 // len(PARAGRAPH))
    return docx_with(iter([HEAD, *([block] * 1000), TAIL]))


def million_paragraphs() -> bytes:
    """A .docx of a million short paragraphs (35 MB of XML, ~250 KB on disk)."""
    block = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 10_000
    return docx_with(iter([HEAD, *([block] * 100), TAIL]))


def big_feed(n: int = 20_000) -> bytes:
    items = "".join(
        f"<item><title>Entry {i}</title><link>https://example.org/{i}</link>"
        f"<description>Harbour entry number {i} of the long feed says little.</description></item>"
        for i in range(n)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    return f"{head}{items}</channel></rss>".encode()


def bad_jsonl(n: int = 1_000, bad: tuple[int, ...] = (3, 500)) -> bytes:
    """A JSONL export of `n` short articles whose lines `bad` (1-based) are broken."""
    lines = []
    for i in range(1, n + 1):
        row = {"id": f"a{i}", "title": f"Item {i}", "text": f"Harbour item {i} says little."}
        lines.append("{broken" if i in bad else json.dumps(row))
    return ("\n".join(lines) + "\n").encode()


BASELINE = ("good.txt", lambda: b"Harbour\n\nThe harbour in Tallinn reopened on Monday.\n", 10)
FILES: list[tuple[str, Any, float]] = [
    BASELINE,
    ("bomb.md", alias_bomb, 10),
    ("bomb.docx", zip_bomb, 10),
    ("paragraphs.docx", million_paragraphs, 100),  # past the size limit only at 100 MB: counted
    ("feed.xml", big_feed, 10),
    ("bad-lines.jsonl", bad_jsonl, 10),
]


def measure(name: str, data: bytes, max_mb: float, work: Path) -> dict[str, Any]:
    """Index a folder holding only this file in a child `rag index`; its peak RSS and time."""
    corpus = work / name.replace(".", "-")
    corpus.mkdir()
    (corpus / name).write_bytes(data)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "RAG_CHROMA_PATH": str(work / f"{corpus.name}-chroma"),
        "RAG_MAX_FILE_MB": str(max_mb),
    }
    command = [sys.executable, "-m", "cli", "index", str(corpus), "-q"]
    log = work / f"{corpus.name}.log"
    start = time.perf_counter()
    with log.open("wb") as sink:
        child = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not the sum
    seconds = time.perf_counter() - start
    text = log.read_text(errors="replace")
    said = [line for line in text.splitlines() if name in line or "Indexed" in line]
    return {
        "file": name,
        "disk_kb": round(len(data) / 1024, 1),
        "peak_mb": round(usage.ru_maxrss / 1024, 1),
        "seconds": round(seconds, 2),
        "exit": os.waitstatus_to_exitcode(status),
        "said": " | ".join(said)[:300],
    }


def main() -> None:
    """Measure each file; print the table and write hostile_files.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, make, max_mb in FILES:
            rows.append(measure(name, make(), max_mb, Path(tmp)))
            print(f"{name}: done", file=sys.stderr, flush=True)
    base = rows[0]
    for row in rows:
        row["peak_x"] = round(row["peak_mb"] / base["peak_mb"], 2)
        row["time_x"] = round(row["seconds"] / base["seconds"], 2)
    columns = [
        ("file", "{file}"),
        ("KB on disk", "{disk_kb}"),
        ("peak MB", "{peak_mb}"),
        ("x base", "{peak_x}"),
        ("seconds", "{seconds}"),
        ("x base", "{time_x}"),
    ]
    print_table(rows, columns)
    for row in rows:
        print(f"{row['file']}: {row['said']}")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = {"measured": stamp, "command": "python -m bench.hostile_files", "rows": rows}
    (args.out / "hostile_files.json").write_text(json.dumps(body, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
