"""`python -m cli ARGS`: the same as `rag ARGS`."""

from cli.main import main

if __name__ == "__main__":
    main()
