#!/usr/bin/env python3
"""Differential oracle: fastapi-deplint's static graph vs FastAPI's runtime tree.

For every ROOT this runs

* the static side:  ``python -m fastapi_deplint graph ROOT --format json``
* the runtime side: imports every module under ROOT in worker subprocesses and
  reads the effective ``route.dependant`` trees FastAPI built
  (see ``tests/oracle_runtime.py``),

then compares the (endpoint, dependency name) pairs of the endpoints that the
runtime side could import.  It is a measuring tool: it exits 0 unless it
crashed or the static side produced no usable JSON (exit 2), or
``--min-recall`` / ``--min-precision`` is not met (exit 1).

Usage::

    python scripts/oracle_diff.py ROOT [ROOT...] [--json-out FILE] [-v]
    python scripts/oracle_diff.py --runtime-only /path/to/fastapi/docs_src
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

import oracle_runtime  # noqa: E402  (needs the sys.path tweak above)
from oracle_runtime import RuntimeResult  # noqa: E402


class OracleError(Exception):
    """The static side could not be run or its output could not be read."""


# --------------------------------------------------------------------------
# Static side
# --------------------------------------------------------------------------


@dataclass
class StaticResult:
    closures: dict[str, set[str]]  # endpoint key -> reachable dependency names
    errors: list[str]  # analyser-reported errors + graph inconsistencies
    seconds: float


def run_static(root: Path, timeout: float) -> StaticResult:
    """Run the linter's ``graph`` command on ``root`` and compute closures."""
    env = dict(os.environ)
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [sys.executable, "-m", "fastapi_deplint", "graph", str(root), "--format", "json"]
    started = time.monotonic()
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise OracleError(f"static side timed out after {timeout:g}s: {' '.join(command)}") from exc
    seconds = time.monotonic() - started
    try:
        graph = json.loads(proc.stdout)
    except ValueError as exc:
        stderr_tail = " | ".join(proc.stderr.strip().splitlines()[-8:])
        raise OracleError(
            f"static side produced no JSON (exit code {proc.returncode}): {stderr_tail}"
        ) from exc
    if not isinstance(graph, dict) or not isinstance(graph.get("routes"), list):
        raise OracleError("static side JSON has no 'routes' list")
    closures, problems = static_closures(graph)
    errors = [
        f"{e.get('path', '?')}: {e.get('message', '?')}"
        for e in graph.get("errors") or []
        if isinstance(e, dict)
    ]
    return StaticResult(closures=closures, errors=errors + problems, seconds=seconds)


def static_closures(graph: dict[str, Any]) -> tuple[dict[str, set[str]], list[str]]:
    """endpoint key -> names of all nodes reachable from its route(s).

    Returns the closures and a list of graph inconsistencies (dangling ids).
    """
    nodes: dict[str, Any] = graph.get("nodes") or {}
    problems: list[str] = []
    closures: dict[str, set[str]] = {}
    for route in graph["routes"]:
        endpoint = route.get("endpoint")
        if not isinstance(endpoint, str):
            problems.append(f"route without endpoint: {route!r}"[:200])
            continue
        names = closures.setdefault(endpoint, set())
        seen: set[str] = set()
        stack: list[str] = list(route.get("dependencies") or [])
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue  # shared sub-dependency or a cycle
            seen.add(node_id)
            node = nodes.get(node_id)
            if node is None:
                problems.append(f"{endpoint}: dangling node id {node_id!r}")
                continue
            names.add(str(node.get("name")))
            stack.extend(node.get("dependencies") or [])
    return closures, problems


# --------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------


@dataclass
class Mismatch:
    endpoint: str
    missing: list[str]  # at runtime, not found statically (hurts recall)
    extra: list[str]  # found statically, not at runtime (hurts precision)


