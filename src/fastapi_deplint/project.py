"""Building a `ProjectGraph` from paths: discover -> facts (per file) -> link."""

from __future__ import annotations

import functools
import gc
import os
import pickle
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .discover import absolute_paths, iter_python_files
from .facts.model import ModuleFacts
from .graph.link import link
from .graph.model import ProjectGraph
from .graph.resolve import Loader
from .cache import Deferral, DeferralIndex, FactsCache, Stamp, settle, stamp
from .read_log import logging_reads
from .two_ended import counters, take
from .source import deferred_facts, forget_packages, module_name_for, read_facts


PreScan = tuple[str, bool, dict[str, str]]


def prescan_of(facts: ModuleFacts) -> PreScan:
    return facts.module, facts.is_package, dict(facts.global_calls)


@dataclass(slots=True)
class Project:
    graph: ProjectGraph
    facts: list[ModuleFacts]
    discovery_errors: list[tuple[str, str]] = field(default_factory=list)
    # what tells a later run whether an edit can change the findings (see `run_cache`):
    # the files read after the pre-scan (linking, rules; absolute paths), and the pre-scan's
    # verdict on each file it deferred (absolute path -> module, is_package, global_calls)
    reads: set[str] = field(default_factory=set)
    deferred: dict[str, PreScan] = field(default_factory=dict)
    parsed: dict[str, PreScan] = field(default_factory=dict)  # the same for the files parsed up front
    src_roots: tuple[str, ...] = ()  # the `src` setting: module names are not the pre-scan's alone

    @property
    def asked(self) -> set[str]:
        """The module names linking and the rules looked up (`Resolver.asked`)."""
        return self.graph.resolver.asked if self.graph.resolver is not None else set()

    @property
    def file_errors(self) -> list[ModuleFacts]:
        return [f for f in self.facts if f.error is not None]


def display_path(path: Path) -> str:
    """Paths as the user gave them (relative stays relative)."""
    return os.path.normpath(str(path))


def unique_modules(facts: Iterable[ModuleFacts]) -> dict[str, ModuleFacts]:
    """Key modules by name; a second file with the same module name (scripts in different
    folders without `__init__.py`) gets `name#2`, so nothing is silently dropped."""
    modules: dict[str, ModuleFacts] = {}
    for f in facts:
        key = f.module
        n = 1
        while key in modules:
            n += 1
            key = f"{f.module}#{n}"
        if key != f.module:
            f.module = key
        modules[key] = f
    return modules


def build_project(
    paths: Sequence[Path],
    exclude: Sequence[str] = (),
    jobs: int | None = None,
    *,
    src_roots: Sequence[str] = (),
    cache: FactsCache | None = None,
    write_behind: bool = False,
    stats: list[os.stat_result] | None = None,
    absolute: list[str] | None = None,
) -> Project:
    """`src_roots`: absolute folders under which folders without `__init__.py` are namespace
    packages (the `src` setting), see `source.module_name_for`. `cache`: per-file facts are
    loaded from it when the file's bytes were seen before, and stored in it otherwise (in the
    background with `write_behind`, see `collect_facts_parallel`). `stats`: `paths` are the
    files a walk found (`discover.discover`), with their `os.stat`s (and `absolute` paths, if
    known), not to be walked again."""
    errors: list[tuple[str, str]] = []
    files = list(paths) if stats is not None else list(iter_python_files(paths, exclude, errors))
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    absolute = absolute_paths(files, absolute)
    scanned = collect_facts_parallel(files, jobs, cache, write_behind=write_behind, stats=stats, absolute=absolute)
    return _linked(scanned, errors, src_roots, cache, absolute)


def build_part(
    files: Sequence[Path],
    verdicts: dict[str, PreScan],
    read: set[str],
    jobs: int | None = None,
    *,
    src_roots: Sequence[str] = (),
    cache: FactsCache | None = None,
    write_behind: bool = False,
) -> Project:
    """The project as `build_project` sees it, with only the files in `read` (absolute paths)
    read: every other file is taken as deferred, under its last `verdicts` (absolute path ->
    pre-scan; a file without one could not be read or parsed and is left out). Its graph
    holds the parts of the project the files read are in (see `run_cache.Partial`)."""
    absolute = absolute_paths(files)
    wanted = [i for i, a in enumerate(absolute) if a in read]
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)
    fresh = iter(collect_facts_parallel([files[i] for i in wanted], jobs, cache, index=False, write_behind=write_behind))
    scanned: list[ModuleFacts] = []
    with gc_paused():  # over the parts' facts, collections cost a second on litellm (measured)
        for path, a in zip(files, absolute):
            if a in read:
                scanned.append(next(fresh))
                continue
            verdict = verdicts.get(a)
            if verdict is not None:
                stub = deferred_facts(display_path(path), verdict[0], verdict[1])
                stub.global_calls = dict(verdict[2])
                scanned.append(stub)
    return _linked(scanned, [], src_roots, cache)


