"""How test code handles `app.dependency_overrides` (for FDL601): where overrides are set,
what clears or restores them, and the pytest/unittest structure around them (fixtures,
`yield`, `finally`, finalizers, hooks, `patch.dict`). Works on the `ast` of test files, read
on demand through `facts.detail` (the per-file facts do not describe test code)."""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OVERRIDES = "dependency_overrides"
CLEARING_METHODS = frozenset({"clear", "pop", "popitem"})
# pytest / unittest hooks that run around every test of a module or class
FUNCTION_HOOKS = frozenset({"teardown_function", "teardown_module", "setup_function", "teardown", "setup"})
CLASS_HOOKS = frozenset(
    {
        "teardown_method",
        "teardown_class",
        "setup_method",
        "tearDown",
        "tearDownClass",
        "asyncTearDown",
        "setUp",
        "asyncSetUp",
        "setUpClass",
    }
)
CONFTEST_HOOKS = frozenset({"pytest_runtest_teardown", "pytest_runtest_setup", "pytest_runtest_call"})
FIXTURE_DEPTH = 8
MAX_HELPER_WORDS = 64  # helpers searched for line by line; with more, everything is walked
_BLOCKS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar, ast.Match)
_LEAVES = (ast.expr, ast.stmt)  # (less `_BLOCKS`) what `_walk` may leave out

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def overrides_base(node: ast.AST) -> ast.expr | None:
    """`X.dependency_overrides` -> `X`."""
    if isinstance(node, ast.Attribute) and node.attr == OVERRIDES:
        return node.value
    return None


