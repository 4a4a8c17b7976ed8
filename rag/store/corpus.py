"""Reading article files: their decoded text, date and title taken from the header."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from rag.errors import BadInputError

# Plain text files: their text is the file's, read again to check a citation.
TEXT_SUFFIXES = (".txt", ".md")
# Every format the indexer reads (`index.formats`); the others' text is extracted once and kept
# with the index, where citations are checked against it.
SUPPORTED_SUFFIXES = (
    *TEXT_SUFFIXES,
    ".html",
    ".htm",
    ".pdf",
    ".docx",
    ".json",
    ".jsonl",
    ".xml",
    ".rss",
    ".atom",
)
# A source inside a multi-article file (feed, JSON export) is named `<file>#<entry>`.
ENTRY_MARK = "#"

# The sample corpus opens some files with " date YYYY-MM-DD " before the first line.
_DATE_PREFIX = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s")
_TITLE_MAX = 120

# Byte-order marks and the text encodings they announce. UTF-32-LE's mark begins with
# UTF-16-LE's, so it is tried first.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# As git and grep decide: a NUL byte this early in UTF-8 means a binary format (or UTF-16
# with no mark); UTF-16/32 text is full of NUL bytes, so the check is for UTF-8 only.
_SNIFF_BYTES = 8192
_NOT_TEXT = "binary data, or UTF-16 text without a byte-order mark; save text as UTF-8 to index it"


@dataclass(frozen=True)
class Article:
    """One article: `text` is what citations index into (a plain file's whole text, or the text
    extracted from a page, PDF, document or feed entry); the body starts at `body_start`.

    `warnings` are problems found in the header, one line each (the file is still indexed).
    """

    source_file: str
    text: str
    body_start: int
    date: dt.date | None
    title: str
    warnings: tuple[str, ...] = ()
    author: str = ""
    outlet: str = ""
    url: str = ""
    language: str = ""
    # Offsets into `text` where each page starts (PDF): a citation's page is found from them.
    pages: tuple[int, ...] = ()
    # The text was extracted (not the file's own): it is kept with the index.
    extracted: bool = False
    # Where the text and metadata came from, e.g. the JSON fields used, for the index report.
    origin: str = ""

    @property
    def body(self) -> str:
        """The article text with the date header left out."""
        return self.text[self.body_start :]


def read_text(path: Path) -> str:
    """A file's text exactly as the indexer saw it: citation offsets index this string.

    UTF-8, or UTF-16/32 after a byte-order mark (the mark is not text); undecodable bytes and
    NUL characters become U+FFFD; no newline translation. See `_decode`.
    """
    return _decode(path.read_bytes())[0]


def load_text(path: Path) -> tuple[str, tuple[str, ...]]:
    """A file's text (as `read_text` gives it) and a warning per repair; binary files are refused.

    Raises:
        BadInputError: NUL bytes in the first 8 KB of a file read as UTF-8 (an image or other
            binary renamed .txt, or UTF-16 without a byte-order mark).
        OSError: the file cannot be read (e.g. deleted meanwhile).
    """
    data = path.read_bytes()
    if _bom(data)[1] == "utf-8" and b"\x00" in data[:_SNIFF_BYTES]:
        raise BadInputError(f"{path.name}: {_NOT_TEXT}")
    return _decode(data)


def _decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    """Decode a file's bytes, saying what had to be repaired, one line per problem.

    UTF-8 unless a byte-order mark says UTF-16 or UTF-32; the mark itself is not part of the
    text. Undecodable bytes become U+FFFD. So do NUL characters, one for one so offsets do not
    move: past the first 8 KB (which `load_text` checks) they are stray bytes in a text file,
    and they must not reach a terminal or a prompt.
    """
    bom, codec = _bom(data)
    warnings = []
    try:
        text = data[len(bom) :].decode(codec)
    except UnicodeDecodeError as exc:
        text = data[len(bom) :].decode(codec, errors="replace")
        name = codec.upper().removesuffix("-LE").removesuffix("-BE")
        warnings.append(
            f"invalid {name} at byte {len(bom) + exc.start}; undecodable bytes shown as U+FFFD"
        )
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "\ufffd")
        warnings.append(
            f"{nuls} NUL character{'s' if nuls > 1 else ''} shown as U+FFFD; "
            "remove them or re-save the file as plain text"
        )
    return text, tuple(warnings)


def _bom(data: bytes) -> tuple[bytes, str]:
    """The file's byte-order mark (empty if none) and the codec that reads what follows it."""
    return next(((bom, codec) for bom, codec in _BOMS if data.startswith(bom)), (b"", "utf-8"))


def parse_article(source_file: str, text: str) -> Article:
    """Split a file's text into its date header, title and body.

    A header whose date does not exist (2025-02-30) is still a header: it stays out of the
    title and body, the article is undated, and `Article.warnings` says so.
    """
    match = _DATE_PREFIX.match(text)
    body_start = match.end() if match else 0
    date: dt.date | None = None
    warnings: tuple[str, ...] = ()
    if match:
        try:
            date = dt.date.fromisoformat(match.group(1))
        except ValueError:
            warnings = (
                f"date header '{match.group(1)}' is not a real date; indexed without a date",
            )
    title = _title(text[body_start:], source_file)
    return Article(source_file, text, body_start, date, title, warnings)


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
    """Save an uploaded article into `folder` under a sanitised name; refuse what cannot be one.

    A .txt or .md upload must be UTF-8 text; the other formats are checked when indexed (a
    file that turns out unreadable is skipped with its reason, like any file of the folder).

    Raises:
        BadInputError: wrong type, too large, not UTF-8 text, or an unusable name.
    """
    base = _SAFE_NAME.sub("_", Path(name.replace("\\", "/")).name).strip(" .")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadInputError(f"{name!r}: only {', '.join(SUPPORTED_SUFFIXES)} files can be added.")
    if not Path(base).stem.strip(" ._"):
        raise BadInputError(f"{name!r}: the file name is empty once unsafe characters are removed.")
    if len(data) > max_bytes:
        raise BadInputError(
            f"{name!r} is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB."
        )
    if suffix in TEXT_SUFFIXES:
        _check_text(name, data)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / base
    target.write_bytes(data)
    return target


def _check_text(name: str, data: bytes) -> None:
    if b"\x00" in data:
        raise BadInputError(f"{name!r} is not a text file (it contains binary data).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInputError(
            f"{name!r} is not UTF-8 text; save it as UTF-8 and try again."
        ) from None


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
