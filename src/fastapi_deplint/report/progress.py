"""A progress indicator on stderr for long runs: shown only when stderr is a terminal and the
run has already taken a moment (quick runs never flash it); transient, so it leaves no trace
in the scrollback. Elsewhere (pipes, CI logs, pre-commit) nothing is printed."""

from __future__ import annotations

import sys
import threading
from typing import Any

DELAY_SECONDS = 0.5


class TerminalProgress:
    def __init__(self, delay: float = DELAY_SECONDS) -> None:
        self._lock = threading.Lock()
        self._progress: Any = None
        self._task: Any = None
        self._description = "Reading files"
        self._total: int | None = None
        self._done = 0
        self._stopped = False
        self._timer = threading.Timer(delay, self._show)
        self._timer.daemon = True
        self._timer.start()

    @staticmethod
    def wanted(quiet: bool) -> bool:
        return not quiet and sys.stderr.isatty()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with self._lock:
            if self._stopped:
                return
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                console=Console(file=sys.stderr), transient=True,
            )
            self._task = self._progress.add_task(self._description, total=self._total, completed=self._done)
            self._progress.start()

    def __call__(self, phase: str, done: int, total: int) -> None:
        with self._lock:
            if phase == "files":
                self._description, self._total, self._done = f"Analysing {total} files", None, 0
            else:
                self._description, self._total, self._done = f"Running rules {done}/{total}", total, done
            if self._progress is not None:
                self._progress.update(self._task, description=self._description, total=self._total, completed=self._done)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._timer.cancel()
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
