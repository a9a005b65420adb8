"""Rendering findings: `concise` (`path:line:col: CODE message`) and `json`."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ..rules.base import Finding


def finding_json(f: Finding) -> dict[str, Any]:
    """The stable JSON shape: lines and columns 1-based, columns in characters."""
    data: dict[str, Any] = {
        "code": f.code,
        "message": f.message,
        "path": f.path,
        "line": f.line,
        "column": f.col + 1,
        "end_line": f.end_line,
        "end_column": f.end_col + 1,
        "severity": f.severity,
    }
    if f.fix is not None:
        data["fix"] = f.fix
    return data


def render_json(findings: list[Finding]) -> str:
    return json.dumps([finding_json(f) for f in findings], indent=2)


def render_concise(findings: list[Finding]) -> str:
    return "".join(f"{f.path}:{f.line}:{f.col + 1}: {f.code} {f.message}\n" for f in findings)


def summary(findings: list[Finding]) -> str:
    if not findings:
        return "All checks passed."
    return f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}."


def statistics(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    return "".join(f"{count:5d}  {code}\n" for code, count in sorted(counts.items()))
