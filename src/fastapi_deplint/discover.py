"""Finding the Python files to analyse: no symlink loops, no FIFOs or sockets, no vendored trees."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .source import file_kind

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


def iter_python_files(
    paths: Iterable[Path],
    exclude: Iterable[str] = (),
    errors: list[tuple[str, str]] | None = None,
    ignored: Callable[[Path, bool], bool] | None = None,
) -> Iterator[Path]:
    """Yield regular `.py` files under `paths`, each once, in a stable order.

    Directories are walked iteratively without following symlinks, and a directory seen
    before (a bind-mount loop) is not walked again; symlinked *files* are read, each file once
    however many links lead to it. FIFOs, sockets and devices named `*.py` are skipped without
    being opened, as are dangling links (editor lock files `.#x.py`). Explicitly given files are
    always yielded (the user asked for them) unless they are not regular files. Through
    `errors`: unreadable directories, `*.py` symbolic link loops, given paths that are not
    regular files or directories. `ignored(path, is_dir)` prunes more of the walk
    (`.gitignore`, excludes relative to the project root).
    """
    patterns = (*DEFAULT_EXCLUDES, *exclude)
    user_patterns = patterns[len(DEFAULT_EXCLUDES):]
    seen: set[object] = set()

    def report(path: Path | str, message: str) -> None:
        if errors is not None:
            errors.append((str(path), message))

    def first_time(path: Path, st: os.stat_result) -> bool:
        key: object = (st.st_dev, st.st_ino) if st.st_ino else os.path.abspath(path)  # no inodes: by path
        if key in seen:
            return False
        seen.add(key)
        return True

    for given in paths:
        try:
            st = os.stat(given)
        except OSError as exc:
            report(given, f"cannot read: {_reason(exc)}")
            continue
        if stat.S_ISREG(st.st_mode):
            if first_time(given, st):
                yield given
            continue
        if not stat.S_ISDIR(st.st_mode):
            report(given, f"not a regular file: {file_kind(st.st_mode)}")
            continue
        found: list[tuple[bool, Path, os.stat_result]] = []  # (is a link, path, stat)
        walked: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
        stack: list[tuple[Path, str]] = [(Path(given), ".")]
        while stack:
            directory, rel_dir = stack.pop()
            try:
                with os.scandir(directory) as listing:
                    entries = sorted(listing, key=lambda e: e.name)
            except OSError as exc:
                report(directory, f"cannot read directory: {_reason(exc)}")
                continue
            subdirs: list[tuple[Path, str]] = []
            for entry in entries:
                name = entry.name
                rel = os.path.normpath(os.path.join(rel_dir, name))
                path = directory / name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue  # vanished meanwhile
                if is_dir:
                    if _excluded(name, rel, patterns) or (ignored is not None and ignored(path, True)):
                        continue
                    try:
                        dir_st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if (dir_st.st_dev, dir_st.st_ino) not in walked:  # bind mounts can loop
                        walked.add((dir_st.st_dev, dir_st.st_ino))
                        subdirs.append((path, rel))
                    continue
                if not name.endswith(".py") or _excluded(name, rel, user_patterns):
                    continue
                if ignored is not None and ignored(path, False):
                    continue
                try:
                    file_st = os.stat(path)  # follows a symlinked file
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        report(path, "symbolic link loop")
                    continue  # dangling links, files that vanished meanwhile
                if stat.S_ISREG(file_st.st_mode):
                    found.append((entry.is_symlink(), path, file_st))
                # FIFOs, sockets, devices, directories reached through a link: never opened
            stack.extend(reversed(subdirs))
        # a file reached both directly and through links is analysed once, under its own name
        kept = [path for _, path, file_st in sorted(found, key=lambda item: item[:2]) if first_time(path, file_st)]
        yield from sorted(kept)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
