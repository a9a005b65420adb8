"""FDL403: `Depends(f())` -> `Depends(f)` (also `Security`), safe.

Only where the rule's own analysis says the call is `autofixable`: `f` is a project function
called with no arguments whose result is not callable, and it is not a `@contextmanager`
function (that one also needs its decorator removed, which is left to the user). FastAPI
then calls `f` on every request and injects its parameters — what `Depends` is for.
"""

from __future__ import annotations

import os

import libcst as cst

from ..rules.base import Finding
from .base import SAFE, FileContext, Fixer, Plan, dotted

MARKERS = ("Depends", "Security")


class PassTheFunction(Fixer):
    code = "FDL403"

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        if ctx.graph is None:
            return []
        sites = self._fixable_sites(ctx)
        result = []
        for finding in findings:
            call = ctx.node_at(cst.Call, finding.line, finding.col)
            if call is None or call.args or (finding.line, dotted(call.func)) not in sites or not self._in_marker(ctx, call):
                continue
            callee = dotted(call.func)
            result.append(
                Plan([finding], SAFE, f"Pass `{callee}` itself", [ctx.span(call)], [(call, _drop_call)])
            )
        return result

    def __init__(self) -> None:
        self._memo: tuple[object, dict[str, set[tuple[int, str]]]] | None = None

    def _fixable_sites(self, ctx: FileContext) -> set[tuple[int, str]]:
        """(line, callee as written) of the calls the rule's analysis calls autofixable."""
        from ..rules.fdl403_depends_called import called_dependencies

        assert ctx.graph is not None
        if self._memo is None or self._memo[0] is not ctx.graph:
            sites: dict[str, set[tuple[int, str]]] = {}
            for site in called_dependencies(ctx.graph):
                if site.autofixable:
                    sites.setdefault(os.path.realpath(site.path), set()).add((site.loc[0], site.callee))
            self._memo = (ctx.graph, sites)
        return self._memo[1].get(os.path.realpath(ctx.path), set())

    @staticmethod
    def _in_marker(ctx: FileContext, call: cst.Call) -> bool:
        """`call` is the dependency argument of a `Depends(...)`/`Security(...)`."""
        arg = ctx.parent(call)
        marker = ctx.parent(arg) if isinstance(arg, cst.Arg) else None
        if not isinstance(arg, cst.Arg) or not isinstance(marker, cst.Call) or arg.star:
            return False
        name = dotted(marker.func)
        if name is None or name.rsplit(".", 1)[-1] not in MARKERS:
            return False
        first = marker.args[0] if marker.args else None
        return (arg is first and arg.keyword is None) or (arg.keyword is not None and arg.keyword.value == "dependency")


def _drop_call(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.Call)
    return node.func.with_changes(lpar=[*node.lpar, *node.func.lpar], rpar=[*node.func.rpar, *node.rpar])
