"""Citation verification: every cited sentence must be supported by the text it cites.

An answer (extractive or from a model) arrives as text whose `[i]` markers name retrieved
sources 1..k. Each sentence becomes a claim; each of its citations is checked against the
cited chunk's sentences (embedding similarity blended with the share of the claim's content
words, numbers and names found there). Citations that do not support their claim are
re-attributed to the retrieved sentence that does, or dropped; a claim left with no support
is listed in `Answer.unsupported`. The verified text is renumbered in order of first
appearance and every marker resolves to a `Citation` with its quote and support score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.retrieval.scoring import Evidence, SentenceScorer
from rag.text.roles import misattributed
from rag.text.sentences import content_terms, sentence_spans
from rag.trust.cite import JUNK_MARKER, quote_citation
from rag.trust.conflicts import conflict_note, find_conflicts
from rag.types import Answer, Citation, Context, Verification

_MARKERS = re.compile(r"\s*\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w")
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_END = re.compile(r"([.!?…][\"'”’)]*)\s*$")

SUPPORT_THRESHOLD = 0.55  # a citation below this does not support its sentence
MIN_CLAIM_WORDS = 2  # a claim with fewer content words cannot be verified, so is unsupported
MIN_SHARED_WORDS = 0.34  # share of the claim's content words a supporting sentence must have
# The verifier's work grows with claims x retrieved sentences: an answer is checked up to these
# bounds (the generative path already caps what it reads); text past them is left out.
MAX_VERIFIED_CHARS = 20_000
MAX_CLAIMS = 60
MAX_CLAIM_CHARS = 1_000


@dataclass
class Claim:
    """One answer sentence: its text without markers, and the sources it cites."""

    text: str
    sources: list[int]
    gap: str  # whitespace before the sentence in the answer
    evidence: list[Evidence] = field(default_factory=list)
    invalid: int = 0  # markers that named no source


@dataclass
class Verified:
    """The verified answer text, its citations, and the sentences nothing supports."""

    text: str
    citations: list[Citation]
    unsupported: list[str]
    report: Verification


def split_claims(text: str, n_sources: int) -> list[Claim]:
    """Sentences of `text` with the valid source numbers each one cites; markers that name
    no source ([0], [99], [-1], [1a]) are removed and counted."""
    claims: list[Claim] = []
    cursor = 0
    for start, end in sentence_spans(text[:MAX_VERIFIED_CHARS]):
        sentence = text[start:end]
        sources, invalid = _sources(sentence, n_sources)
        bare, junk = JUNK_MARKER.subn("", _MARKERS.sub("", sentence))
        bare, invalid = bare.strip(), invalid + junk
        if not _WORD.search(bare):  # markers after the full stop cite the sentence before
            if claims:
                claims[-1].sources.extend(s for s in sources if s not in claims[-1].sources)
                claims[-1].invalid += invalid
        elif len(claims) < MAX_CLAIMS:
            claims.append(Claim(bare[:MAX_CLAIM_CHARS], sources, text[cursor:start], [], invalid))
        cursor = end
    return claims


def _sources(sentence: str, n_sources: int) -> tuple[list[int], int]:
    found: list[int] = []
    invalid = 0
    for group in _MARKERS.findall(sentence):
        for raw in re.split(r"[,;]", group):
            number = int(raw)
            if not 1 <= number <= n_sources:
                invalid += 1
            elif number not in found:
                found.append(number)
    return found, invalid


def claim_support(
    claim: str, evidence: Evidence, claim_vec: np.ndarray, sent_vec: np.ndarray, weight: float
) -> float:
    """How well one source sentence supports a claim, 0..1; numbers must match."""
    wanted = content_terms(claim)
    if len(wanted) < MIN_CLAIM_WORDS:
        return 0.0  # "HACKED." or "Yes.": too little to check against any source
    have = content_terms(evidence.text)
    lexical = len(wanted & have) / len(wanted) if wanted else 0.0
    score = weight * float(claim_vec @ sent_vec) + (1 - weight) * lexical
    if lexical < MIN_SHARED_WORDS:
        score *= 0.5  # similar in tone but sharing few words: not evidence for the claim
    numbers = set(_NUMBER.findall(claim))
    if numbers - set(_NUMBER.findall(evidence.text)):
        score *= 0.5  # a number the source does not state is not supported by it
    if any(not content_terms(name) <= have for name in _NAME.findall(claim)[1:]):
        score *= 0.8  # nor is a name it does not mention (the first word may be capitalised)
    return score


class Verifier:
    """Checks and repairs the citations of an answer against the retrieved contexts."""

    def __init__(self, scorer: SentenceScorer, threshold: float = SUPPORT_THRESHOLD) -> None:
        self._scorer = scorer
        self.threshold = threshold

    @property
    def scorer(self) -> SentenceScorer:
        """The sentence scorer citations are checked with (refusals reuse it)."""
        return self._scorer

    def verify(self, text: str, contexts: list[Context]) -> Verified:
        """Verify `text` whose markers number `contexts` from 1."""
        claims = split_claims(text, len(contexts))
        report = Verification()
        if not claims:
            return Verified("", [], [], report)
        pool = self._scorer.sentences(contexts)
        claim_vecs = self._scorer.vectors([c.text for c in claims])
        pool_vecs = self._scorer.vectors([ev.text for ev in pool]) if pool else None
        for claim, vec in zip(claims, claim_vecs, strict=True):
            scored = self._score(claim.text, vec, pool, pool_vecs)
            report.sentences += 1
            report.invalid_markers += claim.invalid
            for source in claim.sources:
                report.checked += 1
                own = [ev for ev in scored if ev.context is contexts[source - 1]]
                if own and own[0].score >= self.threshold:
                    report.supported += 1
                    claim.evidence.append(own[0])
                else:
                    report.dropped += 1
            if claim.evidence:
                report.kept += 1
            elif scored and scored[0].score >= self.threshold:
                claim.evidence.append(scored[0])  # re-attributed to the source that supports it
                report.reattributed += 1
            else:
                report.unsupported += 1
        return self._assemble(claims, report)

    def _score(
        self, claim: str, vec: np.ndarray, pool: list[Evidence], pool_vecs: np.ndarray | None
    ) -> list[Evidence]:
        if pool_vecs is None:
            return []
        weight = self._scorer.config.semantic_weight
        scored = []
        for ev, pv in zip(pool, pool_vecs, strict=True):
            score = claim_support(claim, ev, vec, pv, weight)
            if score >= self.threshold and misattributed(claim, ev.text):
                score = 0.0  # same words, another doer: "delivered by Melania" is not support
            scored.append(Evidence(ev.context, ev.start, ev.end, round(score, 4)))
        return sorted(scored, key=lambda ev: -ev.score)

    def _assemble(self, claims: list[Claim], report: Verification) -> Verified:
        numbers: dict[tuple[str, int, int], int] = {}
        citations: list[Citation] = []
        parts: list[str] = []
        unsupported: list[str] = []
        for claim in claims:
            markers = []
            for ev in claim.evidence:
                key = (ev.context.chunk_id, ev.start, ev.end)
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                    citations.append(
                        quote_citation(numbers[key], ev.context, ev.start, ev.end, ev.score)
                    )
                marker = f"[{numbers[key]}]"
                if marker not in markers:
                    markers.append(marker)
            if not markers:
                unsupported.append(claim.text)
            parts.append(claim.gap + with_markers(claim.text, "".join(markers)))
        return Verified("".join(parts).strip(), citations, unsupported, report)


def with_verified(answer: Answer, question: str, verified: Verified) -> Answer:
    """`answer` with the verified text and citations, naming disagreeing sources first."""
    conflicts = find_conflicts(question, verified.citations)
    text = verified.text
    if conflicts:  # the disagreement is what the reader must see first
        text = f"{conflict_note(conflicts)} {text}"
    return answer.model_copy(
        update={
            "text": text,
            "citations": verified.citations,
            "unsupported": verified.unsupported,
            "verification": verified.report,
            "conflicts": conflicts,
        }
    )


def with_markers(sentence: str, markers: str) -> str:
    """`sentence` with `markers` set before its closing punctuation."""
    if not markers:
        return sentence
    match = _END.search(sentence)
    if match:
        return f"{sentence[: match.start()]} {markers}{match.group(1)}"
    return f"{sentence} {markers}."
