"""The fix loop: lint, plan, apply, lint again — in memory until the end.

Round after round (at most `MAX_ROUNDS`), the statements that hold fixable findings are
parsed with libcst, their fixers plan, the compatible plans of each file are applied in one
pass and the result is checked (`apply.valid`). The new text is staged in `source.overlay`, so the next lint reads
it without anything touching the disk; the loop stops when a round changes nothing. Only
then does `--fix` write the files whose bytes changed (`write`), and `--diff` prints them.
A finding that comes back after its fix was applied is never fixed again (no ping-pong).

`annotate` is the same planning without applying: it gives every fixable finding its `fix`
object (applicability, message, line edits) for the reports.
"""

from __future__ import annotations


import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..facts import detail
from ..facts.model import ModuleFacts
from ..graph.model import ProjectGraph
from ..rules.base import Finding
from ..source import overlay, read_source
from . import FIXERS
from .apply import CannotFix, SourceFile, apply_plans, attempt, compatible, encode, load, plan_edits
from .base import SAFE, UNSAFE, FileContext, Plan

MAX_ROUNDS = 4
Locate = Callable[[str], tuple[ProjectGraph | None, ModuleFacts | None]]


@dataclass(slots=True)
class Lint:
    """One lint of the project: the findings to fix, and where each file's facts are."""

    findings: list[Finding]
    locate: Locate


def locator(projects: Iterable[Any]) -> Locate:
    """`locate(path)` over the projects a lint built (real paths, so shown paths match)."""
    index: dict[str, tuple[ProjectGraph, ModuleFacts]] = {}

    def build() -> None:
        for project in projects:
            graph = project.graph
            for facts in [*project.facts, *list(graph.modules.values())]:
                index.setdefault(os.path.realpath(facts.path), (graph, graph.modules.get(facts.module, facts)))

    def locate(path: str) -> tuple[ProjectGraph | None, ModuleFacts | None]:
        if not index:
            build()
        return index.get(os.path.realpath(path), (None, None))

    return locate


def fixable(finding: Finding) -> bool:
    return finding.code in FIXERS


Key = tuple[str, str, str, str]


def _key(finding: Finding) -> Key:
    return (os.path.realpath(finding.path), finding.code, finding.symbol, finding.message)


