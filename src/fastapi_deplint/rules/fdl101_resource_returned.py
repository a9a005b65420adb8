"""FDL101 resource-returned-not-yielded."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.model import Call, Function, Name
from ._resources import resource_kind
from .base import Context, Finding, Rule


class ResourceReturnedNotYielded(Rule):
    """
    ## What it does
    Flags a dependency that acquires a closable resource — a DB session or connection, an
    HTTP client, a file, a pool checkout (`SessionLocal()`, `Session(engine)`,
    `engine.connect()`, `pool.acquire()`, `open()`, `httpx.Client()`,
    `aiohttp.ClientSession()`) — and `return`s it.

    ## Why is this bad?
    FastAPI only runs teardown code for dependencies that `yield`. A returned session is never
    closed: every request leaks a connection until the pool is exhausted and the app hangs.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        return db
    ```

    ## Use instead
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    ```
    (or `with SessionLocal() as db: yield db`). Values that are not resources — settings,
    parsed tokens, objects taken from `request.app.state` — are fine to return.
    """

    code = "FDL101"
    name = "resource-returned-not-yielded"
    summary = "Yield the resource and close it in `finally` (or `with ...: yield`)."
    fixable = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for node in ctx.project_dependencies():
            fn = node.function
            if fn is None or fn.is_generator or node.kind not in ("function", "method", "partial") or not node.module:
                continue
            module = node.module
            kind = self._returned_resource(ctx, module, fn)
            if kind is not None:
                what, callee = kind
                yield self.at_def(
                    node,
                    f"dependency `{fn.name}` returns a {what} from `{callee}()` that is never closed; "
                    "make it a yield dependency and close it in `finally`",
                )

    def _returned_resource(self, ctx: Context, module: str, fn: Function) -> tuple[str, str] | None:
        graph = ctx.graph
        extra = ctx.config.resource_factories
        local = graph.modules[module].assigns.get(fn.qualname, {})
        for value in fn.returns:
            call: Call | None = None
            if isinstance(value, Call):
                call = value
            elif isinstance(value, Name) and "." not in value.dotted:
                assigns = local.get(value.dotted)
                if assigns and isinstance(assigns[-1].value, Call):
                    call = assigns[-1].value
            if call is None or not isinstance(call.func, Name):
                continue
            if self._closed_in_finally_or_with(fn, call.func.dotted):
                continue
            if isinstance(value, Name) and value.dotted in self._finally_closed(ctx, module, fn):
                continue  # closed before the route gets it: FDL103 reports that
            kind = resource_kind(graph, module, fn, call.func.dotted, extra)
            if kind is not None:
                return kind, call.func.dotted
        return None

    @staticmethod
    def _finally_closed(ctx: Context, module: str, fn: Function) -> set[str]:
        from ._lifecycle import closed_by_finally

        facts = ctx.graph.modules.get(module)
        return closed_by_finally(facts.path, fn) if facts is not None and fn.has_finally else set()

    @staticmethod
    def _closed_in_finally_or_with(fn: Function, callee: str) -> bool:
        """A resource created as a `with` item is closed by the block (returned closed: FDL103)."""
        return any(c.callee == callee and c.in_with for c in fn.calls)
