"""The `rag` command: index, ask, eval, ui. It calls `rag`, `index` and `evals`; none call it."""

from cli.main import app, main

__all__ = ["app", "main"]
