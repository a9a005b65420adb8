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
  each re-scanned to the same verdict, reuses the result. Any added or removed file means a
  full run.
- An edit of a sensitive file analyses again only the parts of the project (`components`)
  the edited files are in (`Partial`, `engine.run_part`): the other files are taken as
  deferred under their recorded verdicts, and their findings are the record's. When the run
  of the parts reaches into another part (a new import of it), it runs once more with that
  part; when it still reaches further, or reports outside its parts, the project is
  analysed whole.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import ResultCache, default_cache_dir, session_cache
from .project import PreScan, Project, absolute_paths, prescan_of
from .source import read_facts

Stamps = dict[str, tuple[int, int]]  # absolute path -> (size, mtime_ns)
RECORD_SCHEMA = 2  # in the record's key: a record of another shape is never read


@dataclass
class RunRecord:
    stamps: Stamps
    sensitive: set[str]
    deferred: dict[str, PreScan]
    value: Any
    parsed: dict[str, PreScan] = field(default_factory=dict)  # pre-scan verdicts of the parsed files
    parts: dict[str, int] = field(default_factory=dict)  # absolute path -> part; empty: no partial runs


@dataclass
class Partial:
    """A run of the parts of a project that edited files are in (see the module docstring)."""

    record: RunRecord
    focus: set[str]  # the files of those parts (absolute paths)
    edited: set[str]  # the files whose stamps changed

    @property
    def verdicts(self) -> dict[str, PreScan]:
        return {**self.record.deferred, **self.record.parsed}

    @property
    def reading(self) -> set[str]:
        """The files of `focus` to read again: the edited ones and those parsed up front; the
        others were deferred and are unchanged, so their recorded verdict stands."""
        return {p for p in self.focus if p in self.edited or p in self.record.parsed or p not in self.record.deferred}

    def accepts(self, project: Project, parts: dict[str, int], paths: list[str], internal_errors: list[str]) -> bool:
        """Whether the run of `project`, which found `parts` (`components.parts_of`), kept to
        the files of `focus` and to files no part touched before; `paths`: where its findings
        are (absolute)."""
        return not (
            internal_errors
            or self._reached(project, parts)
            or not modules_read_in_parts(project, parts)
            or any(p not in self.focus and p not in parts for p in paths)
        )

    def widened(self, project: Project, parts: dict[str, int]) -> Partial | None:
        """After a run of `project` that reached into other parts (an edit that imports from
        another app): the run of those parts too, or None when it reached none."""
        reached = self._reached(project, parts)
        if not reached or any(p not in self.record.parts for p in reached):
            return None
        numbers = {self.record.parts[p] for p in reached}
        return Partial(self.record, self.focus | {p for p, n in self.record.parts.items() if n in numbers}, self.edited)

    def _reached(self, project: Project, parts: dict[str, int]) -> set[str]:
        """The files of other parts (or parsed files of none) the run touched or read."""
        known = self.record.parts.keys() | self.record.parsed.keys()
        return {p for p in (*parts, *project.reads) if p not in self.focus and p in known}