@dataclass
class Comparison:
    root: str
    modules_imported: int = 0
    modules_failed: int = 0
    endpoints: int = 0  # runtime endpoints compared
    endpoints_with_deps: int = 0  # ... that have at least one runtime dependency
    runtime_pairs: int = 0
    static_pairs: int = 0  # restricted to runtime endpoints
    true_positives: int = 0
    missing_endpoints: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)  # key -> "file:line"s
    mismatches: list[Mismatch] = field(default_factory=list)
    import_failures: list[str] = field(default_factory=list)
    runtime_notes: list[str] = field(default_factory=list)
    static_errors: list[str] = field(default_factory=list)
    runtime_seconds: float = 0.0
    static_seconds: float = 0.0

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.static_pairs if self.static_pairs else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.runtime_pairs if self.runtime_pairs else None

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "modules_imported": self.modules_imported,
            "modules_failed": self.modules_failed,
            "endpoints": self.endpoints,
            "endpoints_with_deps": self.endpoints_with_deps,
            "endpoints_missing_statically": len(self.missing_endpoints),
            "ambiguous_endpoint_keys": len(self.ambiguous),
            "runtime_pairs": self.runtime_pairs,
            "static_pairs": self.static_pairs,
            "true_positives": self.true_positives,
            "precision": self.precision,
            "recall": self.recall,
            "runtime_seconds": round(self.runtime_seconds, 2),
            "static_seconds": round(self.static_seconds, 2),
            "missing_endpoints": self.missing_endpoints,
            "ambiguous": self.ambiguous,
            "mismatches": [m.__dict__ for m in self.mismatches],
            "import_failures": self.import_failures,
            "runtime_notes": self.runtime_notes,
            "static_errors": self.static_errors,
        }


def compare(runtime: RuntimeResult, static: StaticResult | None) -> Comparison:
    """Pairwise comparison over the endpoints the runtime side produced."""
    result = Comparison(
        root=runtime.root,
        modules_imported=runtime.imported,
        modules_failed=runtime.failed,
        import_failures=list(runtime.failures),
        runtime_notes=runtime.notes,
        ambiguous=runtime.ambiguous_keys(),
        runtime_seconds=runtime.seconds,
    )
    if static is not None:
        result.static_errors = list(static.errors)
        result.static_seconds = static.seconds
    for endpoint in sorted(runtime.pairs):
        expected = runtime.pairs[endpoint]
        result.endpoints += 1
        result.endpoints_with_deps += bool(expected)
        result.runtime_pairs += len(expected)
        if static is None:
            continue
        if endpoint not in static.closures:
            result.missing_endpoints.append(endpoint)
            continue
        found = static.closures[endpoint]
        result.static_pairs += len(found)
        result.true_positives += len(expected & found)
        if expected != found:
            result.mismatches.append(
                Mismatch(endpoint, sorted(expected - found), sorted(found - expected))
            )
    return result


def total(comparisons: list[Comparison]) -> Comparison:
    agg = Comparison(root="TOTAL")
    for c in comparisons:
        agg.modules_imported += c.modules_imported
        agg.modules_failed += c.modules_failed
        agg.endpoints += c.endpoints
        agg.endpoints_with_deps += c.endpoints_with_deps
        agg.runtime_pairs += c.runtime_pairs
        agg.static_pairs += c.static_pairs
        agg.true_positives += c.true_positives
        agg.missing_endpoints += c.missing_endpoints
        agg.ambiguous.update(c.ambiguous)
        agg.runtime_seconds += c.runtime_seconds
        agg.static_seconds += c.static_seconds
    return agg


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_summary(c: Comparison, *, runtime_only: bool) -> None:
    print(f"== {c.root}")
    print(
        f"  modules: {c.modules_imported} imported, {c.modules_failed} failed"
        f"  (runtime {c.runtime_seconds:.1f}s"
        + ("" if runtime_only else f", static {c.static_seconds:.1f}s")
        + ")"
    )
    print(
        f"  endpoints: {c.endpoints} ({c.endpoints_with_deps} with dependencies;"
        f" {len(c.ambiguous)} keys shared by several functions)"
    )
    if runtime_only:
        print(f"  runtime pairs: {c.runtime_pairs}")
        return
    print(f"  endpoints missing statically: {len(c.missing_endpoints)}")
    print(
        f"  pairs: runtime {c.runtime_pairs}, static {c.static_pairs}, both {c.true_positives}"
        f"  precision {_ratio(c.precision)}  recall {_ratio(c.recall)}"
    )


