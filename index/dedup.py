"""Syndicated copies: near-duplicate articles grouped into one story at index time.

Each article's body (its text without the headline header) is cut into shingles of
`SHINGLE` words; a MinHash of them (datasketch, `NUM_PERM` permutations) is kept in the
article's record. After a run that changed the store, every record's MinHash goes into a
`MinHashLSH` index; each candidate pair it proposes is checked exactly (the Jaccard similarity
of the two shingle sets, at least `THRESHOLD`), and pairs that pass are joined into groups
(union-find). Each record then carries its group's `story` id (the first member's name) and is
updated only when that changed. `make bench-duplicates` measured the threshold.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection
from datasketch import MinHash, MinHashLSH

from rag.store import read_all

SHINGLE = 5  # words per shingle
NUM_PERM = 128
THRESHOLD = 0.5  # exact shingle Jaccard for two articles to be one story (bench-duplicates)
LSH_THRESHOLD = 0.3  # the LSH's own (approximate) bar for proposing a pair: below THRESHOLD
_WORD = re.compile(r"\w+")
_SEED = 1
_SCHEME = "affine32"  # datasketch 2's 32-bit values (fixed, so kept signatures stay valid)

__all__ = ["THRESHOLD", "decode", "encode", "group", "jaccard", "regroup", "shingles", "signature"]


def shingles(text: str) -> set[str]:
    """The text's word shingles (lower case; punctuation and spacing ignored)."""
    words = _WORD.findall(text.lower())
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def signature(text: str) -> MinHash:
    """The MinHash of the text's shingles."""
    found = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME)
    found.update_batch([s.encode("utf-8") for s in shingles(text)])
    return found


def encode(minhash: MinHash) -> str:
    """A MinHash as a short string for a record's metadata (its values fit 32 bits)."""
    return base64.b64encode(minhash.hashvalues.astype("<u4").tobytes()).decode("ascii")


def decode(text: str) -> MinHash:
    """The MinHash `encode` wrote."""
    values = np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)
    return MinHash(num_perm=NUM_PERM, seed=_SEED, hashvalues=values, scheme=_SCHEME)


def group(
    signatures: Mapping[str, MinHash],
    text_of: Callable[[str], str],
    threshold: float = THRESHOLD,
) -> dict[str, str]:
    """Each name's story id: the smallest name of its group of near-duplicates (itself when
    it has no copy). `text_of` gives a candidate's body for the exact check."""
    lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, threshold), num_perm=NUM_PERM)
    for name, minhash in signatures.items():
        lsh.insert(name, minhash)
    parent = {name: name for name in signatures}

    def root(name: str) -> str:
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    cache: dict[str, set[str]] = {}

    def cut(name: str) -> set[str]:
        if name not in cache:
            cache[name] = shingles(text_of(name))
        return cache[name]

    for name, minhash in signatures.items():
        for other in lsh.query(minhash):
            if other <= name or root(other) == root(name):
                continue
            if jaccard(cut(name), cut(other)) >= threshold:
                a, b = sorted((root(name), root(other)))
                parent[b] = a
    return {name: root(name) for name in signatures}


def regroup(texts: Collection, text_of: Callable[[str], str]) -> int:
    """Give every article record its story id; how many records changed story."""
    metas: dict[str, Mapping[str, Any]] = {}
    for got in read_all(texts, include=["metadatas"]):
        for record_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            if meta.get("minhash") and not meta.get("superseded"):  # current versions only
                metas[record_id] = meta
    by_source = {str(m["source_file"]): i for i, m in metas.items()}
    signatures = {name: decode(str(metas[i]["minhash"])) for name, i in by_source.items()}
    stories = group(signatures, text_of)
    changed = [
        (by_source[name], story)
        for name, story in stories.items()
        if metas[by_source[name]].get("story") != story
    ]
    for start in range(0, len(changed), 1000):
        part = changed[start : start + 1000]
        texts.update(
            ids=[i for i, _ in part],
            metadatas=[{**metas[i], "story": story} for i, story in part],
        )
    return len(changed)
