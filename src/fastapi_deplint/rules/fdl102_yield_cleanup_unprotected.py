"""FDL102 yield-cleanup-unprotected."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ._lifecycle import (
    Body,
    cleanup_call,
    dependency_bodies,
    is_broad_handler,
    loc,
    may_clean_up,
    own_nodes,
    parent_map,
    root_name,
    with_targets,
    yields_in,
)
from .base import Context, Finding, Rule


class YieldCleanupUnprotected(Rule):
    """
    ## What it does
    Flags a generator dependency that releases something after its `yield` (`db.close()`,
    `await client.aclose()`, `lock.release()`, `shutil.rmtree(tmp)`) outside a `finally`
    clause or a `with` block. The finding points at the `yield`.

    ## Why is this bad?
    When the route (or a later dependency) raises, FastAPI throws the exception into the
    dependency at its `yield`. Plain code after the `yield` never runs then, so every failed
    request leaks the session, connection or lock — exactly the requests that most need the
    cleanup.

    Only releasing calls count: a `commit()` after the `yield` is meant to run on success
    only, and a log line skipped on error loses nothing. Cleanup that also runs in a broad
    `except` (bare, `Exception`, `BaseException`) around the `yield` is covered on both
    paths and stays silent; closing again what a surrounding `with` already closes is
    harmless.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        yield db
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
    (or `with SessionLocal() as db: yield db`).
    """

    code = "FDL102"
    name = "yield-cleanup-unprotected"
    summary = "Put the cleanup after `yield` in a `finally` clause (or use a `with` block)."
    fixable = "unsafe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for body in dependency_bodies(ctx, generators=True, wanted=lambda node, fn: may_clean_up(fn)):
            found = self._unprotected(body)
            if found is not None:
                y, call = found
                yield self.at(
                    body.path,
                    loc(y),
                    f"`{call}` after `yield` in dependency `{body.fn.name}` is skipped when the route raises "
                    "(FastAPI throws the error in at the `yield`); wrap the `yield` in `try:` and do the "
                    "cleanup in `finally:`, or use a `with` block",
                    symbol=body.fn.qualname,
                )

    def _unprotected(self, body: Body) -> tuple[ast.AST, str] | None:
        parents = parent_map(body.tree)
        for y in yields_in(body.tree):
            call = self._after_yield(body.tree, y, parents)
            if call is not None:
                return y, call
        return None

    def _after_yield(self, tree: ast.AST, y: ast.AST, parents: dict[ast.AST, ast.AST]) -> str | None:
        """The first cleanup call that runs after `y` on the normal path only."""
        stmt = y
        while stmt in parents and not isinstance(stmt, ast.stmt):
            stmt = parents[stmt]
        managed: set[str] = set()  # names a surrounding `with` closes anyway
        covered: set[str] = set()  # cleanup calls also made by a broad handler or a finally
        after: list[ast.stmt] = []
        current: ast.AST = stmt
        while current is not tree and current in parents:
            parent = parents[current]
            if isinstance(parent, (ast.With, ast.AsyncWith)):
                managed |= with_targets(parent)
            if isinstance(parent, (ast.Try, ast.TryStar)):
                in_body = current in parent.body
                if in_body:
                    after.extend(parent.orelse)
                    for handler in parent.handlers:
                        if is_broad_handler(handler):
                            covered |= self._cleanups(handler.body)
                covered |= self._cleanups(parent.finalbody)
            for field in ("body", "orelse", "finalbody"):
                siblings = getattr(parent, field, None)
                if isinstance(siblings, list) and current in siblings:
                    if not (isinstance(parent, ast.Try) and field == "finalbody"):
                        after.extend(siblings[siblings.index(current) + 1 :])
                    break
            current = parent
        for stmt_after in after:
            for n in own_nodes(stmt_after):
                found = cleanup_call(n)
                if found is None:
                    continue
                target, call_text = found
                if call_text in covered or (target is not None and root_name(target) in managed):
                    continue
                return call_text
        return None

    @staticmethod
    def _cleanups(stmts: list[ast.stmt]) -> set[str]:
        return {found[1] for s in stmts for n in own_nodes(s) if (found := cleanup_call(n)) is not None}
