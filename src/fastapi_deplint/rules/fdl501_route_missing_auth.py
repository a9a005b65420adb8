"""FDL501 route-missing-auth."""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterator

from ..graph.model import Mount, Route
from ._auth import AuthIndex, is_public
from .base import Context, Finding, Rule

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SELF_SEGMENTS = frozenset({"me", "self", "my", "mine", "current", "whoami", "profile", "account"})


MAJORITY = 2 / 3  # share of a router's non-public routes that must be protected
MAX_OPEN_ENDPOINTS = 1  # more unprotected endpoints than this in one router: public by design


# Calls that build a response or an error and nothing else.
INERT_CALLS = frozenset(
    {
        "HTTPException",
        "Response",
        "JSONResponse",
        "ORJSONResponse",
        "UJSONResponse",
        "PlainTextResponse",
        "HTMLResponse",
        "RedirectResponse",
        "dict",
        "list",
        "str",
        "int",
        "float",
        "bool",
        "len",
    }
)
INERT_NAMES = INERT_CALLS | {"status", "HTTPStatus", "True", "False", "None"}


def touches_nothing(route: Route) -> bool:
    """A stub or constant answer (`return {"status": True}`, `raise HTTPException(410)`): no
    injected dependency, no call but building a response, no module-level name read. There is
    nothing behind it to protect."""
    fn = route.function
    if route.param_edges or route.decorator_edges:
        return False
    params = {p.name for p in fn.params}
    if any(c.callee.rpartition(".")[2] not in INERT_CALLS for c in fn.calls):
        return False
    return not (fn.loads - params - INERT_NAMES)


