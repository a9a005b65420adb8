"""FDL101: a dependency that returns a resource -> a yield dependency that closes it.

```python
def get_db():                 def get_db():
    return SessionLocal()  ->     db = SessionLocal()
                                  try:
                                      yield db
                                  finally:
                                      db.close()
```
Unsafe: the resource now lives until the response is sent and is closed after it. Fixed
only where the shape and the close call are certain:

- the function's only `return` is its last statement, returning the call itself or a name
  assigned once from it by a statement of the function body; no decorator; no other
  project code calls it as a plain function (it would then get a generator);
- the resource is one whose close call is known for sure, sync or async: SQLAlchemy/SQLModel
  sessions (`close()`, `await close()` for `AsyncSession`/`async_sessionmaker`),
  engine connections, DB-API `connect()`s, `httpx.Client` (`close()`), `httpx.AsyncClient`
  (`await aclose()`), `aiohttp.ClientSession` (`await close()`), `requests.Session`,
  `open()`. An async resource in a sync `def` is left alone (it cannot be awaited there),
  and so are pool checkouts (they are released to the pool, not closed) and the
  configurable `resource-factories` (their close call is unknown).

A `-> T` return annotation becomes `-> Iterator[T]` (`AsyncIterator[T]` for `async def`).
"""

from __future__ import annotations

import libcst as cst

from ..facts.model import Call, Name
from ..graph.resolve import RVar
from ..rules._resources import external_of
from ..rules.base import Finding
from .base import UNSAFE, FileContext, Fixer, Plan, dotted, function_body, is_generator, names_in, own_nodes, single_statement

SYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
ASYNC_SESSIONS = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
SYNC_MAKERS = frozenset({"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker", "sqlalchemy.orm.scoped_session"})
ASYNC_MAKERS = frozenset({"sqlalchemy.ext.asyncio.async_sessionmaker", "sqlalchemy.ext.asyncio.async_scoped_session"})
Closer = tuple[str, bool, str]  # (close method, awaited, kind of resource)
# external callable -> how its result is closed
CLOSERS: dict[str, Closer] = {
    **{name: ("close", False, "session") for name in SYNC_SESSIONS},
    **{name: ("close", True, "session") for name in ASYNC_SESSIONS},
    "psycopg2.connect": ("close", False, "connection"),
    "psycopg.connect": ("close", False, "connection"),
    "sqlite3.connect": ("close", False, "connection"),
    "pymysql.connect": ("close", False, "connection"),
    "httpx.Client": ("close", False, "client"),
    "httpx.AsyncClient": ("aclose", True, "client"),
    "aiohttp.ClientSession": ("close", True, "client"),
    "requests.Session": ("close", False, "client"),
    "requests.session": ("close", False, "client"),
    "builtins.open": ("close", False, "file"),
}
ENGINE_CONNECT: dict[str, Closer] = {
    ".create_engine().connect": ("close", False, "connection"),
    ".create_async_engine().connect": ("close", True, "connection"),
}
VARIABLE_NAMES = {"session": ("db", "session"), "connection": ("conn", "connection"), "client": ("client",), "file": ("file", "handle")}


