"""Who did what: a claim that swaps the doer of an action is not supported by its source.

Word overlap cannot tell "Trump delivered a letter from Melania Trump" from "The letter was
delivered by Melania Trump": every word is there. This check finds, in the claim and in the
source sentence, the doer (agent) of each action — the name right before an active verb, or
the phrase after "by" following a passive one — and reports a swap when both name a doer
for the same action and the claim's doer is not the source's. It is lexical and
strict where it speaks: a claim that names a doer needs a source that states the same action,
and where the source names its doer, one that includes the claim's ("Trump" in a source covers
"Trump" but not "Melania Trump").
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.text.sentences import content_terms

# A passive verb and its agent: "delivered by Melania Trump", "was written by the president".
_PASSIVE = re.compile(
    r"\b([A-Za-z]+(?:-[A-Za-z]+)*)\s+by\s+((?:[\w'’.-]+\s+){0,4}?[\w'’.-]+)"
    r"(?=\s*(?:[,.;:!?)]|$|\s(?:to|in|at|on|during|from|with|for|after|before|as|and|but)\b))"
)
# A capitalised name right before a verb in the past tense: "Trump hand-delivered",
# "Melania Trump wrote".
_ACTIVE = re.compile(
    r"((?:\b[A-Z][\w'’-]*\s+){0,3}\b[A-Z][\w'’-]*)\s+(?:[a-z]+ly\s+)?([a-z]+(?:-[a-z]+)*)\b"
)
_IRREGULAR = {
    "wrote": "write",
    "written": "write",
    "sent": "send",
    "gave": "give",
    "given": "give",
    "told": "tell",
    "said": "say",
    "made": "make",
    "took": "take",
    "taken": "take",
    "brought": "bring",
    "met": "meet",
    "read": "read",
    "signed": "sign",
    "handed": "hand",
}
_WORDS = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_NOT_VERBS = frozenset({"the", "a", "an", "and", "or", "of", "in", "on", "to", "for", "was"})


@lru_cache(maxsize=4096)
def agents(sentence: str) -> dict[str, frozenset[str]]:
    """Each action of `sentence` (a verb stem) and the content terms of who did it."""
    found: dict[str, frozenset[str]] = {}
    for verb, agent in _PASSIVE.findall(sentence):
        stem = _verb_stem(verb) if _past_tense(verb) else None  # "by hand" follows no verb
        if stem and content_terms(agent):
            found.setdefault(stem, content_terms(agent))
    for agent, verb in _ACTIVE.findall(sentence):
        stem = _verb_stem(verb) if _past_tense(verb) else None
        if stem and content_terms(agent):
            found.setdefault(stem, content_terms(agent))
    return found


def misattributed(claim: str, source: str) -> bool:
    """Whether `claim` says someone did something that `source` does not say they did: the
    source names another doer for the action, or does not state the action at all."""
    theirs = agents(source)
    for stem, who in agents(claim).items():
        if stem not in actions(source):
            return True  # "delivered by Melania Trump" against "Melania Trump wrote a letter"
        other = theirs.get(stem)
        if other is not None and not who <= other:
            return True  # "delivered by Melania Trump" against "Trump hand-delivered"
    return False  # the same action with no named doer ("He responded"): the names check decides


@lru_cache(maxsize=4096)
def actions(sentence: str) -> frozenset[str]:
    """The verb stems a sentence could be stating ("hand-delivered" states "deliver")."""
    stems = (_verb_stem(word) for word in _WORDS.findall(sentence))
    return frozenset(stem for stem in stems if stem)


def _past_tense(verb: str) -> bool:
    last = verb.rsplit("-", 1)[-1]
    return last.endswith(("ed", "en", "wn")) or last in _IRREGULAR


def _verb_stem(verb: str) -> str | None:
    last = verb.rsplit("-", 1)[-1].lower()  # "hand-delivered" is an act of delivering
    if last in _NOT_VERBS or len(last) < 3:
        return None
    last = _IRREGULAR.get(last, last)
    terms = content_terms(last)
    return next(iter(terms)) if terms else None
