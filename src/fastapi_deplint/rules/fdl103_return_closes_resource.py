"""FDL103 return-closes-resource."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..graph.resolve import RClass
from ._lifecycle import Body, cleanup_call, dependency_bodies, dotted, own_body_nodes, own_nodes, with_targets
from .base import Context, Finding, Rule


class ReturnClosesResource(Rule):
    """
    ## What it does
    Flags a plain (non-generator) dependency that returns a resource and closes it before
    the route gets it: it returns the name a `finally` clause closes
    (`try: return db` / `finally: db.close()`), or the target of a surrounding `with` block
    (`with SessionLocal() as db: return db`), or wraps such a name in a project class
    (`return UserRepository(db)`). Points at the dependency's `def`.

    ## Why is this bad?
    `finally` and `with` run as the function returns, before FastAPI hands the value to the
    route: the route always receives a closed session, connection or file and fails on
    first use (or silently reconnects outside any transaction you meant to have). Returning
    values computed *from* the resource (`return db.query(User).all()`) is fine.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        try:
            return db
        finally:
            db.close()
    ```

    ## Use instead
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    ```
    FastAPI runs the code after `yield` once the response is done.
    """

    code = "FDL103"
    name = "return-closes-resource"
    summary = "Yield the resource instead of returning it: `finally`/`with` closes it before the route runs."

    def check(self, ctx: Context) -> Iterator[Finding]:
        wanted = lambda node, fn: fn.has_finally or any(c.in_with for c in fn.calls)  # noqa: E731
        for body in dependency_bodies(ctx, generators=False, wanted=wanted):
            if not body.fn.has_finally and not self._has_with(body):
                continue
            found = self._closed_return(ctx, body)
            if found is not None:
                name, how = found
                yield self.at_def(
                    body.node,
                    f"dependency `{body.fn.name}` returns `{name}`, which {how} before the route receives it; "
                    "make it a yield dependency (`yield` inside the `try`/`with`)",
                )

    @staticmethod
    def _has_with(body: Body) -> bool:
        return any(isinstance(n, (ast.With, ast.AsyncWith)) for n in own_body_nodes(body.tree))

    def _closed_return(self, ctx: Context, body: Body) -> tuple[str, str] | None:
        for node in own_body_nodes(body.tree):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                names = with_targets(node)
                for ret in self._returns(node.body):
                    found = self._returned(ctx, body, ret, names)
                    if found is not None:
                        return found[0], "its `with` block closes"
            elif isinstance(node, ast.Try) and node.finalbody:
                closed: dict[str, str] = {}
                for n in (n for stmt in node.finalbody for n in own_nodes(stmt)):
                    release = cleanup_call(n)
                    if release is not None and isinstance(release[0], ast.Name):
                        closed.setdefault(release[0].id, release[1])
                if not closed:
                    continue
                for ret in self._returns([*node.body, *node.orelse, *(s for h in node.handlers for s in h.body)]):
                    found = self._returned(ctx, body, ret, set(closed))
                    if found is not None:
                        return found[0], f"`finally` closes (`{closed[found[1]]}`)"
        return None

    @staticmethod
    def _returns(stmts: list[ast.stmt]) -> Iterator[ast.Return]:
        for stmt in stmts:
            for n in own_nodes(stmt):
                if isinstance(n, ast.Return):
                    yield n

    @staticmethod
    def _returned(ctx: Context, body: Body, ret: ast.Return, names: set[str]) -> tuple[str, str] | None:
        """(what is returned, the closed name) when the return value is a closed name or a
        project class instance wrapping one."""
        value = ret.value.value if isinstance(ret.value, ast.Await) else ret.value
        if isinstance(value, ast.Name) and value.id in names:
            return value.id, value.id
        if isinstance(value, ast.Call) and ctx.graph.resolver is not None:
            callee = dotted(value.func)
            args = [*value.args, *(k.value for k in value.keywords)]
            wrapped = next((a.id for a in args if isinstance(a, ast.Name) and a.id in names), None)
            if callee and wrapped:
                target = ctx.graph.resolver.resolve(body.module, body.fn.qualname, callee)
                if isinstance(target, RClass):
                    return f"{callee}({wrapped})", wrapped
        return None