def _linked(
    scanned: list[ModuleFacts],
    errors: list[tuple[str, str]],
    src_roots: Sequence[str],
    cache: FactsCache | None,
    absolute: list[str] | None = None,
) -> Project:
    """`absolute`: the scanned files' `absolute_paths`, when known."""
    reads: set[str] = set()
    with gc_paused(), logging_reads(reads):  # the heap is all live facts by now: a collection would only rescan them
        absolute = absolute_paths([f.path for f in scanned], absolute)
        deferred: dict[str, PreScan] = {}
        parsed: dict[str, PreScan] = {}
        for where, f in zip(absolute, scanned):
            if f.error is None:
                (deferred if f.deferred else parsed)[where] = prescan_of(f)
        graph, facts = link_facts(scanned, src_roots, cache)
    # The facts and graph live until the process ends: keep the cyclic GC from rescanning
    # them on every later collection (it cost more than rendering the JSON).
    gc.freeze()
    return Project(graph, facts, errors, reads, deferred, parsed, tuple(src_roots))


def link_facts(
    scanned: list[ModuleFacts], src_roots: Sequence[str] = (), cache: FactsCache | None = None
) -> tuple[ProjectGraph, list[ModuleFacts]]:
    """Link the facts of every file into the graph. Returns the graph and the facts of the
    parsed files, a list that grows as rules parse deferred modules on demand."""
    if src_roots:
        scanned = [_under_src_roots(f, tuple(src_roots)) for f in scanned]
    facts = [f for f in scanned if not f.deferred]
    # parsed and deferred modules share one namespace: two namespace-package files with one
    # name must both stay reachable, whichever of them the pre-scan deferred
    named = unique_modules(f for f in scanned if f.error is None)
    modules = {name: f for name, f in named.items() if not f.deferred}

    def load(name: str, path: str) -> ModuleFacts:
        loaded = read_facts(Path(path), path, src_roots=tuple(src_roots), cache=cache)
        loaded.module = name
        facts.append(loaded)  # its FDL901, if any, is reported like any other file's
        return loaded

    deferred: dict[str, tuple[str, Loader]] = {
        name: (f.path, functools.partial(load, path=f.path)) for name, f in named.items() if f.deferred
    }
    graph = link(modules, deferred)
    if graph.resolver is not None:
        for f in named.values():
            for name, callee in f.global_calls.items():
                graph.resolver.deferred_calls.setdefault(name, set()).add(callee)
    return graph, facts


def _under_src_roots(facts: ModuleFacts, src_roots: tuple[str, ...]) -> ModuleFacts:
    """Rename a module found under a `src` root; a parsed one is read again, since its
    relative imports were resolved against the old name (only namespace-package files)."""
    name, _ = module_name_for(Path(facts.path), src_roots)
    if name == facts.module:
        return facts
    if facts.deferred or facts.error is not None:
        facts.module = name
        return facts
    return read_facts(Path(facts.path), facts.path, prescan=True, src_roots=src_roots)  # not cached: rare




