"""FDL102: cleanup after `yield` -> `try: yield ... finally: <cleanup>`.

```python
db = SessionLocal()           db = SessionLocal()
yield db                 ->   try:
db.commit()                       yield db
db.close()                        db.commit()
                              finally:
                                  db.close()
```
Unsafe: the cleanup now also runs when the route raises (that is the point, but it is a
change in behaviour). The statements after the `yield` up to the first cleanup statement
stay on the success path (a `commit()` must not run for a failed request); from the first
cleanup statement on, everything moves into `finally`, which is only done when those
statements are simple cleanup lines (`db.close()`, `await client.aclose()`,
`lock.release()`, `shutil.rmtree(path)`, log calls, plain assignments): never a `return`,
`raise`, `yield`, loop or branch, never a call that is neither cleanup nor logging.
`try: commit() finally: close()` after the `yield` is merged into the new `try`.

Shapes handled: the `yield` is a statement of the function body or of a `with` block in it
(the cleanup being after it in that block, or after the `with`), or of the body of a
`try`/`except` without `finally` directly in the function body, whose cleanup follows the
`try` (it becomes that `try`'s `finally`). Only dependencies with one `yield`.
"""

from __future__ import annotations

import ast

import libcst as cst

from ..rules._lifecycle import cleanup_call, own_nodes as ast_own_nodes
from ..rules.base import Finding
from .base import UNSAFE, FileContext, Fixer, Plan, own_nodes, single_statement

LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})


