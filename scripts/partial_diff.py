#!/usr/bin/env python3
"""Does a run that analyses only the edited parts of a project (`run_cache.Partial`) report
what a whole run reports? A developer's check on real trees (not a test: it takes minutes).

    python scripts/partial_diff.py TREE [--edits 20] [--seed 1]

Copies TREE to a temporary folder, runs `check` once with a fresh cache, then repeats: edit
one random file, FastAPI code more often than not (toggle `async` on one of its functions, star-import another
FastAPI module of the tree, or append a comment), or, one time in four, make a file come or
go (a copy of a random file under a new name in a random folder, a file removed, a removed
file put back), run `check` with the cache and with `--no-cache`, and compare the two
reports. Prints, per edit, whether the partial run was
used, declined (then the project was analysed whole), not possible (whole), or whether the
last run was reused as it was (an edit no finding depends on), and every difference.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

RUN = """
import sys
from fastapi_deplint import cli
original = cli.analyse_part
def spied(*args, **kwargs):
    done = original(*args, **kwargs)
    print("partial run: " + ("used" if done is not None else "declined"), file=sys.stderr)
    return done
cli.analyse_part = spied
whole = cli.analyse
def spied_whole(*args, **kwargs):
    print("whole run", file=sys.stderr)
    return whole(*args, **kwargs)
cli.analyse = spied_whole
sys.argv = ["fastapi-deplint", *sys.argv[1:]]
cli.run()
"""


def check(tree: Path, env: dict[str, str], *extra: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", RUN, "check", "--output-format", "concise", "-q", "--exit-zero", *extra, str(tree)],
        capture_output=True, text=True, env=env, cwd=tree,
    )
    return sorted(done.stdout.splitlines()), done.stderr


def edit(path: Path, others: list[str], rng: random.Random) -> str:
    text = path.read_text(encoding="utf-8", errors="surrogateescape")
    kind = rng.choice(["async", "import", "comment"])
    defs = [m for m in re.finditer(r"^(\s*)(async def|def) ", text, re.M)]
    if kind == "async" and defs:
        m = rng.choice(defs)
        new = "def " if m.group(2) == "async def" else "async def "
        path.write_text(text[: m.start(2)] + new + text[m.end():], encoding="utf-8", errors="surrogateescape")
        return f"toggled async at line {text[: m.start()].count(chr(10)) + 1}"
    if kind == "import" and others:
        other = rng.choice(others)
        path.write_text(text + f"\nfrom {other} import *  # partial_diff\n", encoding="utf-8", errors="surrogateescape")
        return f"star-import {other}"
    path.write_text(text + "\n# partial_diff\n", encoding="utf-8", errors="surrogateescape")
    return "comment"


def come_or_go(tree: Path, every_file: list[Path], gone: list[tuple[Path, bytes]], n: int, rng: random.Random) -> str:
    """Add a copy of a random file under a new name, remove a file, or put a removed one back."""
    kind = rng.choice(["add", "remove", "restore"] if gone else ["add", "remove"])
    if kind == "restore":
        path, data = gone.pop(rng.randrange(len(gone)))
        path.write_bytes(data)
        every_file.append(path)
        return f"put back {path.relative_to(tree)}"
    if kind == "remove":
        path = every_file.pop(rng.randrange(len(every_file)))
        gone.append((path, path.read_bytes()))
        path.unlink()
        return f"removed {path.relative_to(tree)}"
    donor = rng.choice(every_file)
    path = rng.choice(every_file).parent / f"partial_diff_{n}_{donor.name}"
    shutil.copyfile(donor, path)
    every_file.append(path)
    return f"added {path.relative_to(tree)} (a copy of {donor.relative_to(tree)})"


def module_name(tree: Path, path: Path) -> str:
    parts = list(path.relative_to(tree).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree", type=Path)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(args.tree, tree, symlinks=True)
        env = {**os.environ, "FASTAPI_DEPLINT_CACHE_DIR": str(Path(tmp) / "cache")}
        every_file = sorted(tree.rglob("*.py"))
        fastapi_files = [p for p in every_file if b"fastapi" in p.read_bytes() or b"Depends" in p.read_bytes()]
        names = [module_name(tree, p) for p in fastapi_files]
        check(tree, env)
        used = differ = 0
        gone: list[tuple[Path, bytes]] = []
        for n in range(args.edits):
            if rng.random() < 0.25:
                what = come_or_go(tree, every_file, gone, n, rng)
                victim = tree
            else:
                present = [p for p in fastapi_files if p.exists()]
                victim = rng.choice(present if rng.random() < 0.6 else every_file)  # also helpers parsed on demand
                what = edit(victim, names, rng)
            partial, log = check(tree, env)
            whole, _ = check(tree, env, "--no-cache")
            state = "used" if "partial run: used" in log else "declined" if "declined" in log else "whole" if "whole run" in log else "reused"
            used += state == "used"
            same = partial == whole
            differ += not same
            print(f"{n + 1:3} {state:8} {'same' if same else 'DIFFERENT'}  {victim.relative_to(tree) if victim != tree else ''}: {what}")
            if not same:
                for line in sorted(set(partial) ^ set(whole)):
                    print(f"      {'partial' if line in partial else 'whole  '}: {line}")
        print(f"{args.edits} edits: partial run used {used} times; {differ} different reports")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