def print_details(
    c: Comparison, runtime: RuntimeResult | None, *, verbose: bool, runtime_only: bool
) -> None:
    if runtime_only:
        if verbose and runtime is not None:
            for endpoint in sorted(runtime.pairs):
                print(f"  {endpoint}: {', '.join(sorted(runtime.pairs[endpoint])) or '-'}")
    else:
        if c.mismatches:
            print(f"  mismatches ({len(c.mismatches)}):")
            for m in c.mismatches:
                print(f"    {m.endpoint}")
                if m.missing:
                    print(f"      missing: {', '.join(m.missing)}")
                if m.extra:
                    print(f"      extra:   {', '.join(m.extra)}")
        if c.missing_endpoints:
            paths = runtime.endpoint_paths() if runtime is not None else {}
            print(f"  runtime endpoints absent from static output ({len(c.missing_endpoints)}):")
            for endpoint in c.missing_endpoints:
                where = "; ".join(paths.get(endpoint, []))
                print(f"    {endpoint}  [{where}]" if where else f"    {endpoint}")
        if verbose and c.static_errors:
            print(f"  static errors ({len(c.static_errors)}):")
            for error in c.static_errors:
                print(f"    {error}")
    if verbose and c.ambiguous:
        print(f"  endpoint keys shared by several functions, deps unioned ({len(c.ambiguous)}):")
        for endpoint, locations in c.ambiguous.items():
            print(f"    {endpoint}: {', '.join(locations)}")
    if verbose and c.runtime_notes:
        print(f"  runtime notes ({len(c.runtime_notes)}):")
        for note in c.runtime_notes:
            print(f"    {note}")
    if verbose and c.import_failures:
        print(f"  import failures ({len(c.import_failures)}):")
        for failure in c.import_failures:
            print(f"    {failure}")


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compare fastapi-deplint's static dependency graph with FastAPI's runtime one."
    )
    parser.add_argument("roots", nargs="+", type=Path, metavar="ROOT")
    parser.add_argument("--json-out", type=Path, help="write the full comparison as JSON here")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also list import failures / static errors (and, with "
                             "--runtime-only, every endpoint with its dependencies)")
    parser.add_argument("--runtime-only", action="store_true",
                        help="only run the runtime side (no static graph needed)")
    parser.add_argument("--min-recall", type=float, default=None,
                        help="exit 1 if the overall recall is below this")
    parser.add_argument("--min-precision", type=float, default=None,
                        help="exit 1 if the overall precision is below this")
    parser.add_argument("--timeout", type=float, default=oracle_runtime.DEFAULT_TIMEOUT_PER_MODULE,
                        help="per-module import timeout in seconds (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=oracle_runtime.DEFAULT_WORKERS,
                        choices=(1, 2), help="import worker processes (default: %(default)s)")
    parser.add_argument("--static-timeout", type=float, default=600.0,
                        help="timeout for one static-side run in seconds (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    comparisons: list[Comparison] = []
    report: dict[str, Any] = {"roots": []}
    for root in args.roots:
        root = root.resolve()
        if not root.exists():
            print(f"error: {root} does not exist", file=sys.stderr)
            return 2
        static: StaticResult | None = None
        if not args.runtime_only:
            try:
                static = run_static(root, args.static_timeout)
            except OracleError as exc:
                print(f"error: {root}: {exc}", file=sys.stderr)
                return 2
        runtime = oracle_runtime.collect_runtime(
            root, timeout_per_module=args.timeout, workers=args.workers
        )
        comparison = compare(runtime, static)
        comparisons.append(comparison)
        print_summary(comparison, runtime_only=args.runtime_only)
        print_details(comparison, runtime, verbose=args.verbose, runtime_only=args.runtime_only)
        entry = comparison.to_json()
        if args.runtime_only:
            entry["runtime"] = {k: sorted(v) for k, v in sorted(runtime.pairs.items())}
        report["roots"].append(entry)

    overall = total(comparisons)
    if len(comparisons) > 1:
        print_summary(overall, runtime_only=args.runtime_only)
    report["total"] = {
        key: value
        for key, value in overall.to_json().items()
        if key not in {
            "root", "missing_endpoints", "ambiguous", "mismatches", "import_failures",
            "runtime_notes", "static_errors",
        }
    }
    if args.json_out is not None:
        args.json_out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")

    failed_gate = False
    if not args.runtime_only:
        if args.min_recall is not None and (overall.recall or 0.0) < args.min_recall:
            print(f"recall {_ratio(overall.recall)} < --min-recall {args.min_recall}")
            failed_gate = True
        if (
            args.min_precision is not None
            and overall.precision is not None
            and overall.precision < args.min_precision
        ):
            print(f"precision {_ratio(overall.precision)} < --min-precision {args.min_precision}")
            failed_gate = True
    return 1 if failed_gate else 0


def _entry_point() -> int:
    """``main`` with crashes mapped to exit code 2 (1 is reserved for the gates)."""
    try:
        return main()
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - report and signal "crashed"
        import traceback

        traceback.print_exc()
        return 2


if __name__ == "__main__":
    sys.exit(_entry_point())
