"""The README's Python example runs as written, against an index of the sample corpus."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

from index import build_index
from rag import Settings

ROOT = Path(__file__).resolve().parents[1]


def readme_example() -> str:
    """The first Python code block of the README's "Python" section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's Python section has no ```python block"
    return match.group(1)


def test_readme_python_example_runs(tmp_path: Path) -> None:
    # The example uses the default settings, as a reader's script would: the sample corpus in
    # data/articles under the current folder (tmp_path, see conftest) and RAG_CHROMA_PATH.
    shutil.copytree(ROOT / "data" / "articles", tmp_path / "data" / "articles")
    settings = Settings.load()
    build_index(settings.corpus_dir, settings, progress=False)
    code = readme_example()
    assert len([line for line in code.splitlines() if line.strip()]) <= 3

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})

    printed = out.getvalue()
    assert "Alaska" in printed and "[1]" in printed
    cited = set(re.findall(r"source_file='([^']+)'", printed))
    assert cited and cited <= {p.name for p in (tmp_path / "data" / "articles").iterdir()}
