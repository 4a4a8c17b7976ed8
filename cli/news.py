"""`rag watch` and `rag feeds ...`: news that keeps arriving (registered by `cli.main`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from rag.config import Settings
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
    feeds: Annotated[
        bool, typer.Option(help="Poll the subscribed feeds (`rag feeds`) when they are due.")
    ] = True,
    feed_interval: Annotated[
        float, typer.Option(help="Seconds between two polls of one feed (at least).")
    ] = 900.0,
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


def _poller(settings: Settings, interval: float) -> Callable[[], bool]:
    """Poll the feeds that are due; their new entries land in the watched upload folder."""
    from index.subscriptions import FeedOptions, poll

    options = FeedOptions(min_interval_s=interval)

    def due() -> bool:
        report = poll(settings, options=options)
        if report.polled:
            when = dt.datetime.now().strftime("%H:%M:%S")
            typer.echo(f"{when} feeds: {report.summary()}")
            for where, why in report.failed.items():
                typer.secho(f"feed problem {where}: {why}", fg=typer.colors.YELLOW, err=True)
        return bool(report.written or report.changed)

    return due


feeds_app = typer.Typer(help="Feed subscriptions: RSS/Atom feeds polled into the uploads.")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="The feed's address (http or https).")],
) -> None:
    """Subscribe to a feed; `rag feeds poll` (or `rag watch`) fetches its entries."""
    from cli.main import _fail, _settings
    from index.subscriptions import add_feed

    try:
        add_feed(_settings(), url)
    except RagError as exc:
        _fail(exc)
    typer.echo(f"Subscribed to {url}; `rag feeds poll` fetches it now.")


@feeds_app.command("remove")
def feeds_remove(
    url: Annotated[str, typer.Argument(help="The feed's address, as listed.")],
) -> None:
    """Unsubscribe from a feed (its articles already fetched stay in the uploads)."""
    from cli.main import _fail, _settings
    from index.subscriptions import remove_feed

    try:
        count = remove_feed(_settings(), url)
    except RagError as exc:
        _fail(exc)
    typer.echo(f"Unsubscribed from {url}; its {count} articles stay in the uploads.")


@feeds_app.command("list")
def feeds_list() -> None:
    """The subscriptions: entries fetched, last poll, next poll, last error."""
    from cli.main import _settings
    from index.subscriptions import list_feeds

    found = list_feeds(_settings())
    if not found:
        typer.echo("No subscriptions; add one with `rag feeds add URL`.")
    for feed in found:
        polled = _when(feed.polled_at) if feed.polled_at else "never"
        line = f"{feed.url}  {feed.title or '(not polled yet)'}  {feed.entries} entries; "
        line += f"polled {polled}, next {_when(feed.next_poll) if feed.next_poll else 'now'}"
        if feed.last_error:
            line += f"; {feed.failures} errors in a row, last: {feed.last_error}"
        typer.echo(line)


@feeds_app.command("poll")
def feeds_poll(
    force: Annotated[bool, typer.Option(help="Ask every feed now, whatever its interval.")] = False,
    limit: Annotated[int, typer.Option(help="New or changed entries per run, at most.")] = 50,
    interval: Annotated[
        float, typer.Option(help="Seconds between two polls of one feed (at least).")
    ] = 900.0,
) -> None:
    """Fetch the due feeds' new and changed entries into the uploads, then index them."""
    from cli.main import _fail, _settings
    from index import build_index
    from index.subscriptions import FeedOptions, poll

    try:
        settings = _settings()
        report = poll(settings, options=FeedOptions(interval, limit), force=force)
        for where, why in report.failed.items():
            typer.secho(f"feed problem {where}: {why}", fg=typer.colors.YELLOW, err=True)
        typer.echo(f"Feeds: {report.summary()}")
        if report.written or report.changed:
            indexed = build_index(None, settings, progress=False)
            typer.echo(f"Indexed: {indexed.summary()}")
    except RagError as exc:
        _fail(exc)


def _when(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
