"""FDL202 global-state-in-dependency."""

from __future__ import annotations

from collections.abc import Iterator

import ast

from ..facts.detail import function_node
from ..facts.model import Call, Function, Loc, Name, Opaque, Seq, X
from ..graph.model import ProjectGraph
from ..graph.resolve import RVar
from ._resources import external_of
from .base import Context, Finding, Rule
from .fdl201_module_singleton import User, request_functions

MUTATING_METHODS = frozenset(
    {
        *("append", "extend", "insert", "remove", "pop", "clear"),  # list
        *("update", "setdefault", "popitem", "__setitem__", "__delitem__"),  # dict
        *("add", "discard"),  # set
        *("appendleft", "extendleft", "popleft"),  # deque
    }
)
CONTAINER_DISPLAYS = frozenset({"Dict", "DictComp", "ListComp", "SetComp"})
CONTAINER_FACTORIES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.set",
        "builtins.bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.Counter",
        "collections.deque",
        "collections.ChainMap",
        "typing.DefaultDict",
    }
)


class GlobalStateInDependency(Rule):
    """
    ## What it does
    Flags a route or dependency that mutates module-level state: assigns to a `global`
    name, uses an augmented assignment on it, or changes a module-level container
    (`.append`/`.update`/`.pop`/… or item assignment on a module-level dict, list or set).
    Points at the mutation. One-time lazy initialisation is left alone: a store guarded by a
    test that the value is still missing (`if _cache is None: _cache = load()`, also through a
    local read from the container first), as every request then sees the same value.
    In a route endpoint only the read-modify-write forms are
    flagged (`global` rebinding and augmented assignment such as `hits[path] += 1`): a route
    that stores into a module-level dict is the documented in-memory stand-in for a database
    (`fake_db[item_id] = item`), while a dependency has no business changing global state.

    ## Why is this bad?
    Module-level state is shared by every request and every worker thread: sync routes and
    dependencies run concurrently in FastAPI's threadpool, so these updates race; with
    several worker processes each one has its own copy, so the "state" silently diverges;
    and it leaks between tests. Keep per-request data in the dependency's return value,
    app-wide objects on `app.state` (created in `lifespan`), and shared data in a database
    or cache.

    ## Example
    ```python
    request_count = 0
    seen_tokens: list[str] = []

    def track(token: str = Header()):
        global request_count
        request_count += 1
        seen_tokens.append(token)
    ```

    ## Use instead
    ```python
    def track(request: Request, token: str = Header()):
        request.state.token = token          # per-request
        request.app.state.metrics.hit()      # app-wide object built in lifespan, thread-safe
    ```
    """

    code = "FDL202"
    name = "global-state-in-dependency"
    summary = "Keep per-request data local and shared state on `app.state` or in a store, not in module globals."
    cost = 2

    def check(self, ctx: Context) -> Iterator[Finding]:
        if ctx.graph.resolver is None:
            return
        seen: set[tuple[str, int, int]] = set()
        for user in request_functions(ctx):
            facts = ctx.graph.modules.get(user.module)
            if facts is None:
                continue
            for name, loc, how in self._mutations(ctx.graph, user):
                key = (facts.path, loc[0], loc[1])
                if key in seen:
                    continue
                seen.add(key)
                if lazy_initialisation(facts.path, user.function, name, loc):
                    continue
                yield self.at(
                    facts.path,
                    loc,
                    f"{user.role} `{user.function.name}` mutates module-level `{name}` ({how}): it is shared "
                    "by all requests and threads; keep per-request data local and shared state on "
                    "`app.state` or in a store",
                    symbol=user.function.qualname,
                )

    def _mutations(self, graph: ProjectGraph, user: User) -> Iterator[tuple[str, Loc, str]]:
        fn = user.function
        facts = graph.modules[user.module]
        declared = set(fn.global_names)
        local = facts.assigns.get(fn.qualname, {})
        for name in fn.global_names:
            for assign in local.get(name, []):
                yield name, assign.loc, "assignment to a `global` name"
        for name, loc, how in fn.mutations:
            if name in declared:
                yield name, loc, how if how != "augmented assignment" else "augmented assignment to a `global` name"
            elif (how == "augmented assignment" or (how == "item assignment" and user.role == "dependency")) and (
                self._module_container(graph, user, name)
            ):
                yield name, loc, how
        if user.role != "dependency":
            return  # routes: only read-modify-write (see the docstring)
        for call in fn.calls:
            base, _, method = call.callee.rpartition(".")
            simple = bool(base) and "." not in base and not base.startswith("?")
            if method in MUTATING_METHODS and simple and self._module_container(graph, user, base):
                yield base, call.loc, f"`.{method}()`"

    @staticmethod
    def _module_container(graph: ProjectGraph, user: User, name: str) -> bool:
        """`name`, as seen from the function, is a module-level dict/list/set (not a local or parameter)."""
        assert graph.resolver is not None
        target = graph.resolver.resolve(user.module, user.function.qualname, name)
        if not isinstance(target, RVar) or target.scope != "":
            return False
        return is_container(graph, target.module, target.assign.value)


def is_container(graph: ProjectGraph, module: str, value: X | None) -> bool:
    if isinstance(value, Opaque):
        return value.kind in CONTAINER_DISPLAYS
    if isinstance(value, Seq):
        return True
    if isinstance(value, Call) and isinstance(value.func, Name):
        return external_of(graph, module, "", value.func.dotted) in CONTAINER_FACTORIES
    return False


def lazy_initialisation(path: str, fn: Function, name: str, loc: Loc) -> bool:
    """Is the mutation at `loc` inside `if <it is still missing>:`, the test being about
    `name` itself or a local read from `name` (`x = CACHE.get(k)` ... `if x is None:`)?"""
    node = function_node(path, fn)
    if node is None:
        return False
    read_from: set[str] = {name}
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.Assign) and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(stmt.value)):
            read_from.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
    for branch in ast.walk(node):
        if not isinstance(branch, ast.If) or not _tests_missing(branch.test, read_from):
            continue
        if any(getattr(s, "lineno", 0) <= loc[0] <= (getattr(s, "end_lineno", 0) or 0) for s in branch.body):
            return True
    return False


def _tests_missing(test: ast.expr, names: set[str]) -> bool:
    """`x is None`, `not x`, `key not in x` (and `or`/`and` combinations) about one of `names`."""
    if isinstance(test, ast.BoolOp):
        return any(_tests_missing(v, names) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _mentions(test.operand, names)
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return _mentions(test.left, names)
        if isinstance(op, ast.NotIn):
            return _mentions(right, names)
    return False


def _mentions(expr: ast.expr, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(expr))
