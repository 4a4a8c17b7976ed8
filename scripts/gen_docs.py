"""Generate what the docs say about settings and commands from the code, or check it is current.

    python -m scripts.gen_docs           # rewrite .env.example and the generated doc sections
    python -m scripts.gen_docs --check   # exit 1 if any of them is out of date (`make lint`)

`.env.example` is written whole from `rag.config.Settings`. The Markdown pages hold
[cog](https://cog.readthedocs.io) blocks that call `settings_table()` and `cli_help()` below;
cog replaces the text between a block and its `[[[end]]]` marker with what they print.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

from cogapp import Cog
from pydantic.fields import FieldInfo

from rag.config import ENV_NAMES, Settings

ROOT = Path(__file__).resolve().parents[1]
ENV_EXAMPLE = ROOT / ".env.example"
# Pages with cog blocks; adding one here is all a new generated page needs.
COG_PAGES = [ROOT / "docs" / "configuration.md", ROOT / "docs" / "cli.md"]
WIDTH = 100  # the help is rendered at this terminal width, whatever the machine's

# A heading before the first setting of each group, in field order.
GROUPS = {
    "openai_api_key": "Answering: OpenAI or any OpenAI-compatible server, and the answer mode",
    "embedding_backend": "Embeddings",
    "chroma_path": "The Chroma store",
    "corpus_dir": "Articles and indexing",
    "top_k": "Retrieval and answers",
}
ENV_HEADER = """\
# Generated from rag/config.py (Settings) by `make docs`; edit the descriptions there.
# Copy to .env and edit. Explicit arguments win over these, these win over defaults.
# The CLI and the chat read .env from the current folder; the library never does.
"""


def env_value(value: Any) -> str:
    """A default as it is written in a `.env` file (None is an empty value)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def env_example() -> str:
    """The whole `.env.example`: each setting's description as a comment, then its default."""
    parts = [ENV_HEADER]
    for name, field in Settings.model_fields.items():
        if name in GROUPS:
            parts.append(f"\n# --- {GROUPS[name]} ---\n")
        comment = textwrap.wrap(field.description or "", WIDTH - 2)
        parts.append("".join(f"# {line}\n" for line in comment))
        parts.append(f"{ENV_NAMES[name]}={env_value(field.default)}\n")
    return "".join(parts)


def allowed(field: FieldInfo) -> str:
    """What values a setting takes: the choices of a Literal, or its numeric bounds."""
    choices = [a for a in typing.get_args(field.annotation) if isinstance(a, str)]
    if typing.get_origin(field.annotation) is typing.Literal:
        return " \\| ".join(f"`{c}`" for c in choices)
    bounds = []
    for item in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if getattr(item, attr, None) is not None:
                bounds.append(f"{sign} {getattr(item, attr):,}")
    kinds: dict[object, str] = {int: "integer", float: "number", bool: "true/false"}
    kind = kinds.get(field.annotation, "")
    return ", ".join(filter(None, [kind, *bounds]))


def settings_table() -> str:
    """The settings as a Markdown table: environment name, default, allowed values, meaning."""
    rows = ["| setting | default | allowed | what it does |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = env_value(field.default)
        shown = f"`{default}`" if default else "(empty)"
        text = (field.description or "").replace("|", "\\|").replace("<", "&lt;")
        rows.append(f"| `{ENV_NAMES[name]}` | {shown} | {allowed(field)} | {text} |")
    return "\n".join(rows) + "\n"


def cli_help(*command: str) -> str:
    """`rag COMMAND --help` as a fenced block, rendered at a fixed width without colour."""
    from typer.testing import CliRunner

    from cli import app

    env = {"COLUMNS": str(WIDTH), "NO_COLOR": "1", "TERM": "dumb"}
    result = CliRunner().invoke(app, [*command, "--help"], env=env, prog_name="rag")
    if result.exit_code != 0:
        raise RuntimeError(f"rag {' '.join(command)} --help failed: {result.output}")
    lines = [line.rstrip() for line in result.output.strip("\n").splitlines()]
    return (
        "```console\n$ rag " + " ".join([*command, "--help"]) + "\n" + "\n".join(lines) + "\n```\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is out of date")
    args = parser.parse_args(argv)
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    if undescribed:
        print(
            f"Settings fields without a description: {', '.join(undescribed)}; "
            "declare each with Field(description=...) in rag/config.py",
            file=sys.stderr,
        )
        return 1
    pages = [str(p) for p in COG_PAGES]
    stale = []
    if ENV_EXAMPLE.read_text(encoding="utf-8") != env_example():
        stale.append(str(ENV_EXAMPLE.relative_to(ROOT)))
        if not args.check:
            ENV_EXAMPLE.write_text(env_example(), encoding="utf-8")
    cog_args = ["cog", "--verbosity=0", "-I", str(ROOT), "--check" if args.check else "-r", *pages]
    cog_status = int(Cog().main(cog_args))
    if args.check and (stale or cog_status):
        print(f"out of date: {', '.join(stale) or 'see above'}; run `make docs`", file=sys.stderr)
        return 1
    return cog_status


if __name__ == "__main__":
    raise SystemExit(main())
