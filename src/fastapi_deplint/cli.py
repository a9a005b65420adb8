"""The `fastapi-deplint` command line (click + rich).

Exit codes as ruff: 0 nothing to report, 1 findings, 2 a usage or configuration error or an
internal error. When every path given is a file (as pre-commit passes them) the project
those files belong to is analysed and only their findings are reported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .config import OUTPUT_FORMATS, Config, ConfigError, find_project_root, load_config
from .rules.base import Finding

FIX_REPORT_BYTES = 1_500_000  # source described with fixes in a report (not --fix/--diff): ~3 s of libcst
COMMANDS = ("check", "graph", "rule")


class DefaultToCheck(click.Group):
    """`fastapi-deplint src/` means `fastapi-deplint check src/`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


# Set by `run`: the process ends with `os._exit`, so what `check` analysed may stay alive to
# the end. Freeing a large project object by object as `check` returned cost 0.27 s on the
# benchmark corpus (after the rules, before the report was written).
_hard_exit = False
_kept_until_exit: list[Any] = []


def keep_until_exit(analysed: Any) -> None:
    if _hard_exit:
        _kept_until_exit.append(analysed)


def fail(message: str) -> NoReturn:
    click.echo(f"fastapi-deplint: error: {message}", err=True)
    sys.exit(2)


