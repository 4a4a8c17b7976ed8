"""Reading article files: text exactly as on disk, date and title taken from the header."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BadInputError

SUPPORTED_SUFFIXES = (".txt", ".md")

# The sample corpus opens some files with " date YYYY-MM-DD " before the first line.
_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s")
_TITLE_MAX = 120


@dataclass(frozen=True)
class Article:
    """One article file: `text` is the whole file; the body starts at `body_start`."""

    source_file: str
    text: str
    body_start: int
    date: dt.date | None
    title: str

    @property
    def body(self) -> str:
        """The article text with the date header left out."""
        return self.text[self.body_start :]


def read_text(path: Path) -> str:
    """Read a file as UTF-8 with no newline translation, so offsets index the file as stored.

    Undecodable bytes become U+FFFD rather than failing the whole run.
    """
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        return fh.read()


def load_text(path: Path) -> tuple[str, str | None]:
    """A file's text and a warning when bytes had to be replaced; binary files are refused.

    Raises:
        BadInputError: the file holds NUL bytes (an image or other binary renamed .txt).
        OSError: the file cannot be read (e.g. deleted meanwhile).
    """
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise BadInputError(f"{path.name}: binary file, not text")
    try:
        data.decode("utf-8")
        warning = None
    except UnicodeDecodeError as exc:
        warning = f"invalid UTF-8 at byte {exc.start}; undecodable bytes shown as U+FFFD"
    return read_text(path), warning


def parse_article(source_file: str, text: str) -> Article:
    """Split a file's text into its date header, title and body."""
    match = _DATE_PREFIX.match(text)
    date: dt.date | None = None
    body_start = 0
    if match:
        try:
            date = dt.date.fromisoformat(match.group(1))
            body_start = match.end()
        except ValueError:
            date = None
    return Article(source_file, text, body_start, date, _title(text[body_start:], source_file))


def _title(body: str, source_file: str) -> str:
    first_line = body.strip().split("\n", 1)[0].strip().lstrip("#").strip()
    if not first_line:
        return Path(source_file).stem
    if len(first_line) <= _TITLE_MAX:
        return first_line
    sentence = _SENTENCE_END.split(first_line, maxsplit=1)[0].strip()
    if len(sentence) <= _TITLE_MAX:
        return sentence
    return sentence[: _TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


def list_article_files(folder: Path) -> list[Path]:
    """Supported files below `folder`, sorted; symlinks are not followed."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SUPPORTED_SUFFIXES and p.is_file() and not p.is_symlink()
    )


def source_name(folder: Path, path: Path) -> str:
    """The name a citation uses for `path`: its POSIX path relative to the corpus folder."""
    return path.relative_to(folder).as_posix()


MAX_UPLOAD_BYTES = 5_000_000
_SAFE_NAME = re.compile(r"[^\w .()-]+", re.UNICODE)


def save_upload(folder: Path, name: str, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Save an uploaded article into `folder` under a sanitised name; refuse what is not text.

    Raises:
        BadInputError: wrong type, too large, not UTF-8 text, or an unusable name.
    """
    base = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    if Path(base).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadInputError(f"{name!r}: only .txt and .md articles can be added.")
    if not Path(base).stem.strip(" ._"):
        raise BadInputError(f"{name!r}: the file name is empty once unsafe characters are removed.")
    if len(data) > max_bytes:
        raise BadInputError(
            f"{name!r} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    if b"\x00" in data:
        raise BadInputError(f"{name!r} is not a text file (it contains binary data).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(
            f"{name!r} is not UTF-8 text; save it as UTF-8 and try again."
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / base
    target.write_bytes(data)
    return target


# Uploaded articles are cited under this prefix, so they never collide with corpus files.
UPLOADS_PREFIX = "uploads/"


def article_sources(corpus: Path, uploads: Path | None) -> list[tuple[str, Path]]:
    """(source name, path) of every article of the corpus folder and of the upload folder.

    Uploads are named `uploads/<name>`; a corpus file already named so wins over an upload.
    """
    sources = [(source_name(corpus, p), p) for p in list_article_files(corpus)]
    taken = {name for name, _ in sources}
    if uploads is not None and uploads.is_dir() and uploads.resolve() != corpus.resolve():
        for path in list_article_files(uploads):
            name = UPLOADS_PREFIX + source_name(uploads, path)
            if name not in taken:
                sources.append((name, path))
    return sources


def resolve_source(corpus: Path, uploads: Path | None, source_file: str) -> Path | None:
    """The file a source name stands for, if it is inside the corpus or the upload folder."""
    candidates = [(corpus, source_file)]
    if uploads is not None and source_file.startswith(UPLOADS_PREFIX):
        candidates.append((uploads, source_file.removeprefix(UPLOADS_PREFIX)))
    for root, name in candidates:
        base = root.resolve()
        path = (base / name).resolve()
        if path.is_relative_to(base) and path.is_file():
            return path
    return None
