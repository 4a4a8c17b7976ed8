"""The tiktoken and Punkt tables shipped in `rag/assets` give the tokens and sentences the library
gave when it read them from llama-index's private `_static` folder, and match what tiktoken's and
NLTK's own loaders build from that folder."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rag.text.sentences import _EXTRA_ABBREVIATIONS, PUNKT, _punkt
from rag.text.tokens import TABLE, URL, encoding

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "rag" / "assets"
PUNKT_FILES = ("abbrev_types.txt", "collocations.tab", "ortho_context.tab", "sent_starters.txt")
TEXTS = [
    *(path.read_text(encoding="utf-8") for path in sorted((ROOT / "data" / "articles").iterdir())),
    "Prices rose 3.5% (i.e. $1,200.50) on Jan. 5, 2025 — U.S. officials said no. 7 wasn't it.",
    "Ünïcödé: 東京 and emoji 📰; tabs\tand\r\nnew lines <|endoftext|> stay text.",
]


def _llama_index_static() -> Path:
    """llama-index-core's `_static` folder: where the tables were read from before."""
    spec = importlib.util.find_spec("llama_index.core")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)), "_static")


def test_the_shipped_tables_are_the_ones_read_before() -> None:
    static = _llama_index_static()
    pairs = [(ASSETS / TABLE, static / "tiktoken_cache" / hashlib.sha1(URL.encode()).hexdigest())]
    english = static / "nltk_cache" / "tokenizers" / "punkt_tab" / "english"
    pairs += [(ASSETS / f"{PUNKT}{name}", english / name) for name in PUNKT_FILES]
    for shipped, before in pairs:
        assert shipped.read_bytes() == before.read_bytes(), shipped.name


def test_the_encoding_is_tiktokens_cl100k_and_tokenizes_as_before(tmp_path: Path) -> None:
    # tiktoken's own constructor, reading the table llama-index ships from a cache folder.
    name = hashlib.sha1(URL.encode()).hexdigest()
    shutil.copyfile(_llama_index_static() / "tiktoken_cache" / name, tmp_path / name)
    code = (
        "import json, sys, tiktoken\n"
        "e = tiktoken.get_encoding('cl100k_base')\n"
        "texts = json.loads(open(sys.argv[1], encoding='utf-8').read())\n"
        "print(json.dumps([e._pat_str, sorted(e._special_tokens.items()), e.n_vocab,"
        " [e.encode(t, disallowed_special=()) for t in texts]]))\n"
    )
    texts = tmp_path / "texts.json"
    texts.write_text(json.dumps(TEXTS), encoding="utf-8")
    env = dict(os.environ, TIKTOKEN_CACHE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", code, str(texts)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    pattern, special, n_vocab, tokens = json.loads(done.stdout)
    ours = encoding()
    assert (pattern, special, n_vocab) == (
        ours._pat_str,
        [list(item) for item in sorted(ours._special_tokens.items())],
        ours.n_vocab,
    )
    assert tokens == [ours.encode(t, disallowed_special=()) for t in TEXTS]
    assert sum(map(len, tokens)) > 1000


def test_the_punkt_tables_split_as_nltks_loader_did_before(tmp_path: Path) -> None:
    # NLTK's own loader (PunktTokenizer through nltk.data), over the tables llama-index ships.
    english = _llama_index_static() / "nltk_cache" / "tokenizers" / "punkt_tab" / "english"
    shutil.copytree(english, tmp_path / "tokenizers" / "punkt_tab" / "english")
    (tmp_path / "texts.json").write_text(json.dumps(TEXTS), encoding="utf-8")
    code = (
        "import json, sys\n"
        "from nltk.tokenize.punkt import PunktTokenizer\n"
        "tokenizer = PunktTokenizer('english')\n"
        f"tokenizer._params.abbrev_types.update({list(_EXTRA_ABBREVIATIONS)!r})\n"
        "texts = json.loads(open(sys.argv[1], encoding='utf-8').read())\n"
        "print(json.dumps([list(tokenizer.span_tokenize(t)) for t in texts]))\n"
    )
    env = dict(os.environ, NLTK_DATA=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "texts.json")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    before = json.loads(done.stdout)
    ours = [[list(span) for span in _punkt().span_tokenize(t)] for t in TEXTS]
    assert ours == before
    assert sum(map(len, before)) > 50
