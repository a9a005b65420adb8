"""FDL502 auth-per-route-not-router."""

from __future__ import annotations

from collections.abc import Iterator

from ..graph.model import Edge, Route
from ._auth import AuthIndex
from .base import Context, Finding, Rule

MIN_ROUTES = 3

EdgeKey = tuple[str, str, tuple[str, ...], str]


class AuthPerRouteNotRouter(Rule):
    """
    ## What it does
    Flags a router (or app) with three or more routes where every route declares the same
    auth dependency itself — same callable, same arguments and scopes — in its parameters
    or its decorator's `dependencies=[...]`, while the router declares none.

    ## Why is this bad?
    The next route added to the router has to remember the dependency too; the one that
    forgets it is public (FDL501). Declared once on the router, it protects every route,
    present and future.

    ## Example
    ```python
    router = APIRouter(prefix="/items")

    @router.get("/")
    def list_items(user: User = Depends(get_current_user)): ...

    @router.post("/")
    def create_item(item: Item, user: User = Depends(get_current_user)): ...

    @router.delete("/{item_id}")
    def delete_item(item_id: int, user: User = Depends(get_current_user)): ...
    ```

    ## Use instead
    ```python
    router = APIRouter(prefix="/items", dependencies=[Depends(get_current_user)])
    ```
    Routes that use the value can keep the parameter: FastAPI caches the dependency, so it
    still runs once per request. Routes that differ in roles or scopes are what per-route
    auth is for and are left alone.
    """

    code = "FDL502"
    name = "auth-per-route-not-router"
    summary = "Declare the shared auth dependency once in the router's `dependencies=[...]`."
    severity = "info"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        index = AuthIndex(graph, ctx.config)
        by_router: dict[str, list[Route]] = {}
        for route in graph.routes:
            if route.router is not None:
                by_router.setdefault(route.router, []).append(route)
        for router_id, routes in sorted(by_router.items()):
            router = graph.routers.get(router_id)
            if router is None or router.kind == "unknown" or len(routes) < MIN_ROUTES:
                continue
            if index.first_auth(router.edges) is not None:
                continue
            common: dict[EdgeKey, Edge] | None = None
            for route in routes:
                keys = {self._key(e): e for e in [*route.decorator_edges, *route.param_edges] if index.edge_auth(e)}
                common = keys if common is None else {k: e for k, e in common.items() if k in keys}
                if not common:
                    break
            if not common:
                continue
            key, edge = next(iter(common.items()))
            if not edge.use_cache:
                continue
            # already declared on an include_router/app above: the parameters just use the value
            if any(e.target == key[0] and e.origin != "decorator" for r in routes for m in r.mounts for e in m.edges):
                continue
            tail = (
                "(if routes still use its value, bind the call to one name and use it in both places so "
                "FastAPI caches it)"
                if edge.called_target
                else "(routes that use the value can keep the parameter: FastAPI runs the dependency once per request)"
            )
            where = "FastAPI" if router.kind == "app" else "APIRouter"
            yield self.at(
                router.file,
                router.loc,
                f"all {len(routes)} routes of `{router.name}` declare `{edge.text or edge.target}` themselves "
                f"and the {'app' if router.kind == 'app' else 'router'} declares no auth; declare it once in "
                f"`{where}(dependencies=[...])` so a new route cannot forget it {tail}",
                symbol=router.name,
            )

    @staticmethod
    def _key(edge: Edge) -> EdgeKey:
        """Same callable, marker and scopes; the call's text too for `Depends(factory("x"))`
        and `Depends(RequiresRole("admin"))`, whose arguments make the difference."""
        return (edge.target, edge.marker, tuple(sorted(edge.scopes)), edge.text if edge.called_target else "")
