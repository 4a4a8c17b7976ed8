"""The chat's HTML: escaped corpus text, chips that point at their sources, excerpts cut at
word or sentence boundaries, and colours readable at WCAG AA (>= 4.5:1)."""

from __future__ import annotations

import datetime as dt
import re

from rag.types import Answer, Citation, Conflict, ConflictSide
from ui.markup import (
    STYLE,
    answer_html,
    conflicts_html,
    excerpt_bounds,
    sources_html,
    untagged,
)

HOSTILE = '<img src=x onerror="alert(1)">'


def _citation(n: int, quote: str, title: str = "A title") -> Citation:
    return Citation(
        n=n,
        source_file=f"{n:03}.txt",
        quote=quote,
        start=0,
        end=len(quote),
        chunk_id=f"c{n}",
        score=0.9,
        date=dt.date(2025, 8, 16),
        title=title,
    )


def test_chips_link_to_their_source_and_escape_everything() -> None:
    cited = [_citation(1, f"Quote {HOSTILE}", title=HOSTILE)]
    html = answer_html(f"It was {HOSTILE} in Alaska [1]. Not a source [7].", cited, "a1")
    assert "<img" not in html and "&lt;img" in html
    assert '<a class="rag-chip" href="#src-a1-1"' in html
    assert "[7]" in html  # a marker naming no citation stays text


def test_a_card_without_outlet_or_date_says_so() -> None:
    bare = _citation(1, "One.").model_copy(update={"date": None})
    html = sources_html(
        Answer(question="q", text="x [1]", citations=[bare], mode="extractive"),
        "a1",
        lambda name: ("One.", 0),
    )
    assert "outlet unknown · date unknown" in html
    assert "Whole article" in html and html.count("whole article") == 0  # one control


def test_sources_group_quotes_by_article_and_escape_titles() -> None:
    first, second = _citation(1, "One."), _citation(2, "Two.")
    same = second.model_copy(update={"source_file": first.source_file, "title": HOSTILE})
    answer = Answer(question="q", text="x [1][2]", citations=[first, same], mode="extractive")
    html = sources_html(answer, "a1", lambda name: ("One. Two.", 0))
    assert "<summary>Sources (1)" in html  # one card for the one article
    assert html.count('class="rag-card"') == 1 and 'id="src-a1-2"' in html
    assert "<img" not in html


def test_excerpts_start_at_a_sentence_and_end_at_a_word() -> None:
    text = "First sentence here. " * 20 + "THE QUOTE." + " trailing words" * 40
    lo = text.index("THE QUOTE")
    left, right = excerpt_bounds(text, lo, lo + len("THE QUOTE."), width=60)
    assert text[left:].startswith("First sentence here.")
    assert text[right - 1] != " " and text[right] == " "  # a whole word, not cut mid-word


def test_conflict_table_lists_each_side() -> None:
    cited = [_citation(1, "It did."), _citation(2, "It did not.")]
    sides = [
        ConflictSide(value="yes", citation=1, source_file="001.txt", date=None),
        ConflictSide(value="no", citation=2, source_file="002.txt", date=dt.date(2025, 10, 10)),
    ]
    conflict = Conflict(kind="negation", slot="Did it?", sides=sides)
    answer = Answer(
        question="Did it?", text="", citations=cited, conflicts=[conflict], mode="extractive"
    )
    html = conflicts_html(answer, "a1")
    assert html.count('<tr><th scope="row">') == 2 and "10 Oct 2025" in html
    assert "date unknown" in html  # the side without a date says so
    # Every chip in the table is named for screen readers.
    assert html.count('aria-label="Source ') == 2 * 2  # table and the phone's folded list


def test_a_reconciled_conflict_leads_with_its_sentence_and_counts_articles() -> None:
    cited = [
        _citation(1, "Officials said it did."),
        _citation(2, "The text does not."),
        _citation(3, "It did, officials confirmed."),
    ]
    sides = [
        ConflictSide(value="no", citation=2, source_file="002.txt", date=None),
        ConflictSide(value="yes", citation=1, source_file="001.txt", date=None),
        ConflictSide(value="yes", citation=3, source_file="003.txt", date=None),
    ]
    conflict = Conflict(
        kind="negation",
        slot="Did it?",
        sides=sides,
        summary="Officials said it did [1]; the text does not [2].",
    )
    answer = Answer(
        question="Did it?", text="", citations=cited, conflicts=[conflict], mode="extractive"
    )
    html = conflicts_html(answer, "a1")
    sentence = html.index("Officials said it did ")
    assert sentence < html.index("<table")  # the sentence first, then the sides
    assert '<a class="rag-chip" href="#src-a1-1"' in html[sentence : html.index("<table")]
    assert "yes — 2 articles" in html and "no — 1 article<" in html
    # On a phone the sides fold into one line of counts.
    assert (
        '<details class="rag-narrow"><summary>no — 1 article · yes — 2 articles</summary>' in html
    )


