"""Running the rules over a project and turning the result into reportable findings:
FDL901 for unreadable files, internal errors contained per rule, noqa and per-file ignores
applied, enclosing symbols filled in (for the baseline), columns converted to characters.

`analyse` builds the project the configuration describes (`discover.discover`, `src` roots),
shared by the CLI and the flake8 plugin.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .config import Config, config_root, src_roots
from .discover import Discovered, absolute_paths, discover
from .facts.model import Class, Function, ModuleFacts, first_line
from .cache import session_cache, settle
from .components import parts_of
from .project import PreScan, Project, build_part, build_project, gc_paused
from .run_cache import Partial, modules_read_in_parts
from .rules import all_rules
from .rules.base import Context, Finding, Rule
from .rules_parallel import run_rules
from .read_log import logging_reads
from .source import INTERNAL_ERROR_PREFIX, read_source

CANNOT_PARSE = "FDL901"
INTERNAL_ERROR = "FDL900"

# progress(phase, done, total): phase "files" (total = files found) then "rules"
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class Result:
    findings: list[Finding]
    internal_errors: list[str] = field(default_factory=list)
    suppressed: int = 0


def enabled_rules(config: Config) -> list[type[Rule]]:
    return [r for r in all_rules() if config.is_selected(r.code, r.default_enabled)]


def analyse(
    paths: Sequence[Path],
    config: Config,
    jobs: int | None = None,
    progress: Progress | None = None,
    found: Discovered | None = None,
    part: tuple[dict[str, PreScan], set[str]] | None = None,
) -> Project:
    """Build the project under `paths` the way `config` says (`found`: its files, if known;
    `part`: verdicts, and the files to read again, see `project.build_part`)."""
    found = found if found is not None else discover(paths, config)
    files, errors = found.files, list(found.errors)
    if progress is not None:
        progress("files", 0, len(files))
    if part is not None:
        project = build_part(files, *part, jobs=jobs, src_roots=src_roots(config), cache=session_cache(), write_behind=True)
    else:
        project = build_project(files, jobs=jobs, src_roots=src_roots(config), cache=session_cache(), write_behind=True, stats=found.stats, absolute=found.absolute)
    project.discovery_errors[:0] = errors
    return project


# -- running the rules ----------------------------------------------------------------------


def run(
    project: Project, config: Config, progress: Progress | None = None, jobs: int = 1, wanted: set[str] | None = None
) -> Result:
    """Run the enabled rules (on up to two processes with `jobs` > 1, see `rules_parallel`).
    `wanted`: real paths of the only files whose findings matter (`Context.focus`); findings
    elsewhere may then be incomplete."""
    ctx = Context(project.graph, config, focus_of(project, wanted) if wanted is not None else None)
    rules = enabled_rules(config)
    # rules allocate short-lived, acyclic garbage over a large live heap: no collections
    with gc_paused(), logging_reads(project.reads):
        findings, internal = run_rules(rules, ctx, project.facts, jobs, progress)
    if progress is not None:
        progress("rules", len(rules), len(rules))
    for facts in project.facts:  # a bug of ours while reading one file (never deselected)
        if facts.error is not None and facts.error.startswith(INTERNAL_ERROR_PREFIX):
            internal.append(f"{facts.path}: {facts.error}")
            line = facts.error_loc[0] if facts.error_loc else 1
            findings.append(Finding(INTERNAL_ERROR, facts.error, facts.path, line, 0, line, 0, "error"))
    if config.is_selected(CANNOT_PARSE, True):
        for facts in project.facts:
            if facts.error is not None and not facts.error.startswith(INTERNAL_ERROR_PREFIX):
                loc = facts.error_loc
                findings.append(
                    Finding(CANNOT_PARSE, f"cannot analyse file: {facts.error}", facts.path, loc[0] if loc else 1,
                            loc[1] if loc else 0, loc[0] if loc else 1, loc[1] if loc else 0, "error")
                )
        for path, message in project.discovery_errors:
            findings.append(Finding(CANNOT_PARSE, f"cannot analyse: {message}", path, 1, 0, 1, 0, "error"))
    files = {f.path: f for f in project.facts}
    kept, suppressed = suppress(findings, files, config)
    fill_symbols(kept, files)
    to_characters(kept)
    kept.sort(key=lambda f: f.sort_key)
    settle()  # the cache is complete when a run ends (`FactsCache.write_held`)
    return Result(dedupe(kept), internal, suppressed)


def focus_of(project: Project, wanted: set[str]) -> frozenset[str] | None:
    """The paths, as the project's facts spell them, of the files whose real paths are in
    `wanted` (only files of a name in `wanted` are resolved); None when one of them has no
    facts: a file the pre-scan deferred, which only a whole run knows what reaches."""
    names = {os.path.basename(p) for p in wanted}
    found = frozenset(
        f.path for f in project.facts if os.path.basename(f.path) in names and os.path.normcase(os.path.realpath(f.path)) in wanted
    )
    return found if len(found) == len(wanted) else None


def run_part(
    paths: Sequence[Path],
    config: Config,
    plan: Partial,
    jobs: int,
    progress: Progress | None = None,
    found: Discovered | None = None,
    wanted: set[str] | None = None,
) -> tuple[Project, list[Finding], Partial, dict[str, int], bool] | None:
    """Analyse only the parts of the project that `plan` names (`run_cache.Partial`), once
    more with the parts that run reached when it reached others (an edit that imports from
    another app): the project, its findings in those parts, the plan that held, the parts
    it found and whether the rules were narrowed to `wanted` (see `run`; the findings are
    then exact only in those files, and must not become the record); None when the project
    must be analysed whole."""
    for _ in range(2):
        project = analyse(paths, config, jobs, progress, found, part=(plan.verdicts, plan.reading))
        result = run(project, config, progress, jobs, wanted)
        where = absolute_paths(f.path for f in result.findings)
        # files the parts could not read are the record's to report (FDL901)
        own = [(f, a) for f, a in zip(result.findings, where) if f.code != CANNOT_PARSE or a in plan.focus]
        parts = parts_of(project.graph)
        if plan.accepts(project, parts, [a for _, a in own], result.internal_errors):
            # (a file the pre-scan deferred and a rule parsed later counts too: never narrowed,
            # and then not stored as the record either, which only costs the next run its reuse)
            narrowed = wanted is not None and focus_of(project, wanted) is not None
            return project, [f for f, _ in own], plan, parts, narrowed
        widened = plan.widened(project, parts)
        if widened is None:
            return None
        plan = widened
    return None


def parts_to_record(project: Project, findings: list[Finding], internal_errors: list[str]) -> dict[str, int] | None:
    """The parts of a project analysed whole (`components`), for later partial runs; None
    when its findings cannot be told apart by part: an internal error, or a finding in (or a
    read of) a Python file no part holds."""
    if internal_errors:
        return None
    parts = parts_of(project.graph)
    paths = absolute_paths(f.path for f in findings if f.code != CANNOT_PARSE)
    if any(p not in parts for p in paths) or not modules_read_in_parts(project, parts):
        return None
    return parts


def dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, int, str]] = set()
    result: list[Finding] = []
    for f in findings:
        key = (f.path, f.code, f.line, f.col, f.message)
        if key not in seen:
            seen.add(key)
            result.append(f)
    return result


def is_noqa(facts: ModuleFacts | None, line: int, code: str) -> bool:
    if facts is None or line not in facts.noqa:
        return False
    codes = facts.noqa[line]
    return codes is None or any(code.startswith(c) for c in codes)


def suppress(findings: list[Finding], files: dict[str, ModuleFacts], config: Config) -> tuple[list[Finding], int]:
    kept: list[Finding] = []
    dropped = 0
    root = config_root(config)
    for f in findings:
        facts = files.get(f.path)
        if not config.is_selected(f.code, True) and f.code not in (INTERNAL_ERROR,):
            dropped += 1
            continue
        if is_noqa(facts, f.line, f.code) or _per_file_ignored(f, config, root):
            dropped += 1
            continue
        kept.append(f)
    return kept, dropped


def _per_file_ignored(f: Finding, config: Config, root: Path | None) -> bool:
    if not config.per_file_ignores:
        return False
    candidates = [f.path.replace(os.sep, "/")]
    if root is not None:
        try:
            candidates.append(Path(os.path.abspath(f.path)).relative_to(root).as_posix())
        except ValueError:
            pass
    for pattern, codes in config.per_file_ignores.items():
        pattern = pattern.replace(os.sep, "/")
        if any(fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c, f"*/{pattern}") for c in candidates):
            if any(f.code.startswith(c.upper()) for c in codes):
                return True
    return False


def fill_symbols(findings: Iterable[Finding], files: dict[str, ModuleFacts]) -> None:
    """Give each finding without one the innermost function or class around its line, so
    the baseline can key it by symbol instead of by line."""
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for f in findings:
        if f.symbol:
            continue
        facts = files.get(f.path)
        if facts is None:
            continue
        if f.path not in spans:
            found: list[tuple[int, int, str]] = []
            definitions: list[Function | Class] = [*facts.functions.values(), *facts.classes.values()]
            for definition in definitions:
                found.append((first_line(definition), definition.loc[2], definition.qualname))
            spans[f.path] = found
        inside = [s for s in spans[f.path] if s[0] <= f.line <= s[1]]
        if inside:
            f.symbol = min(inside, key=lambda s: (s[1] - s[0], -s[0]))[2]


def restrict(findings: list[Finding], wanted: dict[str, str]) -> list[Finding]:
    """Only findings in the files of `wanted` (real path -> path to show), shown as given."""
    kept: list[Finding] = []
    for f in findings:
        shown = wanted.get(os.path.normcase(os.path.realpath(f.path)))
        if shown is not None:
            f.path = shown
            kept.append(f)
    return kept


def to_characters(findings: list[Finding]) -> None:
    """`ast` columns are UTF-8 byte offsets; reports use characters."""
    lines_cache: dict[str, list[bytes] | None] = {}
    for f in findings:
        if f.path not in lines_cache:
            try:
                lines_cache[f.path] = read_source(f.path).splitlines()  # never blocks on a FIFO
            except OSError:
                lines_cache[f.path] = None
        lines = lines_cache[f.path]
        if not lines:
            continue
        for attr_line, attr_col in (("line", "col"), ("end_line", "end_col")):
            number = getattr(f, attr_line)
            if 1 <= number <= len(lines):
                raw = lines[number - 1]
                col = getattr(f, attr_col)
                if not raw.isascii():
                    setattr(f, attr_col, len(raw[:col].decode("utf-8", "replace")))
