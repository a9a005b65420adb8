"""Which FastAPI version does the analysed project run? Read statically from its files.

Lock files (`uv.lock`, `poetry.lock`, `Pipfile.lock`) give the exact version; otherwise the
requirement is read from `pyproject.toml` (`[project] dependencies` and optional
dependencies, `[tool.poetry.dependencies]`) or `requirements*.txt`, and only counts when every
version it allows behaves the same. The `fastapi-version` config key overrides all of it.
The project root is the nearest folder above an analysed file that holds one of these files.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

Version = tuple[int, int, int]
# FastAPI 0.106.0 moved the teardown of yield dependencies before the response is sent (so
# before background tasks); 0.118.0 moved it back after the response (and its background tasks).
TEARDOWN_BEFORE_BACKGROUND: tuple[Version, Version] = ((0, 106, 0), (0, 118, 0))

# not setup.py: packages often hold a module of that name
MARKERS = ("uv.lock", "poetry.lock", "Pipfile.lock", "pyproject.toml", "setup.cfg")
_REQ = re.compile(r"^\s*fastapi(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=!~]=?|===)[^;#]*)?", re.IGNORECASE)
_CLAUSE = re.compile(r"^\s*(===|==|~=|!=|<=|>=|<|>|\^|~)?\s*v?([0-9][0-9A-Za-z.*+-]*)\s*$")


@dataclass(frozen=True, slots=True)
class Pinned:
    """The versions a project allows: [low, high) (high None = unbounded), and where it said so."""

    low: Version | None
    high: Version | None
    source: str  # "fastapi==0.110.0 (uv.lock)"

    def always_in(self, lo: Version, hi: Version) -> bool:
        return self.low is not None and self.high is not None and self.low >= lo and self.high <= hi


def parse_version(raw: str) -> Version | None:
    parts: list[int] = []
    for piece in raw.strip().split(".")[:3]:
        digits = re.match(r"\d+", piece)
        if digits is None:
            break
        parts.append(int(digits.group()))
    if not parts:
        return None
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def _bump(v: Version, index: int) -> Version:
    if index == 0:
        return (v[0] + 1, 0, 0)
    if index == 1:
        return (v[0], v[1] + 1, 0)
    return (v[0], v[1], v[2] + 1)


def parse_spec(spec: str, source: str) -> Pinned | None:
    """PEP 440 / Poetry constraints: `==0.110.0`, `>=0.106,<0.118`, `~=0.110.0`, `^0.110`,
    `0.110.0` (bare = exact)."""
    low: Version | None = None
    high: Version | None = None
    spec = re.sub(r"([<>=!~^]=?=?)\s+", r"\1", spec.strip())
    clauses = [c for c in re.split(r"[,\s]+(?=[<>=!~^0-9])|,", spec) if c.strip()]
    if not clauses:
        return None
    for clause in clauses:
        m = _CLAUSE.match(clause)
        if m is None:
            return None
        op, raw = m.group(1) or "==", m.group(2)
        wildcard = raw.endswith(".*")
        v = parse_version(raw.rstrip(".*"))
        if v is None:
            return None
        given = len(raw.rstrip(".*").split("."))
        if op in ("==", "===") and wildcard:
            lo, hi = v, _bump(v, min(given - 1, 2))
        elif op in ("==", "==="):
            lo, hi = v, _bump(v, 2)
        elif op == "~=":
            lo, hi = v, _bump(v, max(given - 2, 0))
        elif op == "^":  # Poetry: the left-most non-zero part stays
            index = 0 if v[0] else (1 if v[1] or given < 3 else 2)
            lo, hi = v, _bump(v, index)
        elif op == "~":  # Poetry: patch-level changes only (minor when only the major is given)
            lo, hi = v, _bump(v, 1 if given >= 2 else 0)
        elif op == ">=":
            lo, hi = v, None
        elif op == ">":
            lo, hi = _bump(v, 2), None
        elif op == "<":
            lo, hi = None, v
        elif op == "<=":
            lo, hi = None, _bump(v, 2)
        else:  # != narrows nothing we need
            continue
        if lo is not None:
            low = lo if low is None else max(low, lo)
        if hi is not None:
            high = hi if high is None else min(high, hi)
    return Pinned(low, high, source)


# --- reading the project's files ----------------------------------------------------------------


def _from_lock(path: Path) -> Pinned | None:
    try:
        raw = path.read_text(encoding="utf-8")
        if path.name == "Pipfile.lock":
            data = json.loads(raw)
            entry = data.get("default", {}).get("fastapi") or data.get("develop", {}).get("fastapi")
            spec = entry.get("version") if isinstance(entry, dict) else None
            return parse_spec(spec, f"fastapi{spec} ({path.name})") if isinstance(spec, str) else None
        data = tomllib.loads(raw)
    except (OSError, UnicodeDecodeError, ValueError, tomllib.TOMLDecodeError):
        return None
    for package in data.get("package", []):
        if isinstance(package, dict) and str(package.get("name", "")).lower() == "fastapi":
            version = package.get("version")
            if isinstance(version, str):
                return parse_spec(f"=={version}", f"fastapi=={version} ({path.name})")
    return None


def _from_pyproject(path: Path) -> Pinned | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project", {})
    requirements: list[str] = [r for r in project.get("dependencies", []) if isinstance(r, str)]
    for extra in (project.get("optional-dependencies") or {}).values():
        requirements += [r for r in extra if isinstance(r, str)]
    for requirement in requirements:
        found = _requirement(requirement, path.name)
        if found is not None:
            return found
    poetry = data.get("tool", {}).get("poetry", {}).get("dependencies", {})
    spec = poetry.get("fastapi") if isinstance(poetry, dict) else None
    if isinstance(spec, dict):
        spec = spec.get("version")
    if isinstance(spec, str) and spec.strip() not in ("*", ""):
        return parse_spec(spec, f"fastapi {spec} ({path.name})")
    return None


def _from_requirements(path: Path) -> Pinned | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        found = _requirement(line, path.name)
        if found is not None:
            return found
    return None


def _requirement(line: str, where: str) -> Pinned | None:
    line = re.split(r"\s(?:\\|--)", line, maxsplit=1)[0]  # `\` continuations, `--hash=` options
    m = _REQ.match(line)
    if m is None or not m.group("spec"):
        return None
    spec = m.group("spec").strip()
    return parse_spec(spec, f"fastapi{spec} ({where})")


@lru_cache(maxsize=256)
def _in_folder(folder: Path) -> tuple[bool, Pinned | None]:
    """(is this a project root, what it pins)."""
    lock = next((folder / n for n in ("uv.lock", "poetry.lock", "Pipfile.lock") if (folder / n).is_file()), None)
    requirements = sorted(folder.glob("requirements*.txt")) + sorted(folder.glob("requirements/*.txt"))
    is_root = lock is not None or bool(requirements) or any((folder / n).is_file() for n in MARKERS)
    found = _from_lock(lock) if lock is not None else None
    if found is None and (folder / "pyproject.toml").is_file():
        found = _from_pyproject(folder / "pyproject.toml")
    for req in requirements:
        if found is not None:
            break
        found = _from_requirements(req)
    return is_root, found


def project_fastapi(path: str, override: str | None = None) -> Pinned | None:
    """The FastAPI versions the project holding `path` allows, or None when unknown."""
    if override:
        spec = override.strip()
        if spec[:1].isdigit():
            spec = f"=={spec}"
        return parse_spec(spec, f"fastapi{spec} (fastapi-version setting)")
    try:
        folder = Path(path).resolve().parent
    except OSError:
        return None
    for candidate in (folder, *folder.parents):
        is_root, found = _in_folder(candidate)
        if found is not None:
            return found
        if is_root or (candidate / ".git").exists():
            return None
    return None


# the names `manifest_files` looks for (the folder `requirements/` too), as one C-level test
manifest_name = re.compile(
    "|".join([*map(re.escape, MARKERS), r"requirements", r"requirements.*\.txt"]), re.DOTALL
).fullmatch


def manifest_files(folders: set[str], listed: Mapping[str, Sequence[str]] | None = None) -> list[Path]:
    """Every file `project_fastapi` may read for files in `folders` (absolute, and their
    parents): what a cached result must be keyed by besides the sources (see `cli.run_key`).
    `listed`: the `manifest_name`s of folders that discovery listed already (the others are
    listed here). Folders stay strings (a `Path` per folder of a 9,000-file tree cost 0.1 s)."""
    seen: set[str] = set()
    found: list[Path] = []
    for folder in folders:
        candidate = folder
        while candidate not in seen:
            seen.add(candidate)
            names = listed.get(candidate) if listed is not None else None
            if names is None:
                try:
                    with os.scandir(candidate) as entries:
                        names = [e.name for e in entries if manifest_name(e.name)]
                except OSError:
                    names = []
            found += [Path(candidate, n) for n in names if n != "requirements"]
            if "requirements" in names:
                found += sorted(Path(candidate, "requirements").glob("*.txt"))
            candidate = os.path.dirname(candidate)
    return sorted(found)


def teardown_before_background(pinned: Pinned | None) -> bool:
    """Every allowed version runs yield-dependency teardown before background tasks."""
    return pinned is not None and pinned.always_in(*TEARDOWN_BEFORE_BACKGROUND)