def test_an_excerpt_never_opens_on_a_fragment() -> None:
    text = "Opening words of a very long sentence " + "that goes on " * 30 + "to THE QUOTE here."
    lo = text.index("THE QUOTE")
    left, _ = excerpt_bounds(text, lo, lo + len("THE QUOTE"), width=60)
    assert left == 0  # the quote's own sentence from its start, not "… goes on to THE QUOTE"


def _luminance(hex_colour: str) -> float:
    if len(hex_colour) == 4:  # #fff
        hex_colour = "#" + "".join(ch * 2 for ch in hex_colour[1:])
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(rule: str) -> float:
    block = re.search(re.escape(rule) + r"\{([^}]*)\}", STYLE)
    assert block is not None, rule
    background = re.search(r"background:(#[0-9a-f]{6}|#[0-9a-f]{3})\b", block.group(1))
    colour = re.search(r"(?<!-)color:(#[0-9a-f]{6}|#[0-9a-f]{3})\b", block.group(1))
    assert background and colour
    lighter, darker = sorted(
        (_luminance(background.group(1)), _luminance(colour.group(1))), reverse=True
    )
    return (lighter + 0.05) / (darker + 0.05)


def test_highlight_and_chips_meet_wcag_aa() -> None:
    assert _contrast("mark.rag-hl") >= 4.5
    assert _contrast(".rag-tip") >= 4.5
    assert _contrast(".rag-chip") >= 4.5


def test_cards_show_outlet_author_page_and_a_safe_link_to_the_original() -> None:
    cited = _citation(1, "One.").model_copy(
        update={"outlet": "The Daily Ledger", "author": "Anna Kowalski", "page": 2}
    )
    linked = cited.model_copy(update={"url": "https://news.example.com/a?x=1&y=2"})
    answer = Answer(question="q", text="x [1]", citations=[linked], mode="extractive")
    html = sources_html(answer, "a1", lambda name: ("One.", 0))
    assert "The Daily Ledger · by Anna Kowalski · 16 Aug 2025" in html
    assert 'h4 title="001.txt"' in html  # the file name on hover, not in the byline
    assert "page 2" in html
    assert '<a href="https://news.example.com/a?x=1&amp;y=2" target="_blank"' in html
    for bad in ("javascript:alert(1)", 'https://x.org/"><script>'):
        hostile = cited.model_copy(update={"url": bad})
        shown = sources_html(
            Answer(question="q", text="x [1]", citations=[hostile], mode="extractive"),
            "a1",
            lambda name: ("One.", 0),
        )
        assert "javascript:" not in shown and "<script>" not in shown


def test_a_title_told_apart_by_its_date_drops_it_where_the_date_is_printed_beside() -> None:
    day = dt.date(2025, 8, 16)
    assert untagged("Melania writes… (16 Aug 2025)", day) == "Melania writes…"
    assert untagged("Melania writes… (BBC, 16 Aug 2025)", day) == "Melania writes… (BBC)"
    assert untagged("Melania writes… (17 Aug 2025)", day) == "Melania writes… (17 Aug 2025)"


def test_an_extracts_lines_are_a_list_and_stay_escaped() -> None:
    cited = [_citation(1, "One."), _citation(2, "Two.")]
    text = f"From the articles:\n- One {HOSTILE} [1].\n- Two [2].\nAfter."
    html = answer_html(text, cited, "a1")
    assert html.count("<li>") == 2 and html.count('<ul class="rag-items">') == 1
    assert "From the articles:\n<ul" in html and "</ul>After." in html
    assert "<img" not in html and "&lt;img" in html
    assert html.count('class="rag-chip"') == 2
    assert "- One" not in html  # the dash became the bullet
    plain = answer_html("A line.\nAnother - not an item.", cited, "a2")
    assert "<ul" not in plain and "A line.\nAnother - not an item." in plain
