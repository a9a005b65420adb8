"""The `fastapi-deplint` command line (click + rich)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from . import __version__
from .project import build_project

COMMANDS = ("check", "graph", "rule")


class DefaultToCheck(click.Group):
    """`fastapi-deplint src/` means `fastapi-deplint check src/`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastapi-deplint")
def main() -> None:
    """Lint FastAPI dependency injection: `fastapi-deplint PATH` checks, `graph` draws."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["tree", "json", "mermaid", "dot"]), default="tree", show_default=True)
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip (repeatable).")
def graph(paths: tuple[Path, ...], fmt: str, exclude: tuple[str, ...]) -> None:
    """Print the project's dependency graph: every route with its dependency tree."""
    from .report import graph_formats

    project = build_project(list(paths), exclude)
    if fmt == "json":
        click.echo(graph_formats.render_json(project))
    elif fmt == "mermaid":
        click.echo(graph_formats.render_mermaid(project), nl=False)
    elif fmt == "dot":
        click.echo(graph_formats.render_dot(project), nl=False)
    else:
        graph_formats.render_tree(project, Console(soft_wrap=False))
