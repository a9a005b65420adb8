"""Running the enabled rules on two cores: a forked child runs one share, the parent the other.

Rules are whole-project queries over a graph that is already built, so the child is a `fork`
of the parent (nothing is pickled on the way in; the pages are shared copy-on-write) and only
its findings come back. The shares are balanced by `Rule.cost` (measured with
`bench/phases.py`): on the benchmark corpus FDL302 alone weighs as much as all the others.

Rules parse deferred modules on demand. The child's parses stay in the child, except the
facts of those modules that its findings point into or that could not be read (the parent
needs them to apply `noqa`, name symbols and report FDL901); the parent parses any other
module again if it needs it later, with the same result. Findings are the same as a serial
run's: rules do not see each other's work (they share only what linking computed).

Used only where `fork` exists and the project is large enough to repay the fork
(`MIN_MODULES` parsed modules); the flake8 plugin always runs serially (its workers are
daemonic processes, which may not have children).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Sequence
from . import containment
from .facts.model import ModuleFacts
from .read_log import log_reads, reads_logged
from .rules.base import Context, Finding, Rule

MIN_MODULES = 200  # parsed modules below which one process is as fast (fork and pickling cost)

Progress = Callable[[str, int, int], None]
RuleResult = tuple[list[Finding], list[str]]  # findings, internal errors

# what the forked child reads (set by the parent just before the fork)
_shared: tuple[Context, list[ModuleFacts]] | None = None


def run_rules(
    rules: Sequence[type[Rule]], ctx: Context, facts: list[ModuleFacts], jobs: int = 1, progress: Progress | None = None
) -> RuleResult:
    """Findings and internal errors of `rules`. `facts` is the project's list of parsed modules
    (it grows as rules parse deferred modules); with `jobs` > 1 part of the work may run in a
    forked child (see the module docstring)."""
    mine, theirs = split(rules) if _worth_forking(jobs, facts) else (list(rules), [])
    if not theirs:
        return _run_serial(mine, ctx, progress, len(rules))
    global _shared
    _shared = (ctx, facts)
    try:
        pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        future = pool.submit(_child, [r.code for r in theirs])
    except (OSError, RuntimeError, ValueError):
        _shared = None
        return _run_serial(list(rules), ctx, progress, len(rules))
    with pool:
        findings, errors = _run_serial(mine, ctx, progress, len(rules))
        try:
            child_findings, child_errors, loaded, reads = future.result()
            log_reads(reads)  # what the child's rules read counts as read by this run
        except Exception:  # noqa: BLE001 - a child that died (out of memory?): do its share here
            child_findings, child_errors, loaded = *_run_serial(theirs, ctx, None, 0), []
    _shared = None
    _adopt(ctx, facts, loaded)  # (`engine.run` reports the rules as done)
    return findings + child_findings, errors + child_errors


def split(rules: Sequence[type[Rule]]) -> tuple[list[type[Rule]], list[type[Rule]]]:
    """Two shares of about equal `cost`, heaviest rules placed first (the parent's share, the
    child's share); keeps the given order within each share."""
    loads = [0, 0]
    share: dict[str, int] = {}
    for rule in sorted(rules, key=lambda r: -r.cost):
        lighter = 0 if loads[0] <= loads[1] else 1
        share[rule.code] = lighter
        loads[lighter] += rule.cost
    # the child gets the share holding the heaviest rule: the parent's own share then ends
    # at about the same time as the child's without waiting on its start-up
    heaviest = share[max(rules, key=lambda r: r.cost).code] if rules else 0
    parent = [r for r in rules if share[r.code] != heaviest]
    child = [r for r in rules if share[r.code] == heaviest]
    return parent, child


def _worth_forking(jobs: int, facts: list[ModuleFacts]) -> bool:
    return jobs > 1 and hasattr(os, "fork") and sum(1 for f in facts if f.error is None) >= MIN_MODULES


def _run_serial(rules: Sequence[type[Rule]], ctx: Context, progress: Progress | None, total: int) -> RuleResult:
    findings: list[Finding] = []
    errors: list[str] = []
    for n, rule_cls in enumerate(rules):
        if progress is not None:
            progress("rules", n, total)
        # a bug in one rule on one file stops neither the other files nor the other rules
        found, failed = containment.run_rule(rule_cls, ctx)
        findings += found
        errors += failed
    return findings, errors


def _child(codes: list[str]) -> tuple[list[Finding], list[str], list[ModuleFacts], set[str]]:
    from .rules import all_rules

    assert _shared is not None, "the child is a fork of a parent that set `_shared`"
    ctx, facts = _shared
    before = len(facts)
    wanted = set(codes)
    findings, errors = _run_serial([r for r in all_rules() if r.code in wanted], ctx, None, 0)
    paths = {f.path for f in findings}
    loaded = [f for f in facts[before:] if f.error is not None or f.path in paths]
    return findings, errors, loaded, reads_logged()


def _adopt(ctx: Context, facts: list[ModuleFacts], loaded: list[ModuleFacts]) -> None:
    """Take over the modules the child parsed that the parent needs (see the docstring), as
    the resolver would have had it parse them itself."""
    resolver = ctx.graph.resolver
    known = {f.path for f in facts}
    for module in loaded:
        if module.path in known:
            continue  # the parent parsed it too
        facts.append(module)
        if resolver is not None and module.error is None and resolver.deferred.pop(module.module, None) is not None:
            resolver.modules[module.module] = module