class RouteMissingAuth(Rule):
    """
    ## What it does
    Flags a route that has no auth dependency on some path that mounts it while other routes
    of the same router declare one (a mixed public/protected router), or that sits under a
    protected prefix (`protected-prefixes`, default `/admin` and `/internal`) with no auth.
    An auth dependency is one whose dependency tree contains a `fastapi.security` scheme, a
    `Security(...)` marker, a dependency raising `HTTPException` 401/403, or a name listed in
    `auth-dependencies`. Auth declared on the router, an `include_router(..., dependencies=...)`
    or the app counts. Routes that are public by design (login, token, signup, logout,
    health, webhooks, OAuth callbacks, docs and the `public-routes` patterns, matched against
    the full path and the endpoint name) are left alone.

    ## Why is this bad?
    When auth is declared route by route, the route where the `Depends(get_current_user)` was
    forgotten is publicly reachable — and nothing fails: it answers everyone.

    ## Example
    ```python
    router = APIRouter(prefix="/items")

    @router.get("/")
    def list_items(user: User = Depends(get_current_user)): ...

    @router.delete("/{item_id}")
    def delete_item(item_id: int): ...  # anyone can delete
    ```

    ## Use instead
    ```python
    router = APIRouter(prefix="/items", dependencies=[Depends(get_current_user)])
    ```
    or add the dependency to the route. A route that is public on purpose can be listed in
    `extend-public-routes` (a path or endpoint-name pattern).
    """

    code = "FDL501"
    name = "route-missing-auth"
    summary = "Add the auth dependency to the route, or declare it once on the router."
    cost = 4

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        strong = AuthIndex(graph, ctx.config)
        weak = AuthIndex(graph, ctx.config, weak=True)
        by_router: dict[str | None, list[Route]] = {}
        for route in graph.routes:
            by_router.setdefault(route.router, []).append(route)
        focus = ctx.focus  # a finding lands at a route; its verdict reads only its router's routes
        if focus is not None:
            mine = {route.router for route in graph.routes if route.file in focus}
            by_router = {router_id: routes for router_id, routes in by_router.items() if router_id in mine}
        # protection on each route's own declaration (strong evidence only)
        own = {id(r): strong.route_self_protected(r) for routes in by_router.values() for r in routes}

        @functools.cache
        def project_uses_auth() -> bool:  # (asked only when a protected prefix needs it)
            return (
                any(own.values())
                or any(strong.route_self_protected(r) for r in graph.routes if id(r) not in own)
                or any(any(strong.mount_protected(r, m) for m in r.mounts) for r in graph.routes)
            )

        for router_id, routes in by_router.items():
            routes = [r for r in routes if not self._in_test_file(ctx, r)]
            served = [
                r for r in routes if not r.is_websocket and r.mounts and not is_public(ctx.config, r, [m.path for m in r.mounts])
            ]
            open_mounts_of = {
                id(r): [m for m in r.mounts if not self._protected(weak, r, m)] for r in routes if not r.is_websocket
            }
            # Endpoints of the router left open on purpose or by mistake. A forgotten `Depends`
            # is a lone outlier; several open endpoints beside protected ones are a public
            # subset by design (feature flags, lookups, assets, bot webhooks: measured on real
            # apps, they outnumber forgotten dependencies many times over).
            # Reads and writes are counted apart (public reads beside protected writes is a
            # design of its own, see `_comparable`).
            open_endpoints: dict[bool, set[str]] = {True: set(), False: set()}
            for r in served:
                if open_mounts_of[id(r)] and not is_public(ctx.config, r, [m.path for m in open_mounts_of[id(r)]]):
                    open_endpoints[READ_METHODS.issuperset(r.methods)].add(r.endpoint)
            for route in sorted(routes, key=lambda r: (r.file, r.loc[0])):
                if route.is_websocket or not route.mounts or (focus is not None and route.file not in focus):
                    continue
                open_mounts = open_mounts_of[id(route)]
                if not open_mounts or is_public(ctx.config, route, [m.path for m in open_mounts]):
                    continue
                if touches_nothing(route):
                    continue
                sibling = next(
                    (
                        r
                        for r in sorted(routes, key=lambda r: (r.file, r.loc[0]))
                        if r is not route and own[id(r)] and self._comparable(route, r)
                    ),
                    None,
                )
                shown = f"`{' '.join(route.methods)} {open_mounts[0].path}` (`{route.function.name}`)"
                # a forgotten `Depends` is an outlier: most comparable routes of the router are
                # protected (real apps mix public and protected routes by design all the time)
                is_read = READ_METHODS.issuperset(route.methods)
                comparable = [r for r in served if r is not route and self._comparable(route, r)]
                same_kind = [r for r in comparable if READ_METHODS.issuperset(r.methods) == is_read]
                mostly_protected = self._mostly_protected(same_kind, own) or (
                    not is_read and self._mostly_protected(comparable, own)
                )
                if sibling is not None and mostly_protected and len(open_endpoints[is_read]) <= MAX_OPEN_ENDPOINTS:
                    router = graph.routers.get(router_id) if router_id else None
                    group = (
                        "group the protected routes in an `APIRouter(dependencies=[...])`"
                        if router is not None and router.kind == "app"
                        else "declare it once in `APIRouter(dependencies=[...])` and keep public routes on another router"
                    )
                    yield self.at(
                        route.file,
                        route.loc,
                        f"route {shown} has no auth dependency, while `{sibling.function.name}` of the same "
                        f"{'app' if router is not None and router.kind == 'app' else 'router'} is protected by "
                        f"{own[id(sibling)]}; add the dependency to this route, or {group} (list the route in "
                        "`extend-public-routes` if it is public on purpose)",
                        symbol=route.function.qualname,
                    )
                    continue
                prefix = self._protected_prefix(ctx.config.protected_prefixes, open_mounts)
                if prefix is not None and project_uses_auth():
                    yield self.at(
                        route.file,
                        route.loc,
                        f"route {shown} sits under the protected prefix `{prefix}` but no auth dependency "
                        "reaches it; add one to the route, its router or the `include_router(..., "
                        "dependencies=[...])` that mounts it",
                        symbol=route.function.qualname,
                    )

    @staticmethod
    def _mostly_protected(siblings: list[Route], own: dict[int, str | None]) -> bool:
        protected = sum(1 for r in siblings if own[id(r)])
        return protected >= 2 and protected >= MAJORITY * (len(siblings) + 1)

    @staticmethod
    def _comparable(route: Route, sibling: Route) -> bool:
        """Does a protected sibling make this route's missing auth suspicious? Public reads
        beside protected writes are a common design (`GET /posts` open, `POST /posts` not),
        and so are public reads beside the caller's own data (`GET /users/me`): a read route
        is only compared with protected reads of other resources; a write route with any."""
        if not READ_METHODS.issuperset(route.methods):
            return True
        if not READ_METHODS.issuperset(sibling.methods):
            return False
        segments = {s.lower() for s in sibling.path.strip("/").split("/")}
        return not segments & SELF_SEGMENTS

    @staticmethod
    def _in_test_file(ctx: Context, route: Route) -> bool:
        """Routes declared in tests are fixtures of the test, not the application's surface."""
        facts = ctx.module_of(route.file)
        return facts is not None and facts.test_file

    @staticmethod
    def _protected(index: AuthIndex, route: Route, mount: Mount) -> bool:
        if mount.opaque or index.mount_protected(route, mount):
            return True
        return any(index.custom_router(router_id) for router_id in mount.chain)

    @staticmethod
    def _protected_prefix(prefixes: list[str], mounts: list[Mount]) -> str | None:
        for mount in mounts:
            path = mount.path.lower()
            for prefix in prefixes:
                p = prefix.lower().rstrip("/")
                if any(c in p for c in "*?[") and fnmatch.fnmatchcase(path, p + "*"):
                    return prefix
                if p and (path == p or path.startswith(p + "/")):
                    return prefix
        return None
