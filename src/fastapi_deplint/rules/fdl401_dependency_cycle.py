"""FDL401 dependency-cycle."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ..graph.model import Edge, ProjectGraph
from .base import Context, Finding, Rule


def strongly_connected(graph: ProjectGraph) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the SCCs that contain a cycle (size > 1 or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in sorted(graph.nodes):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node_id, i = work.pop()
            if i == 0:
                index[node_id] = low[node_id] = counter
                counter += 1
                stack.append(node_id)
                on_stack.add(node_id)
            edges = graph.nodes[node_id].edges
            recurse = False
            while i < len(edges):
                target = edges[i].target
                i += 1
                if target not in graph.nodes:
                    continue
                if target not in index:
                    work.append((node_id, i))
                    work.append((target, 0))
                    recurse = True
                    break
                if target in on_stack:
                    low[node_id] = min(low[node_id], index[target])
            if recurse:
                continue
            if low[node_id] == index[node_id]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                if len(component) > 1 or any(e.target == node_id for e in edges):
                    result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
    return result


def entry_distances(graph: ProjectGraph) -> dict[str, int]:
    """Shortest number of `Depends` hops from any route (or router/app dependency list)."""
    dist: dict[str, int] = {}
    queue: deque[str] = deque()
    for route in graph.routes:
        for mount in route.mounts or [None]:  # type: ignore[list-item]
            for edge in route.all_edges(mount):
                if edge.target not in dist:
                    dist[edge.target] = 1
                    queue.append(edge.target)
    while queue:
        node_id = queue.popleft()
        node = graph.nodes.get(node_id)
        for edge in node.edges if node is not None else ():
            if edge.target not in dist:
                dist[edge.target] = dist[node_id] + 1
                queue.append(edge.target)
    return dist


def shortest_cycle(graph: ProjectGraph, start: str, members: set[str]) -> list[Edge]:
    """The edges of a shortest cycle through `start` inside one SCC (BFS, bounded by its size)."""
    parent: dict[str, tuple[str, Edge]] = {}
    queue: deque[str] = deque([start])
    seen = {start}
    while queue:
        node_id = queue.popleft()
        for edge in graph.nodes[node_id].edges:
            if edge.target == start:
                path = [edge]
                current = node_id
                while current != start:
                    prev, via = parent[current]
                    path.append(via)
                    current = prev
                path.reverse()
                return path
            if edge.target in members and edge.target not in seen:
                seen.add(edge.target)
                parent[edge.target] = (node_id, edge)
                queue.append(edge.target)
    return []


class DependencyCycle(Rule):
    """
    ## What it does
    Flags a cycle in the dependency graph: a dependency that, directly or through other
    dependencies (also across modules, class dependencies and `Security` included), depends on
    itself. One finding per cycle, at the `Depends(...)` that closes it.

    ## Why is this bad?
    FastAPI builds each route's dependency tree when the route is registered by walking every
    `Depends` recursively. A cycle never ends: the app fails at import with `RecursionError`
    (and even if it did not, there is no order in which the values could be computed).

    ## Example
    ```python
    def get_user(token: str = Depends(get_token)): ...

    def get_token(user=Depends(get_user)): ...  # closes the cycle
    ```

    ## Use instead
    Break the cycle: move the shared part into a third dependency that both use, or pass the
    value as a plain parameter instead of `Depends`.
    ```python
    def get_token(authorization: str = Header()): ...

    def get_user(token: str = Depends(get_token)): ...
    ```
    """

    code = "FDL401"
    name = "dependency-cycle"
    summary = "Break the cycle: move the shared part into a separate dependency."
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        components = strongly_connected(graph)
        if not components:
            return
        dist = entry_distances(graph)
        for component in components:
            members = set(component)
            # start where requests enter the cycle; the edge back to it is the one that closes it
            start = min(component, key=lambda n: (dist.get(n, 1 << 30), n))
            cycle = shortest_cycle(graph, start, members)
            if not cycle:
                continue
            closing = cycle[-1]
            names = [self._short(graph, start)] + [self._short(graph, e.target) for e in cycle]
            if len(set(names[:-1])) < len(names) - 1:  # same short name twice: qualify
                names = [start] + [e.target for e in cycle]
            owner = graph.nodes[cycle[-2].target if len(cycle) > 1 else start]
            yield self.at_edge(
                closing,
                f"dependency cycle {' -> '.join(names)}: FastAPI cannot resolve it "
                "(RecursionError when the route is registered); move the shared part into a separate dependency",
                symbol=owner.qualname or "",
            )

    @staticmethod
    def _short(graph: ProjectGraph, node_id: str) -> str:
        node = graph.nodes.get(node_id)
        return node.name if node is not None else node_id
