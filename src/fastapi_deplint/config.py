"""Configuration: `[tool.fastapi-deplint]` in `pyproject.toml`, found by walking up from the
analysed paths, parsed with `tomllib` (never evaluated). Keys use dashes as in ruff."""

from __future__ import annotations

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


def find_pyproject(paths: list[Path]) -> Path | None:
    starts = [p.resolve() for p in paths] or [Path.cwd().resolve()]
    for start in starts:
        directory = start if start.is_dir() else start.parent
        for candidate in (directory, *directory.parents):
            pyproject = candidate / "pyproject.toml"
            if pyproject.is_file():
                try:
                    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                    continue
                if "fastapi-deplint" in data.get("tool", {}):
                    return pyproject
    return None


def load_config(paths: list[Path], explicit: Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    config = Config()
    source = explicit or find_pyproject(paths)
    if source is not None:
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{source}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: invalid TOML: {exc}") from None
        table = data.get("tool", {}).get("fastapi-deplint", {})
        apply_table(config, table, str(source))
        config.source = str(source)
    if overrides:
        apply_table(config, overrides, "command line")
    return config


def apply_table(config: Config, table: dict[str, Any], origin: str) -> None:
    known = {f.name: f for f in fields(Config) if f.name != "source"}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in known:
            raise ConfigError(f"{origin}: unknown key `{raw_key}` in [tool.fastapi-deplint]")
        expected = known[key].type
        if expected == "list[str]":
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{origin}: `{raw_key}` must be a list of strings, got {value!r}")
        elif expected == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{origin}: `{raw_key}` must be a positive integer, got {value!r}")
        elif expected == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{origin}: `{raw_key}` must be true or false, got {value!r}")
        elif expected == "str | None":
            if not isinstance(value, str):
                raise ConfigError(f"{origin}: `{raw_key}` must be a string, got {value!r}")
        elif expected == "dict[str, list[str]]":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, list) and all(isinstance(c, str) for c in v) for k, v in value.items()
            ):
                raise ConfigError(f"{origin}: `{raw_key}` must map glob patterns to lists of codes, got {value!r}")
        setattr(config, key, value)
