"""`python -m index [PATH] [-q]`: the same as `rag index [PATH]`, without the `cli` package."""

from __future__ import annotations

import argparse
import sys

from index.ingest import build_index
from rag.config import Settings
from rag.errors import RagError


def main(argv: list[str] | None = None) -> int:
    """Index a folder; one line per problem on stderr, exit code 1 on a user error."""
    parser = argparse.ArgumentParser(prog="python -m index", description=__doc__)
    parser.add_argument("path", nargs="?", help="folder of articles (default: RAG_CORPUS_DIR)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--rebuild", action="store_true", help="build the store afresh beside")
    args = parser.parse_args(argv)
    try:
        settings = Settings.load(env_file=".env")
        report = build_index(args.path, settings, progress=not args.quiet, rebuild=args.rebuild)
    except RagError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    for line in report.notices():
        print(line, file=sys.stderr)
    print(f"Indexed {report.folder} into '{report.collection}': {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
