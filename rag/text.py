"""Sentence spans and content words: the units quotes and support scores are built on."""

from __future__ import annotations

import re
import threading
from functools import cache, lru_cache
from pathlib import Path

import Stemmer
from nltk.tokenize.punkt import PunktTokenizer

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_LINE_BREAK = re.compile(r"\n\s*")
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t don did didn isn wasn weren also said says according""".split()
)


@cache
def _punkt() -> PunktTokenizer:
    import llama_index.core
    import nltk

    vendored = str(Path(llama_index.core.__file__).parent / "_static" / "nltk_cache")
    if vendored not in nltk.data.path:
        nltk.data.path.append(vendored)
    return PunktTokenizer("english")


_local = threading.local()


def _stemmer() -> Stemmer.Stemmer:
    # PyStemmer objects are not thread-safe: one per thread.
    stemmer: Stemmer.Stemmer | None = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


@lru_cache(maxsize=65_536)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Character spans of the sentences of `text`, line breaks ending a sentence too."""
    spans: list[tuple[int, int]] = []
    line_start = 0
    for match in [*_LINE_BREAK.finditer(text), None]:
        line_end = match.start() if match else len(text)
        line = text[line_start:line_end]
        for start, end in _punkt().span_tokenize(line):
            piece = line[start:end]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                trail = len(piece) - len(piece.rstrip())
                spans.append((line_start + start + lead, line_start + end - trail))
        if match:
            line_start = match.end()
    return tuple(spans)


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=262_144)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed words that carry meaning: stopwords left out, numbers kept."""
    kept = [w for w in words(text) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return frozenset(_stemmer().stemWords(kept))