def callee(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def is_patch_dict(node: ast.AST) -> bool:
    """`patch.dict(app.dependency_overrides, ...)` or `patch.object(app, "dependency_overrides", ...)`
    (as a context manager or decorator): restored on exit."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    name = callee(node.func)
    if name.endswith("patch.dict"):
        return overrides_base(node.args[0]) is not None
    return name.endswith("patch.object") and len(node.args) > 1 and is_overrides_name(node.args[1])


def is_overrides_name(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == OVERRIDES


def nonempty_dict(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Dict) and bool(node.keys)


@dataclass(slots=True)
class SetSite:
    node: ast.stmt
    key: str | None  # the overridden key's source text (None for `.update(...)`/`= {...}`)
    base: ast.expr
    functions: list[ast.AST]  # enclosing defs and lambdas, outermost first


@dataclass(slots=True)
class Clear:
    node: ast.AST
    key: str | None  # `pop(k)` / `del ...[k]`: which key; None clears or restores everything
    anywhere: bool = False  # undone at teardown wherever it is written (`monkeypatch.setattr`)


@dataclass
class TestModule:
    """What one test module (or conftest) says about overrides, fixtures and hooks."""

    path: str
    module: str
    tree: ast.Module
    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    sites: list[SetSite] = field(default_factory=list)
    fixtures: dict[str, list[FunctionNode]] = field(default_factory=dict)
    helpers: set[str] = field(default_factory=set)  # plain functions that clear overrides
    _keys: dict[ast.AST, set[str]] | None = None  # see `keys_set_in`

    @classmethod
    def build(cls, path: str, module: str, tree: ast.Module, lines: Sequence[str] | None = None) -> TestModule:
        """The module's model. With the `lines` of its text (as Python numbers them), the parts
        of expressions that cannot matter are not walked (see `_Spans`): test modules are
        mostly expected JSON, and walking every node of FastAPI's tests was 90% of the rule's
        time."""
        mod = cls(path, module, tree)
        spans = _Spans(lines, (OVERRIDES, "setattr")) if lines is not None else None
        nodes, skipped = mod._walk(tree, spans)
        # a helper is a plain function with something that clears overrides anywhere inside
        # (what `own_clears(fn, set())` finds, found for all functions at once)
        clearing: set[ast.AST] = set()
        for clear in own_clears(tree, set(), nodes):
            current = mod.parents.get(clear.node)
            while current is not None and current not in clearing:
                clearing.add(current)
                current = mod.parents.get(current)
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if fixture_decorator(node) is not None:
                    mod.fixtures.setdefault(fixture_name(node), []).append(node)
                elif node in clearing:
                    mod.helpers.add(node.name)
            site = set_site(node)
            if site is not None and not mod.in_finally(node):  # in `finally`, setting a key restores it
                key, base = site
                mod.sites.append(SetSite(node, key, base, mod.enclosing(node)))  # type: ignore[arg-type]
        if lines is not None and mod.helpers:  # a call of a helper clears too: where is it?
            calls = _Spans(lines, tuple(mod.helpers)) if len(mod.helpers) <= MAX_HELPER_WORDS else None
            for node in skipped:
                if calls is None or calls.mention(node):
                    mod._walk(node, None)
        return mod

    def _walk(self, root: ast.AST, spans: _Spans | None) -> tuple[list[ast.AST], list[ast.AST]]:
        """Every node under `root`, breadth first (the order of `ast.walk`), with its parent
        recorded; with `spans`, an expression or simple statement whose lines mention none of
        their words is not entered (returned in the second list). Blocks are always entered:
        a fixture or hook may be defined in any."""
        nodes: list[ast.AST] = [root]
        skipped: list[ast.AST] = []
        parents = self.parents
        for node in nodes:
            for child in ast.iter_child_nodes(node):
                parents[child] = node
                if spans is not None and isinstance(child, _LEAVES) and not isinstance(child, _BLOCKS) and not spans.mention(child):
                    skipped.append(child)
                else:
                    nodes.append(child)
        return nodes, skipped

    def keys_set_in(self, outer: ast.AST) -> set[str]:
        """The keys overridden anywhere in the top-level function `outer` (grouped once: asked
        for every change, they made a module with thousands of tests quadratic)."""
        if self._keys is None:
            self._keys = {}
            for site in self.sites:
                if site.functions and site.key is not None:
                    self._keys.setdefault(site.functions[0], set()).add(site.key)
        return self._keys.get(outer, set())

    def enclosing(self, node: ast.AST) -> list[ast.AST]:
        chain: list[ast.AST] = []
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                chain.append(current)
            current = self.parents.get(current)
        return list(reversed(chain))

    def in_finally(self, node: ast.AST) -> bool:
        child, current = node, self.parents.get(node)
        while current is not None and not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if isinstance(current, (ast.Try, ast.TryStar)) and child in current.finalbody:
                return True
            child, current = current, self.parents.get(current)
        return False

    def owner_class(self, fn: ast.AST) -> ast.ClassDef | None:
        parent = self.parents.get(fn)
        return parent if isinstance(parent, ast.ClassDef) else None

    def clears(self, root: ast.Module | FunctionNode) -> list[Clear]:
        found = list(own_clears(root, self.helpers))
        for node in statements(root, enter_scopes=True):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and self.in_finally(node):
                site = set_site(node)
                if site is not None:
                    found.append(Clear(node, site[0]))  # `finally: app.dependency_overrides[dep] = saved`
        return found


class _Spans:
    """Which lines of a module's text spell one of some words: a node none of whose lines does
    cannot hold an override change, a clearing or a call of a helper (each spells its word:
    `dependency_overrides`, `setattr`, the helper's name)."""

    def __init__(self, lines: Sequence[str], words: tuple[str, ...]) -> None:
        pattern = re.compile("|".join(re.escape(w) for w in words))
        self.lines = [n for n, line in enumerate(lines, start=1) if pattern.search(line)]

    def mention(self, node: ast.AST) -> bool:
        first = getattr(node, "lineno", None)
        if first is None:
            return True
        i = bisect.bisect_left(self.lines, first)
        return i < len(self.lines) and self.lines[i] <= (getattr(node, "end_lineno", None) or first)


def set_site(node: ast.AST) -> tuple[str | None, ast.expr] | None:
    """`X.dependency_overrides[k] = v`, `X.dependency_overrides.update(...)`,
    `X.dependency_overrides = {k: v}` -> (key text, X)."""
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Subscript):
                base = overrides_base(target.value)
                if base is not None:
                    return ast.unparse(target.slice), base
            base = overrides_base(target)
            if base is not None and nonempty_dict(node.value):
                return None, base
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        if isinstance(func, ast.Attribute) and func.attr in ("update", "setdefault"):
            base = overrides_base(func.value)
            if base is not None:
                key = ast.unparse(node.value.args[0]) if func.attr == "setdefault" and node.value.args else None
                return key, base
    return None


def own_clears(root: ast.AST, helpers: set[str], nodes: list[ast.AST] | None = None) -> Iterator[Clear]:
    """Everything under `root` that clears or restores overrides (`nodes`: all of them in
    `ast.walk` order, when the caller has that list already)."""
    called: set[int] = set()
    for node in nodes if nodes is not None else ast.walk(root):
        if isinstance(node, ast.Call):
            func = node.func
            called.add(id(func))
            if isinstance(func, ast.Attribute) and func.attr in CLEARING_METHODS and overrides_base(func.value) is not None:
                key = ast.unparse(node.args[0]) if func.attr == "pop" and node.args else None
                yield Clear(node, key)
            elif callee(func).rsplit(".", 1)[-1] in helpers and not isinstance(root, ast.Module):
                yield Clear(node, None)
            elif callee(func).endswith("setattr") and any(is_overrides_name(a) for a in node.args):
                yield Clear(node, None, anywhere=True)  # monkeypatch.setattr(app, "dependency_overrides", {})
        elif isinstance(node, ast.Attribute) and node.attr in CLEARING_METHODS and overrides_base(node.value) is not None:
            if id(node) not in called:
                yield Clear(node, None)  # `request.addfinalizer(app.dependency_overrides.clear)`
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(overrides_base(t) is not None for t in targets) and not nonempty_dict(node.value):
                yield Clear(node, None)  # `= {}`, `= None`, `= saved`
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                if isinstance(target, ast.Subscript) and overrides_base(target.value) is not None:
                    yield Clear(node, ast.unparse(target.slice))
                elif overrides_base(target) is not None:
                    yield Clear(node, None)


def fixture_decorator(fn: FunctionNode) -> ast.expr | None:
    for d in fn.decorator_list:
        base = d.func if isinstance(d, ast.Call) else d
        if callee(base).rsplit(".", 1)[-1] == "fixture":
            return d
    return None


def fixture_name(fn: FunctionNode) -> str:
    d = fixture_decorator(fn)
    if isinstance(d, ast.Call):
        for kw in d.keywords:
            if kw.arg == "name" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                return kw.value.value
    return fn.name


def fixture_option(fn: FunctionNode, option: str) -> object:
    d = fixture_decorator(fn)
    if isinstance(d, ast.Call):
        for kw in d.keywords:
            if kw.arg == option and isinstance(kw.value, ast.Constant):
                return kw.value.value
    return None


def param_names(fn: FunctionNode) -> list[str]:
    args = fn.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs) if a.arg not in ("self", "cls")]