@click.group(cls=DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastapi-deplint")
def main() -> None:
    """Lint FastAPI dependency injection: `fastapi-deplint PATH` checks, `graph` draws."""


def run() -> NoReturn:
    """The `fastapi-deplint` command: the CLI, then an exit that skips the interpreter's
    teardown. Freeing a large project's facts object by object took 0.2-0.4 s on the
    benchmark corpus after everything was written (mypy leaves the same way). Every pool has
    been shut down by then and output is flushed here; an unexpected error still ends
    normally, with its traceback."""
    global _hard_exit
    _hard_exit = True
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:  # what Python itself does with `sys.exit("message")`
            print(exc.code, file=sys.stderr)
            code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    from .cache import settle

    settle()  # cache entries still being written in the background (`FactsCache.write_held`)
    os._exit(code)


def _config_options(paths: list[Path], configs: tuple[str, ...], isolated: bool, overrides: dict[str, Any]) -> Config:
    explicit: Path | None = None
    inline: list[str] = []
    for value in configs:
        candidate = Path(value)
        if candidate.suffix == ".toml" or candidate.is_file():
            if not candidate.is_file():
                fail(f"--config {value}: no such file")
            if explicit is not None:
                fail("--config: give at most one configuration file")
            explicit = candidate
        else:
            inline.append(value)
    return load_config(paths, explicit, overrides, isolated=isolated, inline=inline)


def _set_cache(ctx: click.Context, param: click.Parameter, value: object) -> None:
    from .cache import CACHE_ENV, NO_CACHE_ENV

    if param.name == "no_cache" and value:
        os.environ[NO_CACHE_ENV] = "1"
    elif param.name == "cache_dir" and value:
        os.environ[CACHE_ENV] = str(value)


def cache_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-cache` and `--cache-dir`: the per-file facts cache (see `fastapi_deplint.cache`)."""
    command = click.option(
        "--cache-dir", type=click.Path(path_type=Path), expose_value=False, callback=_set_cache, is_eager=True,
        help="Where to cache per-file facts [default: $FASTAPI_DEPLINT_CACHE_DIR or ~/.cache/fastapi-deplint].",
    )(command)
    return click.option(
        "--no-cache", is_flag=True, expose_value=False, callback=_set_cache, is_eager=True,
        help="Read and parse every file; neither read nor write the cache.",
    )(command)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), required=True)
@click.option("--format", "fmt", type=click.Choice(["tree", "json", "mermaid", "dot"]), default="tree", show_default=True)
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip (repeatable).")
@click.option("--config", "configs", multiple=True, metavar="FILE|KEY=VALUE", help="A TOML file, or a `key = value` setting.")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@cache_options
def graph(paths: tuple[Path, ...], fmt: str, exclude: tuple[str, ...], configs: tuple[str, ...], isolated: bool) -> None:
    """Print the project's dependency graph: every route with its dependency tree."""
    from . import engine
    from .report import graph_formats

    try:
        config = _config_options(list(paths), configs, isolated, {"extend-exclude": list(exclude)} if exclude else {})
    except ConfigError as exc:
        fail(str(exc))
    project = engine.analyse(list(paths), config)
    keep_until_exit(project)
    if fmt == "json":
        click.echo(graph_formats.render_json(project))
    elif fmt == "mermaid":
        click.echo(graph_formats.render_mermaid(project), nl=False)
    elif fmt == "dot":
        click.echo(graph_formats.render_dot(project), nl=False)
    else:
        from rich.console import Console

        graph_formats.render_tree(project, Console(soft_wrap=False))


def _per_file_ignores(values: tuple[str, ...]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for value in values:
        pattern, sep, codes = value.rpartition(":")
        if not sep or not pattern or not codes.strip():
            fail(f"--per-file-ignores {value!r}: expected PATTERN:CODES, e.g. 'tests/*:FDL201,FDL202'")
        result.setdefault(pattern, []).extend(c.strip() for c in codes.split(",") if c.strip())
    return result


@dataclasses.dataclass(slots=True)
class Outcome:
    findings: list[Finding]  # to report (only the files given, in project mode)
    everything: list[Finding]  # every finding of the analysed projects (for the baseline)
    internal_errors: list[str]
    codes: list[str]  # rules that ran
    projects: list[Any] = dataclasses.field(default_factory=list)  # the analysed projects (for the fixer)
    # those of `codes` with a fixer: a report from the cache counts hidden fixes by them
    # without importing every rule (a third of a small project's warm run)
    fixable: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(slots=True)
class Group:
    """One project to analyse: its root (project mode), the files given in it, its config."""

    root: Path | None
    files: list[Path]
    config: Config
    found: Any  # discover.Discovered

    @property
    def targets(self) -> list[Path]:
        return [self.root] if self.root is not None else self.files


def plan(paths: list[Path], project_mode: bool, make_config: Callable[[list[Path]], Config]) -> list[Group]:
    from .discover import discover
    from .rules._fastapi_version import manifest_name

    groups: dict[Path, list[Path]] = {}
    if project_mode:
        for path in paths:
            groups.setdefault(find_project_root(path), []).append(path)
    planned = []
    for root, files in (groups.items() if project_mode else [(None, paths)]):
        config = make_config([root] if root is not None else files)
        group = Group(root, files, config, None)
        group.found = discover(group.targets, config, manifest_name)
        planned.append(group)
    return planned


def analyse(
    paths: list[Path],
    project_mode: bool,
    make_config: Callable[[list[Path]], Config],
    progress: Callable[[str, int, int], None] | None,
    groups: list[Group] | None = None,
) -> Outcome:
    from . import engine

    outcome = Outcome([], [], [], [])
    for group in groups if groups is not None else plan(paths, project_mode, make_config):
        config = group.config
        project = engine.analyse(group.targets, config, progress=progress, found=group.found)
        result = engine.run(project, config, progress=progress, jobs=os.cpu_count() or 1)
        outcome.projects.append(project)
        outcome.internal_errors += result.internal_errors
        enabled = engine.enabled_rules(config)
        outcome.codes += [r.code for r in enabled if r.code not in outcome.codes]
        outcome.fixable += [r.code for r in enabled if r.fixable != "none" and r.code not in outcome.fixable]
        outcome.everything += result.findings
        outcome.findings += shown(group, result.findings)
    outcome.findings.sort(key=lambda f: f.sort_key)
    return outcome


def shown(group: Group, findings: list[Finding]) -> list[Finding]:
    """The findings to report of a project's: in project mode only those in the files given
    (copies, with the paths as given), else all."""
    from . import engine

    if group.root is None:
        return findings
    return engine.restrict([dataclasses.replace(f) for f in findings], given(group))


def given(group: Group) -> dict[str, str]:
    """The files given in `group`: real path -> path as given."""
    return {os.path.normcase(os.path.realpath(f)): os.path.normpath(str(f)) for f in group.files}


def analyse_part(
    group: Group, plan: Any, progress: Callable[[str, int, int], None] | None, needs_graph: frozenset[str], narrow: bool = False
) -> tuple[Outcome, Any, dict[str, int], bool] | None:
    """Analyse only the parts of `group`'s project that its edited files are in (`plan`, a
    `run_cache.Partial`, see `engine.run_part`) and take the other findings from the record:
    the outcome, the plan that held, the analysed parts and whether the run was narrowed, or
    None when the project must be analysed whole (also when the report needs the graph of a
    finding outside them, see `check`).

    `narrow` (files given in project mode, the way pre-commit runs): the rules may skip work
    whose findings can only land outside the files given (`Context.focus`). What is shown is
    exact; `everything` is then not, and such an outcome must not become the record."""
    from . import engine

    wanted = set(given(group)) if narrow and group.root is not None else None
    done = engine.run_part(group.targets, group.config, plan, os.cpu_count() or 1, progress, group.found, wanted)
    if done is None:
        return None
    project, own, plan, parts, narrowed = done
    mine = plan.focus | parts.keys()
    old: Outcome = plan.record.value
    kept = [f for f in old.everything if os.path.abspath(f.path) not in mine]
    if any(f.code in needs_graph for f in shown(group, kept)):
        return None
    everything = sorted(kept + own, key=lambda f: f.sort_key)
    return Outcome(shown(group, everything), everything, [], old.codes, [project], old.fixable), plan, parts, narrowed


def merge_outcomes(parts: list[Outcome]) -> Outcome:
    """One outcome of the projects' outcomes (findings in report order)."""
    merged = Outcome([], [], [], [])
    for part in parts:
        merged.findings += part.findings
        merged.everything += part.everything
        merged.internal_errors += part.internal_errors
        merged.codes += [c for c in part.codes if c not in merged.codes]
        merged.fixable += [c for c in part.fixable if c not in merged.fixable]
        merged.projects += part.projects
    merged.findings.sort(key=lambda f: f.sort_key)
    return merged


def run_key(groups: list[Group], extra: list[Any], more_files: list[Path]) -> Any:
    """Where this run's result is cached (a `run_cache.RunSlot`: the settings, the working
    folder and every analysed file), or None when the cache is off."""
    from .discover import absolute_paths
    from .run_cache import run_slot

    groups_repr = [(str(g.root), [str(f) for f in g.files], dataclasses.asdict(g.config)) for g in groups]
    # in project mode the files given only choose what is shown: a run over other files of the
    # same project has the same findings (pre-commit passes different files every commit)
    projects_repr = [(str(g.root), None if g.root is not None else [str(f) for f in g.files], dataclasses.asdict(g.config)) for g in groups]
    files = [f for g in groups for f in g.found.files] + more_files
    stats = [st for g in groups for st in (g.found.stats or [None] * len(g.found.files))]
    known = all(g.found.absolute is not None for g in groups)
    absolute = [a for g in groups for a in g.found.absolute or ()] + absolute_paths(more_files) if known else None
    listed = {folder: names for g in groups for folder, names in (g.found.listed or {}).items()}
    return run_slot([os.getcwd(), *extra, *groups_repr], files, [os.getcwd(), *extra, *projects_repr], stats, absolute, listed)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@cache_options
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default=None,
              help="How to print findings [default: full on a terminal, else concise].")
@click.option("--select", default="", help="Comma-separated codes or prefixes to enable (replaces the default set).")
@click.option("--extend-select", default="", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", default="", help="Codes or prefixes to disable.")
@click.option("--per-file-ignores", multiple=True, metavar="PATTERN:CODES", help="Codes to disable in matching files (repeatable).")
@click.option("--exclude", multiple=True, help="Glob of files or folders to skip, replacing the configured list (repeatable).")
@click.option("--extend-exclude", multiple=True, help="Glob of files or folders to skip, on top of the configured list.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files that .gitignore ignores [default: on].")
@click.option("--max-depth", type=int, default=None, help="FDL402: deepest allowed dependency chain.")
@click.option("--config", "configs", multiple=True, metavar="FILE|'KEY = VALUE'",
              help="A TOML file to use instead of the discovered pyproject.toml, or one `key = value` setting (repeatable).")
@click.option("--isolated", is_flag=True, help="Ignore configuration files.")
@click.option("--project/--no-project", "project_mode", default=True,
              help="Given only files: analyse the project they belong to and report on those files [default], or the files alone.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Report only findings not in this file; written first when it does not exist.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the --baseline file from the current findings.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` comments that suppress every current finding.")
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply the safe fixes in place.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (with --fix/--diff) and show fixes that change behaviour.")
@click.option("--diff", "show_diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them; exit 1 when there is one.")
@click.option("--statistics", is_flag=True, help="Print counts per code instead of the findings.")
@click.option("--show-settings", is_flag=True, help="Print the resolved configuration and exit.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no progress.")
def check(
    paths: tuple[Path, ...],
    output_format: str | None,
    select: str,
    extend_select: str,
    ignore: str,
    per_file_ignores: tuple[str, ...],
    exclude: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    respect_gitignore: bool | None,
    max_depth: int | None,
    configs: tuple[str, ...],
    isolated: bool,
    project_mode: bool,
    baseline: Path | None,
    update_baseline: bool,
    add_noqa: bool,
    apply_fixes: bool,
    unsafe_fixes: bool,
    show_diff: bool,
    statistics: bool,
    show_settings: bool,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Lint the project under PATHS (default: the current folder). Exit 0 clean, 1 findings, 2 error."""
    from .report import findings as fmt

    targets = list(paths) or [Path(".")]
    for path in targets:
        if not path.exists():
            fail(f"{path}: no such file or directory")
    if update_baseline and baseline is None:
        fail("--update-baseline needs --baseline FILE")
    if add_noqa and (apply_fixes or show_diff):
        fail("--add-noqa cannot be combined with --fix or --diff")
    overrides: dict[str, Any] = {}
    for key, value in (("select", select), ("extend-select", extend_select), ("ignore", ignore)):
        if value:
            overrides[key] = value
    if per_file_ignores:
        overrides["per-file-ignores"] = _per_file_ignores(per_file_ignores)
    if exclude:
        overrides["exclude"] = list(exclude)
    if extend_exclude:
        overrides["extend-exclude"] = list(extend_exclude)
    if respect_gitignore is not None:
        overrides["respect-gitignore"] = respect_gitignore
    if max_depth is not None:
        overrides["max-depth"] = max_depth
    project_mode = project_mode and all(p.is_file() for p in targets)

    chosen: list[Config] = []

    def make_config(where: list[Path]) -> Config:
        try:
            config = _config_options(where, configs, isolated, overrides)
        except ConfigError as exc:
            fail(str(exc))
        chosen.append(config)
        return config

    if show_settings:
        config = make_config([find_project_root(targets[0])] if project_mode else targets)
        settings = {k.replace("_", "-"): v for k, v in dataclasses.asdict(config).items()}
        click.echo(json.dumps(settings, indent=2))
        return

    from .report.progress import TerminalProgress

    try:
        groups = plan(targets, project_mode, make_config)
    except ConfigError as exc:
        fail(str(exc))
    if output_format is None:  # known before the run: a cached result depends on it
        configured = next((c.output_format for c in chosen if c.output_format), None)
        output_format = configured or ("full" if sys.stdout.isatty() else "concise")
    # A run that only reports is cached project by project (a change in one project of a
    # monorepo re-analyses that project only); fixing and rewriting runs always analyse.
    keys: list[Any] = [None] * len(groups)
    if not (apply_fixes or show_diff or add_noqa or update_baseline):
        # (`baseline is None`: a narrowed run's entry, whose `everything` is partial, must not
        # answer a run that writes a new baseline from it)
        extra = [__version__, output_format, unsafe_fixes, statistics, list(configs), isolated, baseline is None]
        more = [baseline] if baseline is not None and baseline.exists() else []
        keys = [run_key([group], extra, more) for group in groups]
    parts: list[Any] = [key.get() if key is not None else None for key in keys]
    fresh = [i for i, part in enumerate(parts) if not isinstance(part, Outcome)]
    # a project's recorded run reused after edits it cannot depend on: report it for the files
    # given now, and describe its fixes again (they were described for the files given then).
    # Without the project's graph only fixes that can be safe are described the same way, so a
    # report that shows the others analyses again when the files given have such findings.
    from .rules import fixable_codes

    shows_unsafe = unsafe_fixes or output_format not in ("full", "concise") or statistics
    needs_graph = fixable_codes(True) - fixable_codes(False) if shows_unsafe else frozenset()
    reused = []
    for i, part in enumerate(parts):
        if i in fresh or keys[i] is None or keys[i].reused is None:
            continue
        again = sorted(shown(groups[i], part.everything), key=lambda f: f.sort_key)
        if any(f.code in needs_graph for f in again):
            fresh.append(i)
            continue
        parts[i] = dataclasses.replace(part, findings=again)
        reused.append(i)
    partial: dict[int, Any] = {}  # part of `fresh` analysed only where edited: its `run_cache.Partial` and parts
    if fresh:
        progress = TerminalProgress() if TerminalProgress.wanted(quiet) else None
        try:
            for i in fresh:
                edited = keys[i].partial() if keys[i] is not None else None
                done = analyse_part(groups[i], edited, progress, needs_graph, baseline is None) if edited is not None else None
                if done is not None:
                    parts[i], partial[i] = done[0], done[1:]
                    continue
                parts[i] = analyse(targets, project_mode, make_config, progress, [groups[i]])
        except ConfigError as exc:
            fail(str(exc))
        finally:
            if progress is not None:
                progress.stop()
    outcome = merge_outcomes(parts)
    keep_until_exit(outcome)
    new_findings = {id(f) for i in fresh + reused for f in parts[i].findings}  # (a partial part's old ones too)
    findings = outcome.findings
    for message in outcome.internal_errors:
        click.echo(message, err=True)

    baselined = 0
    known: Any = None
    if baseline is not None:
        from . import baseline as baseline_file

        if update_baseline or not baseline.exists():
            count = baseline_file.write(baseline, outcome.everything)
            click.echo(f"fastapi-deplint: wrote {count} finding{'s' if count != 1 else ''} to the baseline {baseline}", err=True)
            sys.exit(2 if outcome.internal_errors else 0)
        try:
            known = baseline_file.load(baseline)
            findings, baselined = known.filter(findings)
        except baseline_file.BaselineError as exc:
            fail(str(exc))

    if add_noqa:
        from .add_noqa import add_noqa as insert_noqa

        noqa = insert_noqa(findings)
        click.echo(f"Added {noqa.added} noqa directive{'s' if noqa.added != 1 else ''} to {len(noqa.files)} file{'s' if len(noqa.files) != 1 else ''}.")
        for file, at, why in noqa.skipped:
            click.echo(f"{file}:{at}: not suppressed: {why}", err=True)
        sys.exit(2 if outcome.internal_errors else (1 if noqa.skipped and not exit_zero else 0))

    text_output = output_format in ("full", "concise") and not statistics

    fixed: int | None = None
    locate: Any = None
    if apply_fixes or show_diff:
        fixed, findings, baselined, locate = _fix(
            targets, project_mode, make_config, outcome, findings, known, unsafe_fixes, show_diff, quiet or text_output
        )
    exact = unsafe_fixes or not text_output or locate is not None
    describe = [f for f in findings if id(f) in new_findings] if locate is None else findings  # cached ones carry theirs
    if not statistics and output_format in ("full", "concise", "json", "sarif") and _any_fixable(describe, exact):
        from .fix.driver import annotate, locator

        left_out = annotate(describe, locate or locator(outcome.projects), budget=None if locate else FIX_REPORT_BYTES, unsafe=exact)
        if any(why.startswith("fix details left out") for why in left_out.values()) and not quiet:
            click.echo(f"note: fix details left out for files after the first {FIX_REPORT_BYTES / 1e6:.1f} MB; `--diff` shows every fix", err=True)
    for i in fresh + reused:
        if keys[i] is None:
            continue
        stored = dataclasses.replace(parts[i], projects=[])  # findings carry their fixes
        if i in partial and partial[i][2]:
            keys[i].put_exact(stored)  # its `everything` is partial: no record (see `analyse_part`)
        elif i in partial:
            keys[i].put_part(stored, partial[i][0], parts[i].projects[0], partial[i][1])
        elif i in fresh:
            from . import engine

            project = parts[i].projects[0]
            keys[i].put(stored, project=project, parts=engine.parts_to_record(project, parts[i].everything, parts[i].internal_errors))
        else:
            keys[i].put(stored)

    if statistics:
        click.echo(fmt.statistics_json(findings) if output_format == "json" else fmt.statistics(findings), nl=output_format == "json")
    elif output_format == "json":
        click.echo(fmt.render_json(findings))
    elif output_format == "sarif":
        from .report import sarif

        click.echo(sarif.render(findings, outcome.codes, Path.cwd(), outcome.internal_errors))
    elif output_format == "github":
        from .report import github

        click.echo(github.render(findings), nl=False)
    elif output_format == "junit":
        from .report import junit

        click.echo(junit.render(findings), nl=False)
    else:
        if output_format == "full":
            from rich.console import Console

            from .report import full

            full.render(findings, Console(highlight=False, soft_wrap=True), unsafe_fixes)
        else:
            click.echo(fmt.render_concise(findings, unsafe_fixes), nl=False)
        if not quiet:
            totals = fmt.summary(findings, fixed)
            if baselined:
                totals += f" ({baselined} more in the baseline.)"
            click.echo(totals)
            hint = fmt.fix_hint(findings, outcome.fixable, unsafe_fixes, exact)
            if hint:
                click.echo(hint)
    if outcome.internal_errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or not findings else 1)


def _any_fixable(findings: list[Finding], unsafe: bool) -> bool:
    """Some finding is of a rule with an autofix (libcst is imported only then). Without
    `unsafe`, only rules that have safe fixes count: a text report shows unsafe fixes only
    with `--unsafe-fixes`, and describing them just to count them cost 2 s on the benchmark
    corpus (the hint then says "up to")."""
    if not findings:  # (a run answered from the cache: its findings carry their fixes)
        return False
    from .rules import fixable_codes

    codes = fixable_codes(unsafe)
    return any(f.code in codes for f in findings)


def _fix(
    targets: list[Path],
    project_mode: bool,
    make_config: Callable[[list[Path]], Config],
    outcome: Outcome,
    findings: list[Finding],
    known: Any,
    unsafe: bool,
    show_diff: bool,
    silent: bool,
) -> tuple[int, list[Finding], int, Any]:
    """`--fix`/`--diff`: fix in memory (re-linting after each round), then write the files or
    print the diff (and exit). Returns (findings fixed, remaining findings, baselined, locate)."""
    from .fix import driver

    baselined = 0

    def lint(result: Outcome) -> driver.Lint:
        nonlocal baselined
        kept = result.findings
        if known is not None:
            kept, baselined = known.filter(kept)
        return driver.Lint(kept, driver.locator(result.projects))

    first = lint(outcome)
    first.findings = findings
    report = driver.fix(first, lambda: lint(analyse(targets, project_mode, make_config, None)), unsafe)
    for path, why in sorted(report.skipped.items()):
        click.echo(f"{path}: not fixed: {why}", err=True)
    s = "s" if report.fixed != 1 else ""
    if show_diff:
        from .fix.apply import unified_diff

        for change in report.changes:
            click.echo(unified_diff(change.path, change.before_text, change.after_text), nl=False)
        click.echo(f"Would fix {report.fixed} finding{s} ({len(report.remaining)} remaining).", err=True)
        sys.exit(2 if outcome.internal_errors else (1 if report.changes else 0))
    problems = driver.write(report.changes)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(2)
    if not silent:
        click.echo(f"Fixed {report.fixed} finding{s} in {len(report.changes)} file{'s' if len(report.changes) != 1 else ''} "
                   f"({len(report.remaining)} remaining).", err=True)
    return report.fixed, report.remaining, baselined, report.locate


@main.command()
@click.argument("code", required=False)
@click.option("--all", "show_all", is_flag=True, help="Print every rule.")
def rule(code: str | None, show_all: bool) -> None:
    """Print a rule's documentation: `fastapi-deplint rule FDL101`."""
    from .report.meta import OWN_REPORTS
    from .rules import all_rules, rule_by_code

    if show_all or not code:
        for r in all_rules():
            opt = "" if r.default_enabled else " (opt-in)"
            click.echo(f"# {r.code} {r.name}{opt}\n\n{r.documentation()}\n")
        return
    found = rule_by_code(code)
    if found is None:
        own = OWN_REPORTS.get(code.upper())
        if own is None:
            fail(f"unknown rule {code}")
        click.echo(f"# {own.code} {own.name}\n\nFix: {own.summary}\n\n{own.documentation}")
        return
    opt = "" if found.default_enabled else " (opt-in)"
    autofix = {"safe": "\nAutofix: safe (`--fix`)", "unsafe": "\nAutofix: unsafe (`--fix --unsafe-fixes`)"}.get(found.fixable, "")
    click.echo(f"# {found.code} {found.name}{opt}\n\nFix: {found.summary}{autofix}\n\n{found.documentation()}")
