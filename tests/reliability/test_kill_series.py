"""Twenty series of kill -9s of the indexer, most timed to land as Chroma starts saving an
HNSW index (what left the fixture store unopenable): every series must end, after one more
`python -m index`, equal to a clean index of the folder, and no store may stay unusable.

Whether a kill tears a save is down to milliseconds (the fixture's damage is reproduced and
repaired deterministically in test_store_damage.py); any store a series does leave damaged
must be repaired by the next run like the others.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import build_index
from index.ingest import _damage
from rag import Settings
from rag.embeddings import build_embedder
from rag.store import forget_client
from tests.conftest import ROOT
from tests.test_crash_safety import _contents

BENCH = ROOT.parent / "shared" / "bench" / "squad-dev" / "articles"
SERIES = 20
FILES = 80  # ~2,000 sentences: Chroma saves HNSW indexes during a run


def _bins(store: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in store.glob("*/*.bin")}


def _run_and_kill(command: list[str], env: dict[str, str], rng: random.Random) -> bool:
    """Start the indexer; SIGKILL it as soon as it starts saving an HNSW file, or at a random
    moment. True if it was killed (it may finish first)."""
    store = Path(env["RAG_CHROMA_PATH"])
    before = _bins(store) if store.exists() else {}
    targeted = rng.random() < 0.7
    deadline = time.monotonic() + rng.uniform(1.5, 8.0)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        try:
            saving = targeted and store.exists() and _bins(store) != before
        except FileNotFoundError:  # a file replaced between listing and stat: a save
            saving = targeted
        if saving or (not targeted and time.monotonic() > deadline):
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.001)
    return False


def _edit(corpus: Path, spare: list[Path], rng: random.Random) -> None:
    """Append to some files, remove some, add some: what a user does between runs."""
    files = sorted(corpus.glob("*.txt"))
    for path in rng.sample(files, 6):
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n\nUpdate {rng.random():.6f}: the figures were revised again.\n")
    for path in rng.sample(files, 2):
        path.unlink()
    for _ in range(2):
        if spare:
            source = spare.pop()
            shutil.copy(source, corpus / source.name)


@pytest.mark.skipif(not BENCH.is_dir(), reason=f"{BENCH} (the dev bench) is not beside the repo")
def test_twenty_kill_series_end_equal_to_a_clean_index(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    available = sorted(BENCH.glob("*.txt"))
    for path in available[:FILES]:
        shutil.copy(path, corpus / path.name)
    spare = available[FILES:]
    clean = Settings(chroma_path=tmp_path / "clean", corpus_dir=corpus)
    crashed = Settings(chroma_path=tmp_path / "crashed", corpus_dir=corpus)
    build_index(corpus, clean, progress=False)
    shutil.copytree(clean.chroma_path, crashed.chroma_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "CHROMA_", "OPENAI_"))}
    env |= {"RAG_CHROMA_PATH": str(crashed.chroma_path), "RAG_INDEX_BATCH": "8"}
    command = [sys.executable, "-m", "index", str(corpus), "-q"]
    embedder = build_embedder(crashed)
    rng = random.Random(2026)
    kills = damaged = 0
    for _ in range(SERIES):
        for _ in range(rng.randint(1, 3)):
            _edit(corpus, spare, rng)
            kills += _run_and_kill(command, env, rng)
        if _damage(crashed, embedder) is not None:
            damaged += 1  # left as the fixture store was: the next run must repair it
        forget_client(crashed.chroma_path)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        assert _damage(crashed, embedder) is None
        forget_client(crashed.chroma_path)
        build_index(corpus, clean, progress=False)
        assert _contents(crashed) == _contents(clean)
        forget_client(crashed.chroma_path)
    assert kills >= SERIES, f"{kills} kills; {damaged} series left a damaged store, repaired"
