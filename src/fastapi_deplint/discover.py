"""Finding the Python files to analyse: no symlink loops, no FIFOs or sockets, no vendored trees."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    "__pycache__",
    "__pypackages__",
    "node_modules",
    "site-packages",
    "build",
    "dist",
    ".eggs",
)


def _excluded(name: str, rel: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(rel, p) for p in patterns)


def iter_python_files(paths: Iterable[Path], exclude: Iterable[str] = (), errors: list[tuple[str, str]] | None = None) -> Iterator[Path]:
    """Yield regular `.py` files under `paths`, each once, in a stable order.

    Directories are walked without following symlinks (no loops); symlinked *files* are read.
    Explicitly given files are always yielded (the user asked for them) unless they are not
    regular files. Unreadable directories are reported through `errors`.
    """
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    seen: set[Path] = set()
    for given in paths:
        try:
            st = os.stat(given)
        except OSError as exc:
            if errors is not None:
                errors.append((str(given), f"cannot read: {exc.strerror or exc}"))
            continue
        if stat.S_ISREG(st.st_mode):
            if given not in seen:
                seen.add(given)
                yield given
            continue
        if not stat.S_ISDIR(st.st_mode):
            continue
        found: list[Path] = []

        def onerror(exc: OSError) -> None:
            if errors is not None:
                errors.append((str(exc.filename), f"cannot read directory: {exc.strerror or exc}"))

        for root, dirs, files in os.walk(given, onerror=onerror, followlinks=False):
            rel_root = os.path.relpath(root, given)
            dirs[:] = sorted(
                d for d in dirs if not _excluded(d, os.path.normpath(os.path.join(rel_root, d)), patterns)
            )
            for name in files:
                if not name.endswith(".py"):
                    continue
                rel = os.path.normpath(os.path.join(rel_root, name))
                if _excluded(name, rel, patterns[len(DEFAULT_EXCLUDES):]):
                    continue
                path = Path(root) / name
                try:
                    if not stat.S_ISREG(os.stat(path).st_mode):
                        continue  # FIFOs, sockets, directories named x.py, dangling links
                except OSError:
                    continue
                found.append(path)
        for path in sorted(found):
            if path not in seen:
                seen.add(path)
                yield path
