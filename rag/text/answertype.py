"""Expected answer types: what kind of phrase a question asks for, and where a sentence has one.

"When" asks for a date or year, "how many" for a number, "who" for a name, "where" for a
place. The phrase of that type in a quoted sentence (not one the question already names) is
the answer span the CLI and chat highlight, and its presence is a feature of answerability.
"""

from __future__ import annotations

import re

from rag.text.sentences import content_terms

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE = re.compile(
    rf"\b(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{3,4}})?|\d{{1,2}}\s+{_MONTH}"
    rf"(?:\s+\d{{3,4}})?|{_MONTH}\s+\d{{4}}|\d{{3,4}}s?(?:\s*(?:BC|AD|BCE|CE))?|"
    r"\d{1,2}(?:st|nd|rd|th)\s+century|(?:early|late|mid)-?\s*\d{3,4}s?)\b"
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|several"
)
_NUMBER = re.compile(
    rf"(?:[$£€]\s?)?\b(?:\d[\d,.]*|{_NUMBER_WORDS})(?:\s+(?:{_NUMBER_WORDS}))*\b"
    r"(?:\s?%|\s+(?:percent|per cent|km|kilometres|kilometers|miles|metres|meters|feet|years|"
    r"days|hours|people|tons|tonnes|acres|square \w+|dollars|pounds))?",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|la|von|van|the|and|du|al)\s+)?[A-Z][\w'’.-]*)*"
)
_YESNO = re.compile(r"^(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would)\b", re.I)

_LOCATIVE = re.compile(r"\b(?:in|at|near|from|to|into|outside|inside)\s+(?:the\s+)?$", re.I)
KINDS = ("date", "number", "name", "place", "yesno")


def expected_type(question: str) -> str | None:
    """The kind of phrase `question` asks for: date, number, name, place, yesno or None."""
    q = question.strip().lower()
    if re.search(r"\bwhen\b|\bwhat (?:year|date|century|decade|month|day|time period)\b", q):
        return "date"
    if re.search(r"\bin (?:which|what) (?:year|century|decade)\b|\bwhich (?:year|century)\b", q):
        return "date"
    if re.search(r"\bhow (?:many|much|long|old|far|large|big|tall|high|often)\b", q):
        return "number"
    if re.search(r"\bwhat (?:number|percentage|percent|amount|population|size)\b", q):
        return "number"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b|\b(?:which|what) (?:person|king|president)\b", q):
        return "name"
    if re.search(r"\bwhere\b|\b(?:which|what) (?:country|city|town|region|place|state)\b", q):
        return "place"
    if _YESNO.match(q):
        return "yesno"
    return None


def candidates(sentence: str, kind: str | None) -> list[tuple[int, int]]:
    """Spans of `sentence` holding a phrase of `kind` (names for an unknown kind)."""
    if kind == "date":
        found = [m.span() for m in _DATE.finditer(sentence)]
    elif kind == "number":
        found = [m.span() for m in _NUMBER.finditer(sentence) if not _DATE.fullmatch(m.group())]
        found += [m.span() for m in _DATE.finditer(sentence) if re.search(r"\d", m.group())]
    elif kind in ("name", "place", None):
        found = [m.span() for m in _NAME.finditer(sentence) if m.start() > 0 or kind]
    else:
        found = []
    return sorted(set(found))


def answer_span(question: str, sentence: str) -> tuple[int, int] | None:
    """Offsets (within `sentence`) of the phrase answering `question`, if one can be found.

    Only for questions whose expected type is known. A phrase sharing a word with the
    question names what is asked about, not the answer; among the rest, the one nearest to
    the words the sentence shares with the question wins (for places, one after "in", "at"…).
    """
    kind = expected_type(question)
    if kind is None or kind == "yesno":
        return None
    asked = content_terms(question)
    spans = [
        _trimmed(sentence, s, e)
        for s, e in candidates(sentence, kind)
        if content_terms(sentence[s:e]) and not content_terms(sentence[s:e]) & asked
    ]
    if kind == "place":
        spans = [sp for sp in spans if _LOCATIVE.search(sentence[: sp[0]])] or spans
    if not spans:
        return None
    anchors = [
        m.start()
        for m in re.finditer(r"[^\W_]+", sentence)
        if content_terms(m.group()) and content_terms(m.group()) <= asked
    ]
    if not anchors:
        return spans[0]
    return min(spans, key=lambda sp: min(abs(sp[0] - a) for a in anchors))


def _trimmed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A span without the sentence's closing punctuation ("Putin." → "Putin")."""
    while end > start and sentence[end - 1] in ".,;:" and not sentence[start:end].count(".") > 1:
        end -= 1
    return start, end


def has_type(question: str, sentence: str) -> bool:
    """Whether `sentence` holds a phrase of the type `question` asks for (not named in it)."""
    kind = expected_type(question)
    if kind is None or kind == "yesno":
        return True
    return answer_span(question, sentence) is not None
