"""FDL302 blocking-call-in-async."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..facts import detail
from ..facts.model import CallSite, Function, Name
from ..graph.model import Node, ProjectGraph, Route
from ._blocking import (
    ASYNC_KINDS,
    CONTEXT_DECORATORS,
    KIND_METHODS,
    TRANSPARENT_DECORATORS,
    Blocking,
    Kinds,
    ParamKinds,
    Scope,
    decorator_names,
    may_block,
    project_maker,
    resolved_function,
)
from .base import Context, Finding, Rule, Shard, shown_path

ADVICE: dict[str, str] = {
    "sleep": "use `await asyncio.sleep(...)`",
    "http": "use an async client (`httpx.AsyncClient`) and `await` it, or `await run_in_threadpool(...)`",
    "db": "use an async session/driver and `await` its calls, or `await run_in_threadpool(...)`",
    "file": "use `await run_in_threadpool(...)` (or an async file API such as `anyio.Path`)",
    "subprocess": "use `asyncio.create_subprocess_exec(...)` or `await run_in_threadpool(...)`",
    "smtp": "use an async SMTP client (`aiosmtplib`) or `await run_in_threadpool(...)`",
    "redis": "use `redis.asyncio` and `await` it",
    "boto3": "use `await run_in_threadpool(...)` (or an async client such as aioboto3)",
    "network": "use `await run_in_threadpool(...)`",
}
CACHE_DECORATORS = ("functools.lru_cache", "functools.cache", "cachetools.", "async_lru.")


@dataclass(slots=True)
class Target:
    """An `async def` whose body runs on the event loop for a request."""

    module: str
    file: str
    fn: Function
    node: Node | None
    role: str  # "route `GET /x`" | "dependency `f`" | "function `f` (awaited by ...)"
    kind: str  # "route" | "websocket" | "dependency" | "helper"
    mapped: dict[str, str] = field(default_factory=dict)  # helper: kinds its caller passes in


class BlockingCallInAsync(Rule):
    """
    ## What it does
    Flags a blocking call made by an `async def` route or dependency: `time.sleep`,
    `requests.*`, `urllib.request.urlopen`, `smtplib`, sync file I/O (`open`, `Path.read_text`,
    `shutil.copyfileobj`...), `subprocess.run`/`os.system`, or sync database work
    (`query`/`execute`/`commit`/`get`/`refresh`... on a session typed or provided as a sync
    SQLAlchemy/SQLModel `Session`, on a sync engine connection, a sync redis or pymongo client).
    Also one project function deep: an `async def` route calling a sync helper that blocks
    (reported at the call, naming the blocking call inside), and an `async def` helper that the
    route awaits (reported at the blocking call in the helper). Awaited calls
    (`await session.execute(...)` on an `AsyncSession`) and work handed to
    `run_in_threadpool`/`asyncio.to_thread`/`anyio.to_thread.run_sync`/`loop.run_in_executor`
    stay silent; so does anything whose type cannot be told.

    ## Why is this bad?
    FastAPI runs `async def` routes and dependencies on the event loop, in the one thread that
    serves every request. A blocking call there stops *all* requests until it returns: one slow
    HTTP call or query makes the whole server stall. (A plain `def` route is run in the
    threadpool, where blocking is fine.)

    ## Example
    ```python
    @app.get("/users/{user_id}")
    async def read_user(user_id: int, db: Session = Depends(get_db)):
        user = db.get(User, user_id)          # sync session on the event loop
        requests.post(AUDIT_URL, json={...})  # blocks every other request
        return user
    ```

    ## Use instead
    ```python
    @app.get("/users/{user_id}")
    async def read_user(user_id: int, db: AsyncSession = Depends(get_async_db)):
        user = await db.get(User, user_id)
        async with httpx.AsyncClient() as client:
            await client.post(AUDIT_URL, json={...})
        return user
    ```
    or keep the sync session and declare the route `def`, or wrap the blocking part in
    `await run_in_threadpool(...)`.
    """

    code = "FDL302"
    name = "blocking-call-in-async"
    summary = "Await an async equivalent, hand the call to `run_in_threadpool`, or declare the function `def`."
    cost = 27
    # Each target is checked on its own (`_candidates`); only deduplication (a location or a
    # helper reported once) and the async helpers found on the way tie targets together,
    # and `merge` replays those in target order. So the targets split into contiguous shards
    # that `rules_parallel` hands to both processes: on large projects this rule alone was
    # the rules' critical path (5.1 s in the child against 3.1 s for all the others). Small
    # shards, so that the two processes end together whichever shards are heavy.
    shards = 16

    def check(self, ctx: Context) -> Iterator[Finding]:
        yield from self.merge(ctx, [self.shard(ctx, 0, 1)])

    def shard(self, ctx: Context, index: int, count: int) -> Shard:
        if ctx.graph.resolver is None:
            return Shard([], ([], {}))
        kinds, targets, items = self._prepared(ctx)
        findings: list[Finding] = []
        proposed: dict[tuple[str, str], Target] = {}
        checked = [
            self._candidates(ctx.graph, kinds, target, targets, findings, proposed)
            for target in items[len(items) * index // count : len(items) * (index + 1) // count]
        ]
        # the async helpers this shard proposed first, checked here too: the merge keeps the
        # results of the first proposal in target order, which is the one a serial run checks
        helpers = {key: self._candidates(ctx.graph, kinds, helper, targets, findings, None) for key, helper in proposed.items()}
        return Shard(findings, (checked, helpers))

    def merge(self, ctx: Context, shards: list[Shard]) -> Iterator[Finding]:
        seen: set[tuple[str, int, int]] = set()
        helpers: dict[tuple[str, str], tuple[Checked, list[Finding]]] = {}  # the first proposal's
        for shard in shards:
            targets, checked_helpers = shard.data
            for checked in targets:
                for key in checked.helpers:
                    helpers.setdefault(key, (checked_helpers[key], shard.findings))
                yield from _deduplicated(checked, shard.findings, seen)
        for checked, findings in helpers.values():
            yield from _deduplicated(checked, findings, seen)

    def _prepared(self, ctx: Context) -> tuple[Kinds, dict[tuple[str, str], Target], list[Target]]:
        """The kinds engine, the targets and those to check, made once per process and context."""
        ready = getattr(self, "_ready", None)
        if ready is None or ready[0] is not ctx:
            self._verdicts: dict[tuple[str, str, bool, frozenset[tuple[str, str]]], tuple[str, str, Blocking] | None] = {}
            kinds, targets = Kinds(ctx.graph), self._targets(ctx)
            items = _focused(ctx, targets, lambda target, helpers, names: self._may_propose(ctx.graph, kinds, target, helpers, names))
            ready = self._ready = (ctx, kinds, targets, items)
        return ready[1], ready[2], ready[3]

    @staticmethod
    def _may_propose(graph: ProjectGraph, kinds: Kinds, target: Target, helpers: set[tuple[str, str]], names: set[str]) -> bool:
        """Can checking `target` propose one of `helpers` (module, qualname)? True when a call
        that `_candidates` resolves on the way to a proposal (awaited, or not handed to a
        thread) resolves to one of them, the same way. Only calls whose last name is one of
        `names` (see `_names_for`) are resolved: resolving every call cost more than checking
        every target."""
        fn = target.fn
        calls = [c for c in fn.calls if (c.awaited or not c.in_thread) and c.callee.rpartition(".")[2] in names]
        if not calls:
            return False
        scope = _scope(kinds, target)
        for call in calls:
            hit = _called(graph, scope, call)
            if hit is not None and (hit[0], hit[1].qualname) in helpers:
                return True
        return False

    # -- which functions --------------------------------------------------------------------------
    def _targets(self, ctx: Context) -> dict[tuple[str, str], Target]:
        graph = ctx.graph
        targets: dict[tuple[str, str], Target] = {}
        for route in sorted(graph.routes, key=lambda r: (r.file, r.loc[0], r.loc[1])):
            if route.is_async and (route.module, route.qualname) not in targets:
                targets[(route.module, route.qualname)] = Target(
                    route.module,
                    route.file,
                    route.function,
                    graph.nodes.get(route.endpoint),
                    f"route `{_label(route)}`",
                    "websocket" if route.is_websocket else "route",
                )
        for node in ctx.project_dependencies():
            fn = node.function
            if fn is None or not fn.is_async or node.kind not in ("function", "method", "instance", "partial"):
                continue
            module = _module_of(graph, node, fn)
            if module is None or (module, fn.qualname) in targets:
                continue
            targets[(module, fn.qualname)] = Target(
                module, graph.modules[module].path, fn, node, f"dependency `{fn.name}`", "dependency"
            )
        return targets

    # -- one function ------------------------------------------------------------------------------
    def _candidates(
        self,
        graph: ProjectGraph,
        kinds: Kinds,
        target: Target,
        targets: dict[tuple[str, str], Target],
        findings: list[Finding],
        proposed: dict[tuple[str, str], Target] | None,
    ) -> Checked:
        """What one function may report, before deduplication (appended to `findings`), and
        the async helpers it awaits that this shard proposes first. `proposed` None: a helper
        (only its own calls count, and it proposes nothing)."""
        fn = target.fn
        scope = _scope(kinds, target)
        checked = Checked([], [])
        groups: dict[str, int] = {}
        firsts: list[Blocking] = []
        for call in fn.calls:
            if call.awaited or call.in_thread:
                if proposed is not None and call.awaited:
                    self._note_async_helper(graph, kinds, scope, call, target, targets, proposed, checked)
                continue
            b = kinds.blocking(scope, call)
            if b is not None:
                if b.group not in groups:
                    groups[b.group] = 0
                    firsts.append(b)
                groups[b.group] += 1
                continue
            if proposed is None:
                continue  # only one project function deep
            found = self._through_helper(graph, kinds, scope, call, targets, proposed, checked, target)
            if found is not None:
                name, module, inner = found
                file = shown_path(graph.modules[module].path)
                shown = call.callee.replace("()", "(...)")  # `Repo(db).fetch()`: callee `Repo().fetch`
                checked.candidates.append(((target.file, call.loc[0], call.loc[1]), (module, name), len(findings)))
                findings.append(
                    self.at(
                        target.file,
                        call.loc,
                        f"`{shown}()` makes blocking call {inner.what} ({file}:{inner.loc[0]}) on the event loop of async "
                        f"{target.role}; "
                        + (
                            "it runs on `with` entry/exit: make it an `@asynccontextmanager` doing async I/O"
                            if call.in_with
                            else f"call it with `await run_in_threadpool({shown}, ...)`"
                        )
                        + self._or_def(graph, target),
                        symbol=fn.qualname,
                    )
                )
        for b in firsts:
            more = groups[b.group] - 1
            extra = f" (and {more} more call{'s' if more > 1 else ''})" if more else ""
            checked.candidates.append(((target.file, b.loc[0], b.loc[1]), None, len(findings)))
            findings.append(
                self.at(
                    target.file,
                    b.loc,
                    f"blocking call {b.what}{extra} in async {target.role} stalls the event loop; {ADVICE[b.category]}"
                    + self._or_def(graph, target),
                    symbol=fn.qualname,
                )
            )
        return checked

    def _through_helper(
        self,
        graph: ProjectGraph,
        kinds: Kinds,
        scope: Scope,
        call: CallSite,
        targets: dict[tuple[str, str], Target],
        proposed: dict[tuple[str, str], Target],
        checked: Checked,
        caller: Target,
    ) -> tuple[str, str, Blocking] | None:
        """A sync project function called here that blocks: (its qualname, module, first blocking call)."""
        hit = _called(graph, scope, call)
        if hit is None:
            return None
        module, helper = hit
        if helper is scope.fn:
            return None
        if helper.is_async:
            self._add_helper(graph, kinds, scope, call, module, helper, caller, targets, proposed, checked)
            return None
        inner = Scope(module, helper, kinds.param_kinds(module, helper, None))
        mapped = self._mapped(kinds, scope, call, helper) if self._uses_params(helper, inner) else {}
        inner.params.update(mapped)
        # (the kinds declared in the helper follow from the helper: only the caller's vary)
        key = (module, helper.qualname, call.in_with, frozenset(mapped.items()))
        if key not in self._verdicts:  # a helper shared by many routes is judged once
            self._verdicts[key] = self._judge_helper(graph, kinds, call, module, helper, inner)
        return self._verdicts[key]

    def _judge_helper(
        self, graph: ProjectGraph, kinds: Kinds, call: CallSite, module: str, helper: Function, inner: Scope
    ) -> tuple[str, str, Blocking] | None:
        """`_through_helper`'s verdict on a sync helper, given what its parameters hold."""
        decorators = decorator_names(graph, module, helper)
        if any(d.startswith(CACHE_DECORATORS) for d in decorators) or _memoised_in_global(helper):
            return None  # computed once
        if helper.is_generator and not (call.in_with and any(d in CONTEXT_DECORATORS for d in decorators)):
            return None  # calling a generator function runs none of its body
        if any(d not in TRANSPARENT_DECORATORS and d not in CONTEXT_DECORATORS for d in decorators):
            return None  # a decorator may change what runs (and where)
        if helper.name.startswith("__"):
            return None
        blocking = kinds.direct(inner)
        if not blocking:
            return None
        return helper.qualname, module, blocking[0]  # (a method and a function may share a name)

    @staticmethod
    def _uses_params(helper: Function, scope: Scope) -> bool:
        """Does the helper call a possibly blocking method on a parameter of unknown kind?"""
        names = {p.name for p in helper.params}
        for c in helper.calls:
            head, _, rest = c.callee.partition(".")
            if head in names and rest and rest.rpartition(".")[2] in KIND_METHODS and head not in scope.params:
                return True
        return False

    def _mapped(self, kinds: Kinds, scope: Scope, call: CallSite, helper: Function) -> dict[str, str]:
        """Kinds the caller passes for the helper's unannotated parameters."""
        known = {
            n: k
            for n in call.arg_names
            if (k := kinds.name_kind(scope.module, scope.fn.qualname, n, scope.params)) is not None and k not in ASYNC_KINDS
        }
        if not known:
            return {}
        args = kinds.call_arguments(scope.module, scope.fn, call.loc)
        if args is None:
            return {}
        positional, keywords = args
        params = [p for p in helper.params if p.kind in ("posonly", "pos")]
        if helper.class_name is not None and params and params[0].name in ("self", "cls") and "." in call.callee:
            params = params[1:]
        result: dict[str, str] = {}
        for index, name in enumerate(positional):
            if name in known and index < len(params):
                result[params[index].name] = known[name]
        for key, name in keywords.items():
            if name in known:
                result[key] = known[name]
        return result

    def _note_async_helper(
        self,
        graph: ProjectGraph,
        kinds: Kinds,
        scope: Scope,
        call: CallSite,
        caller: Target,
        targets: dict[tuple[str, str], Target],
        proposed: dict[tuple[str, str], Target],
        checked: Checked,
    ) -> None:
        hit = _called(graph, scope, call)
        if hit is not None and hit[1].is_async and hit[1] is not scope.fn:
            self._add_helper(graph, kinds, scope, call, hit[0], hit[1], caller, targets, proposed, checked)

    def _add_helper(
        self,
        graph: ProjectGraph,
        kinds: Kinds,
        scope: Scope,
        call: CallSite,
        module: str,
        helper: Function,
        caller: Target,
        targets: dict[tuple[str, str], Target],
        proposed: dict[tuple[str, str], Target],
        checked: Checked,
    ) -> None:
        """Propose an awaited async helper as a target of its own (the first proposal in
        target order wins, see `merge`)."""
        key = (module, helper.qualname)
        if key in targets or key in proposed or helper.is_generator:
            return
        decorators = decorator_names(graph, module, helper)
        if any(d not in TRANSPARENT_DECORATORS for d in decorators):
            return
        proposed[key] = Target(
            module,
            graph.modules[module].path,
            helper,
            None,
            f"function `{helper.name}` (awaited by {caller.role})",
            "helper",
            self._mapped(kinds, scope, call, helper) if self._uses_params(helper, Scope(module, helper, ParamKinds())) else {},
        )
        checked.helpers.append(key)

    @staticmethod
    def _or_def(graph: ProjectGraph, target: Target) -> str:
        """Declaring a route or dependency `def` is a fix only when its body awaits nothing."""
        if target.kind in ("helper", "websocket"):
            return ""  # a websocket endpoint must be `async def`
        facts = graph.modules.get(target.module)
        node = detail.function_node(facts.path, target.fn) if facts is not None else None
        if node is None:
            return ""
        stack: list[ast.AST] = list(node.body)
        while stack:
            n = stack.pop()
            if isinstance(n, (ast.Await, ast.AsyncWith, ast.AsyncFor)):
                return ""
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            stack.extend(ast.iter_child_nodes(n))
        return f", or declare the {target.kind} `def` (FastAPI then runs it in the threadpool)"


