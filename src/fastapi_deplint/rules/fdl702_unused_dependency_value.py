"""FDL702 unused-dependency-value (opt-in)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..facts import detail
from ..facts.model import Function, ModuleFacts
from ..graph.model import Edge, ProjectGraph
from .base import Context, Finding, Rule

# calls that can read any local by name
DYNAMIC_LOCALS = frozenset({"locals", "vars", "eval", "exec"})


class UnusedDependencyValue(Rule):
    """
    ## What it does
    Flags a route parameter injected with `Depends(...)`/`Security(...)` (directly or
    through an `Annotated` alias) whose value the route never reads. Points at the
    parameter. Opt-in.

    A use anywhere in the body counts, also inside nested functions, lambdas and
    comprehensions. Silent for names starting with `_` (the usual "unused on purpose"
    convention, as in ruff's and pylint's unused-argument checks), for routes that call
    `locals()`/`vars()`/`eval()`/`exec()`, and for dependencies (whose parameters feed
    their own sub-dependencies). `Security` parameters are reported too: the scopes move
    with the marker, `dependencies=[Security(f, scopes=[...])]`.

    ## Why is this bad?
    The parameter only exists to make FastAPI run the dependency (an auth check, a rate
    limit, a header validation), but it reads like an input the route uses: the
    signature is longer than needed and linters warn about an unused argument. FastAPI has
    a place for dependencies whose value is not needed: the route decorator's
    `dependencies=[...]`, which runs them the same way (including yield teardown).

    ## Example
    ```python
    @app.get("/items/")
    async def read_items(user: Annotated[User, Depends(verify_user)]):
        return [{"item": "Foo"}]
    ```

    ## Use instead
    ```python
    @app.get("/items/", dependencies=[Depends(verify_user)])
    async def read_items():
        return [{"item": "Foo"}]
    ```
    """

    code = "FDL702"
    name = "unused-dependency-value"
    summary = "Declare the dependency in the route's `dependencies=[...]` instead of an unused parameter."
    default_enabled = False
    severity = "info"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        seen: set[tuple[str, str, str]] = set()
        for route in sorted(graph.routes, key=lambda r: (r.file, r.def_loc[0])):
            fn = route.function
            facts = graph.modules.get(route.module)
            if facts is None:
                continue
            for edge in route.param_edges:
                name = edge.param
                if edge.origin != "param" or not name or name.startswith("_"):
                    continue
                key = (route.file, fn.qualname, name)
                if key in seen:
                    continue
                seen.add(key)
                if self._used(facts, fn, name, route.file):
                    continue
                param = next((p for p in fn.params if p.name == name), None)
                if param is None:
                    continue
                yield self.at(
                    route.file,
                    param.loc,
                    f"route `{fn.name}` never uses the value of `{name}`; declare "
                    f"`{self._marker(graph, edge)}` in the route decorator's `dependencies=[...]` and drop the parameter",
                    symbol=fn.qualname,
                )

    @staticmethod
    def _used(facts: ModuleFacts, fn: Function, name: str, path: str) -> bool:
        prefix = f"{fn.qualname}.<locals>."
        bodies = [fn, *(f for q, f in facts.functions.items() if q.startswith(prefix))]
        for body in bodies:
            if name in body.loads or any(c.callee in DYNAMIC_LOCALS for c in body.calls):
                return True
        # the facts say unused: confirm on the tree (statement forms the facts skim over)
        node = detail.function_node(path, fn)
        if node is None:
            return False
        return any(isinstance(n, ast.Name) and n.id == name for stmt in node.body for n in ast.walk(stmt))

    @staticmethod
    def _marker(graph: ProjectGraph, edge: Edge) -> str:
        """The marker to move into `dependencies=[...]`: as written, with the class named for
        `Depends()` (whose target FastAPI takes from the annotation)."""
        text = edge.text or f"{edge.marker}()"
        if text.endswith("()"):
            node = graph.nodes.get(edge.target)
            target = node.name.removesuffix("()") if node is not None else ""
            if target:
                return f"{text[:-1]}{target})"
        return text
