"""FDL402 dependency-chain-too-deep."""

from __future__ import annotations

from collections.abc import Iterator

from ..graph.model import ProjectGraph
from .base import Context, Finding, Rule


class DepthTable:
    """Longest `Depends` chain below each node (a leaf dependency is 1), memoised and cycle-safe:
    an edge back into a node still being computed is ignored (cycles are FDL401's business)."""

    def __init__(self, graph: ProjectGraph) -> None:
        self.graph = graph
        self.depth: dict[str, int] = {}
        self.next: dict[str, str | None] = {}

    def of(self, root: str) -> int:
        if root in self.depth:
            return self.depth[root]
        active: set[str] = {root}
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node_id, i = work.pop()
            node = self.graph.nodes.get(node_id)
            edges = node.edges if node is not None else []
            descended = False
            while i < len(edges):
                target = edges[i].target
                i += 1
                if target not in self.depth and target not in active:
                    work.append((node_id, i))
                    work.append((target, 0))
                    active.add(target)
                    descended = True
                    break
            if descended:
                continue
            best, best_child = 0, None
            for edge in edges:
                d = self.depth.get(edge.target)  # None: on the active path (a cycle)
                if d is not None and d > best:
                    best, best_child = d, edge.target
            self.depth[node_id] = best + 1
            self.next[node_id] = best_child
            active.discard(node_id)
        return self.depth[root]

    def chain(self, node_id: str) -> list[str]:
        result: list[str] = []
        current: str | None = node_id
        while current is not None and current not in result:
            result.append(current)
            current = self.next.get(current)
        return result


class DependencyChainTooDeep(Rule):
    """
    ## What it does
    Flags a route whose dependency chain — route-level, router-level and app-level dependencies
    and their sub-dependencies — is deeper than `max-depth` (default 5 levels below the route).
    One finding per route, spelling the deepest chain.

    ## Why is this bad?
    Every level is another function FastAPI resolves (and another place a request can fail or
    a resource can be opened) before the route runs. Very deep chains are hard to follow, to
    override in tests and to reason about when one level changes; they usually mean wrappers
    that only pass a value along.

    ## Example
    ```python
    def get_settings(): ...
    def get_engine(s=Depends(get_settings)): ...
    def get_session(e=Depends(get_engine)): ...
    def get_repo(s=Depends(get_session)): ...
    def get_service(r=Depends(get_repo)): ...
    def get_facade(s=Depends(get_service)): ...

    @app.get("/items")
    def items(f=Depends(get_facade)): ...  # 6 levels
    ```

    ## Use instead
    Collapse pass-through levels (one dependency that builds the service from the session),
    and move app-wide objects such as engines and settings to lifespan / `app.state`.
    ```python
    def get_service(session: Session = Depends(get_session)) -> ItemService:
        return ItemService(ItemRepository(session))
    ```
    """

    code = "FDL402"
    name = "dependency-chain-too-deep"
    summary = "Flatten the dependency chain: collapse pass-through dependencies."

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        limit = ctx.config.max_depth
        table = DepthTable(graph)
        for route in graph.routes:
            best, best_target, label = 0, None, route.path
            for mount in route.mounts or [None]:  # type: ignore[list-item]
                path = mount.path if mount is not None else route.path
                for edge in route.all_edges(mount):
                    d = table.of(edge.target)
                    if d > best or (d == best and best_target is not None and len(path) < len(label)):
                        best, best_target, label = d, edge.target, path
            if best <= limit or best_target is None:
                continue
            names = [self._short(graph, n) for n in table.chain(best_target)]
            yield self.at(
                route.file,
                route.loc,
                f"dependency chain of `{' '.join(route.methods)} {label}` is {best} levels deep (max {limit}): "
                f"{route.function.name} -> {' -> '.join(names)}; collapse pass-through dependencies",
                symbol=route.qualname,
            )

    @staticmethod
    def _short(graph: ProjectGraph, node_id: str) -> str:
        node = graph.nodes.get(node_id)
        return node.name if node is not None else node_id
