"""Runtime side of the differential oracle: FastAPI's own view of dependencies.

Imports every module under a root directory (in disposable worker
subprocesses), finds the module-level ``FastAPI`` / ``APIRouter`` instances and
walks the *effective* dependency tree FastAPI built for each route.  The result
is the ground truth that ``scripts/oracle_diff.py`` compares with the static
graph of ``fastapi_deplint``.

Public API::

    runtime_pairs(root, files=None, timeout_per_module=10)
        -> (dict endpoint_key -> set of dependency names, list of failure messages)

    collect_runtime(root, ...) -> RuntimeResult     # same data plus details

Dependency naming (shared with the static side):

* ``functools.partial``          -> name of the wrapped callable (nested partials unwrapped)
* function / class               -> last dotted part of ``__qualname__``
                                    (``require_role.<locals>.checker`` -> ``checker``)
* bound method                   -> the method's ``__name__``
* anything else (callable obj)   -> ``f"{type(obj).__name__}()"``, except objects
                                    with ``__wrapped__`` (``functools.lru_cache`` /
                                    ``cache``): the wrapped callable's name
                                    (``@lru_cache def get_settings`` -> ``get_settings``)

Endpoints are keyed ``f"{endpoint.__module__}.{endpoint.__qualname__}"``.

Isolation model: files are grouped into at most ``workers`` batches, each run
by one worker subprocess that imports the modules one after another.  After
each module the worker evicts every module that was loaded from the module's
``sys.path`` root, so two files that both import as e.g. ``main`` never see
each other.  A module that hangs (per-module timeout) or kills its
interpreter (``os._exit``, segfault) only costs that module: the worker is
killed/restarted and carries on with the rest of the batch.

This file is also the worker's entry point: ``python oracle_runtime.py
--worker JOBS.json``.  It depends only on the stdlib in the parent process;
the worker needs ``fastapi`` importable.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

DEFAULT_TIMEOUT_PER_MODULE: float = 10.0
DEFAULT_WORKERS: int = 2
#: A worker process is recycled after this many modules, bounding how long
#: global state leaked by user code (monkeypatching, caches) can linger.
MODULES_PER_WORKER: int = 150
#: Time a fresh worker may take to import fastapi before it reports "ready".
WORKER_STARTUP_TIMEOUT: float = 60.0
#: Directory names never descended into when discovering modules.
SKIP_DIR_NAMES: frozenset[str] = frozenset(
    {
        "__pycache__",
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "site-packages",
        "build",
        "dist",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


# --------------------------------------------------------------------------
# Data model (plain, JSON-serialisable)
# --------------------------------------------------------------------------


@dataclass
class ModuleJob:
    """One module to import inside a worker."""

    index: int
    file: str  # absolute path of the .py file
    module: str  # dotted import name
    sys_path_root: str  # directory that goes on sys.path (above the top package)
    scope_root: str  # endpoints must live in a file under this directory


@dataclass
class RuntimeRoute:
    """One effective route (one mounting of one endpoint)."""

    endpoint: str  # "<module>.<qualname>"
    path: str
    methods: list[str]
    kind: str  # "http" | "websocket"
    dependencies: list[str]  # transitive dependency names (sorted, unique)
    source_module: str  # module whose globals held the app/router
    endpoint_file: str = ""  # file of the endpoint's module
    endpoint_line: int = 0  # first line of the endpoint's code (0 if unknown)


@dataclass
class ModuleResult:
    """Outcome of importing one module."""

    file: str
    module: str
    ok: bool
    error: str = ""
    seconds: float = 0.0
    apps: int = 0  # FastAPI/APIRouter instances found among the globals
    routes: list[RuntimeRoute] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # non-fatal oddities


@dataclass
class RuntimeResult:
    """Everything ``collect_runtime`` found under one root."""

    root: str
    modules: list[ModuleResult]
    pairs: dict[str, set[str]]  # endpoint key -> dependency names (union)
    failures: list[str]  # human-readable failure messages
    seconds: float

    def ambiguous_keys(self) -> dict[str, list[str]]:
        """Endpoint keys shared by several distinct functions ("file:line" each).

        E.g. two non-package files that both import as ``main``, or a module
        that redefines a function name.  Their dependency sets are unioned.
        """
        locations: dict[str, set[str]] = {}
        for route in self.routes:
            locations.setdefault(route.endpoint, set()).add(
                f"{route.endpoint_file}:{route.endpoint_line}"
            )
        return {k: sorted(v) for k, v in sorted(locations.items()) if len(v) > 1}

    @property
    def notes(self) -> list[str]:
        """Non-fatal oddities (unkeyable endpoints, broken routers...)."""
        return [f"{m.module}: {note}" for m in self.modules for note in m.notes]

    @property
    def imported(self) -> int:
        return sum(1 for m in self.modules if m.ok)

    @property
    def failed(self) -> int:
        return sum(1 for m in self.modules if not m.ok)

    @property
    def routes(self) -> list[RuntimeRoute]:
        return [r for m in self.modules for r in m.routes]

    def endpoint_paths(self) -> dict[str, list[str]]:
        """endpoint key -> sorted "METHODS path" strings, for reporting."""
        out: dict[str, set[str]] = {}
        for route in self.routes:
            label = f"{','.join(route.methods) or route.kind.upper()} {route.path}"
            out.setdefault(route.endpoint, set()).add(label)
        return {key: sorted(labels) for key, labels in out.items()}


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def runtime_pairs(
    root: Path,
    files: list[Path] | None = None,
    timeout_per_module: float = DEFAULT_TIMEOUT_PER_MODULE,
) -> tuple[dict[str, set[str]], list[str]]:
    """Return ``(endpoint -> dependency names, failure messages)`` for ``root``."""
    result = collect_runtime(root, files, timeout_per_module=timeout_per_module)
    return result.pairs, result.failures


def collect_runtime(
    root: Path,
    files: list[Path] | None = None,
    *,
    timeout_per_module: float = DEFAULT_TIMEOUT_PER_MODULE,
    workers: int = DEFAULT_WORKERS,
    python: str | None = None,
) -> RuntimeResult:
    """Import all modules under ``root`` in subprocesses and collect routes."""
    started = time.monotonic()
    root = Path(root).resolve()
    paths = sorted(iter_python_files(root)) if files is None else sorted(
        {Path(f).resolve() for f in files}
    )

    jobs: list[ModuleJob] = []
    modules: list[ModuleResult] = []
    for path in paths:
        sys_path_root, module = module_name_for(path)
        if not all(part.isidentifier() for part in module.split(".")):
            modules.append(
                ModuleResult(
                    file=str(path),
                    module=module,
                    ok=False,
                    error="not an importable module name",
                )
            )
            continue
        jobs.append(
            ModuleJob(
                index=len(jobs),
                file=str(path),
                module=module,
                sys_path_root=str(sys_path_root),
                scope_root=str(root),
            )
        )

    modules.extend(
        _run_jobs(
            jobs,
            timeout_per_module=timeout_per_module,
            workers=max(1, min(workers, DEFAULT_WORKERS)),
            python=python or sys.executable,
        )
    )
    modules.sort(key=lambda m: m.file)

    pairs: dict[str, set[str]] = {}
    for mod in modules:
        for route in mod.routes:
            pairs.setdefault(route.endpoint, set()).update(route.dependencies)
    failures = [f"{m.module} ({m.file}): {m.error}" for m in modules if not m.ok]
    return RuntimeResult(
        root=str(root),
        modules=modules,
        pairs=pairs,
        failures=failures,
        seconds=time.monotonic() - started,
    )


def iter_python_files(root: Path) -> Iterator[Path]:
    """Yield every ``.py`` file under ``root`` (or ``root`` itself if a file)."""
    if root.is_file():
        if root.suffix == ".py":
            yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIR_NAMES and not d.startswith(".")
        )
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield Path(dirpath) / name


def module_name_for(path: Path) -> tuple[Path, str]:
    """Return ``(sys.path root, dotted module name)`` for a ``.py`` file.

    Walks up from the file's directory while ``__init__.py`` exists; the
    directory above the topmost package is the ``sys.path`` root.
    ``pkg/__init__.py`` is the module ``pkg``.
    """
    path = Path(path).resolve()
    parts: list[str] = [] if path.name == "__init__.py" else [path.stem]
    directory = path.parent
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        directory = directory.parent
    if not parts:  # a bare __init__.py at the filesystem root; pathological
        parts = [path.parent.name or "__init__"]
    return directory, ".".join(parts)


# --------------------------------------------------------------------------
# Naming and dependant walking (used inside the worker; no fastapi import here)
# --------------------------------------------------------------------------


def dependency_name(call: Any) -> str:
    """Name of a dependency callable, per the oracle's naming convention."""
    import functools
    import inspect

    while isinstance(call, functools.partial):
        call = call.func
    if inspect.ismethod(call):
        return str(call.__name__)
    if isinstance(call, type) or inspect.isfunction(call) or inspect.isbuiltin(call):
        qualname = getattr(call, "__qualname__", None) or getattr(call, "__name__", "")
        return str(qualname).rsplit(".", 1)[-1]
    wrapped = getattr(call, "__wrapped__", None)
    if wrapped is not None and wrapped is not call:
        # functools.lru_cache / cache objects (and other update_wrapper()-style
        # callable objects): name the decorated function, not the cache object,
        # e.g. ``@lru_cache def get_settings`` -> "get_settings".
        return dependency_name(wrapped)
    return f"{type(call).__name__}()"


