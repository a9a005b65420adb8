"""Which modules a run's findings tie together: the parts of a project that can be analysed
again alone after an edit (see `run_cache`).

Linking and the rules combine what two modules say only through the resolver (an import, a
star import, a base class, a module parsed on demand) or through the graph it built (a route,
its router, the routers that include it, the dependencies it reaches, the files of their
`Depends`). The resolver joins every module one question of it touched (`Resolver` calls
`join` when the outermost call returns), `join_graph` joins what the graph connects, and a
rule that pairs modules another way joins them itself (FDL601: a test module and the
`conftest.py` files above it). The connected parts are independent: an edit inside one can
change only findings in that part's files, unless the part now reaches another one, which
the run of the part detects (`run_cache.Partial`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .graph.model import Edge, ProjectGraph


class Components:
    """Union-find over module names."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, name: str) -> str:
        parent = self.parent
        root = parent.setdefault(name, name)
        while parent[root] != root:
            root = parent[root]
        while parent[name] != root:  # path compression
            parent[name], name = root, parent[name]
        return root

    def join(self, names: Iterable[str]) -> None:
        first: str | None = None
        for name in names:
            if first is None:
                first = self.find(name)
                continue
            other = self.find(name)
            if other != first:
                self.parent[other] = first

    def pairs(self) -> list[tuple[str, str]]:
        """Enough (name, representative) pairs to rebuild the partition elsewhere."""
        return [(name, self.find(name)) for name in list(self.parent)]

    def groups(self) -> list[list[str]]:
        found: dict[str, list[str]] = {}
        for name in list(self.parent):
            found.setdefault(self.find(name), []).append(name)
        return list(found.values())


def join_graph(graph: ProjectGraph, components: Components) -> None:
    """Join what the graph connects: each route with its router, every router that mounts it,
    the files of the `Depends` on the way and the dependencies they reach; each dependency
    with the ones it depends on."""
    module_of = {facts.path: facts.module for facts in list(graph.modules.values())}

    def edge_modules(edges: Iterable[Edge]) -> list[str]:
        found = []
        for edge in edges:
            if edge.file in module_of:
                found.append(module_of[edge.file])
            target = graph.nodes.get(edge.target)
            if target is not None and target.module is not None:
                found.append(target.module)
        return found

    for name in list(graph.modules):
        components.find(name)  # every module is in some part, alone if nothing joins it
    for node in graph.nodes.values():
        if node.module is not None:
            components.join([node.module, *edge_modules(node.edges)])
    for router in graph.routers.values():
        components.join([router.module, *edge_modules(router.edges)])
    for include in graph.includes:
        ends = [graph.routers[r].module for r in (include.parent, include.child) if r in graph.routers]
        components.join([*ends, *edge_modules(include.edges)])
    for route in graph.routes:
        chain = [graph.routers[r].module for m in route.mounts for r in m.chain if r in graph.routers]
        edges = [e for m in route.mounts for e in m.edges] + route.decorator_edges + route.param_edges
        components.join([route.module, *chain, *edge_modules(edges)])


def parts_of(graph: ProjectGraph) -> dict[str, int]:
    """Each analysed file's part (absolute path -> part number): every module linking or the
    rules touched, parsed or only read. Call after the rules ran."""
    resolver = graph.resolver
    if resolver is None:
        return {}
    components = resolver.components
    join_graph(graph, components)
    parts: dict[str, int] = {}
    for number, names in enumerate(components.groups()):
        for name in names:
            facts = resolver.modules.get(name)
            path = facts.path if facts is not None else resolver.deferred_path(name)
            if path is not None:
                parts[os.path.abspath(path)] = number
    return parts
