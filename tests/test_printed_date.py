"""A publication date printed in a page's text is found when its markup names none."""

from __future__ import annotations

import datetime as dt

from index.formats.common import printed_date
from index.formats.html import read_html

BODY = " ".join(["The museum in Tartu opened a hall of mechanical owls on Tuesday."] * 12)


def test_a_printed_publication_date_is_read_in_its_usual_forms() -> None:
    assert printed_date("Culture desk\nPublished 3 November 2025\n" + BODY) == dt.date(2025, 11, 3)
    assert printed_date("First published on Nov. 3, 2025. " + BODY) == dt.date(2025, 11, 3)
    assert printed_date("Posted: 2025-11-03 " + BODY) == dt.date(2025, 11, 3)


def test_a_date_without_a_publication_word_is_not_the_articles() -> None:
    assert printed_date("The hall opens on 3 November 2025. " + BODY) is None
    assert printed_date(BODY * 5 + " Published 3 November 2025") is None  # far from the top


def test_a_page_that_prints_its_date_in_the_body_is_dated() -> None:
    page = (
        "<html><head><title>Owls in Tartu</title></head><body><article>"
        "<h1>Owls in Tartu</h1><p>Published 3 November 2025</p>"
        f"<p>{BODY}</p><p>{BODY}</p></article></body></html>"
    )
    [article] = read_html("owls.html", page.encode())
    assert article.date == dt.date(2025, 11, 3)
