"""Running the enabled rules on two cores: a forked child runs one share, the parent the other.

Rules are whole-project queries over a graph that is already built, so the child is a `fork`
of the parent (nothing is pickled on the way in; the pages are shared copy-on-write) and only
its findings come back. Both take rules one at a time from a list ordered by `Rule.cost`
(measured with `bench/phases.py`), from both ends (`two_ended`): the child from the heavy
end, the parent from the light end, until they meet; the heaviest rule is always the
child's (it starts as soon as it is forked). So the two end together whatever the project:
on the benchmark corpus FDL302 alone weighs as much as all the others, on FastAPI's sdist it
is light.

Rules parse deferred modules on demand. The child's parses stay in the child, except the
facts of those modules that its findings point into or that could not be read (the parent
needs them to apply `noqa`, name symbols and report FDL901); the parent parses any other
module again if it needs it later, with the same result. Findings are the same as a serial
run's: rules do not see each other's work (they share only what linking computed).

Used only where `fork` exists and the project is large enough to repay the fork
(`MIN_GRAPH` routes and dependencies); the flake8 plugin always runs serially (its workers
are daemonic processes, which may not have children).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Sequence
from typing import Any
from . import containment
from .facts.model import ModuleFacts
from .read_log import log_reads, reads_logged
from .rules.base import Context, Finding, Rule
from .two_ended import counters, take

# routes and dependency nodes below which one process is as fast (fork and pickling cost).
# Measured, rules on one process and on two: open-webui (1,172) 1.19 -> 0.93 s, lnbits (443)
# 0.38 -> 0.22 s, fixtures/ (636) 0.16 -> 0.11 s, fastapi-users (98) 0.016 -> 0.034 s. The
# number of parsed modules, used before, left open-webui (49 modules) on one process.
MIN_GRAPH = 300

Progress = Callable[[str, int, int], None]
RuleResult = tuple[list[Finding], list[str]]  # findings, internal errors

# what the forked child reads (set by the parent just before the fork): the context, the
# project's facts, the rules in the order both take them, and the [front, back) counters
_shared: tuple[Context, list[ModuleFacts], list[type[Rule]], Any] | None = None


def run_rules(
    rules: Sequence[type[Rule]], ctx: Context, facts: list[ModuleFacts], jobs: int = 1, progress: Progress | None = None
) -> RuleResult:
    """Findings and internal errors of `rules`. `facts` is the project's list of parsed modules
    (it grows as rules parse deferred modules); with `jobs` > 1 part of the work may run in a
    forked child (see the module docstring)."""
    if not rules or not _worth_forking(jobs, ctx):
        return _run_serial(rules, ctx, progress, len(rules))
    global _shared
    order = heaviest_first(rules)
    context = multiprocessing.get_context("fork")
    ends = counters(context, len(order))
    _shared = (ctx, facts, order, ends)
    try:
        pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=context)
        future = pool.submit(_child)
    except (OSError, RuntimeError, ValueError):
        _shared = None
        return _run_serial(rules, ctx, progress, len(rules))
    mine: list[type[Rule]] = []
    findings: list[Finding] = []
    errors: list[str] = []
    with pool:
        while (index := take_back(ends)) is not None:  # one at a time: the child takes the others
            if progress is not None:
                progress("rules", ends[0] + len(order) - ends[1] - 1, len(rules))
            mine.append(order[index])
            found, failed = containment.run_rule(order[index], ctx)
            findings += found
            errors += failed
        try:
            child_findings, child_errors, loaded, reads, joined, asked = future.result()
            log_reads(reads)  # what the child's rules read counts as read by this run
            if ctx.graph.resolver is not None:  # and what its questions joined (`components`)
                for pair in joined:
                    ctx.graph.resolver.components.join(pair)
                ctx.graph.resolver.asked |= asked  # and the module names they looked up
        except Exception:  # noqa: BLE001 - a child that died (out of memory?): do its share here
            theirs = [r for r in order if r not in mine]
            child_findings, child_errors, loaded = *_run_serial(theirs, ctx, None, 0), []
    _shared = None
    _adopt(ctx, facts, loaded)  # (`engine.run` reports the rules as done)
    return findings + child_findings, errors + child_errors


def heaviest_first(rules: Sequence[type[Rule]]) -> list[type[Rule]]:
    """The order in which the two processes take rules: by `cost`, heaviest first (stable)."""
    return sorted(rules, key=lambda r: -r.cost)


def take_back(ends: Any) -> int | None:
    """The parent's next rule: the lightest left, never the heaviest (the child's first,
    which it starts as soon as it is forked); None when none is left for the parent."""
    return take(ends, from_front=False, reserved=1)


def _worth_forking(jobs: int, ctx: Context) -> bool:
    return jobs > 1 and hasattr(os, "fork") and len(ctx.graph.routes) + len(ctx.graph.nodes) >= MIN_GRAPH


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


def _child() -> tuple[list[Finding], list[str], list[ModuleFacts], set[str], list[tuple[str, str]], set[str]]:
    """In the forked child: rules from the front of the order until the parent's meet them."""
    assert _shared is not None, "the child is a fork of a parent that set `_shared`"
    ctx, facts, order, ends = _shared
    before = len(facts)
    findings: list[Finding] = []
    errors: list[str] = []
    while (index := take(ends, from_front=True)) is not None:
        found, failed = containment.run_rule(order[index], ctx)
        findings += found
        errors += failed
    paths = {f.path for f in findings}
    loaded = [f for f in facts[before:] if f.error is not None or f.path in paths]
    resolver = ctx.graph.resolver
    joined = resolver.components.pairs() if resolver is not None else []
    return findings, errors, loaded, reads_logged(), joined, resolver.asked if resolver is not None else set()


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
