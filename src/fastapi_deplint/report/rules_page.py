"""The generated rules page (`docs/rules.md`): every rule's documentation, from the same
docstrings `fastapi-deplint rule CODE` prints, plus the configuration keys and defaults.
Regenerate with `python scripts/gen_rules_page.py`; a test fails when the page is stale."""

from __future__ import annotations

import json
from dataclasses import fields

from ..config import GENERAL_KEYS, Config
from .meta import OWN_REPORTS, rule_meta

REGENERATE = "python scripts/gen_rules_page.py"


def _shift_headings(markdown: str) -> str:
    out: list[str] = []
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        out.append("#" + line if not fenced and line.startswith("#") else line)
    return "\n".join(out)


def _default(value: object) -> str:
    if isinstance(value, list) and len(value) > 6:
        return f"{len(value)} patterns (see `fastapi_deplint/config.py`)"
    return f"`{json.dumps(value)}`" if value not in (None, [], {}) else "—"


def render() -> str:
    from ..rules import all_rules

    rules = all_rules()
    lines = [
        "# fastapi-deplint rules",
        "",
        f"<!-- Generated from the rules' docstrings by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "Codes are grouped by family: `--select FDL1` takes a family. *Opt-in* rules run only when",
        "selected (`extend-select = [\"FDL7\"]`). Every finding can be silenced on its line with",
        "`# noqa: CODE`.",
        "",
        "| code | name | default | fix hint |",
        "|---|---|---|---|",
    ]
    for r in rules:
        lines.append(f"| [{r.code}](#{r.code.lower()}-{r.name}) | {r.name} | {'on' if r.default_enabled else 'opt-in'} | {r.summary} |")
    for meta in OWN_REPORTS.values():
        lines.append(f"| [{meta.code}](#{meta.code.lower()}-{meta.name}) | {meta.name} | on | {meta.summary} |")
    lines.append("")
    for r in rules:
        meta = rule_meta(r.code)
        lines += [
            f"## {r.code} {r.name}",
            "",
            f"*{'On by default' if r.default_enabled else 'Opt-in'} · severity {r.severity} · autofix: {r.fixable}*",
            "",
            f"**Fix:** {r.summary}",
            "",
            _shift_headings(meta.documentation),
            "",
        ]
    for meta in OWN_REPORTS.values():
        lines += [f"## {meta.code} {meta.name}", "", f"**Fix:** {meta.summary}", "", _shift_headings(meta.documentation), ""]
    defaults = Config()
    lines += [
        "## Configuration",
        "",
        "In `[tool.fastapi-deplint]` of `pyproject.toml` (the nearest one above the analysed paths),",
        "overridable on the command line (`--config \"key = value\"`) and, for rule options, in",
        "flake8's configuration as `fdl-<key>` (`--fdl-<key>` on its command line).",
        "",
        "| key | default | kind |",
        "|---|---|---|",
    ]
    for f in fields(Config):
        if f.name == "source":
            continue
        kind = "general" if f.name in GENERAL_KEYS or f.name == "src" else "rule option"
        lines.append(f"| `{f.name.replace('_', '-')}` | {_default(getattr(defaults, f.name))} | {kind} |")
    return "\n".join(lines).rstrip() + "\n"
