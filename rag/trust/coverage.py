"""Whole-sentence coverage: a cited sentence is verified only if its sources say all of it.

A support score says a source sentence is about the same thing as a claim; it does not say the
source states everything the claim does. These checks close that gap, lexically (no NLI model
runs offline): every URL, e-mail address, number (compared as a value: "eight" = 8) and name of
the claim must be in a cited source, every clause of it must be mostly made of the evidence's
words, the claim must not negate what the evidence affirms (or the reverse), a template
placeholder is never a claim, and a question echoed back is not an answer.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence

from rag.text.answertype import expected_type
from rag.text.sentences import content_terms, words

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+|\b[\w.-]+\.(?:com|org|net|io|example)\b/\S*")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_DIGITS = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?=st\b|nd\b|rd\b|th\b|s\b|(?!\w))")
_PLACEHOLDER = re.compile(r"<[^<>\n]{1,60}>|\{[^{}\n]{0,60}\}|\.\.\.\s*\]")
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_NAME_SPAN = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_MONTH = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b(?:century|decade|"
    r"year|spring|summer|autumn|fall|winter|today|yesterday)\b",
    re.I,
)
_ACRONYM = re.compile(r"[A-Z]{2,}s?")
SAME_SHAPE = 0.8  # share of words in the same order: the same sentence, reworded at most
_CLAUSE = re.compile(r"[,;:()]|\s[-–—]\s|\b(?:and|but|while|whereas|which|who|after which)\b")
_NEGATORS = frozenset("not never no none nothing nobody neither nor cannot".split())
_NEGATION_SCOPE = re.compile(r"[,;:()]|\b(?:but|yet|although|though|while|whereas)\b")
_NEGATED_SPAN = re.compile(
    r"\b(?:not|never|no|none|nothing|nobody|neither|nor|cannot|\w+n't)\b"
    r"(?:(?!\b(?:but|yet|although|though|while|whereas)\b)[^,;:()])*",
    re.I,
)
NEGATION_REACH = 2  # content words after a negation that it governs (the predicate)
MIN_CLAUSE_SHARE = 0.5  # share of a clause's content words the evidence must hold
_WH = re.compile(r"^\s*(?:\w+\s+){0,3}?(who|whom|whose|what|when|where|which|why|how)\b", re.I)
_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "million": 1_000_000, "billion": 1_000_000_000, "dozen": 12,
}  # fmt: skip


def numbers(text: str) -> Counter[float]:
    """The values of the numbers `text` states, in digits or words ("eight", "2,000", "23rd"),
    each as often as it is stated."""
    found: Counter[float] = Counter()
    for raw in _DIGITS.findall(text):
        compact = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", raw) else raw
        try:
            found[float(compact.replace(",", "."))] += 1
        except ValueError:
            continue
    found.update(float(_UNITS[w]) for w in words(text) if w in _UNITS and w != "one")
    return found


def is_placeholder(claim: str) -> bool:
    """Whether a claim holds template text ("<one sentence>", "{answer}")."""
    return bool(_PLACEHOLDER.search(claim))


def echoes(claim: str, question: str) -> bool:
    """Whether a claim only repeats a wh-question (or is a question): not an answer."""
    if claim.rstrip(" \"'”’)").endswith("?"):
        return True
    if not question or not _WH.search(question):
        return False  # "Did X happen?" is answered by restating X
    return content_terms(claim) <= content_terms(question)


def fits(claim: str, question: str) -> bool:
    """Whether a short answer is of the kind its question asks for: a "when" or "how many"
    is answered by a date or a number, not by a word ("HACKED")."""
    if not question or len(content_terms(claim)) > 2:
        return True
    if expected_type(question) in ("date", "number"):
        return bool(numbers(claim)) or bool(_MONTH.search(claim))
    return True


def negation_flipped(claim: str, evidence: str) -> bool:
    """Whether one of the two negates words the other states plainly ("did not travel to
    Alaska" against "travelled to Alaska")."""
    return _denies(evidence, claim) or _denies(claim, evidence)


def _denies(first: str, second: str) -> bool:
    """`first` negates words of `second` that `second` does not negate (and that `first`
    does not also state plainly elsewhere)."""
    denied = _governed(first)
    if not denied:
        return False
    return bool((denied - _plain_terms(first)) & _plain_terms(second))


def _plain_terms(text: str) -> frozenset[str]:
    """The content words `text` states without a negation governing them."""
    return content_terms(_NEGATED_SPAN.sub(" ", text))


def _governed(text: str) -> frozenset[str]:
    """Words a negation governs: the first few content words after it, within its clause."""
    governed: set[str] = set()
    for clause in _NEGATION_SCOPE.split(text):
        tokens = words(clause)
        for i, token in enumerate(tokens):
            if token in _NEGATORS or token.endswith("n't"):
                after = [t for t in tokens[i + 1 : i + 8] if content_terms(t)][:NEGATION_REACH]
                for t in after:
                    governed |= content_terms(t)
    return frozenset(governed)


def names_swapped(claim: str, evidence: str) -> bool:
    """Whether `claim` is the evidence's sentence with its names in another order ("in
    Sweden … in Britain" for "in Britain … in Sweden"): same words, other roles."""
    ours, theirs = _NAME_SPAN.findall(claim), _NAME_SPAN.findall(evidence)
    shared = [n for n in dict.fromkeys(ours) if n in theirs]
    if len(shared) < 2:
        return False
    order = sorted(shared, key=theirs.index)
    if shared == order:
        return False
    ours_shape, their_shape = _skeleton(claim), _skeleton(evidence)
    matcher = difflib.SequenceMatcher(None, ours_shape, their_shape, autojunk=False)
    return matcher.ratio() >= SAME_SHAPE or _contains(their_shape, ours_shape)


def _skeleton(text: str) -> list[str]:
    return words(_NAME_SPAN.sub(" NAME ", text))


def _contains(longer: list[str], shorter: list[str]) -> bool:
    """Whether `shorter` stands in `longer` nearly word for word."""
    matcher = difflib.SequenceMatcher(None, longer, shorter, autojunk=False)
    size = sum(block.size for block in matcher.get_matching_blocks())
    return size >= SAME_SHAPE * len(shorter)


def uncovered(claim: str, windows: Sequence[str], documents: Sequence[str]) -> str | None:
    """What of `claim` its evidence does not state, or None when it states all of it.

    Args:
        windows: each cited evidence sentence with its neighbours.
        documents: the cited chunks' whole text and titles (for names, URLs and e-mails).
    """
    if is_placeholder(claim):
        return "a template placeholder"
    document = "\n".join(documents)
    window = "\n".join(windows)
    for link in [*_URL.findall(claim), *_EMAIL.findall(claim)]:
        if link.rstrip(".,;") not in document:
            return f"an address no source gives ({link})"
    missing = numbers(claim) - numbers(window)
    if missing:
        return f"a number no cited sentence states ({min(missing):g})"
    have = content_terms(document)
    named: set[str] = set()
    found = _NAME.findall(claim)
    # The first word is capitalised anyway; it counts as a name when it is an acronym ("CNN").
    for name in found[1:] + [w for w in found[:1] if _ACRONYM.fullmatch(w)]:
        if not content_terms(name) <= have:
            return f"a name no cited source mentions ({name})"
        named |= content_terms(name)
    near = content_terms(window) | named  # a full name for "she": the article names her
    for clause in _CLAUSE.split(claim):
        terms = content_terms(clause or "")
        if len(terms) >= 2 and len(terms & near) / len(terms) < MIN_CLAUSE_SHARE:
            return f"a clause no cited sentence states ({clause.strip()})"
    return None
