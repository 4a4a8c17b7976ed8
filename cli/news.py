"""`rag watch` and `rag feeds ...`: news that keeps arriving (registered by `cli.main`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from rag.errors import RagError


def watch_cmd(
    path: Annotated[
        Path | None, typer.Argument(help="Folder of articles to watch; default: RAG_CORPUS_DIR.")
    ] = None,
    step: Annotated[
        int, typer.Option(help="A burst of changes ends after this many ms without one.")
    ] = 500,
    settle: Annotated[
        float, typer.Option(help="Seconds a changed file must hold still before it is read.")
    ] = 0.5,
) -> None:
    """Keep the store in line with a folder (and the upload folder) as files come and go."""
    from cli.main import _fail, _settings
    from index.watch import WatchOptions, WatchRun, watch

    def said(run: WatchRun) -> None:
        when = dt.datetime.now().strftime("%H:%M:%S")
        if run.report is None:
            typer.secho(f"{when} {run.error}", fg=typer.colors.YELLOW, err=True)
            return
        for line in run.report.notices():
            typer.secho(line, fg=typer.colors.YELLOW, err=True)
        typer.echo(f"{when} {run.changed} changed: {run.report.summary()}", nl=True)

    options = WatchOptions(step_ms=step, settle_s=settle)
    try:
        settings = _settings()
        typer.echo(
            f"Watching {path or settings.corpus_dir} and {settings.upload_dir} (Ctrl-C stops)"
        )
        watch(path, settings, options=options, on_run=said)
    except RagError as exc:
        _fail(exc)
