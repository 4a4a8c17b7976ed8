"""Twenty series of kill -9s of the indexer, most timed to land as Chroma starts re-saving an
HNSW index it saved before (what left the fixture store unopenable): the series must reproduce
that damage without the fixture, and every series must end, after one more `python -m index`,
equal to a clean index of the folder, with no store left unusable.

Between kills a quarter of the files are rewritten, so each run writes and deletes enough
records for Chroma to save its sentence index mid-run; the kill then lands within a few
milliseconds of the save starting, with deletes in the unsaved tail (see the README).
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
from rag.providers.embeddings import build_embedder
from rag.store.chroma import forget_client
from tests.support import ROOT, store_contents

# Twenty series of real kill -9s: 13.5 minutes on a loaded 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

BENCH = ROOT.parent / "shared" / "bench" / "squad-dev" / "articles"
SERIES = 20
FILES = 80  # ~2,000 sentences: Chroma saves HNSW indexes during a run


def _saved_bins(store: Path) -> dict[Path, int]:
    """The native HNSW files of segments Chroma has saved before (a pickle beside them)."""
    return {
        p: p.stat().st_mtime_ns
        for segment in store.glob("*/index_metadata.pickle")
        for p in segment.parent.glob("*.bin")
    }


def _run_and_kill(command: list[str], env: dict[str, str], rng: random.Random) -> bool:
    """Start the indexer; SIGKILL it 0-3 ms after it starts re-saving an HNSW index, or (one
    run in four) at a random moment. True if it was killed (it may finish first)."""
    store = Path(env["RAG_CHROMA_PATH"])
    before = _saved_bins(store)
    targeted = rng.random() < 0.75
    deadline = time.monotonic() + rng.uniform(1.5, 8.0)
    delay = rng.uniform(0, 0.003)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None:
        try:
            now = _saved_bins(store)
            saving = targeted and any(now.get(p) != t for p, t in before.items())
        except FileNotFoundError:  # a file replaced between listing and stat: a save
            saving = targeted
        if saving or (not targeted and time.monotonic() > deadline):
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.0005)
    return False


def _edit(corpus: Path, pool: list[Path], spare: list[Path], rng: random.Random) -> None:
    """Rewrite a quarter of the files, append to some, remove some, add some."""
    files = sorted(corpus.glob("*.txt"))
    for path in rng.sample(files, len(files) // 4):
        path.write_text(rng.choice(pool).read_text(encoding="utf-8"), encoding="utf-8")
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
        for _ in range(3):  # edit and run until a kill lands (a run may finish first)
            _edit(corpus, available, spare, rng)
            if _run_and_kill(command, env, rng):
                kills += 1
                break
        if _damage(crashed, embedder) is not None:
            damaged += 1  # left as the fixture store was: the next run must repair it
        forget_client(crashed.chroma_path)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr
        assert _damage(crashed, embedder) is None
        forget_client(crashed.chroma_path)
        build_index(corpus, clean, progress=False)
        assert store_contents(crashed) == store_contents(clean)
        forget_client(crashed.chroma_path)
    print(f"{kills} kills in {SERIES} series; {damaged} left a damaged store, repaired")
    assert kills >= SERIES * 3 // 4, f"only {kills} kills landed in {SERIES} series"
    assert damaged >= 1, f"{kills} kills, none reproduced the damaged store"
