"""What the answer benchmarks share: an indexed bench corpus and per-question feature rows."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.common import ROOT
from index import build_index
from rag import Pipeline, Settings
from rag.answering.answerability import features
from rag.answering.extractive import kind_missing
from rag.answering.reader import AnswerEncoder, encoder_in_use


@contextlib.contextmanager
def indexed(articles: Path, store: Path | None = None) -> Iterator[Settings]:
    """Settings of a store holding `articles` (built in a temporary folder unless `store`
    names one to build or reuse; indexing is incremental)."""
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        where = store or Path(tmp) / "chroma"
        settings = Settings.load(
            chroma_path=where,
            corpus_dir=articles,
            upload_dir=Path(tmp) / "uploads",
            answer_mode="extractive",
        )
        build_index(articles, settings, progress=False)
        yield settings


def feature_rows(pipeline: Pipeline, questions: list[dict[str, Any]]) -> list[list[float]]:
    """The answerability features of every question, as the answerer computes them."""
    return [row for row, _ in gated_feature_rows(pipeline, questions)]


def gated_feature_rows(
    pipeline: Pipeline,
    questions: list[dict[str, Any]],
    encoders: dict[str, AnswerEncoder] | None = None,
) -> list[tuple[list[float], bool]]:
    """Per question: its answerability features, and whether the answerer refuses it anyway
    because the kind of answer it asks for is in none of the best sentences. `encoders`: the
    answer encoder for each article's questions (the shipped one for the others)."""
    rows = []
    top_k = pipeline.settings.top_k
    for q in tqdm(questions, desc="features", unit="q", leave=False):
        with encoder_in_use((encoders or {}).get(str(q.get("article", "")))):
            vector = pipeline.retriever.embed_query(q["question"])
            contexts = pipeline.retriever.retrieve(q["question"], top_k, None, vector)
            ranked = pipeline.scorer.candidates(q["question"], vector, contexts)
            rows.append(
                (features(q["question"], ranked, contexts), kind_missing(q["question"], ranked))
            )
    return rows


BASELINE = "f68c029"  # the branch's first commit: the answerer before issue 18


def export_baseline(rev: str, into: Path) -> Path:
    """`rag/` and `index/` as they were at `rev`, exported (git archive) under `into`; the
    folder to put first on PYTHONPATH."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "rag", "index"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def answer_all(
    articles: Path, questions: list[dict[str, Any]], work: Path, path_first: Path | None = None
) -> list[dict[str, Any]]:
    """Every question answered by `bench.answer_worker` in its own process over its own index
    of `articles`, with the `rag` and `index` found under `path_first` (the baseline) or this
    checkout's."""
    work.mkdir(parents=True, exist_ok=True)
    asked, got = work / "questions.jsonl", work / "answers.jsonl"
    asked.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    paths = [str(p) for p in (path_first, ROOT) if p is not None]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "TQDM_DISABLE": "1"}
    store = work / "chroma"
    command = [sys.executable, "-m", "bench.answer_worker", str(articles), str(store)]
    # `python -m` puts the working folder first on sys.path: run from the version's folder.
    where = path_first or ROOT
    subprocess.run([*command, str(asked), str(got)], check=True, env=env, cwd=where)
    return [json.loads(line) for line in got.read_text(encoding="utf-8").splitlines()]
