"""Short, distinct display titles for articles."""

from __future__ import annotations

import datetime as dt

from rag.text.titles import SHORT, Titled, display_titles, short_title

LEAD = (
    "US First Lady Melania Trump has raised concern over the suffering of children in Ukraine "
    "and Russia in a personal letter to Russian President Vladimir Putin, according to reports."
)


def test_a_short_headline_is_kept_whole() -> None:
    assert short_title("Trump gives Putin letter from Melania") == (
        "Trump gives Putin letter from Melania"
    )


def test_a_lead_sentence_is_cut_at_a_word_and_never_on_a_dangling_word() -> None:
    title = short_title(LEAD)
    assert title == "US First Lady Melania Trump has raised concern…"
    assert len(title) <= SHORT + 1 and LEAD.startswith(title.rstrip("…"))


def test_the_first_clause_is_the_title_when_it_is_short_enough() -> None:
    lead = "Putin answered the first lady's letter, the White House said on Friday, in Washington."
    assert short_title(lead) == "Putin answered the first lady's letter"


def test_no_title_falls_back_to_the_file_stem() -> None:
    assert short_title("  ", "uploads/report-2025.pdf") == "report-2025"


def test_look_alike_titles_get_outlet_and_date_and_identical_ones_a_number() -> None:
    items = [
        Titled("a.txt", LEAD, dt.date(2025, 8, 16), "BBC"),
        Titled("b.txt", LEAD.replace("has raised", "wrote of"), dt.date(2025, 8, 17), ""),
        Titled("c.txt", "Trump gives Putin letter from Melania", None, ""),
        Titled("d.html", "Trump gives Putin letter from Melania", None, ""),
    ]
    titles = display_titles(items)
    assert titles["a.txt"] == "US First Lady Melania Trump has raised concern… (BBC, 16 Aug 2025)"
    assert titles["b.txt"].endswith("(17 Aug 2025)")
    assert titles["c.txt"] == "Trump gives Putin letter from Melania"
    assert titles["d.html"] == "Trump gives Putin letter from Melania (2)"
    assert len(set(titles.values())) == len(items)
