#!/usr/bin/env python3
"""Where one `check` spends its time, phase by phase (a developer's tool, not a test).

    python bench/phases.py PATH... [--cache] [--select ALL] [--jobs N]

Prints wall seconds for discovery, per-file facts (parallel, as `check` does), linking, each
rule, and describing fixes for the report, without a profiler's distortion. With `--cache`
the session cache is used as `check` would (run twice to see the warm figures).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fastapi_deplint import containment, discover, engine  # noqa: E402
from fastapi_deplint.cache import session_cache  # noqa: E402
from fastapi_deplint.config import load_config, src_roots  # noqa: E402
from fastapi_deplint.project import collect_facts_parallel, link_facts  # noqa: E402
from fastapi_deplint.rules.base import Context  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--cache", action="store_true")
    parser.add_argument("--select", default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not args.cache:
        os.environ["FASTAPI_DEPLINT_NO_CACHE"] = "1"
    config = load_config(args.paths, overrides={"select": args.select} if args.select else {})
    rows: list[tuple[str, float]] = []
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        rows.append((name, now - t))
        t = now

    excludes = (*config.exclude, *config.extend_exclude)
    files = list(discover.iter_python_files(args.paths, excludes, [], discover.ignore_predicate(config, args.paths)))
    lap(f"discover ({len(files)} files)")
    scanned = collect_facts_parallel(files, args.jobs, session_cache())
    gc.disable()  # as `build_project` and `engine.run` do
    parsed = [f for f in scanned if not f.deferred]
    lap(f"facts ({len(parsed)} parsed, {len(scanned) - len(parsed)} deferred)")
    graph, facts = link_facts(scanned, src_roots(config), session_cache())
    lap(f"link ({len(facts) - len(parsed)} deferred modules loaded)")
    ctx = Context(graph, config)
    total = 0.0
    per_rule: list[tuple[str, float, int, int]] = []
    for rule_cls in engine.enabled_rules(config):
        start, before = time.perf_counter(), len(facts)
        found, _ = containment.run_rule(rule_cls, ctx)
        per_rule.append((rule_cls.code, time.perf_counter() - start, len(found), len(facts) - before))
        total += per_rule[-1][1]
    lap("rules")
    sizes = [os.path.getsize(f.path) for f in facts[len(parsed):]]
    rows.append((f"  loaded on demand: {len(sizes)} modules, {sum(sizes) / 1e6:.1f} MB", 0.0))
    for name, seconds in rows:
        print(f"{name:48} {seconds:7.3f} s")
    for code, seconds, n, more in sorted(per_rule, key=lambda r: -r[1]):
        if seconds >= 0.005:
            print(f"    {code:44} {seconds:7.3f} s  {n} findings, {more} deferred modules loaded")


if __name__ == "__main__":
    main()
