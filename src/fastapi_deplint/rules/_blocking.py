"""What blocks the event loop: blocking library calls, and method calls on sync sessions,
connections and clients — with the *kind* of each value worked out statically.

A value's kind (`SESSION` for a sync SQLAlchemy/SQLModel session, `ASESSION` for an
`AsyncSession`, `HTTP` for a `requests.Session`/`httpx.Client`, ...) comes from, in order:
the dependency that provides a parameter (what its `yield`/`return` produces), the
parameter's annotation (`Session`, `Annotated[Session, Depends(get_db)]`, aliases such as
`SessionDep`), or the expression a name is bound to (`db = SessionLocal()`,
`with Session(engine) as session:`, `SessionLocal = sessionmaker(...)` /
`async_sessionmaker(...)` / `sessionmaker(class_=AsyncSession)` at module level). Unknown stays
unknown: a call is only blocking when the receiver's kind is known to be sync.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from ..facts import detail
from ..facts.expr import to_x
from ..facts.text import assignments, bindings, function_texts, imported_dotted, imported_names, looked_for
from ..facts.model import Assign, Call, CallSite, Function, Loc, Name, Opaque, Sub, X
from ..graph.model import Edge, Node, ProjectGraph
from ..graph.resolve import MayMatter, RAttr, RClass, RExternal, RFunc, RModule, RParam, Resolver, RVar, Target

MAX_DEPTH = 10

# --- kinds of values ----------------------------------------------------------------------------
SESSION, ASESSION = "session", "async-session"
MAKER, AMAKER = "sessionmaker", "async-sessionmaker"
ENGINE, AENGINE = "engine", "async-engine"
CONN = "connection"
HTTP = "http-client"
REDIS = "redis"
SMTP = "smtp"
BOTO = "boto3"
MONGO = "mongo"
PATH = "path"
FILE = "file"
POPEN = "popen"
ASYNC_KINDS = frozenset({ASESSION, AMAKER, AENGINE})

TYPE_KINDS: dict[str, str] = {
    "sqlalchemy.orm.Session": SESSION,
    "sqlalchemy.orm.session.Session": SESSION,
    "sqlmodel.Session": SESSION,
    "sqlmodel.orm.session.Session": SESSION,
    "sqlalchemy.orm.scoped_session": SESSION,
    "sqlalchemy.orm.scoping.scoped_session": SESSION,
    "sqlalchemy.ext.asyncio.AsyncSession": ASESSION,
    "sqlalchemy.ext.asyncio.session.AsyncSession": ASESSION,
    "sqlmodel.ext.asyncio.session.AsyncSession": ASESSION,
    "sqlalchemy.ext.asyncio.async_scoped_session": ASESSION,
    "sqlalchemy.orm.sessionmaker": MAKER,
    "sqlalchemy.orm.session.sessionmaker": MAKER,
    "sqlalchemy.ext.asyncio.async_sessionmaker": AMAKER,
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": AMAKER,
    "sqlalchemy.engine.Engine": ENGINE,
    "sqlalchemy.Engine": ENGINE,
    "sqlalchemy.ext.asyncio.AsyncEngine": AENGINE,
    "sqlalchemy.engine.Connection": CONN,
    "sqlalchemy.Connection": CONN,
    "requests.Session": HTTP,
    "requests.sessions.Session": HTTP,
    "httpx.Client": HTTP,
    "redis.Redis": REDIS,
    "redis.StrictRedis": REDIS,
    "redis.client.Redis": REDIS,
    "smtplib.SMTP": SMTP,
    "smtplib.SMTP_SSL": SMTP,
    "pymongo.MongoClient": MONGO,
    "pymongo.mongo_client.MongoClient": MONGO,
    "pymongo.collection.Collection": MONGO,
    "pymongo.database.Database": MONGO,
    "pathlib.Path": PATH,
}
# external callables and what calling them produces (the session makers are special-cased:
# `sessionmaker(class_=AsyncSession)` makes async sessions)
CALL_KINDS: dict[str, str] = {
    **{k: v for k, v in TYPE_KINDS.items() if v not in (MAKER, AMAKER, ENGINE, AENGINE, CONN)},
    "sqlalchemy.orm.sessionmaker": MAKER,
    "sqlalchemy.orm.session.sessionmaker": MAKER,
    "sqlalchemy.ext.asyncio.async_sessionmaker": AMAKER,
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": AMAKER,
    "sqlalchemy.create_engine": ENGINE,
    "sqlalchemy.engine.create_engine": ENGINE,
    "sqlmodel.create_engine": ENGINE,
    "sqlalchemy.ext.asyncio.create_async_engine": AENGINE,
    "requests.session": HTTP,
    "redis.from_url": REDIS,
    "redis.Redis.from_url": REDIS,
    "redis.StrictRedis.from_url": REDIS,
    "boto3.client": BOTO,
    "boto3.Session().client": BOTO,
    "boto3.session.Session().client": BOTO,
    "psycopg2.connect": CONN,
    "psycopg.connect": CONN,
    "sqlite3.connect": CONN,
    "pymysql.connect": CONN,
    "mysql.connector.connect": CONN,
    "subprocess.Popen": POPEN,
    "builtins.open": FILE,
    "io.open": FILE,
    "tempfile.NamedTemporaryFile": FILE,
    "tempfile.TemporaryFile": FILE,
}
# calling a value of one kind / calling one of its methods: the kind of the result
TRANSITIONS: dict[tuple[str, str], str] = {
    (MAKER, "()"): SESSION,
    (MAKER, "begin"): SESSION,
    (AMAKER, "()"): ASESSION,
    (AMAKER, "begin"): ASESSION,
    (SESSION, "()"): SESSION,  # a scoped_session is called for its session
    (ENGINE, "connect"): CONN,
    (ENGINE, "begin"): CONN,
    (SESSION, "connection"): CONN,
    (SESSION, "bind"): ENGINE,
    (MONGO, "get_database"): MONGO,
    (MONGO, "get_collection"): MONGO,
    (PATH, "open"): FILE,
}

# methods that do I/O, per kind (None: every method except the listed harmless ones)
SESSION_IO = frozenset(
    {
        "query", "execute", "scalar", "scalars", "commit", "flush", "refresh", "get", "get_one", "merge",
        "exec", "rollback", "close", "connection", "bulk_save_objects", "bulk_insert_mappings",
        "bulk_update_mappings",
    }
)  # fmt: skip
BLOCKING_METHODS: dict[str, frozenset[str]] = {
    SESSION: SESSION_IO,
    CONN: frozenset({"execute", "exec_driver_sql", "commit", "rollback", "scalar", "scalars", "close", "executemany"}),
    ENGINE: frozenset({"connect", "begin", "execute", "raw_connection"}),
    HTTP: frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}),
    SMTP: frozenset({"sendmail", "send_message", "login", "starttls", "ehlo", "helo", "connect", "quit", "noop"}),
    MONGO: frozenset(
        {
            "find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "delete_one", "delete_many",
            "replace_one", "aggregate", "count_documents", "find_one_and_update", "find_one_and_delete",
            "find_one_and_replace", "bulk_write", "distinct", "create_index", "drop", "list_collection_names", "command",
        }
    ),
    PATH: frozenset({"read_text", "read_bytes", "write_text", "write_bytes"}),
    FILE: frozenset({"read", "readline", "readlines", "write", "writelines"}),
    POPEN: frozenset({"communicate", "wait"}),
    REDIS: frozenset(
        {
            "get", "set", "setex", "setnx", "getset", "delete", "exists", "expire", "ttl", "incr", "incrby", "decr",
            "hget", "hset", "hgetall", "hdel", "hmset", "hmget", "hincrby", "hkeys", "keys", "scan", "scan_iter",
            "mget", "mset", "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "ltrim", "sadd", "srem", "smembers",
            "sismember", "zadd", "zrange", "zrangebyscore", "zrem", "zcard", "publish", "ping", "flushdb", "eval",
            "evalsha", "append", "rename", "xadd", "xread",
        }
    ),
    BOTO: frozenset(
        {
            "upload_file", "upload_fileobj", "download_file", "download_fileobj", "put_object", "get_object",
            "delete_object", "delete_objects", "list_objects", "list_objects_v2", "head_object", "copy_object",
            "create_bucket", "head_bucket", "list_buckets", "send_message", "receive_message", "delete_message",
            "put_item", "get_item", "update_item", "delete_item", "query", "scan", "batch_write_item", "batch_get_item",
            "invoke", "publish", "send_email", "get_secret_value", "get_parameter", "put_parameter",
            "create_multipart_upload", "upload_part", "complete_multipart_upload", "start_execution",
        }
    ),
}  # fmt: skip
FILE_OPENERS = frozenset({"open", "NamedTemporaryFile", "TemporaryFile"})
KIND_METHODS = frozenset().union(*BLOCKING_METHODS.values(), {m for (_, m) in TRANSITIONS})

# external functions that block, with a category
BLOCKING_CALLS: dict[str, str] = {
    "time.sleep": "sleep",
    **{f"requests.{m}": "http" for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")},
    **{f"requests.api.{m}": "http" for m in ("get", "post", "put", "patch", "delete", "head", "options", "request")},
    **{f"httpx.{m}": "http" for m in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")},
    "urllib.request.urlopen": "http",
    "urllib.request.urlretrieve": "http",
    "smtplib.SMTP": "smtp",
    "smtplib.SMTP_SSL": "smtp",
    **{f"subprocess.{m}": "subprocess" for m in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput")},
    "os.system": "subprocess",
    "os.popen": "subprocess",
    "os.wait": "subprocess",
    "os.waitpid": "subprocess",
    **{
        f"shutil.{m}": "file"
        for m in ("copyfileobj", "copyfile", "copy", "copy2", "copytree", "rmtree", "move", "make_archive", "unpack_archive")
    },
    **{
        f"socket.{m}": "network"
        for m in ("create_connection", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getaddrinfo")
    },
    "psycopg2.connect": "db",
    "psycopg.connect": "db",
    "sqlite3.connect": "db",
    "pymysql.connect": "db",
    "mysql.connector.connect": "db",
}
BLOCKING_LASTS = frozenset(d.rsplit(".", 1)[1] for d in BLOCKING_CALLS)
BUILTIN_NAMES = frozenset(dir(builtins))
KIND_CATEGORY: dict[str, str] = {
    SESSION: "db",
    CONN: "db",
    ENGINE: "db",
    MONGO: "db",
    HTTP: "http",
    REDIS: "redis",
    SMTP: "smtp",
    BOTO: "boto3",
    PATH: "file",
    FILE: "file",
    POPEN: "subprocess",
}
KIND_LABEL: dict[str, str] = {
    SESSION: "sync session",
    CONN: "sync DB connection",
    ENGINE: "sync engine",
    MONGO: "sync pymongo client",
    HTTP: "sync HTTP client",
    REDIS: "sync redis client",
    SMTP: "SMTP connection",
    BOTO: "boto3 client",
    PATH: "pathlib path",
    FILE: "file",
    POPEN: "subprocess",
}
WRAPPER_TYPES = frozenset(
    {
        "Optional", "Union", "Generator", "Iterator", "Iterable", "AsyncGenerator", "AsyncIterator",
        "AsyncIterable", "ContextManager", "AbstractContextManager", "Annotated", "Final", "Type",
    }
)  # fmt: skip
CONTEXT_DECORATORS = frozenset({"contextlib.contextmanager", "contextlib.asynccontextmanager"})
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod", "builtins.staticmethod", "builtins.classmethod"})


@dataclass(frozen=True, slots=True)
class Blocking:
    """One blocking call: where, what it is (resolved), its category and grouping key."""

    loc: Loc
    callee: str  # as written
    what: str  # e.g. "requests.get", "sync session `db`: `db.query`"
    category: str
    group: str  # calls with the same key in one function are reported once


class ParamKinds(Mapping[str, str]):
    """Parameter name -> kind, each kind worked out the first time it is asked for.

    Most never are: a parameter's kind matters only when a method that may block is called on
    it, or when it is handed to a helper. Working one out resolves its annotation and its
    dependency, which may parse a module the pre-scan skipped (the annotation's class, often
    a pydantic model in a large `types.py`). Worked out eagerly, FDL302 on the benchmark
    corpus spent about 0.8 s of its 3.3 s (wall, two processes) on kinds it never used."""

    __slots__ = ("_known", "_pending")

    def __init__(self, known: Mapping[str, str] | None = None, pending: Mapping[str, Callable[[], str | None]] | None = None) -> None:
        self._known: dict[str, str | None] = dict(known or {})
        self._pending: dict[str, Callable[[], str | None]] = dict(pending or {})

    def __getitem__(self, name: str) -> str:
        if name not in self._known:
            work = self._pending.pop(name, None)
            self._known[name] = work() if work is not None else None
        kind = self._known[name]
        if kind is None:
            raise KeyError(name)
        return kind

    def __iter__(self) -> Iterator[str]:
        for name in list(self._pending):
            self.get(name)
        return iter([name for name, kind in self._known.items() if kind is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def update(self, known: Mapping[str, str]) -> None:
        """Set these kinds (a caller's, for the parameters it hands over), over any declared."""
        for name, kind in known.items():
            self._pending.pop(name, None)
            self._known[name] = kind


@dataclass(slots=True)
class Scope:
    """A function being examined, with what is known about its parameters."""

    module: str
    fn: Function
    params: ParamKinds


class Kinds:
    """Kinds of expressions and names, and which calls block. Memoised per run."""

    def __init__(self, graph: ProjectGraph) -> None:
        self.graph = graph
        self.r = graph.resolver
        self._with: dict[tuple[str, str], dict[str, X]] = {}
        self._provided: dict[tuple[str, str], str | None] = {}
        self._tops: frozenset[str] | None = None
        self._self_assigns: dict[tuple[str, str], list[tuple[str, X | None, X | None]]] = {}
        self._source_lines: dict[str, list[str]] = {}

    # -- types --------------------------------------------------------------------------------
    def type_kind(self, module: str, scope: str, ann: X | None, depth: int = 0) -> str | None:
        if ann is None or self.r is None or depth > MAX_DEPTH:
            return None
        if isinstance(ann, Sub):
            t = self.r.resolve_expr_name(module, scope, ann.value)
            if isinstance(t, RExternal) and t.dotted.rsplit(".", 1)[-1] in WRAPPER_TYPES and ann.items:
                for item in ann.items[:1] if not t.dotted.endswith(("Optional", "Union")) else ann.items:
                    kind = self.type_kind(module, scope, item, depth + 1)
                    if kind is not None:
                        return kind
                return None
            return None
        if not isinstance(ann, Name):
            return None
        t = self.r.resolve_when(module, scope, ann.dotted, may_define_kind(ann.dotted))
        if isinstance(t, RExternal):
            return TYPE_KINDS.get(t.dotted)
        if isinstance(t, RClass):
            return self.class_kind(t)
        if isinstance(t, RVar) and isinstance(t.assign.value, (Sub, Name)) and t.assign.value is not ann:
            return self.type_kind(t.module, t.scope, t.assign.value, depth + 1)
        return None

    def class_kind(self, cls: RClass) -> str | None:
        """A project subclass of a known class (`class DB(Session)`)."""
        assert self.r is not None
        for base in self.r.external_bases(cls):
            if base in TYPE_KINDS:
                return TYPE_KINDS[base]
        return None

    # -- values -------------------------------------------------------------------------------
    def expr_kind(self, module: str, scope: str, x: X | None, params: Mapping[str, str] | None = None, depth: int = 0) -> str | None:
        """The kind of the value `x` evaluates to in `scope` (a function qualname or "")."""
        if x is None or self.r is None or depth > MAX_DEPTH:
            return None
        if isinstance(x, Name):
            return self.name_kind(module, scope, x.dotted, params or {}, depth)
        if isinstance(x, Call) and isinstance(x.func, Name):
            return self.call_kind(module, scope, x, params or {}, depth)
        return None

    def name_kind(self, module: str, scope: str, dotted: str, params: Mapping[str, str], depth: int = 0) -> str | None:
        assert self.r is not None
        head, _, rest = dotted.partition(".")
        t = self.r.resolve_when(module, scope, head, may_be_variable)  # (`resolve` of a plain name is its `lookup`)
        base: str | None = None
        if isinstance(t, RParam) or (t is None and head in params):
            base = params.get(head)
        elif isinstance(t, RVar):
            base = self.var_kind(t, depth)
        elif isinstance(t, RModule) and rest:
            full = self.r.resolve(module, scope, dotted)
            return self.var_kind(full, depth) if isinstance(full, RVar) else None
        if not rest:
            return base
        if base == MONGO:
            return MONGO  # `client.db.users`: databases and collections
        if isinstance(t, RParam) and "." not in rest and self._is_self(module, scope, head):
            return self.self_attr_kind(module, scope, rest, depth)
        return None

    def _is_self(self, module: str, scope: str, name: str) -> bool:
        facts = self.graph.modules.get(module)
        fn = facts.functions.get(scope) if facts is not None else None
        return fn is not None and fn.class_name is not None and bool(fn.params) and fn.params[0].name == name

    def self_attr_kind(self, module: str, scope: str, attr: str, depth: int) -> str | None:
        """`self.db` in a method: the class field's annotation, or what `__init__` assigns
        (`self.db = db` with `db: Session`, `self.client = requests.Session()`)."""
        assert self.r is not None
        facts = self.graph.modules[module]
        fn = facts.functions[scope]
        owner = facts.classes.get(fn.parent)
        if owner is None or depth > MAX_DEPTH:
            return None
        for cls in self.r.mro(RClass(module, owner.qualname)):
            cfacts = self.r.class_facts(cls)
            if cfacts is None:
                continue
            for f in cfacts.fields:
                if f.name == attr:
                    return self.type_kind(cls.module, cfacts.parent, f.annotation, depth + 1)
            init = self.graph.modules[cls.module].functions.get(f"{cls.qualname}.__init__")
            if init is None:
                continue
            params = {p.name: k for p in init.params if (k := self.type_kind(cls.module, init.parent, p.annotation, depth + 1))}
            for target, value, annotation in self.self_assignments(cls.module, init):
                if target == attr:
                    kind = self.type_kind(cls.module, init.parent, annotation, depth + 1) if annotation is not None else None
                    return kind or self.expr_kind(cls.module, init.qualname, value, params, depth + 1)
            return None  # the first `__init__` in the MRO is the one that runs
        return None

    def self_assignments(self, module: str, fn: Function) -> list[tuple[str, X | None, X | None]]:
        """`self.<attr> = value` / `self.<attr>: T = value` lines of a method, read from the
        source lines (one-line statements; cheaper than parsing a large module again)."""
        key = (module, fn.qualname)
        if key in self._self_assigns:
            return self._self_assigns[key]
        found: list[tuple[str, X | None, X | None]] = []
        facts = self.graph.modules.get(module)
        me = fn.params[0].name if fn.params else "self"
        lines = self._lines(facts.path) if facts is not None else []
        body = lines[fn.loc[0] : fn.loc[2]]
        for index, text in enumerate(body):
            match = SELF_ASSIGN.match(text)
            if match is None or match.group("me") != me:
                continue
            value = _parse_expr(match.group("value"))
            for extra in range(1, MAX_CONTINUATION + 1):  # a call spread over several lines
                if value is not None or index + extra >= len(body):
                    break
                value = _parse_expr(
                    " ".join([match.group("value"), *(line.strip() for line in body[index + 1 : index + extra + 1])])
                )
            annotation = _parse_expr(match.group("ann")) if match.group("ann") else None
            if value is not None or annotation is not None:
                found.append((match.group("attr"), value, annotation))
        self._self_assigns[key] = found
        return found

    def _lines(self, path: str) -> list[str]:
        if path not in self._source_lines:
            self._source_lines[path] = detail.source_lines(path) or []  # lines as Python counts them
        return self._source_lines[path]

    def var_kind(self, var: RVar, depth: int) -> str | None:
        assign = var.assign
        kind = self.type_kind(var.module, var.scope, assign.annotation, depth + 1) if assign.annotation is not None else None
        if kind is not None:
            return kind
        value: X | None = assign.value
        if value is None and var.scope and self._with_statement(var):
            value = self.with_bindings(var.module, var.scope).get(assign.name)
        if isinstance(value, Opaque) and value.kind == "BinOp" and var.scope:
            return self.path_join_kind(var, depth)
        return self.expr_kind(var.module, var.scope, value, None, depth + 1)

    def path_join_kind(self, var: RVar, depth: int) -> str | None:
        """`target = base_dir / name`: a path when the left operand is one."""
        facts = self.graph.modules.get(var.module)
        fn = facts.functions.get(var.scope) if facts is not None else None
        node = self._node(var.module, fn) if fn is not None else None
        loc = var.assign.loc
        for n in _own_nodes(node) if node is not None else ():
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.lineno == loc[0] and n.col_offset == loc[1]:
                left = n.value
                while isinstance(left, ast.BinOp) and isinstance(left.op, ast.Div):
                    left = left.left
                if left is not n.value and self.expr_kind(var.module, var.scope, to_x(left), None, depth + 1) == PATH:
                    return PATH
        return None

    def _with_statement(self, var: RVar) -> bool:
        """Was this value-less binding made by a `with` item call on its line (not by tuple
        unpacking)? Checked on the facts, so the file is parsed again only when it pays."""
        facts = self.graph.modules.get(var.module)
        fn = facts.functions.get(var.scope) if facts is not None else None
        line = var.assign.loc[0]
        return fn is not None and any(c.in_with and c.loc[0] == line for c in fn.calls)

    def call_kind(self, module: str, scope: str, call: Call, params: Mapping[str, str], depth: int) -> str | None:
        assert self.r is not None and isinstance(call.func, Name)
        dotted = call.func.dotted
        if "." in dotted:
            receiver, _, method = dotted.rpartition(".")
            rk = self.name_kind(module, scope, receiver, params, depth + 1)
            if rk is not None:
                return TRANSITIONS.get((rk, method)) or None
        if dotted in BUILTIN_NAMES and not bound_in_module(self.graph, module, scope, dotted):
            return CALL_KINDS.get(f"builtins.{dotted}")
        t = self.r.resolve_when(module, scope, dotted, may_make_kind(dotted))
        if isinstance(t, RExternal):
            return self.external_call_kind(module, scope, t.dotted, call)
        if isinstance(t, RVar):
            vk = self.var_kind(t, depth + 1)
            return TRANSITIONS.get((vk, "()")) if vk is not None else None
        if isinstance(t, RClass):
            return self.class_kind(t)
        if isinstance(t, RAttr):
            t = self.r.class_attribute(t.cls, t.attr)
        if isinstance(t, RFunc):
            fn = self.function(t)
            return self.provided_kind(t.module, fn) if fn is not None else None
        return None

    def external_call_kind(self, module: str, scope: str, dotted: str, call: Call | None) -> str | None:
        kind = CALL_KINDS.get(dotted)
        if kind == MAKER and call is not None:
            for key, value in call.kwargs:
                if key == "class_" and self.type_kind(module, scope, value) == ASESSION:
                    return AMAKER
        if kind is None and "()." in dotted:
            base, _, method = dotted.rpartition("().")
            inner = CALL_KINDS.get(base)
            if inner is not None:
                kind = TRANSITIONS.get((inner, method))
        return kind

    def function(self, ref: RFunc) -> Function | None:
        facts = self.graph.modules.get(ref.module)
        return facts.functions.get(ref.qualname) if facts is not None else None

    # -- what a dependency (or context manager) provides ------------------------------------------
    def provided_kind(self, module: str, fn: Function) -> str | None:
        """The kind of what calling `fn` gives: its annotation, else what it yields or returns."""
        key = (module, fn.qualname)
        if key in self._provided:
            return self._provided[key]
        self._provided[key] = None  # recursion guard; memoised, so every function starts a fresh depth budget
        kind = self.type_kind(module, fn.parent, fn.returns_annotation)
        if kind is None:
            values: list[X | None] = list(fn.returns)
            if fn.is_generator:
                values = self.yielded(module, fn) + values
            for value in values:
                kind = self.expr_kind(module, fn.qualname, value, None)
                if kind is not None:
                    break
        self._provided[key] = kind
        return kind

    def node_kind(self, node: Node) -> str | None:
        """What a dependency node provides to the parameter it is injected into."""
        if node.kind in ("function", "method", "partial") and node.function is not None and node.module:
            return self.provided_kind(node.module, node.function)
        if node.kind == "external" and node.external and node.id.endswith("()"):
            return TRANSITIONS.get((CALL_KINDS.get(node.external, ""), "()"))
        return None

    # -- on-demand syntax ------------------------------------------------------------------------
    def _node(self, module: str, fn: Function) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        facts = self.graph.modules.get(module)
        if facts is None:
            return None
        return detail.function_node(facts.path, fn)

    def yielded(self, module: str, fn: Function) -> list[X | None]:
        node = self._node(module, fn)
        return [to_x(n.value) for n in _own_nodes(node) if isinstance(n, ast.Yield) and n.value is not None] if node else []

    def with_bindings(self, module: str, scope: str) -> dict[str, X]:
        """`with EXPR as name:` bindings of a function (facts record the name, not EXPR)."""
        key = (module, scope)
        if key not in self._with:
            found: dict[str, X] = {}
            facts = self.graph.modules.get(module)
            fn = facts.functions.get(scope) if facts is not None else None
            node = self._node(module, fn) if fn is not None else None
            for n in _own_nodes(node) if node is not None else ():
                if isinstance(n, (ast.With, ast.AsyncWith)):
                    for item in n.items:
                        if isinstance(item.optional_vars, ast.Name):
                            x = to_x(item.context_expr)
                            if x is not None:
                                found[item.optional_vars.id] = x
            self._with[key] = found
        return self._with[key]

    def call_arguments(self, module: str, fn: Function, loc: Loc) -> tuple[list[str | None], dict[str, str]] | None:
        """(positional argument names, keyword -> argument name) of the call at `loc` in `fn`."""
        node = self._node(module, fn)
        for n in _own_nodes(node) if node is not None else ():
            if isinstance(n, ast.Call) and n.lineno == loc[0] and n.col_offset == loc[1]:
                positional = [a.id if isinstance(a, ast.Name) else None for a in n.args]
                keywords = {k.arg: k.value.id for k in n.keywords if k.arg and isinstance(k.value, ast.Name)}
                return positional, keywords
        return None

    # -- blocking calls ---------------------------------------------------------------------------
    def blocking(self, scope: Scope, call: CallSite) -> Blocking | None:
        """Is this call (not awaited, not handed to a thread) blocking?"""
        if self.r is None or call.awaited or call.in_thread or not call.callee:
            return None
        callee = call.callee
        module, fn = scope.module, scope.fn
        if callee.startswith("?") or callee.count("()") > 1:
            return None
        receiver, _, method = callee.rpartition(".")
        if call.arg_names:
            handed = self.file_argument(scope, call)
            if handed is not None:
                return handed
        if method not in KIND_METHODS and method not in BLOCKING_LASTS and (receiver or not self.imported(module, fn, callee)):
            return None  # cheap: no name resolution (which may parse more modules) for the common case
        if not receiver and callee in BUILTIN_NAMES and not bound_in_module(self.graph, module, fn.qualname, callee):
            return None
        if receiver and "()" not in receiver and method in KIND_METHODS:
            kind = self.name_kind(module, fn.qualname, receiver, scope.params)
            if kind is not None:
                if not self._blocks(kind, method):
                    return None
                return Blocking(
                    call.loc, callee, f"`{callee}` on {KIND_LABEL[kind]} `{receiver}`", KIND_CATEGORY[kind], f"recv:{receiver}"
                )
        elif receiver.endswith("()") and receiver.count("()") == 1 and not receiver.startswith("?"):
            inner = Call(Name(receiver[:-2], call.loc), (), (), call.loc)
            kind = self.call_kind(module, fn.qualname, inner, scope.params, 0)
            if kind is not None:
                return (
                    Blocking(call.loc, callee, f"`{callee}` ({KIND_LABEL[kind]})", KIND_CATEGORY[kind], f"call:{callee}")
                    if self._blocks(kind, method)
                    else None
                )
        if "()" in callee or not self.imported(module, fn, callee.partition(".")[0], external=True):
            return None  # blocking library functions are reached through an import of a library
        t = self.r.resolve(module, fn.qualname, callee)
        if not isinstance(t, RExternal):
            return None
        dotted = t.dotted
        category = BLOCKING_CALLS.get(dotted)
        if category is not None:
            shown = f"`{callee}`" if dotted in (callee, f"builtins.{callee}") else f"`{callee}` (`{dotted}`)"
            return Blocking(call.loc, callee, shown, category, f"call:{dotted}")
        if "()." in dotted:
            base, _, m = dotted.rpartition("().")
            kind = self.external_call_kind(module, fn.qualname, base, None)
            if kind is not None and self._blocks(kind, m):
                return Blocking(
                    call.loc, callee, f"`{callee}` ({KIND_LABEL[kind]})", KIND_CATEGORY[kind], f"recv:{callee.rpartition('.')[0]}"
                )
        return None

    def file_argument(self, scope: Scope, call: CallSite) -> Blocking | None:
        """`json.load(f)`, `shutil.copyfileobj(src, f)`: a call that reads or writes an open
        file it is handed (only function-local names are looked at: cheap)."""
        if call.callee.rpartition(".")[2].endswith(("Response", "closing", "iterate_in_threadpool")):
            return None  # a streaming response iterates a sync file in the threadpool
        facts = self.graph.modules.get(scope.module)
        local = facts.assigns.get(scope.fn.qualname, {}) if facts is not None else {}
        for name in call.arg_names:
            if (
                name in local
                and self._maybe_file(scope, local[name])
                and self.name_kind(scope.module, scope.fn.qualname, name, scope.params) == FILE
            ):
                return Blocking(call.loc, call.callee, f"`{call.callee}` on file `{name}`", "file", f"recv:{name}")
        return None

    @staticmethod
    def _maybe_file(scope: Scope, assigns: list[Assign]) -> bool:
        """Cheap look at a local's bindings: made by calling something named like a file opener."""
        for assign in assigns:
            value = assign.value
            if isinstance(value, Call) and isinstance(value.func, Name) and value.func.dotted.rpartition(".")[2] in FILE_OPENERS:
                return True
            if value is None and any(
                c.in_with and c.loc[0] == assign.loc[0] and c.callee.rpartition(".")[2] in FILE_OPENERS
                for c in scope.fn.calls
            ):
                return True
        return False

    def imported(self, module: str, fn: Function, name: str, external: bool = False) -> bool:
        """`name` is bound by an import statement in the function's scopes (an alias such as
        `from time import sleep as pause`); with `external`, an import of something outside the
        project (checked by name only: nothing is parsed)."""
        facts = self.graph.modules.get(module)
        if facts is None or self.r is None:
            return False
        for s in self.r.scope_chain(facts, fn.qualname):
            imp = facts.imports.get(s, {}).get(name)
            if imp is not None:
                if not external:
                    return True
                return imp.module.split(".", 1)[0] not in self.project_tops()
        return False

    def project_tops(self) -> frozenset[str]:
        """First segments of the project's module names (`app` for `app.routers.items`)."""
        if self._tops is None and self.r is not None:
            self._tops = frozenset(k.split(".", 1)[0].split("#", 1)[0] for k in [*self.r.modules, *self.r.deferred])
        return self._tops or frozenset()

    @staticmethod
    def _blocks(kind: str, method: str) -> bool:
        return method in BLOCKING_METHODS.get(kind, ())

    def direct(self, scope: Scope) -> list[Blocking]:
        """Blocking calls made directly in the function, first of each group."""
        found: list[Blocking] = []
        groups: set[str] = set()
        for call in scope.fn.calls:
            b = self.blocking(scope, call)
            if b is not None and b.group not in groups:
                groups.add(b.group)
                found.append(b)
        return found

    def param_kinds(self, module: str, fn: Function, node: Node | None) -> ParamKinds:
        """Kinds of a function's parameters (each worked out when asked for, see `ParamKinds`):
        from the providing dependency, else the annotation."""
        edges = {e.param: e for e in node.edges if e.param} if node is not None else {}
        return ParamKinds(pending={p.name: functools.partial(self._param_kind, module, fn, p.annotation, edges.get(p.name)) for p in fn.params})

    def _param_kind(self, module: str, fn: Function, annotation: X | None, edge: Edge | None) -> str | None:
        declared = self.type_kind(module, fn.parent, annotation)
        if edge is not None and declared not in ASYNC_KINDS:  # an explicit async type is believed
            target = self.graph.nodes.get(edge.target)
            kind = self.node_kind(target) if target is not None else None
            if kind is not None:
                return kind
        return declared


MAX_CONTINUATION = 12
SELF_ASSIGN = re.compile(r"^\s*(?P<me>\w+)\.(?P<attr>\w+)\s*(?::\s*(?P<ann>[^=]+?))?\s*=(?!=)\s*(?P<value>.+?)\s*$")


def _parse_expr(text: str) -> X | None:
    """One expression from a source fragment (a trailing comment dropped when needed)."""
    for candidate in (text, text.split("#", 1)[0]):
        try:
            return to_x(ast.parse(candidate.strip(), mode="eval").body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


def bound_in_module(graph: ProjectGraph, module: str, scope: str, name: str) -> bool:
    """Is `name` defined, assigned or imported in `scope` or an enclosing scope of the module
    (star imports aside)? Used to tell a builtin from a shadowing definition without resolving
    through star imports, which may parse many more modules."""
    facts = graph.modules.get(module)
    if facts is None or graph.resolver is None:
        return True
    for s in graph.resolver.scope_chain(facts, scope):
        prefix = f"{s}.<locals>." if s else ""
        if name in facts.imports.get(s, {}) or name in facts.assigns.get(s, {}):
            return True
        if prefix + name in facts.functions or prefix + name in facts.classes:
            return True
        fn = facts.functions.get(s) if s else None
        if fn is not None and any(p.name == name for p in fn.params):
            return True
    return False


def _own_nodes(node: ast.AST | None) -> list[ast.AST]:
    """Every node of a function body, nested functions, classes and lambdas excluded."""
    if node is None:
        return []
    result: list[ast.AST] = []
    stack: list[ast.AST] = list(getattr(node, "body", []))
    while stack:
        n = stack.pop()
        result.append(n)
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            stack.append(child)
    return result


# -- textual tests: may a module the pre-scan skipped matter here? ------------------------------
# Parsing a module costs ~1000x a substring test; these keep the rules from parsing every module
# an async route calls into (litellm: 423 modules) when its text cannot hold what they look for.

def _alternatives(words: set[str]) -> bytes:
    return b"|".join(re.escape(w.encode()) for w in sorted(words, key=len, reverse=True))


_MAKERS = frozenset(CALL_KINDS) | frozenset(TYPE_KINDS)
_BLOCKING_DOTTED = {d for d in (*BLOCKING_CALLS, *CALL_KINDS) if not d.startswith("builtins.") and "()" not in d}
# a blocking function or constructor called by its dotted name (`requests.get(`, `time.sleep(`)
_STRONG = re.compile(rb"\b(?:%s)\s*\(" % _alternatives(_BLOCKING_DOTTED | set(FILE_OPENERS)))
_CONSTRUCTORS = {d.rsplit(".", 1)[-1] for d in (*CALL_KINDS, *TYPE_KINDS)} | set(FILE_OPENERS)
# a method that blocks on a value of a blocking kind (`.query(`, `.commit(`, `.read_text(`)
_KIND_METHOD = re.compile(rb"\.(%s)\s*\(" % _alternatives({m for m in KIND_METHODS if m.isidentifier()}))
_KIND_WORD = re.compile(rb"\b(?:%s)\b" % _alternatives(_CONSTRUCTORS))
# a module-level value of a blocking kind (`redis_client = Redis(...)`)
_GLOBAL_VALUE = re.compile(rb"^[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*[\w.]*\b(%s)\s*\(" % _alternatives(_CONSTRUCTORS), re.MULTILINE)
_TYPE_WORDS = tuple(sorted({k.rsplit(".", 1)[-1].encode() for k in TYPE_KINDS}))


def _word_kinds() -> dict[bytes, frozenset[str]]:
    kinds: dict[bytes, set[str]] = {}
    for dotted, kind in (*CALL_KINDS.items(), *TYPE_KINDS.items()):
        kinds.setdefault(dotted.rsplit(".", 1)[-1].encode(), set()).add(kind)
    return {word: frozenset(k) for word, k in kinds.items()}


def _sources() -> dict[str, frozenset[str]]:
    """kind -> the kinds whose values can turn into it (`TRANSITIONS`, any number of steps)."""
    result: dict[str, set[str]] = {k: {k} for k in BLOCKING_METHODS}
    changed = True
    while changed:
        changed = False
        for (before, _), after in TRANSITIONS.items():
            for found in result.values():
                if after in found and before not in found:
                    found.add(before)
                    changed = True
    return {k: frozenset(v) for k, v in result.items()}


# which kinds a constructor's name makes (`Session`: a SQLAlchemy or a requests session); a type
# may be named bare (`db: Session`), a maker only makes anything when called (`boto3.client(`:
# the word alone is every variable called `client`)
_WORD_KINDS = _word_kinds()
_TYPE_WORD = re.compile(rb"\b(%s)\b" % _alternatives({w.decode() for w in _TYPE_WORDS}))
_CALL_WORD = re.compile(rb"\b(%s)\s*\(" % _alternatives({w.decode() for w in _WORD_KINDS} - {w.decode() for w in _TYPE_WORDS}))
_SOURCES = _sources()


def may_block(callee: str, passed: Callable[[], frozenset[str]], maker: Callable[[Source], bool]) -> MayMatter:
    """Test of a module's text: may the function `callee` names make a blocking call? It may
    when its text calls a blocking function or constructor, or a method that blocks on a value
    of some kind (`.query(` on a session) where its text can hold a value of that kind: one it
    types or builds (`db: Session`, `Path(...)`), a module-level value (`client = Redis(...)`),
    one a call of a project function or a kind's maker gives (`maker`: is what this import
    names one?), or one the caller hands it (`passed`: the kinds of the call's arguments,
    asked only then). `AsyncSession` and `.get(` on a dict are no reason to parse a module."""
    def test(data: bytes, wanted: str | None) -> bool:
        kinds: frozenset[str] = frozenset()
        makers: frozenset[Source] = frozenset()
        for verdict in (_may_block(data, n) for n in looked_for(callee, wanted)):
            if verdict is True:
                return True
            kinds |= verdict[0]
            makers |= verdict[1]
        return any(maker(source) for source in makers) or not kinds.isdisjoint(passed())

    return test


def project_or(r: Resolver | None, external: Container[str]) -> Callable[[Source], bool]:
    """Does an import name what a question may need parsed: anything of a project module
    (its answer is known once parsed), or one of `external` (dotted names of libraries)? Not
    another library's name: what it is, is known without parsing (FDL302, asking whether a
    value may be of a blocking kind, parsed 21 modules of the benchmark corpus for values
    made by `json.loads`, `copy.deepcopy` or `types.MappingProxyType`)."""
    def test(source: Source) -> bool:
        written, original = source[0].decode("ascii", "replace"), source[1]
        if r is None or written.startswith("."):
            return True
        dotted = imported_dotted(*source)
        if dotted in external or r.may_be_module(written) or r.may_be_module(dotted):
            return True
        return original is None and r.may_be_module(written.split(".", 1)[0])  # `import a.b` binds `a`

    return test


def project_maker(r: Resolver | None) -> Callable[[Source], bool]:
    """`project_or` a library's maker of a blocking kind (`redis.from_url`)."""
    return project_or(r, _MAKERS)


# an import a name is bound by: (the module as written, the name imported; None for `import m`)
Source = tuple[bytes, bytes | None]
# what more a function needs to block: a kind of an argument the caller hands it, or a call of
# an imported maker that may give a value of a blocking kind (see `project_maker`)
Needs = tuple[frozenset[str], frozenset[Source]]


@functools.lru_cache(maxsize=4096)  # one helper is called from many routes
def _may_block(data: bytes, name: str) -> Literal[True] | Needs:
    """True, or what more the function needs to block (nothing when it cannot: no such
    function here, a class, a re-export)."""
    wanted: set[str] = set()
    makers: set[Source] = set()
    for text in function_texts(data, name):
        if _STRONG.search(text) or _calls_any(text, _blocking_imports(data)):
            return True
        methods = {m.group(1).decode() for m in _KIND_METHOD.finditer(text) if not _awaited(text, m.start())}
        if not methods:
            continue
        sources = frozenset().union(*(_SOURCES[k] for k, blocking in BLOCKING_METHODS.items() if methods & blocking))
        if not sources:
            continue
        if _makes_any(sources, (*_TYPE_WORD.findall(text), *_CALL_WORD.findall(text))) or _makes_any(sources, _global_values(data)):
            return True
        made = _receiver_from_call(text, data, methods)
        if made is True:
            return True  # `db = SessionLocal()` then `db.commit()`: the kind is known once parsed
        if made:
            makers |= made
        wanted |= sources
    return frozenset(wanted), frozenset(makers)


@functools.lru_cache(maxsize=256)
def _blocking_imports(data: bytes) -> frozenset[bytes]:
    """The names a module binds to blocking library functions or constructors by importing
    them (`from time import sleep`, `from requests import get as fetch`, a star import of
    `requests`): a bare call of one of them blocks. Only those: `delete(` is `sqlalchemy`'s
    in most modules that import from `requests` too (a bare `get(`, `run(` or `delete(` in a
    module importing anything from a blocking library had parsed 28 modules of the benchmark
    corpus for no finding)."""
    found: set[bytes] = set()
    for bound, sources in imported_names(data).items():
        for module, original in sources:
            if bound == b"*":
                prefix = module.decode("ascii", "replace") + "."
                found |= {d[len(prefix) :].encode() for d in _BLOCKING_DOTTED if d.startswith(prefix) and "." not in d[len(prefix) :]}
            elif original is not None and imported_dotted(module, original) in _BLOCKING_DOTTED:
                found.add(bound)
    return frozenset(found)


def _calls_any(text: bytes, names: frozenset[bytes]) -> bool:
    """Does `text` call one of `names` bare (`sleep(1)`, not `x.sleep(1)` nor `nosleep(1)`)?"""
    for name in names:
        at = text.find(name)
        while at >= 0:
            end = at + len(name)
            before = text[at - 1 : at] if at else b" "
            if not (before.isalnum() or before in b"_.") and _OPEN_CALL.match(text, end):
                return True
            at = text.find(name, end)
    return False


_OPEN_CALL = re.compile(rb"\s*\(")


def _awaited(text: bytes, dot: int) -> bool:
    """Is the method call whose `.` is at `dot` the whole of an `await` (`await db.execute(q)`,
    `await self.redis.get(k)`)? Its value is then awaitable: not a blocking call (FDL302 skips
    awaited calls). Not when the result is used further (`await s.execute(q).first()`) or
    the receiver is not a plain dotted name."""
    start = dot
    while start > 0 and (text[start - 1 : start].isalnum() or text[start - 1] in b"_."):
        start -= 1
    before = text[max(0, start - 16) : start].rstrip()
    if not before.endswith(b"await") or before[-6:-5].isalnum() or before[-6:-5] == b"_":
        return False
    end = _call_end(text, text.index(b"(", dot))
    return end >= 0 and text[end : end + 64].lstrip()[:1] not in (b".", b"(", b"[")


def _call_end(text: bytes, opening: int) -> int:
    """The index just past the `)` that closes the `(` at `opening` (brackets counted, strings
    not understood: good enough to look for what follows); -1 when not found nearby."""
    depth = 0
    for i in range(opening, min(len(text), opening + 4096)):
        c = text[i]
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _makes_any(kinds: frozenset[str], words: Iterable[bytes]) -> bool:
    """Does one of these constructor or type names make a value of one of `kinds`?"""
    return any(not kinds.isdisjoint(_WORD_KINDS.get(w, ())) for w in words)


_RECEIVER = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)\.(\w+)\s*\(")


_ASSIGNED_CALL = re.compile(rb"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*(?:await[ \t]+)?([A-Za-z_]\w*)[\w.]*[ \t]*\(", re.MULTILINE)
_WITH_LINE = re.compile(rb"^[ \t]*(?:async[ \t]+)?with[ \t][^\n]*", re.MULTILINE)
_CALL_HEAD = re.compile(rb"(?<![\w.])([A-Za-z_]\w*)[\w.]*[ \t]*\(")
_AS_NAME = re.compile(rb"\bas[ \t]+([A-Za-z_]\w*)")
_ASSIGNED = re.compile(rb"^[ \t]*([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)
_MODULE_ASSIGNED = re.compile(rb"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)", re.MULTILINE)


def _receiver_from_call(text: bytes, data: bytes, methods: set[str]) -> bool | frozenset[Source]:
    """Is a blocking-method receiver a local bound from a call of a module-level name
    (`db = SessionLocal()`, `with make_client() as c`)? Its kind then rests on what that
    callee gives: True when the name is assigned in the module, else the imports that bind
    it (`from .db import SessionLocal`), for the caller to tell a project's function from a
    library's (`project_maker`). Calls on other locals (`data = resp.json()`) and on builtins
    give no kind."""
    receivers = {
        m.group(1) for m in _RECEIVER.finditer(text) if m.group(2).decode() in methods and not _awaited(text, m.end(1))
    } - {b"self", b"cls"}
    if not receivers:
        return False
    heads = [head for name, head in _ASSIGNED_CALL.findall(text) if name in receivers]
    for line in _WITH_LINE.findall(text):
        if receivers.intersection(_AS_NAME.findall(line)):
            heads += _CALL_HEAD.findall(line)
    if not heads:
        return False
    local = set(_ASSIGNED.findall(text.split(b"\n", 1)[-1]))  # assigned in the body
    imported, assigned = imported_names(data), _module_names(data)
    sources: set[Source] = set()
    for head in heads:
        if head.decode() in BUILTIN_NAMES or head in local:
            continue
        if head in assigned:
            return True
        sources.update(imported.get(head, ()))
    return frozenset(sources)


@functools.lru_cache(maxsize=256)
def _module_names(data: bytes) -> frozenset[bytes]:
    """Names assigned at module level (`SessionLocal = sessionmaker(...)`)."""
    return frozenset(_MODULE_ASSIGNED.findall(data))


@functools.lru_cache(maxsize=256)
def _global_values(data: bytes) -> frozenset[bytes]:
    return frozenset(_GLOBAL_VALUE.findall(data))


def may_make_kind(callee: str) -> MayMatter:
    """Test of a module's text: may calling `callee` give a value of a blocking kind? A class
    may derive from a blocking type; a function's text must build or type one; a name bound
    at module level may be a blocking constructor or maker (`SessionLocal = sessionmaker(...)`)."""
    return lambda data, wanted: any(_may_make_kind(data, n) for n in looked_for(callee, wanted))


def _may_make_kind(data: bytes, name: str) -> bool:
    if name[:1].isupper():
        if _plain_class_only(data, name):
            return False  # a plain class: its instances are of no kind
        if _mentions_type_word(data):
            return True
    texts = list(function_texts(data, name))
    if texts:
        return any(_KIND_WORD.search(text) for text in texts)
    return _GLOBAL_VALUE.search(data) is not None or name.encode() in data and b"import" in data


def may_be_variable(data: bytes, wanted: str | None) -> bool:
    """Test of a module's text (`Kinds.name_kind`): may `wanted` be a variable of a blocking
    kind there? Only a variable can be (`name = ...`, `name: T`, at any indentation): not a
    name the module defines as a function or class, nor one it only imports (the resolver
    follows an import by text, `Resolver._hands_on`). Nor a variable every assignment of
    which is a literal (`VERSION = "1.2"`, `ROUTES = [...]`) or an instance of a plain
    class of the module (`Chats = ChatTable()`, see `_plain_class_only`), with no
    annotation (or only `Final`). A module itself (`wanted` None) may be."""
    if wanted is None:
        return True
    bound = bindings(data, wanted)
    if "annotation" in bound:
        return True
    if "assign" not in bound:
        return False
    classes: set[bytes] = set()  # of the instances assigned: each looked up once
    for annotation, value in assignments(data, wanted):
        if annotation is not None and annotation[1:].strip() not in _NO_TYPE:
            return True
        if _LITERAL_START.match(value):
            continue
        call = _CLASS_CALL.match(value)
        if call is None or len(classes) == MAX_CLASSES_LOOKED_UP:
            return True
        classes.add(call.group(1))
    return not all(_plain_class_only(data, c.decode()) for c in classes)


_NO_TYPE = frozenset({b"Final", b"typing.Final"})  # an annotation that says nothing of the type


# the start of a value of no kind: a string, number, list, dict or set display, a lambda, a constant
_LITERAL_START = re.compile(rb"""(?:[rRbBuUfF]{0,2}["']|[0-9\[{-]|(?:lambda|True|False|None)\b)""")
_CLASS_CALL = re.compile(rb"([A-Za-z_]\w*)[ \t]*\(")
MAX_CLASSES_LOOKED_UP = 8  # each is a pass over the module: a hostile file assigns thousands


def may_define_kind(dotted: str) -> MayMatter:
    """Test of a module's text: may the type `dotted` names be of a blocking kind here
    (`class DB(Session)`, `SessionDep = Annotated[Session, ...]`, a re-export)? Not when the
    module only defines it as a plain class (`class UserForm(BaseModel)`)."""
    return lambda data, wanted: _mentions_type_word(data) and not all(_plain_class_only(data, n) for n in looked_for(dotted, wanted))


def _mentions_type_word(data: bytes) -> bool:
    return any(word in data for word in _TYPE_WORDS)


# bases that make a class nothing a blocking kind can be: builtins (unless the module rebinds
# them) and classes imported from these modules
_PLAIN_BASES: dict[str, tuple[bytes, ...]] = {
    **dict.fromkeys(("object", "str", "int", "Exception"), ()),
    "BaseModel": (b"pydantic",),
    **dict.fromkeys(("Enum", "IntEnum", "StrEnum"), (b"enum",)),
    **dict.fromkeys(("TypedDict", "NamedTuple", "Protocol"), (b"typing", b"typing_extensions")),
    "ABC": (b"abc",),
}
_CLASS_HEADER = re.compile(rb"^[ \t]*class[ \t]+(\w+)[ \t]*(?:\(([^()]*)\))?[ \t]*:", re.MULTILINE)


def _plain_class_only(data: bytes, name: str, depth: int = 0) -> bool:
    """Is every definition of `name` in the module a class with plain bases (`class Form:`,
    `class Form(BaseModel):` with `BaseModel` from pydantic, or a class of the same module
    that is plain in turn), and nothing else binds it (no import, assignment, `import *`)?
    Then no value of that type is of a blocking kind."""
    if depth > MAX_DEPTH or b"import *" in data or _bound_otherwise(data, name.encode()):
        return False
    found = False
    for match in _CLASS_HEADER.finditer(data):
        if match.group(1) != name.encode():
            continue
        found = True
        for part in (match.group(2) or b"").split(b","):
            base = part.strip()
            if not base or b"=" in base or base.partition(b"[")[0] in (b"Generic", b"Protocol"):
                continue  # `metaclass=...`, `total=False`, type parameters
            if _plain_base(data, base):
                continue
            same_module = base.decode("ascii", "replace")  # a class of this module, plain in turn?
            if not (same_module.isidentifier() and same_module != name and _plain_class_only(data, same_module, depth + 1)):
                return False
    return found


def may_be_class(dotted: str, named: frozenset[str]) -> MayMatter:
    """Test of a module's text: may what `dotted` names there be a class that is not plain (see
    `_plain_class_only`), or one of `named` (dotted external classes, or class names)? Not
    a function, nor a name that is only imported from another project module (the resolver
    follows the import by text, `Resolver._hands_on`)."""
    return lambda data, wanted: any(_may_be_class(data, n, named) for n in looked_for(dotted, wanted))


def may_call_one_of(dotted: str, named: frozenset[str], imported: Callable[[Source], bool]) -> MayMatter:
    """Test of a module's text: may the function `dotted` names there call one of `named`
    (classes, see `may_be_class`)? It may when its text calls a name the module binds to a
    class that is not plain, assigns, star-imports, or imports where `imported` says so (a
    project module's name, or one of `named`); not when it calls only builtins, locals and
    other libraries' functions (`os.getenv`, `jwt.decode`)."""
    def test(data: bytes, wanted: str | None) -> bool:
        for name in looked_for(dotted, wanted):
            for text in function_texts(data, name):
                for head in {h.decode() for h in _CALL_HEAD.findall(text.partition(b"(")[2])}:
                    bound = bindings(data, head)
                    if bound & {"star", "assign", "relative"} or ("class" in bound and _may_be_class(data, head, named)):
                        return True
                    if "import" in bound and any(imported(source) for source in imported_names(data)[head.encode()]):
                        return True
        return False

    return test


def _may_be_class(data: bytes, name: str, named: frozenset[str]) -> bool:
    bound = bindings(data, name)
    if not bound:
        return False
    if name in named or "star" in bound or "assign" in bound:
        return True
    if "import" in bound and any(a and imported_dotted(m, a) in named for m, a in imported_names(data)[name.encode()]):
        return True
    return "class" in bound and not _plain_class_only(data, name)


def _bound_otherwise(data: bytes, name: bytes) -> bool:
    """Imported, aliased, assigned or a bare statement (anything but `class name`, a call, or
    a use of an attribute or item: `name.method(...)`, `name.attr = ...` bind no `name`)."""
    for match in re.finditer(rb"\b%s\b" % re.escape(name), data):
        before = data[data.rfind(b"\n", 0, match.start()) + 1 : match.start()]
        if before.strip() and not before.rstrip().endswith(b" as") and b"import" not in before:
            continue  # used inside a line (`class name`, `x = name(...)`, `f(name)`)
        if not _USED_AFTER.match(data, match.end(), match.end() + 64):
            return True
    return False


_USED_AFTER = re.compile(rb"[ \t]*[(.\[]")


def _plain_base(data: bytes, base: bytes) -> bool:
    allowed = _PLAIN_BASES.get(base.decode("ascii", "replace"))
    if allowed is None:
        return False
    imported = [m for m, _ in imported_names(data).get(base, ())]
    if not allowed:  # a builtin: plain unless the module binds the name
        return not imported and not _bound_otherwise(data, base) and re.search(rb"^[ \t]*class[ \t]+%s\b" % base, data, re.M) is None
    return bool(imported) and all(m.split(b".", 1)[0] in allowed for m in imported) and re.search(
        rb"\bas[ \t]+%s\b|^[ \t]*class[ \t]+%s\b|^[ \t]*%s[ \t]*(?::|=(?!=))" % (base, base, base), data, re.MULTILINE
    ) is None


def resolved_function(
    graph: ProjectGraph, module: str, scope: Scope, callee: str, may_matter: MayMatter | None = None
) -> tuple[str, Function] | None:
    """The project function or method a call invokes: a plain name, a module attribute, a
    method of a module-level instance, of `self`, of a parameter typed with a project class,
    or of an instance made on the spot (`Repo(db).fetch()`). With `may_matter`, a deferred
    module is parsed on the way only when its text passes it."""
    r = graph.resolver
    if r is None or not callee or callee.startswith("?"):
        return None

    def resolve(dotted: str) -> Target:
        if may_matter is not None:
            return r.resolve_when(module, scope.fn.qualname, dotted, may_matter)
        return r.resolve(module, scope.fn.qualname, dotted)

    made, built, method = callee.rpartition("().")
    if "()" in made or (built and not method.isidentifier()) or (not built and "()" in callee):
        return None  # longer chains (`make().x.y()`): what `make` returns is not known here
    head, _, rest = callee.partition(".")
    if built:  # `Repo(db).fetch()`, callee `Repo().fetch`: the method of the class built
        built_by = resolve(made)
        t: Target = r.class_attribute(built_by, method) if isinstance(built_by, RClass) else None
    elif head in BUILTIN_NAMES and not bound_in_module(graph, module, scope.fn.qualname, head):
        return None
    else:
        t = resolve(callee)
    if t is None and rest and "." not in rest and not built:
        cls: RClass | None = None
        if head == "self" and scope.fn.class_name is not None and scope.fn.params and scope.fn.params[0].name == "self":
            owner = r.modules[module].classes.get(scope.fn.parent) if module in r.modules else None
            cls = RClass(module, owner.qualname) if owner is not None else None
        else:
            param = next((p for p in scope.fn.params if p.name == head), None)
            ann = param.annotation if param is not None else None
            if isinstance(ann, Sub) and ann.items:  # Annotated[Repo, Depends(...)]
                ann = ann.items[0]
            if isinstance(ann, Name) and isinstance(r.lookup(module, scope.fn.qualname, head), RParam):
                if may_matter is None:
                    found = r.resolve(module, scope.fn.parent, ann.dotted)
                else:  # the class's module, when its text may define the method, or the class has bases
                    found = r.resolve_when(module, scope.fn.parent, ann.dotted, _or_class_with_bases(may_matter))
                cls = found if isinstance(found, RClass) else None
        if cls is not None:
            t = r.class_attribute(cls, rest)
    if isinstance(t, RAttr):
        t = r.class_attribute(t.cls, t.attr)
    if isinstance(t, RFunc):
        facts = graph.modules.get(t.module)
        fn = facts.functions.get(t.qualname) if facts is not None else None
        if fn is not None:
            return t.module, fn
    return None


def _or_class_with_bases(may_matter: MayMatter) -> MayMatter:
    """`may_matter`, or the name wanted is a class with bases that are not plain (a method it
    inherits may be defined in another module)."""
    return lambda data, wanted: may_matter(data, wanted) or (
        wanted is not None and "class" in bindings(data, wanted) and not _plain_class_only(data, wanted)
    )


def decorator_names(graph: ProjectGraph, module: str, fn: Function) -> list[str]:
    names: list[str] = []
    r = graph.resolver
    for d in fn.decorators:
        base = d.func if isinstance(d, Call) else d
        if not isinstance(base, Name):
            names.append("?")
            continue
        t = r.resolve(module, fn.parent, base.dotted) if r is not None else None
        if isinstance(t, RExternal):
            names.append(t.dotted)
        elif t is None and base.dotted in ("staticmethod", "classmethod", "property"):
            names.append(f"builtins.{base.dotted}")
        elif isinstance(t, (RFunc, RClass)):
            names.append(f"{t.module}.{t.qualname}")
        else:
            names.append(base.dotted)
    return names