class CleanupInFinally(Fixer):
    code = "FDL102"

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        if not unsafe:
            return []
        result = []
        for finding in findings:
            plan = self._plan(finding, ctx)
            if plan is not None:
                result.append(plan)
        return result

    def _plan(self, finding: Finding, ctx: FileContext) -> Plan | None:
        y = ctx.node_at(cst.Yield, finding.line, finding.col)
        if y is None or isinstance(y.value, cst.From):
            return None
        expr = ctx.parent(y)
        line = ctx.parent(expr) if isinstance(expr, cst.Expr) else None
        if not isinstance(line, cst.SimpleStatementLine) or single_statement(line) is not expr:
            return None
        fn = ctx.enclosing(line, cst.FunctionDef)
        if fn is None or sum(isinstance(n, cst.Yield) for n in own_nodes(fn.body)) != 1:
            return None
        # the chain of blocks from the yield's line up to the function body
        levels: list[tuple[cst.CSTNode, cst.IndentedBlock, int]] = []  # (owner, block, index of the statement)
        current: cst.CSTNode = line
        while True:
            block = ctx.parent(current)
            owner = ctx.parent(block) if block is not None else None
            if not isinstance(block, cst.IndentedBlock) or owner is None:
                return None
            levels.append((owner, block, list(block.body).index(current)))  # type: ignore[arg-type]
            if owner is fn:
                break
            if isinstance(owner, (cst.With,)) or (isinstance(owner, cst.Try) and owner.body is block):
                current = owner
                continue
            return None
        with_cleanup = [lvl for lvl in levels if any(self._has_cleanup(ctx, s) for s in lvl[1].body[lvl[2] + 1 :])]
        tries = [lvl for lvl in levels if isinstance(lvl[0], cst.Try)]
        if len(with_cleanup) != 1:
            return None
        owner, block, index = with_cleanup[0]
        if tries:
            return self._finally_for_try(ctx, finding, fn, levels, tries, with_cleanup[0])
        return self._wrap(ctx, finding, owner, block, index)

    # -- the yield (or the `with` around it) and what follows it in one block -------------------
    def _wrap(self, ctx: FileContext, finding: Finding, owner: cst.CSTNode, block: cst.IndentedBlock, index: int) -> Plan | None:
        statements = list(block.body)
        after = statements[index + 1 :]
        first = next(i for i, s in enumerate(after) if self._has_cleanup(ctx, s))
        success, cleanup = list(after[:first]), list(after[first:])
        head = cleanup[0]
        merge = (
            isinstance(head, cst.Try)
            and not head.handlers
            and head.orelse is None
            and head.finalbody is not None
            and isinstance(head.body, cst.IndentedBlock)  # (not `try: x` on one line)
            and isinstance(head.finalbody.body, cst.IndentedBlock)
        )
        if merge:
            assert isinstance(head, cst.Try) and isinstance(head.body, cst.IndentedBlock)
            assert head.finalbody is not None and isinstance(head.finalbody.body, cst.IndentedBlock)
            if any(self._has_cleanup(ctx, s) for s in head.body.body):
                return None
            success += list(head.body.body)
            cleanup = list(head.finalbody.body.body) + cleanup[1:]
        if not cleanup or not all(self._finally_safe(ctx, s) for s in cleanup):
            return None
        count = len(statements)

        def edit(node: cst.CSTNode) -> cst.CSTNode:
            assert isinstance(node, cst.IndentedBlock) and len(node.body) == count
            body = list(node.body)
            protected, rest = body[index], body[index + 1 :]
            assert isinstance(protected, (cst.SimpleStatementLine, cst.BaseCompoundStatement))
            kept, moved = rest[:first], rest[first:]
            if merge:
                inner = moved[0]
                assert isinstance(inner, cst.Try) and isinstance(inner.body, cst.IndentedBlock)
                assert inner.finalbody is not None and isinstance(inner.finalbody.body, cst.IndentedBlock)
                kept = [*kept, *inner.body.body]
                moved = [*inner.finalbody.body.body, *moved[1:]]
            guarded = cst.Try(
                body=cst.IndentedBlock(body=[protected.with_changes(leading_lines=[]), *kept]),
                finalbody=cst.Finally(body=cst.IndentedBlock(body=_trimmed(moved))),
                leading_lines=protected.leading_lines,
            )
            return node.with_changes(body=[*body[:index], guarded])

        spans = [(ctx.span(statements[index])[0], ctx.span(statements[-1])[1])]
        return Plan([finding], UNSAFE, "Wrap the `yield` in `try` and move the cleanup into `finally`", spans, [(block, edit)])

    # -- `try: yield ... except ...:` followed by the cleanup -----------------------------------
    def _finally_for_try(self, ctx, finding, fn, levels, tries, with_cleanup) -> Plan | None:
        owner, block, index = with_cleanup
        if owner is not fn or len(levels) != 2 or levels[0][0] is not tries[0][0]:
            return None  # the yield must sit directly in the body of a `try` in the function body
        statement = block.body[index]
        assert isinstance(statement, cst.Try)
        if statement.finalbody is not None or not statement.handlers:
            return None
        if statement.orelse is not None and any(self._has_cleanup(ctx, s) for s in statement.orelse.body.body):
            return None
        cleanup = list(block.body[index + 1 :])
        if not all(self._finally_safe(ctx, s) for s in cleanup):
            return None
        count = len(block.body)

        def edit(node: cst.CSTNode, index: int = index, count: int = count) -> cst.CSTNode:
            assert isinstance(node, cst.IndentedBlock) and len(node.body) == count
            body = list(node.body)
            old = body[index]
            assert isinstance(old, cst.Try)
            moved = _trimmed(body[index + 1 :])
            return node.with_changes(body=[*body[:index], old.with_changes(finalbody=cst.Finally(body=cst.IndentedBlock(body=moved)))])

        spans = [(ctx.span(statement)[0], ctx.span(block.body[-1])[1])]
        return Plan([finding], UNSAFE, "Move the cleanup after the `try` into its `finally`", spans, [(block, edit)])

    # -- predicates (on `ast`, shared with the rule) ---------------------------------------------
    @staticmethod
    def _has_cleanup(ctx: FileContext, statement: cst.CSTNode) -> bool:
        tree = ctx.statement_ast(statement)
        return tree is not None and any(cleanup_call(n) is not None for s in tree.body for n in ast_own_nodes(s))

    @staticmethod
    def _finally_safe(ctx: FileContext, statement: cst.CSTNode) -> bool:
        """A simple line whose calls are all cleanup or logging, with no control flow."""
        if not isinstance(statement, cst.SimpleStatementLine):
            return False
        tree = ctx.statement_ast(statement)
        if tree is None:
            return False
        for small in tree.body:
            if not isinstance(small, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Delete, ast.Pass)):
                return False
            for node in ast_own_nodes(small):
                if isinstance(node, (ast.Yield, ast.YieldFrom, ast.NamedExpr)):
                    return False
                if isinstance(node, ast.Call) and cleanup_call(node) is None and not _is_log(node):
                    return False
        return True


def _is_log(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    return isinstance(func, ast.Attribute) and func.attr in LOG_METHODS


def _trimmed(statements: list[cst.BaseStatement]) -> list[cst.BaseStatement]:
    """The first statement of a new block without the blank lines it had above it (comments stay)."""
    if not statements:
        return statements
    first = statements[0]
    assert isinstance(first, (cst.SimpleStatementLine, cst.BaseCompoundStatement))  # every statement is one
    lines = list(first.leading_lines)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return [first.with_changes(leading_lines=lines), *statements[1:]]
