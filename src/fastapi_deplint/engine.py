"""Running the rules over a project and turning the result into reportable findings:
FDL901 for unreadable files, internal errors contained per rule, noqa and per-file ignores
applied, columns converted to characters."""

from __future__ import annotations

import fnmatch
import traceback
from dataclasses import dataclass, field

from .config import Config
from .facts.model import ModuleFacts
from .project import Project
from .rules import all_rules
from .rules.base import Context, Finding

CANNOT_PARSE = "FDL901"
INTERNAL_ERROR = "FDL900"


@dataclass(slots=True)
class Result:
    findings: list[Finding]
    internal_errors: list[str] = field(default_factory=list)
    suppressed: int = 0


def enabled_rules(config: Config) -> list[type]:
    return [r for r in all_rules() if config.is_selected(r.code, r.default_enabled)]


def run(project: Project, config: Config) -> Result:
    ctx = Context(project.graph, config)
    findings: list[Finding] = []
    internal: list[str] = []
    for rule_cls in enabled_rules(config):
        rule = rule_cls()
        try:
            findings.extend(rule.check(ctx))
        except Exception as exc:  # a bug in one rule must not stop the others
            message = f"internal error in rule {rule_cls.code} ({type(exc).__name__}: {exc}); please report it"
            internal.append(message + "\n" + traceback.format_exc())
            findings.append(Finding(INTERNAL_ERROR, message, "<project>", 1, 0, 1, 0, "error"))
    if config.is_selected(CANNOT_PARSE, True):
        for facts in project.facts:
            if facts.error is not None:
                loc = facts.error_loc
                findings.append(
                    Finding(CANNOT_PARSE, f"cannot analyse file: {facts.error}", facts.path, loc.line if loc else 1,
                            loc.col if loc else 0, loc.line if loc else 1, loc.col if loc else 0, "error")
                )
        for path, message in project.discovery_errors:
            findings.append(Finding(CANNOT_PARSE, f"cannot analyse: {message}", path, 1, 0, 1, 0, "error"))
    kept, suppressed = suppress(findings, {f.path: f for f in project.facts}, config)
    to_characters(kept)
    kept.sort(key=lambda f: f.sort_key)
    return Result(dedupe(kept), internal, suppressed)


def dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, int, int, str]] = set()
    result: list[Finding] = []
    for f in findings:
        key = (f.path, f.code, f.line, f.col, f.message)
        if key not in seen:
            seen.add(key)
            result.append(f)
    return result


def is_noqa(facts: ModuleFacts | None, line: int, code: str) -> bool:
    if facts is None or line not in facts.noqa:
        return False
    codes = facts.noqa[line]
    return codes is None or any(code.startswith(c) for c in codes)


def suppress(findings: list[Finding], files: dict[str, ModuleFacts], config: Config) -> tuple[list[Finding], int]:
    kept: list[Finding] = []
    dropped = 0
    for f in findings:
        facts = files.get(f.path)
        if not config.is_selected(f.code, True) and f.code not in (INTERNAL_ERROR,):
            dropped += 1
            continue
        if is_noqa(facts, f.line, f.code) or _per_file_ignored(f, config):
            dropped += 1
            continue
        kept.append(f)
    return kept, dropped


def _per_file_ignored(f: Finding, config: Config) -> bool:
    for pattern, codes in config.per_file_ignores.items():
        if fnmatch.fnmatch(f.path, pattern) or fnmatch.fnmatch(f.path, f"*/{pattern}"):
            if any(f.code.startswith(c.upper()) for c in codes):
                return True
    return False


def to_characters(findings: list[Finding]) -> None:
    """`ast` columns are UTF-8 byte offsets; reports use characters."""
    lines_cache: dict[str, list[bytes] | None] = {}
    for f in findings:
        if f.path not in lines_cache:
            try:
                with open(f.path, "rb") as handle:
                    lines_cache[f.path] = handle.read().splitlines()
            except OSError:
                lines_cache[f.path] = None
        lines = lines_cache[f.path]
        if not lines:
            continue
        for attr_line, attr_col in (("line", "col"), ("end_line", "end_col")):
            number = getattr(f, attr_line)
            if 1 <= number <= len(lines):
                raw = lines[number - 1]
                col = getattr(f, attr_col)
                if not raw.isascii():
                    setattr(f, attr_col, len(raw[:col].decode("utf-8", "replace")))
