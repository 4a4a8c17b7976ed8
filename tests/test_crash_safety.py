"""Kill -9 the indexer at random points; the next run must equal a clean index."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import build_index
from rag import Settings
from rag.providers.embeddings import build_embedder
from rag.store.chroma import open_client, open_collection, write_generation
from tests.support import ROOT, store_contents

BENCH = ROOT.parent / "shared" / "bench" / "squad-dev" / "articles"


def _kill_at(proc: subprocess.Popen[bytes], percent: int) -> None:
    """SIGKILL the indexer once its progress bar passes `percent` (mid-run, mid-write)."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen += proc.stderr.read1(4096)
        done = [int(m) for m in re.findall(rb"Indexing:\s+(\d+)%", seen)]
        if done and done[-1] >= percent:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the indexer finished before it could be killed"


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = BENCH if BENCH.is_dir() else ROOT / "data" / "articles"
    for path in sorted(source.glob("*.txt"))[:40]:
        shutil.copy(path, corpus / path.name)
    return corpus


@pytest.mark.slow  # python -m index subprocesses killed mid-run
def test_killed_indexer_converges_to_a_clean_index(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    clean = Settings(chroma_path=tmp_path / "clean", corpus_dir=corpus)
    build_index(corpus, clean, progress=False)
    expected = store_contents(clean)

    crashed = Settings(chroma_path=tmp_path / "crashed", corpus_dir=corpus)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
    env["RAG_CHROMA_PATH"] = str(crashed.chroma_path)
    env["RAG_INDEX_BATCH"] = "8"  # many small writes, so a kill lands between and within them
    rng = random.Random(7)
    for round_ in range(3):
        if round_ == 1:  # change and remove files between crashes, as a user would
            (corpus / sorted(os.listdir(corpus))[0]).write_text(
                "A rewritten paragraph about owls.\n"
            )
            (corpus / sorted(os.listdir(corpus))[-1]).unlink()
        proc = subprocess.Popen(
            [sys.executable, "-m", "index", str(corpus), "-q"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(2.0, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    done = subprocess.run(
        [sys.executable, "-m", "index", str(corpus), "-q"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr

    build_index(corpus, clean, progress=False)  # the clean store follows the same edits
    expected = store_contents(clean)
    got = store_contents(crashed)
    assert got["chunks"] == expected["chunks"]
    assert got["sentences"] == expected["sentences"]
    ids = [row[0] for row in got["chunks"]]
    assert len(ids) == len(set(ids))


def test_sentences_left_by_a_killed_run_are_swept(tmp_path: Path) -> None:
    """A run killed between a file's sentences and its chunks, then the file removed: the
    next run must not keep sentences that no chunk names."""
    corpus = _corpus(tmp_path)
    settings = Settings(chroma_path=tmp_path / "store", corpus_dir=corpus)
    build_index(corpus, settings, progress=False)
    client = open_client(settings, create=False)
    embedder = build_embedder(settings)
    sentences = open_collection(client, settings, embedder, create=False, sentences=True)
    state = open_collection(client, settings, embedder, create=False, state=True)
    vector = embedder.embed(["An orphan sentence."])
    sentences.add(
        ids=["gone.txt#0#0:0"],
        documents=["An orphan sentence."],
        metadatas=[{"source_file": "gone.txt", "chunk_id": "gone.txt#0#0", "file_hash": "x"}],
        embeddings=vector,
    )
    write_generation(state, complete=False)  # what the killed run left
    before = sentences.count()
    build_index(corpus, settings, progress=False)
    assert sentences.count() == before - 1
    assert not sentences.get(ids=["gone.txt#0#0:0"])["ids"]