@dataclass(slots=True)
class Checked:
    """One target's findings before deduplication, and the async helpers it proposes."""

    # (location, the helper reported through or None for a direct call, index in the shard's findings)
    candidates: list[tuple[tuple[str, int, int], tuple[str, str] | None, int]]
    helpers: list[tuple[str, str]]  # (module, qualname) of the async helpers it proposed first in its shard


def _deduplicated(checked: Checked, findings: list[Finding], seen: set[tuple[str, int, int]]) -> Iterator[Finding]:
    """A target's findings that no earlier target reported at the same location; a helper
    reported through once per target (its first call)."""
    through: set[tuple[str, str]] = set()
    for key, helper, index in checked.candidates:
        if key in seen or helper in through:
            continue
        seen.add(key)
        if helper is not None:
            through.add(helper)
        yield findings[index]


def _scope(kinds: Kinds, target: Target) -> Scope:
    """What a target's body sees: its parameters' kinds, and those its caller passes in."""
    scope = Scope(target.module, target.fn, kinds.param_kinds(target.module, target.fn, target.node))
    scope.params.update(target.mapped)
    return scope


def _called(graph: ProjectGraph, scope: Scope, call: CallSite) -> tuple[str, Function] | None:
    """The project function a call in `scope` invokes, parsing a skipped module on the way only
    when its text may block (the one resolution behind proposals and helpers)."""
    test = may_block(call.callee, _passed(scope, call), project_maker(graph.resolver))
    return resolved_function(graph, scope.module, scope, call.callee, test)


