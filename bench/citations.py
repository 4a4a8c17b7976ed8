"""Citation precision and recall (ALCE-style), offline.

    python -m bench.citations [--bench DIR] [--limit N] [--seed S] [--out DIR]

- precision: share of citations whose quote supports the sentence that carries it;
- recall: share of answer sentences with at least one supporting citation.

The judge is deliberately not the product's verifier: a quote supports a sentence when it
contains every number of the sentence and at least 60% of its content words (stemmed). It is
a lexical stand-in for the NLI judge ALCE uses, which cannot run offline here.

Three measurements:
1. extractive answers on the sample corpus (hand-written questions below);
2. extractive answers on answerable questions of the dev bench;
3. OpenAI mode without a model: scripted drafts built from retrieved sentences, half of their
   citations pointing at the wrong source, judged before and after verification.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.common import DEFAULT_BENCH, ROOT, load_questions
from index import build_index
from rag import Answer, Pipeline, Settings
from rag.text.sentences import content_terms, sentence_spans

SAMPLE_QUESTIONS = [
    "Where did Trump hand Putin the letter?",
    "Where was Melania Trump born?",
    "Did the letter mention the abducted children?",
    "How did Trump rate the summit?",
    "What did Keir Starmer say about Trump's efforts?",
    "Who issued an arrest warrant against Putin?",
    "What did Zelenskyy call the letter?",
    "When was the previous US-Russia summit held?",
    "How many children were reunited with their families in the last 24 hours?",
    "How did the letter begin?",
    "Who read the letter in front of the delegations?",
    "What did Putin say about the war starting had Trump been president?",
    "How long did the meeting in Anchorage last?",
    "What does Russia claim about the children it took?",
    "What are Melania Trump's two objectives?",
    "Who first obtained the text of the letter?",
]
_MARKER = re.compile(r"\s*\[\d+\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
COVERAGE = 0.6


def judge(sentence: str, quote: str) -> bool:
    """Whether `quote` supports `sentence` (lexical stand-in for an NLI judge)."""
    wanted = content_terms(sentence)
    if set(_NUMBER.findall(sentence)) - set(_NUMBER.findall(quote)):
        return False
    return bool(wanted) and len(wanted & content_terms(quote)) / len(wanted) >= COVERAGE


# The note that opens an answer whose sources disagree: one sentence per conflict.
_NOTE = re.compile(r"^(?:Sources disagree: .*?\((?:\d{4}-\d{2}-\d{2}|undated)\)\.\s*)+")


def answer_sentences(answer: Answer) -> list[tuple[str, list[int]]]:
    """(sentence without markers, citation numbers) for each sentence of the answer."""
    text = _NOTE.sub("", answer.text)  # the "Sources disagree" note is not a claim
    out: list[tuple[str, list[int]]] = []
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        bare = _MARKER.sub("", sentence).strip()
        if bare:
            out.append((bare, numbers))
        elif out:
            out[-1][1].extend(numbers)
    return out


def score_answers(answers: list[Answer]) -> dict[str, Any]:
    """Citation precision and recall over the answers that are not refusals."""
    cited = supported = sentences = covered = 0
    for answer in answers:
        if answer.refused:
            continue
        quotes = {c.n: c.quote for c in answer.citations}
        for sentence, numbers in answer_sentences(answer):
            sentences += 1
            verdicts = [judge(sentence, quotes[n]) for n in numbers if n in quotes]
            cited += len(verdicts)
            supported += sum(verdicts)
            covered += any(verdicts)
    return {
        "answers": sum(not a.refused for a in answers),
        "refused": sum(a.refused for a in answers),
        "citations": cited,
        "sentences": sentences,
        "precision": supported / cited if cited else float("nan"),
        "recall": covered / sentences if sentences else float("nan"),
    }


def scripted_drafts(pipeline: Pipeline, questions: list[str], rng: random.Random) -> dict[str, Any]:
    """Judge model-like drafts with deliberately wrong citations, before and after verifying."""
    raw_cited = raw_ok = 0
    verified: list[Answer] = []
    for question in tqdm(questions, desc="scripted drafts", unit="q", leave=False):
        contexts = pipeline.retrieve(question)
        if len(contexts) < 2:
            continue
        parts = []
        for n, ctx in enumerate(contexts[:2], start=1):
            start, end = sentence_spans(ctx.text)[0]
            claim = ctx.text[start:end].rstrip(".!? ")
            wrong = rng.random() < 0.5
            source = rng.choice([i for i in range(1, len(contexts) + 1) if i != n]) if wrong else n
            parts.append(f"{claim} [{source}].")
            raw_cited += 1
            raw_ok += judge(claim, contexts[source - 1].text)
        draft = " ".join(parts)
        result = pipeline.verifier.verify(draft, contexts)
        verified.append(
            Answer(question=question, text=result.text, citations=result.citations, mode="openai")
        )
    after = score_answers(verified)
    return {
        "drafts": len(verified),
        "raw": {"citations": raw_cited, "precision": raw_ok / raw_cited if raw_cited else None},
        "verified": after,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--limit", type=int, default=300, help="dev-bench questions to sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "results")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    bench_qs = [q["question"] for q in load_questions(args.bench, None) if q.get("gold_source")]
    bench_qs = rng.sample(bench_qs, min(args.limit, len(bench_qs)))

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="citation-metrics-") as tmp:
        for name, folder, questions in [
            ("sample corpus, extractive", ROOT / "data" / "articles", SAMPLE_QUESTIONS),
            ("dev bench, extractive", args.bench / "articles", bench_qs),
        ]:
            settings = Settings.load(
                chroma_path=Path(tmp) / name.split(",")[0].replace(" ", "-"),
                answer_mode="extractive",
            )
            build_index(folder, settings, progress=False)
            pipeline = Pipeline.from_settings(settings)
            answers = [pipeline.answer(q) for q in tqdm(questions, desc=name, leave=False)]
            results[name] = score_answers(answers)
        results["dev bench, scripted drafts (OpenAI mode)"] = scripted_drafts(
            pipeline, bench_qs, rng
        )

    print(f"{'measurement':<52}{'n':>6}{'precision':>11}{'recall':>9}")
    for name, res in results.items():
        if "verified" in res:
            raw = res["raw"]
            print(f"{name + ' raw':<52}{raw['citations']:>6}{raw['precision']:>11.3f}{'':>9}")
            res = res["verified"]
            name += " verified"
        print(f"{name:<52}{res['citations']:>6}{res['precision']:>11.3f}{res['recall']:>9.3f}")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "citations.json"
    out.write_text(json.dumps({"seed": args.seed, "results": results}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