def dependency_closure(dependant: Any) -> set[str]:
    """Names of every (transitive) sub-dependency of ``dependant``.

    The dependant's own ``call`` (the endpoint) is not included.
    """
    names: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = list(getattr(dependant, "dependencies", None) or [])
    while stack:
        sub = stack.pop()
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        if sub.call is not None:
            names.add(dependency_name(sub.call))
        stack.extend(sub.dependencies or [])
    return names


def endpoint_key(endpoint: Any) -> str | None:
    """``"<module>.<qualname>"`` or None when the endpoint has neither."""
    module = getattr(endpoint, "__module__", None)
    qualname = getattr(endpoint, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return f"{module}.{qualname}"


def iter_dependant_routes(
    router: Any, _seen: set[int] | None = None
) -> Iterator[tuple[Any, Any, Any]]:
    """Yield ``(original_route, effective_route, mount_prefix)`` for a router.

    ``router`` is a ``FastAPI`` app or an ``APIRouter``.  Routes included via
    ``include_router`` are expanded through FastAPI's lazy
    ``_IncludedRouter`` machinery, so ``effective_route`` carries the
    effective ``dependant`` (app/include/router-level dependencies merged in).
    Sub-applications mounted with ``app.mount()`` are descended into too.
    Only ``APIRoute`` / ``APIWebSocketRoute`` are yielded.
    """
    from fastapi import FastAPI, routing as fastapi_routing
    from starlette.routing import Mount

    seen = _seen if _seen is not None else set()
    if id(router) in seen:
        return
    seen.add(id(router))

    routes = router.router.routes if isinstance(router, FastAPI) else router.routes
    iter_with_context = getattr(fastapi_routing, "_iter_routes_with_context", None)
    pairs: Iterable[tuple[Any, Any]] = (
        iter_with_context(routes)
        if iter_with_context is not None
        else ((r, None) for r in routes)  # FastAPI < 0.16x: include is eager
    )
    api_route_types = (fastapi_routing.APIRoute, fastapi_routing.APIWebSocketRoute)
    for original, context in pairs:
        if context is None:
            effective = original
        elif context.starlette_route is not None:  # websocket, mount, starlette route
            effective = context.starlette_route
        else:  # APIRoute: the context itself holds path/dependant/endpoint
            effective = context
        if isinstance(original, api_route_types):
            yield original, effective, ""
        elif isinstance(effective, Mount) and isinstance(
            effective.app, (FastAPI, fastapi_routing.APIRouter)
        ):
            for orig, eff, prefix in iter_dependant_routes(effective.app, seen):
                yield orig, eff, effective.path + prefix


# --------------------------------------------------------------------------
# Parent side: scheduling workers
# --------------------------------------------------------------------------


def _run_jobs(
    jobs: list[ModuleJob], *, timeout_per_module: float, workers: int, python: str
) -> list[ModuleResult]:
    if not jobs:
        return []
    # Contiguous batches keep files of one package/root together (better
    # import-cache reuse inside a worker); sizes are balanced.
    n = min(workers, len(jobs))
    size, extra = divmod(len(jobs), n)
    batches: list[list[ModuleJob]] = []
    start = 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        batches.append(jobs[start:end])
        start = end

    results: list[list[ModuleResult]] = [[] for _ in batches]

    def drive(i: int) -> None:
        results[i] = _run_batch(batches[i], timeout_per_module, python)

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for batch in results for r in batch]


