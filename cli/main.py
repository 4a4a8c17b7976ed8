"""The `rag` command: index, add, ask, eval, feedback, ui, serve."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from rag.config import Settings
from rag.errors import RagError
from rag.trust.cite import strip_controls
from rag.types import Answer, Citation

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
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Folder of articles: .txt .md .html .htm .pdf .docx .json .jsonl .xml .rss .atom."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Build the store afresh beside the old one; the old one stays until it is done.",
        ),
    ] = False,
) -> None:
    """Index (or bring up to date) a folder of articles; default: RAG_CORPUS_DIR."""
    from index import build_index

    try:
        report = build_index(path, _settings(), progress=not quiet, rebuild=rebuild)
    except RagError as exc:
        _fail(exc)
    for line in report.notices():
        typer.secho(line, fg=typer.colors.YELLOW, err=True)
    typer.echo(f"Indexed {report.folder} into '{report.collection}': {report.summary()}")


@app.command()
def add(
    urls: Annotated[list[str], typer.Argument(help="Addresses of web pages (http or https).")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Download web pages into the upload folder (RAG_UPLOAD_DIR) and index them."""
    from index import build_index
    from index.fetch import fetch_page

    settings = _settings()
    saved, failed = [], 0
    for url in urls:
        try:
            page = fetch_page(url, settings)
        except RagError as exc:
            typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
            failed += 1
            continue
        saved.append(page.source)
        typer.echo(f"saved {url} as {page.source}")
    if not saved:
        raise typer.Exit(1)
    try:
        report = build_index(None, settings, progress=not quiet)
    except RagError as exc:
        _fail(exc)
    for line in report.notices():
        typer.secho(line, fg=typer.colors.YELLOW, err=True)
    typer.echo(f"Indexed into '{report.collection}': {report.summary()}")
    if failed or any(name in report.skipped for name in saved):
        raise typer.Exit(1)


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
    """The answer followed by its numbered source list, for a terminal: plain text, with
    control characters removed (an escape sequence in a model's or an article's text would
    otherwise act on the terminal: a hidden hyperlink, colours, a rewritten line)."""
    lines = [result.text, ""]
    if result.rewritten_question:
        lines.insert(0, f"Searched for: {result.rewritten_question}\n")
    if result.confidence == "related":
        lines.append(f"(low confidence: the quoted passages are {result.confidence_words})")
        lines.append("")
    if result.incomplete:
        reason = result.incomplete_reason or "the provider stopped before the answer was finished"
        lines.append(f"(incomplete: {reason})")
        lines.append("")
    if result.unsupported:
        lines.append("Not supported by any source: " + " | ".join(result.unsupported))
        lines.append("")
    for conflict in result.conflicts:
        lines.append(f"Sources disagree on: {conflict.slot}")
        width = max(len(side.value) for side in conflict.sides)
        for side in conflict.sides:
            date = side.date.isoformat() if side.date else "undated"
            lines.append(
                f"    {side.value:<{width}}  [{side.citation}] {side.source_file} ({date})"
            )
        lines.append("")
    if result.citations:
        lines.append("Sources:")
    for c in result.citations:
        lines.extend(_source_lines(c, f"[{c.n}]"))
    if result.closest:
        lines.append("Closest passages (they do not answer the question):")
    for n, c in enumerate(result.closest, start=1):
        lines.extend(_source_lines(c, f"({n})"))
    return strip_controls("\n".join(lines).rstrip())


def _source_lines(c: Citation, label: str) -> list[str]:
    """A source's header and its quote, the phrase that answers (if marked) in **bold**."""
    date = c.date.isoformat() if c.date else "undated"
    quote = c.quote
    if c.answer_span is not None:
        lo, hi = c.answer_span[0] - c.start, c.answer_span[1] - c.start
        quote = f"{quote[:lo]}**{quote[lo:hi]}**{quote[hi:]}"
    page = f" page {c.page}" if c.page is not None else ""
    lines = [f"{label} {c.source_file} ({date}){page} chars {c.start}-{c.end}"]
    if c.author or c.outlet or c.url:  # a plain file's title is its first line: not repeated
        title = c.title if len(c.title) <= 80 else c.title[:79].rsplit(" ", 1)[0] + "…"
        about = (title, c.author and f"by {c.author}", c.outlet, c.url)
        lines.append("    " + " · ".join(filter(None, about)))
    return [*lines, f'    "{quote}"']


