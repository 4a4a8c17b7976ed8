"""`make bench-extract`: how well each format's articles come out of their files.

Builds the test set (`devtools.extract_set`: the sample articles as news-site HTML pages, PDFs
Chromium printed from them, Word files, an RSS feed and a JSONL export), extracts and indexes
each format into a store of its own, and reports per format: sentence recall (the article's
sentences found in the extracted body), boilerplate leakage (extracted body sentences not in the
article), title/date/author accuracy, and seconds per article for extraction and for extraction +
indexing. Then runs the articles eval suite (extractive) over the HTML copies and over the .txt
files. `pdf-screen` is the same pages printed without their print stylesheet (the menus, ads
and comments then are in the PDF): no target, it shows what a PDF reader cannot tell apart.
Prints a table; writes JSON to evals/results/extract.json.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, print_table
from devtools.extract_set import FORMATS, build
from index import build_index
from index.formats import read_articles
from rag.config import Settings
from rag.providers.embeddings import Embedder, build_embedder
from rag.store.corpus import Article
from rag.text.sentences import sentence_spans

SUITE = ROOT / "evals" / "suites" / "articles.yaml"
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    """Spacing made uniform: line wrapping is not what is measured."""
    return _SPACE.sub(" ", text).strip()


def sentences(text: str) -> list[str]:
    """The sentences of `text`, by the product's own sentence splitter."""
    return [norm(text[a:b]) for a, b in sentence_spans(text) if norm(text[a:b])]


def score(article: Article, truth: dict[str, Any]) -> dict[str, Any]:
    """Recall, leakage and metadata matches of one extracted article against its truth."""
    body = norm(article.body)
    want = [s for p in truth["paragraphs"] for s in sentences(p)]
    whole = norm(" ".join(truth["paragraphs"]))
    got = sentences(article.body)
    return {
        "sentences": len(want),
        "found": sum(s in body for s in want),
        "extracted": len(got),
        "leaked": sum(s not in whole for s in got),
        "leaks": [s for s in got if s not in whole],
        "title": norm(article.title) == norm(truth["title"]),
        "date": (article.date.isoformat() if article.date else None) == truth["date"],
        "author": article.author == truth["author"],
    }


def match(article: Article, items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The test-set article an extracted one stands for: by URL, else by file stem."""
    for item in items:
        if article.url and article.url == item["url"]:
            return item
    stem = Path(article.source_file.split("#", 1)[0]).stem
    return next((i for i in items if i["stem"] == stem), None)


def measure(
    fmt: str, folder: Path, items: list[dict[str, Any]], store: Path, embedder: Embedder
) -> dict[str, Any]:
    """One format: extraction scores and timings, then an index run over its folder."""
    started = time.perf_counter()
    articles = []
    for path in sorted(folder.iterdir()):
        found, _ = read_articles(f"{fmt}/{path.name}", path)
        articles.extend(found)
    extract_s = time.perf_counter() - started
    scores = [score(a, t) for a in articles if (t := match(a, items)) is not None]
    settings = Settings(chroma_path=store / fmt, collection=f"extract-{fmt}")
    report = build_index(folder, settings, embedder=embedder, progress=False)
    n = max(1, len(scores))
    return {
        "format": fmt,
        "articles": len(scores),
        "recall": sum(s["found"] for s in scores) / max(1, sum(s["sentences"] for s in scores)),
        "leakage": sum(s["leaked"] for s in scores) / max(1, sum(s["extracted"] for s in scores)),
        "titles": sum(s["title"] for s in scores),
        "dates": sum(s["date"] for s in scores),
        "authors": sum(s["author"] for s in scores),
        "extract_ms": 1000 * extract_s / n,
        "index_ms": 1000 * (extract_s + report.seconds) / n,
        "leaks": [leak for s in scores for leak in s["leaks"]],
    }


def run_eval(corpus: Path, suffix: str, out: Path) -> dict[str, float | None]:
    """The articles suite, extractive, over `corpus` (its files named `<stem><suffix>`)."""
    from evals.runner import run_suite

    text = SUITE.read_text(encoding="utf-8")
    text = re.sub(r"(\b\d{3}_[0-9a-f]{16})\.txt\b", rf"\1{suffix}", text)
    text = re.sub(r"(?m)^corpus: .*$", f"corpus: {corpus.resolve()}", text)
    suite = out / f"articles{suffix}.yaml"
    suite.write_text(text, encoding="utf-8")
    report = run_suite(
        suite,
        mode="extractive",
        out=out / f"run{suffix}",
        progress=False,
        chroma_path=out / f"store{suffix}",
    )
    keys = ("passed", "fact_recall", "citation_validity", "hit@5")
    return {key: report.value(key) for key in keys}


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="Keep the test set and stores here.")
    parser.add_argument("--no-eval", action="store_true", help="Skip the eval suite runs.")
    parser.add_argument("--json", type=Path, default=RESULTS / "extract.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-extract-") as tmp:
        out = args.out or Path(tmp)
        items = build(out)
        embedder = build_embedder(Settings())  # loaded once, and warm: not timed per format
        embedder.embed(["warm up"])
        rows = [measure(fmt, out / fmt, items, out / "stores", embedder) for fmt in FORMATS]
        print_table(
            rows,
            [
                ("format", "{format}"),
                ("articles", "{articles}"),
                ("recall", "{recall:.3f}"),
                ("leakage", "{leakage:.3f}"),
                ("titles", "{titles}"),
                ("dates", "{dates}"),
                ("authors", "{authors}"),
                ("extract ms/article", "{extract_ms:.0f}"),
                ("extract+index ms/article", "{index_ms:.0f}"),
            ],
        )
        for row in rows:
            for leak in row["leaks"]:
                print(f"  leaked ({row['format']}): {leak[:100]}")
        result: dict[str, Any] = {"formats": rows}
        if not args.no_eval:
            txt = run_eval(ROOT / "data" / "articles", ".txt", out)
            html = run_eval(out / "html", ".html", out)
            result["eval"] = {"txt": txt, "html": html}
            print("\nThe articles suite, extractive, over the .txt files and over the HTML copies:")
            print_table(
                [{"metric": k, "txt": _f(txt[k]), "html": _f(html[k])} for k in txt],
                [("metric", "{metric}"), (".txt", "{txt}"), ("html", "{html}")],
            )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
