"""The flake8 adapter (entry point `FDL`): a thin layer over the same engine as `check`.

Configuration: the same `[tool.fastapi-deplint]` table as the CLI (flake8 never reads
`pyproject.toml`), then flake8-style options, one per rule option of that table
(`--fdl-max-depth`, `fdl-auth-dependencies = a,b` in `.flake8`/`setup.cfg`/`tox.ini`), which
win. flake8 applies its own noqa, `--select`/`--ignore` and `--per-file-ignores` on top;
selecting an opt-in family or code in flake8 (`--extend-select FDL7`) also turns it on.

The project graph is built once per flake8 run, in `parse_options`, from the paths flake8
was given — before flake8 starts its `-j` workers: under the `fork` start method they inherit
it. Under `spawn` flake8 re-runs `parse_options` in each worker; the parent has left the
findings in a temporary file named by an environment variable (which spawned workers
inherit), so a worker loads them instead of analysing the project again. Each checker
instance then answers for its own file.

The build shares `check`'s caches: per-file facts, and whole-run entries of its own (see
`run_cache`), so flake8 over an unchanged tree, or one whose edits the findings cannot depend
on, costs the plugin discovery, a `stat` per file and one unpickling.
"""

from __future__ import annotations

import ast
import atexit
import multiprocessing
import os
import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar

from . import __version__

CACHE_ENV = "FASTAPI_DEPLINT_FLAKE8_CACHE"
Findings = dict[str, list[tuple[int, int, str]]]
_STATE: dict[str, Any] = {"key": None, "findings": None, "paths": None, "overrides": {}}


