"""Containing our own bugs: a rule that raises while checking one file is reported as an
internal-error finding (FDL900) that names the rule and the file, then run again without
that file, so every other file keeps its findings and the other rules are not affected.

Rules are whole-project queries (`Rule.check(ctx)`), so the file is found after the fact: the
innermost frame of the rule's code that holds a route, dependency node, router, edge or
module of the project names it. The re-run sees the graph without that file's routes, nodes,
routers and modules (findings that depend on them are lost, findings elsewhere are kept).
A rule that fails on the same file twice, or whose failure points at no file, is stopped
(what it reported before stays), and so is one that fails on `MAX_FILES_PER_RULE` files.
"""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

from .facts.model import Function, ModuleFacts
from .graph.model import Edge, Include, Node, ProjectGraph, Route, Router
from .rules.base import Context, Finding, Rule

INTERNAL_ERROR = "FDL900"
MAX_FILES_PER_RULE = 5
_RULES_PACKAGE = "fastapi_deplint.rules"


@dataclasses.dataclass(frozen=True, slots=True)
class Culprit:
    path: str
    line: int
    what: str  # "route `items.read`", "`get_db`", "" ...


def run_rule(rule_cls: type[Rule], ctx: Context) -> tuple[list[Finding], list[str]]:
    """Findings of one rule plus FDL900 findings for its failures; and the failures' full
    messages with tracebacks (for stderr)."""
    findings: list[Finding] = []
    errors: list[str] = []
    skipped: set[str] = set()
    current = ctx
    while True:
        try:
            for finding in rule_cls().check(current):
                findings.append(finding)
            return findings, errors
        except Exception as exc:  # a bug of ours must not stop the run
            culprit = find_culprit(exc.__traceback__, ctx.graph)
            where = f" on {culprit.path}{f' ({culprit.what})' if culprit.what else ''}" if culprit else ""
            message = f"internal error in rule {rule_cls.code}{where} ({type(exc).__name__}: {exc}); please report it"
            errors.append(message + "\n" + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            line = culprit.line if culprit else 1
            findings.append(Finding(INTERNAL_ERROR, message, culprit.path if culprit else "<project>", line, 0, line, 0, "error"))
            if culprit is None or culprit.path in skipped or len(skipped) + 1 >= MAX_FILES_PER_RULE:
                return findings, errors
            skipped.add(culprit.path)
            current = type(ctx)(without_files(ctx.graph, skipped), ctx.config)


def without_files(graph: ProjectGraph, paths: set[str]) -> ProjectGraph:
    """A view of `graph` without the routes, nodes, routers, includes and modules of `paths`."""
    return dataclasses.replace(
        graph,
        modules={k: m for k, m in graph.modules.items() if m.path not in paths},
        files={k: m for k, m in graph.files.items() if k not in paths},
        nodes={k: n for k, n in graph.nodes.items() if n.file not in paths},
        routers={k: r for k, r in graph.routers.items() if r.file not in paths},
        includes=[i for i in graph.includes if i.file not in paths],
        routes=[r for r in graph.routes if r.file not in paths],
    )


def find_culprit(tb: TracebackType | None, graph: ProjectGraph) -> Culprit | None:
    """The project file the failing rule was working on: innermost rule frame first, then
    any frame (the engine's own frames hold nothing project-specific)."""
    frames: list[FrameType] = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    frames.reverse()
    in_rules = [f for f in frames if str(f.f_globals.get("__name__", "")).startswith(_RULES_PACKAGE)]
    for frame in (*in_rules, *frames):
        found = _in_frame(frame.f_locals.values(), graph)
        if found is not None:
            return found
    return None


def _in_frame(values: Iterable[Any], graph: ProjectGraph) -> Culprit | None:
    module_hit: Culprit | None = None
    functions: list[Function] = []
    for value in values:
        if isinstance(value, Route):
            line = value.def_loc[0] if value.def_loc else value.loc[0]
            return Culprit(value.file, line, f"route `{value.qualname}`")
        if isinstance(value, Node) and value.file:
            return Culprit(value.file, value.loc[0] if value.loc else 1, f"`{value.name}`")
        if isinstance(value, (Router, Include, Edge)) and value.file:
            return Culprit(value.file, value.loc[0], "")
        if isinstance(value, Function):
            functions.append(value)
        elif module_hit is None and isinstance(value, ModuleFacts):
            module_hit = Culprit(value.path, 1, "")
        elif module_hit is None and isinstance(value, str):
            if value in graph.files:
                module_hit = Culprit(value, 1, "")
            elif value in graph.modules:
                module_hit = Culprit(graph.modules[value].path, 1, "")
    if module_hit is not None:
        facts = graph.files.get(module_hit.path)
        for fn in functions:  # `(module, fn)` helpers: point at the function
            if facts is not None and facts.functions.get(fn.qualname) is fn:
                return Culprit(module_hit.path, fn.loc[0], f"`{fn.qualname}`")
    return module_hit
