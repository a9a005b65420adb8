"""`--output-format full`: each finding with its source line, a caret under the span, colour
and the rule's one-line fix hint (the default on a terminal)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..rules.base import Finding
from ..source import read_source
from .findings import fix_marker
from .meta import rule_meta

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

_WORD = re.compile(r"(?:async\s+def|def|class)\s+\w+|[\w.]+")
_CODE_END = re.compile(r"\s+#[^'\"]*$")  # a trailing comment
STYLES = {"error": "bold red", "warning": "bold yellow", "info": "bold blue"}


class SourceCache:
    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def line(self, path: str, number: int) -> str | None:
        if path not in self._lines:
            try:
                data = read_source(path)  # never blocks on a FIFO given on the command line
                self._lines[path] = data.decode("utf-8", "replace").splitlines()
            except OSError:
                self._lines[path] = None
        lines = self._lines[path]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]


def caret_span(source: str, f: Finding) -> tuple[int, int]:
    """(start, width) of the caret in display columns (tabs expanded) on the finding's line."""
    col = min(max(f.col, 0), len(source))
    if f.end_line == f.line and f.end_col > col:
        end = min(f.end_col, len(source))
    elif f.end_line > f.line:
        end = len(_CODE_END.sub("", source).rstrip())
    else:  # a point (a `def`): underline the keyword and name, or the word there
        word = _WORD.match(source, col)
        end = word.end() if word else col + 1
    if end <= col:
        end = col + 1
    start = len(source[:col].expandtabs())
    width = len(source[:end].expandtabs()) - start
    return start, max(width, 1)


def render_finding(f: Finding, sources: SourceCache, unsafe: bool = False) -> Text:
    from rich.text import Text

    meta = rule_meta(f.code)
    style = STYLES.get(f.severity, "bold")
    text = Text()
    text.append(f.path, style="bold")
    text.append(f":{f.line}:{f.col + 1}: ", style="dim")
    text.append(f.code, style=style)
    marker = fix_marker(f, unsafe)
    if marker:
        text.append(f" {marker.strip()}", style="bold cyan")
    text.append(f" {f.message}\n")
    source = sources.line(f.path, f.line)
    if source is not None:
        gutter = len(str(f.line))
        pad = " " * gutter
        shown = source.expandtabs()
        start, width = caret_span(source, f)
        text.append(f"{pad} |\n", style="blue")
        text.append(f"{f.line} | ", style="blue")
        text.append(f"{shown}\n")
        text.append(f"{pad} | ", style="blue")
        text.append(" " * start + "^" * width, style=style)
        text.append(f" {meta.name}\n", style=style)
        text.append(f"{pad} |\n", style="blue")
        if meta.summary:
            text.append(f"{pad} = ", style="blue")
            text.append("help: ", style="bold cyan")
            text.append(f"{meta.summary}\n")
        if f.fix is not None:
            text.append(f"{pad} = ", style="blue")
            text.append("fix: ", style="bold cyan")
            text.append(_fix_line(f, unsafe))
    elif meta.summary:
        text.append("  = ", style="blue")
        text.append("help: ", style="bold cyan")
        text.append(f"{meta.summary}\n")
    return text


def _fix_line(f: Finding, unsafe: bool) -> str:
    assert f.fix is not None
    message = f.fix.get("message", "")
    if f.fix.get("applicability") == "safe":
        return f"{message} (`--fix`)\n"
    return f"{message} (unsafe: `--fix --unsafe-fixes`)\n"


def render(findings: list[Finding], console: Console, unsafe: bool = False) -> None:
    sources = SourceCache()
    for f in findings:
        console.print(render_finding(f, sources, unsafe), soft_wrap=True)
