"""Whole-run results: reused as they are when nothing changed, and when only files changed that
the run never depended on.

A run's findings depend on the pre-scan's verdict on every file (deferred or parsed; for a
deferred file also its module name and module-level `NAME = callee(...)` lines), on the facts
of the parsed files, and on the bytes of every file linking and the rules read later (modules
parsed on demand, textual tests, test files, dependency manifests). So an edit to a deferred
file that nothing read, after which the pre-scan still defers it with the same verdict, cannot
change the findings: in a monorepo most edits are of that kind (a Django model, a script), and
they cost a `stat` per file and a re-scan of the edited files instead of a whole analysis.

- The exact entry (`ResultCache`, key: the settings and every file's size and mtime) answers
  an unchanged tree.
- The record of the last run with the same settings keeps every file's stamp, the files the
  findings may depend on beyond the pre-scan (`sensitive`), the pre-scan verdicts of the
  others, and the result. A tree that differs from it only in files outside `sensitive`,
  each re-scanned to the same verdict, reuses the result. Any added or removed file, or any
  edit of a sensitive one, means a full run.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cache import ResultCache, default_cache_dir, session_cache
from .project import PreScan, Project, prescan_of
from .source import read_facts

Stamps = dict[str, tuple[int, int]]  # absolute path -> (size, mtime_ns)


@dataclass
class RunRecord:
    stamps: Stamps
    sensitive: set[str]
    deferred: dict[str, PreScan]
    value: Any


@dataclass
class RunSlot:
    """Where one run's result is looked up and stored."""

    cache: ResultCache
    key: str  # exact: settings and stamps
    record_key: str  # the settings that decide the findings
    stamps: Stamps
    reused: RunRecord | None = None  # set when `get` answered from the record

    def get(self) -> Any:
        """The result of a run over exactly this tree, or the recorded result of an earlier one
        that only differs in files it did not depend on (then `reused` is set, and the caller
        `put`s what it reports); None otherwise."""
        found = self.cache.get(self.key)
        if found is not None:
            return found
        record = self.cache.get(self.record_key)
        if not isinstance(record, RunRecord) or not self._still_valid(record):
            return None
        self.reused = record
        return record.value

    def _still_valid(self, record: RunRecord) -> bool:
        if record.stamps.keys() != self.stamps.keys():
            return False  # a file came or went: module names and imports may resolve anew
        for path, stamp in self.stamps.items():
            if record.stamps[path] == stamp:
                continue
            if path in record.sensitive or path not in record.deferred:
                return False
            now = read_facts(Path(path), path, prescan=True)  # the pre-scan alone: read, never parsed
            if not now.deferred or now.error is not None or prescan_of(now) != record.deferred[path]:
                return False
        return True

    def put(self, value: Any, project: Project | None = None) -> None:
        """Store `value` for this tree, and the record a later run compares its tree with:
        from the `project` that computed it, or the reused one brought up to date."""
        self.cache.put(self.key, value)
        if project is not None:
            unread = set(project.deferred) - project.reads
            self.cache.put(self.record_key, RunRecord(self.stamps, set(self.stamps) - unread, project.deferred, value))
        elif self.reused is not None:
            old = self.reused
            self.cache.put(self.record_key, RunRecord(self.stamps, old.sensitive, old.deferred, value))


def run_slot(settings: list[object], files: list[Path], record_settings: list[object] | None = None) -> RunSlot | None:
    """The slot of a run with these settings over these files (and the dependency manifests
    FDL107 reads, which count as read). `record_settings`: the part of the settings that
    decides the findings, when that is less (the files whose findings are shown, in project
    mode). None when the cache is off or a file cannot be stat'ed."""
    from .rules._fastapi_version import manifest_files

    if session_cache() is None:
        return None
    files = files + manifest_files({Path(os.path.abspath(f)).parent for f in files})
    stamps: Stamps = {}
    text = repr(settings)
    digest = hashlib.blake2b(text.encode(), digest_size=20)
    try:
        for f in files:
            st = os.stat(f)
            stamps[os.path.abspath(f)] = (st.st_size, st.st_mtime_ns)
            digest.update(f"\0{f}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    except OSError:
        return None
    record_text = repr(record_settings) if record_settings is not None else text
    record_key = "record-" + hashlib.blake2b(record_text.encode(), digest_size=20).hexdigest()
    return RunSlot(ResultCache(default_cache_dir()), digest.hexdigest(), record_key, stamps)
