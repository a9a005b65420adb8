"""What reports say about a code: name, one-line fix hint and documentation, for the rules
and for the linter's own reports (FDL900, FDL901), which have no `Rule` class."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleMeta:
    code: str
    name: str
    summary: str
    documentation: str
    severity: str
    default_enabled: bool = True


OWN_REPORTS = {
    "FDL900": RuleMeta(
        "FDL900",
        "internal-error",
        "A rule crashed on this project; please report it with the file that triggers it.",
        "## What it does\nReports a bug in fastapi-deplint itself: one rule raised an exception. "
        "The other rules still ran.\n\n## Why is this bad?\nThe crashed rule's findings are missing.",
        "error",
    ),
    "FDL901": RuleMeta(
        "FDL901",
        "cannot-parse",
        "Fix the syntax error or the encoding, or exclude the file.",
        "## What it does\nReports a file that could not be read or parsed (syntax error, undecodable "
        "bytes, unreadable). The run goes on with every other file.\n\n## Why is this bad?\nNothing in "
        "the file is analysed, and routes or dependencies it defines are missing from the graph.",
        "error",
    ),
}


def rule_meta(code: str) -> RuleMeta:
    from ..rules import rule_by_code

    rule = rule_by_code(code)
    if rule is not None:
        return RuleMeta(rule.code, rule.name, rule.summary, rule.documentation(), rule.severity, rule.default_enabled)
    return OWN_REPORTS.get(code, RuleMeta(code, code.lower(), "", "", "warning"))


def all_meta() -> list[RuleMeta]:
    from ..rules import all_rules

    return [rule_meta(r.code) for r in all_rules()] + list(OWN_REPORTS.values())


def first_paragraph(documentation: str) -> str:
    """The text under `## What it does`, as one line."""
    lines: list[str] = []
    started = False
    for line in documentation.splitlines():
        if line.startswith("## "):
            if started:
                break
            started = line.strip().lower() == "## what it does"
            continue
        if started:
            if not line.strip() and lines:
                break
            if line.strip():
                lines.append(line.strip())
    return " ".join(lines)
