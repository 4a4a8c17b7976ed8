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
from rag.trust.coverage import echoes, fits, names_swapped, negation_flipped, numbers, uncovered
from rag.types import Answer, Citation, Context, Verification

_MARKERS = re.compile(r"\s*\[(\s*\d+\s*(?:[,;]\s*\d+\s*)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w")
_NAME = re.compile(r"\b[A-Z][\w'’-]*")
_JOINS = re.compile(r",\s*(?:and|but|while|whereas)\s+|;\s*|\s+and\s+(?=[A-Z])")
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
    claim: str,
    evidence: Evidence,
    claim_vec: np.ndarray,
    sent_vec: np.ndarray,
    weight: float,
    stated: str = "",
) -> float:
    """How well one source sentence supports a claim, 0..1; numbers must match (those of
    `stated`, when the claim was given its question's words)."""
    wanted = content_terms(claim)
    if len(wanted) < MIN_CLAIM_WORDS:
        return 0.0  # "HACKED." or "Yes.": too little to check against any source
    have = content_terms(evidence.text)
    lexical = len(wanted & have) / len(wanted) if wanted else 0.0
    score = weight * float(claim_vec @ sent_vec) + (1 - weight) * lexical
    if lexical < MIN_SHARED_WORDS:
        score *= 0.5  # similar in tone but sharing few words: not evidence for the claim
    if not numbers(stated or claim) <= numbers(evidence.text):
        score *= 0.5  # a number the source does not state is not supported by it ("eight" = 8)
    document = content_terms(f"{evidence.context.title} {evidence.context.text}")
    if any(not content_terms(name) <= document for name in _NAME.findall(claim)[1:]):
        score *= (
            0.8  # nor is a name its article does not mention (the first word may be capitalised)
        )
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

    def verify(self, text: str, contexts: list[Context], question: str = "") -> Verified:
        """Verify `text` whose markers number `contexts` from 1; a short answer ("Alaska.")
        is checked in the context of `question`, and an echo of it is not an answer."""
        claims = split_claims(text, len(contexts))
        report = Verification()
        if not claims:
            return Verified("", [], [], report)
        pool = self._scorer.sentences(contexts)
        checked = [in_context(c.text, question) for c in claims]
        claim_vecs = self._scorer.vectors(checked)
        pool_vecs = self._scorer.vectors([ev.text for ev in pool]) if pool else None
        for claim, wording, vec in zip(claims, checked, claim_vecs, strict=True):
            scored = (
                []
                if echoes(claim.text, question) or not fits(claim.text, question)
                else self._score(wording, vec, pool, pool_vecs, claim.text)
            )
            report.sentences += 1
            report.invalid_markers += claim.invalid
            for source in claim.sources:
                report.checked += 1
                own = [ev for ev in scored if ev.context is contexts[source - 1]]
                # The best sentence that does not deny the claim: a source may say X in one
                # sentence and quote someone denying X in the next.
                agreeing = (ev for ev in own[:3] if _agrees(claim.text, ev.text))
                best = next(agreeing, None)
                if best is not None and best.score >= self.threshold:
                    claim.evidence.append(best)
            if 1 < len(claim.sources) > len(claim.evidence):
                claim.evidence = self._by_clause(claim, contexts, pool, pool_vecs)
            if claim.evidence and not self._covered(claim.text, claim.evidence, pool):
                claim.evidence = []  # each source says part of it; together not all of it
            report.supported += len(claim.evidence)
            report.dropped += len(claim.sources) - len(claim.evidence)
            if claim.evidence:
                report.kept += 1
                continue
            best = next(
                (
                    ev
                    for ev in scored[:5]
                    if ev.score >= self.threshold and self._covered(claim.text, [ev], pool)
                ),
                None,
            )
            if best is not None:
                claim.evidence.append(best)  # re-attributed to the source that supports it
                report.reattributed += 1
            else:
                report.unsupported += 1
        return self._assemble(claims, report)

    def _by_clause(
        self,
        claim: Claim,
        contexts: list[Context],
        pool: list[Evidence],
        pool_vecs: np.ndarray | None,
    ) -> list[Evidence]:
        """Evidence for a sentence that joins two sources' facts ("X [1], and Y [2]"): each
        cited source's best sentence for one of its clauses."""
        parts = [p for p in _JOINS.split(claim.text) if len(content_terms(p)) >= MIN_CLAIM_WORDS]
        if len(parts) < 2 or pool_vecs is None:
            return claim.evidence
        # A source is its article: a fact in the next chunk of a cited file is still cited.
        files = [contexts[s - 1].source_file for s in claim.sources]
        found: dict[str, Evidence] = {}
        for part, vec in zip(parts, self._scorer.vectors(parts), strict=True):
            for ev in self._score(part, vec, pool, pool_vecs):
                file = ev.context.source_file
                if file in files and ev.score >= self.threshold:
                    if file not in found or found[file].score < ev.score:
                        found[file] = ev
        return [found[f] for f in dict.fromkeys(files) if f in found]

    @staticmethod
    def _covered(claim: str, evidence: list[Evidence], pool: list[Evidence]) -> bool:
        """Whether the evidence sentences (with their neighbours) state all of `claim`."""
        windows = [_window(ev, pool) for ev in evidence]
        documents = [f"{ev.context.title}\n{ev.context.text}" for ev in evidence]
        if not all(_agrees(claim, ev.text) for ev in evidence):
            return False
        terms = content_terms(claim)
        stated = content_terms(" ".join(ev.text for ev in evidence))
        if len(terms) <= MIN_CLAIM_WORDS and not terms <= stated:
            return False  # a short answer's own words must be in the evidence sentence
        return uncovered(claim, windows, documents) is None

    def _score(
        self,
        claim: str,
        vec: np.ndarray,
        pool: list[Evidence],
        pool_vecs: np.ndarray | None,
        stated: str = "",
    ) -> list[Evidence]:
        if pool_vecs is None:
            return []
        weight = self._scorer.config.semantic_weight
        scored = []
        for ev, pv in zip(pool, pool_vecs, strict=True):
            score = claim_support(claim, ev, vec, pv, weight, stated)
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
            if not markers:  # what no source supports is not part of the answer
                unsupported.append(claim.text)
                continue
            gap = claim.gap if parts else ""
            parts.append(gap + with_markers(claim.text, "".join(markers)))
        return Verified("".join(parts).strip(), citations, unsupported, report)


def in_context(claim: str, question: str) -> str:
    """The claim as checked: a short answer ("Alaska.", "Eight.") with the words of the
    question it answers, so that it is verified as the statement it makes."""
    if not question or len(content_terms(claim)) > MIN_CLAIM_WORDS:
        return claim
    return f"{question.rstrip(' ?')}: {claim}"


def _agrees(claim: str, sentence: str) -> bool:
    """Neither denies what the other states, and the claim keeps the sentence's names in
    their roles."""
    return not negation_flipped(claim, sentence) and not names_swapped(claim, sentence)


def _window(ev: Evidence, pool: list[Evidence]) -> str:
    """The evidence sentence and its neighbours in the same chunk."""
    at = [i for i, p in enumerate(pool) if p.context is ev.context and p.start == ev.start]
    if not at:
        return ev.text
    near = pool[max(0, at[0] - 1) : at[0] + 2]
    return " ".join(p.text for p in near if p.context is ev.context)


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
