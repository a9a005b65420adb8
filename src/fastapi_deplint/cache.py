"""The on-disk cache: per-file facts keyed by content, and whole-run results keyed by the tree.

- **Facts** (`FactsCache`): the `ModuleFacts` of a file, keyed by a hash of its bytes and of
  everything else extraction depends on (module name, package-ness, test-file-ness), under a
  folder named after the tool version and the Python version, so a new release or another
  interpreter never reads an old entry. A warm run re-parses only files whose bytes changed.
- **Results** (`ResultCache`): the findings of a whole run, keyed by the tool version, the
  effective configuration, the command's paths and the (path, size, mtime) of every file
  discovered. A run over an unchanged tree skips reading and parsing entirely.

Entries are written to a temporary file and renamed into place (atomic on POSIX and Windows),
so concurrent runs sharing one cache never see half an entry; an unreadable or corrupt entry is
a miss. The location is `$FASTAPI_DEPLINT_CACHE_DIR`, else `$XDG_CACHE_HOME/fastapi-deplint`,
else `~/.cache/fastapi-deplint`; `--cache-dir` overrides it and `--no-cache` turns it off.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__

if TYPE_CHECKING:  # (imported where facts are read: a run answered from the cache reads none)
    from .facts.model import ModuleFacts

CACHE_ENV = "FASTAPI_DEPLINT_CACHE_DIR"
NO_CACHE_ENV = "FASTAPI_DEPLINT_NO_CACHE"  # set (non-empty) to turn the cache off
MAX_RUNS = 32  # whole-run results kept
SCHEMA = 6  # bump when the pickled shapes change without a version bump (development)


def default_cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastapi-deplint"


def session_cache() -> FactsCache | None:
    """The facts cache this process uses (the CLI's `--no-cache`/`--cache-dir` set the
    environment, so the flake8 plugin and worker processes agree)."""
    if os.environ.get(NO_CACHE_ENV):
        return None
    return FactsCache(default_cache_dir())


def _generation() -> str:
    return f"v{__version__}-s{SCHEMA}-py{sys.version_info[0]}{sys.version_info[1]}"


def _write_atomic(path: Path, payload: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        pass  # a read-only or full disk only costs speed


def _read(path: Path) -> Any:
    return _loads(_read_bytes(path))


def _read_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _loads(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return pickle.loads(data)
    except (EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        return None


class FactsCache:
    def __init__(self, directory: Path) -> None:
        self.root = directory / _generation() / "facts"

    def hold(self, pickled: bool = False) -> None:
        """Keep what `put` stores in memory until `write_held`: the facts, or their pickle
        (`pickled`: a worker's, which sends it on, see `last_put`, for its parent to hold)."""
        self.held = []
        self._pickle_held = pickled

    @staticmethod
    def key(data: bytes, module: str, is_package: bool, display: str) -> str:
        """Everything extraction depends on: the bytes, the module name (relative imports),
        package-ness, and whether the path names a test file."""
        from .source import is_test_file

        digest = hashlib.blake2b(data, digest_size=20)
        digest.update(f"\0{module}\0{is_package:d}{is_test_file(Path(display)):d}".encode())
        return digest.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str, display: str) -> ModuleFacts | None:
        from .facts.model import ModuleFacts

        data = _read_bytes(self._path(key))
        facts = _loads(data)
        if not isinstance(facts, ModuleFacts):
            return None
        self.last_get = (facts, data)  # type: ignore[assignment]
        facts.path = display  # the same bytes may sit at another path
        return facts

    def put(self, key: str, facts: ModuleFacts) -> None:
        if self.held is not None and not self._pickle_held:
            self.held.append((key, facts))
            return
        self.last_put = (facts, pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
        if self.held is not None:
            self.held.append((key, self.last_put[1]))
        else:
            _write_atomic(self._path(key), self.last_put[1])

    def write_held(self, background: bool, also: Callable[[], None] | None = None) -> None:
        """Write the entries held back (and stop holding), then run `also`.

        With `background` (and `fork`), a forked child writes them while this process goes on.
        On a cold run of the benchmark corpus, pickling the parent's own facts and creating
        1,270 files made the facts phase 0.4 s longer than without a cache; written behind,
        during linking (which leaves a core idle), 0.1 s. Linking itself gets 0.07-0.1 s slower
        (pages copied on write), and the whole run 3-6% faster. The child sees the facts as
        they are at the fork, exactly what a `put` at parse time would have written. `settle`
        waits for it (the CLI does before it exits, and `engine.run` before it returns), so
        the cache is complete once a run ends."""
        held, self.held = self.held or [], None
        if background and hasattr(os, "fork") and (held or also is not None):
            try:
                pid = os.fork()
            except OSError:
                pid = -1
            if pid == 0:  # the child: write, and leave without running anything of the parent's
                try:
                    gc.disable()
                    self._write(held, also)
                finally:
                    os._exit(0)
            if pid > 0:
                _writers.append(pid)
                return
        self._write(held, also)

    def _write(self, held: list[tuple[str, ModuleFacts | bytes]], also: Callable[[], None] | None) -> None:
        for key, entry in held:
            blob = entry if isinstance(entry, bytes) else pickle.dumps(entry, protocol=pickle.HIGHEST_PROTOCOL)
            _write_atomic(self._path(key), blob)
        if also is not None:
            also()

    # a worker sends these bytes on rather than pickle the facts again (the path in a hit's
    # bytes may be another one: the receiver sets it)
    last_put: tuple[ModuleFacts, bytes] | None = None
    last_get: tuple[ModuleFacts, bytes] | None = None
    # while not None, `put` keeps entries here and `write_held` writes them (see `hold`)
    held: list[tuple[str, ModuleFacts | bytes]] | None = None
    _pickle_held = False

    def __getstate__(self) -> dict[str, Any]:
        # sent to workers: never the last entry written, nor what the sender holds
        return {"root": self.root}


_writers: list[int] = []  # background writers not waited for yet (`write_held`)


def settle() -> None:
    """Wait until every entry written in the background is in place."""
    while _writers:
        try:
            os.waitpid(_writers.pop(), 0)
        except ChildProcessError:  # reaped elsewhere
            pass


# (size, mtime, ctime, inode) of a file as `os.stat` gives them
Stamp = tuple[int, int, int, int]
# a deferred file as the pre-scan saw it: (stamp, module, is_package, global_calls)
Deferral = tuple[Stamp, str, bool, dict[str, str]]
RACY_NS = 2_000_000_000  # a file modified this recently may change again within its mtime tick


def stamp(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class DeferralIndex:
    """Which files the pre-scan deferred, by their `stat`: a warm run then neither opens nor
    scans a file whose size, mtime, ctime and inode are unchanged (most of a monorepo; opening
    and scanning 7,800 such files cost 1 s on the benchmark corpus). One index per analysed
    folder, replaced whole after each run (concurrent runs: the last one wins, the other's
    entries are merely missed). A file modified less than `RACY_NS` before it was read is not
    recorded, since a second edit within the same mtime tick would go unseen (as git does)."""

    def __init__(self, cache: FactsCache, where: str) -> None:
        self.path = cache.root.parent / "deferred" / hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
        loaded = _read(self.path)
        self.entries: dict[str, Deferral] = loaded if isinstance(loaded, dict) else {}

    def get(self, path: str, now: Stamp) -> Deferral | None:
        entry = self.entries.get(path)
        return entry if entry is not None and entry[0] == now else None

    def save(self, entries: dict[str, Deferral], started_ns: int) -> None:
        kept = {p: e for p, e in entries.items() if e[0][1] < started_ns - RACY_NS and e[0][2] < started_ns - RACY_NS}
        if kept != self.entries:
            _write_atomic(self.path, pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))


class ResultCache:
    def __init__(self, directory: Path) -> None:
        self.root = directory / _generation() / "runs"

    @staticmethod
    def key(settings: str, files: Iterable[Path]) -> str | None:
        """None when some file cannot be stat'ed (then nothing is cached)."""
        digest = hashlib.blake2b(settings.encode(), digest_size=20)
        try:
            for f in files:
                st = os.stat(f)
                digest.update(f"\0{f}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        except OSError:
            return None
        return digest.hexdigest()

    def get(self, key: str) -> Any:
        return _read(self.root / key)

    def put(self, key: str, value: Any) -> None:
        _write_atomic(self.root / key, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self._prune()

    def _prune(self) -> None:
        """Every edit makes a new key: keep the most recent runs only."""
        try:
            entries = sorted(self.root.iterdir(), key=lambda p: p.stat().st_mtime_ns)
            for stale in entries[:-MAX_RUNS]:
                stale.unlink()
        except OSError:
            pass
