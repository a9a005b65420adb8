"""FDL301 sync-dependency-in-async-route."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from ..facts.model import Call, Function, Lit, Name, Opaque, Seq, Sub, X
from ..graph.model import Node, ProjectGraph, Route
from ..graph.resolve import RAttr, RClass, RExternal, RFunc, RParam, RVar
from .base import Context, Finding, Rule

# --- what counts as "makes no blocking call" -------------------------------------------------
# Conservative: a call is pure only when it is known to be; anything unclassified may block.

PURE_BUILTINS = frozenset(
    [
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytearray",
        "bytes",
        "callable",
        "chr",
        "complex",
        "dict",
        "dir",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "frozenset",
        "getattr",
        "hasattr",
        "hash",
        "hex",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "object",
        "oct",
        "ord",
        "pow",
        "print",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "setattr",
        "slice",
        "sorted",
        "str",
        "sum",
        "super",
        "tuple",
        "type",
        "vars",
        "zip",
        "NotImplementedError",
    ]
)
# stdlib and framework modules whose functions compute values without I/O
PURE_MODULES = frozenset(
    {
        "annotated_types",
        "base64",
        "collections",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fastapi",
        "fractions",
        "functools",
        "hashlib",
        "hmac",
        "ipaddress",
        "itertools",
        "json",
        "logging",
        "math",
        "operator",
        "pydantic",
        "re",
        "secrets",
        "starlette",
        "string",
        "typing",
        "typing_extensions",
        "urllib.parse",
        "uuid",
        "warnings",
        "zoneinfo",
    }
)
# ...except these (they read files, sleep, or hand work to threads)
BLOCKING_IN_PURE_MODULES = (
    "pydantic.BaseSettings",
    "pydantic.env_settings",
    "fastapi.concurrency",
    "starlette.concurrency",
    "fastapi.templating",
    "starlette.templating",
    "fastapi.staticfiles",
    "starlette.staticfiles",
)
# decoding a token with a known key is CPU-only (key-set clients such as `PyJWKClient` fetch over HTTP)
PURE_FUNCTIONS = frozenset(
    {
        "jwt.decode",
        "jwt.encode",
        "jwt.get_unverified_header",
        "jose.jwt.decode",
        "jose.jwt.encode",
        "jose.jwt.get_unverified_claims",
        "jose.jwt.get_unverified_header",
        "os.getenv",
        "os.environ.get",
        "os.environ",
        "time.time",
        "time.monotonic",
        "time.perf_counter",
        "sys.getsizeof",
    }
)
# types whose methods never do I/O
VALUE_TYPES = frozenset({"str", "int", "float", "bool", "bytes", "dict", "list", "set", "tuple", "frozenset"})
FRAMEWORK_TYPES = frozenset(
    {
        "Request",
        "WebSocket",
        "HTTPConnection",
        "Response",
        "BackgroundTasks",
        "SecurityScopes",
        "HTTPAuthorizationCredentials",
        "HTTPBasicCredentials",
        "OAuth2PasswordRequestForm",
        "UploadFile",
    }
)
FRAMEWORK_ATTRS = frozenset(
    {"headers", "query_params", "cookies", "path_params", "url", "base_url", "client", "scope", "scopes", "state"}
)
FRAMEWORK_BLOCKING_METHODS = frozenset(
    {"body", "json", "form", "stream", "receive", "send", "close", "read", "write", "seek"}
)
# method names that only value types have (a session, client or repository has none of these)
VALUE_METHODS = frozenset(
    [
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "split",
        "rsplit",
        "splitlines",
        "startswith",
        "endswith",
        "replace",
        "removeprefix",
        "removesuffix",
        "format",
        "format_map",
        "join",
        "encode",
        "decode",
        "casefold",
        "title",
        "capitalize",
        "swapcase",
        "isdigit",
        "isalpha",
        "isalnum",
        "isnumeric",
        "isdecimal",
        "isspace",
        "islower",
        "isupper",
        "isidentifier",
        "partition",
        "rpartition",
        "zfill",
        "ljust",
        "rjust",
        "center",
        "expandtabs",
        "translate",
        "keys",
        "values",
        "items",
        "setdefault",
        "append",
        "extend",
        "isoformat",
        "strftime",
        "timestamp",
        "hexdigest",
        "digest",
        "model_dump",
        "model_dump_json",
        "model_copy",
        "model_validate",
    ]
)
PURE_BASES = (
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "enum.",
    "typing.NamedTuple",
    "typing.TypedDict",
    "typing_extensions.TypedDict",
    "builtins.",
    "dataclasses.",
)
MAX_CALL_DEPTH = 4
TRANSPARENT_DECORATORS = frozenset({"staticmethod", "classmethod"})


class Purity:
    """Does calling a project function possibly block? Memoised per function."""

    def __init__(self, graph: ProjectGraph) -> None:
        self.graph = graph
        self.memo: dict[tuple[str, str], str | None] = {}

    def blocking_call(self, module: str, fn: Function, depth: int = 0) -> str | None:
        """The first call in `fn` that may block (its callee text), or None when all are pure."""
        key = (module, fn.qualname)
        if key in self.memo:
            return self.memo[key]
        if depth > MAX_CALL_DEPTH:
            return "<too deep>"
        self.memo[key] = None  # in progress: a recursive call is decided by the other calls
        found: str | None = None
        for call in fn.calls:
            if not self._pure(module, fn, call.callee, depth):
                found = call.callee or "<call>"
                break
        self.memo[key] = found
        return found

    # -- one call ---------------------------------------------------------------------------------
    def _pure(self, module: str, fn: Function, callee: str, depth: int) -> bool:
        if not callee:
            return False
        resolver = self.graph.resolver
        if resolver is None:
            return False
        if "()" in callee or callee.startswith("?."):
            # a method of a value computed by another (separately checked) call or expression
            head, _, method = callee.rpartition(".")
            if method in VALUE_METHODS:
                return True
            base = head.split("(", 1)[0]
            ext = self._external(module, fn, base) if not base.startswith("?") else None
            return ext is not None and self._pure_external(ext)
        head, *rest = callee.split(".")
        root = resolver.lookup(module, fn.qualname, head)
        if isinstance(root, RParam) or (root is None and rest and self._is_param(fn, head)):
            return self._pure_on_param(module, fn, head, rest)
        if isinstance(root, RVar) and rest:
            kind = self._value_kind(root.module, root.scope, root.assign.value, root.assign.annotation)
            if kind == "value":
                return True
            if kind == "framework":
                return self._pure_framework(rest)
            if rest[-1] in VALUE_METHODS and kind != "unknown-object":
                return True
        target = resolver.resolve(module, fn.qualname, callee)
        if isinstance(target, RAttr):
            target = resolver.class_attribute(target.cls, target.attr)
        if isinstance(target, RFunc):
            facts = self.graph.modules.get(target.module)
            callee_fn = facts.functions.get(target.qualname) if facts else None
            if callee_fn is None or callee_fn.is_async:
                return callee_fn is not None  # an async helper only builds a coroutine here
            return self.blocking_call(target.module, callee_fn, depth + 1) is None
        if isinstance(target, RClass):
            return self._pure_class(target, depth)
        ext = self._external(module, fn, callee)
        if ext is not None:
            return self._pure_external(ext)
        return rest[-1] in VALUE_METHODS if rest else False

    def _external(self, module: str, fn: Function, dotted: str) -> str | None:
        from ._resources import external_of

        return external_of(self.graph, module, fn.qualname, dotted)

    @staticmethod
    def _pure_external(dotted: str) -> bool:
        """Pure external function, class, or method of a value such a call returned."""
        base = dotted.split("()", 1)[0]
        if base.startswith("builtins."):
            name = base[len("builtins.") :]
            return name in PURE_BUILTINS or name.endswith(("Error", "Exception", "Warning"))
        if base in PURE_FUNCTIONS or base.startswith("os.environ."):
            return True
        if base.startswith(BLOCKING_IN_PURE_MODULES):
            return False
        parts = base.split(".")
        return parts[0] in PURE_MODULES or ".".join(parts[:2]) in PURE_MODULES

    def _pure_class(self, cls: RClass, depth: int) -> bool:
        resolver = self.graph.resolver
        assert resolver is not None
        init = resolver.class_attribute(cls, "__init__")
        if isinstance(init, RFunc):
            facts = self.graph.modules.get(init.module)
            init_fn = facts.functions.get(init.qualname) if facts else None
            if init_fn is None or self.blocking_call(init.module, init_fn, depth + 1) is not None:
                return False
        bases = resolver.external_bases(cls)
        return all(
            b.startswith(PURE_BASES) or b in ("Exception", "object") or b.endswith(("Error", "Exception"))
            for b in bases
        )

    # -- receivers ----------------------------------------------------------------------------------
    @staticmethod
    def _is_param(fn: Function, name: str) -> bool:
        return any(p.name == name for p in fn.params)

    def _pure_on_param(self, module: str, fn: Function, head: str, rest: list[str]) -> bool:
        if not rest:
            return False  # calling a parameter: an injected callable, unknown
        param = next((p for p in fn.params if p.name == head), None)
        kind = self._type_kind(module, fn.parent, param.annotation) if param is not None else "unknown"
        if kind == "value":
            return True
        if kind == "framework":
            return self._pure_framework(rest)
        return len(rest) == 1 and rest[0] in VALUE_METHODS and kind != "unknown-object"

    @staticmethod
    def _pure_framework(rest: list[str]) -> bool:
        *attrs, method = rest
        if method in FRAMEWORK_BLOCKING_METHODS:
            return False
        return all(a in FRAMEWORK_ATTRS for a in attrs) and "state" not in attrs

    def _type_kind(self, module: str, scope: str, ann: X | None) -> str:
        """ "value" (str/dict/... or a pydantic model), "framework" (Request...), "unknown"."""
        resolver = self.graph.resolver
        if ann is None or resolver is None:
            return "unknown"
        if isinstance(ann, Sub) and ann.items:
            t = resolver.resolve_expr_name(module, scope, ann.value)
            if isinstance(t, RExternal) and t.dotted.endswith("Annotated"):
                return self._type_kind(module, scope, ann.items[0])
            ann = ann.value
        if not isinstance(ann, Name):
            return "unknown"
        t = resolver.resolve(module, scope, ann.dotted)
        if t is None and ann.dotted in VALUE_TYPES:
            return "value"
        if isinstance(t, RExternal):
            last = t.dotted.rsplit(".", 1)[-1]
            if t.dotted.startswith(("fastapi.", "starlette.")) and last in FRAMEWORK_TYPES:
                return "framework"
            if t.dotted.startswith("typing.") and last in ("Dict", "List", "Set", "Tuple", "Mapping", "Sequence"):
                return "value"
            return "unknown-object"
        if (
            isinstance(t, RClass)
            and self._pure_class(t, MAX_CALL_DEPTH)
            and not self.graph.modules[t.module].classes[t.qualname].methods
        ):
            return "value"  # a data model without methods of its own
        return "unknown"

    def _value_kind(self, module: str, scope: str, value: X | None, annotation: X | None) -> str:
        if isinstance(value, (Lit, Seq)) or (
            isinstance(value, Opaque)
            and value.kind in ("Dict", "DictComp", "ListComp", "SetComp", "fstring", "JoinedStr")
        ):
            return "value"
        if annotation is not None:
            kind = self._type_kind(module, scope, annotation)
            if kind != "unknown":
                return kind
        if isinstance(value, Call) and isinstance(value.func, Name):
            if value.func.dotted in VALUE_TYPES:
                return "value"
            ext = self._external_in(module, scope, value.func.dotted)
            if ext is not None and self._pure_external(ext):
                return "value"
            return "unknown-object"
        return "unknown"

    def _external_in(self, module: str, scope: str, dotted: str) -> str | None:
        from ._resources import external_of

        return external_of(self.graph, module, scope, dotted)


# --- which dependencies run for async routes ---------------------------------------------------


def async_reach(graph: ProjectGraph) -> dict[str, Route]:
    """Sync nodes resolved for an `async def` route directly or through async dependencies
    only, each with the first such route (routes in file/line order)."""
    found: dict[str, Route] = {}
    for route in sorted(graph.routes, key=lambda r: (r.file, r.loc[0], r.loc[1])):
        if not route.is_async:
            continue
        seen: set[str] = set()
        queue: deque[str] = deque()
        for mount in route.mounts or [None]:  # type: ignore[list-item]
            queue.extend(e.target for e in route.all_edges(mount))
        while queue:
            node_id = queue.popleft()
            if node_id in seen:
                continue
            seen.add(node_id)
            node = graph.nodes.get(node_id)
            if node is None:
                continue
            if node.is_async and node.kind in ("function", "method", "partial", "instance"):
                queue.extend(e.target for e in node.edges)
            elif node.kind in ("function", "method", "partial") and node.is_async is False:
                found.setdefault(node_id, route)
    return found


def directly_called(graph: ProjectGraph, targets: dict[tuple[str, str], str]) -> set[tuple[str, str]]:
    """Which of these project functions other project code also calls directly (as plain
    functions: making them `async def` would break those callers)."""
    from ._resources import project_function

    names = {qual.rsplit(".", 1)[-1] for _, qual in targets}
    result: set[tuple[str, str]] = set()
    for module, facts in list(graph.modules.items()):  # deferred modules may load meanwhile
        for fn in facts.functions.values():
            for call in fn.calls:
                if call.callee.rsplit(".", 1)[-1] not in names:
                    continue
                hit = project_function(graph, module, fn.qualname, call.callee)
                if hit is not None and (hit[0], hit[1].qualname) in targets:
                    result.add((hit[0], hit[1].qualname))
    return result


class SyncDependencyInAsyncRoute(Rule):
    """
    ## What it does
    Flags a sync `def` dependency resolved for an `async def` route (directly or through async
    dependencies) when it makes no blocking call, or when it is a sync generator. Class
    dependencies, callable instances, `@lru_cache` factories and sync dependencies that do
    blocking I/O are left alone. Reported once per dependency, naming one route.

    ## Why is this bad?
    FastAPI runs every sync dependency in the threadpool (40 threads by default): a dependency
    that only reads parameters or decodes a token pays a thread hop on every request for
    nothing. A sync generator is entered and torn down in the threadpool, and when it yields a
    sync session to an `async def` route, the route then uses it on the event loop.

    ## Example
    ```python
    def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):
        return {"q": q, "skip": skip, "limit": limit}

    @app.get("/items/")
    async def read_items(commons: Annotated[dict, Depends(common_parameters)]): ...
    ```

    ## Use instead
    ```python
    async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):
        return {"q": q, "skip": skip, "limit": limit}
    ```
    For a sync DB session, yield an `AsyncSession` from an `async def` generator, or make the
    routes that use the session plain `def` routes. Keep `def` for dependencies that block.
    """

    code = "FDL301"
    name = "sync-dependency-in-async-route"
    summary = "Declare the dependency `async def` (or keep blocking work in a sync route)."
    fixable = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        purity = Purity(graph)
        candidates: dict[tuple[str, str], tuple[Node, Route, str | None]] = {}
        for node_id, route in async_reach(graph).items():
            node = graph.nodes[node_id]
            fn = node.function
            if fn is None or node.file is None or node.module is None or node.is_cached or fn.is_async:
                continue
            if fn.name in ("__call__", "__init__") or self._decorated(graph, node.module, fn):
                continue  # callable instances (also under partial) / a decorator may change what runs
            key = (node.module, fn.qualname)
            if key in candidates:
                continue
            blocking = purity.blocking_call(node.module, fn)
            if blocking is not None and not fn.is_generator:
                continue  # blocking I/O belongs in the threadpool
            candidates[key] = (node, route, blocking)
        called = directly_called(graph, {k: "" for k in candidates})
        for key in sorted(candidates, key=lambda k: (candidates[k][0].file or "", candidates[k][0].function.loc[0])):  # type: ignore[union-attr]
            node, route, blocking = candidates[key]
            fn = node.function
            assert fn is not None
            label = f"{' '.join(route.methods)} {self._path(route)}"
            if "{?}" in label:  # a path computed at runtime: name the endpoint instead
                label = f"{' '.join(route.methods)} {route.function.name}"
            if key in called and (blocking is None or not fn.is_generator):
                continue  # other code calls it as a plain function: `async def` would break it
            if fn.is_generator:
                fix = (
                    "make it an `async def` generator with an async session/client, or make the routes that use it plain `def`"
                    if blocking is not None
                    else "make it an `async def` generator"
                )
                yield self.at_def(
                    node,
                    f"sync generator dependency `{fn.name}` is entered and torn down in the threadpool for "
                    f"async route `{label}`; {fix}",
                )
            else:
                yield self.at_def(
                    node,
                    f"sync dependency `{fn.name}` makes no blocking call but costs a threadpool hop on every "
                    f"request of async route `{label}`; declare it `async def`",
                )

    @staticmethod
    def _decorated(graph: ProjectGraph, module: str, fn: Function) -> bool:
        """Any decorator other than `staticmethod`/`classmethod`."""
        for d in fn.decorators:
            base = d.func if isinstance(d, Call) else d
            if isinstance(base, Name) and base.dotted in TRANSPARENT_DECORATORS:
                t = graph.resolver.resolve(module, fn.parent, base.dotted) if graph.resolver else None
                if t is None or (isinstance(t, RExternal) and t.dotted.startswith("builtins.")):
                    continue
            return True
        return False

    @staticmethod
    def _path(route: Route) -> str:
        paths = [m.path for m in route.mounts] or [route.path]
        return min(paths, key=lambda p: (len(p), p))