def _run_batch(
    batch: list[ModuleJob], timeout_per_module: float, python: str
) -> list[ModuleResult]:
    """Run one batch, restarting the worker after a hang or crash."""
    done: dict[int, ModuleResult] = {}
    pending = list(batch)
    while pending:
        finished, culprit = _run_worker(
            pending[:MODULES_PER_WORKER], timeout_per_module, python
        )
        done.update(finished)
        if culprit is not None:
            done[culprit[0]] = culprit[1]
        remaining = [job for job in pending if job.index not in done]
        if len(remaining) == len(pending):  # no progress at all: give up on the batch
            for job in remaining:
                done[job.index] = ModuleResult(
                    file=job.file, module=job.module, ok=False,
                    error="worker stopped without making progress",
                )
            break
        pending = remaining
    return [done[job.index] for job in batch if job.index in done]


def _run_worker(
    jobs: list[ModuleJob], timeout_per_module: float, python: str
) -> tuple[dict[int, ModuleResult], tuple[int, ModuleResult] | None]:
    """Run one worker process over ``jobs``.

    Returns the results it produced and, if it died or hung, the result to
    record for the module that was in flight at the time.
    """
    by_index = {job.index: job for job in jobs}
    finished: dict[int, ModuleResult] = {}
    with tempfile.TemporaryDirectory(prefix="oracle-runtime-") as tmp:
        jobs_file = Path(tmp) / "jobs.json"
        jobs_file.write_text(json.dumps([asdict(job) for job in jobs]))
        stderr_path = Path(tmp) / "stderr.txt"
        env = dict(os.environ)
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # don't litter analysed trees
        env.pop("PYTHONSTARTUP", None)
        with open(stderr_path, "wb") as stderr_file:
            proc = subprocess.Popen(
                [python, str(Path(__file__).resolve()), "--worker", str(jobs_file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                env=env,
                start_new_session=True,  # so a hang can be killed with its children
            )
        assert proc.stdout is not None
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        reader = threading.Thread(target=_pump_lines, args=(proc.stdout, events), daemon=True)
        reader.start()

        in_flight: int | None = None
        in_flight_since = 0.0
        culprit: tuple[int, ModuleResult] | None = None
        ready = False
        startup_deadline = time.monotonic() + WORKER_STARTUP_TIMEOUT
        try:
            while True:
                if in_flight is not None:
                    deadline = in_flight_since + timeout_per_module
                elif not ready:
                    deadline = startup_deadline
                else:  # between modules the worker only evicts modules: quick
                    deadline = time.monotonic() + max(60.0, timeout_per_module)
                try:
                    event = events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    if in_flight is None:  # never became ready, or stuck between modules
                        break
                    job = by_index[in_flight]
                    culprit = (
                        in_flight,
                        ModuleResult(
                            file=job.file,
                            module=job.module,
                            ok=False,
                            error=f"timeout: import took longer than {timeout_per_module:g}s",
                            seconds=time.monotonic() - in_flight_since,
                        ),
                    )
                    break
                if event is None:  # EOF: worker exited
                    if in_flight is not None:
                        job = by_index[in_flight]
                        try:
                            proc.wait(timeout=5)
                        except subprocess.TimeoutExpired:
                            pass
                        culprit = (
                            in_flight,
                            ModuleResult(
                                file=job.file,
                                module=job.module,
                                ok=False,
                                error=(
                                    f"worker died (exit code {proc.returncode}) while importing; "
                                    f"stderr tail: {_tail(stderr_path)}"
                                ),
                                seconds=time.monotonic() - in_flight_since,
                            ),
                        )
                    break
                kind = event.get("event")
                if kind == "ready":
                    ready = True
                elif kind == "start":
                    in_flight = int(event["index"])
                    in_flight_since = time.monotonic()
                elif kind == "result":
                    result = _module_result_from_json(event["result"])
                    finished[int(event["index"])] = result
                    in_flight = None
                elif kind == "end":
                    break
        finally:
            _kill(proc)
            reader.join(timeout=5)
        if not ready and not finished and culprit is None:
            tail = _tail(stderr_path)
            for job in jobs:
                finished[job.index] = ModuleResult(
                    file=job.file, module=job.module, ok=False,
                    error=f"worker failed to start: {tail}",
                )
    return finished, culprit


def _pump_lines(stream: IO[bytes], events: queue.Queue[dict[str, Any] | None]) -> None:
    for raw in stream:
        try:
            events.put(json.loads(raw))
        except ValueError:
            continue  # not ours (should not happen: user stdout goes to /dev/null)
    events.put(None)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill the worker we started (and its process group) if still alive."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (OSError, AttributeError):
            proc.kill()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    if proc.stdout is not None:
        proc.stdout.close()


def _tail(path: Path, limit: int = 400) -> str:
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return ""
    return " | ".join(text[-limit:].splitlines()[-5:])


def _module_result_from_json(data: dict[str, Any]) -> ModuleResult:
    routes = [RuntimeRoute(**r) for r in data.pop("routes", [])]
    return ModuleResult(routes=routes, **data)


# --------------------------------------------------------------------------
# Worker side
# --------------------------------------------------------------------------


def _worker_main(jobs_file: str) -> None:
    # The protocol goes to a private duplicate of stdout; fd 1 itself (and so
    # any print() or C-level write from user code) is sent to /dev/null.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 0)

    def emit(payload: dict[str, Any]) -> None:
        proto.write(json.dumps(payload) + "\n")
        proto.flush()

    # sys.path[0] is this file's directory: it must not shadow user modules.
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p and Path(p).resolve() != Path(here)]

    import warnings

    warnings.simplefilter("ignore")
    import importlib

    # Warm the import cache before timing modules (most test modules use the
    # TestClient, which needs httpx: optional).
    for name in ("fastapi", "fastapi.routing", "fastapi.testclient"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass

    jobs = [ModuleJob(**j) for j in json.loads(Path(jobs_file).read_text())]
    baseline_path = list(sys.path)
    baseline_cwd = os.getcwd()
    baseline_argv = list(sys.argv)
    baseline_modules = frozenset(sys.modules)
    emit({"event": "ready"})
    for job in jobs:
        emit({"event": "start", "index": job.index})
        started = time.monotonic()
        try:
            result = _import_and_extract(job)
        except BaseException as exc:  # noqa: BLE001 - SystemExit & co. included
            result = ModuleResult(
                file=job.file, module=job.module, ok=False,
                error=f"extraction failed: {type(exc).__name__}: {exc}"[:500],
            )
        result.seconds = round(time.monotonic() - started, 4)
        emit({"event": "result", "index": job.index, "result": asdict(result)})
        _evict_user_modules(Path(job.sys_path_root), keep=baseline_modules)
        sys.path[:] = baseline_path
        sys.argv[:] = baseline_argv
        try:
            os.chdir(baseline_cwd)
        except OSError:
            pass
    emit({"event": "end"})
    proto.flush()
    os._exit(0)  # skip atexit hooks / non-daemon threads started by user code


def _import_and_extract(job: ModuleJob) -> ModuleResult:
    import importlib

    result = ModuleResult(file=job.file, module=job.module, ok=False)
    sys.path.insert(0, job.sys_path_root)
    sys.argv[:] = [job.file]
    os.chdir(job.sys_path_root)  # relative paths (StaticFiles, templates) like a project run
    try:
        module = importlib.import_module(job.module)
    except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt ...
        message = (str(exc).strip().splitlines() or [""])[0]
        result.error = f"{type(exc).__name__}: {message}"[:300]
        return result
    module_file = getattr(module, "__file__", None)
    if module_file is None or Path(module_file).resolve() != Path(job.file):
        result.error = f"name clash: {job.module!r} resolved to {module_file!r}"
        return result
    result.ok = True
    _extract_routes(module, job, result)
    return result


def _extract_routes(module: Any, job: ModuleJob, result: ModuleResult) -> None:
    from fastapi import APIRouter, FastAPI
    from fastapi.routing import APIWebSocketRoute

    scope_root = Path(job.scope_root)
    seen_routers: set[int] = set()
    file_cache: dict[str, str | None] = {}
    for global_name, value in sorted(vars(module).items(), key=lambda kv: kv[0]):
        if not isinstance(value, (FastAPI, APIRouter)) or id(value) in seen_routers:
            continue
        result.apps += 1
        try:
            routes = list(iter_dependant_routes(value, seen_routers))
        except Exception as exc:  # noqa: BLE001 - broken user router
            message = f"{global_name}: route iteration failed: {type(exc).__name__}: {exc}"
            result.notes.append(message[:300])
            continue
        for original, effective, prefix in routes:
            endpoint = getattr(effective, "endpoint", None) or getattr(original, "endpoint", None)
            key = endpoint_key(endpoint)
            if key is None:
                result.notes.append(f"{global_name}: unkeyable endpoint {endpoint!r}"[:300])
                continue
            endpoint_file = _endpoint_file_in_scope(endpoint, scope_root, file_cache)
            if endpoint_file is None:
                continue
            dependant = getattr(effective, "dependant", None)
            try:
                names = dependency_closure(dependant) if dependant is not None else set()
            except Exception as exc:  # noqa: BLE001
                result.notes.append(f"{key}: dependant walk failed: {exc}"[:300])
                continue
            methods = sorted(getattr(effective, "methods", None) or [])
            result.routes.append(
                RuntimeRoute(
                    endpoint=key,
                    path=prefix + str(getattr(effective, "path", "") or ""),
                    methods=methods,
                    kind="websocket" if isinstance(original, APIWebSocketRoute) else "http",
                    dependencies=sorted(names),
                    source_module=job.module,
                    endpoint_file=endpoint_file,
                    endpoint_line=_first_line(endpoint),
                )
            )


def _endpoint_file_in_scope(
    endpoint: Any, scope_root: Path, cache: dict[str, str | None]
) -> str | None:
    """File of the endpoint's module if it lies under ``scope_root``, else None."""
    module_name = getattr(endpoint, "__module__", None)
    if not isinstance(module_name, str):
        return None
    if module_name not in cache:
        module = sys.modules.get(module_name)
        module_file = getattr(module, "__file__", None)
        found: str | None = None
        if module_file:
            try:
                resolved = Path(module_file).resolve()
                if resolved.is_relative_to(scope_root):
                    found = str(resolved)
            except OSError:
                found = None
        cache[module_name] = found
    return cache[module_name]


def _first_line(endpoint: Any) -> int:
    import inspect

    try:
        code = getattr(inspect.unwrap(endpoint), "__code__", None)
    except ValueError:  # unwrap cycle
        code = None
    return int(getattr(code, "co_firstlineno", 0) or 0)


def _evict_user_modules(sys_path_root: Path, keep: frozenset[str]) -> None:
    """Forget every module loaded from ``sys_path_root`` (incl. namespace pkgs).

    Modules already loaded before the first job (``keep``) are never evicted.
    """
    root = sys_path_root.resolve()

    def under_root(location: Any) -> bool:
        try:
            return isinstance(location, str) and Path(location).resolve().is_relative_to(root)
        except (OSError, ValueError):
            return False

    for name, module in list(sys.modules.items()):
        if module is None or name in keep:
            continue
        location = getattr(module, "__file__", None)
        search_path = getattr(module, "__path__", None)
        if under_root(location) or (
            location is None and search_path is not None
            and any(under_root(p) for p in list(search_path))
        ):
            del sys.modules[name]
    import importlib

    importlib.invalidate_caches()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        _worker_main(sys.argv[2])
    else:
        print(f"usage: {sys.argv[0]} --worker JOBS.json", file=sys.stderr)
        sys.exit(2)
