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
.rag-items{white-space:normal;margin:.2rem 0 0 1.2rem;padding:0}
.rag-items li{margin:.15rem 0}
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
.rag-conflict th[scope=row]{white-space:nowrap;background:#fff}
.rag-disagree{border-left:4px solid #b45309;padding:.2rem 0 .2rem .7rem;margin:.3rem 0 .6rem}
.rag-narrow{display:none}
.rag-narrow>summary{cursor:pointer;font-weight:600;min-height:40px;line-height:40px}
.rag-narrow ul{margin:.2rem 0;padding-left:1.1rem}
@media (max-width:640px){.rag-wide{display:none}.rag-narrow{display:block}
  .rag-chip{min-width:2.2em;line-height:2;margin:.15em}
  .rag-chip::after{content:"";position:absolute;inset:-.6rem -.2rem}
  [data-testid=stFeedback] button,[data-testid=stSidebar] button{min-width:40px;min-height:40px}
  .rag-chip.rag-peek .rag-tip{position:fixed;left:.6rem;right:.6rem;top:auto;bottom:9rem;
    width:auto}}
.rag-panel{position:fixed;z-index:999991;top:3.75rem;right:0;bottom:0;width:min(30rem,42vw);
  overflow:auto;background:#fff;color:#1f2937;border-left:1px solid #94a3b8;
  box-shadow:-6px 0 18px rgba(0,0,0,.15);padding:.6rem 1rem 1rem}
.rag-panel .rag-back{position:sticky;top:0;display:block;width:100%;min-height:44px;
  margin-bottom:.4rem;border:1px solid #1e3a8a;border-radius:.4rem;background:#eff6ff;
  color:#1e3a8a;font-weight:600;cursor:pointer}
@media (max-width:640px){.rag-panel{top:auto;left:0;width:auto;max-height:65vh;
  border-left:0;border-top:1px solid #94a3b8;border-radius:.8rem .8rem 0 0;
  box-shadow:0 -6px 18px rgba(0,0,0,.2)}}
.rag-chip.rag-peek .rag-tip{display:block}
.rag-copy{min-height:40px;padding:0 .9rem;border:1px solid #94a3b8;border-radius:.5rem;
  background:#fff;color:#1f2937;font:inherit;font-size:.9rem;cursor:pointer}
.rag-copy:hover,.rag-copy:focus-visible{border-color:#1e3a8a;color:#1e3a8a}
.rag-skip{position:absolute;left:-999px;padding:.4rem .7rem;background:#1e3a8a;color:#fff}
.rag-skip:focus{position:static;display:inline-block;outline:2px solid #f59e0b}
.rag-closest{color:#475569}
.rag-badge{display:inline-block;font-size:.75rem;padding:0 .4em;border-radius:.3em;
  background:#fee2e2;color:#7f1d1d;margin-left:.3rem}
</style>"""


def date_text(date: dt.date | None) -> str:
    """A date as readers write it, or "undated"."""
    return f"{date:%-d %b %Y}" if date else "undated"


def untagged(title: str, date: dt.date | None) -> str:
    """A display title without the date it was told apart by, where the date is shown
    beside it anyway ("… (16 Aug 2025)" → "…", "… (BBC, 16 Aug 2025)" → "… (BBC)")."""
    if date is None:
        return title
    when = date_text(date)
    if title.endswith(f" ({when})"):
        return title[: -len(when) - 3]
    return title.replace(f", {when})", ")") if title.endswith(f", {when})") else title


def support_words(score: float) -> str:
    """A support score in words: how directly the quote states what it is cited for."""
    if score >= 0.6:
        return "directly supported"
    if score >= 0.35:
        return "partly supported"
    return "loosely related"


def excerpt_bounds(text: str, lo: int, hi: int, width: int = EXCERPT) -> tuple[int, int]:
    """[left, right) around text[lo:hi]: on the left the earliest sentence start within `width`
    (else the start of the quote's own sentence or line, so an excerpt never opens on a
    fragment); on the right the last sentence end within `width`, else a word end."""
    left = max(0, lo - width)
    if left > 0:
        starts = [m.end() for m in _SENTENCE_START.finditer(text, left, lo)]
        if starts:
            left = starts[0]
        else:  # never a fragment: the start of the quote's own sentence, however far back
            before = [m.end() for m in _SENTENCE_START.finditer(text, 0, lo)]
            line = text.rfind("\n", 0, lo) + 1
            left = max([line, *before[-1:]])
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
        f"<b>{escape(untagged(c.title, c.date) or c.source_file)}</b>{byline(c)}</span>"
    )


def byline(c: Citation) -> str:
    """Outlet · by author · date, escaped; an outlet or date the article does not give is
    said to be unknown rather than left out."""
    parts = [
        c.outlet or "outlet unknown",
        f"by {c.author}" if c.author else "",
        date_text(c.date) if c.date else "date unknown",
    ]
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
    show its quote, title and date on hover or keyboard focus; the "- " lines of an extract
    (a list, summary or timeline answer) as a bulleted list."""
    label = '<span class="rag-sr">Assistant: </span>'  # Streamlit's messages have no role label
    body = _with_lists(text, citations, aid)
    return f'<div class="rag-answer" id="answer-{aid}">{label}{body}</div>'


def _with_lists(text: str, citations: list[Citation], aid: str) -> str:
    """`text` chipped, each run of lines starting "- " a <ul> (the list's own markup carries
    the line breaks: no newline is left beside it for pre-wrap to draw)."""
    out: list[str] = []
    items: list[str] = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("- "):
            items.append(f"<li>{chipped(line[2:], citations, aid)}</li>")
            continue
        if items:
            out.append(f'<ul class="rag-items">{"".join(items)}</ul>')
            items = []
        out.append(chipped(line, citations, aid) + ("\n" if i < len(lines) - 1 else ""))
    if items:
        out.append(f'<ul class="rag-items">{"".join(items)}</ul>')
    return "".join(out)


def chipped(text: str, citations: list[Citation], aid: str) -> str:
    """`text` escaped, each [n] naming a citation turned into its chip."""
    by_n = {c.n: c for c in citations}
    parts, cursor = [], 0
    for match in _MARKER.finditer(text):
        c = by_n.get(int(match.group(1)))
        if c is None:
            continue
        parts.append(escape(text[cursor : match.start()]))
        parts.append(chip(c, aid))
        cursor = match.end()
    parts.append(escape(text[cursor:]))
    return "".join(parts)


def chip(c: Citation, aid: str) -> str:
    """Citation n as a chip: a link to its source that names it for screen readers and shows
    its quote, title and date on hover or focus (a tap on a touch screen shows the same)."""
    label = f"Source {c.n}: {c.title or c.source_file}, {date_text(c.date)}"
    return (
        f'<a class="rag-chip" href="#src-{aid}-{c.n}" data-src="src-{aid}-{c.n}" '
        f'aria-label="{escape(label)}">{c.n}{_tip(c)}</a>'
    )


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
        f'<h4 title="{escape(first.source_file)}">'
        f"{'' if closest else escape(numbers) + ' '}"
        f"{escape(untagged(first.title, first.date) or first.source_file)}"
        "</h4>",
        f'<div class="rag-meta">{byline(first)}'
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
        page = f"page {c.page}" if c.page else ""
        links = " · ".join(part for part in (page, support) if part)
        n = "" if closest else f'<span class="rag-n">[{c.n}]</span>'
        parts.append(
            f'<div class="rag-quote" id="q-{aid}-{c.n}">{n}{_excerpt(c, contexts)}{badge}'
            f'<div class="rag-meta">{links}</div></div>'
        )
    if found is not None:
        text, body_start = found
        parts.append(
            f'<details class="rag-whole"><summary>Whole article, quotes marked</summary>'
            f'<div class="rag-meta">{escape(first.title or first.source_file)} · {byline(first)}'
            f' · file <span class="rag-file">{escape(first.source_file)}</span></div>'
            f'<div class="rag-article">{_article(text, body_start, quotes, aid)}</div></details>'
        )
    parts.append("</div>")
    return "".join(parts)


def conflicts_html(answer: Answer, aid: str) -> str:
    """Each disagreement: its reconciling sentence (chips included) first, then the sides,
    each value with how many articles state it and their chips, titles and dates. On a wide
    screen the sides are a table; on a phone they fold into one line that opens."""
    blocks = []
    for conflict in answer.conflicts:
        summary = conflict.summary or f"The sources differ on: {conflict.slot}"
        rows = [_side_row(answer, conflict, value, aid) for value in conflict.values]
        counts = " · ".join(_count(conflict, value) for value in conflict.values)
        table = (
            '<table class="rag-conflict"><thead><tr><th scope="col">Says</th>'
            '<th scope="col">Articles</th></tr></thead>'
            f"<tbody>{''.join(r for r, _ in rows)}</tbody></table>"
        )
        folded = "".join(f"<li>{item}</li>" for _, item in rows)
        blocks.append(
            f'<div class="rag-disagree" role="group" aria-label="The sources disagree">'
            f'<p class="rag-answer"><b>The sources disagree.</b> '
            f"{chipped(summary, answer.citations, aid)}</p>"
            f'<div class="rag-wide">{table}</div>'
            f'<details class="rag-narrow"><summary>{escape(counts)}</summary>'
            f"<ul>{folded}</ul></details></div>"
        )
    return "".join(blocks)


def _count(conflict: Conflict, value: str) -> str:
    n = len(conflict.articles(value))
    return f"{value} — {n} article{'s' if n != 1 else ''}"


def _side_row(answer: Answer, conflict: Conflict, value: str, aid: str) -> tuple[str, str]:
    """The table row and the folded list item of one value."""
    by_n = {c.n: c for c in answer.citations}
    entries = []
    for file in conflict.articles(value):
        mine = [s for s in conflict.sides if s.value == value and s.source_file == file]
        cited = [by_n[s.citation] for s in mine if s.citation in by_n]
        chips = "".join(chip(c, aid) for c in cited)
        title = escape(untagged(cited[0].title, mine[0].date) if cited else file)
        when = date_text(mine[0].date) if mine[0].date else "date unknown"
        entries.append(f'{chips} <span class="rag-meta">{title} · {escape(when)}</span>')
    said = escape(_count(conflict, value))
    joined = "<br>".join(entries)
    return f'<tr><th scope="row">{said}</th><td>{joined}</td></tr>', f"<b>{said}</b>: {joined}"
