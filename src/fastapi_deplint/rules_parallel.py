"""Running the enabled rules on two cores: a forked child runs one share, the parent the other.

Rules are whole-project queries over a graph that is already built, so the child is a `fork`
of the parent (nothing is pickled on the way in; the pages are shared copy-on-write) and only
its findings come back. Both take rules one at a time from a list ordered by `Rule.cost`
(measured with `bench/phases.py`), from both ends (`two_ended`): the child from the heavy
end, the parent from the light end, until they meet; the heaviest rule is always the
child's (it starts as soon as it is forked). So the two end together whatever the project:
on the benchmark corpus FDL302 alone weighs as much as all the others, on FastAPI's sdist it
is light.

A rule with `shards` (FDL302: its targets split in contiguous slices) counts as that many
items, each with an equal share of its cost; either process may take any of them, and the
parent merges their results when both are done, into the findings a serial run yields in the
same order. A shard that raises makes the parent run that rule whole, under `containment`.

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
from .rules.base import Context, Finding, Rule, Shard
from .two_ended import counters, take

# routes and dependency nodes below which one process is as fast (fork and pickling cost).
# Measured, rules on one process and on two: open-webui (1,172) 1.19 -> 0.93 s, lnbits (443)
# 0.38 -> 0.22 s, fixtures/ (636) 0.16 -> 0.11 s, fastapi-users (98) 0.016 -> 0.034 s. The
# number of parsed modules, used before, left open-webui (49 modules) on one process.
MIN_GRAPH = 300

Progress = Callable[[str, int, int], None]
RuleResult = tuple[list[Finding], list[str]]  # findings, internal errors
Item = tuple[type[Rule], int | None]  # a rule, or one shard of a rule that has `shards`
Shards = dict[tuple[str, int], Shard]  # (rule code, shard index) -> its result

# what the forked child reads (set by the parent just before the fork): the context, the
# project's facts, the items in the order both take them, and the [front, back) counters
_shared: tuple[Context, list[ModuleFacts], list[Item], Any] | None = None


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
    mine: list[Item] = []
    work = _Work(ctx)
    with pool:
        while (index := take_back(ends)) is not None:  # one at a time: the child takes the others
            if progress is not None:
                progress("rules", ends[0] + len(order) - ends[1] - 1, len(order))
            mine.append(order[index])
            work.do(order[index])
        try:
            child_findings, child_errors, child_shards, loaded, reads, joined, asked = future.result()
            log_reads(reads)  # what the child's rules read counts as read by this run
            if ctx.graph.resolver is not None:  # and what its questions joined (`components`)
                for pair in joined:
                    ctx.graph.resolver.components.join(pair)
                ctx.graph.resolver.asked |= asked  # and the module names they looked up
        except Exception:  # noqa: BLE001 - a child that died (out of memory?): do its share here
            for item in order:
                if item not in mine:
                    work.do(item)
            child_findings, child_errors, child_shards, loaded = [], [], {}, []
    _shared = None
    _adopt(ctx, facts, loaded)  # (`engine.run` reports the rules as done)
    work.shards.update(child_shards)
    work.merge(rules)
    return work.findings + child_findings, work.errors + child_errors


class _Work:
    """One process's share of the items: whole rules' findings, and shards' results (which
    the parent merges once every shard of a rule is done)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.findings: list[Finding] = []
        self.errors: list[str] = []
        self.shards: Shards = {}
        self.failed: set[str] = set()  # rules with a shard that raised here: run whole instead
        # (a shard that raised in the child is missing from its results, which does the same)
        self._instances: dict[type[Rule], Rule] = {}  # a sharded rule's, so shards share its caches

    def do(self, item: Item) -> None:
        rule, index = item
        if index is None:
            found, failed = containment.run_rule(rule, self.ctx)
            self.findings += found
            self.errors += failed
            return
        try:
            self.shards[(rule.code, index)] = self._instance(rule).shard(self.ctx, index, rule.shards)
        except Exception:  # noqa: BLE001 - the whole rule runs again under `containment`
            self.failed.add(rule.code)

    def merge(self, rules: Sequence[type[Rule]]) -> None:
        """In the parent: the findings of every sharded rule, in the order of a serial run;
        the rule runs whole (with `containment`) when a shard or the merge raised."""
        for rule in rules:
            if rule.shards <= 1:
                continue
            parts = [self.shards.get((rule.code, i)) for i in range(rule.shards)]
            if rule.code not in self.failed and all(p is not None for p in parts):
                try:
                    self.findings += list(self._instance(rule).merge(self.ctx, [p for p in parts if p is not None]))
                    continue
                except Exception:  # noqa: BLE001
                    pass
            self.do((rule, None))

    def _instance(self, rule: type[Rule]) -> Rule:
        if rule not in self._instances:
            self._instances[rule] = rule()
        return self._instances[rule]


def heaviest_first(rules: Sequence[type[Rule]]) -> list[Item]:
    """The order in which the two processes take items: by cost, heaviest first (stable); a
    rule with `shards` counts as that many items of an equal share of its cost."""
    items: list[tuple[float, Item]] = []
    for rule in rules:
        if rule.shards > 1:
            items += [(rule.cost / rule.shards, (rule, i)) for i in range(rule.shards)]
        else:
            items.append((rule.cost, (rule, None)))
    return [item for _, item in sorted(items, key=lambda pair: -pair[0])]


def take_back(ends: Any) -> int | None:
    """The parent's next item: the lightest left, never the heaviest (the child's first,
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


def _child() -> tuple[list[Finding], list[str], Shards, list[ModuleFacts], set[str], list[tuple[str, str]], set[str]]:
    """In the forked child: items from the front of the order until the parent's meet them."""
    assert _shared is not None, "the child is a fork of a parent that set `_shared`"
    ctx, facts, order, ends = _shared
    before = len(facts)
    work = _Work(ctx)
    while (index := take(ends, from_front=True)) is not None:
        work.do(order[index])
    paths = {f.path for f in work.findings} | {f.path for shard in work.shards.values() for f in shard.findings}
    loaded = [f for f in facts[before:] if f.error is not None or f.path in paths]
    resolver = ctx.graph.resolver
    joined = resolver.components.pairs() if resolver is not None else []
    return work.findings, work.errors, work.shards, loaded, reads_logged(), joined, resolver.asked if resolver is not None else set()


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