class ReturnToYield(Fixer):
    code = "FDL101"

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        if not unsafe or ctx.graph is None or ctx.facts is None:
            return []
        plans: list[Plan] = []
        for finding in findings:
            plan = self._plan(finding, ctx)
            if plan is not None:
                plans.append(plan)
        return plans

    def _plan(self, finding: Finding, ctx: FileContext) -> Plan | None:
        fn = ctx.function_at(finding)
        facts_fn = ctx.function_facts(finding)
        body = function_body(fn) if fn is not None else None
        if fn is None or facts_fn is None or not body or fn.decorators or is_generator(fn) or self._called_directly(ctx, finding):
            return None
        returns = [n for n in own_nodes(fn.body) if isinstance(n, cst.Return)]
        last = single_statement(body[-1])
        if len(returns) != 1 or last is not returns[0] or returns[0].value is None:
            return None
        value = returns[0].value
        call: cst.Call | None = None
        variable: str | None = None
        if isinstance(value, cst.Call):
            call = value
        elif isinstance(value, cst.Name):
            variable = value.value
            call = self._assigned_call(body[:-1], fn, variable)
        if call is None:
            return None
        callee = dotted(call.func)
        closer = self._closer(ctx, finding, callee) if callee else None
        if closer is None:
            return None
        method, awaited, kind = closer
        is_async = fn.asynchronous is not None
        if awaited and not is_async:
            return None  # an async resource cannot be closed from a sync generator
        if variable is None:
            taken = names_in(fn)
            variable = next((n for n in (*VARIABLE_NAMES.get(kind, ()), "resource") if n not in taken), None)
            if variable is None:
                return None
        imports: list[tuple[str, str]] = []
        edits_returns = None
        if fn.returns is not None:
            wanted = "AsyncIterator" if is_async else "Iterator"
            spelled = ctx.imports.name_for(wanted, ("collections.abc", "typing"))
            if spelled is None:
                return None
            iterator, need = spelled
            if need is not None:
                imports.append(need)
            edits_returns = iterator
        close = f"{'await ' if awaited else ''}{variable}.{method}()"
        guarded = ctx.parse_statement(f"try:\n    yield {variable}\nfinally:\n    {close}\n")
        last_line = body[-1]
        assert isinstance(last_line, cst.SimpleStatementLine)
        if isinstance(value, cst.Call):
            assign = cst.SimpleStatementLine(
                body=[cst.Assign(targets=[cst.AssignTarget(target=cst.Name(variable))], value=value)],
                leading_lines=last_line.leading_lines,
                trailing_whitespace=last_line.trailing_whitespace,
            )
            replacement: list[cst.BaseStatement] = [assign, guarded]
        else:
            replacement = [guarded.with_changes(leading_lines=last_line.leading_lines)]

        def edit(node: cst.CSTNode, replacement: list[cst.BaseStatement] = replacement, iterator: str | None = edits_returns) -> cst.CSTNode:
            assert isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock)
            changed = node.with_changes(body=node.body.with_changes(body=[*node.body.body[:-1], *replacement]))
            if iterator is not None and changed.returns is not None:
                wrapped = cst.Subscript(
                    value=cst.parse_expression(iterator),
                    slice=[cst.SubscriptElement(slice=cst.Index(value=changed.returns.annotation))],
                )
                changed = changed.with_changes(returns=changed.returns.with_changes(annotation=wrapped))
            return changed

        spans = [ctx.span(body[-1])]
        if fn.returns is not None:
            spans.append(ctx.span(fn.returns))
        message = f"Yield the resource and close it in `finally` (`{close}`)"
        return Plan([finding], UNSAFE, message, spans, [(fn, edit)], imports)

    @staticmethod
    def _assigned_call(before: list[cst.BaseStatement], fn: cst.FunctionDef, variable: str) -> cst.Call | None:
        """The call `variable` is assigned from by one statement of the body, its only binding."""
        found: cst.Call | None = None
        for statement in before:
            small = single_statement(statement)
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and small.targets[0].target.value == variable
                and isinstance(small.value, cst.Call)
            ):
                if found is not None:
                    return None
                found = small.value
        if found is None:
            return None
        bindings = 0
        for node in own_nodes(fn):
            if isinstance(node, (cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
                target = node.target
                if isinstance(target, cst.Name) and target.value == variable:
                    bindings += 1
                elif not isinstance(target, cst.Name) and variable in names_in(target):
                    bindings += 1
            elif isinstance(node, cst.AsName) and variable in names_in(node.name):
                bindings += 1
            elif isinstance(node, cst.Param) and node.name.value == variable:
                bindings += 1
        return found if bindings == 1 else None

    @staticmethod
    def _called_directly(ctx: FileContext, finding: Finding) -> bool:
        from ..rules.fdl301_sync_dependency import directly_called

        assert ctx.graph is not None and ctx.facts is not None
        key = (ctx.facts.module, finding.symbol)
        return key in directly_called(ctx.graph, {key: ""})

    @staticmethod
    def _closer(ctx: FileContext, finding: Finding, callee: str) -> Closer | None:
        graph, facts = ctx.graph, ctx.facts
        assert graph is not None and facts is not None and graph.resolver is not None
        ext = external_of(graph, facts.module, finding.symbol, callee)
        if ext is None:
            return None
        if ext in CLOSERS:
            return CLOSERS[ext]
        for suffix, closer in ENGINE_CONNECT.items():
            if ext.endswith(suffix):
                return closer
        if ext.endswith("()") and ext[:-2] in SYNC_MAKERS | ASYNC_MAKERS:
            return _session_maker_closer(ctx, finding, callee, ext[:-2])
        return None


def _session_maker_closer(ctx: FileContext, finding: Finding, callee: str, maker: str) -> Closer | None:
    """`SessionLocal()` where `SessionLocal = sessionmaker(...)`: async when the maker is
    `async_sessionmaker` or `class_=AsyncSession`; unknown for any other `class_`."""
    graph, facts = ctx.graph, ctx.facts
    assert graph is not None and facts is not None and graph.resolver is not None
    target = graph.resolver.resolve(facts.module, finding.symbol, callee)
    hops = 0
    while isinstance(target, RVar) and isinstance(target.assign.value, Name) and hops < 8:
        target = graph.resolver.resolve(target.module, target.scope, target.assign.value.dotted)
        hops += 1
    if not isinstance(target, RVar) or not isinstance(target.assign.value, Call):
        return None
    awaited = maker in ASYNC_MAKERS
    for key, value in target.assign.value.kwargs:
        if key is None:
            return None  # `**options` may carry `class_`
        if key == "class_":
            cls = external_of(graph, target.module, target.scope, value.dotted) if isinstance(value, Name) else None
            if cls in ASYNC_SESSIONS:
                awaited = True
            elif cls not in SYNC_SESSIONS:
                return None
    return ("close", awaited, "session")
