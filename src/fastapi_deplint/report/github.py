"""`--output-format github`: GitHub Actions workflow commands, one annotation per finding
(`::warning file=app/deps.py,line=9,col=1,...::message`), shown on the pull request diff."""

from __future__ import annotations

from ..rules.base import Finding
from .meta import rule_meta

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(f: Finding) -> str:
    level = LEVELS.get(f.severity, "warning")
    props = [f"file={escape_property(f.path.replace(chr(92), '/'))}", f"line={f.line}", f"col={f.col + 1}"]
    if (f.end_line, f.end_col) > (f.line, f.col):
        props += [f"endLine={f.end_line}", f"endColumn={f.end_col + 1}"]
    props.append(f"title={escape_property(f'{f.code} {rule_meta(f.code).name}')}")
    return f"::{level} {','.join(props)}::{escape_data(f'{f.code} {f.message}')}"


def render(findings: list[Finding]) -> str:
    return "".join(annotation(f) + "\n" for f in findings)
