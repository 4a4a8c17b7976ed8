"""Marker rewriting: stream pieces give the same text as the whole; bad markers never resolve."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.trust.cite import CITED, MarkerRewriter


def test_renumbers_in_order_of_first_appearance() -> None:
    rewriter = MarkerRewriter(3)
    assert rewriter.rewrite("A [3]. B [1, 3]. C [2][9].") == "A [1]. B [2][1]. C [3]."
    assert rewriter.order == [3, 1, 2] and rewriter.dropped == [9]


@given(
    st.text(alphabet="ab [],0123456789.\n", max_size=80),
    st.lists(st.integers(1, 10), max_size=8),
    st.integers(0, 5),
)
def test_streaming_equals_whole_and_markers_resolve(text: str, cuts: list[int], n: int) -> None:
    whole = MarkerRewriter(n).rewrite(text)
    streamed, rewriter, pos = [], MarkerRewriter(n), 0
    for cut in sorted(cuts):
        streamed.append(rewriter.feed(text[pos:cut]))
        pos = max(pos, cut)
    streamed.append(rewriter.feed(text[pos:]))
    streamed.append(rewriter.finish())
    assert "".join(streamed) == whole
    assert all(1 <= int(m) <= len(rewriter.order) for m in CITED.findall(whole))