def _passed(scope: Scope, call: CallSite) -> Callable[[], frozenset[str]]:
    """The kinds of the parameters a call hands its function."""

    return lambda: frozenset(scope.params[n] for n in call.arg_names if n in scope.params)


def _memoised_in_global(fn: Function) -> bool:
    """`global _cache; if _cache is not None: return _cache; ...`: the I/O runs once."""
    names = set(fn.global_names)
    return bool(names) and any(isinstance(rv, Name) and rv.dotted in names for rv in fn.returns)


def _label(route: Route) -> str:
    paths = [m.path for m in route.mounts] or [route.path]
    return f"{' '.join(route.methods)} {min(paths, key=lambda p: (len(p), p))}"


def _module_of(graph: ProjectGraph, node: Node, fn: Function) -> str | None:
    """The module whose facts hold `fn` (a `__call__` may be inherited from another module)."""
    if node.module is not None:
        facts = graph.modules.get(node.module)
        if facts is not None and facts.functions.get(fn.qualname) is fn:
            return node.module
    for module, facts in list(graph.modules.items()):
        if facts.functions.get(fn.qualname) is fn:
            return module
    return None


def _focused(
    ctx: Context,
    targets: dict[tuple[str, str], Target],
    may_propose: Callable[[Target, set[tuple[str, str]], set[str]], bool],
) -> list[Target]:
    """The targets to check, in target order. With a `focus` (pre-commit: only the given
    files are reported), only those whose findings can land in its files. Every finding lands
    in the file of the target or helper it was found in (`self.at(target.file, ...)`). A
    helper is a non-generator `async def` that is no target itself, checked with the first
    proposal in target order of any target that awaits (or calls) it: so for each such
    function of the focused files, every target that `may_propose` it is kept too, in order,
    and the first proposal among them is the first of all. (A router module of async routes
    has no helpers: only its own targets.)"""
    every = list(targets.values())
    if ctx.focus is None:
        return every
    helpers: set[tuple[str, str]] = set()
    for path in ctx.focus:
        facts = ctx.graph.file_facts(path)
        if facts is None:
            return every
        for fn in facts.functions.values():
            if fn.is_async and not fn.is_generator and (facts.module, fn.qualname) not in targets:
                helpers.add((facts.module, fn.qualname))
    if not helpers:
        return [t for t in every if t.file in ctx.focus]
    names = _names_for(ctx.graph, {q.rpartition(".")[2] for _, q in helpers})
    return [t for t in every if t.file in ctx.focus or may_propose(t, helpers, names)]


def _names_for(graph: ProjectGraph, defined: set[str]) -> set[str]:
    """The last names a call can end with and still resolve to a function defined under one of
    the `defined` names: the resolver reaches a function by its own name (`f()`, `mod.f()`,
    `self.f()`, `obj.f()`), or through imports that rename it (`from m import f as g`, then
    `from n import g as h`), which are followed here through every parsed module. (An
    assignment `g = f` makes `g` a variable, which `resolved_function` does not call through.
    A rename in a module the pre-scan skipped counts only once something has parsed it: for
    `resolved_function` too, whose text test looks for a `def` of the name called.)"""
    names = set(defined)
    renames: dict[str, set[str]] = {}  # imported name -> local names it is bound to under another name
    for facts in graph.modules.values():
        for bound in facts.imports.values():
            for local, imported in bound.items():
                if imported.attr is not None and imported.attr != local:
                    renames.setdefault(imported.attr, set()).add(local)
    todo = list(names)
    while todo:
        for local in renames.get(todo.pop(), ()):
            if local not in names:
                names.add(local)
                todo.append(local)
    return names