def _norm(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _option_fields() -> list[Any]:
    """Every rule option of the configuration table becomes `--fdl-<key>`."""
    from .config import GENERAL_KEYS, Config

    return [f for f in fields(Config) if f.name not in GENERAL_KEYS]


def _key() -> tuple[str, tuple[str, ...], str]:
    return (os.getcwd(), tuple(_STATE["paths"] or ["."]), repr(sorted(_STATE["overrides"].items())))


def _build(paths: list[str]) -> Findings:
    """The findings of the project under `paths`, by file. From the whole-run cache when no
    file changed since a run with the same settings, or only files that run did not depend on
    (`run_cache`; `check` keeps its own entries); built on all cores otherwise, which is safe
    here: flake8 calls this before it starts its workers.

    Files given (pre-commit) are judged within their projects (`_roots`), as `check` does:
    the record of the last run is shared by any files given, an edit re-analyses only its
    parts, and the rules may skip work whose findings land outside the files given
    (`Context.focus`). Such a narrowed answer is exact for those files only, so it is stored
    for them alone and never becomes the record."""
    import dataclasses

    from . import engine
    from .config import load_config
    from .discover import discover
    from .rules._fastapi_version import manifest_name
    from .run_cache import run_slot

    roots = _roots(paths)
    given = sorted({_norm(p) for p in paths if os.path.isfile(p)})
    config = load_config(roots, overrides=_STATE["overrides"] or None)
    found = discover(roots, config, manifest_name)
    settings: list[object] = [os.getcwd(), __version__, "flake8", [str(r) for r in roots], dataclasses.asdict(config)]
    slot = run_slot(
        [*settings, given],
        found.files,
        settings,
        stats=found.stats or (),
        absolute=found.absolute,
        listed=found.listed,
    )
    cached = slot.get() if slot is not None else None
    if isinstance(cached, dict):
        return cached
    main = multiprocessing.parent_process() is None  # a (daemonic) flake8 worker may not fork
    jobs = (os.cpu_count() or 1) if main else 1
    plan = slot.partial() if slot is not None else None
    wanted = set(given) or None
    done = engine.run_part(roots, config, plan, jobs, found=found, wanted=wanted) if plan is not None else None
    if slot is not None and done is not None:  # only the edited parts were analysed again
        project, own, plan, parts, narrowed = done
        mine = {_norm(p) for p in plan.focus | parts.keys()}  # (keys are real paths)
        by_file = {path: entries for path, entries in plan.record.value.items() if path not in mine}
        _add(by_file, own)
        if narrowed:
            slot.put_exact(by_file)  # exact for the files given only
        else:
            slot.put_part(by_file, plan, project, parts)
        return by_file
    project = engine.analyse(roots, config, jobs=jobs, found=found)
    result = engine.run(project, config, jobs=jobs)
    by_file = {}
    _add(by_file, result.findings)
    if slot is not None:
        slot.put(by_file, project=project, parts=engine.parts_to_record(project, result.findings, result.internal_errors))
    return by_file


def _roots(paths: list[str]) -> list[Path]:
    """What to analyse for the paths flake8 was given (absolute, so that `flake8 .` in a
    project and flake8 given its files share the record of the last run): a folder as it is;
    a file, the whole project it belongs to (`config.find_project_root`, as `check` does).
    flake8 as a pre-commit hook is given the changed files, and their findings depend on the
    rest of the project (a route's router, app and dependencies live in other modules):
    analysed alone, a router module showed none. flake8 reports only on the files it was
    given."""
    from .config import find_project_root

    roots: list[Path] = []
    for given in paths or ["."]:
        path = Path(given)
        root = find_project_root(path) if path.is_file() else Path(os.path.abspath(path))
        if root not in roots:
            roots.append(root)
    return roots


def _add(by_file: Findings, findings: list[Any]) -> None:
    for f in findings:
        by_file.setdefault(_norm(f.path), []).append((f.line, f.col, f"{f.code} {f.message}"))


def _share(findings: Findings) -> None:
    """Leave the findings where spawned workers find them (removed when this process ends)."""
    try:
        handle, name = tempfile.mkstemp(prefix="fastapi-deplint-flake8-", suffix=".pickle")
        with os.fdopen(handle, "wb") as out:
            pickle.dump((_key(), findings), out, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        return
    os.environ[CACHE_ENV] = name
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            os.environ.pop(CACHE_ENV, None)
            try:
                os.unlink(name)
            except OSError:
                pass

    atexit.register(remove)


def _shared() -> Findings | None:
    """The parent's findings, in a spawned flake8 worker of the same run."""
    name = os.environ.get(CACHE_ENV)
    if not name or multiprocessing.parent_process() is None:
        return None
    try:
        with open(name, "rb") as handle:
            key, findings = pickle.load(handle)
    except (OSError, pickle.PickleError, EOFError, ValueError, TypeError):
        return None
    return findings if key == _key() else None


def _findings_for(filename: str) -> list[tuple[int, int, str]]:
    key = _key()
    if _STATE["key"] != key or _STATE["findings"] is None:
        _STATE["findings"] = _build(list(_STATE["paths"] or ["."]))
        _STATE["key"] = key
    return _STATE["findings"].get(_norm(filename), [])


class DeplintChecker:
    name: ClassVar[str] = "fastapi-deplint"
    version: ClassVar[str] = __version__

    def __init__(self, tree: ast.AST, filename: str) -> None:
        self.filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        for f in _option_fields():
            flag = "--fdl-" + f.name.replace("_", "-")
            help_text = f"fastapi-deplint: `{f.name.replace('_', '-')}` of [tool.fastapi-deplint]."
            if f.type == "list[str]":
                parser.add_option(flag, default=None, parse_from_config=True, comma_separated_list=True, help=help_text)
            elif f.type == "int":
                parser.add_option(flag, type=int, default=None, parse_from_config=True, help=help_text)
            else:
                parser.add_option(flag, default=None, parse_from_config=True, help=help_text)

    @classmethod
    def parse_options(cls, options: Any) -> None:
        from flake8.exceptions import ExecutionError

        from .config import ConfigError, Config, apply_table

        overrides: dict[str, Any] = {}
        for f in _option_fields():
            value = getattr(options, "fdl_" + f.name, None)
            if isinstance(value, list):
                value = [v for v in value if v]
            if value not in (None, "", []):
                if f.type == "bool" and isinstance(value, str):
                    value = {"true": True, "false": False}.get(value.strip().lower(), value)
                overrides[f.name.replace("_", "-")] = value
        chosen = [*(getattr(options, "select", None) or []), *(getattr(options, "extend_select", None) or [])]
        # `--select FDL` only picks the plugin's codes (the flake8 idiom); naming a family or a
        # code (`--extend-select FDL7`) also turns its opt-in rules on, as in the CLI
        opt_in = [c for c in chosen if c.upper().startswith("FDL") and len(c.strip()) > 3]
        if opt_in:
            overrides["extend-select"] = opt_in
        try:
            apply_table(Config(), overrides, "flake8 options")  # a bad value fails here, clearly
        except ConfigError as exc:
            raise ExecutionError(f"fastapi-deplint: {exc}") from None
        _STATE["overrides"] = overrides
        _STATE["paths"] = [p for p in (getattr(options, "filenames", None) or ["."]) if p != "-"] or ["."]
        _STATE["key"] = None
        shared = _shared()
        if shared is not None:
            _STATE["findings"], _STATE["key"] = shared, _key()
            return
        # build now, in the main process, so workers share the result
        try:
            _findings_for("")
        except ConfigError as exc:
            raise ExecutionError(f"fastapi-deplint: {exc}") from None
        if multiprocessing.parent_process() is None and multiprocessing.get_start_method() != "fork":
            _share(_STATE["findings"])  # workers will not inherit this process's memory

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for line, col, text in _findings_for(self.filename):
            yield line, col, text, type(self)
