"""`python -m index [PATH]`: the same as `rag index [PATH]`."""

import sys

from rag.cli import main

if __name__ == "__main__":
    main(["index", *sys.argv[1:]])
