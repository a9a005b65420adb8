#!/usr/bin/env python3
"""Benchmark on a pinned real corpus: `check` cold and warm, the flake8 plugin, and the peers.

Not a timed test: a script that prints the figures for the README and release notes.

    python bench/bench_corpus.py WORKDIR [--repeat 3] [--only fastapi] [--growth] [--no-flake8]

It pip-downloads (no dependencies) the pinned artifacts below into WORKDIR/dl, unpacks them into
WORKDIR/src/<name>, and measures, each in a fresh subprocess on the same files:

- `ast.parse` of every file in one process (the floor every AST linter pays),
- `fastapi-deplint check` cold (`--no-cache`, and with an empty cache) and warm (nothing
  changed; one FastAPI file changed; one file of the non-FastAPI tree changed; one FastAPI
  router module added; one file added to the non-FastAPI tree),
- default `flake8` with and without the FDL plugin (the plugin's added cost; interleaved, best
  of two; the plugin with one file changed and with nothing changed), and
- `ruff check --select FAST,ASYNC,B008` (when `ruff` is installed),

reporting wall time, peak RSS (of the process tree's largest process), files/s and the ratios
to `ast.parse`. `--growth` also runs `check` on 1/8, 1/4, 1/2 and all of the corpus files, and
on 1, 2 and 4 copies of the whole corpus side by side (WORKDIR/copies, 250 MB), to show how
time grows with size. The corpus is never committed; WORKDIR lives outside the repo.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# name, pip requirement, whether an sdist is wanted (sdists carry tests and docs_src)
CORPUS: list[tuple[str, str, bool]] = [
    ("fastapi", "fastapi==0.163.2", True),
    ("prefect", "prefect==3.9.1", True),
    ("open-webui", "open-webui==0.12.4", False),
    ("litellm", "litellm==1.109.1", False),
    ("apache-airflow-core", "apache-airflow-core==3.3.2", True),
    ("django", "django==6.1.3", True),
]

# default flake8 without our plugin: drop it from flake8's plugin discovery
FLAKE8_WITHOUT_FDL = """
import sys
import flake8.plugins.finder as finder
found = finder._find_importlib_plugins
finder._find_importlib_plugins = lambda: (p for p in found() if p.package != "fastapi-deplint")
from flake8.main.cli import main
sys.exit(main(sys.argv[1:]))
"""

PARSE_ONLY = """
import ast, sys
from pathlib import Path
paths = Path(sys.argv[1]).read_text().splitlines()
for p in paths:
    try:
        ast.parse(Path(p).read_bytes())
    except (SyntaxError, ValueError, RecursionError, MemoryError, OSError):
        pass
