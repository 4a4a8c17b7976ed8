"""The `rag` command: index, ask, ui."""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer

app = typer.Typer(
    help="Citation-grounded answers about a folder of news articles.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings(**overrides: Any) -> Settings:
    env = Path(".env")
    return Settings.load(env_file=env if env.is_file() else None, **overrides)


def _fail(exc: RagError) -> None:
    typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command("index")
def index_cmd(
    path: Annotated[Path | None, typer.Argument(help="Folder of .txt/.md articles.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Index (or bring up to date) a folder of articles; default: RAG_CORPUS_DIR."""
    from index import build_index

    try:
        report = build_index(path, _settings(), progress=not quiet)
    except RagError as exc:
        _fail(exc)
    for name, reason in report.skipped.items():
        typer.secho(f"skipped {name}: {reason}", fg=typer.colors.YELLOW, err=True)
    for name, warning in report.warnings.items():
        typer.secho(f"warning {name}: {warning}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"Indexed {report.folder} into '{report.collection}': {report.summary()}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print the Answer as JSON.")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=50)] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source file (repeatable).")
    ] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"])] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option("--as-of", formats=["%Y-%m-%d"], help="Ignore articles dated after this."),
    ] = None,
    mode: Annotated[str | None, typer.Option(help="auto, extractive or openai.")] = None,
) -> None:
    """Answer a question from the indexed articles, with numbered sources."""
    from rag.pipeline import Pipeline

    filters = {
        "sources": source or (),
        "since": since.date() if since else None,
        "until": until.date() if until else None,
        "as_of": as_of.date() if as_of else None,
    }
    try:
        pipeline = Pipeline.from_settings(_settings(answer_mode=mode))
        result = pipeline.answer(question, top_k=top_k, filters=filters)
    except RagError as exc:
        _fail(exc)
    if json_out:
        typer.echo(result.model_dump_json(indent=2))
    else:
        typer.echo(render(result))


def render(result: Answer) -> str:
    """The answer followed by its numbered source list, for a terminal."""
    lines = [result.text, ""]
    if result.rewritten_question:
        lines.insert(0, f"(searched: {result.rewritten_question})\n")
    if result.incomplete:
        lines.append("(incomplete: the provider stopped before the answer was finished)")
        lines.append("")
    if result.unsupported:
        lines.append("Not supported by any source: " + " | ".join(result.unsupported))
        lines.append("")
    if result.citations:
        lines.append("Sources:")
    for c in result.citations:
        date = c.date.isoformat() if c.date else "undated"
        lines.append(f"[{c.n}] {c.source_file} ({date}) chars {c.start}-{c.end}")
        lines.append(f'    "{c.quote}"')
    return "\n".join(lines).rstrip()


@app.command()
def ui(port: Annotated[int, typer.Option(help="Port to serve the chat on.")] = 8501) -> None:
    """Open the Streamlit chat."""
    spec = importlib.util.find_spec("ui")
    if spec is None or not spec.submodule_search_locations:
        typer.secho("Error: the ui package is not installed.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    script = Path(next(iter(spec.submodule_search_locations))) / "app.py"
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    raise typer.Exit(subprocess.call([*command, "--browser.gatherUsageStats", "false"]))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (exits the process with its code)."""
    app(args=argv, prog_name="rag")
