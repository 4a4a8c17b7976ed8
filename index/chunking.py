"""Token-aware chunking of articles into llama-index nodes that know their file offsets."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from llama_index.core import Document
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, TextNode

from rag.filters import date_key
from rag.store import Article
from rag.text.sentences import sentence_spans
from rag.text.tokens import encoding

# Bump when chunk layout or metadata changes, so every file is re-chunked once.
CHUNKER_VERSION = "7"  # 5: sentence spans keep i.e., e.g., No. 1 together; 6: segments;
# 7: article records (metadata, extracted text) beside the chunks; author/outlet/url/language

# Longest stretch of a body split at once (a few hundred chunks): bounds indexing memory.
SEGMENT_CHARS = 100_000

# Metadata carried by every chunk; only the title is embedded alongside the text.
_NOT_EMBEDDED = [
    "source_file",
    "date",
    "date_int",
    "position",
    "start",
    "end",
    "file_hash",
    "chunk_count",
    "sentence_count",
    "indexed_at",
    "author",
    "outlet",
    "url",
    "language",
]


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """llama-index's sentence-respecting splitter, counting tokens with tiktoken."""
    if chunk_overlap >= chunk_size:
        chunk_overlap = chunk_size // 4
    tokenize: Callable[[str], list[int]] = encoding().encode
    return SentenceSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        tokenizer=tokenize,
        include_metadata=False,
        include_prev_next_rel=False,
    )


def file_hash(article: Article, fingerprint: str) -> str:
    """Content hash of a file under given index settings: equal hash, nothing to redo."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(article.text.encode("utf-8", errors="surrogatepass"))
    # Metadata found outside the text (front matter, JSON fields, a page's JSON-LD) counts too.
    meta = (article.title, article.date, article.author, article.outlet, article.url)
    digest.update(repr((meta, article.language, article.pages)).encode())
    return digest.hexdigest()[:24]


def chunk_article(
    article: Article, splitter: SentenceSplitter, digest: str, indexed_at: float
) -> list[TextNode]:
    """Split an article's body into nodes whose offsets index the whole file."""
    nodes = list(iter_chunks(article, splitter, digest, indexed_at))
    for node in nodes:
        node.metadata["chunk_count"] = len(nodes)
    return nodes


def iter_chunks(
    article: Article,
    splitter: SentenceSplitter,
    digest: str,
    indexed_at: float,
    segment_chars: int = SEGMENT_CHARS,
) -> Iterator[TextNode]:
    """The article's chunks in order, made one segment of the body at a time.

    Splitting a whole 20 MB body at once holds every chunk of it in memory before the first
    is written; segments of at most `segment_chars`, cut at a paragraph (else line, sentence
    or word) break, bound that. An article shorter than a segment is chunked whole.
    """
    body = article.body  # one copy: slicing the property per chunk would copy the file each time
    position = 0
    for seg_start, seg_end in _segments(body, segment_chars):
        segment = body[seg_start:seg_end]
        if not segment.strip():
            continue
        pieces = splitter.get_nodes_from_documents([Document(text=segment, id_="segment")])
        cursor = 0
        for piece in pieces:
            text = piece.get_content(metadata_mode=MetadataMode.NONE)
            local = piece.start_char_idx if isinstance(piece, TextNode) else None
            if local is None or segment[local : local + len(text)] != text:
                local = segment.find(text, cursor)
            if local < 0:  # the splitter altered the text; keep offsets honest by skipping it
                continue
            cursor = local + 1
            start = article.body_start + seg_start + local
            yield _node(article, text, position, start, digest, indexed_at)
            position += 1


def _segments(body: str, limit: int) -> Iterator[tuple[int, int]]:
    """(start, end) spans covering `body`, each at most `limit` characters where a break
    allows, cut after the last paragraph, line, sentence or word break before the limit."""
    start = 0
    while len(body) - start > limit:
        end = start + limit
        for mark in ("\n\n", "\n", ". ", " "):
            cut = body.rfind(mark, start + limit // 2, end)
            if cut >= 0:
                end = cut + len(mark)
                break
        yield start, end
        start = end
    yield start, len(body)


def _node(
    article: Article, text: str, position: int, start: int, digest: str, indexed_at: float
) -> TextNode:
    metadata: dict[str, str | int | float] = {
        "source_file": article.source_file,
        "title": article.title,
        "position": position,
        "start": start,
        "end": start + len(text),
        "file_hash": digest,
        "indexed_at": indexed_at,
    }
    # date_int 0 marks an undated article: date ranges exclude it, `as_of` keeps it.
    metadata["date_int"] = date_key(article.date) if article.date else 0
    if article.date is not None:
        metadata["date"] = article.date.isoformat()
    for key in ("author", "outlet", "url", "language"):
        if getattr(article, key):
            metadata[key] = getattr(article, key)
    node = TextNode(
        id_=f"{article.source_file}#{digest[:12]}#{position}",
        text=text,
        metadata=metadata,
        start_char_idx=start,
        end_char_idx=start + len(text),
        excluded_embed_metadata_keys=list(_NOT_EMBEDDED),
        excluded_llm_metadata_keys=[*_NOT_EMBEDDED, "title"],
        metadata_template="{value}",
        text_template="{metadata_str}\n{content}",
    )
    node.set_content(text)  # keep the text exactly as in the file
    return node


SentenceRecord = tuple[str, str, dict[str, str | int | float]]


def sentence_records(node: TextNode) -> list[SentenceRecord]:
    """(id, text, metadata) of each sentence of a chunk, offsets into the file."""
    meta = node.metadata
    keep: dict[str, str | int | float] = {
        k: meta[k] for k in ("source_file", "file_hash", "date_int") if k in meta
    }
    records = []
    for i, (start, end) in enumerate(sentence_spans(node.text)):
        offset = int(meta["start"])
        meta_out: dict[str, str | int | float] = {**keep, "chunk_id": node.node_id}
        meta_out.update(start=offset + start, end=offset + end)
        records.append((f"{node.node_id}:{i}", node.text[start:end], meta_out))
    return records