"""


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Wall time and peak RSS of one command (rusage of the waited child: its largest process)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    return Run(seconds, usage.ru_maxrss / 1024)


def best(cmd: list[str], repeat: int, before: object = None, **kw: object) -> Run:
    runs = []
    for _ in range(repeat):
        if callable(before):
            before()
        runs.append(run(cmd, **kw))  # type: ignore[arg-type]
    return min(runs, key=lambda r: r.seconds)


def download(workdir: Path, only: str | None) -> list[Path]:
    dl, src = workdir / "dl", workdir / "src"
    dl.mkdir(parents=True, exist_ok=True)
    src.mkdir(parents=True, exist_ok=True)
    roots = []
    for name, req, want_sdist in CORPUS:
        if only and not name.startswith(only):
            continue
        target = src / name
        if not target.is_dir():
            # never installed, only read: the running Python's version does not matter
            args = [sys.executable, "-m", "pip", "download", "--no-deps", "--ignore-requires-python", "-q", "-d", str(dl / name), req]
            if want_sdist:
                args[6:6] = ["--no-binary", ":all:"]
            subprocess.run(args, check=True)
            (artifact,) = list((dl / name).iterdir())
            target.mkdir()
            if artifact.suffix == ".whl" or artifact.name.endswith(".zip"):
                with zipfile.ZipFile(artifact) as zf:
                    zf.extractall(target)
            else:
                with tarfile.open(artifact) as tf:
                    tf.extractall(target, filter="data")
        roots.append(target)
    return roots


def python_files(roots: list[Path]) -> list[Path]:
    from fastapi_deplint.discover import iter_python_files

    return list(iter_python_files(roots))


def subset_tree(files: list[Path], base: Path, fraction: float, into: Path) -> Path:
    """Hard links of the first `fraction` of the files, keeping their relative layout."""
    chosen = files[: max(1, int(len(files) * fraction))]
    for f in chosen:
        dest = into / f.relative_to(base)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(f, dest)
        except OSError:
            shutil.copy2(f, dest)
    for f in chosen:  # packages stay packages
        init = f.parent / "__init__.py"
        dest = into / init.relative_to(base)
        if init.is_file() and not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(init, dest)
    return into


def copy_of(tree: Path, into: Path) -> Path:
    """A real copy of `tree` (made once, kept for later runs)."""
    if not into.exists():
        shutil.copytree(tree, into.with_name(into.name + ".part"), dirs_exist_ok=True)
        os.replace(into.with_name(into.name + ".part"), into)
    return into


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workdir", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=None, help="only the corpus projects whose name starts with this")
    parser.add_argument("--growth", action="store_true")
    parser.add_argument("--no-flake8", action="store_true", help="skip the two flake8 runs (minutes each)")
    args = parser.parse_args()
    workdir = args.workdir.resolve()
    roots = download(workdir, args.only)
    files = python_files(roots)
    size = sum(f.stat().st_size for f in files)
    print(f"corpus: {', '.join(r.name for r in roots)}: {len(files)} files, {size / 1e6:.1f} MB")
    listing = workdir / "files.txt"
    listing.write_text("\n".join(str(f) for f in files))
    py = sys.executable
    # as an installed package runs: pip compiles the modules to bytecode when it installs a
    # wheel, but an editable install under PYTHONDONTWRITEBYTECODE=1 (these machines) compiles
    # every module from source on every start (about 0.1 s per `check`)
    import fastapi_deplint

    subprocess.run([py, "-m", "compileall", "-q", str(Path(fastapi_deplint.__file__).parent)], check=False)
    cache = workdir / "cache"
    env = {**os.environ, "FASTAPI_DEPLINT_CACHE_DIR": str(cache)}
    check = [py, "-m", "fastapi_deplint", "check", "--exit-zero", "--output-format", "concise", *map(str, roots)]

    rows: list[tuple[str, Run]] = []
    # the floor and the cold runs take turns, round by round: this machine's speed drifts by
    # up to 1.7x within minutes, so a floor measured minutes before its check could make the
    # ratio swing by 0.1x either way; each round's own ratio is printed too
    rounds: list[tuple[Run, Run, Run]] = []
    for _ in range(args.repeat):
        parsed = run([py, "-c", PARSE_ONLY, str(listing)])
        unc = run([*check, "--no-cache"], env=env)
        shutil.rmtree(cache, ignore_errors=True)
        cold = run(check, env=env)
        rounds.append((parsed, unc, cold))
    floor = min((r[0] for r in rounds), key=lambda r: r.seconds)
    rows.append(("ast.parse, 1 process", floor))
    rows.append(("check, no cache", min((r[1] for r in rounds), key=lambda r: r.seconds)))
    rows.append(("check, cold cache", min((r[2] for r in rounds), key=lambda r: r.seconds)))
    paired = ", ".join(f"{u.seconds / p.seconds:.2f}/{c.seconds / p.seconds:.2f}" for p, u, c in rounds)
    run(check, env=env)  # fill the cache
    rows.append(("check, warm (nothing changed)", best(check, args.repeat, env=env)))
    victim = next(f for f in files if f.name != "__init__.py" and f.stat().st_size > 2000)  # a FastAPI tutorial
    original = victim.read_bytes()
    # a file of the non-FastAPI tree (the last project, django): deferred by the pre-scan, never read
    bystander = next(f for f in reversed(files) if f.name != "__init__.py" and f.stat().st_size > 2000)
    bystander_original = bystander.read_bytes()

    def touch_one() -> None:
        victim.write_bytes(original + f"\n# edit {time.perf_counter()}\n".encode())

    def touch_bystander() -> None:
        bystander.write_bytes(bystander_original + f"\n# edit {time.perf_counter()}\n".encode())

    added: list[Path] = []  # the file the last `add_beside` wrote (it goes when the next comes)
    new_router = b"import time\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n@router.get('/x')\nasync def x():\n    time.sleep(1)\n"

    def add_beside(neighbour: Path, text: bytes) -> Callable[[], None]:
        def add() -> None:
            for old in added:
                old.unlink()
            added[:] = [neighbour.with_name(f"deplint_bench_{time.perf_counter_ns()}.py")]
            added[0].write_bytes(text)

        return add

    try:
        rows.append(("check, warm (1 FastAPI file changed)", best(check, args.repeat, before=touch_one, env=env)))
        rows.append(("check, warm (1 other file changed)", best(check, args.repeat, before=touch_bystander, env=env)))
        rows.append(("check, warm (1 FastAPI file added)", best(check, args.repeat, before=add_beside(victim, new_router), env=env)))
        rows.append(("check, warm (1 other file added)", best(check, args.repeat, before=add_beside(bystander, bystander_original), env=env)))
        if shutil.which("flake8") and not args.no_flake8:
            # interleaved, best of two each: one flake8 run takes minutes and drifts with the
            # machine. The plugin's runs see one file changed (its whole-run entry misses, the
            # per-file facts are warm, as in CI with a restored cache), then nothing changed.
            targets = ["--exit-zero", *map(str, roots)]
            plain_cmd = [py, "-c", FLAKE8_WITHOUT_FDL, *targets]
            fdl_cmd = [py, "-m", "flake8", *targets]
            plain = best(plain_cmd, 1)
            changed = best(fdl_cmd, 1, before=touch_one, env=env)
            plain = min(plain, best(plain_cmd, 1), key=lambda r: r.seconds)
            changed = min(changed, best(fdl_cmd, 1, before=touch_one, env=env), key=lambda r: r.seconds)
            unchanged = best(fdl_cmd, 1, env=env)
            rows.append(("flake8 default (no FDL plugin)", plain))
            rows.append((f"flake8 + FDL, 1 changed (+{changed.seconds / plain.seconds - 1:.0%})", changed))
            rows.append((f"flake8 + FDL, unchanged (+{unchanged.seconds / plain.seconds - 1:.0%})", unchanged))
    finally:
        victim.write_bytes(original)
        bystander.write_bytes(bystander_original)
        for left in added:
            left.unlink()
    if shutil.which("ruff"):
        rows.append(
            ("ruff FAST,ASYNC,B008", best(["ruff", "check", "--no-cache", "--exit-zero", "--select", "FAST,ASYNC,B008", *map(str, roots)], args.repeat))
        )
    print(f"{'what':34} {'seconds':>8} {'x parse':>8} {'files/s':>8} {'peak MB':>8}")
    for name, r in rows:
        print(f"{name:34} {r.seconds:8.2f} {r.seconds / floor.seconds:8.2f} {len(files) / r.seconds:8.0f} {r.peak_rss_mb:8.0f}")
    print(f"each round's no-cache/cold-cache ratio to its own ast.parse run: {paired}")
    if args.growth:
        base = Path(os.path.commonpath([str(r) for r in roots]))
        print("\ngrowth (check, no cache):")
        for fraction in (0.125, 0.25, 0.5, 1.0):
            with tempfile.TemporaryDirectory(dir=workdir) as tmp:
                tree = subset_tree(files, base, fraction, Path(tmp))
                n = len(python_files([tree]))
                r = best([py, "-m", "fastapi_deplint", "check", "--exit-zero", "--no-cache", str(tree)], args.repeat, env=env)
                print(f"  {fraction:>6.3f} of the files ({n:6} files): {r.seconds:6.2f} s, {r.peak_rss_mb:6.0f} MB")
        # The corpus's halves differ (the second holds litellm's proxy, 1.8x the bytes that can
        # matter), so the curve above mixes content with size. Copies of the whole corpus side
        # by side double the files and nothing else (real copies: discovery reads a file once
        # per inode). Every module then has twins, resolved to the importer's own copy.
        print("\ngrowth by copies of the whole corpus (check, no cache):")
        sources = workdir / "src"
        copies = [sources] + [copy_of(sources, workdir / "copies" / f"c{j}") for j in (1, 2, 3)]
        for k in (1, 2, 4):
            r = best([py, "-m", "fastapi_deplint", "check", "--exit-zero", "--no-cache", *map(str, copies[:k])], args.repeat, env=env)
            print(f"  x{k} ({len(files) * k:6} files): {r.seconds:6.2f} s, {r.peak_rss_mb:6.0f} MB")


if __name__ == "__main__":
    main()
