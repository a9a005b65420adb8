"""The `fastapi-deplint` command line (click + rich)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .config import ConfigError, load_config
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
        from rich.console import Console

        graph_formats.render_tree(project, Console(soft_wrap=False))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), required=True)
@click.option("--output-format", type=click.Choice(["concise", "json"]), default="concise", show_default=True)
@click.option("--select", default="", help="Comma-separated codes or prefixes to enable (replaces the default set).")
@click.option("--extend-select", default="", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", default="", help="Codes or prefixes to disable.")
@click.option("--max-depth", type=int, default=None, help="FDL402: deepest allowed dependency chain.")
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip (repeatable).")
@click.option("--statistics", is_flag=True, help="Print counts per code instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
def check(
    paths: tuple[Path, ...],
    output_format: str,
    select: str,
    extend_select: str,
    ignore: str,
    max_depth: int | None,
    exclude: tuple[str, ...],
    statistics: bool,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Lint the project under PATHS (exit 0 clean, 1 findings, 2 error)."""
    from . import engine
    from .report import findings as fmt

    overrides: dict[str, object] = {}
    for key, value in (("select", select), ("extend-select", extend_select), ("ignore", ignore)):
        if value:
            overrides[key] = value
    if max_depth is not None:
        overrides["max-depth"] = max_depth
    try:
        config = load_config(list(paths), overrides=overrides)
    except ConfigError as exc:
        click.echo(f"fastapi-deplint: error: {exc}", err=True)
        sys.exit(2)
    for path in paths:
        if not path.exists():
            click.echo(f"fastapi-deplint: error: {path}: no such file or directory", err=True)
            sys.exit(2)
    project = build_project(list(paths), (*config.exclude, *config.extend_exclude, *exclude))
    result = engine.run(project, config)
    findings = result.findings
    if statistics:
        click.echo(fmt.statistics(findings), nl=False)
    elif output_format == "json":
        click.echo(fmt.render_json(findings))
    else:
        click.echo(fmt.render_concise(findings), nl=False)
        if not quiet:
            click.echo(fmt.summary(findings))
    for message in result.internal_errors:
        click.echo(message, err=True)
    if result.internal_errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not findings else 1)


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Print every rule.")
def rule(code: str | None, show_all: bool) -> None:
    """Print a rule's documentation: `fastapi-deplint rule FDL101`."""
    from .rules import all_rules, rule_by_code

    if show_all or not code:
        for r in all_rules():
            opt = "" if r.default_enabled else " (opt-in)"
            click.echo(f"# {r.code} {r.name}{opt}\n\n{r.documentation()}\n")
        return
    found = rule_by_code(code)
    if found is None:
        click.echo(f"fastapi-deplint: error: unknown rule {code}", err=True)
        sys.exit(2)
    opt = "" if found.default_enabled else " (opt-in)"
    click.echo(f"# {found.code} {found.name}{opt}\n\nFix: {found.summary}\n\n{found.documentation()}")
