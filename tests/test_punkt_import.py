"""Sentence splitting loads nltk's Punkt alone: not the whole toolkit, and the same sentences."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: whether nltk's package is imported is process-wide state.
_SCRIPT = """
import sys
from pathlib import Path
import rag.text.sentences as T

texts = [p.read_text(encoding="utf-8") for p in sorted(Path("data/articles").iterdir())]
texts.append('He met Mr. Smith, i.e. the U.S. envoy, at No. 10. She said no. Then "Go." he left.')
alone = [T.sentence_spans(t) for t in texts]
assert "nltk" not in sys.modules and "scipy.stats" not in sys.modules, "nltk's package loaded"

import nltk  # the real package, for anyone else in the process
from nltk.tokenize.punkt import PunktSentenceTokenizer
assert hasattr(nltk, "data") and hasattr(nltk, "collocations")
T.sentence_spans.cache_clear()
T._punkt.cache_clear()
plain = [T.sentence_spans(t) for t in texts]
assert isinstance(T._punkt(), PunktSentenceTokenizer)  # built from the real package's class
assert alone == plain, "different sentences"
print(sum(len(s) for s in alone))
"""


def test_punkt_loads_without_nltks_package_and_splits_the_same() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 50  # the sample articles' sentences were compared