def _by_file(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for f in findings:
        if fixable(f):
            grouped.setdefault(f.path, []).append(f)
    return grouped


def plan_statement(ctx: FileContext, findings: list[Finding], unsafe: bool) -> list[Plan]:
    plans: list[Plan] = []
    by_code: dict[str, list[Finding]] = {}
    for f in findings:
        by_code.setdefault(f.code, []).append(f)
    for code, group in sorted(by_code.items()):
        try:
            found = FIXERS[code].plans(group, ctx, unsafe)
        except Exception:  # noqa: BLE001 - a bug in one fixer never stops the others (the finding stays)
            continue
        for plan in found:
            if unsafe or plan.applicability == SAFE:
                plan.ctx = ctx
                plans.append(plan)
    return plans


def plan_file(source: SourceFile, findings: list[Finding], locate: Locate, unsafe: bool) -> tuple[list[Plan], list[str]]:
    """Plans for the findings of one file, statement by statement; and why statements
    could not be handled (libcst cannot parse them)."""
    graph, facts = locate(source.path)
    by_statement: dict[tuple[int, int] | None, list[Finding]] = {}
    for f in findings:
        if FIXERS[f.code].wanted(f, source):
            by_statement.setdefault(source.group_of(f.line), []).append(f)
    plans: list[Plan] = []
    problems: list[str] = []
    for group, found in by_statement.items():
        if group is None:
            continue
        try:
            ctx = source.context(group[0], graph, facts)
        except CannotFix as exc:
            problems.append(str(exc))
            continue
        plans += plan_statement(ctx, found, unsafe)
    return plans, problems


# --- fixing ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Change:
    path: str  # as shown in findings
    before: bytes
    after: bytes
    before_text: str
    after_text: str


@dataclass(slots=True)
class FixReport:
    fixed: int
    remaining: list[Finding]
    changes: list[Change]
    locate: Locate  # where the last lint's files are (for the reports' fix objects)
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why it could not be fixed
    rounds: int = 0


def fix(first: Lint, relint: Callable[[], Lint], unsafe: bool, max_rounds: int = MAX_ROUNDS) -> FixReport:
    """Fix what `first` found, linting again (`relint`, run inside the overlay) after each
    round that changed something. Nothing is written here."""
    staged: dict[str, bytes] = {}
    originals: dict[str, tuple[str, bytes, str]] = {}
    texts: dict[str, str] = {}
    applied_keys: set[Key] = set()
    attempted: dict[str, set[Key]] = {}  # per file: findings already planned for its current text
    unreadable: set[str] = set()
    skipped: dict[str, str] = {}
    lint = first
    rounds = 0
    with overlay(staged):
        while rounds < max_rounds:
            changed = False
            for path, findings in _by_file(lint.findings).items():
                real = os.path.realpath(path)
                seen = attempted.setdefault(real, set())
                # a fix that did not remove its finding is not tried again; nor is a finding
                # already planned for this very text (its file did not change since)
                findings = [f for f in findings if _key(f) not in applied_keys and _key(f) not in seen]
                if not findings or real in unreadable:
                    continue
                seen.update(_key(f) for f in findings)
                try:
                    source = load(path, read_source(path))
                    plans, problems = plan_file(source, findings, lint.locate, unsafe)
                    result = apply_plans(source, plans)
                except Exception as exc:  # noqa: BLE001 - one file (or a bug of ours on it) never stops the others
                    skipped[path] = _why(exc)
                    unreadable.add(real)
                    continue
                problems += result.problems
                if problems:
                    skipped.setdefault(path, "; ".join(dict.fromkeys(problems)))
                if result.text == source.text:
                    continue
                originals.setdefault(real, (path, source.data, source.text))
                staged[real] = encode(source, result.text)
                texts[real] = result.text
                applied_keys.update(_key(f) for plan in result.applied for f in plan.findings)
                attempted[real] = set()  # a new text: what was refused before may apply now
                changed = True
            if not changed:
                break
            rounds += 1
            detail.clear()
            lint = relint()
    remaining_keys = {_key(f) for f in lint.findings}
    changes = [
        Change(shown, before, staged[real], before_text, texts[real])
        for real, (shown, before, before_text) in sorted(originals.items())
        if staged[real] != before
    ]
    return FixReport(len(applied_keys - remaining_keys), lint.findings, changes, lint.locate, skipped, rounds)


def _why(exc: Exception) -> str:
    if isinstance(exc, CannotFix):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read it: {exc.strerror or exc}"
    return f"internal error while fixing ({type(exc).__name__}: {exc})"  # a bug of ours or libcst's


def write(changes: Iterable[Change]) -> list[str]:
    """Write each change over its file (atomically, keeping its mode); a file that changed
    on disk since it was read is left alone. Returns problems, one line each."""
    problems: list[str] = []
    for change in changes:
        real = os.path.realpath(change.path)
        try:
            with open(real, "rb") as handle:
                current = handle.read()
            if current != change.before:
                problems.append(f"{change.path}: not fixed: the file changed while it was being fixed")
                continue
            folder = os.path.dirname(real) or "."
            fd, temp = tempfile.mkstemp(prefix=".fastapi-deplint-", suffix=".py", dir=folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(change.after)
                os.chmod(temp, os.stat(real).st_mode & 0o7777)
                os.replace(temp, real)
            except BaseException:
                if os.path.exists(temp):
                    os.unlink(temp)
                raise
        except OSError as exc:
            problems.append(f"{change.path}: not fixed: {exc.strerror or exc}")
    return problems


# --- fix objects for reports -----------------------------------------------------------------


def annotate(findings: list[Finding], locate: Locate, budget: int | None = None, unsafe: bool = True) -> dict[str, str]:
    """Give each fixable finding its `fix` object; returns files that could not be parsed
    (path -> why). A finding keeps `fix=None` when no fix applies to its shape.

    With a `budget` (bytes of source), files reached after that much source was described are
    left without fix objects: a size, not a time, so the same tree always gets the same
    report (libcst reads about 0.5 MB/s). Without
    `unsafe`, only safe fixes are described (findings of rules whose fixes are all unsafe are
    not looked at).

    Each plan's edits are computed on its own statement; whether the file stays valid is
    checked once with all compatible plans applied together (plan by plan only when that
    fails)."""
    skipped: dict[str, str] = {}
    spent = 0
    if not unsafe:
        from ..rules import fixable_codes

        findings = [f for f in findings if f.code in fixable_codes(False)]
    for path, group in _by_file(findings).items():
        if budget is not None and spent >= budget:
            # Describing fixes is a courtesy of the report: never let it dominate the run.
            skipped[path] = "fix details left out (size budget of the report; `--diff` shows them)"
            continue
        try:
            data = read_source(path)
            spent += len(data)
            source = load(path, data)
            for unsafe_round in (False, True) if unsafe else (False,):  # a safe fix first; findings without one take an unsafe one
                pending = [f for f in group if f.fix is None]
                if not pending:
                    break
                plans, problems = plan_file(source, pending, locate, unsafe_round)
                if problems:
                    skipped[path] = "; ".join(problems)
                wanted = UNSAFE if unsafe_round else SAFE
                plans = [p for p in plans if p.applicability == wanted]
                if not plans:
                    continue
                together = compatible(plans)
                trusted = set(map(id, together)) if attempt(source, together) is not None else set()
                for plan in plans:
                    if any(f.fix is None for f in plan.findings):
                        _describe(source, plan, id(plan) in trusted)
        except Exception as exc:  # noqa: BLE001 - one file never stops the report
            skipped[path] = _why(exc)
    return skipped


def _describe(source: SourceFile, plan: Plan, trusted: bool) -> None:
    if not trusted and attempt(source, [plan]) is None:
        return
    edits = plan_edits(source, plan)
    if not edits:
        return
    fix = {"applicability": plan.applicability, "message": plan.message, "edits": edits}
    for finding in plan.findings:
        if finding.fix is None:
            finding.fix = fix
