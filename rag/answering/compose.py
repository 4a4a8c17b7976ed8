"""Answer-first composition: which retrieved sentences an extractive answer quotes, in order.

The first sentence is the one that best answers the question, as the fitted sentence ranker
(`rag.answering.ranking`) orders the best few. Another follows only when it
adds something a reader needs: the other side of a disagreement (both are always shown), or
support for a part of the question the first leaves out. A second source saying the same
thing is cited on the first sentence instead of being repeated. A sentence that opens with a
pronoun or "This issue…" brings the sentence before it, so the quote can be understood.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from rag.answering.ranking import default_ranker
from rag.retrieval.scoring import Evidence, SentenceScorer, is_statement
from rag.text.sentences import DANGLING, content_terms, sentence_spans
from rag.trust.conflicts import conflicting

CONFLICT_DEPTH = 12  # how far down the ranking the other side of a disagreement is looked for
ADD_SHARE = 0.85  # a sentence for another part of the question must score this share
PAIR_OVERLAP = 0.5  # share of content words two sentences must share to be compared closely
TOPIC_SHARE = 0.25  # see `_topic`
ANSWER_MARGIN = 1.5  # a sentence added for another part of the question must look nearly as
# much like an answer to the ranker as the lead (log-odds within this margin), not be filler
SAME_FACT = 0.8  # cosine at which a sentence from another file states the same fact


@dataclass
class Quote:
    """A sentence the answer quotes, the sentence before it when it needs one, and the
    other files that state the same fact."""

    evidence: Evidence
    antecedent: Evidence | None = None
    also: list[Evidence] | None = None


def readable(ev: Evidence) -> bool:
    """A statement a reader can take as an answer: ends like one, starts like one."""
    text = ev.text.lstrip("\"'“‘([ ")
    return is_statement(ev.text) and not text[:1].islower()


def lead_pool(ranked: list[Evidence]) -> list[Evidence]:
    """The sentences an answer may quote, best first: the readable ones when there are any."""
    return [ev for ev in ranked if readable(ev)] or ranked


def compose(question: str, ranked: list[Evidence], scorer: SentenceScorer) -> list[Quote]:
    """The quotes of the answer, leading with the one that answers the question."""
    pool = lead_pool(ranked)
    if not pool:
        return []
    answer_like = default_ranker().scored(question, pool)
    lead, best = max(answer_like, key=lambda pair: pair[1])
    quotes = [Quote(lead)]
    other = _other_side(question, lead, pool)
    pair = None if other is not None else _disagreeing_pair(question, pool)
    if other is not None:
        quotes.append(Quote(other))
    elif pair is not None:  # two other sentences disagree on the question: show both sides
        quotes = [Quote(ev) for ev in (lead, *pair) if ev is not lead or lead not in pair]
    else:
        quotes[0].also = _same_fact(lead, pool, scorer) or None
        near = [ev for ev, x in answer_like if x >= best - ANSWER_MARGIN and ev is not lead]
        extra = _other_part(question, lead, near, pool, scorer)
        if extra is not None:
            quotes.append(Quote(extra))
    for quote in quotes:
        quote.antecedent = antecedent(quote.evidence)
    return quotes


def _other_side(question: str, lead: Evidence, pool: list[Evidence]) -> Evidence | None:
    """The best sentence from another file that disagrees with the lead, if retrieved."""
    mine = (lead.context.source_file, lead.text)
    for ev in pool[:CONFLICT_DEPTH]:
        if ev is not lead and conflicting(question, mine, (ev.context.source_file, ev.text)):
            return ev
    return None


def _disagreeing_pair(question: str, pool: list[Evidence]) -> tuple[Evidence, Evidence] | None:
    """Two of the best sentences, from different files, that disagree on the question."""
    top = pool[:CONFLICT_DEPTH]
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            if a.context.source_file == b.context.source_file:
                continue
            shared = content_terms(a.text) & content_terms(b.text)
            if len(shared) < PAIR_OVERLAP * min(
                len(content_terms(a.text)), len(content_terms(b.text))
            ):
                continue  # cheap filter before the word alignment
            if conflicting(
                question, (a.context.source_file, a.text), (b.context.source_file, b.text)
            ):
                return a, b
    return None


def _same_fact(lead: Evidence, pool: list[Evidence], scorer: SentenceScorer) -> list[Evidence]:
    """Sentences of other files stating what the lead states (cited as second sources)."""
    vec = scorer.vectors([lead.text])[0]
    found: list[Evidence] = []
    files = {lead.context.source_file}
    for ev in pool[:CONFLICT_DEPTH]:
        if ev.context.source_file in files or ev.score < lead.score * ADD_SHARE:
            continue
        if float(scorer.vectors([ev.text])[0] @ vec) >= SAME_FACT:
            found.append(ev)
            files.add(ev.context.source_file)
    return found[:1]


def _other_part(
    question: str,
    lead: Evidence,
    candidates: list[Evidence],
    pool: list[Evidence],
    scorer: SentenceScorer,
) -> Evidence | None:
    """A candidate supporting question words the lead (and its antecedent) leaves out, other
    than the topic of the retrieved text, if one scores nearly as well and does not repeat
    the lead."""
    before = antecedent(lead)  # quoted with the lead when it needs one
    said = content_terms(lead.text) | (content_terms(before.text) if before else frozenset())
    topic = _topic(pool)
    missing = content_terms(question) - said - topic
    if not missing:
        return None
    vec = scorer.vectors([lead.text])[0]
    for ev in candidates:
        if ev.score < lead.score * ADD_SHARE:
            continue
        adds = content_terms(ev.text) & missing
        if adds and float(scorer.vectors([ev.text])[0] @ vec) < scorer.config.redundancy:
            return ev
    return None


def _topic(pool: list[Evidence]) -> set[str]:
    """Words in more than `TOPIC_SHARE` of the retrieved sentences: what they are all about,
    not a part of the question a second sentence could add."""
    counts = Counter(t for ev in pool for t in content_terms(ev.text))
    return {t for t, n in counts.items() if n > TOPIC_SHARE * len(pool)}


def antecedent(ev: Evidence) -> Evidence | None:
    """The sentence before `ev` in its chunk when `ev` opens by pointing back to it (and that
    sentence is a readable statement)."""
    if not DANGLING.match(ev.text):
        return None
    context = ev.context
    previous = None
    for start, end in sentence_spans(context.text):
        if context.start + start >= ev.start:
            break
        previous = (context.start + start, context.start + end)
    if previous is None:
        return None
    found = Evidence(context, previous[0], previous[1], ev.score)
    return found if readable(found) else None  # not a "Read more: …" line or a headline


MAX_ITEMS = 4  # sentences an extract (list, summary, timeline) picks before continuations
EXTRACT_DEPTH = 20  # how far down the support ranking an extract looks
EXTRACT_FLOOR = 0.6  # an extract's sentence must have this share of the best support
MMR_LAMBDA = 0.7  # relevance against novelty when picking a summary's sentences
TOPIC_SENTENCE_WORDS = 10  # a sentence this short introduces what the next one details


def compose_extract(
    question: str, shape: str, ranked: list[Evidence], scorer: SentenceScorer
) -> list[Quote]:
    """The quotes of a list, summary or timeline answer, in reading order.

    A list takes the best sentence of each source (one item per article) that looks nearly
    as much like an answer as the first (`ANSWER_MARGIN`); a summary and a
    timeline take sentences by maximal marginal relevance across the articles. A short
    sentence that introduces a topic ("Reactions were varied.") brings the one after it,
    which says what the reactions were. Summaries and timelines are put in the order of
    events: by article date, then by position in the article.
    """
    pool = [ev for ev in lead_pool(ranked)[:EXTRACT_DEPTH]]
    if not pool:
        return []
    floor = pool[0].score * EXTRACT_FLOOR
    pool = [ev for ev in pool if ev.score >= floor]
    if shape == "list":
        picked = _per_source(question, pool, margin=ANSWER_MARGIN)
    elif shape == "timeline":
        picked = _per_source(question, pool, MAX_ITEMS + 1)
    else:
        picked = _mmr(question, pool, scorer)
    quotes: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    for ev in picked:
        for part in (ev, _continuation(ev)):
            if part is not None and (id(part.context), part.start) not in seen:
                seen.add((id(part.context), part.start))
                quotes.append(Quote(part))
    if shape != "list":
        quotes.sort(key=lambda q: _event_order(q.evidence))
    for quote in quotes:
        before = antecedent(quote.evidence)
        if before is not None and (id(before.context), before.start) not in seen:
            quote.antecedent = before
    return quotes


def _per_source(
    question: str, pool: list[Evidence], most: int = MAX_ITEMS, margin: float = 99.0
) -> list[Evidence]:
    """The most answer-like sentence of each source file, best first; with a `margin`, a
    source whose best looks much less like an answer than the first (log-odds) adds no item:
    a list of one real item beats one padded with filler."""
    scored = dict((id(ev), x) for ev, x in default_ranker().scored(question, pool))
    best: dict[str, Evidence] = {}
    for ev in pool:
        mine = best.get(ev.context.source_file)
        if mine is None or scored.get(id(ev), -99.0) > scored.get(id(mine), -99.0):
            best[ev.context.source_file] = ev
    order = sorted(best.values(), key=lambda ev: -scored.get(id(ev), ev.score - 99.0))
    top = scored.get(id(order[0]), -99.0) if order else -99.0
    return [ev for ev in order if scored.get(id(ev), -99.0) >= top - margin][:most]


def _mmr(question: str, pool: list[Evidence], scorer: SentenceScorer) -> list[Evidence]:
    """Up to `MAX_ITEMS` sentences, each the most relevant one not repeating those picked.

    Relevance is support blended with the share of the question's rarer words a sentence
    holds: in "summarize the reactions to the letter", "reactions" is what is asked about
    and "letter" what every retrieved sentence mentions.
    """
    vecs = scorer.vectors([ev.text for ev in pool])
    shares = _rare_share(question, pool)
    rel = [0.5 * ev.score + 0.5 * share for ev, share in zip(pool, shares, strict=True)]
    chosen: list[int] = []
    left = list(range(len(pool)))
    while left and len(chosen) < MAX_ITEMS:

        def gain(i: int) -> float:
            repeat = max((float(vecs[i] @ vecs[j]) for j in chosen), default=0.0)
            return MMR_LAMBDA * rel[i] - (1 - MMR_LAMBDA) * repeat

        best = max(left, key=gain)
        left.remove(best)
        if any(float(vecs[best] @ vecs[j]) >= scorer.config.redundancy for j in chosen):
            continue  # says again what a chosen sentence says
        chosen.append(best)
    return [pool[i] for i in chosen]


def _rare_share(question: str, pool: list[Evidence]) -> list[float]:
    """For each sentence, the share of the question's word weight (idf over `pool`) it holds."""
    wanted = content_terms(question)
    if not wanted:
        return [0.0] * len(pool)
    df = Counter(t for ev in pool for t in content_terms(ev.text) & wanted)
    idf = {t: math.log((len(pool) + 1) / (df[t] + 0.5)) for t in wanted}
    total = sum(idf.values()) or 1.0
    return [sum(idf[t] for t in content_terms(ev.text) & wanted) / total for ev in pool]


def _continuation(ev: Evidence) -> Evidence | None:
    """The sentence after a short topic sentence in its chunk, which details it."""
    if len(ev.text.split()) > TOPIC_SENTENCE_WORDS or ev.text.rstrip().endswith("?"):
        return None
    context = ev.context
    for start, end in sentence_spans(context.text):
        if context.start + start >= ev.end:
            found = Evidence(context, context.start + start, context.start + end, ev.score)
            return found if readable(found) else None
    return None


def _event_order(ev: Evidence) -> tuple[int, str, str, int]:
    """Dated articles first, oldest first, then undated ones; within one, by position."""
    date = ev.context.date
    return (date is None, date.isoformat() if date else "", ev.context.source_file, ev.start)