def _bars(values: list[str] | None, flag: str) -> dict[str, float]:
    bars = {}
    for item in values or []:
        name, _, number = item.partition("=")
        try:
            bars[name.strip()] = float(number)
        except ValueError:
            typer.secho(
                f"Error: {flag} takes metric=value (e.g. fact_recall=0.8), got {item!r}.",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(2) from None
    return bars


@app.command("eval")
def eval_cmd(
    suite: Annotated[
        Path,
        typer.Argument(
            help="A .yaml suite, a bench folder, or a RAGAS-style (.json/.jsonl/.csv) or "
            "SQuAD-format (.json) testset."
        ),
    ],
    mode: Annotated[str | None, typer.Option(help="auto, extractive or openai.")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Run folder; an unfinished run's folder resumes it.")
    ] = None,
    compare: Annotated[
        Path | None, typer.Option(help="An earlier run folder: report deltas and regressions.")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option("--fail-under", help="metric=value: exit 1 if the metric is below it."),
    ] = None,
    fail_above: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-above", help="metric=value: exit 1 if above (false_refusal_rate, latency)."
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 1,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per case.")] = 120.0,
    repeat: Annotated[int, typer.Option(min=1, max=100)] = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Run a random sample.")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    judge: Annotated[
        bool | None,
        typer.Option("--judge/--no-judge", help="LLM-judge metrics (default: on with a key)."),
    ] = None,
    judge_model: Annotated[str | None, typer.Option(help="Judge model.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    corpus: Annotated[
        Path | None,
        typer.Option(help="The articles a testset asks about (default: articles/ beside it)."),
    ] = None,
) -> None:
    """Run an eval suite, write its reports (and junit.xml), and gate on metric bars."""
    from evals import run_suite
    from evals.report import metric_rows

    under, above = _bars(fail_under, "--fail-under"), _bars(fail_above, "--fail-above")
    env = Path(".env")
    try:
        report = run_suite(
            suite,
            mode=mode,
            out=out,
            compare=compare,
            concurrency=concurrency,
            timeout=timeout,
            repeat=repeat,
            limit=limit,
            seed=seed,
            judge=judge,
            judge_model=judge_model,
            progress=not quiet,
            env_file=env if env.is_file() else None,
            corpus=corpus,
        )
        failures = report.gate(under, above)
    except RagError as exc:
        _fail(exc)
    for name, mean, n, spread, _ in metric_rows(report):
        typer.echo(f"{name:<20} {mean:>7}  n={n:<5} {spread}")
    typer.echo(f"errors: {len(report.errors)}; reports in {report.run_dir}")
    if report.comparison and report.comparison.mismatch:
        typer.secho(
            "warning: the compared runs differ in " + "; ".join(report.comparison.mismatch),
            fg=typer.colors.YELLOW,
            err=True,
        )
    if report.comparison and report.comparison.regressed:
        typer.echo(f"regressed: {', '.join(report.comparison.regressed)}")
    for failure in failures:
        typer.secho(f"FAIL: {failure}", fg=typer.colors.RED, err=True)
    if failures:
        raise typer.Exit(1)


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="Port to serve the chat on.")] = 8501,
    address: Annotated[
        str | None, typer.Option(help="Address to listen on (default: all interfaces).")
    ] = None,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
) -> None:
    """Open the Streamlit chat (the model and index load before it serves)."""
    if importlib.util.find_spec("ui") is None:
        typer.secho("Error: the ui package is not installed.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    command = [sys.executable, "-m", "ui.serve", "--server.port", str(port)]
    if address:
        command += ["--server.address", address]
    if headless:
        command += ["--server.headless", "true"]
    sys.stdout.flush()
    # The server replaces this process, so a signal sent to `rag ui` (a supervisor's SIGTERM)
    # reaches Streamlit instead of leaving it running orphaned.
    os.execv(sys.executable, command)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option(help="Address to listen on; off loopback RAG_API_KEYS is required.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs; OpenAI-compatible /v1/chat/completions)."""
    if importlib.util.find_spec("api") is None:
        typer.secho("Error: the api package is not installed.", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    from api.config import ApiConfig
    from api.serve import serve as run

    env = Path(".env")
    try:
        config = ApiConfig.load(env_file=env if env.is_file() else None)
        run(host, port, _settings(), config)
    except RagError as exc:
        _fail(exc)


feedback_app = typer.Typer(help="Readers' 👍/👎 from the chat.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Suite file to write (YAML).")] = Path(
        "feedback.yaml"
    ),
) -> None:
    """Write the chat's feedback as an eval suite: 👎 as cases to complete, 👍 as regressions."""
    from evals.feedback import export_suite, feedback_path

    settings = _settings()
    text = export_suite(feedback_path(settings), settings.corpus_dir)
    if not text:
        _fail(RagError(f"No feedback yet in {feedback_path(settings)}: rate answers in the chat."))
    out.write_text(text, encoding="utf-8")
    typer.echo(f"Wrote {text.count(chr(10) + '  - id: ')} cases to {out}; run `rag eval {out}`.")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI (exits the process with its code)."""
    app(args=argv, prog_name="rag")
