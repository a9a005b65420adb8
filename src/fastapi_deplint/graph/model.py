"""The whole-project dependency graph: nodes (dependency callables), edges (`Depends` sites),
routers with their `include_router` links, and routes with every path that mounts them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..facts.model import Call, Function, Loc, ModuleFacts
from .resolve import Resolver


@dataclass(slots=True)
class Edge:
    """One `Depends(...)`/`Security(...)` (or `dependencies=[...]` entry) pointing at a node."""

    target: str  # node id
    marker: str  # "Depends" | "Security"
    use_cache: bool
    scope: str | None  # Depends(..., scope="function"|"request")
    scopes: tuple[str, ...]  # Security(..., scopes=[...])
    file: str
    loc: Loc  # the marker call (or the annotation that carries it)
    origin: str  # "param" | "decorator" | "router" | "include" | "app"
    param: str | None = None  # parameter name for "param" edges
    text: str = ""  # canonical source text of the marker, for "same dependency" comparisons
    target_loc: Loc | None = None  # location of the target expression (for FDL403)
    called_target: bool = False  # `Depends(f(...))`: the target expression is a call
    # for a called target: (module, scope, call) where the call is written, to judge what it returns (FDL403)
    target_call: tuple[str, str, Call] | None = None


@dataclass(slots=True)
class Node:
    id: str
    name: str  # the short name FastAPI's runtime shows
    kind: str  # function | class | instance | partial | method | external | unknown
    module: str | None
    qualname: str | None  # of the definition whose body runs (function, class, method)
    file: str | None
    loc: Loc | None
    is_async: bool | None
    is_generator: bool | None
    is_security_scheme: bool = False
    is_cached: bool = False  # @lru_cache / @cache
    external: str | None = None  # dotted name for external nodes
    edges: list[Edge] = field(default_factory=list)
    function: Function | None = None  # the body FastAPI executes (function, __call__, method)


@dataclass(slots=True)
class Include:
    parent: str  # router id
    child: str
    prefix: str
    edges: list[Edge]
    file: str
    loc: Loc
    opaque_dependencies: bool = False


@dataclass(slots=True)
class Router:
    id: str  # "<module>:<scope>:<name>"
    kind: str  # "app" | "router" | "unknown"
    module: str
    name: str
    file: str
    loc: Loc
    prefix: str
    edges: list[Edge]
    class_name: str = ""  # the (possibly project-defined) class instantiated
    opaque_dependencies: bool = False  # `dependencies=` we cannot read (a parameter, a call)


@dataclass(slots=True)
class Mount:
    """One way a route is served: the chain of routers from the app down, its full path and
    the route-level dependencies in FastAPI's order (app, includes, routers, decorator)."""

    path: str
    chain: list[str]  # router ids, outermost first
    edges: list[Edge]
    opaque: bool = False  # some `dependencies=` on the way could not be read: may carry auth


@dataclass(slots=True)
class Route:
    endpoint: str  # "<module>.<qualname>", also the endpoint's node id
    module: str
    qualname: str
    file: str
    loc: Loc  # the route decorator (or add_api_route call)
    def_loc: Loc
    methods: list[str]
    path: str  # as declared on its router
    router: str | None
    is_async: bool
    is_websocket: bool
    decorator_edges: list[Edge]
    param_edges: list[Edge]
    function: Function
    decorator_index: int = -1  # position of the route decorator in the decorator list
    opaque_dependencies: bool = False  # decorator `dependencies=` we cannot read
    mounts: list[Mount] = field(default_factory=list)

    def all_edges(self, mount: Mount | None = None) -> list[Edge]:
        """Direct dependencies of the route in FastAPI's order for one mount (or the first)."""
        if mount is None:
            mount = self.mounts[0] if self.mounts else None
        base = mount.edges if mount is not None else self.decorator_edges
        return [*base, *self.param_edges]


@dataclass(slots=True)
class ProjectGraph:
    modules: dict[str, ModuleFacts]  # by module name
    files: dict[str, ModuleFacts]  # by display path
    nodes: dict[str, Node]
    routers: dict[str, Router]
    includes: list[Include]
    routes: list[Route]
    resolver: Resolver | None = None

    def file_facts(self, path: str) -> ModuleFacts | None:
        """Facts by display path (modules parsed late, on first reference, included)."""
        found = self.files.get(path)
        if found is None and len(self.files) != len(self.modules):
            self.files = {facts.path: facts for facts in list(self.modules.values())}
            found = self.files.get(path)
        return found

    def reachable(self, start: list[Edge]) -> list[str]:
        """Node ids reachable from some edges (each once, cycle-safe, in discovery order)."""
        seen: dict[str, None] = {}
        stack = [e.target for e in reversed(start)]
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen[node_id] = None
            node = self.nodes.get(node_id)
            if node is not None:
                stack.extend(e.target for e in reversed(node.edges))
        return list(seen)

    def dependency_nodes(self) -> set[str]:
        """Every node reached from some route."""
        result: set[str] = set()
        for route in self.routes:
            for mount in route.mounts or [None]:  # type: ignore[list-item]
                result.update(self.reachable(route.all_edges(mount)))
        return result