def usefixtures(decorators: list[ast.expr]) -> list[str]:
    names: list[str] = []
    for d in decorators:
        for node in ast.walk(d):
            if isinstance(node, ast.Call) and callee(node.func).endswith("usefixtures"):
                names.extend(a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str))
    return names


def after(a: ast.AST, b: ast.AST) -> bool:
    """`a` starts after `b` starts (source order)."""
    return (getattr(a, "lineno", 0), getattr(a, "col_offset", 0)) > (getattr(b, "lineno", 0), getattr(b, "col_offset", 0))


def local_binding(fn: FunctionNode, name: str) -> str | None:
    """How `fn` itself binds `name`: "fresh" (assigned from a call, `with Call() as name`),
    "other" (assigned otherwise or imported), or None (not bound in its own body)."""
    kinds: set[str] = set()
    for node in statements(fn):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                kinds.add("fresh" if isinstance(node.value, ast.Call) else "other")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == name:
                    kinds.add("fresh" if isinstance(item.context_expr, ast.Call) else "other")
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name.split(".")[0]) == name for a in node.names
        ):
            kinds.add("other")
    if not kinds:
        return None
    return "fresh" if kinds == {"fresh"} else "other"


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def walk_own(fn: FunctionNode) -> Iterator[ast.AST]:
    """The nodes of `fn`'s body; nested functions, lambdas and classes are yielded, not entered."""
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, _SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def statements(root: ast.Module | FunctionNode, enter_scopes: bool = False) -> Iterator[ast.stmt]:
    """The statements in `root`'s blocks at any depth, without walking expressions (test
    functions are mostly expected JSON). Nested functions and classes are yielded, and
    entered only with `enter_scopes`."""
    stack: list[ast.stmt] = list(root.body)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES) and not enter_scopes:
            continue
        for block in ("body", "orelse", "finalbody"):
            stack.extend(getattr(node, block, ()))
        for part in (*getattr(node, "handlers", ()), *getattr(node, "cases", ())):
            stack.extend(part.body)


def ancestors(path: str, conftests: list[str]) -> list[str]:
    """The conftest.py files pytest loads for `path`, outermost first (not `path` itself)."""
    here = Path(path).resolve().parent
    found: list[tuple[int, str]] = []
    for conf in conftests:
        conf_dir = Path(conf).resolve().parent
        if (conf_dir == here or conf_dir in here.parents) and Path(conf).resolve() != Path(path).resolve():
            found.append((len(conf_dir.parts), conf))
    return [c for _, c in sorted(found)]
