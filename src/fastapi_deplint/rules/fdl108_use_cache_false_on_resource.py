"""FDL108 use-cache-false-on-resource."""

from __future__ import annotations

from collections.abc import Iterator

from ..graph.model import Edge, ProjectGraph, Route
from ._lifecycle import body_of, yielded_resource
from .base import Context, Finding, Rule


class UseCacheFalseOnResource(Rule):
    """
    ## What it does
    Flags `Depends(get_db, use_cache=False)` where `get_db` is a yield dependency that
    provides a resource (a session, a connection, a client, something it closes at
    teardown) and the same request also resolves `get_db` through another `Depends` — in
    the route, a router, or any sub-dependency. Points at the `use_cache=False` marker.

    ## Why is this bad?
    FastAPI normally solves a dependency once per request and hands every user the same
    value. `use_cache=False` opts out: this site gets a second session with its own
    connection and transaction. Writes made through one are invisible to the other until
    commit, a rollback on one does not undo the other, and each request holds two pool
    connections (deadlocks under load once the pool is exhausted). If a second, independent
    transaction is really intended, make that explicit with a differently named
    dependency.

    ## Example
    ```python
    def get_repo(db: Annotated[Session, Depends(get_db, use_cache=False)]):
        return Repo(db)

    @app.post("/items")
    def create(repo: Annotated[Repo, Depends(get_repo)], db: Annotated[Session, Depends(get_db)]): ...
    ```

    ## Use instead
    ```python
    def get_repo(db: Annotated[Session, Depends(get_db)]):
        return Repo(db)
    ```
    """

    code = "FDL108"
    name = "use-cache-false-on-resource"
    summary = "Drop `use_cache=False` so the request shares one session/transaction."

    def check(self, ctx: Context) -> Iterator[Finding]:
        resources: dict[str, str | None] = {}
        reported: set[int] = set()
        graph = ctx.graph
        for route in graph.routes:
            for mount in route.mounts or [None]:  # type: ignore[list-item]
                edges = self._request_edges(graph, route, route.all_edges(mount))
                for edge in edges:
                    if edge.use_cache or id(edge) in reported:
                        continue
                    others = [e for e in edges if e.target == edge.target and e is not edge]
                    if not others:
                        continue  # resolved once per request anyway
                    what = self._resource(ctx, edge.target, resources)
                    if what is None:
                        continue
                    reported.add(id(edge))
                    node = graph.nodes[edge.target]
                    yield self.at_edge(
                        edge,
                        f"`use_cache=False` gives this site its own instance of yield dependency `{node.name}` ({what}), "
                        f"separate from the one the rest of `{' '.join(route.methods)} {mount.path if mount else route.path}` "
                        "uses (another session/transaction per request); drop `use_cache=False`",
                    )

    @staticmethod
    def _request_edges(graph: ProjectGraph, route: Route, start: list[Edge]) -> list[Edge]:
        """Every `Depends` solved for one request (each node's own edges once)."""
        edges = list(start)
        for node_id in graph.reachable(start):
            node = graph.nodes.get(node_id)
            if node is not None:
                edges.extend(node.edges)
        return edges

    @staticmethod
    def _resource(ctx: Context, node_id: str, memo: dict[str, str | None]) -> str | None:
        if node_id not in memo:
            node = ctx.graph.nodes.get(node_id)
            body = body_of(ctx, node) if node is not None and node.is_generator else None
            memo[node_id] = yielded_resource(ctx, body) if body is not None else None
        return memo[node_id]
