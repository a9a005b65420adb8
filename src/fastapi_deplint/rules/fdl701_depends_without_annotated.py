"""FDL701 depends-without-annotated (opt-in)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ..facts.expr import x_text
from ..facts.model import Call, Function, Loc, Name, Param, Sub, X
from ..graph import known
from ..graph.model import ProjectGraph
from ..graph.resolve import RExternal, RVar
from ._fastapi_version import project_fastapi
from .base import Context, Finding, Rule

MAX_ALIAS_HOPS = 4
ANNOTATED_SINCE = (0, 95, 0)  # FastAPI supports `Annotated[T, Depends(f)]` from 0.95.0


class DependsWithoutAnnotated(Rule):
    """
    ## What it does
    Flags a parameter whose default value is the dependency marker —
    `db: Session = Depends(get_db)`, `user = Security(get_user, scopes=["me"])`, or a
    module-level marker such as `CurrentUser = Depends(get_current_user)` used as the
    default — instead of `Annotated[T, Depends(f)]`. Points at the parameter (name,
    annotation and default). Opt-in. Silent when `fastapi-version` is set below 0.95,
    which introduced `Annotated` support.

    ## Why is this bad?
    With the marker as the default, the function's signature lies: outside FastAPI the
    parameter is optional and defaults to a `Depends` object, so calling the function
    directly (in a test, from another function) silently passes the marker instead of a
    value, and type checkers accept it. `Annotated` keeps the type and the dependency
    together, lets the same alias be reused (`CurrentUser = Annotated[User,
    Depends(get_current_user)]`), and is what FastAPI's documentation recommends.

    ## Example
    ```python
    @app.get("/items/")
    async def read_items(db: Session = Depends(get_db)): ...
    ```

    ## Use instead
    ```python
    @app.get("/items/")
    async def read_items(db: Annotated[Session, Depends(get_db)]): ...
    ```
    The parameter then has no default, so it may need to move before parameters that
    still have one (or become keyword-only).
    """

    code = "FDL701"
    name = "depends-without-annotated"
    summary = "Write `param: Annotated[T, Depends(f)]` instead of `param: T = Depends(f)`."
    default_enabled = False
    severity = "info"
    fixable = "safe"

    def __init__(self) -> None:
        self._lines: dict[str, list[bytes]] = {}
        self._old: dict[str, bool] = {}

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        if graph.resolver is None:
            return
        for module, facts in sorted(graph.modules.items(), key=lambda item: item[1].path):
            if self._before_annotated(facts.path, ctx.config.fastapi_version):
                continue
            for fn in list(facts.functions.values()):
                for param in fn.params:
                    if param.default is None or self._annotated(graph, module, fn, param.annotation):
                        continue
                    if self._marker(graph, module, fn.parent, param.default) is not None:
                        yield self._finding(facts.path, fn, param)

    def _finding(self, path: str, fn: Function, param: Param) -> Finding:
        """Spans the whole parameter (`name: T = Depends(f)`): all an autofix needs to locate it."""
        default = param.default
        assert default is not None
        start, end = param.loc, default.loc
        ann = self._text(path, param.annotation.loc) if param.annotation is not None else None
        if param.annotation is not None and ann is None:
            ann = x_text(param.annotation)
        marker_text = self._text(path, default.loc) or x_text(default)
        written = f"{param.name}: {ann} = {marker_text}" if ann else f"{param.name}={marker_text}"
        suggestion = f"{param.name}: Annotated[{ann or '<type>'}, {marker_text}]"
        return self.at(
            path,
            (start[0], start[1], end[2], end[3]),
            f"`{written}` declares the dependency as a default value; write `{suggestion}`",
            symbol=fn.qualname,
        )

    def _before_annotated(self, path: str, setting: str | None) -> bool:
        """Every FastAPI version the project allows predates `Annotated` support."""
        folder = os.path.dirname(path)
        if folder not in self._old:
            pinned = project_fastapi(path, setting)
            self._old[folder] = pinned is not None and pinned.high is not None and pinned.high <= ANNOTATED_SINCE
        return self._old[folder]

    def _text(self, path: str, loc: Loc) -> str | None:
        """The source text at `loc` (single-line spans only; `ast` columns are UTF-8 offsets)."""
        if loc[0] != loc[2]:
            return None
        if path not in self._lines:
            try:
                from ..source import read_source  # the autofixer's in-memory text, when it re-lints

                self._lines[path] = read_source(path).splitlines()
            except OSError:
                self._lines[path] = []
        lines = self._lines[path]
        if not 1 <= loc[0] <= len(lines):
            return None
        text = lines[loc[0] - 1][loc[1] : loc[3]].decode("utf-8", "replace").strip()
        return text if text and len(text) <= 120 else None

    @staticmethod
    def _annotated(graph: ProjectGraph, module: str, fn: Function, ann: X | None) -> bool:
        if not isinstance(ann, Sub) or not isinstance(ann.value, Name):
            return False
        assert graph.resolver is not None
        t = graph.resolver.resolve(module, fn.parent, ann.value.dotted)
        return (isinstance(t, RExternal) and known.is_annotated(t.dotted)) or ann.value.dotted.endswith("Annotated")

    @staticmethod
    def _marker(graph: ProjectGraph, module: str, scope: str, x: X | None) -> str | None:
        """"Depends" / "Security" when `x` is (an alias of) a FastAPI dependency marker."""
        assert graph.resolver is not None
        for _ in range(MAX_ALIAS_HOPS):
            if isinstance(x, Call) and isinstance(x.func, Name):
                t = graph.resolver.resolve(module, scope, x.func.dotted)
                if isinstance(t, RExternal):
                    return known.is_depends(t.dotted)
                last = x.func.dotted.rsplit(".", 1)[-1]
                return last if t is None and last in ("Depends", "Security") else None
            if not isinstance(x, Name):
                return None
            t = graph.resolver.resolve(module, scope, x.dotted)
            if not isinstance(t, RVar):
                return None
            module, scope, x = t.module, t.scope, t.assign.value
        return None
