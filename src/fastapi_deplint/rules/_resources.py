"""What counts as a closable resource, a per-request client, a blocking call — shared by rules.

Callees are resolved through the project's imports first (`SessionLocal` -> the module-level
`sessionmaker(...)` it was assigned from), so look-alike names of other libraries and
project functions that merely share a name stay silent.
"""

from __future__ import annotations

from ..facts.model import Call, Function, Name
from ..graph.model import ProjectGraph
from ..graph.resolve import RExternal, RFunc, RVar

# external callables whose result must be closed
SESSION_CLASSES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
SESSION_MAKERS = frozenset(
    {
        "sqlalchemy.orm.sessionmaker",
        "sqlalchemy.orm.session.sessionmaker",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.async_scoped_session",
    }
)
CONNECT_FUNCTIONS = frozenset(
    {
        "psycopg2.connect",
        "psycopg.connect",
        "psycopg.AsyncConnection.connect",
        "sqlite3.connect",
        "asyncpg.connect",
        "aiosqlite.connect",
        "pymysql.connect",
        "aiomysql.connect",
        "pymongo.MongoClient",
        "motor.motor_asyncio.AsyncIOMotorClient",
    }
)
CLIENT_CLASSES = frozenset(
    {
        "httpx.Client",
        "httpx.AsyncClient",
        "aiohttp.ClientSession",
        "requests.Session",
        "requests.session",
    }
)
RESOURCE_METHODS = frozenset({"connect", "acquire", "raw_connection", "checkout"})


def external_of(graph: ProjectGraph, module: str, scope: str, dotted: str, hops: int = 0) -> str | None:
    """The external dotted name a callee stands for, following project aliases
    (`SessionLocal = sessionmaker(...)` -> "sqlalchemy.orm.sessionmaker()")."""
    if graph.resolver is None or hops > 8 or not dotted or dotted.startswith("?"):
        return None
    t = graph.resolver.resolve(module, scope, dotted)
    if isinstance(t, RExternal):
        return t.dotted
    if isinstance(t, RVar):
        value = t.assign.value
        if isinstance(value, Name):
            return external_of(graph, t.module, t.scope, value.dotted, hops + 1)
        if isinstance(value, Call) and isinstance(value.func, Name):
            inner = external_of(graph, t.module, t.scope, value.func.dotted, hops + 1)
            return f"{inner}()" if inner else None
    if t is None and "." not in dotted:
        return f"builtins.{dotted}"
    return None


def resource_kind(graph: ProjectGraph, module: str, fn: Function, callee: str, extra: list[str] = ()) -> str | None:  # type: ignore[assignment]
    """"session" / "connection" / "client" / "file" when calling `callee` opens a resource."""
    if callee in extra or callee.rsplit(".", 1)[-1] in extra:
        return "resource"
    ext = external_of(graph, module, fn.qualname, callee)
    if ext is not None:
        if ext in SESSION_CLASSES or any(ext == f"{m}()" for m in SESSION_MAKERS):
            return "session"
        if ext in CONNECT_FUNCTIONS:
            return "connection"
        if ext in CLIENT_CLASSES:
            return "client"
        if ext == "builtins.open":
            return "file"
        if ext.endswith(("().connect", "().acquire", "().raw_connection")) and "engine" in ext.lower() or ext.endswith(
            (".create_engine().connect", ".create_async_engine().connect", ".create_pool().acquire")
        ):
            return "connection"
    if "." in callee and callee.rsplit(".", 1)[-1] in RESOURCE_METHODS:
        base = callee.rsplit(".", 1)[0].lower()
        if any(word in base for word in ("engine", "pool", "db", "database", "conn")):
            return "connection"
    return None


def project_function(graph: ProjectGraph, module: str, scope: str, callee: str) -> tuple[str, Function] | None:
    """The project function a callee names (for "one call deep" analyses)."""
    if graph.resolver is None or not callee or callee.startswith("?"):
        return None
    t = graph.resolver.resolve(module, scope, callee)
    if isinstance(t, RFunc):
        facts = graph.modules.get(t.module)
        fn = facts.functions.get(t.qualname) if facts else None
        if fn is not None:
            return t.module, fn
    return None
