"""HTML for answers, citation chips, source cards and disagreements.

Every text from the corpus or a model passes through `html.escape` before it is placed in a
tag, so an article can never add markup or script (Streamlit also sanitises `st.html`). Only
ids, classes and `#` links are generated here; the page's CSS lives in `STYLE`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from html import escape

from rag import Answer
from rag.types import Citation, Conflict, Context

EXCERPT = 220  # characters of context shown either side of a quote, at most
_MARKER = re.compile(r"\[(\d+)\]")
_SENTENCE_START = re.compile(r"(?<=[.!?…])[\"”’)]?\s+(?=\S)")

# The highlight is dark text on pale yellow (15:1); chips are white on dark blue (8.6:1).
STYLE = """<style>
.rag-answer,.rag-user{white-space:pre-wrap;line-height:1.6;margin:0}
.rag-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);
  white-space:nowrap}
.rag-chip{position:relative;display:inline-block;min-width:1.4em;padding:0 .35em;margin:0 .1em;
  border-radius:.7em;background:#1e3a8a;color:#fff !important;font-size:.78em;font-weight:600;
  text-align:center;text-decoration:none !important;line-height:1.5;vertical-align:.1em}
.rag-chip:hover,.rag-chip:focus-visible{background:#0f172a;outline:2px solid #f59e0b}
.rag-tip{display:none;position:absolute;z-index:20;left:0;top:1.9em;width:min(22rem,80vw);
  padding:.55rem .7rem;border-radius:.4rem;background:#fff;color:#1f2937;border:1px solid #94a3b8;
  box-shadow:0 4px 14px rgba(0,0,0,.18);font-weight:400;font-size:.82rem;text-align:left;
  white-space:normal;line-height:1.45}
.rag-chip:hover .rag-tip,.rag-chip:focus .rag-tip{display:block}
.rag-tip b{display:block;margin-top:.3rem}
mark.rag-hl{background:#fde68a;color:#111827;padding:0 .1em;border-radius:.15em}
.rag-sources{border:1px solid #cbd5e1;border-radius:.5rem;padding:.3rem .7rem;margin:.4rem 0}
.rag-sources>summary{cursor:pointer;font-weight:600;color:#1f2937}
.rag-card{border-top:1px solid #e2e8f0;padding:.5rem 0;scroll-margin-top:5rem}
.rag-card:target,.rag-quote:target{background:#eff6ff}
.rag-card h4{font-size:.98rem;margin:.1rem 0;padding:0}
.rag-meta{color:#475569;font-size:.8rem}
.rag-quote{white-space:pre-line;margin:.35rem 0;padding:.3rem .6rem;font-size:.9rem;
  border-left:3px solid #1e3a8a;scroll-margin-top:5rem}
.rag-quote .rag-n{font-weight:700;color:#1e3a8a;margin-right:.3rem}
.rag-article{position:relative;max-height:22rem;overflow:auto;white-space:pre-wrap;font-size:.88rem;
  padding:.4rem .6rem;background:#f8fafc;border-radius:.3rem}
.rag-article mark{scroll-margin-top:3rem}
.rag-conflict{width:100%;border-collapse:collapse;font-size:.88rem;margin:.3rem 0}
.rag-conflict th,.rag-conflict td{border:1px solid #cbd5e1;padding:.3rem .5rem;text-align:left;
  vertical-align:top}
.rag-conflict th{background:#f1f5f9;color:#1f2937}
.rag-closest{color:#475569}
.rag-badge{display:inline-block;font-size:.75rem;padding:0 .4em;border-radius:.3em;
  background:#fee2e2;color:#7f1d1d;margin-left:.3rem}
</style>"""


def date_text(date: dt.date | None) -> str:
    """A date as readers write it, or "undated"."""
    return f"{date:%-d %b %Y}" if date else "undated"


def support_words(score: float) -> str:
    """A support score in words: how directly the quote states what it is cited for."""
    if score >= 0.6:
        return "directly supported"
    if score >= 0.35:
        return "partly supported"
    return "loosely related"


def excerpt_bounds(text: str, lo: int, hi: int, width: int = EXCERPT) -> tuple[int, int]:
    """[left, right) around text[lo:hi], at most `width` either side, cut at a sentence start
    (or else a word boundary) on the left and a sentence end (or else a word end) on the right."""
    left = max(0, lo - width)
    if left > 0:
        starts = [m.end() for m in _SENTENCE_START.finditer(text, left, lo)]
        if starts:
            left = starts[0]
        else:
            space = text.find(" ", left, lo)
            left = space + 1 if space >= 0 else lo
    right = min(len(text), hi + width)
    if right < len(text):
        ends = [m.start() for m in _SENTENCE_START.finditer(text, hi, right)]
        if ends:
            right = ends[-1]
        else:
            space = text.rfind(" ", hi, right)
            right = space if space >= 0 else hi
    return left, right


def marked(text: str, start: int, end: int, mark_id: str = "") -> str:
    """`text` escaped, with text[start:end] highlighted (and given `mark_id`, if any)."""
    ident = f' id="{escape(mark_id)}" tabindex="-1"' if mark_id else ""
    return (
        f'{escape(text[:start])}<mark class="rag-hl"{ident}>{escape(text[start:end])}</mark>'
        f"{escape(text[end:])}"
    )


def _tip(c: Citation) -> str:
    return (
        f'<span class="rag-tip" role="tooltip">“{escape(c.quote)}”'
        f"<b>{escape(c.title or c.source_file)}</b>{byline(c)}</span>"
    )


def byline(c: Citation) -> str:
    """Outlet · by author · date, escaped (what is known of them)."""
    parts = [c.outlet, f"by {c.author}" if c.author else "", date_text(c.date)]
    parts += [f"updated on {date_text(c.updated)}" if c.updated else "", also_text(c)]
    return " · ".join(escape(p) for p in parts if p)


def also_text(c: Citation) -> str:
    """ "also published by ..." for a story's other copies; an earlier version's date where
    its text differs at the quote (the cited copy corrects it)."""
    same = [x.outlet or x.source_file for x in c.also if x.has_quote]
    earlier = [
        f"{x.outlet or x.source_file} ({date_text(x.date)})" for x in c.also if not x.has_quote
    ]
    said = [f"also published by {', '.join(same)}"] if same else []
    said += [f"earlier version: {', '.join(earlier)}"] if earlier else []
    return "; ".join(said)


def original_link(c: Citation) -> str:
    """A link to where the article was published (web addresses only), or ""."""
    if not re.match(r"https?://", c.url.strip(), re.IGNORECASE):
        return ""
    url = escape(c.url.strip(), quote=True)
    return f'<a href="{url}" target="_blank" rel="noopener noreferrer">original</a>'


def answer_html(text: str, citations: list[Citation], aid: str) -> str:
    """The answer's text, escaped, its [n] markers turned into chips that link to source n and
    show its quote, title and date on hover or keyboard focus."""
    by_n = {c.n: c for c in citations}
    parts, cursor = [], 0
    for match in _MARKER.finditer(text):
        c = by_n.get(int(match.group(1)))
        if c is None:
            continue
        parts.append(escape(text[cursor : match.start()]))
        label = f"Source {c.n}: {c.title or c.source_file}, {date_text(c.date)}"
        parts.append(
            f'<a class="rag-chip" href="#src-{aid}-{c.n}" aria-label="{escape(label)}">'
            f"{c.n}{_tip(c)}</a>"
        )
        cursor = match.end()
    parts.append(escape(text[cursor:]))
    label = '<span class="rag-sr">Assistant: </span>'  # Streamlit's messages have no role label
    return f'<div class="rag-answer" id="answer-{aid}">{label}{"".join(parts)}</div>'


def user_html(text: str) -> str:
    """A question as the reader typed it, labelled for screen readers."""
    return f'<div class="rag-user"><span class="rag-sr">You: </span>{escape(text)}</div>'


def by_article(citations: list[Citation]) -> dict[str, list[Citation]]:
    """Citations grouped by article, in order of their first number."""
    groups: dict[str, list[Citation]] = {}
    for c in sorted(citations, key=lambda c: c.n):
        groups.setdefault(c.source_file, []).append(c)
    return groups


def _excerpt(c: Citation, contexts: dict[str, Context]) -> str:
    ctx = contexts.get(c.chunk_id)
    if ctx is None or ctx.text[c.start - ctx.start : c.end - ctx.start] != c.quote:
        return marked(c.quote, 0, len(c.quote))
    lo, hi = c.start - ctx.start, c.end - ctx.start
    left, right = excerpt_bounds(ctx.text, lo, hi)
    inner = marked(ctx.text[left:right], lo - left, hi - left)
    return ("… " if left else "") + inner + (" …" if right < len(ctx.text) else "")


def _article(text: str, body_start: int, quotes: list[Citation], aid: str) -> str:
    """The article body without its metadata line, every cited quote marked."""
    parts, cursor = [], body_start
    for c in sorted(quotes, key=lambda c: c.start):
        if c.start < cursor or c.stale:
            continue
        parts.append(escape(text[cursor : c.start]))
        parts.append(
            f'<mark class="rag-hl" id="art-{aid}-{c.n}" tabindex="-1">'
            f"{escape(text[c.start : c.end])}</mark>"
        )
        cursor = c.end
    parts.append(escape(text[cursor:]))
    return "".join(parts).strip()


def sources_html(
    answer: Answer,
    aid: str,
    article: Callable[[str], tuple[str, int] | None],
    *,
    closest: bool = False,
) -> str:
    """The compact "Sources (k)" strip: one expandable card per article with all its quotes,
    each quote with its excerpt and a link into the whole article (metadata line hidden).

    `article(source_file)` gives the file's text and where its body starts, or None.
    """
    citations = answer.closest if closest else answer.citations
    contexts = {c.chunk_id: c for c in answer.contexts}
    groups = by_article(citations)
    titles = " · ".join(escape(cs[0].title or cs[0].source_file) for cs in groups.values())
    label = "Closest passages" if closest else "Sources"
    # An offline answer quotes its sources exactly, so "supported" says nothing: the card says
    # how well the passage answers the question instead (the calibrated answerability).
    strength = answer.confidence_words if answer.mode == "extractive" else None
    cards = [_card(cs, contexts, aid, article, closest, strength) for cs in groups.values()]
    return (
        f'<details class="rag-sources"><summary>{label} ({len(groups)})'
        f'<span class="rag-meta"> · {titles}</span></summary>{"".join(cards)}</details>'
    )


def _card(
    quotes: list[Citation],
    contexts: dict[str, Context],
    aid: str,
    article: Callable[[str], tuple[str, int] | None],
    closest: bool,
    strength: str | None = None,
) -> str:
    first = quotes[0]
    anchors = "".join(f'<span id="src-{aid}-{c.n}"></span>' for c in quotes[1:])
    numbers = "".join(f"[{c.n}]" for c in quotes)
    parts = [
        f'<div class="rag-card" id="src-{aid}-{first.n}">{anchors}',
        f"<h4>{'' if closest else escape(numbers) + ' '}{escape(first.title or first.source_file)}"
        "</h4>",
        f'<div class="rag-meta">{byline(first)} · '
        f'<span title="file name">{escape(first.source_file)}</span>'
        f"{' · ' + original_link(first) if original_link(first) else ''}</div>",
    ]
    found = article(first.source_file)
    for c in quotes:
        badge = '<span class="rag-badge">does not answer</span>' if closest else ""
        support = (
            ""
            if closest
            else f'<span title="support score {c.score:.2f}">'
            f"{escape(strength or support_words(c.score))}</span>"
        )
        jump = (
            f'<a href="#art-{aid}-{c.n}">show in the whole article</a>'
            if found is not None and not c.stale
            else ""
        )
        page = f"page {c.page}" if c.page else ""
        links = " · ".join(part for part in (page, support, jump) if part)
        n = "" if closest else f'<span class="rag-n">[{c.n}]</span>'
        parts.append(
            f'<div class="rag-quote" id="q-{aid}-{c.n}">{n}{_excerpt(c, contexts)}{badge}'
            f'<div class="rag-meta">{links}</div></div>'
        )
    if found is not None:
        text, body_start = found
        parts.append(
            f'<details><summary>Whole article</summary><div class="rag-meta">'
            f"{escape(first.title or first.source_file)} · {byline(first)}</div>"
            f'<div class="rag-article">{_article(text, body_start, quotes, aid)}</div></details>'
        )
    parts.append("</div>")
    return "".join(parts)


def conflicts_html(answer: Answer, aid: str) -> str:
    """Each disagreement as a table: what each side says, its quote, article and date (two
    columns, so it fits a phone)."""
    blocks = []
    for conflict in answer.conflicts:
        rows = "".join(_side_row(answer, conflict, i, aid) for i in range(len(conflict.sides)))
        blocks.append(
            f"<p><b>The sources differ on:</b> {escape(conflict.slot)}</p>"
            '<table class="rag-conflict"><thead><tr><th scope="col">Says</th>'
            '<th scope="col">Where and when</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    return "".join(blocks)


def _side_row(answer: Answer, conflict: Conflict, i: int, aid: str) -> str:
    side = conflict.sides[i]
    try:
        c: Citation | None = answer.citation(side.citation)
    except KeyError:
        c = None
    quote = escape(c.quote) if c else ""
    title = escape((c.title if c else "") or side.source_file)
    return (
        f"<tr><td><b>{escape(side.value)}</b></td><td>“{quote}” "
        f'<a class="rag-chip" href="#src-{aid}-{side.citation}">{side.citation}</a>'
        f'<div class="rag-meta">{title} · {escape(date_text(side.date))}</div></td></tr>'
    )
