"""`python -m ui.serve [streamlit options]`: load the model and index, then serve the chat.

The pipeline is built in this process before the server accepts a visitor, and the page's
cached loader picks it up, so the first question does not wait for start-up.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas  # noqa: F401  (st.dataframe's first use imports it: done before a visitor)
from streamlit.string_util import is_emoji
from streamlit.web import cli as streamlit_cli

# The pages' own imports (evals alone takes ~2 s), loaded before a visitor arrives.
import evals.charts  # noqa: F401
import evals.report  # noqa: F401
import ui.render  # noqa: F401
import ui.sidebar  # noqa: F401
from rag import RagError
from rag.store.corpus import MAX_UPLOAD_BYTES
from ui.state import load_settings, warm

APP = Path(__file__).resolve().parent / "app.py"
# The uploader takes files up to this many times the corpus limit, so a file over the limit
# reaches the page and is listed among the results with its size and the limit (the widget's
# own refusal shows only on the file's chip). Larger ones the widget refuses: a page never
# holds a huge file in memory.
UPLOAD_WIDGET_FACTOR = 5
# Streamlit's own checks: the developer toolbar hidden, and the uploader's bound (MiB).
OPTIONS = [
    "--client.toolbarMode",
    "viewer",
    "--server.maxUploadSize",
    str(math.ceil(UPLOAD_WIDGET_FACTOR * MAX_UPLOAD_BYTES / 2**20)),
    "--browser.gatherUsageStats",
    "false",
]


def main(argv: list[str]) -> None:
    """Warm the pipeline (a broken store is reported by the page instead), then serve."""
    print("Loading the index and models…", file=sys.stderr, flush=True)
    is_emoji("📰")  # compiles Streamlit's emoji pattern (0.2 s) for the pages' icons
    try:
        warm(load_settings())
    except RagError as exc:
        print(f"Not preloaded: {exc}", file=sys.stderr, flush=True)
    sys.argv = ["streamlit", "run", str(APP), *OPTIONS, *argv]
    streamlit_cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
