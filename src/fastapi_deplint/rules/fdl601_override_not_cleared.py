"""FDL601 override-not-cleared.

The per-file facts do not describe test code in the detail this rule needs; `fdl601_testcode`
models that code from its `ast`. Extraction, which has the tree at hand, counts the overrides
that nothing in their own file undoes (`open_overrides`, kept in the facts); the rule reads
again, through `facts.detail`, only the test files where that count is not 0 (and the
`conftest.py` files above them), to see whether a conftest or a project helper undoes them.
On FastAPI's sdist that is 1 test file of 17 (parsing them all again was 0.14 s, most of the
rule's time and the last rule to finish).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..facts import detail
from ..facts.expr import loc_of
from ..facts.model import ModuleFacts
from ..graph.model import ProjectGraph
from ..graph.resolve import RFunc
from ..source import read_source
from .base import Context, Finding, Rule, Shard
from .fdl601_testcode import (
    CLASS_HOOKS,
    CLEARING_METHODS,
    CONFTEST_HOOKS,
    FIXTURE_DEPTH,
    FUNCTION_HOOKS,
    OVERRIDES,
    Clear,
    FunctionNode,
    SetSite,
    TestModule,
    after,
    ancestors,
    callee,
    fixture_decorator,
    fixture_option,
    is_patch_dict,
    local_binding,
    own_clears,
    param_names,
    statements,
    usefixtures,
    walk_own,
)


class OverrideNotCleared(Rule):
    """
    ## What it does
    In test files (`test_*.py`, `*_test.py`, `conftest.py`), flags an assignment to
    `app.dependency_overrides[...]` (or `.update(...)`, or `= {dep: override}`) when nothing
    clears or restores it: not the test or fixture itself (later in its body, after a
    fixture's `yield`, in `finally`, in a finalizer passed to `request.addfinalizer` or
    `addCleanup`), not a fixture the test requests, not an `autouse` fixture of the module,
    class or a `conftest.py` above it, and not a `setup_*`/`teardown_*`/`tearDown` hook.
    Points at the assignment.

    Clearing means `.clear()`, `= {}` (or assigning a saved copy back), `.pop(key)` or
    `del ...[key]` of the same key. Overrides set inside `patch.dict(app.dependency_overrides)`
    (context manager or decorator) and overrides on an app the test builds itself (a local
    `app = create_app()`, or a function-scoped fixture that builds one) cannot leak and are
    not flagged. An override set in a helper function counts as cleared when anything in
    the module clears overrides. Overrides set at module level are not flagged: they
    configure the whole test module (FastAPI's settings tutorial does exactly that), not
    one test.

    ## Why is this bad?
    `dependency_overrides` is a plain dict on the application object, which usually lives
    for the whole test session. An override that is never removed stays active for every
    later test: they pass or fail depending on test order, and tests that should exercise
    the real dependency (authentication, the database) silently test the fake.

    ## Example
    ```python
    def test_read_items():
        app.dependency_overrides[get_db] = override_get_db
        response = client.get("/items")
        assert response.status_code == 200
    ```

    ## Use instead
    ```python
    @pytest.fixture
    def db_override():
        app.dependency_overrides[get_db] = override_get_db
        yield
        app.dependency_overrides.clear()

    def test_read_items(db_override):
        response = client.get("/items")
        assert response.status_code == 200
    ```
    """

    code = "FDL601"
    name = "override-not-cleared"
    summary = "Clear the override after the test (fixture teardown, `finally`, or `patch.dict`)."
    cost = 4
    shards = 4

    def __init__(self) -> None:
        self._modules: dict[str, TestModule | None] = {}
        self._mentions: dict[str, bool] = {}  # path -> does the file mention `dependency_overrides`
        self._clearing: dict[tuple[str, str], bool] = {}
        self._graph: ProjectGraph | None = None

    def check(self, ctx: Context) -> Iterator[Finding]:
        yield from self.merge(ctx, [self.shard(ctx, 0, 1)])

    def shard(self, ctx: Context, index: int, count: int) -> Shard:
        """The test files that mention `dependency_overrides`, split in contiguous slices: each
        is parsed and modelled (`TestModule`) by one shard (on FastAPI's sdist the whole rule,
        0.2 s, was the last rule to finish)."""
        files, conftests = self._prepared(ctx)
        mine = files[len(files) * index // count : len(files) * (index + 1) // count]
        return Shard(list(self._check_files(ctx, mine, conftests)))

    def merge(self, ctx: Context, shards: list[Shard]) -> Iterator[Finding]:
        for shard in shards:
            yield from shard.findings

    def _prepared(self, ctx: Context) -> tuple[list[ModuleFacts], dict[str, str]]:
        """The test files to check and every `conftest.py` (path -> module), found once per
        process and context (a process may take several shards)."""
        ready = getattr(self, "_ready", None)
        if ready is None or ready[0] is not ctx:
            modules = sorted(ctx.graph.modules.values(), key=lambda f: f.path)
            files = [f for f in modules if f.test_file and f.error is None and self._may_leak(f)]
            conftests = {f.path: f.module for f in modules if Path(f.path).name == "conftest.py"}
            # and those the pre-scan skipped (fixtures such as `return create_app()` need no
            # FastAPI word): read here whether or not another rule parsed them before
            deferred = ctx.graph.resolver.deferred if ctx.graph.resolver is not None else {}
            conftests.update((path, name) for name, (path, _) in deferred.items() if Path(path).name == "conftest.py")
            ready = self._ready = (ctx, files, conftests)
        return ready[1], ready[2]

    def _check_files(self, ctx: Context, files: list[ModuleFacts], conftests: dict[str, str]) -> Iterator[Finding]:
        graph = self._graph = ctx.graph
        for facts in files:
            mod = self._module(facts.path, facts.module, require_mention=True)
            if mod is None or not mod.sites:
                continue
            outer = ancestors(facts.path, list(conftests))
            if graph.resolver is not None:  # the verdict rests on them too (see `components`)
                graph.resolver.join(facts.module, *(conftests[p] for p in outer))
            loaded = (self._module(p, conftests[p]) for p in outer)
            above = [m for m in loaded if m is not None]
            for site in mod.sites:
                if self._covered(mod, above, site):
                    continue
                yield self.at(
                    facts.path,
                    loc_of(site.node),
                    f"`{ast.unparse(site.base)}.dependency_overrides` is changed here and never cleared or restored: "
                    "the override leaks into every later test; clear it after the test (fixture teardown after "
                    "`yield`, `finally`, or `patch.dict(app.dependency_overrides, ...)`)",
                    symbol=self._symbol(site),
                )

    # -- reading test modules -----------------------------------------------------------------------
    def _module(self, path: str, module: str, require_mention: bool = False) -> TestModule | None:
        if path not in self._modules:
            if require_mention and not self._mentions_overrides(path):
                return None
            tree = detail.module_tree(path)
            lines = detail.source_lines(path) if tree is not None else None
            self._modules[path] = TestModule.build(path, module, tree, lines) if tree is not None else None
        return self._modules[path]

    def _may_leak(self, facts: ModuleFacts) -> bool:
        if facts.open_overrides is not None:
            return facts.open_overrides > 0
        return self._mentions_overrides(facts.path)

    def _mentions_overrides(self, path: str) -> bool:
        if path not in self._mentions:
            try:
                self._mentions[path] = OVERRIDES.encode() in read_source(path)
            except OSError:
                self._mentions[path] = False
        return self._mentions[path]

    @staticmethod
    def _symbol(site: SetSite) -> str:
        names = [f.name for f in site.functions if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        return ".".join(names)

    # -- is a set site cleared? ---------------------------------------------------------------------
    def _covered(self, mod: TestModule, above: list[TestModule], site: SetSite) -> bool:
        defs = [f for f in site.functions if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))]
        if self._patched(mod, site) or self._fresh_app(mod, above, site, defs):
            return True
        if not defs:
            return True  # module level: configuration of the whole module, not a test (see the docstring)
        outer = defs[0]
        if self._cleared_in(mod, site, outer):
            return True
        cls = mod.owner_class(outer)
        is_test = outer.name.startswith("test") or cls is not None and outer.name in CLASS_HOOKS
        if is_test or fixture_decorator(outer) is not None:
            requested = param_names(outer) + usefixtures(outer.decorator_list)
            if cls is not None:
                requested += usefixtures(cls.decorator_list)
            requested += usefixtures([s.value for s in mod.tree.body if isinstance(s, ast.Assign) and "pytestmark" in ast.unparse(s.targets[0])])
            if self._fixtures_clean(mod, above, requested, cls):
                return True
            return self._hooks_clean(mod, above, cls)
        # a helper called by tests: trust any clearing in the module
        return bool(mod.clears(mod.tree)) or self._conftests_clean(above)

    def _cleared_in(self, mod: TestModule, site: SetSite, outer: FunctionNode) -> bool:
        keys = mod.keys_set_in(outer)
        innermost = site.functions[-1]
        for clear in mod.clears(outer):
            if not self._same_key(clear, site, keys):
                continue
            where = mod.enclosing(clear.node)
            # later in the same body, or in another function or lambda (a finalizer, a cleanup helper)
            if clear.anywhere or after(clear.node, site.node) or (where and where[-1] is not innermost):
                return True
        return self._calls_clearing_function(mod, site, outer)

    def _calls_clearing_function(self, mod: TestModule, site: SetSite, outer: FunctionNode) -> bool:
        """A later call to a project function that clears overrides (`reset_overrides()` from a
        helper module or conftest)."""
        graph = self._graph
        if graph is None or graph.resolver is None:
            return False
        cls = mod.owner_class(outer)
        scope = f"{cls.name}.{outer.name}" if cls is not None else outer.name
        for node in ast.walk(outer):
            if not isinstance(node, ast.Call) or not after(node, site.node):
                continue
            name = callee(node.func)
            if not name or name.rsplit(".", 1)[-1] in CLEARING_METHODS:
                continue
            target = graph.resolver.resolve(mod.module, scope, name)
            if isinstance(target, RFunc) and self._clearing_function(graph, target):
                return True
        return False

    def _clearing_function(self, graph: ProjectGraph, ref: RFunc) -> bool:
        key = (ref.module, ref.qualname)
        if key not in self._clearing:
            self._clearing[key] = False
            facts = graph.modules.get(ref.module)
            fn = facts.functions.get(ref.qualname) if facts is not None else None
            node = detail.function_node(facts.path, fn) if facts is not None and fn is not None else None
            self._clearing[key] = node is not None and any(True for _ in own_clears(node, set()))
        return self._clearing[key]

    @staticmethod
    def _same_key(clear: Clear, site: SetSite, keys: set[str]) -> bool:
        return clear.key is None or site.key is None or clear.key == site.key or clear.key not in keys

    @staticmethod
    def _patched(mod: TestModule, site: SetSite) -> bool:
        """Inside `with patch.dict(app.dependency_overrides, ...)` or under such a decorator."""
        node: ast.AST | None = site.node
        while node is not None:
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(is_patch_dict(i.context_expr) for i in node.items):
                return True
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(
                is_patch_dict(d) for d in node.decorator_list
            ):
                return True
            node = mod.parents.get(node)
        return False

    # -- an app built by the test itself cannot leak ---------------------------------------------------
    def _fresh_app(self, mod: TestModule, above: list[TestModule], site: SetSite, defs: list[FunctionNode]) -> bool:
        if not isinstance(site.base, ast.Name):
            return False
        name = site.base.id
        for fn in reversed(defs):
            if any(isinstance(n, ast.Global) and name in n.names for n in statements(fn)):
                return False
            binding = local_binding(fn, name)
            if binding == "fresh":
                return True
            if binding == "other":
                return False
            if name in param_names(fn):
                if fixture_decorator(fn) is None and not fn.name.startswith("test"):
                    return False
                return self._fresh_fixture(mod, above, name, mod.owner_class(defs[0]), 0)
        return False

    def _fresh_fixture(self, mod: TestModule, above: list[TestModule], name: str, cls: ast.ClassDef | None, depth: int) -> bool:
        found = self._find_fixture(mod, above, name, cls)
        if found is None or depth > FIXTURE_DEPTH:
            return False
        where, fn = found
        if fixture_option(fn, "scope") not in (None, "function"):
            return False
        values = [n.value for n in walk_own(fn) if isinstance(n, (ast.Return, ast.Yield)) and n.value is not None]
        if not values:
            return False
        for value in values:
            if isinstance(value, ast.Call):
                continue
            if not isinstance(value, ast.Name):
                return False
            binding = local_binding(fn, value.id)
            if binding == "fresh":
                continue
            if binding is None and value.id in param_names(fn) and self._fresh_fixture(where, above, value.id, None, depth + 1):
                continue
            return False
        return True

    # -- fixtures and hooks that clean up --------------------------------------------------------------
    def _find_fixture(
        self, mod: TestModule, above: list[TestModule], name: str, cls: ast.ClassDef | None
    ) -> tuple[TestModule, FunctionNode] | None:
        """pytest's lookup order: the class, the module, then the nearest conftest.py."""
        for where in (mod, *reversed(above)):
            candidates = where.fixtures.get(name, [])
            if cls is not None and where is mod:
                in_class = [f for f in candidates if mod.owner_class(f) is cls]
                if in_class:
                    return mod, in_class[-1]
            module_level = [f for f in candidates if where.owner_class(f) is None]
            if module_level:
                return where, module_level[-1]
        return None

    def _fixtures_clean(self, mod: TestModule, above: list[TestModule], requested: list[str], cls: ast.ClassDef | None) -> bool:
        seen: set[str] = set()  # (no cap on the names: they are the fixtures' own parameters, a
        todo = list(requested)  # finite set; and a cap would let a conftest's fixtures crowd
        while todo:  # out a cleaning one of the module, which `open_overrides` relies on not happening)
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            found = self._find_fixture(mod, above, name, cls)
            if found is None:
                continue
            where, fn = found
            if where.clears(fn):
                return True
            todo.extend(param_names(fn))
        return False

    def _hooks_clean(self, mod: TestModule, above: list[TestModule], cls: ast.ClassDef | None) -> bool:
        for node in mod.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self._cleaning_hook(mod, node, FUNCTION_HOOKS):
                return True
        if cls is not None:
            for node in cls.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self._cleaning_hook(mod, node, CLASS_HOOKS):
                    return True
        return self._conftests_clean(above)

    @staticmethod
    def _cleaning_hook(mod: TestModule, fn: FunctionNode, hooks: frozenset[str]) -> bool:
        autouse = fixture_decorator(fn) is not None and fixture_option(fn, "autouse") is True
        return (autouse or fn.name in hooks) and bool(mod.clears(fn))

    def _conftests_clean(self, above: list[TestModule]) -> bool:
        for conf in above:
            for node in conf.tree.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and self._cleaning_hook(
                    conf, node, CONFTEST_HOOKS
                ):
                    return True
        return False


def open_overrides(tree: ast.Module, lines: Sequence[str], path: str, module: str) -> int:
    """How many override changes in this test module nothing in the module itself undoes: the
    verdict with no `conftest.py` above and no project function known to clear (what
    extraction stores as `ModuleFacts.open_overrides`). Every other way to undo a change only
    adds to what the module itself does (a fixture, hook or helper is looked up in the module
    first), so a change covered here is covered in the whole project, and a file with none
    open needs no second look."""
    mod = TestModule.build(path, module, tree, lines)
    rule = OverrideNotCleared()
    return sum(1 for site in mod.sites if not rule._covered(mod, [], site))
