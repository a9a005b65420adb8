"""Statement-level helpers shared by the resource-lifecycle rules (FDL102-FDL108).

The per-file facts say *that* a dependency yields or has a `finally`; what runs after the
`yield`, which `except` surrounds it and what a `finally` closes needs the function's `ast`,
which `facts.detail` re-parses on demand for the few functions that need it. Everything here
looks at one function's own body: nested `def`s, lambdas and classes are other scopes.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..facts import detail
from ..facts.model import Function, Loc
from ..graph.model import Node
from ._resources import resource_kind
from .base import Context

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)

# methods that release what their receiver holds (a commit or a log line is not cleanup)
CLEANUP_METHODS = frozenset(
    {
        "close",
        "aclose",
        "release",
        "disconnect",
        "dispose",
        "shutdown",
        "terminate",
        "cleanup",
        "unlock",
        "kill",
        "__exit__",
        "__aexit__",
    }
)
# functions that delete what a dependency created (temporary files and folders)
CLEANUP_FUNCTIONS = frozenset({"os.remove", "os.unlink", "shutil.rmtree"})
CLEANUP_PREFIXES = ("close_", "release_", "cleanup_", "dispose_", "disconnect_")
BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException"})


@dataclass(slots=True)
class Body:
    """One dependency's function with its parsed `def`."""

    node: Node
    fn: Function
    module: str
    path: str
    tree: FunctionNode


def function_home(ctx: Context, node: Node) -> tuple[str, str] | None:
    """(module, path) of the file that defines the body FastAPI runs for `node` (an inherited
    `__call__`/`__init__` may live in another module than the class)."""
    fn = node.function
    if fn is None:
        return None
    graph = ctx.graph
    if node.module is not None:
        facts = graph.modules.get(node.module)
        if facts is not None and facts.functions.get(fn.qualname) is fn:
            return node.module, facts.path
    for name, facts in list(graph.modules.items()):
        if facts.functions.get(fn.qualname) is fn:
            return name, facts.path
    return None


def body_of(ctx: Context, node: Node) -> Body | None:
    home = function_home(ctx, node)
    if home is None or node.function is None:
        return None
    tree = detail.function_node(home[1], node.function)
    if tree is None:
        return None
    return Body(node, node.function, home[0], home[1], tree)


def dependency_bodies(
    ctx: Context, generators: bool | None, wanted: Callable[[Node, Function], bool] | None = None
) -> Iterator[Body]:
    """Project dependencies with their parsed body; `generators` True/False filters on
    whether the body yields, None keeps both; `wanted` is a cheap pre-check on the facts, so
    files are re-parsed only for functions that can matter."""
    for node in ctx.project_dependencies():
        fn = node.function
        if fn is None or node.kind == "external":
            continue
        if generators is not None and fn.is_generator != generators:
            continue
        if wanted is not None and not wanted(node, fn):
            continue
        body = body_of(ctx, node)
        if body is not None:
            yield body


# --- walking one scope --------------------------------------------------------------------


def own_nodes(root: ast.AST) -> Iterator[ast.AST]:
    """Every node under `root` (itself included) that belongs to the same scope."""
    stack: list[ast.AST] = [root]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, _SCOPES):
                stack.append(child)


def own_body_nodes(tree: FunctionNode) -> Iterator[ast.AST]:
    for stmt in tree.body:
        yield from own_nodes(stmt)


def yields_in(root: ast.AST) -> list[ast.Yield | ast.YieldFrom]:
    found = [n for n in own_nodes(root) if isinstance(n, (ast.Yield, ast.YieldFrom))]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return found


def parent_map(tree: FunctionNode) -> dict[ast.AST, ast.AST]:
    parents: dict[ast.AST, ast.AST] = {}
    for stmt in tree.body:
        parents[stmt] = tree
        for node in own_nodes(stmt):
            for child in ast.iter_child_nodes(node):
                if not isinstance(child, _SCOPES):
                    parents[child] = node
    return parents


def loc(node: ast.AST) -> Loc:
    line = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    return (line, col, getattr(node, "end_lineno", None) or line, getattr(node, "end_col_offset", None) or col)


def text(node: ast.AST | None) -> str:
    if node is None:
        return ""
    try:
        return ast.unparse(node)
    except (ValueError, TypeError, AttributeError, RecursionError):
        return "<expr>"


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a name/attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


# --- cleanup calls -----------------------------------------------------------------------


