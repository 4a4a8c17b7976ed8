"""Sentence spans and content words: the units quotes and support scores are built on."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import Stemmer

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)
_LINE_BREAK = re.compile(r"\n\s*")
# NLTK's English `punkt_tab` tables, shipped as rag/assets/punkt_english_<file>.
PUNKT = "punkt_english_"
_EXTRA_ABBREVIATIONS = ("i.e", "e.g", "cf", "viz", "approx", "nos", "no")
# "No." is the number sign before a number, but ends a sentence otherwise ("She said no.").
_NUMBER_SIGN = re.compile(r"\bNo\.$")
_WORD_NO = re.compile(r"\bno\.(?=\s+[A-Z\"“])")
# A sentence that opens by pointing back to the one before it ("He…", "This issue…").
DANGLING = re.compile(
    r"^[\"'“‘(]*(?:This|These|That|Those|It|Its|They|Their|Them|He|His|She|Her|Such|Both|"
    r"The (?:issue|matter|move|decision|problem|plan|case|idea|change|letter|report|"
    r"statement|claim|request|proposal|deal|agreement|measure|law|ruling|incident)s?)\b"
)
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


_PUNKT_LOCK = threading.Lock()


def _punkt_classes() -> tuple[Any, Any, Any]:
    """nltk's PunktDecoder, PunktParameters and PunktSentenceTokenizer, without all of nltk.

    `import nltk` imports the whole toolkit (its collocations pull in scipy.stats: 1-3 s of
    every cold `rag ask`, `make bench-startup`). Punkt needs ten of its modules: while nltk is
    not loaded, `_punkt_alone` loads only those. Any failure falls back to the plain import.
    """
    with _PUNKT_LOCK:
        if "nltk" not in sys.modules:
            try:
                return _punkt_alone()
            except Exception:
                pass  # the plain import below
        from nltk.tabdata import PunktDecoder
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        return PunktDecoder, PunktParameters, PunktSentenceTokenizer


def _punkt_alone() -> tuple[Any, Any, Any]:
    """Punkt's classes loaded under bare stand-ins for the `nltk` and `nltk.tokenize` packages
    (their `__init__`s not run), which then leave sys.modules with the modules loaded under
    them: a later `import nltk` anywhere gets the real package."""
    try:
        for name in ("nltk", "nltk.tokenize"):
            spec = importlib.util.find_spec(name)
            assert spec is not None
            sys.modules[name] = importlib.util.module_from_spec(spec)
        from nltk.tabdata import PunktDecoder
        from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

        return PunktDecoder, PunktParameters, PunktSentenceTokenizer
    finally:
        for name in [n for n in sys.modules if n.split(".")[0] == "nltk"]:
            del sys.modules[name]


@cache
def _punkt() -> PunktSentenceTokenizer:
    # Loaded from the Punkt tables shipped in rag/assets directly:
    # nltk.data.path, which every NLTK user in the process shares, is left alone.
    # (nltk's own loader only opens files under nltk.data.path.) Read as `load_punkt_params`.
    assets = resources.files("rag.assets")
    PunktDecoder, PunktParameters, PunktSentenceTokenizer = _punkt_classes()
    params, decode = PunktParameters(), PunktDecoder()
    with assets.joinpath(f"{PUNKT}collocations.tab").open(encoding="utf-8") as f:
        params.collocations = set(decode.tab2tups(f))
    with assets.joinpath(f"{PUNKT}sent_starters.txt").open(encoding="utf-8") as f:
        params.sent_starters = decode.txt2set(f)
    with assets.joinpath(f"{PUNKT}abbrev_types.txt").open(encoding="utf-8") as f:
        params.abbrev_types = decode.txt2set(f)
    with assets.joinpath(f"{PUNKT}ortho_context.tab").open(encoding="utf-8") as f:
        params.ortho_context = decode.tab2intdict(f)
    # Abbreviations the vendored tables lack: a split after "i.e." or "e.g." loses the
    # example, which is often the answer.
    params.abbrev_types.update(_EXTRA_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


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
        for start, end in _merged(_punkt().span_tokenize(line), line):
            piece = line[start:end]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                trail = len(piece) - len(piece.rstrip())
                spans.append((line_start + start + lead, line_start + end - trail))
        if match:
            line_start = match.end()
    return tuple(spans)


def _merged(spans: Iterable[tuple[int, int]], line: str) -> list[tuple[int, int]]:
    """Punkt's spans with a split after "No." undone before a number, and a lone "no."
    (the word, not the number sign) split off again."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and _NUMBER_SIGN.search(line[out[-1][0] : out[-1][1]]):
            if line[start : start + 1].isdigit():
                out[-1] = (out[-1][0], end)
                continue
        out.append((start, end))
    return _split_word_no(out, line)


def _split_word_no(spans: list[tuple[int, int]], line: str) -> list[tuple[int, int]]:
    """Split after a lower-case "no." that Punkt took for the number sign."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        for match in _WORD_NO.finditer(line, start, end):
            if match.end() < end:
                out.append((start, match.end()))
                start = match.end()
        out.append((start, end))
    return out


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


@lru_cache(maxsize=262_144)
def content_terms(text: str) -> frozenset[str]:
    """Stemmed words that carry meaning: stopwords left out, numbers kept."""
    kept = [w for w in words(text) if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]
    return frozenset(_stemmer().stemWords(kept))
