"""FDL104 per-request-client."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..facts.model import Function
from ..graph.model import Node
from ._lifecycle import Body, dependency_bodies, function_home, dotted, loc, own_body_nodes, parent_map, root_name
from ._resources import app_scoped_kind
from .base import Context, Finding, Rule

STORING_METHODS = frozenset({"setdefault", "set", "__setitem__", "setattr"})


class PerRequestClient(Rule):
    """
    ## What it does
    Flags a dependency that builds an object meant to live as long as the application —
    a SQLAlchemy engine (`create_engine`, `create_async_engine`), a connection pool
    (`asyncpg.create_pool`, `psycopg_pool.ConnectionPool`), a Redis client
    (`redis.Redis(...)`, `Redis.from_url`), a MongoDB or Elasticsearch client, an HTTP
    client (`httpx.AsyncClient()`, `httpx.Client()`, `aiohttp.ClientSession()`,
    `requests.Session()`) or anything listed in `client-factories` — every time it runs,
    i.e. on every request. Points at the call.

    ## Why is this bad?
    These objects *are* connection pools. Built per request, every request pays the TCP
    (and TLS) handshakes again, keep-alive and pooling never help, and unless each one is
    closed the sockets leak until the process runs out of file descriptors; an engine per
    request also leaks its whole pool. A client opened in `async with` inside the
    dependency is closed correctly but still defeats pooling — httpx's documentation warns
    against exactly this ("don't instantiate clients in a hot loop").

    Silent for `@lru_cache`/`@cache` factories, for objects stored for reuse (assigned to a
    `global`, an attribute such as `app.state.client`, or a cache entry — the lazy
    singleton idiom), and for code that is not a dependency (`lifespan` functions, startup
    hooks).

    ## Example
    ```python
    async def get_http():
        async with httpx.AsyncClient() as client:
            yield client
    ```

    ## Use instead
    ```python
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with httpx.AsyncClient() as client:
            app.state.http = client
            yield

    async def get_http(request: Request) -> httpx.AsyncClient:
        return request.app.state.http
    ```
    """

    code = "FDL104"
    name = "per-request-client"
    summary = "Create the engine/pool/client once in `lifespan` and share it (`app.state`)."
    cost = 2

    def check(self, ctx: Context) -> Iterator[Finding]:
        extra = ctx.config.client_factories
        def wanted(node: Node, fn: Function) -> bool:
            home = None if node.is_cached else function_home(ctx, node)
            if home is None or (ctx.focus is not None and home[1] not in ctx.focus):
                return False  # (every finding of a body lands in the file that defines it)
            return any(app_scoped_kind(ctx.graph, home[0], fn, c.callee, extra) for c in fn.calls)

        for body in dependency_bodies(ctx, generators=None, wanted=wanted):
            yield from self._check_body(ctx, body, extra)

    def _check_body(self, ctx: Context, body: Body, extra: list[str]) -> Iterator[Finding]:
        parents = parent_map(body.tree)
        # `Depends(SomeClass)` builds a new instance per request: its attributes are not shared
        fresh_self = body.tree.args.args[0].arg if body.node.kind == "class" and body.tree.args.args else None
        shared = self._shared_names(body, fresh_self)
        for node in own_body_nodes(body.tree):
            if not isinstance(node, ast.Call):
                continue
            callee = dotted(node.func)
            kind = app_scoped_kind(ctx.graph, body.module, body.fn, callee, extra) if callee else None
            if kind is None or self._stored(node, parents, shared, fresh_self):
                continue
            in_with = self._with_item(node, parents)
            tail = (
                "it is closed, but every request opens a new pool and pays the connection handshakes again"
                if in_with
                else "every request opens a new pool (and leaks it unless closed)"
            )
            yield self.at(
                body.path,
                loc(node),
                f"dependency `{body.fn.name}` builds a {kind} (`{callee}()`) on every request: {tail}; create it "
                "once in the app's `lifespan` and hand it out from `app.state`",
                symbol=body.fn.qualname,
            )

    @staticmethod
    def _shared_names(body: Body, fresh_self: str | None) -> set[str]:
        """Names stored somewhere that outlives the call: `global`/`nonlocal` names, and
        locals later assigned to an attribute, a subscript or such a name."""
        shared: set[str] = set()
        for n in own_body_nodes(body.tree):
            if isinstance(n, (ast.Global, ast.Nonlocal)):
                shared.update(n.names)
        for n in own_body_nodes(body.tree):
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Name):
                if any(
                    (isinstance(t, (ast.Attribute, ast.Subscript)) and root_name(t) != fresh_self)
                    or (isinstance(t, ast.Name) and t.id in shared)
                    for t in n.targets
                ):
                    shared.add(n.value.id)
            elif isinstance(n, ast.Call) and (dotted(n.func) or "").rsplit(".", 1)[-1] in STORING_METHODS:
                shared.update(a.id for a in n.args if isinstance(a, ast.Name))
        return shared

    @staticmethod
    def _stored(call: ast.Call, parents: dict[ast.AST, ast.AST], shared: set[str], fresh_self: str | None) -> bool:
        """The new object is kept for later requests, not used for this one only."""
        child: ast.AST = call
        parent = parents.get(call)
        while isinstance(parent, (ast.Await, ast.BoolOp, ast.IfExp)):
            child, parent = parent, parents.get(parent)
        if isinstance(parent, ast.Call) and child is not parent.func:
            return (dotted(parent.func) or "").rsplit(".", 1)[-1] in STORING_METHODS
        if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
            return any(
                (isinstance(t, (ast.Attribute, ast.Subscript)) and root_name(t) != fresh_self)
                or (isinstance(t, ast.Name) and t.id in shared)
                for t in targets
            )
        return False

    @staticmethod
    def _with_item(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
        parent = parents.get(call)
        return isinstance(parent, ast.withitem)
