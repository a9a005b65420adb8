"""`.gitignore` matching for discovery (the `respect-gitignore` setting), without a dependency.

Implements git's rules (gitignore(5)): blank lines and `#` comments skipped, `\\` escapes,
trailing spaces trimmed unless escaped, `!` re-includes, a trailing `/` matches directories
only, a pattern with a `/` before its end is anchored to its file's folder, otherwise it
matches at any depth; `*` and `?` stop at `/`, `**` spans folders, `[...]` classes. Deeper
files override shallower ones and, within a file, the last matching line wins. Files read:
`.git/info/exclude` at the repository root and every `.gitignore` from the repository root
(or, outside a repository, the analysed folder) down to the file. A file inside an ignored
folder is never re-included (git does not look inside it either; the walk prunes it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Pattern:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool


def _translate(glob: str) -> str:
    """A gitignore glob (already stripped of `!`, leading and trailing `/`) as a regex body."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if c == "*":
            if glob.startswith("**", i):
                at_start = i == 0 or glob[i - 1] == "/"
                j = i + 2
                at_end = j == n or glob[j] == "/"
                if at_start and at_end:
                    if j == n:
                        out.append(".*")  # `a/**`: everything inside
                        i = j
                    else:
                        out.append("(?:.*/)?")  # `**/` zero or more folders
                        i = j + 1
                    continue
                out.append("[^/]*")  # `a**b` is just two stars
                i = j
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(c))
            else:
                body = glob[i + 1 : j]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = j
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(glob[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def parse_line(raw: str) -> Pattern | None:
    line = raw.rstrip("\n").rstrip("\r")
    if not line or line.startswith("#"):
        return None
    # trailing spaces are ignored unless escaped with a backslash
    stripped = line.rstrip(" ")
    if stripped != line and stripped.endswith("\\"):
        stripped += " "
    line = stripped
    if not line:
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = line.endswith("/") and not line.endswith("\\/")
    if dir_only:
        line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    body = _translate(line)
    if not anchored:
        body = "(?:.*/)?" + body
    try:
        regex = re.compile(f"^{body}$", re.DOTALL)
    except re.error:
        return None  # git ignores malformed lines too
    return Pattern(regex, negated, dir_only)


def parse(text: str) -> list[Pattern]:
    return [p for p in (parse_line(line) for line in text.splitlines()) if p is not None]


def _read(path: Path) -> list[Pattern]:
    from .discover import open_regular  # never blocks on a `.gitignore` that is a FIFO

    try:
        with open_regular(path) as handle:
            return parse(handle.read().decode("utf-8", "replace"))
    except OSError:
        return []


def git_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder or a worktree file)."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


class GitIgnore:
    """`ignored(path, is_dir)` for paths below `top` (absolute paths or relative to the cwd)."""

    def __init__(self, start: Path) -> None:
        start = Path(os.path.abspath(start))
        repo = git_root(start)
        self.top = repo if repo is not None else (start if start.is_dir() else start.parent)
        self._top = str(self.top)
        self.prefix = self._top.rstrip(os.sep) + os.sep
        self._cache: dict[str, list[Pattern]] = {}
        self._layer_cache: dict[str, list[tuple[str, list[Pattern]]]] = {}
        self._extra: list[Pattern] = _read(repo / ".git" / "info" / "exclude") if repo is not None and (repo / ".git").is_dir() else []

    def _patterns(self, directory: str) -> list[Pattern]:
        found = self._cache.get(directory)
        if found is None:
            name = os.path.join(directory, ".gitignore")
            found = _read(Path(name)) if os.path.lexists(name) else []  # most folders have none
            self._cache[directory] = found
        return found

    def _layers(self, directory: str) -> list[tuple[str, list[Pattern]]]:
        """(folder, patterns) of every non-empty ignore file that applies inside `directory`,
        outermost first (cached per folder: the walk asks for many files of each)."""
        layers = self._layer_cache.get(directory)
        if layers is None:
            if directory == self._top:
                layers = [(self._top, self._extra)] if self._extra else []
            else:
                parent = os.path.dirname(directory)
                layers = list(self._layers(parent)) if parent != directory else []
            own = self._patterns(directory)
            if own:
                layers.append((directory, own))
            self._layer_cache[directory] = layers
        return layers

    def ignored(self, path: str | Path, is_dir: bool) -> bool:
        return self.ignored_absolute(os.path.abspath(path), is_dir)

    def ignored_absolute(self, absolute: str, is_dir: bool) -> bool:
        """`ignored` for a path already made absolute and normal (`os.path.abspath`)."""
        if not absolute.startswith(self.prefix):
            return False
        directory = os.path.dirname(absolute)
        if not (directory == self._top or directory.startswith(self.prefix)):
            return False
        result = False
        for base, patterns in self._layers(directory):
            rel = absolute[len(base) + 1 :] if base != os.sep else absolute[1:]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            for pattern in patterns:
                if pattern.dir_only and not is_dir:
                    continue
                if pattern.regex.match(rel):
                    result = not pattern.negated
        return result
