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
  each re-scanned to the same verdict, reuses the result.
- A file that came or went (`Membership`) is like an edited one when no other file can mean
  something else for it: not an `__init__.py` (package boundaries name other modules) nor a
  `conftest.py` (pytest finds those by folder; FDL601 reads every one), its
  module name unrelated to every name linking and the rules looked up (`Resolver.asked`,
  including dotted tails of its path, which the resolver matches too), unlike any other
  file's and with a first segment the project already has (`import redis` stays external).
  A new file the pre-scan defers, or a gone one that was deferred and never read, then
  reuses the result; a new file that is parsed joins the partial run of the parts edited,
  alone if none was; a gone file that was analysed re-runs its part. Otherwise, and under a
  `src` setting (module names then depend on more than the pre-scan), it is a full run.
- An edit of a sensitive file analyses again only the parts of the project (`components`)
  the edited files are in (`Partial`, `engine.run_part`): the other files are taken as
  deferred under their recorded verdicts, and their findings are the record's. When the run
  of the parts reaches into another part (a new import of it), it runs once more with that
  part; when it still reaches further, or reports outside its parts, the project is
  analysed whole.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import ResultCache, default_cache_dir, session_cache
from .discover import absolute_paths

if TYPE_CHECKING:  # (a run answered from the cache needs neither the project nor the parser)
    from .project import PreScan, Project

Stamps = dict[str, tuple[int, int]]  # absolute path -> (size, mtime_ns)
RECORD_SCHEMA = 3  # in the record's key: a record of another shape is never read


@dataclass
class RunRecord:
    stamps: Stamps
    sensitive: set[str]
    deferred: dict[str, PreScan]
    value: Any
    parsed: dict[str, PreScan] = field(default_factory=dict)  # pre-scan verdicts of the parsed files
    parts: dict[str, int] = field(default_factory=dict)  # absolute path -> part; empty: no partial runs
    asked: set[str] = field(default_factory=set)  # module names the run looked up (`Resolver.asked`)
    renamed: bool = True  # a `src` setting was in use: no file may come or go without a full run


@dataclass
class Membership:
    """The files that came and went since the record was made, none of which can change what
    another file means (see the module docstring)."""

    added: dict[str, PreScan] = field(default_factory=dict)  # new files the pre-scan defers: their verdicts
    fresh: set[str] = field(default_factory=set)  # new files the pre-scan parses
    removed: set[str] = field(default_factory=set)

    @staticmethod
    def of(record: RunRecord, now: Stamps) -> Membership | None:
        added, removed = now.keys() - record.stamps.keys(), record.stamps.keys() - now.keys()
        if not added and not removed:
            return Membership()
        if record.renamed or any(not _plain_module(p) for p in added | removed):
            return None
        verdicts = {**record.deferred, **record.parsed}
        taken = {v[0] for p, v in verdicts.items() if p not in removed}
        tops = {n.split(".", 1)[0] for n in taken}
        change, asked = Membership(removed=removed), _Asked(record.asked)
        for path in sorted(removed):
            verdict = verdicts.get(path)  # (none: it could not be read, and was reported)
            if verdict is None or verdict[0] in taken or not asked.unrelated(verdict[0], path, tops):
                return None
        from .project import prescan_of
        from .source import read_facts

        for path in sorted(added):
            facts = read_facts(Path(path), path, prescan=True, cache=session_cache())
            if facts.error is not None or facts.module in taken or not asked.unrelated(facts.module, path, tops):
                return None
            taken.add(facts.module)
            if facts.deferred:
                change.added[path] = prescan_of(facts)
            else:
                change.fresh.add(path)
        return change


