"""Finding the Python files to analyse: no symlink loops, no FIFOs or sockets, no vendored trees;
`discover` as the configuration asks (excludes relative to the project root, `.gitignore`).
Imported on every run, so it stays light: a run answered from the cache needs no more."""

from __future__ import annotations

import errno
import fnmatch
import io
import operator
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import Config, config_root

_NAME = operator.attrgetter("name")  # (a `DirEntry`'s: walks are sorted by it)

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


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def absolute_paths(paths: Iterable[Path | str], known: list[str] | None = None) -> list[str]:
    """`os.path.abspath` of many paths, asking for the working folder once (`abspath` asks per
    path: 0.05 s per 9,000 files); `known` when it is already theirs (one per path, as the
    walk hands them on in `Discovered.absolute`)."""
    if known is not None and isinstance(paths, Sized) and len(known) == len(paths):
        return known
    cwd = os.getcwd()
    return [os.path.normpath(os.path.join(cwd, p)) for p in paths]


def file_kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


@contextmanager
def open_regular(path: Path | str) -> Iterator[io.BufferedReader]:
    """Open a regular file for reading; never blocks. A FIFO (even one swapped in after the
    files were listed) is opened non-blocking, seen not to be a regular file and closed
    unread; anything that is not a regular file raises `OSError`."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(0, f"not a regular file: {file_kind(mode)}")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def exclusion_matcher(patterns: Iterable[str]) -> Callable[[str, str], bool]:
    """`excluded(name, rel)`: whether a folder or file name, or its path relative to the given
    root, matches one of the `fnmatch` patterns. Built once per walk: plain names are a set
    lookup and the globs one compiled regex (calling `fnmatch` per pattern per entry cost
    0.35 s on a 9,000-file tree)."""
    names = {p for p in patterns if not any(c in p for c in "*?[")}
    globs = [p for p in patterns if p not in names]
    regex = re.compile("|".join(fnmatch.translate(os.path.normcase(p)) for p in globs)) if globs else None
    literal_paths = {os.path.normcase(p) for p in names if "/" in p or os.sep in p}

    def excluded(name: str, rel: str) -> bool:
        if name in names or (literal_paths and os.path.normcase(rel) in literal_paths):
            return True
        return regex is not None and (regex.match(os.path.normcase(name)) is not None
                                      or regex.match(os.path.normcase(rel)) is not None)

    return excluded


def iter_python_files(
    paths: Iterable[Path],
    exclude: Iterable[str] = (),
    errors: list[tuple[str, str]] | None = None,
    ignored: Callable[[str, bool], bool] | None = None,
    stats: list[os.stat_result] | None = None,
    absolute: list[str] | None = None,
    noted: Callable[[str], object] | None = None,
    listed: dict[str, list[str]] | None = None,
) -> Iterator[Path]:
    """Yield regular `.py` files under `paths`, each once, in a stable order.

    Directories are walked iteratively without following symlinks, and a directory seen
    before (a bind-mount loop) is not walked again; symlinked *files* are read, each file once
    however many links lead to it. FIFOs, sockets and devices named `*.py` are skipped without
    being opened, as are dangling links (editor lock files `.#x.py`). Explicitly given files are
    always yielded (the user asked for them) unless they are not regular files. Through
    `errors`: unreadable directories, `*.py` symbolic link loops, given paths that are not
    regular files or directories. `ignored(absolute_path, is_dir)` prunes more of the walk
    (`.gitignore`, excludes relative to the project root). `stats` gets each yielded file's
    `os.stat` (taken before it is yielded), and `absolute` its path as `absolute_paths` makes
    it (joined from the folders' on the way), in the same order. `listed` gets, for every
    folder the walk lists (by absolute path), the names in it that `noted` accepts, so that
    nothing has to list it again to look for them.
    """
    excluded_dir = exclusion_matcher((*DEFAULT_EXCLUDES, *exclude))
    excluded_file = exclusion_matcher(exclude)
    seen: set[object] = set()

    def report(path: Path | str, message: str) -> None:
        if errors is not None:
            errors.append((str(path), message))

    def first_time(path: Path | str, st: os.stat_result) -> bool:
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
                if stats is not None:
                    stats.append(st)
                if absolute is not None:
                    absolute.extend(absolute_paths([given]))
                yield given
            continue
        if not stat.S_ISDIR(st.st_mode):
            report(given, f"not a regular file: {file_kind(st.st_mode)}")
            continue
        found: list[tuple[bool, str, os.stat_result, str]] = []  # (is a link, path, stat, absolute path)
        walked: set[tuple[int, int]] = {(st.st_dev, st.st_ino)}
        # paths stay strings during the walk (pathlib per entry cost a third of it)
        # (folder, its path relative to `given`, its absolute path and a separator: `ignored`
        # takes absolute paths, made here by joining names instead of per entry)
        stack: list[tuple[str, str, str]] = [(str(given), "", os.path.abspath(given).rstrip(os.sep) + os.sep)]
        while stack:
            directory, rel_dir, absolute_dir = stack.pop()
            try:
                with os.scandir(directory) as listing:
                    entries = sorted(listing, key=_NAME)
            except OSError as exc:
                report(directory, f"cannot read directory: {_reason(exc)}")
                continue
            if listed is not None and noted is not None:
                listed[absolute_dir[:-1] or os.sep] = [e.name for e in entries if noted(e.name)]
            subdirs: list[tuple[str, str, str]] = []
            for entry in entries:
                name = entry.name
                rel = f"{rel_dir}{os.sep}{name}" if rel_dir else name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue  # vanished meanwhile
                if is_dir:
                    if excluded_dir(name, rel) or (ignored is not None and ignored(absolute_dir + name, True)):
                        continue
                    try:
                        dir_st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if (dir_st.st_dev, dir_st.st_ino) not in walked:  # bind mounts can loop
                        walked.add((dir_st.st_dev, dir_st.st_ino))
                        subdirs.append((entry.path, rel, absolute_dir + name + os.sep))
                    continue
                if not name.endswith(".py") or excluded_file(name, rel):
                    continue
                if ignored is not None and ignored(absolute_dir + name, False):
                    continue
                try:
                    file_st = os.stat(entry.path)  # follows a symlinked file
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        report(entry.path, "symbolic link loop")
                    continue  # dangling links, files that vanished meanwhile
                if stat.S_ISREG(file_st.st_mode):
                    found.append((entry.is_symlink(), entry.path, file_st, absolute_dir + name))
                # FIFOs, sockets, devices, directories reached through a link: never opened
            stack.extend(reversed(subdirs))
        # a file reached both directly and through links is analysed once, under its own name
        # (ordered as `Path`s compare, folder by folder, so the order is the same as ever)
        found.sort(key=lambda item: (item[0], item[1].split(os.sep)))
        kept = sorted((item[1:] for item in found if first_time(item[1], item[2])), key=lambda item: item[0].split(os.sep))
        if stats is not None:
            stats.extend(file_st for _, file_st, _ in kept)
        if absolute is not None:
            absolute.extend(path for _, _, path in kept)
        yield from (Path(path) for path, _, _ in kept)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# -- as the configuration says --------------------------------------------------------------


def ignore_predicate(config: Config, paths: Sequence[Path]) -> Callable[[str, bool], bool] | None:
    """What discovery skips beyond the default folders: `exclude`/`extend-exclude` globs
    matched against the path relative to the configuration's folder, and `.gitignore`d files
    (when `respect-gitignore`, the default)."""
    patterns = [p.rstrip("/") for p in (*config.exclude, *config.extend_exclude) if p.strip("/")]
    root = config_root(config)
    gitignores = []
    if config.respect_gitignore:
        from .gitignore import GitIgnore

        # one per repository (or folder given outside one), asked only about paths inside it:
        # asking every one about every path cost 0.1 s of a 0.5 s warm run over six trees
        gitignores = list({g.prefix: g for g in (GitIgnore(p) for p in paths if p.is_dir())}.values())
    excluded = None
    if patterns and root is not None:
        # the globs as one regex over the path relative to `root` (`fnmatch` semantics)
        excluded = re.compile("|".join(fnmatch.translate(os.path.normcase(p)) for p in patterns)).match
        root_prefix = str(root).rstrip(os.sep) + os.sep
    if not gitignores and excluded is None:
        return None

    def ignored(absolute: str, is_dir: bool) -> bool:
        if excluded is not None and absolute.startswith(root_prefix):
            rel = os.path.normcase(absolute[len(root_prefix) :])
            if excluded(rel.replace(os.sep, "/") if os.sep != "/" else rel) is not None:
                return True
        for g in gitignores:
            if absolute.startswith(g.prefix) and g.ignored_absolute(absolute, is_dir):
                return True
        return False

    return ignored


@dataclass(slots=True)
class Discovered:
    files: list[Path]
    errors: list[tuple[str, str]]
    # each file's `os.stat` as the walk took it: the run's cache key and the deferral index
    # take it from here rather than stat every file again (0.03 s per 9,000 files each)
    stats: list[os.stat_result] | None = None
    # and its absolute path (`absolute_paths`), which the run's key, the deferral index and
    # linking each computed again (0.025 s per 9,000 files each)
    absolute: list[str] | None = None
    # for each folder it listed, the names `noted` accepted (see `iter_python_files`): the
    # run's cache key looks for dependency manifests there (listing 2,000 folders again cost
    # 0.035 s, 8% of a warm run over the benchmark corpus)
    listed: dict[str, list[str]] | None = None


def discover(paths: Sequence[Path], config: Config, noted: Callable[[str], object] | None = None) -> Discovered:
    """The Python files under `paths` the way `config` says (see `ignore_predicate`); with
    `noted`, also the names it accepts in each folder listed on the way."""
    errors: list[tuple[str, str]] = []
    stats: list[os.stat_result] = []
    absolute: list[str] = []
    listed: dict[str, list[str]] | None = {} if noted is not None else None
    excludes = (*config.exclude, *config.extend_exclude)
    files = list(iter_python_files(paths, excludes, errors, ignore_predicate(config, paths), stats, absolute, noted, listed))
    return Discovered(files, errors, stats, absolute, listed)
