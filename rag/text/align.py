"""Word alignment between a question and a sentence: what matches, what is missing, what flips.

Unanswerable questions are often a near copy of an answerable one with one word changed: a
prefix flip (distinguishable/indistinguishable), an antonym (first/last), a negation, a
different name or number. Each question content word is aligned to the sentence word that
matches it best (same stem, or a shared stem prefix); unmatched words are checked for such
flips. Plain token code over stems: no model is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.text.sentences import content_terms, words

_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "anti", "mis", "counter", "de")
_ANTONYMS = [
    ("first", "last"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("most", "least"),
    ("more", "less"),
    ("more", "fewer"),
    ("higher", "lower"),
    ("highest", "lowest"),
    ("before", "after"),
    ("early", "late"),
    ("earliest", "latest"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("win", "lose"),
    ("won", "lost"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("rise", "fall"),
    ("accept", "reject"),
    ("accepted", "rejected"),
    ("allow", "forbid"),
    ("major", "minor"),
    ("best", "worst"),
    ("better", "worse"),
    ("old", "new"),
    ("oldest", "newest"),
    ("upper", "lower"),
    ("inside", "outside"),
    ("maximum", "minimum"),
    ("start", "end"),
    ("begin", "end"),
    ("began", "ended"),
    ("open", "closed"),
    ("public", "private"),
    ("internal", "external"),
    ("male", "female"),
    ("strong", "weak"),
    ("long", "short"),
    ("longest", "shortest"),
    ("high", "low"),
    ("top", "bottom"),
    ("success", "failure"),
    ("positive", "negative"),
    ("modern", "ancient"),
    ("young", "old"),
    ("always", "never"),
]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _ANTONYMS:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
NEGATION = re.compile(r"\b(?:not|no|never|none|nor|cannot|without|n't|\w+n't)\b", re.I)
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
STEM_PREFIX = 5  # "govern" matches "government": stems sharing this many letters


@dataclass(frozen=True)
class Alignment:
    """How a sentence lines up with a question's content words."""

    matched: float  # share of the question's content words found in the sentence
    missing: int  # question content words with no counterpart in the sentence
    flips: int  # question words whose counterpart is an antonym or prefix flip
    negation_dropped: bool  # the question is negated and the sentence is not
    names_missing: int  # names in the question absent from the sentence
    numbers_missing: int  # numbers in the question absent from the sentence


@lru_cache(maxsize=65_536)
def _flips_of(word: str) -> frozenset[str]:
    """The words that flip `word`: its antonyms, and it with a negating prefix added or
    removed (the shorter of the two at least 4 letters)."""
    out = set(_OPPOSITE.get(word, ()))
    for prefix in _PREFIXES:
        if len(word) >= 4:
            out.add(prefix + word)
        if word.startswith(prefix) and len(word) - len(prefix) >= 4:
            out.add(word[len(prefix) :])
    return frozenset(out)


def _matches(term: str, have: frozenset[str]) -> bool:
    if term in have:
        return True
    return len(term) >= STEM_PREFIX and any(
        len(h) >= STEM_PREFIX and h[:STEM_PREFIX] == term[:STEM_PREFIX] for h in have
    )


def align(question: str, sentence: str) -> Alignment:
    """Align the question's content words to `sentence`."""
    wanted = content_terms(question)
    have = content_terms(sentence)
    unmatched = [t for t in wanted if not _matches(t, have)]
    q_words = [
        w for w in words(question) if content_terms(w) and not _matches(min(content_terms(w)), have)
    ]
    s_words = set(words(sentence))
    flips = sum(1 for w in q_words if not _flips_of(w).isdisjoint(s_words))
    names = {n for n in _NAME.findall(question.strip()) if content_terms(n)}
    names_missing = sum(1 for n in names if not content_terms(n) <= have)
    numbers = set(_NUMBER.findall(question))
    return Alignment(
        matched=1 - len(unmatched) / len(wanted) if wanted else 0.0,
        missing=len(unmatched),
        flips=flips,
        negation_dropped=bool(NEGATION.search(question)) and not NEGATION.search(sentence),
        names_missing=names_missing,
        numbers_missing=len(numbers - set(_NUMBER.findall(sentence))),
    )


def missing_everywhere(question: str, texts: list[str]) -> int:
    """Question content words that none of `texts` (the retrieved chunks) contains."""
    have: set[str] = set()
    for text in texts:
        have |= content_terms(text)
    frozen = frozenset(have)
    return sum(1 for t in content_terms(question) if not _matches(t, frozen))
