"""Robustness sweep: run the linter over every `.py` file of an environment's site-packages.

    python scripts/sweep_site_packages.py                  # this interpreter's site-packages
    python scripts/sweep_site_packages.py --site DIR ...   # other trees
    python scripts/sweep_site_packages.py --json sweep.json --timeout 600 --chunk 3000

Two passes, each in subprocesses with a per-run timeout (a hang is reported, never waited on):

1. facts: every file is read and parsed as `check` would if an import reached it (the
   pre-scan that skips files mentioning nothing FastAPI is off), so each file is really read.
2. check: `fastapi-deplint check --select ALL` over the files, one run per chunk of whole
   top-level packages (so imports between their modules are followed).

It prints the file count, the time, crashes (FDL900 internal errors, tracebacks, unexpected
exit codes, timeouts) and the FDL901 count, and exits 1 when anything crashed or hung.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

SKIP_DIRS = {"__pycache__"}


@dataclass
class Tally:
    files: int = 0
    seconds: float = 0.0
    runs: int = 0
    fdl901: int = 0
    internal: list[str] = field(default_factory=list)  # FDL900 findings
    crashes: list[str] = field(default_factory=list)  # tracebacks, bad exits
    hangs: list[str] = field(default_factory=list)  # timeouts
    codes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # FDL901 messages, by kind
    slowest: list[tuple[float, str]] = field(default_factory=list)

    @property
    def crash_count(self) -> int:
        return len(self.internal) + len(self.crashes) + len(self.hangs)


def site_dirs() -> list[Path]:
    paths = sysconfig.get_paths()
    seen: list[Path] = []
    for key in ("purelib", "platlib"):
        path = Path(paths[key])
        if path.is_dir() and path not in seen:
            seen.append(path)
    return seen


def python_files(root: Path) -> Iterator[Path]:
    """Regular `.py` files under `root` (links not followed: no loops, no FIFOs)."""
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    stack.append(Path(entry.path))
            elif entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def chunks_by_package(root: Path, files: list[Path], size: int) -> list[list[Path]]:
    """Chunks of at most `size` files (a bigger top-level package is split), never mixing
    part of a package with another."""
    groups: dict[str, list[Path]] = {}
    for path in files:
        groups.setdefault(path.relative_to(root).parts[0], []).append(path)
    chunks: list[list[Path]] = []
    current: list[Path] = []
    for _, group in sorted(groups.items()):
        if len(group) > size:
            chunks.extend(group[i : i + size] for i in range(0, len(group), size))
            continue
        if len(current) + len(group) > size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


# -- pass 1: facts of every file ------------------------------------------------------------


def facts_worker() -> None:
    """Subprocess side of pass 1: paths on stdin, one JSON line per file on stdout."""
    import traceback

    from fastapi_deplint.source import INTERNAL_ERROR_PREFIX, read_facts

    for line in sys.stdin:
        path = line.rstrip("\n")
        start = time.perf_counter()
        record: dict[str, object] = {"path": path}
        try:
            facts = read_facts(Path(path), path)
            if facts.error is not None:
                key = "internal" if facts.error.startswith(INTERNAL_ERROR_PREFIX) else "error"
                record[key] = facts.error
        except BaseException:  # noqa: BLE001 - exactly what the sweep looks for
            record["crash"] = traceback.format_exc()
        record["seconds"] = round(time.perf_counter() - start, 4)
        print(json.dumps(record), flush=True)


def run_facts(chunk: list[Path], timeout: float, tally: Tally) -> None:
    label = f"facts of {chunk[0]} (+{len(chunk) - 1})"
    try:
        run = subprocess.run(
            [sys.executable, os.path.abspath(__file__), "--facts-worker"],
            input="".join(f"{p}\n" for p in chunk), capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired as exc:
        done = (exc.stdout or b"").count(b"\n") if isinstance(exc.stdout, bytes) else (exc.stdout or "").count("\n")
        tally.hangs.append(f"{label}: still running after {timeout:.0f} s (at file {done + 1} of {len(chunk)})")
        return
    tally.runs += 1
    if run.returncode != 0 or "Traceback" in run.stderr:
        tally.crashes.append(f"{label}: exit {run.returncode}\n{run.stderr[-2000:]}")
    for line in run.stdout.splitlines():
        record = json.loads(line)
        tally.slowest.append((float(record["seconds"]), str(record["path"])))
        if "crash" in record:
            tally.crashes.append(f"{record['path']}: {record['crash']}")
        elif "internal" in record:
            tally.internal.append(f"{record['path']}: {record['internal']}")
        elif "error" in record:
            tally.fdl901 += 1
            tally.errors[_kind(str(record["error"]))] += 1
    tally.slowest = sorted(tally.slowest, reverse=True)[:5]


def _kind(message: str) -> str:
    """An FDL901 message without its specifics, for the summary."""
    if message.startswith("syntax error: "):
        return "syntax error: " + message[14:].split(" (")[0][:60]
    return message.split(" (")[0].split(":")[0]


# -- pass 2: check ------------------------------------------------------------------------------


def _empty_dir() -> str:
    global _EMPTY
    if _EMPTY is None:
        import tempfile

        _EMPTY = tempfile.mkdtemp(prefix="fdl-sweep-")
    return _EMPTY


_EMPTY: str | None = None


def run_check(chunk: list[Path], timeout: float, tally: Tally, statistics: bool = False) -> None:
    label = f"check of {chunk[0]} (+{len(chunk) - 1})"
    command = [sys.executable, "-m", "fastapi_deplint", "check", "--isolated", "--no-project", "--no-respect-gitignore",
               "--select", "ALL", "--output-format", "json", *(["--statistics"] if statistics else []), *map(str, chunk)]
    try:
        # from an empty folder: nothing of the swept tree can shadow a module of ours
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=_empty_dir())
    except subprocess.TimeoutExpired:
        tally.hangs.append(f"{label}: still running after {timeout:.0f} s")
        return
    tally.runs += 1
    if "Traceback" in run.stderr or run.returncode not in (0, 1, 2):
        tally.crashes.append(f"{label}: exit {run.returncode}\n{run.stderr[-3000:]}")
    try:
        findings = json.loads(run.stdout or "[]")
    except json.JSONDecodeError:
        tally.crashes.append(f"{label}: output is not JSON (exit {run.returncode})\n{run.stderr[-2000:]}")
        return
    if statistics:  # counts only; the internal errors' messages are on stderr
        for row in findings:
            tally.codes[row["code"]] += row["count"]
        tally.fdl901 += sum(row["count"] for row in findings if row["code"] == "FDL901")
        tally.internal.extend(line for line in run.stderr.splitlines() if "internal error" in line and not line[:1].isspace())
        if run.returncode == 2 and not any(row["code"] == "FDL900" for row in findings):
            tally.crashes.append(f"{label}: exit 2 without an internal-error finding\n{run.stderr[-2000:]}")
        return
    for f in findings:
        tally.codes[f["code"]] += 1
        if f["code"] == "FDL900":
            tally.internal.append(f"{f['path']}:{f['line']}: {f['message']}")
        elif f["code"] == "FDL901":
            tally.fdl901 += 1
            tally.errors[_kind(f["message"].removeprefix("cannot analyse file: "))] += 1
    if run.returncode == 2 and not any(f["code"] == "FDL900" for f in findings):
        tally.crashes.append(f"{label}: exit 2 without an internal-error finding\n{run.stderr[-2000:]}")


# -- driver --------------------------------------------------------------------------------------


def report(name: str, tally: Tally) -> str:
    lines = [
        f"{name}: {tally.files} files, {tally.runs} runs, {tally.seconds:.1f} s; "
        f"crashes {tally.crash_count} (FDL900 {len(tally.internal)}, tracebacks/bad exits {len(tally.crashes)}, "
        f"hangs {len(tally.hangs)}); FDL901 {tally.fdl901}"
    ]
    for title, items in (("FDL900", tally.internal), ("crash", tally.crashes), ("hang", tally.hangs)):
        lines.extend(f"  {title}: {item.strip()[:1500]}" for item in items[:20])
    if tally.errors:
        lines.append("  FDL901 by kind: " + ", ".join(f"{k} x{n}" for k, n in tally.errors.most_common(12)))
    if tally.codes:
        lines.append("  findings by code: " + ", ".join(f"{k} {n}" for k, n in sorted(tally.codes.items())))
    if tally.slowest:
        lines.append("  slowest files: " + ", ".join(f"{p} {s:.2f}s" for s, p in tally.slowest))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", action="append", type=Path, help="tree to sweep (repeatable; default: site-packages)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed for one run (default 600)")
    parser.add_argument("--chunk", type=int, default=3000, help="files per run (default 3000)")
    parser.add_argument("--skip-facts", action="store_true", help="only the check pass")
    parser.add_argument("--skip-check", action="store_true", help="only the facts pass")
    parser.add_argument(
        "--statistics", action="store_true",
        help="check with --statistics: counts only, and no fix descriptions (which re-parse every file with findings)",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--facts-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.facts_worker:
        facts_worker()
        return 0
    roots = args.site or site_dirs()
    plan: list[tuple[Path, list[Path]]] = [(root, sorted(python_files(root))) for root in roots]
    total = sum(len(files) for _, files in plan)
    size = sum(p.stat().st_size for _, files in plan for p in files)
    print(f"sweeping {total} files ({size / 1048576:.0f} MiB) under {', '.join(map(str, roots))}", flush=True)
    passes: dict[str, Tally] = {}
    for name, skip in (("facts", args.skip_facts), ("check", args.skip_check)):
        if skip:
            continue
        tally = passes[name] = Tally(files=total)
        start = time.perf_counter()
        for root, files in plan:
            for chunk in chunks_by_package(root, files, args.chunk):
                if name == "facts":
                    run_facts(chunk, args.timeout, tally)
                else:
                    run_check(chunk, args.timeout, tally, args.statistics)
        tally.seconds = time.perf_counter() - start
        print(report(name, tally), flush=True)
    if args.json:
        args.json.write_text(json.dumps({
            name: {"files": t.files, "seconds": round(t.seconds, 1), "runs": t.runs, "fdl901": t.fdl901,
                   "fdl900": len(t.internal), "crashes": len(t.crashes), "hangs": len(t.hangs),
                   "codes": dict(t.codes), "fdl901_kinds": dict(t.errors)}
            for name, t in passes.items()
        }, indent=2))
    return 1 if any(t.crash_count for t in passes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