@dataclass
class RunSlot:
    """Where one run's result is looked up and stored."""

    cache: ResultCache
    key: str  # exact: settings and stamps
    record_key: str  # the settings that decide the findings
    stamps: Stamps
    reused: RunRecord | None = None  # set when `get` answered from the record
    _verdicts: dict[str, bool] = field(default_factory=dict)  # `_same_verdict`'s answers

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

    def partial(self) -> Partial | None:
        """After `get` found nothing: the run of only the parts the edited files are in, when
        the record allows one (same files; each edited file in a part, or deferred, unread and
        re-scanned to the same verdict)."""
        record = self.cache.get(self.record_key)
        if not isinstance(record, RunRecord) or not record.parts or record.stamps.keys() != self.stamps.keys():
            return None
        edited: set[str] = set()
        numbers: set[int] = set()
        for path, stamp in self.stamps.items():
            if record.stamps[path] == stamp:
                continue
            edited.add(path)
            if path in record.parts:
                numbers.add(record.parts[path])
            elif not self._same_verdict(record, path):
                return None
        if not numbers:
            return None
        return Partial(record, {p for p, n in record.parts.items() if n in numbers}, edited)

    def _still_valid(self, record: RunRecord) -> bool:
        if record.stamps.keys() != self.stamps.keys():
            return False  # a file came or went: module names and imports may resolve anew
        return all(record.stamps[p] == s or self._same_verdict(record, p) for p, s in self.stamps.items())

    def _same_verdict(self, record: RunRecord, path: str) -> bool:
        """A file no finding can depend on, edited so that the pre-scan still defers it alike
        (asked by `get`, then by `partial`: each file is read once)."""
        known = self._verdicts.get(path)
        if known is None:
            if path in record.sensitive or path not in record.deferred:
                known = False
            else:
                now = read_facts(Path(path), path, prescan=True)  # the pre-scan alone: read, never parsed
                known = now.deferred and now.error is None and prescan_of(now) == record.deferred[path]
            self._verdicts[path] = known
        return known

    def put(self, value: Any, project: Project | None = None, parts: dict[str, int] | None = None) -> None:
        """Store `value` for this tree, and the record a later run compares its tree with:
        from the `project` that computed it (with its `parts`, when partial runs may follow),
        or the reused one brought up to date."""
        self.cache.put(self.key, value)
        if project is not None:
            unread = set(project.deferred) - project.reads
            record = RunRecord(self.stamps, set(self.stamps) - unread, project.deferred, value, project.parsed, parts or {})
            self.cache.put(self.record_key, record)
        elif self.reused is not None:
            old = self.reused
            self.cache.put(self.record_key, RunRecord(self.stamps, old.sensitive, old.deferred, value, old.parsed, old.parts))

    def put_part(self, value: Any, partial: Partial, project: Project, parts: dict[str, int]) -> None:
        """Store the result of a partial run: the record's, with the parts it analysed again
        replaced by what that run found."""
        self.cache.put(self.key, value)
        old, focus = partial.record, partial.focus
        first = max(old.parts.values(), default=-1) + 1
        record = RunRecord(
            self.stamps,
            old.sensitive | focus | project.reads | parts.keys(),
            {**{p: v for p, v in old.deferred.items() if p not in focus}, **{p: v for p, v in project.deferred.items() if p in focus}},
            value,
            {**{p: v for p, v in old.parsed.items() if p not in focus}, **project.parsed},
            {**{p: n for p, n in old.parts.items() if p not in focus}, **{p: first + n for p, n in parts.items()}},
        )
        self.cache.put(self.record_key, record)


def modules_read_in_parts(project: Project, parts: dict[str, int]) -> bool:
    """Whether every Python file of the project that the run read is in some part (a read
    outside the resolver and the graph would tie findings to a file no part names)."""
    return all(p in parts for p in project.reads if p in project.deferred or p in project.parsed)


def run_slot(settings: list[object], files: list[Path], record_settings: list[object] | None = None) -> RunSlot | None:
    """The slot of a run with these settings over these files (and the dependency manifests
    FDL107 reads, which count as read). `record_settings`: the part of the settings that
    decides the findings, when that is less (the files whose findings are shown, in project
    mode). None when the cache is off or a file cannot be stat'ed."""
    from .rules._fastapi_version import manifest_files

    if session_cache() is None:
        return None
    absolute = absolute_paths(files)
    manifests = manifest_files({os.path.dirname(a) for a in absolute})
    stamps: Stamps = {}
    text = repr(settings)
    digest = hashlib.blake2b(text.encode(), digest_size=20)
    try:
        for f, a in [*zip(files, absolute), *zip(manifests, absolute_paths(manifests))]:
            st = os.stat(f)
            stamps[a] = (st.st_size, st.st_mtime_ns)
            digest.update(f"\0{f}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    except OSError:
        return None
    record_text = repr([RECORD_SCHEMA, record_settings if record_settings is not None else settings])
    record_key = "record-" + hashlib.blake2b(record_text.encode(), digest_size=20).hexdigest()
    return RunSlot(ResultCache(default_cache_dir()), digest.hexdigest(), record_key, stamps)
