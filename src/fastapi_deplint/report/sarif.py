"""`--output-format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Paths are URIs relative to `%SRCROOT%` (the folder the linter ran in, normally the checkout
root), which is what code scanning needs to place alerts on files; every rule that ran is
described (name, one-line summary, full documentation as help), results carry a stable
`partialFingerprints` entry (file, code, enclosing symbol: not the line), and columns count
Unicode code points.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..baseline import fingerprint
from ..rules.base import Finding
from .meta import RuleMeta, first_paragraph, rule_meta

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT = "fastapiDeplint/v1"


def _descriptor(meta: RuleMeta) -> dict[str, Any]:
    family = {"1": "resource-lifecycle", "2": "scope-and-state", "3": "async", "4": "graph-shape",
              "5": "auth", "6": "tests", "7": "style", "9": "linter"}.get(meta.code[3:4], "fastapi")
    descriptor: dict[str, Any] = {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.summary or meta.name},
        "fullDescription": {"text": first_paragraph(meta.documentation) or meta.summary or meta.name},
        "defaultConfiguration": {"level": LEVELS.get(meta.severity, "warning"), "enabled": meta.default_enabled},
        "properties": {"tags": ["fastapi", "dependency-injection", family]},
    }
    if meta.documentation:
        descriptor["help"] = {"text": meta.documentation, "markdown": meta.documentation}
    return descriptor


def artifact_location(path: str, base: Path) -> dict[str, Any]:
    absolute = Path(os.path.abspath(path))
    try:
        rel = absolute.relative_to(base)
    except ValueError:
        return {"uri": absolute.as_uri()}
    return {"uri": quote(rel.as_posix()), "uriBaseId": SRCROOT}


def _region(f: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(f.line, 1), "startColumn": f.col + 1}
    if (f.end_line, f.end_col) > (f.line, f.col):
        region["endLine"] = f.end_line
        region["endColumn"] = f.end_col + 1
    return region


def _fix(f: Finding, base: Path) -> dict[str, Any]:
    """The finding's autofix as a SARIF `fix`: whole-line replacements (`endColumn` exclusive)."""
    assert f.fix is not None
    replacements = [
        {
            "deletedRegion": {
                "startLine": edit["location"]["row"],
                "startColumn": edit["location"]["column"],
                "endLine": edit["end_location"]["row"],
                "endColumn": edit["end_location"]["column"],
            },
            "insertedContent": {"text": edit["content"]},
        }
        for edit in f.fix["edits"]
    ]
    applicability = f.fix.get("applicability", "safe")
    note = "" if applicability == "safe" else " (unsafe: changes behaviour)"
    return {
        "description": {"text": f"{f.fix.get('message', 'Fix')}{note}"},
        "artifactChanges": [{"artifactLocation": artifact_location(f.path, base), "replacements": replacements}],
        "properties": {"applicability": applicability},
    }


def sarif_log(findings: list[Finding], codes: list[str], base: Path, internal_errors: Sequence[str] = ()) -> dict[str, Any]:
    """`codes`: the rules that ran (each gets a descriptor; codes found in results are added)."""
    base = Path(os.path.abspath(base))
    ordered = list(dict.fromkeys([*codes, *(f.code for f in findings)]))
    index = {code: i for i, code in enumerate(ordered)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": LEVELS.get(f.severity, "warning"),
            "message": {"text": f.message},
            "partialFingerprints": {FINGERPRINT: fingerprint(f, base)},
        }
        if f.path != "<project>":
            result["locations"] = [
                {"physicalLocation": {"artifactLocation": artifact_location(f.path, base), "region": _region(f)}}
            ]
            if f.fix is not None and f.fix.get("edits"):
                result["fixes"] = [_fix(f, base)]
        results.append(result)
    invocation: dict[str, Any] = {"executionSuccessful": not internal_errors}
    if internal_errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": message.splitlines()[0]}} for message in internal_errors
        ]
    run = {
        "tool": {
            "driver": {
                "name": "fastapi-deplint",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_descriptor(rule_meta(code)) for code in ordered],
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": base.as_uri().rstrip("/") + "/"}},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def render(findings: list[Finding], codes: list[str], base: Path, internal_errors: Sequence[str] = ()) -> str:
    return json.dumps(sarif_log(findings, codes, base, internal_errors), indent=2)
