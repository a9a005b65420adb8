"""Which files a run read after the pre-scan.

A run's findings depend on the pre-scan's verdicts, the facts of the parsed files, and the
bytes of every file linking and the rules read later. Within a `logging_reads` block every
such read is recorded (by `source.read_source`, and by the caches of `facts.detail` when they
answer from an earlier read), so a later run can tell that an edit cannot change the findings
(see `run_cache`). A forked child returns what it logged (`reads_logged`), which the parent
adds to its own (`log_reads`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_READS: set[str] | None = None  # absolute paths, while a block is open


@contextmanager
def logging_reads(into: set[str]) -> Iterator[set[str]]:
    """Within the block, every read file's absolute path is added to `into`."""
    global _READS
    previous, _READS = _READS, into
    try:
        yield into
    finally:
        _READS = previous


def note_read(path: Path | str) -> None:
    if _READS is not None:
        _READS.add(os.path.abspath(path))


def reads_logged() -> set[str]:
    """What the open block has recorded so far (empty when none is open)."""
    return set(_READS) if _READS is not None else set()


def log_reads(paths: set[str]) -> None:
    """Record reads made elsewhere (a forked child's) in the open block."""
    if _READS is not None:
        _READS.update(paths)
