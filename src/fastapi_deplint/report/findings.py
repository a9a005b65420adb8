"""Rendering findings: `concise` (`path:line:col: CODE message`) and `json`."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection
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


def fix_marker(f: Finding, unsafe: bool = False) -> str:
    """`[*] ` before the message when `--fix` (with `--unsafe-fixes` when `unsafe`) fixes it."""
    if f.fix is None:
        return ""
    return "[*] " if f.fix.get("applicability") == "safe" or unsafe else ""


def render_concise(findings: list[Finding], unsafe: bool = False) -> str:
    return "".join(f"{f.path}:{f.line}:{f.col + 1}: {f.code} {fix_marker(f, unsafe)}{f.message}\n" for f in findings)


def summary(findings: list[Finding], fixed: int | None = None) -> str:
    """`fixed`: how many findings `--fix` fixed (None when it did not run)."""
    if fixed:
        total = len(findings) + fixed
        return f"Found {total} finding{'s' if total != 1 else ''} ({fixed} fixed, {len(findings)} remaining)."
    if not findings:
        return "All checks passed."
    return f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''}."


def fix_hint(findings: list[Finding], fixable: Collection[str], unsafe: bool = False, exact: bool = True) -> str | None:
    """How many findings `--fix` would fix, and how many more with `--unsafe-fixes`. Not
    `exact` when only safe fixes were described: every other finding of a rule with a fixer
    (its code in `fixable`) then counts as a possible hidden fix ("up to")."""
    safe = sum(1 for f in findings if f.fix is not None and f.fix.get("applicability") == "safe")
    if exact:
        hidden = sum(1 for f in findings if f.fix is not None and f.fix.get("applicability") != "safe")
    else:
        hidden = sum(1 for f in findings if f.fix is None and f.code in fixable)
    if unsafe:
        safe, hidden = safe + hidden, 0
    up_to = "" if exact or not hidden else "up to "
    more = f"{up_to}{hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option"
    if safe:
        return f"[*] {safe} fixable with the `--fix` option" + (f" ({more})." if hidden else ".")
    if hidden:
        return f"No fixes available ({more})."
    return None


def statistics(findings: list[Finding]) -> str:
    counts = Counter(f.code for f in findings)
    return "".join(f"{count:5d}  {code}\n" for code, count in sorted(counts.items()))


def statistics_json(findings: list[Finding]) -> str:
    from ..rules import rule_by_code

    counts = Counter(f.code for f in findings)
    rows = []
    for code, count in sorted(counts.items()):
        rule = rule_by_code(code)
        rows.append({"code": code, "name": rule.name if rule is not None else None, "count": count})
    return json.dumps(rows, indent=2)
