"""The flake8 adapter (entry point `FDL`): a thin layer over the same engine as `check`.

The project graph is built once per flake8 run, in `parse_options`, from the paths flake8
was given — before flake8 forks its `-j` workers, so they inherit it. Under the `spawn`
start method flake8 re-runs `parse_options` in each worker, which then builds its own copy
(once per worker, never once per file). Each checker instance answers for its own file.
flake8 applies noqa, select/ignore and per-file-ignores itself.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from . import __version__

_STATE: dict[str, Any] = {"key": None, "findings": None, "config": None, "paths": None, "overrides": {}}


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _build(paths: list[str]) -> dict[str, list[tuple[int, int, str]]]:
    from . import engine
    from .config import ConfigError, load_config
    from .project import build_project

    roots = [Path(p) for p in paths] or [Path(".")]
    try:
        config = load_config(roots, overrides=_STATE["overrides"] or None)
    except ConfigError:
        from .config import Config

        config = Config()
    config.ignore = []  # flake8 owns select/ignore
    config.per_file_ignores = {}
    project = build_project(roots, (*config.exclude, *config.extend_exclude), jobs=1)
    result = engine.run(project, config)
    by_file: dict[str, list[tuple[int, int, str]]] = {}
    for f in result.findings:
        by_file.setdefault(_norm(f.path), []).append((f.line, f.col, f"{f.code} {f.message}"))
    return by_file


def _findings_for(filename: str) -> list[tuple[int, int, str]]:
    paths = _STATE["paths"] or ["."]
    key = tuple(paths)
    if _STATE["key"] != key or _STATE["findings"] is None:
        _STATE["findings"] = _build(list(paths))
        _STATE["key"] = key
    return _STATE["findings"].get(_norm(filename), [])


class DeplintChecker:
    name: ClassVar[str] = "fastapi-deplint"
    version: ClassVar[str] = __version__

    def __init__(self, tree: ast.AST, filename: str) -> None:
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.add_option(
            "--fdl-max-depth", type=int, default=None, parse_from_config=True,
            help="fastapi-deplint FDL402: deepest allowed dependency chain (default 5).",
        )
        parser.add_option(
            "--fdl-auth-dependencies", default="", parse_from_config=True, comma_separated_list=True,
            help="fastapi-deplint FDL5xx: extra dependency names that count as auth.",
        )
        parser.add_option(
            "--fdl-fastapi-version", default=None, parse_from_config=True,
            help="fastapi-deplint FDL107: the FastAPI version the project runs.",
        )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        overrides: dict[str, Any] = {}
        if getattr(options, "fdl_max_depth", None):
            overrides["max-depth"] = options.fdl_max_depth
        if getattr(options, "fdl_auth_dependencies", None):
            overrides["auth-dependencies"] = [a for a in options.fdl_auth_dependencies if a]
        if getattr(options, "fdl_fastapi_version", None):
            overrides["fastapi-version"] = options.fdl_fastapi_version
        _STATE["overrides"] = overrides
        _STATE["paths"] = list(getattr(options, "filenames", None) or ["."])
        _STATE["key"] = None
        # build now, in the main process, so forked workers share the result
        try:
            _findings_for("")
        except Exception:  # never break flake8's startup; run() will retry and report
            _STATE["findings"] = None

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for line, col, text in _findings_for(self.filename):
            yield line, col, text, type(self)
