"""FDL201 module-level-singleton."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..facts.text import bindings, looked_for
from ..facts.model import Assign, Call, Function, Import, ModuleFacts, Name
from ..graph.model import ProjectGraph
from ..graph.resolve import MayMatter, RClass, RExternal, RVar, Target
from ._resources import CLIENT_CLASSES, CONNECT_FUNCTIONS, SESSION_CLASSES, SESSION_MAKERS, external_of
from .base import Context, Finding, Rule

# project classes whose name says what they are
SERVICE_SUFFIXES = {
    "Service": "service",
    "Repository": "repository",
    "Repo": "repository",
    "DAO": "repository",
    "Dao": "repository",
    "Client": "client",
    "Session": "session",
    "Connection": "connection",
}
# external constructors that open a connection or a connection-holding client
EXTERNAL_CLIENTS = frozenset(
    {
        *CLIENT_CLASSES,
        "redis.Redis",
        "redis.StrictRedis",
        "redis.from_url",
        "redis.Redis.from_url",
        "redis.asyncio.Redis",
        "redis.asyncio.from_url",
        "redis.asyncio.Redis.from_url",
        "aioredis.from_url",
        "aioredis.Redis",
    }
)
# external classes whose name ends with a client suffix but are not request-serving resources
NOT_SINGLETONS_PREFIXES = ("fastapi.", "starlette.", "httpx.Timeout", "aiohttp.ClientTimeout")
# bases that make a project class a value type, not a service
VALUE_BASES = ("pydantic.", "pydantic_settings.", "enum.", "sqlmodel.SQLModel", "typing.NamedTuple", "typing.TypedDict")


@dataclass(slots=True)
class User:
    """A function FastAPI runs per request: a route endpoint or a dependency."""

    module: str
    function: Function
    role: str  # "route" | "dependency"


def request_functions(ctx: Context) -> Iterator[User]:
    """Route endpoints first (so messages prefer naming a route), then dependencies."""
    for route in ctx.graph.routes:
        yield User(route.module, route.function, "route")
    for node in ctx.project_dependencies():
        if node.module and node.function is not None:
            yield User(node.module, node.function, "dependency")


class ModuleLevelSingleton(Rule):
    """
    ## What it does
    Flags a service, repository, DB session or connection, or HTTP/Redis client that is
    instantiated at module import time and then used directly by a route or dependency
    (`book_service = BookService(BookRepository(engine))`, `db = SessionLocal()`,
    `http = httpx.AsyncClient()`). Points at the module-level assignment.

    ## Why is this bad?
    The object is created on import, outside FastAPI's lifecycle: it is shared by every
    request (a module-level `Session` is shared by concurrent requests and never rolled back
    or closed), it cannot be replaced with `app.dependency_overrides` in tests, and clients
    created at import are never closed and may be bound to the wrong event loop. The usual
    module-level objects — `engine = create_engine(...)`, `SessionLocal = sessionmaker(...)`,
    `app`/`router`, security schemes, templates, loggers, settings, constants — are fine.

    ## Example
    ```python
    book_service = BookService(BookRepository(engine))

    @router.get("/books")
    def list_books():
        return book_service.list()
    ```

    ## Use instead
    ```python
    def get_book_service(db: Annotated[Session, Depends(get_db)]) -> BookService:
        return BookService(BookRepository(db))

    @router.get("/books")
    def list_books(service: Annotated[BookService, Depends(get_book_service)]):
        return service.list()
    ```
    For app-wide clients, create them in `lifespan`, store them on `app.state` and read
    them in a dependency from `request.app.state`.
    """

    code = "FDL201"
    name = "module-level-singleton"
    summary = "Build it in a dependency (or in lifespan on `app.state`) and inject it with `Depends`."
    cost = 8

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        resolver = graph.resolver
        if resolver is None:
            return
        if ctx.focus is not None and not _may_report_in(graph, ctx.focus):
            return
        seen: set[tuple[str, int, int]] = set()
        # (module, name) -> target, for names no function scope binds: the module's answer
        # (a function reads ~10 names; most are locals or the module's own imports)
        answers: dict[tuple[str, str], Target] = {}
        kinds: dict[tuple[str, int, int], tuple[str, str] | None] = {}  # a module variable's verdict
        for user in request_functions(ctx):
            fn = user.function
            facts = graph.modules.get(user.module)
            if facts is None:
                continue
            scopes = [Frame.of(facts, scope) for scope in resolver.scope_chain(facts, fn.qualname)[:-1]]
            for name in sorted(used_names(fn)):
                head = name.partition(".")[0]
                binding = local_binding(facts, scopes, head)
                if binding == "value":
                    continue
                key = (user.module, name)
                if binding is None and key in answers:
                    target = answers[key]
                else:
                    # a module the pre-scan skipped is parsed only when it may bind the name to a call
                    target = resolver.resolve_when(user.module, fn.qualname, name, may_bind_call(graph, user.module, fn, name))
                    if binding is None:
                        answers[key] = target
                if not isinstance(target, RVar) or target.scope != "":
                    continue
                owner = graph.modules.get(target.module)
                if owner is None:
                    continue
                spot = (owner.path, target.assign.loc[0], target.assign.loc[1])
                if spot in seen:
                    continue
                if spot not in kinds:
                    kinds[spot] = singleton_kind(graph, target.module, target.assign)
                kind = kinds[spot]
                if kind is None:
                    continue
                seen.add(spot)
                what, ctor = kind
                yield self.at(
                    owner.path,
                    target.assign.loc,
                    f"{what} `{name}` is created at import time by `{ctor}(...)` and used directly by "
                    f"{user.role} `{fn.name}`; build it in a dependency (or in lifespan on `app.state`) "
                    "and inject it with `Depends`",
                    symbol=target.assign.name,
                )


def _may_report_in(graph: ProjectGraph, paths: frozenset[str]) -> bool:
    """Can a finding land in these files? Only at a module-level assignment whose verdict
    (`singleton_kind`, which no user changes) is a singleton: a router module with
    `router = APIRouter()` cannot have one, whichever routes use what."""
    for path in paths:
        facts = graph.file_facts(path)
        if facts is None:
            return True
        for assigns in facts.scope_assigns("").values():
            if any(singleton_kind(graph, facts.module, a) is not None for a in assigns):
                return True
    return False


@dataclass(slots=True)
class Frame:
    """What one function scope binds, for `local_binding`."""

    scope: str
    imports: dict[str, Import]
    assigns: dict[str, list[Assign]]
    params: frozenset[str]

    @staticmethod
    def of(facts: ModuleFacts, scope: str) -> Frame:
        fn = facts.functions.get(scope)
        params = frozenset(p.name for p in fn.params) if fn is not None else frozenset()
        return Frame(scope, facts.imports.get(scope, {}), facts.assigns.get(scope, {}), params)


def local_binding(facts: ModuleFacts, frames: list[Frame], head: str) -> str | None:
    """How the function scopes (innermost first) bind `head`, as name lookup sees it: None
    when none does (the module decides); "value" for a parameter or a local that cannot stand
    for a module-level object (no answer of the resolver could be a module variable);
    "other" for a local import or an alias (`c = client`), which the resolver follows."""
    for frame in frames:
        if head in frame.imports:
            return "other"
        assigns = frame.assigns.get(head)
        if assigns:
            return "other" if any(isinstance(a.value, Name) for a in assigns) else "value"
        local = facts.functions.get(f"{frame.scope}.<locals>.{head}") or facts.classes.get(f"{frame.scope}.<locals>.{head}")
        if local is not None and local.parent == frame.scope or head in frame.params:
            return "value"
    return None


def may_bind_call(graph: ProjectGraph, module: str, fn: Function, name: str) -> MayMatter:
    """May a module the pre-scan deferred hold the singleton `name` (or the name it was
    imported as) stands for? Only if some deferred module binds that name at module level to
    a call that could build one (`client = httpx.Client()`, `db = SessionLocal()`), as the
    pre-scan recorded (`ModuleFacts.global_calls`); then the module on the way is parsed.
    (The module itself need not name it: a package's `__init__.py` leads to its submodules.)"""
    words = {name.rsplit(".", 1)[-1]}
    facts = graph.modules.get(module)
    resolver = graph.resolver
    if facts is not None and resolver is not None:
        head = name.split(".", 1)[0]
        for scope in resolver.scope_chain(facts, fn.qualname):
            imported = facts.imports.get(scope, {}).get(head)
            if imported is not None and imported.attr:
                words.add(imported.attr)
    calls = resolver.deferred_calls if resolver is not None else {}
    return lambda data, wanted: any(_may_build(callee) for w in words.union(looked_for(name, wanted)) for callee in calls.get(w, ()))


_BUILDER_WORDS = ("Service", "Repo", "DAO", "Dao", "Client", "client", "Session", "session", "Connection", "connect",
                  "Engine", "engine", "Redis", "redis", "Mongo", "Pool", "pool")


def _may_build(callee: str) -> bool:
    last = callee.rsplit(".", 1)[-1]
    return any(word in last for word in _BUILDER_WORDS) or callee in CLIENT_CLASSES or callee in EXTERNAL_CLIENTS


def used_names(fn: Function) -> set[str]:
    """Plain names read in the body, plus `module.name` prefixes of attribute calls
    (`clients.cache.get(...)` uses `clients.cache`)."""
    names = set(fn.loads)
    for call in fn.calls:
        parts = call.callee.split(".")
        if len(parts) >= 3 and not call.callee.startswith("?"):
            names.update(".".join(parts[:i]) for i in range(2, len(parts)))
    return names


def may_make_singleton(callee: str) -> MayMatter:
    """Test of a module's text: may the constructor `callee` names there build something
    worth reporting? A class named like a service, repository, client or session may; so
    may a name the module imports from an absolute module (a library's client) or assigns
    (an alias); a function, or a class named otherwise, may not. A name imported from a
    project module by a relative import is followed by text (`Resolver._hands_on`)."""
    def test(data: bytes, wanted: str | None) -> bool:
        if wanted is None:
            return True
        for name in looked_for(callee, wanted):
            bound = bindings(data, name)
            if bound & {"star", "import", "assign"} or ("class" in bound and name.endswith(_SUFFIXES)):
                return True
        return False

    return test


_SUFFIXES = tuple(SERVICE_SUFFIXES)


def singleton_kind(graph: ProjectGraph, module: str, assign: Assign) -> tuple[str, str] | None:
    """("service" | "repository" | "session" | "connection" | "client", constructor) or None."""
    value = assign.value
    if not isinstance(value, Call) or not isinstance(value.func, Name) or graph.resolver is None:
        return None
    callee = value.func.dotted
    target = graph.resolver.resolve_when(module, "", callee, may_make_singleton(callee))
    if isinstance(target, RVar) and isinstance(target.assign.value, Name):  # `Mailer = AuditService`
        alias = target.assign.value.dotted
        target = graph.resolver.resolve_when(target.module, target.scope, alias, may_make_singleton(alias)) or target
    if isinstance(target, RClass):
        klass = graph.resolver.class_facts(target)
        if klass is None:
            return None
        what = next((what for suffix, what in SERVICE_SUFFIXES.items() if klass.name.endswith(suffix)), None)
        # (the bases only of a class so named: looking them up may parse skipped modules)
        if what is None or any(b.startswith(VALUE_BASES) for b in graph.resolver.external_bases(target)):
            return None
        return what, callee
    if not isinstance(target, (RExternal, RVar)):
        return None
    ext = external_of(graph, module, "", callee)
    if ext is None or ext.startswith(NOT_SINGLETONS_PREFIXES):
        return None
    if ext in SESSION_CLASSES or any(ext == f"{m}()" for m in SESSION_MAKERS):
        return "session", callee
    if ext in CONNECT_FUNCTIONS or ext.endswith((".create_engine().connect", ".create_async_engine().connect")):
        return "connection", callee
    if ext in EXTERNAL_CLIENTS:
        return "client", callee
    last = ext.rsplit(".", 1)[-1]
    if isinstance(target, RExternal) and last[:1].isupper():
        for suffix in ("Client", "Session", "Connection"):
            if last.endswith(suffix):
                return SERVICE_SUFFIXES[suffix], callee
    return None