def cleanup_call(node: ast.AST) -> tuple[ast.AST | None, str] | None:
    """(what is released, the call's text) when `node` is a cleanup call: `db.close()`,
    `await client.aclose()`, `lock.release()`, `shutil.rmtree(tmp)`, `close_db(conn)`."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in CLEANUP_METHODS:
        return func.value, text(node)
    name = dotted(func)
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if name in CLEANUP_FUNCTIONS or last.startswith(CLEANUP_PREFIXES) or (
        isinstance(func, ast.Attribute) and func.attr == "unlink"
    ):
        target = node.args[0] if node.args else (func.value if isinstance(func, ast.Attribute) else None)
        return target, text(node)
    return None


def may_clean_up(fn: Function) -> bool:
    """Facts-level pre-check: some call in `fn` looks like a cleanup call."""
    for call in fn.calls:
        last = call.callee.rsplit(".", 1)[-1]
        if last in CLEANUP_METHODS or last == "unlink" or last.startswith(CLEANUP_PREFIXES) or call.callee in CLEANUP_FUNCTIONS:
            return True
    return False


def is_broad_handler(handler: ast.ExceptHandler) -> bool:
    """`except:`, `except Exception`, `except BaseException` (or a tuple with one)."""
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any((dotted(k) or "").rsplit(".", 1)[-1] in BROAD_EXCEPTIONS for k in kinds)


def with_targets(item_holder: ast.With | ast.AsyncWith) -> set[str]:
    names: set[str] = set()
    for item in item_holder.items:
        if item.optional_vars is not None:
            for n in ast.walk(item.optional_vars):
                if isinstance(n, ast.Name):
                    names.add(n.id)
    return names


def all_with_targets(tree: FunctionNode) -> set[str]:
    names: set[str] = set()
    for n in own_body_nodes(tree):
        if isinstance(n, (ast.With, ast.AsyncWith)):
            names |= with_targets(n)
    return names


# --- "this dependency yields a resource" --------------------------------------------------------


def local_call_assignments(tree: FunctionNode) -> dict[str, list[ast.Call]]:
    """Local names assigned (directly or through `await`) from a call."""
    found: dict[str, list[ast.Call]] = {}
    for n in own_body_nodes(tree):
        value: ast.AST | None = None
        targets: list[ast.expr] = []
        if isinstance(n, ast.Assign):
            value, targets = n.value, n.targets
        elif isinstance(n, (ast.AnnAssign, ast.NamedExpr)) and n.value is not None:
            value, targets = n.value, [n.target]
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            for t in targets:
                if isinstance(t, ast.Name):
                    found.setdefault(t.id, []).append(value)
    return found


def yielded_resource(ctx: Context, body: Body) -> str | None:
    """A short description of the resource a generator dependency yields ("a session from
    `SessionLocal()`", "closed when its `with` block exits", "closed at teardown"), or None
    when what it yields is a plain value (a user name, a parsed token, nothing)."""
    tree = body.tree
    assigned = local_call_assignments(tree)
    withs: dict[str, ast.expr] = {}
    for n in own_body_nodes(tree):
        if isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                if isinstance(item.optional_vars, ast.Name):
                    withs[item.optional_vars.id] = item.context_expr
    released = {
        target.id for n in own_body_nodes(tree) if (c := cleanup_call(n)) is not None and isinstance(target := c[0], ast.Name)
    }

    def kind_of(expr: ast.AST | None) -> str | None:
        if isinstance(expr, ast.Await):
            expr = expr.value
        callee = dotted(expr.func) if isinstance(expr, ast.Call) else None
        kind = resource_kind(ctx.graph, body.module, body.fn, callee, ctx.config.resource_factories) if callee else None
        return f"a {kind} from `{callee}()`" if kind is not None else None

    for y in yields_in(tree):
        value = y.value.value if isinstance(y.value, ast.Await) else y.value
        if isinstance(value, ast.Call):
            found = kind_of(value)
            if found is not None:
                return found
            continue
        if not isinstance(value, ast.Name):
            continue
        name = value.id
        for candidate in [withs.get(name), *assigned.get(name, [])]:
            found = kind_of(candidate)
            if found is not None:
                return found
        if name in withs:
            return "closed when its `with` block exits"
        if name in released:
            return "closed at teardown"
    return None


# --- does a block always end by raising? ----------------------------------------------------

NORETURN_CALLS = frozenset({"sys.exit", "os._exit", "exit", "quit", "pytest.fail", "pytest.skip", "typing.assert_never"})


def always_raises(stmts: list[ast.stmt], never_returns: Callable[[ast.Call], bool] | None = None) -> bool:
    """True when every path through `stmts` ends in `raise` (or a call that never returns);
    a `return`, a loop that may finish, or falling off the end means the exception that
    brought us here is swallowed."""
    for stmt in stmts:
        if _stmt_raises(stmt, never_returns):
            return True
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)):
            return False
    return False


def _stmt_raises(stmt: ast.stmt, never_returns: Callable[[ast.Call], bool] | None) -> bool:
    if isinstance(stmt, ast.Raise):
        return True
    if isinstance(stmt, ast.Expr):
        value = stmt.value.value if isinstance(stmt.value, ast.Await) else stmt.value
        if isinstance(value, ast.Call):
            name = dotted(value.func) or ""
            if name in NORETURN_CALLS:
                return True
            return never_returns is not None and never_returns(value)
        return False
    if isinstance(stmt, ast.If):
        return always_raises(stmt.body, never_returns) and always_raises(stmt.orelse, never_returns)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return always_raises(stmt.body, never_returns)
    if isinstance(stmt, (ast.Try, ast.TryStar)):
        if always_raises(stmt.finalbody, never_returns):
            return True
        body_raises = always_raises(stmt.body, never_returns) or (
            bool(stmt.orelse) and always_raises(stmt.orelse, never_returns)
        )
        return body_raises and all(always_raises(h.body, never_returns) for h in stmt.handlers)
    if isinstance(stmt, ast.Match):
        exhaustive = any(isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None and c.guard is None for c in stmt.cases)
        return exhaustive and all(always_raises(c.body, never_returns) for c in stmt.cases)
    if isinstance(stmt, ast.While):
        # `while True:` without `break` never falls through
        is_true = isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)
        return is_true and not any(isinstance(n, ast.Break) for s in stmt.body for n in own_nodes(s))
    return False


def closed_by_finally(path: str, fn: Function) -> set[str]:
    """Names a `finally` clause of `fn` releases (`db` for `finally: db.close()`); such a
    returned resource is closed before the route gets it (FDL103's finding, not a leak)."""
    if not fn.has_finally:
        return set()
    tree = detail.function_node(path, fn)
    if tree is None:
        return set()
    names: set[str] = set()
    for node in own_body_nodes(tree):
        if isinstance(node, ast.Try) and node.finalbody:
            for n in (n for stmt in node.finalbody for n in own_nodes(stmt)):
                release = cleanup_call(n)
                if release is not None and isinstance(release[0], ast.Name):
                    names.add(release[0].id)
    return names
