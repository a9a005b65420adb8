"""FDL403 depends-called."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..facts.model import Call, Function, Lit, Loc, Name, Opaque, Seq, Sub, X
from ..graph.model import Edge, ProjectGraph
from ..graph.resolve import RAttr, RClass, RExternal, RFunc, RVar, Target
from ._blocking import decorator_names
from .base import Context, Finding, Rule

MAX_DEPTH = 8
CALLABLE, NOT_CALLABLE, UNKNOWN = "callable", "not-callable", "unknown"

# external calls known to produce something that is not callable
NOT_CALLABLE_EXTERNALS = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.set",
        "builtins.tuple",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.bytes",
        "builtins.frozenset",
        "sqlalchemy.orm.Session",
        "sqlmodel.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "httpx.Client",
        "httpx.AsyncClient",
        "requests.Session",
        "os.getenv",
        "os.environ.get",
    }
)
NOT_CALLABLE_BASES = (
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "pydantic_settings.BaseSettings",
    "pydantic_settings.main.BaseSettings",
    "pydantic.BaseSettings",
    "pydantic.env_settings.BaseSettings",
    "sqlmodel.SQLModel",
    "typing.NamedTuple",
    "typing.TypedDict",
    "typing_extensions.TypedDict",
    "enum.Enum",
    "enum.IntEnum",
    "enum.StrEnum",
    "Exception",
    "builtins.Exception",
)
WHAT = {
    "generator": "a generator object",
    "async-generator": "an async generator object",
    "coroutine": "a coroutine object",
    "context-manager": "a context manager object",
    "none": "`None`",
}


@dataclass(frozen=True, slots=True)
class CalledDependency:
    """`Depends(f(...))` where `f` is a project function whose result is not callable."""

    path: str
    loc: Loc  # of the `f(...)` call
    module: str
    function: Function
    callee: str  # as written
    marker: str  # "Depends" | "Security"
    result: str  # what the call gives, for the message
    no_args: bool  # `f()`: the safe autofix `Depends(f)` applies

    @property
    def autofixable(self) -> bool:
        """Replacing `f()` by `f` keeps the meaning when `f` is a project function taking no
        arguments here (FastAPI then calls it per request and injects its parameters); not for
        a `@contextmanager` function, which also needs its decorator removed."""
        return self.no_args and self.result != WHAT["context-manager"]


class Callability:
    """Is what a call returns callable? A tri-state answer; unknown wins over a guess."""

    def __init__(self, graph: ProjectGraph) -> None:
        self.graph = graph
        self.r = graph.resolver
        self.memo: dict[tuple[str, str], tuple[str, str]] = {}

    def function(self, ref: RFunc) -> Function | None:
        facts = self.graph.modules.get(ref.module)
        return facts.functions.get(ref.qualname) if facts is not None else None

    def target_function(self, module: str, scope: str, dotted: str) -> tuple[str, Function] | None:
        """The project function (or method) a callee names, following plain aliases."""
        if self.r is None:
            return None
        t: Target = self.r.resolve(module, scope, dotted)
        for _ in range(MAX_DEPTH):
            if isinstance(t, RVar) and isinstance(t.assign.value, Name):
                t = self.r.resolve(t.module, t.scope, t.assign.value.dotted)
            else:
                break
        if isinstance(t, RAttr):
            t = self.r.class_attribute(t.cls, t.attr)
        if isinstance(t, RFunc):
            fn = self.function(t)
            if fn is not None:
                return t.module, fn
        return None

    def result(self, module: str, fn: Function, depth: int = 0) -> tuple[str, str]:
        """(verdict, description) for what calling `fn` returns."""
        key = (module, fn.qualname)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = (UNKNOWN, "")  # recursion guard
        verdict = self._result(module, fn, depth)
        self.memo[key] = verdict
        return verdict

    def _result(self, module: str, fn: Function, depth: int) -> tuple[str, str]:
        decorators = decorator_names(self.graph, module, fn)
        if any(d not in ("builtins.staticmethod", "builtins.classmethod") for d in decorators):
            if (
                fn.is_generator
                and decorators
                and all(d in ("contextlib.contextmanager", "contextlib.asynccontextmanager") for d in decorators)
            ):
                return NOT_CALLABLE, WHAT["context-manager"]
            return UNKNOWN, ""  # a decorator may return anything
        if fn.is_generator:
            return NOT_CALLABLE, WHAT["async-generator" if fn.is_async else "generator"]
        if fn.is_async:
            return NOT_CALLABLE, WHAT["coroutine"]
        if not fn.returns:
            return NOT_CALLABLE, WHAT["none"]
        descriptions: list[str] = []
        for value in fn.returns:
            verdict, what = self.value(module, fn.qualname, value, depth + 1)
            if verdict != NOT_CALLABLE:
                return verdict, ""
            descriptions.append(what)
        return NOT_CALLABLE, descriptions[0]

    def value(self, module: str, scope: str, x: X | None, depth: int) -> tuple[str, str]:
        """Is the value of expression `x` (in `scope`) callable?"""
        if x is None or self.r is None or depth > MAX_DEPTH:
            return UNKNOWN, ""
        if isinstance(x, Lit):
            return (NOT_CALLABLE, "`None`") if x.value is None else (NOT_CALLABLE, f"a {type(x.value).__name__}")
        if isinstance(x, Seq):
            return NOT_CALLABLE, "a sequence"
        if isinstance(x, Opaque):
            if x.kind in ("Dict", "DictComp", "ListComp", "SetComp", "GeneratorExp", "fstring", "JoinedStr", "Compare"):
                return NOT_CALLABLE, {"Dict": "a dict", "DictComp": "a dict", "fstring": "a string", "JoinedStr": "a string"}.get(
                    x.kind, "a value"
                )
            return UNKNOWN, ""  # lambdas, conditionals, arithmetic...
        if isinstance(x, Sub):
            return UNKNOWN, ""
        if isinstance(x, Name):
            t = self.r.resolve(module, scope, x.dotted)
            if isinstance(t, (RFunc, RClass)):
                return CALLABLE, ""  # an inner function, a function, a class
            if isinstance(t, RAttr):
                return (CALLABLE, "") if isinstance(self.r.class_attribute(t.cls, t.attr), RFunc) else (UNKNOWN, "")
            if isinstance(t, RVar) and t.assign.value is not None and t.assign.value is not x:
                return self.value(t.module, t.scope, t.assign.value, depth + 1)
            return UNKNOWN, ""  # parameters, externals, unbound names
        if isinstance(x, Call) and isinstance(x.func, Name):
            return self.call(module, scope, x, depth)
        return UNKNOWN, ""

    def call(self, module: str, scope: str, x: Call, depth: int) -> tuple[str, str]:
        assert self.r is not None and isinstance(x.func, Name)
        dotted = x.func.dotted
        t = self.r.resolve(module, scope, dotted)
        if t is None and "." not in dotted:
            t = RExternal(f"builtins.{dotted}")
        if isinstance(t, RExternal):
            if t.dotted in NOT_CALLABLE_EXTERNALS:
                return NOT_CALLABLE, f"a `{dotted}` object"
            return UNKNOWN, ""  # `Depends(...)`, `partial(...)`, third-party factories
        if isinstance(t, RClass):
            return self.instance(t, dotted)
        hit = self.target_function(module, scope, dotted)
        if hit is not None:
            return self.result(hit[0], hit[1], depth + 1)
        return UNKNOWN, ""

    def instance(self, cls: RClass, written: str) -> tuple[str, str]:
        """An instance of a project class is callable when the class (or a base) defines
        `__call__`; unknown when a base outside the project might."""
        assert self.r is not None
        if isinstance(self.r.class_attribute(cls, "__call__"), RFunc):
            return CALLABLE, ""
        bases = self.r.external_bases(cls)
        if all(b.startswith(NOT_CALLABLE_BASES) or b in ("object", "builtins.object") for b in bases):
            return NOT_CALLABLE, f"a `{written}` instance (its class has no `__call__`)"
        return UNKNOWN, ""


def called_dependencies(graph: ProjectGraph) -> Iterator[CalledDependency]:
    """Every `Depends(f(...))`/`Security(f(...))` whose call returns something not callable,
    once per call site."""
    judge = Callability(graph)
    seen: set[tuple[str, Loc]] = set()
    for edge in all_edges(graph):
        if not edge.called_target or edge.target_call is None:
            continue
        module, scope, call = edge.target_call
        facts = graph.modules.get(module)
        if facts is None or not isinstance(call.func, Name) or (facts.path, call.loc) in seen:
            continue
        seen.add((facts.path, call.loc))
        hit = judge.target_function(module, scope, call.func.dotted)
        if hit is None:
            continue  # classes (callable instances), partials, third-party factories
        verdict, what = judge.result(hit[0], hit[1])
        if verdict != NOT_CALLABLE:
            continue
        yield CalledDependency(
            path=facts.path,
            loc=call.loc,
            module=hit[0],
            function=hit[1],
            callee=call.func.dotted,
            marker=edge.marker,
            result=what,
            no_args=not call.args and not call.kwargs,
        )


def all_edges(graph: ProjectGraph) -> Iterator[Edge]:
    """Every `Depends`/`Security` edge of the graph: dependencies', routers', includes' and routes'."""
    for node in list(graph.nodes.values()):
        yield from node.edges
    for router in graph.routers.values():
        yield from router.edges
    for include in graph.includes:
        yield from include.edges
    for route in graph.routes:
        yield from route.decorator_edges


class DependsCalled(Rule):
    """
    ## What it does
    Flags `Depends(f())` / `Security(f())` where `f` is a project function whose result is not
    callable: it returns a plain value (a dict, a string, a session, a model instance, `None`),
    or it is a generator, an `async def` or a `@contextmanager` function. Silent when `f` returns
    an inner function, a lambda, a class, a callable instance (a class with `__call__`),
    `Depends(...)`, a `functools.partial`, or anything the linter cannot see into (a third-party
    factory, a decorated function, a parameter).

    ## Why is this bad?
    `Depends` wants the dependency itself so that FastAPI can call it on every request and
    inject its parameters. `Depends(f())` calls `f` once, at import time, and hands FastAPI the
    result: a generator, a coroutine or a plain value is not callable, so the app fails when
    the route is registered; a `None` result is worse — `Depends(None)` silently makes FastAPI
    use the parameter's type annotation as the dependency.
    Factories that *return* a dependency (`Depends(require_role("admin"))`) are fine and common.

    ## Example
    ```python
    def get_db():
        with SessionLocal() as db:
            yield db

    @app.get("/items")
    def read_items(db: Session = Depends(get_db())): ...
    ```

    ## Use instead
    ```python
    @app.get("/items")
    def read_items(db: Session = Depends(get_db)): ...
    ```
    """

    code = "FDL403"
    name = "depends-called"
    summary = "Pass the function itself: `Depends(f)`, not `Depends(f())`."
    severity = "error"
    fixable = "safe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for site in called_dependencies(ctx.graph):
            name = site.function.name
            if site.result == WHAT["context-manager"]:
                advice = (
                    f"drop `@contextmanager` from `{name}` (FastAPI runs generator dependencies itself) "
                    f"and write `{site.marker}({site.callee})`"
                )
            elif site.no_args:
                advice = f"write `{site.marker}({site.callee})` so FastAPI calls it on every request"
            else:
                advice = (
                    f"pass `{site.callee}` itself (FastAPI calls it per request and injects its parameters), "
                    f"or make `{name}` a factory that returns a dependency function"
                )
            written = f"{site.marker}({site.callee}({'' if site.no_args else '...'}))"
            if site.result == WHAT["none"]:
                result = "`None` (and `Depends(None)` falls back to the parameter's type annotation)"
            else:
                result = f"{site.result}, which is not callable"
            yield self.at(
                site.path,
                site.loc,
                f"`{written}` calls `{name}` once, at import time, and hands FastAPI {result}; {advice}",
            )
