"""Configuration: `[tool.fastapi-deplint]` in `pyproject.toml`, found by walking up from the
analysed paths, parsed with `tomllib` (never evaluated). Keys use dashes as in ruff."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

# Public-by-design routes (FDL501), matched with fnmatch, case-insensitive, against the full
# path and the endpoint name. Segment-shaped where a bare word would match too much
# (`*auth*` would also match `/authors`, `*live*` `/deliveries`, `*reset*` `/cache/reset`).
DEFAULT_PUBLIC_ROUTES = (
    "*login*",
    "*logout*",
    "*signin*",
    "*sign-in*",
    "*sign_in*",
    "*signup*",
    "*sign-up*",
    "*sign_up*",
    "*register*",
    "*token*",
    "*health*",
    "*/ready",
    "*/readyz",
    "*readiness*",
    "*/live",
    "*/livez",
    "*liveness*",
    "*/ping",
    "ping",
    "*/status",
    "status",
    "*webhook*",
    "*callback*",
    "*oauth*",
    "*/auth",
    "*/auth/*",
    "*docs*",
    "*openapi*",
    "*redoc*",
    "*password*",
    "*forgot*",
    "*verify*",
    "*verification*",
    "*public*",
    "*/version",
    "*changelog*",
    "version",
    "*/metrics",
    "*signout*",
    "*sign-out*",
    "*sign_out*",
    "*.well-known*",
    "*static*",
    "*assets*",
    "*favicon*",
    "*robots.txt",
    "*manifest*",
    # documents served at a file-like path: discovery documents, manifests, feeds, assets
    "*.json",
    "*.xml",
    "*.txt",
    "*.js",
    "*.ico",
    "*.webmanifest",
    "*sitemap*",
    "*:path}*",  # catch-all page routes serving the front end
    "/",
)


class ConfigError(Exception):
    """A bad configuration value; the message names the key and the file."""


@dataclass(slots=True)
class Config:
    select: list[str] = field(default_factory=list)  # empty = every default rule
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    respect_gitignore: bool = True
    src: list[str] = field(default_factory=list)
    max_depth: int = 5
    auth_dependencies: list[str] = field(default_factory=list)
    public_routes: list[str] = field(default_factory=lambda: list(DEFAULT_PUBLIC_ROUTES))
    extend_public_routes: list[str] = field(default_factory=list)
    protected_prefixes: list[str] = field(default_factory=lambda: ["/admin", "/internal"])
    fastapi_version: str | None = None
    resource_factories: list[str] = field(default_factory=list)
    client_factories: list[str] = field(default_factory=list)
    metadata_decorators: list[str] = field(default_factory=list)
    settings_classes: list[str] = field(default_factory=list)  # FDL203: classes (and their subclasses) that read configuration
    output_format: str | None = None  # the CLI's default format (`full` on a terminal else `concise`)
    source: str | None = None  # the pyproject.toml it came from

    def is_selected(self, code: str, default_enabled: bool) -> bool:
        def matches(prefixes: list[str]) -> int:
            best = -1
            for p in prefixes:
                p = p.upper()
                if p == "ALL":
                    p = ""
                if code.startswith(p):
                    best = max(best, len(p))
            return best

        selected = matches(self.select) if self.select else (0 if default_enabled else -1)
        selected = max(selected, matches(self.extend_select))
        ignored = matches(self.ignore)
        return selected >= 0 and selected > ignored


_LIST_KEYS = {f.name for f in fields(Config) if f.type in ("list[str]",)}

TABLE = "tool.fastapi-deplint"
# Keys that select files and rules; every other key of the table is a rule option (the
# flake8 plugin offers each of those as `--fdl-<key>`).
GENERAL_KEYS = frozenset(
    {
        "select",
        "extend_select",
        "ignore",
        "per_file_ignores",
        "exclude",
        "extend_exclude",
        "respect_gitignore",
        "output_format",
        "source",
    }
)
OUTPUT_FORMATS = ("full", "concise", "json", "sarif", "github", "junit")
_SELECTOR_KEYS = frozenset({"select", "extend_select", "ignore"})
_VERSION = re.compile(r"^\d+(\.\d+){0,2}([a-z]+\d*)?$")
_PROJECT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg")


def config_root(config: Config) -> Path | None:
    """The folder of the configuration file: relative settings (`src`, globs) start there."""
    return Path(config.source).resolve().parent if config.source else None


def src_roots(config: Config) -> list[str]:
    base = config_root(config) or Path.cwd()
    return [os.path.normpath(os.path.join(base, s)) for s in config.src]


def _has_table(pyproject: Path) -> bool:
    """Whether `pyproject` holds our table; a broken file that mentions it is an error."""
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "fastapi-deplint" not in text:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from None
    return "fastapi-deplint" in data.get("tool", {})


def find_pyproject(paths: list[Path]) -> Path | None:
    """The nearest `pyproject.toml` with a `[tool.fastapi-deplint]` table, walking up from
    each given path in turn."""
    starts = [Path(os.path.abspath(p)) for p in paths] or [Path.cwd()]
    for start in starts:
        directory = start if start.is_dir() else start.parent
        for candidate in (directory, *directory.parents):
            pyproject = candidate / "pyproject.toml"
            if pyproject.is_file() and _has_table(pyproject):
                return pyproject
    return None


def find_project_root(path: Path) -> Path:
    """The project a file belongs to: the folder of the nearest `pyproject.toml` that
    configures fastapi-deplint, else of the nearest `pyproject.toml`/`setup.py`/`setup.cfg`,
    else the repository root, else the file's own folder; but a file directly in the home
    folder or a filesystem root is a project of its own (`check script.py` there must not
    walk everything below)."""
    start = Path(os.path.abspath(path))
    directory = start if start.is_dir() else start.parent
    chain = (directory, *directory.parents)
    for candidate in chain:
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_table(pyproject):
            return candidate
    for candidate in chain:
        if any((candidate / marker).is_file() for marker in _PROJECT_MARKERS):
            return candidate
    for candidate in chain:
        if (candidate / ".git").exists():
            return candidate
    if start != directory and (directory == Path(directory.anchor) or directory == _home()):
        return start
    return directory


def _home() -> Path | None:
    try:
        return Path(os.path.abspath(Path.home()))
    except (RuntimeError, KeyError):  # no home folder can be told
        return None


def read_table(source: Path) -> dict[str, Any]:
    """`[tool.fastapi-deplint]` of a `pyproject.toml`; any other TOML file is the table itself."""
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    if source.name != "pyproject.toml" and "tool" not in data:
        return data
    table = data.get("tool", {}).get("fastapi-deplint", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{TABLE}] must be a table")
    return table


def parse_inline(snippet: str) -> dict[str, Any]:
    """`--config "max-depth = 7"`: one TOML `key = value` line."""
    try:
        return tomllib.loads(snippet)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config {snippet!r}: not a path to a TOML file nor a `key = value` TOML line ({exc})") from None


def load_config(
    paths: list[Path],
    explicit: Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    isolated: bool = False,
    inline: list[str] | None = None,
) -> Config:
    """Defaults, then the discovered (or `explicit`) file, then `inline` TOML lines, then
    `overrides` (command-line flags). `isolated` skips the file."""
    config = Config()
    source = explicit if explicit is not None else (None if isolated else find_pyproject(paths))
    if source is not None:
        apply_table(config, read_table(source), str(source))
        config.source = str(source)
    for snippet in inline or ():
        apply_table(config, parse_inline(snippet), "--config")
    if overrides:
        apply_table(config, overrides, "command line")
    return config


def _where(origin: str, raw_key: str) -> str:
    if origin in ("command line", "--config", "flake8 options"):
        return f"{origin}: `{raw_key}`"
    return f"{origin}: [{TABLE}] `{raw_key}`"


def _check_selectors(values: list[str], origin: str, raw_key: str) -> list[str]:
    from .rules import all_rules  # late: the rules import this module

    known = [r.code for r in all_rules()] + ["FDL900", "FDL901"]
    result: list[str] = []
    for value in values:
        code = value.strip().upper()
        if code != "ALL" and not any(k.startswith(code) for k in known):
            hint = difflib.get_close_matches(code, known, n=1)
            extra = f" (did you mean {hint[0]}?)" if hint else ""
            raise ConfigError(f"{_where(origin, raw_key)}: unknown rule code or prefix {value!r}{extra}")
        result.append(code)
    return result


def apply_table(config: Config, table: dict[str, Any], origin: str) -> None:
    known = {f.name: f for f in fields(Config) if f.name != "source"}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            names = [k.replace("_", "-") for k in known]
            hint = difflib.get_close_matches(raw_key.replace("_", "-"), names, n=1)
            extra = f" (did you mean `{hint[0]}`?)" if hint else ""
            raise ConfigError(f"{origin}: unknown key `{raw_key}` in [{TABLE}]{extra}")
        where = _where(origin, raw_key)
        expected = known[key].type
        if expected == "list[str]":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where} must be a list of strings, got {value!r}")
            if key in _SELECTOR_KEYS:
                value = _check_selectors(value, origin, raw_key)
        elif expected == "int":
            if isinstance(value, str) and value.strip().isdigit():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{where} must be a positive integer, got {value!r}")
        elif expected == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{where} must be true or false, got {value!r}")
        elif expected == "str | None":
            if not isinstance(value, str):
                raise ConfigError(f"{where} must be a string, got {value!r}")
            if key == "fastapi_version" and not _VERSION.match(value.strip()):
                raise ConfigError(f"{where} must be a version such as \"0.115.2\", got {value!r}")
            if key == "output_format" and value not in OUTPUT_FORMATS:
                raise ConfigError(f"{where} must be one of {', '.join(OUTPUT_FORMATS)}, got {value!r}")
        elif expected == "dict[str, list[str]]":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in value.items()
            ):
                raise ConfigError(f"{where} must map glob patterns to lists of codes, got {value!r}")
            value = {k: _check_selectors(v, origin, f"{raw_key}.{k}") for k, v in value.items()}
        setattr(config, key, value)
