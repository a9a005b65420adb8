"""FDL503 decorator-outside-route."""

from __future__ import annotations

from collections.abc import Iterator

from ..config import Config
from ..facts.model import Call, Function, Name, X
from ..graph import known
from ..graph.model import ProjectGraph, Route
from ..graph.resolve import RAttr, RClass, RExternal, RFunc, RVar, Target
from ._resources import external_of
from .base import Context, Finding, Rule

# Decorators that register a function somewhere: stacked above a route decorator they add a
# second registration, they do not wrap the first (FastAPI's route decorators return `func`).
REGISTERING_METHODS = frozenset({*known.ROUTE_METHODS, "route", "websocket_route", "add_route"})
# Builtins and typing helpers that only matter to the class machinery or type checkers.
TRANSPARENT_BUILTINS = frozenset({"staticmethod", "classmethod"})
TRANSPARENT_EXTERNAL = frozenset(
    {
        f"{mod}.{name}"
        for mod in ("typing", "typing_extensions")
        for name in ("overload", "final", "override", "no_type_check", "deprecated")
    }
    | {
        "warnings.deprecated",
        "builtins.staticmethod",
        "builtins.classmethod",
        # slowapi's `exempt` records the endpoint's name; its middleware matches the route by name,
        # so it works in either order (`limit`, by contrast, only acts through its wrapper)
        "slowapi.Limiter().exempt",
        "slowapi.extension.Limiter().exempt",
    }
)


