"""Answer shapes: what form of answer a question asks for, read from its wording.

A fact question gets the sentence that answers it; a yes/no question the sentence that
settles it; a list ("how did European leaders react", "which countries…") one cited item per
source; a summary ("summarize…", "what do the articles say about…", "what happened after…")
several non-redundant sentences from across the articles in the order of events; a timeline
("how did … develop", "timeline of…") dated items in date order. The rules look at the
question's grammar (its opening words, a plural subject of a reaction verb), never at topics.
"""

from __future__ import annotations

import re
from typing import Literal

Shape = Literal["fact", "yesno", "list", "summary", "timeline"]
SHAPES: tuple[Shape, ...] = ("fact", "yesno", "list", "summary", "timeline")

_SUMMARY = re.compile(
    r"^(?:please\s+)?(?:summari[sz]e|sum up|give (?:me )?(?:a |an )?(?:summary|overview|rundown|"
    r"recap)|(?:can|could) you (?:summari[sz]e|sum up)|recap|overview of|tell me (?:about|what)|"
    r"what (?:do|did) (?:the |these )?(?:articles|sources|reports|stories) (?:say|report|tell)|"
    r"what(?:'s| is| was) (?:the )?(?:story|gist|background)|what is known about|"
    r"what happened (?:after|since|next|then|following|once|when)|what has happened (?:since|"
    r"after)|what followed|what came (?:after|next))\b",
    re.IGNORECASE,
)
_TIMELINE = re.compile(
    r"\b(?:timeline|chronolog\w*|sequence of events|in (?:date|chronological) order|"
    r"in order of (?:events|time|dates?)|step by step)\b|"
    r"^how (?:did|has|have|does|do) .+? (?:develop|evolve|unfold|progress|"
    r"change|play out|move|turn out)(?:ed|d)?\b|^what (?:are|were) the (?:key |main )?"
    r"(?:events|developments|milestones)\b",
    re.IGNORECASE,
)
# A plural doer reacting, responding, commenting… ("How did European leaders react?").
_REACTION = re.compile(
    r"^how (?:did|have|do|has) (?:the |other |\w+ )*?(?:\w+s|people|media|press|public)\b"
    r".*?\b(?:react|respond|reply|comment|receive|view|see|take|greet|treat)\w*\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"^(?:list|enumerate)\b|^name (?:the|all|some|every|two|three|four|five|\d+)\b"
    r"|^(?:what|which|who) (?:\w+ )?(?:\w+s|people|children|countries|leaders|officials) "
    r"(?:have |has |did |were |are |had )?(?:react|respond|comment|attend|join|sign|support|"
    r"oppose|criticis|criticiz|welcom|condemn|praise)\w*\b|^who (?:all|else)\b|"
    r"\b(?:what|which) (?:other|different|various|several) "
    r"(?:\w+ ){0,2}?(?:\w{2,}[^sui\W]s|\w*ren)\b",
    re.IGNORECASE,
)
_YESNO = re.compile(
    r"^(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might|"
    r"isn't|aren't|wasn't|weren't|didn't|doesn't|don't|hasn't|haven't)\b",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^(?:and|but|so|also|ok(?:ay)?|well|now)[,\s]+", re.IGNORECASE)


def question_shape(question: str) -> Shape:
    """The shape of answer `question` asks for (see the module docstring)."""
    q = _LEAD.sub("", question.strip()).strip()
    if _TIMELINE.search(q):
        return "timeline"
    if _SUMMARY.search(q):
        return "summary"
    if _REACTION.search(q) or _LIST.search(q):
        return "list"
    if _YESNO.match(q):
        return "yesno"
    return "fact"


def is_extract(shape: Shape) -> bool:
    """Whether an answer of this shape is several quoted sentences put together (an extract),
    which a reader must not mistake for a written summary."""
    return shape in ("list", "summary", "timeline")