@dataclass
class Partial:
    """A run of the parts of a project that edited files are in (see the module docstring)."""

    record: RunRecord
    focus: set[str]  # the files of those parts (absolute paths)
    edited: set[str]  # the files whose stamps changed, and new files the pre-scan parses
    change: Membership = field(default_factory=Membership)  # the files that came and went

    @property
    def verdicts(self) -> dict[str, PreScan]:
        return {**self.record.deferred, **self.record.parsed, **self.change.added}

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
        return Partial(self.record, self.focus | {p for p, n in self.record.parts.items() if n in numbers}, self.edited, self.change)

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
        record = self.record
        if record is None or not self._still_valid(record):
            return None
        self.reused = record
        return record.value

    def partial(self) -> Partial | None:
        """After `get` found nothing: the run of only the parts the edited files are in, when
        the record allows one (same files; each edited file in a part, or deferred, unread and
        re-scanned to the same verdict)."""
        record, change = self.record, self.change
        if record is None or change is None or not record.parts:
            return None
        edited = set(change.fresh)
        numbers: set[int] = set()
        for path, stamp in self.stamps.items():
            if path in change.added or path in change.fresh or record.stamps[path] == stamp:
                continue
            edited.add(path)
            if path in record.parts:
                numbers.add(record.parts[path])
            elif not self._same_verdict(record, path):
                return None
        for path in change.removed:
            if path in record.parts:
                numbers.add(record.parts[path])
            elif path in record.sensitive:
                return None
        if not numbers and not change.fresh:
            return None
        return Partial(record, {p for p, n in record.parts.items() if n in numbers} | change.fresh, edited, change)

    @functools.cached_property
    def record(self) -> RunRecord | None:
        """The record of the last run with these settings (read once: `get`, then `partial`)."""
        found = self.cache.get(self.record_key)
        return found if isinstance(found, RunRecord) else None

    @functools.cached_property
    def change(self) -> Membership | None:
        """The files that came and went since the record (`Membership.of`)."""
        return Membership.of(self.record, self.stamps) if self.record is not None else None

    def _still_valid(self, record: RunRecord) -> bool:
        change = self.change
        if change is None or change.fresh or any(p in record.sensitive for p in change.removed):
            return False  # a file came or went that the findings may depend on
        return all(p in change.added or record.stamps[p] == s or self._same_verdict(record, p) for p, s in self.stamps.items())

    def _same_verdict(self, record: RunRecord, path: str) -> bool:
        """A file no finding can depend on, edited so that the pre-scan still defers it alike
        (asked by `get`, then by `partial`: each file is read once)."""
        known = self._verdicts.get(path)
        if known is None:
            if path in record.sensitive or path not in record.deferred:
                known = False
            else:
                from .project import prescan_of
                from .source import read_facts

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
            record = RunRecord(
                self.stamps, set(self.stamps) - unread, project.deferred, value, project.parsed, parts or {}, set(project.asked), bool(project.src_roots)
            )
            self.cache.put(self.record_key, record)
        elif self.reused is not None:
            old, change = self.reused, self.change or Membership()
            deferred = {**{p: v for p, v in old.deferred.items() if p not in change.removed}, **change.added}
            record = RunRecord(self.stamps, old.sensitive - change.removed, deferred, value, old.parsed, old.parts, old.asked, old.renamed)
            self.cache.put(self.record_key, record)

    def put_exact(self, value: Any) -> None:
        """Store `value` for this tree only, leaving the record as it was."""
        self.cache.put(self.key, value)

    def put_part(self, value: Any, partial: Partial, project: Project, parts: dict[str, int]) -> None:
        """Store the result of a partial run: the record's, with the parts it analysed again
        replaced by what that run found."""
        self.cache.put(self.key, value)
        old, focus, change = partial.record, partial.focus, partial.change
        first = max(old.parts.values(), default=-1) + 1
        stale = focus | change.removed  # (focus holds a gone file of an edited part)
        record = RunRecord(
            self.stamps,
            (old.sensitive | focus | project.reads | parts.keys()) - change.removed,
            {
                **{p: v for p, v in old.deferred.items() if p not in stale},
                **{p: v for p, v in project.deferred.items() if p in focus or p in change.added},
            },
            value,
            {**{p: v for p, v in old.parsed.items() if p not in stale}, **project.parsed},
            {**{p: n for p, n in old.parts.items() if p not in stale}, **{p: first + n for p, n in parts.items()}},
            old.asked | project.asked,
            old.renamed or bool(project.src_roots),
        )
        self.cache.put(self.record_key, record)


def _plain_module(path: str) -> bool:
    """A Python file that is not a package's `__init__.py` (nor a manifest FDL107 reads), nor a
    `conftest.py`: pytest finds those by folder, and FDL601 reads every one, parsed or not."""
    name = os.path.basename(path)
    return name.endswith(".py") and name not in ("__init__.py", "conftest.py")


def _tails(dotted: str) -> Iterator[str]:
    """`a.b.c`, `b.c`, `c`."""
    parts = dotted.split(".")
    return (".".join(parts[i:]) for i in range(len(parts)))


class _Asked:
    """The module names a run looked up, and every dotted tail of them."""

    def __init__(self, asked: set[str]) -> None:
        self.names = asked
        self.tails = {t for n in asked for t in _tails(n)}

    def unrelated(self, module: str, path: str, tops: set[str]) -> bool:
        """Whether a file of this module name and path can come or go without changing an
        answer: its first segment is one the project has, and no name looked up is a dotted
        tail of its name or of its path (the resolver matches those, see
        `Resolver._find_module`) or a longer name ending in it (a `src` root's)."""
        if module.split(".", 1)[0] not in tops or module in self.tails:
            return False
        folders = os.path.splitext(os.path.abspath(path))[0].replace(os.sep, ".")
        return not any(t in self.names for t in (*_tails(module), *_tails(folders)))


def modules_read_in_parts(project: Project, parts: dict[str, int]) -> bool:
    """Whether every Python file of the project that the run read is in some part (a read
    outside the resolver and the graph would tie findings to a file no part names)."""
    return all(p in parts for p in project.reads if p in project.deferred or p in project.parsed)


def run_slot(
    settings: list[object],
    files: list[Path],
    record_settings: list[object] | None = None,
    stats: Sequence[os.stat_result | None] = (),
    absolute: list[str] | None = None,
    listed: Mapping[str, Sequence[str]] | None = None,
) -> RunSlot | None:
    """The slot of a run with these settings over these files (and the dependency manifests
    FDL107 reads, which count as read). `record_settings`: the part of the settings that
    decides the findings, when that is less (the files whose findings are shown, in project
    mode). `stats`: the first files' `os.stat`s, when the walk that found them took them;
    `absolute`: the files' `absolute_paths`, when known; `listed`: the manifest names of the
    folders the walk listed (`Discovered.listed`). None when the cache is off or a file
    cannot be stat'ed."""
    from .rules._fastapi_version import manifest_files

    if session_cache() is None:
        return None
    absolute = absolute_paths(files, absolute)
    manifests = manifest_files({os.path.dirname(a) for a in absolute}, listed)
    stamps: Stamps = {}
    text = repr(settings)
    digest = hashlib.blake2b(text.encode(), digest_size=20)
    known = iter(stats)
    try:
        for f, a in [*zip(files, absolute), *zip(manifests, absolute_paths(manifests))]:
            st = next(known, None) or os.stat(f)
            stamps[a] = (st.st_size, st.st_mtime_ns)
            digest.update(f"\0{f}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    except OSError:
        return None
    record_text = repr([RECORD_SCHEMA, record_settings if record_settings is not None else settings])
    record_key = "record-" + hashlib.blake2b(record_text.encode(), digest_size=20).hexdigest()
    return RunSlot(ResultCache(default_cache_dir()), digest.hexdigest(), record_key, stamps)