@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing allocates millions of short-lived AST nodes that trigger the cyclic GC over and
    over (measured: a third of extraction time). Trees and facts are freed by refcounting.

    On the way out everything still alive moves to the permanent generation (`gc.freeze`):
    the facts built inside live until the process ends, and the first collection after a
    plain `gc.enable()` scanned all of them as young objects (0.59 s after the facts phase
    and 0.19 s after the rules on the benchmark corpus, measured with `gc.callbacks`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


CHUNK_FILES = 16  # files per unit of parallel work: small, so the tails of all processes meet
# how long a worker parses before it sends what it has: the parent unpickles each installment
# between its own chunks, and only the last one after the ends met. A count of chunks (a
# quarter of them) made the worker on FastAPI's sdist, which takes the largest files first,
# send everything at the end: 0.04 s of unpickling while the worker idled.
INSTALLMENT_SECONDS = 0.05
RESULTS_PIPE_BYTES = 1 << 20  # Linux's default limit for an unprivileged process (`pipe-max-size`)
MIN_WRITE_BEHIND = 64  # new cache entries from which they are written in the background


def _worker_init(work: Work) -> None:
    # Workers only allocate: no cyclic garbage worth collecting, and pickling the results
    # back with the collector on costs as much as the parsing (measured).
    global _work
    gc.disable()
    _work = work
    cache = work[2]
    if cache is not None and cache.held is not None:  # a fork of a parent that holds its entries
        cache.hold(pickled=True)


def _facts_chunk(paths: list[str], cache: FactsCache | None) -> list[tuple[bytes, str | None]]:
    """Facts of a worker's files, each pickled once: the bytes written to the cache, or read
    from it, are the bytes sent to the parent (pickling twice cost a second on the benchmark
    corpus). The parent sets each one's path (a cache hit's bytes may hold another). With
    each, the cache key under which the parent is to write it, when the worker's cache holds
    its entries back (`FactsCache.write_held`)."""
    blobs: list[tuple[bytes, str | None]] = []
    for p in paths:
        facts = read_facts(Path(p), p, prescan=True, cache=cache)
        held = cache.held.pop() if cache is not None and cache.held else None
        if held is not None:
            blobs.append((held[1], held[0]))  # type: ignore[arg-type]  # (a worker holds pickles)
            continue
        for stored in (cache.last_put, cache.last_get) if cache is not None else ():
            if stored is not None and stored[0] is facts:
                blobs.append((stored[1], None))
                break
        else:
            blobs.append((pickle.dumps(facts, pickle.HIGHEST_PROTOCOL), None))
    return blobs


def _known_deferred(path: Path, absolute: str, display: str, index: DeferralIndex, now: Stamp | None) -> ModuleFacts | None:
    """The empty facts of a file the pre-scan deferred before, unchanged since (by its stamp);
    None when it must be read. Nothing is opened: files that are read, and the cache lookups
    of the parsed ones, run on all cores (`read_facts`)."""
    if now is None:
        return None
    known = index.get(absolute, now)
    if known is None:  # (every file of a first run: no need to name its module)
        return None
    try:
        module, is_package = module_name_for(path)
    except (OSError, ValueError):
        return None
    if known[1:3] != (module, is_package):
        return None
    facts = deferred_facts(display, module, is_package)
    facts.global_calls = dict(known[3])
    return facts


def _stamp(path: Path) -> Stamp | None:
    try:
        return stamp(os.stat(path))
    except OSError:
        return None


def _remember_deferred(
    absolute: list[str], stamps: list[Stamp | None], results: list[ModuleFacts | None], index: DeferralIndex, started_ns: int
) -> None:
    """Record the deferred files under the stamps taken *before* they were read: one that
    changed in between is then stamped old and read again next time."""
    entries: dict[str, Deferral] = {}
    with gc_paused():  # every facts object is alive by now: a collection would rescan them all
        for path, now, facts in zip(absolute, stamps, results):
            if now is not None and facts is not None and facts.deferred and facts.error is None:
                entries[path] = (now, facts.module, facts.is_package, facts.global_calls)
        index.save(entries, started_ns)


def collect_facts_parallel(
    files: list[Path],
    jobs: int,
    cache: FactsCache | None = None,
    index: bool = True,
    write_behind: bool = False,
    stats: list[os.stat_result] | None = None,
    absolute: list[str] | None = None,
) -> list[ModuleFacts]:
    """Facts of many files on `jobs` processes (order preserved): `jobs - 1` workers and the
    parent itself. With a cache, files the pre-scan deferred before and that did not change
    are not opened; the others are read, and parsed unless their bytes were seen before. Falls
    back to one process when a pool cannot start (restricted sandboxes); results are
    identical either way. `index`: use (and update) the deferral index of the files' folder.
    `write_behind` (with more than one job): new cache entries are written by a background
    process once all facts are in (`FactsCache.write_held`; `cache.settle` waits for it).
    `stats`: the files' `os.stat`s, taken by the walk that found them (before any was read);
    `absolute`: their `absolute_paths`, when known."""
    forget_packages()  # `__init__.py` files may have come or gone since the last run
    settle()  # a previous run's entries, still being written in the background
    write_behind = write_behind and cache is not None and jobs > 1
    if write_behind:
        cache.hold()  # type: ignore[union-attr]
    names = [display_path(p) for p in files]
    results: list[ModuleFacts | None] = [None] * len(names)
    todo = list(range(len(names)))
    started_ns = time.time_ns()
    with gc_paused():
        absolute = absolute_paths(files, absolute) if cache is not None else []
        deferrals = DeferralIndex(cache, os.path.commonpath(absolute)) if cache is not None and files and index else None
        if deferrals is None:
            stamps: list[Stamp | None] = []
        elif stats is not None and len(stats) == len(files):
            stamps = [stamp(st) for st in stats]
        else:
            stamps = [_stamp(f) for f in files]
        if deferrals is not None:
            for i in todo:
                results[i] = _known_deferred(files[i], absolute[i], names[i], deferrals, stamps[i])
            todo = [i for i in todo if results[i] is None]
        if jobs <= 1 or len(todo) < 64:
            for i in todo:
                results[i] = read_facts(files[i], names[i], prescan=True, cache=cache)
            todo = []
    if todo:
        if stats is not None and len(stats) == len(files):
            # largest first: the workers take chunks from the front, this process from the
            # back, and where they meet the chunks are small (FastAPI's sdist, in path order,
            # left a worker parsing `fastapi/` for 0.07 s while this process waited)
            todo.sort(key=lambda i: -stats[i].st_size)
        _read_in_parallel(files, names, results, todo, jobs, cache)
    remember = None if deferrals is None else lambda: _remember_deferred(absolute, stamps, results, deferrals, started_ns)
    if write_behind:  # (a few entries are written at once: a fork of a large heap costs more)
        cache.write_held(len(cache.held or ()) >= MIN_WRITE_BEHIND, also=remember)  # type: ignore[union-attr]
    elif remember is not None:
        remember()
    return [f for f in results if f is not None]


def _read_in_parallel(
    files: list[Path], names: list[str], results: list[ModuleFacts | None], todo: list[int], jobs: int, cache: FactsCache | None
) -> None:
    """Small chunks of files, taken by the workers from the front and by the parent from the
    back (`two_ended`; fixed shares left a core idle for a second on the benchmark corpus).
    The pool's own queue cannot hand out small chunks: a thread of the parent feeds it, which
    waits for the GIL while the parent parses, and the workers starve meanwhile."""
    import concurrent.futures
    import multiprocessing

    chunks = [todo[i : i + CHUNK_FILES] for i in range(0, len(todo), CHUNK_FILES)]
    try:
        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        ends = counters(context, len(chunks))
        work = (ends, [[names[i] for i in chunk] for chunk in chunks], cache)
        with gc_paused(), concurrent.futures.ProcessPoolExecutor(
            jobs - 1, mp_context=context, initializer=_worker_init, initargs=(work,)
        ) as pool:
            _widen_results_pipe(pool)
            # two calls per worker in flight (one running, one queued), a new one submitted
            # as one comes back (looked for after each of this process's files), while
            # chunks are left
            calls = [pool.submit(_facts_from_front, INSTALLMENT_SECONDS) for _ in range(2 * (jobs - 1))]

            def collect() -> None:
                for call in [c for c in calls if c.done()]:
                    calls.remove(call)
                    _unpickle(call.result(), chunks, names, results, cache)
                    if ends[0] < ends[1]:
                        calls.append(pool.submit(_facts_from_front, INSTALLMENT_SECONDS))

            while (mine := take(ends, from_front=False)) is not None:
                for i in chunks[mine]:
                    results[i] = read_facts(files[i], names[i], prescan=True, cache=cache)
                    collect()
            for call in calls:
                _unpickle(call.result(), chunks, names, results, cache)
    except (OSError, RuntimeError, concurrent.futures.process.BrokenProcessPool):
        with gc_paused():
            for i in todo:
                if results[i] is None:
                    results[i] = read_facts(files[i], names[i], prescan=True, cache=cache)


def _widen_results_pipe(pool: Any) -> None:
    """Let a worker's installment (about 1 MB of pickles for FastAPI's largest files) fit in
    the pipe that carries results back: in a 64 KB pipe the worker waited for the parent to
    read it piece by piece, and the parent's reading thread waited for the GIL while the
    parent parsed (0.11 s of the worker's time on the benchmark corpus). Linux only; the
    pool's result queue is a private attribute, so nothing happens when it is not there."""
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    try:
        import fcntl

        fcntl.fcntl(reader.fileno(), fcntl.F_SETPIPE_SZ, RESULTS_PIPE_BYTES)  # type: ignore[union-attr]
    except (AttributeError, ImportError, OSError, ValueError):
        pass


def _unpickle(
    done: list[tuple[int, list[tuple[bytes, str | None]]]],
    chunks: list[list[int]],
    names: list[str],
    results: list[ModuleFacts | None],
    cache: FactsCache | None,
) -> None:
    for index, blobs in done:
        for i, (blob, key) in zip(chunks[index], blobs):
            facts = pickle.loads(blob)
            facts.path = names[i]  # a cache hit's bytes may hold the path it was first seen at
            results[i] = facts
            if key is not None and cache is not None and cache.held is not None:
                cache.held.append((key, blob))  # the worker's new entry, written with ours


# what a facts worker shares with the parent: the [front, back) counters of the chunks not yet
# taken, every chunk's paths, and the cache (set by the pool's initializer)
Work = tuple[Any, list[list[str]], "FactsCache | None"]
_work: Work | None = None


def _facts_from_front(seconds: float) -> list[tuple[int, list[tuple[bytes, str | None]]]]:
    """In a worker: chunks from the front for about `seconds` (at least one, if any is left),
    as (chunk index, [(facts pickle, cache key to write it under)])."""
    assert _work is not None, "a worker started by `_read_in_parallel`"
    ends, paths, cache = _work
    done: list[tuple[int, list[tuple[bytes, str | None]]]] = []
    until = time.perf_counter() + seconds
    while (not done or time.perf_counter() < until) and (index := take(ends, from_front=True)) is not None:
        done.append((index, _facts_chunk(paths[index], cache)))
    return done
