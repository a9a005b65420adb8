"""FDL107 resource-in-background-task."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.model import Function
from ..graph.model import Edge, Node
from ._fastapi_version import project_fastapi, teardown_before_background
from ._lifecycle import body_of, function_home, yielded_resource
from .base import Context, Finding, Rule


class ResourceInBackgroundTask(Rule):
    """
    ## What it does
    Flags `background_tasks.add_task(..., db, ...)` where `db` is injected from a yield
    dependency whose teardown runs *before* the background task:

    - the dependency is declared with `Depends(get_db, scope="function")`: FastAPI runs its
      exit code as soon as the endpoint returns, before the response is sent and so before
      background tasks run;
    - or the project runs FastAPI 0.106–0.117 (read from `uv.lock`, `poetry.lock`,
      `Pipfile.lock`, `pyproject.toml` or `requirements*.txt` of the project, or the
      `fastapi-version` setting): those versions ran the exit code of every yield
      dependency before background tasks. FastAPI 0.118 and later run it after the
      response, background tasks included, for the default `scope="request"`.

    Only values that are resources count (a session or connection from a known factory, a
    `with` target, something the dependency closes). Points at the `add_task` call.

    ## Why is this bad?
    The task receives a session or connection that is already closed (or returned to the
    pool and handed to another request): it fails, or worse, works on a connection some
    other request is using.

    ## Example
    ```python
    @app.post("/orders")
    def create_order(tasks: BackgroundTasks, db: Annotated[Session, Depends(get_db, scope="function")]):
        tasks.add_task(send_receipts, db)
    ```

    ## Use instead
    ```python
    def send_receipts():
        with SessionLocal() as db:  # the task opens what it needs
            ...

    @app.post("/orders")
    def create_order(tasks: BackgroundTasks, db: Annotated[Session, Depends(get_db)]):
        tasks.add_task(send_receipts)
    ```
    """

    code = "FDL107"
    name = "resource-in-background-task"
    summary = "Open a new session/connection inside the background task instead of passing the injected one."

    def check(self, ctx: Context) -> Iterator[Finding]:
        seen: set[tuple[str, str]] = set()
        resources: dict[str, str | None] = {}
        for path, fn, edges in self._functions(ctx):
            if (path, fn.qualname) in seen:
                continue
            seen.add((path, fn.qualname))
            by_param = {e.param: e for e in edges if e.origin == "param" and e.param}
            for call in fn.calls:
                if not call.callee.endswith(".add_task"):
                    continue
                for name in dict.fromkeys(call.arg_names):
                    edge = by_param.get(name)
                    node = ctx.graph.nodes.get(edge.target) if edge is not None else None
                    if edge is None or node is None or not node.is_generator:
                        continue
                    if node.id not in resources:
                        body = body_of(ctx, node)
                        resources[node.id] = yielded_resource(ctx, body) if body is not None else None
                    what = resources[node.id]
                    if what is None:
                        continue
                    reason = self._reason(ctx, path, edge)
                    if reason is not None:
                        yield self.at(
                            path,
                            call.loc,
                            f"`{name}` comes from yield dependency `{node.name}` ({what}), but {reason}: the background "
                            f"task gets it closed; open a new one inside the task instead of passing `{name}`",
                            symbol=fn.qualname,
                        )

    @staticmethod
    def _reason(ctx: Context, path: str, edge: Edge) -> str | None:
        if edge.scope == "function":
            return (
                '`scope="function"` makes FastAPI run its teardown when the endpoint returns, before the '
                "response is sent and before background tasks run"
            )
        pinned = project_fastapi(path, ctx.config.fastapi_version)
        if teardown_before_background(pinned):
            assert pinned is not None
            return (
                f"with {pinned.source} FastAPI runs the teardown of yield dependencies before background tasks "
                "(0.106 to 0.117; 0.118 and later run it after them)"
            )
        return None

    @staticmethod
    def _functions(ctx: Context) -> Iterator[tuple[str, Function, list[Edge]]]:
        """Every endpoint and dependency body with the edges that inject its parameters."""
        for route in ctx.graph.routes:
            yield route.file, route.function, route.param_edges
        for node_id in sorted(ctx.dependency_nodes()):
            node: Node | None = ctx.graph.nodes.get(node_id)
            home = function_home(ctx, node) if node is not None else None
            if node is not None and node.function is not None and home is not None:
                yield home[1], node.function, node.edges
