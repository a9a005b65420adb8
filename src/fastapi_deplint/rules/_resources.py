"""What counts as a closable resource, a per-request client, a blocking call — shared by rules.

Callees are resolved through the project's imports first (`SessionLocal` -> the module-level
`sessionmaker(...)` it was assigned from), so look-alike names of other libraries and
project functions that merely share a name stay silent.
"""

from __future__ import annotations

import functools

from ..facts.model import Call, Function, Name
from ..facts.text import bindings, imported_dotted, imported_names, looked_for, may_bind
from ..graph.model import ProjectGraph
from ..graph.resolve import MayMatter, RExternal, RFunc, RVar

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


def external_of(
    graph: ProjectGraph, module: str, scope: str, dotted: str, hops: int = 0, among: MayMatter | None = None
) -> str | None:
    """The external dotted name a callee stands for, following project aliases
    (`SessionLocal = sessionmaker(...)` -> "sqlalchemy.orm.sessionmaker()"). `among`: only
    names that test (`may_name_one_of`) matter; a module the pre-scan skipped is then parsed
    only when its text passes it."""
    if graph.resolver is None or hops > 8 or not dotted or dotted.startswith("?"):
        return None
    if among is not None:
        t = graph.resolver.resolve_when(module, scope, dotted, among)
    else:
        t = graph.resolver.resolve(module, scope, dotted)
    if isinstance(t, RExternal):
        return t.dotted
    if isinstance(t, RVar):
        value = t.assign.value
        if isinstance(value, Name):
            return external_of(graph, t.module, t.scope, value.dotted, hops + 1, among)
        if isinstance(value, Call) and isinstance(value.func, Name):
            inner = external_of(graph, t.module, t.scope, value.func.dotted, hops + 1, among)
            return f"{inner}()" if inner else None
    if t is None and "." not in dotted:
        return f"builtins.{dotted}"
    return None


def may_name_one_of(names: frozenset[str]) -> MayMatter:
    """Test of a module's text: may the name looked up there stand for one of these external
    names (`httpx.AsyncClient`, `sqlalchemy.create_engine().connect`)? It may when the module
    imports it from a library where some of them live (`from httpx import AsyncClient as
    Client`), assigns it (`engine = create_engine(...)`: an alias to follow), or star-imports;
    not when it defines it (a project function or class), nor when it imports it from another
    project module (the resolver follows such an import by text, `Resolver._hands_on`)."""
    prefixes = frozenset(n.replace("()", "") for n in names)

    def test(data: bytes, wanted: str | None) -> bool:
        if wanted is None:
            return True
        bound = bindings(data, wanted)
        if "star" in bound or "assign" in bound:
            return True
        for source in imported_names(data).get(wanted.encode(), ()) if "import" in bound else ():
            full = imported_dotted(*source)
            if any(p == full or p.startswith(f"{full}.") for p in prefixes):
                return True
        return False

    return test


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


def project_function(
    graph: ProjectGraph, module: str, scope: str, callee: str, may_matter: MayMatter | None = None
) -> tuple[str, Function] | None:
    """The project function a callee names (for "one call deep" analyses). With `may_matter`,
    a deferred module on the way is parsed only when its text passes that test."""
    if graph.resolver is None or not callee or callee.startswith("?"):
        return None
    if may_matter is not None:
        t = graph.resolver.resolve_when(module, scope, callee, may_matter)
    else:
        t = graph.resolver.resolve(module, scope, callee)
    if isinstance(t, RFunc):
        facts = graph.modules.get(t.module)
        fn = facts.functions.get(t.qualname) if facts else None
        if fn is not None:
            return t.module, fn
    return None


# --- app-scoped objects (FDL104): made once per process, never per request ------------------
APP_SCOPED = {
    "engine": frozenset(
        {
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlalchemy.ext.asyncio.create_async_engine",
            "sqlalchemy.ext.asyncio.engine.create_async_engine",
            "sqlmodel.create_engine",
        }
    ),
    "connection pool": frozenset(
        {
            "asyncpg.create_pool",
            "asyncpg.pool.create_pool",
            "aiomysql.create_pool",
            "aiopg.create_pool",
            "psycopg_pool.ConnectionPool",
            "psycopg_pool.AsyncConnectionPool",
            "psycopg2.pool.SimpleConnectionPool",
            "psycopg2.pool.ThreadedConnectionPool",
            "redis.ConnectionPool",
            "redis.asyncio.ConnectionPool",
            "databases.Database",
        }
    ),
    "Redis client": frozenset(
        {
            "redis.Redis",
            "redis.StrictRedis",
            "redis.from_url",
            "redis.Redis.from_url",
            "redis.StrictRedis.from_url",
            "redis.client.Redis",
            "redis.asyncio.Redis",
            "redis.asyncio.StrictRedis",
            "redis.asyncio.from_url",
            "redis.asyncio.Redis.from_url",
            "redis.asyncio.client.Redis",
            "redis.cluster.RedisCluster",
            "redis.asyncio.cluster.RedisCluster",
            "aioredis.Redis",
            "aioredis.from_url",
            "aioredis.Redis.from_url",
            "aioredis.create_redis_pool",
        }
    ),
    "MongoDB client": frozenset(
        {"pymongo.MongoClient", "pymongo.AsyncMongoClient", "motor.motor_asyncio.AsyncIOMotorClient"}
    ),
    "Elasticsearch client": frozenset({"elasticsearch.Elasticsearch", "elasticsearch.AsyncElasticsearch"}),
    "HTTP client": CLIENT_CLASSES,
}


def app_scoped_kind(graph: ProjectGraph, module: str, fn: Function, callee: str, extra: list[str] = ()) -> str | None:  # type: ignore[assignment]
    """"engine" / "connection pool" / "Redis client" / "HTTP client" ... when calling `callee`
    builds an object meant to live as long as the app (or a `client-factories` entry)."""
    if not callee or callee.startswith("?"):
        return None
    if callee in extra or callee.rsplit(".", 1)[-1] in extra:
        return "client"
    if extra and graph.resolver is not None:  # a project factory (skipped modules: only one defining such a name)
        named = frozenset(e.rsplit(".", 1)[-1] for e in extra)
        t = graph.resolver.resolve_when(
            module, fn.qualname, callee, lambda data, wanted: any(n in named and may_bind(data, n) for n in looked_for(callee, wanted))
        )
        if isinstance(t, RFunc) and f"{t.module}.{t.qualname}" in extra:
            return "client"
    ext = external_of(graph, module, fn.qualname, callee, among=_app_scoped_test(frozenset(extra)))
    if ext is None:
        return None
    if ext in extra:
        return "client"
    for kind, names in APP_SCOPED.items():
        if ext in names:
            return kind
    return None


@functools.lru_cache(maxsize=8)
def _app_scoped_test(extra: frozenset[str]) -> MayMatter:
    return may_name_one_of(frozenset().union(*APP_SCOPED.values()) | extra)
