"""Value disagreements: two statements that say the same thing but for one value.

The two sentences are aligned word by word (difflib over lower-cased tokens). They state the
same fact when most of their words align; they disagree on a value when what does not align
is a replacement whose two sides are values of one kind (a number, a year or date, a name)
rather than wording. An insertion alone (one source more specific) or a replaced ordinary
word (a paraphrase) is not a disagreement.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from rag.text.answertype import _NUMBER_WORDS
from rag.text.sentences import content_terms

_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")
_NUMBER_WORD = re.compile(rf"^(?:{_NUMBER_WORDS})$", re.IGNORECASE)
_MONTH = re.compile(
    r"^(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*$", re.IGNORECASE
)
_OPENERS = frozenset(
    "today yesterday tomorrow however meanwhile later earlier then now thus hence still "
    "first second third finally also instead therefore".split()
)
MIN_ALIGNED = 0.6  # share of the shorter sentence's words that must align
MAX_VALUE_WORDS = 5  # a longer replaced stretch is a different statement, not a value


@dataclass(frozen=True)
class ValueDiff:
    """Where two statements differ in a value: each side's text and the shared frame."""

    kind: str  # number, date or name
    first: str
    second: str
    slot: str  # the first statement with its value left out


def _common(token: str) -> bool:
    """A capitalised stopword or adverb opening a sentence ("The", "Today", "However")."""
    return not content_terms(token) or token.lower() in _OPENERS


def _kind(tokens: list[str]) -> str | None:
    """The kind of value a replaced stretch of tokens is, if it is one."""
    if not tokens or len(tokens) > MAX_VALUE_WORDS:
        return None
    if any(re.fullmatch(r"\d{3,4}s?", t) for t in tokens) or any(_MONTH.match(t) for t in tokens):
        return "date"
    if any(re.search(r"\d", t) or _NUMBER_WORD.match(t) for t in tokens):
        return "number"
    if all(t[:1].isupper() for t in tokens if content_terms(t)) and any(
        content_terms(t) for t in tokens
    ):
        return "name"
    return None


_SMALL = "zero one two three four five six seven eight nine ten eleven twelve".split()


def _same_number(first: str, second: str) -> bool:
    def norm(text: str) -> str:
        text = text.lower().replace(",", "")
        return str(_SMALL.index(text)) if text in _SMALL else text

    return norm(first) == norm(second)


def value_diff(first: str, second: str) -> ValueDiff | None:
    """The value two statements disagree on, or None when they agree or say different
    things."""
    a = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(first)]
    b = [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(second)]
    if not a or not b:
        return None
    matcher = difflib.SequenceMatcher(
        None, [t[0].lower() for t in a], [t[0].lower() for t in b], autojunk=False
    )
    aligned = sum(block.size for block in matcher.get_matching_blocks())
    if aligned < MIN_ALIGNED * min(len(a), len(b)):
        return None  # not the same statement
    found: ValueDiff | None = None
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op != "replace":
            continue  # an added or missing detail: one source is more specific
        left, right = [t[0] for t in a[i1:i2]], [t[0] for t in b[j1:j2]]
        kind_a, kind_b = _kind(left), _kind(right)
        if kind_a is None or kind_b is None:
            return None  # a wording difference in the frame: no clean value conflict
        if kind_a != kind_b and "name" in (kind_a, kind_b):
            return None  # a name against a number is not one slot (years and counts are)
        if kind_a == "name" and (_common(left[0]) or _common(right[0])):
            return None  # "Yesterday" for "Today": capitalised words, not names
        value_a = first[a[i1][1] : a[i2 - 1][2]]
        value_b = second[b[j1][1] : b[j2 - 1][2]]
        if _same_number(value_a, value_b):
            return None  # "3" and "three": the same value written two ways
        if found is not None:
            return None  # two values changed: too loose to call one fact
        slot = f"{first[: a[i1][1]]}…{first[a[i2 - 1][2] :]}".strip()
        found = ValueDiff(kind_a, value_a, value_b, slot)
    return found


_NEGATORS = frozenset({"not", "no", "never"})


def negation_diff(first: str, second: str) -> bool:
    """Whether two statements are the same words but for a "not", "no" or "never" added to
    one of them: the plainest contradiction, whatever the question asks."""
    a = [t.lower() for t in _TOKEN.findall(first)]
    b = [t.lower() for t in _TOKEN.findall(second)]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if len(changed) != 1 or changed[0][0] not in ("insert", "delete"):
        return False
    _, i1, i2, j1, j2 = changed[0]
    added = a[i1:i2] or b[j1:j2]
    return all(t in _NEGATORS or t.endswith("n't") for t in added)