class DecoratorOutsideRoute(Rule):
    """
    ## What it does
    Flags a decorator written above a route decorator (`@require_admin` over
    `@router.get(...)`). Points at the outer decorator.

    Stays silent for decorators that do not wrap the endpoint: another route decorator
    (`@app.get("/a")` over `@app.get("/b")` registers both), other methods of a router or
    app (`@router.only_exists_in_older_versions`), project decorators that return the
    function they receive unchanged (`register(fn) ... return fn`, also as a factory
    `tag("x")`), `staticmethod`/`classmethod`, typing-only decorators (`overload`,
    `deprecated`, ...), pytest marks, slowapi's `@limiter.exempt` (matched by name), and
    any name listed in `metadata-decorators` (as written, fully qualified, or its last
    part).

    ## Why is this bad?
    Decorators apply bottom-up. The route decorator runs first and registers the function
    it receives — the undecorated one — and returns it; the outer decorator then wraps a
    function FastAPI never calls. Auth checks, rate limits (slowapi's `@limiter.limit`
    documents "the route decorator must be above the limit decorator"), caching, tracing
    or error handling written this way silently never run for requests.

    ## Example
    ```python
    @require_admin  # wraps a function FastAPI never calls
    @router.delete("/users/{user_id}")
    async def delete_user(user_id: int): ...
    ```

    ## Use instead
    ```python
    async def admin_user(user: Annotated[User, Depends(get_current_user)]) -> User:
        if not user.is_admin:
            raise HTTPException(status_code=403)
        return user

    @router.delete("/users/{user_id}", dependencies=[Depends(admin_user)])
    async def delete_user(user_id: int): ...
    ```
    or put the decorator below the route decorator, with `functools.wraps` in the
    wrapper so FastAPI still sees the endpoint's parameters. A decorator that only
    records metadata and returns the function unchanged can be listed in
    `metadata-decorators`.
    """

    code = "FDL503"
    name = "decorator-outside-route"
    summary = "Put the decorator below the route decorator (or make it a dependency)."
    severity = "error"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        if graph.resolver is None:
            return
        route_indices: dict[tuple[str, str], set[int]] = {}
        for route in graph.routes:
            route_indices.setdefault((route.file, route.qualname), set()).add(route.decorator_index)
        seen: set[tuple[str, int, int]] = set()
        for route in sorted(graph.routes, key=lambda r: (r.file, r.loc[0], r.loc[1])):
            fn = route.function
            index = route.decorator_index
            if index <= 0 or index >= len(fn.decorators):
                continue
            routing = fn.decorators[index]
            for i in range(index):
                outer = fn.decorators[i]
                if i in route_indices[(route.file, route.qualname)]:
                    continue
                label = decorator_name(outer)
                if label is None or self._transparent(graph, ctx.config, route, outer, routing):
                    continue
                key = (route.file, outer.loc[0], outer.loc[1])
                if key in seen:
                    continue
                seen.add(key)
                yield self.at(
                    route.file,
                    outer.loc,
                    f"`@{label}` is above the route decorator `@{decorator_name(routing)}`: FastAPI registered "
                    f"`{fn.name}` before `{label.removesuffix('(...)')}` wrapped it, so it never runs for requests to "
                    f"`{' '.join(route.methods)} {route_path(route)}`; move it below the route decorator (a wrapper "
                    "must keep the endpoint's signature, e.g. with `functools.wraps`) or turn it into a dependency",
                    symbol=fn.qualname,
                )

    # -- which outer decorators are harmless ----------------------------------------------------
    def _transparent(self, graph: ProjectGraph, config: Config, route: Route, outer: X, routing: X) -> bool:
        base = outer.func if isinstance(outer, Call) else outer
        if not isinstance(base, Name):
            return True  # not a name we can reason about (or report readably)
        dotted = base.dotted
        owner, _, method = dotted.rpartition(".")
        if isinstance(outer, Call) and method in REGISTERING_METHODS and owner:
            return True  # another route (or Starlette route) registration
        routing_base = routing.func if isinstance(routing, Call) else routing
        if owner and isinstance(routing_base, Name) and routing_base.dotted.rpartition(".")[0] == owner:
            return True  # a method of the same router/app
        scope = route.function.parent
        assert graph.resolver is not None
        if owner and self._is_router(graph, route.module, scope, owner):
            return True
        target = graph.resolver.resolve(route.module, scope, dotted)
        resolved = self._full_name(target) or external_of(graph, route.module, scope, dotted)
        if self._configured(config, dotted, resolved):
            return True
        if target is None and dotted in TRANSPARENT_BUILTINS:
            return True
        if resolved is not None and (resolved in TRANSPARENT_EXTERNAL or resolved.startswith("pytest.mark.")):
            return True
        return self._returns_argument(graph, target, called=isinstance(outer, Call))

    @staticmethod
    def _configured(config: Config, dotted: str, resolved: str | None) -> bool:
        names = set(config.metadata_decorators)
        if not names:
            return False
        candidates = {dotted, dotted.rsplit(".", 1)[-1]}
        if resolved:
            candidates.update({resolved, resolved.replace("()", "")})
        return bool(names & candidates)

    @staticmethod
    def _full_name(target: Target) -> str | None:
        if isinstance(target, (RFunc, RClass)):
            return f"{target.module}.{target.qualname}"
        if isinstance(target, RExternal):
            return target.dotted
        return None

    @staticmethod
    def _is_router(graph: ProjectGraph, module: str, scope: str, owner: str) -> bool:
        assert graph.resolver is not None
        t = graph.resolver.resolve(module, scope, owner)
        if isinstance(t, RVar):
            return f"{t.module}:{t.scope}:{t.assign.name}" in graph.routers
        return False

    def _returns_argument(self, graph: ProjectGraph, target: Target, called: bool) -> bool:
        """A project decorator (or decorator factory) whose result is the function it got."""
        assert graph.resolver is not None
        if isinstance(target, RAttr):
            target = graph.resolver.class_attribute(target.cls, target.attr)
        if isinstance(target, RClass):
            if not called:
                return False  # `@SomeClass` replaces the function by an instance
            target = graph.resolver.class_attribute(target, "__call__")
            called = False
        if not isinstance(target, RFunc):
            return False
        fn = function_of(graph, target)
        if fn is None:
            return False
        if not called:
            return is_identity(fn)
        inner_fns = [
            function_of(graph, RFunc(target.module, f"{fn.qualname}.<locals>.{r.dotted}"))
            for r in fn.returns
            if isinstance(r, Name)
        ]
        return bool(inner_fns) and len(inner_fns) == len(fn.returns) and all(f is not None and is_identity(f) for f in inner_fns)


def function_of(graph: ProjectGraph, ref: RFunc) -> Function | None:
    facts = graph.modules.get(ref.module)
    return facts.functions.get(ref.qualname) if facts is not None else None


def is_identity(fn: Function) -> bool:
    """Every `return` gives back the decorated argument (the first parameter after self/cls)."""
    params = [p for p in fn.params if p.kind in ("posonly", "pos")]
    if fn.class_name is not None and params and params[0].name in ("self", "cls"):
        params = params[1:]
    if not params or not fn.returns or fn.is_generator or fn.is_async:
        return False
    name = params[0].name
    return all(isinstance(r, Name) and r.dotted == name for r in fn.returns)


def decorator_name(x: X) -> str | None:
    base = x.func if isinstance(x, Call) else x
    if not isinstance(base, Name):
        return None
    return base.dotted + ("(...)" if isinstance(x, Call) and base is not x else "")


def route_path(route: Route) -> str:
    paths = [m.path for m in route.mounts] or [route.path]
    return min(paths, key=lambda p: (len(p), p))
