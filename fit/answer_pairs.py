"""Training and evaluation pairs for the answer encoder (step 1 of `make fit-answer-encoder`).

    python -m fit.answer_pairs [BENCH_DIR] [--extra SET.jsonl ...] [--out build/answer_pairs.json]

For every answerable question of the bench and the paraphrase set: the sentences of its
article (split as the product splits them), which of them hold a gold answer in the gold
paragraph, and one hard negative for fitting: among the base embedder's five closest
sentences of the same article that hold no gold answer, one at random (seeded). Questions
of the held-out articles (`bench.common.HELD_OUT`) are written as evaluation rows only; no
shipped model is fitted on them. Step 2, `fit/fit_answer_encoder.py`, runs in a training
environment with torch (see CONTRIBUTING.md).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_BENCH, HELD_OUT, PARAPHRASE, ROOT, fitting_questions
from rag.providers.embeddings import LocalEmbedder
from rag.text.sentences import sentence_spans

OUT = ROOT / "build" / "answer_pairs.json"
HARD = 5  # the hard negative is drawn from this many closest wrong sentences


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip()


def article_sentences(bench: Path) -> tuple[list[str], list[str], list[str]]:
    """Every sentence of the bench's paragraph files, with its file and article."""
    texts, files, articles = [], [], []
    for path in sorted((bench / "articles").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for start, end in sentence_spans(text):
            texts.append(text[start:end])
            files.append(path.name)
            articles.append(path.name.rsplit("_p", 1)[0])
    return texts, files, articles


def build(
    bench: Path, extra: list[Path], held_out: tuple[str, ...], seed: int = 0
) -> dict[str, Any]:
    """The pairs file's content: fitting pairs and evaluation rows."""
    rng = random.Random(seed)
    texts, files, articles = article_sentences(bench)
    fitting, test = fitting_questions(bench, extra, held_out)
    questions = [q for q in fitting + test if not q.get("is_impossible")]
    embedder = LocalEmbedder()
    sentence_vectors = embedder.embed(texts)
    question_vectors = embedder.embed([q["question"] for q in questions])
    by_article: dict[str, list[int]] = {}
    for i, article in enumerate(articles):
        by_article.setdefault(article, []).append(i)
    pairs, evaluation = [], []
    for q, vector in zip(questions, question_vectors, strict=True):
        article = q["gold_source"].rsplit("_p", 1)[0]
        pool = by_article[article]
        answers = [_norm(a) for a in q["answers"]]
        gold = [
            i
            for i in pool
            if files[i] == q["gold_source"] and any(a in _norm(texts[i]) for a in answers)
        ]
        if not gold:
            continue  # the answer crosses a sentence boundary: no sentence to teach
        row = {"question": q["question"], "article": article, "set": q["set"]}
        if article in held_out:
            evaluation.append(
                row
                | {"candidates": [texts[i] for i in pool], "gold": [pool.index(i) for i in gold]}
            )
            continue
        order = sorted(pool, key=lambda i: -float(sentence_vectors[i] @ vector))
        wrong = [i for i in order if i not in gold][:HARD]
        pairs.append(
            row | {"positive": texts[rng.choice(gold)], "negative": texts[rng.choice(wrong)]}
        )
    return {
        "bench": bench.name,
        "extra": [p.name for p in extra],
        "held_out": list(held_out),
        "pairs": pairs,
        "evaluation": evaluation,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bench", nargs="?", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--extra", type=Path, nargs="*", default=[PARAPHRASE])
    parser.add_argument("--held-out", nargs="*", default=list(HELD_OUT))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = build(args.bench, args.extra, tuple(args.held_out))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data), encoding="utf-8")
    articles = sorted({p["article"] for p in data["pairs"]})
    print(
        f"{len(data['pairs'])} pairs from {len(articles)} articles, "
        f"{len(data['evaluation'])} held-out evaluation rows -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
