"""Benchmark: `graph`/`check` against `ast.parse` of the same files, default flake8 and ruff.

Not a timed test: a script that prints figures for the README and release notes.

    python bench/bench_graph.py PATH [PATH...] [--repeat 3] [--peers]

Every measurement runs in a fresh subprocess on the same file list; the best of `--repeat`
runs is reported. `--peers` also times default `flake8` and `ruff check --select
FAST,ASYNC,B008` (when installed) on the same paths.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

PARSE_ONLY = """
import ast, sys
from pathlib import Path
from fastapi_deplint.discover import iter_python_files
for f in iter_python_files([Path(p) for p in sys.argv[1:]]):
    try:
        ast.parse(f.read_bytes())
    except (SyntaxError, ValueError, RecursionError):
        pass
"""


def timed(cmd: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peers", action="store_true")
    args = parser.parse_args()
    py = sys.executable
    from fastapi_deplint.discover import iter_python_files

    files = list(iter_python_files([Path(p) for p in args.paths]))
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} files, {size / 1e6:.1f} MB")
    rows: list[tuple[str, float]] = []
    baseline = timed([py, "-c", PARSE_ONLY, *args.paths], args.repeat)
    startup = timed([py, "-c", "import fastapi_deplint.cli"], args.repeat)
    rows.append(("ast.parse (1 process)", baseline))
    graph = [py, "-m", "fastapi_deplint", "graph", "--format", "json", *args.paths]
    check = [py, "-m", "fastapi_deplint", "check", "--exit-zero", "--output-format", "concise", *args.paths]
    rows.append(("graph --format json, no cache", timed([*graph, "--no-cache"], args.repeat)))
    rows.append(("check, no cache", timed([*check, "--no-cache"], args.repeat)))
    timed(check, 1)  # fill the cache
    rows.append(("graph --format json, warm cache", timed(graph, args.repeat)))
    rows.append(("check, warm cache", timed(check, args.repeat)))
    if args.peers:
        if shutil.which("flake8"):
            rows.append(("flake8 (default, with FDL)", timed(["flake8", "--exit-zero", *args.paths], args.repeat)))
            rows.append(("flake8 --select FDL", timed(["flake8", "--exit-zero", "--select", "FDL", *args.paths], args.repeat)))
        if shutil.which("ruff"):
            rows.append(("ruff FAST,ASYNC,B008", timed(["ruff", "check", "--no-cache", "--exit-zero", "--select", "FAST,ASYNC,B008", *args.paths], args.repeat)))
    print(f"interpreter + import startup: {startup:.2f}s")
    print(f"{'what':32} {'seconds':>8} {'x ast.parse':>12}")
    for name, seconds in rows:
        print(f"{name:32} {seconds:8.2f} {seconds / baseline:12.2f}")


if __name__ == "__main__":
    main()
