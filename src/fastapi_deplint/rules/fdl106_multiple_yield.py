"""FDL106 multiple-yield."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from ._lifecycle import dependency_bodies, loc, own_nodes
from .base import Context, Finding, Rule


def _max(*values: int | None) -> int | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@dataclass(slots=True)
class Exits:
    """How many yields may have run when control leaves a block each way (None: never)."""

    next: int | None
    brk: int | None = None
    cont: int | None = None
    peak: int = 0  # the most yields reached anywhere inside


class YieldCounter:
    """Counts, along every path of one function body, how many yields have run; a yield
    reached when one already ran is a second yield. Exclusive branches take the maximum,
    sequences add up, and a loop body is walked a second time when it can yield and repeat."""

    def __init__(self) -> None:
        self.second: dict[ast.Yield | ast.YieldFrom, str] = {}  # yield -> why

    def block(self, stmts: list[ast.stmt], n: int) -> Exits:
        exits = Exits(next=n, peak=n)
        current: int | None = n
        for stmt in stmts:
            if current is None:
                break
            e = self.stmt(stmt, current)
            exits.brk = _max(exits.brk, e.brk)
            exits.cont = _max(exits.cont, e.cont)
            exits.peak = max(exits.peak, e.peak)
            current = e.next
        exits.next = current
        return exits

    def expr(self, nodes: list[ast.AST | None], n: int, why: str = "") -> int:
        found = [y for node in nodes if node is not None for y in own_nodes(node) if isinstance(y, (ast.Yield, ast.YieldFrom))]
        for y in sorted(found, key=lambda y: (y.lineno, y.col_offset)):
            if n >= 1 and y not in self.second:
                self.second[y] = why
            n += 1
        return n

    def stmt(self, stmt: ast.stmt, n: int) -> Exits:  # noqa: C901 - one case per statement kind
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return Exits(next=n, peak=n)
        if isinstance(stmt, (ast.Return, ast.Raise)):
            m = self.expr([getattr(stmt, "value", None) or getattr(stmt, "exc", None)], n)
            return Exits(next=None, peak=m)
        if isinstance(stmt, ast.Break):
            return Exits(next=None, brk=n, peak=n)
        if isinstance(stmt, ast.Continue):
            return Exits(next=None, cont=n, peak=n)
        if isinstance(stmt, ast.If):
            m = self.expr([stmt.test], n)
            a, b = self.block(stmt.body, m), self.block(stmt.orelse, m)
            return Exits(_max(a.next, b.next), _max(a.brk, b.brk), _max(a.cont, b.cont), max(a.peak, b.peak))
        if isinstance(stmt, (ast.With, ast.AsyncWith)):
            m = self.expr([i.context_expr for i in stmt.items], n)
            return self.block(stmt.body, m)
        if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
            return self.loop(stmt, n)
        if isinstance(stmt, (ast.Try, ast.TryStar)):
            return self.try_(stmt, n)
        if isinstance(stmt, ast.Match):
            m = self.expr([stmt.subject], n)
            cases = [self.block(c.body, m) for c in stmt.cases]
            exhaustive = any(
                isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None and c.guard is None for c in stmt.cases
            )
            return Exits(
                _max(*(c.next for c in cases), None if exhaustive else m),
                _max(*(c.brk for c in cases)),
                _max(*(c.cont for c in cases)),
                max([m, *(c.peak for c in cases)]),
            )
        m = self.expr(list(ast.iter_child_nodes(stmt)), n)
        return Exits(next=m, peak=m)

    def loop(self, stmt: ast.For | ast.AsyncFor | ast.While, n: int) -> Exits:
        head = self.expr([stmt.iter if isinstance(stmt, (ast.For, ast.AsyncFor)) else stmt.test], n)
        first = self.block(stmt.body, head)
        again = _max(first.next, first.cont)
        exits = [first]
        if again is not None and again > head:
            before = set(self.second)
            exits.append(self.block(stmt.body, again))
            for y in set(self.second) - before:
                self.second[y] = "loop"
        forever = isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)
        finished = None if forever else _max(head, *(e.next for e in exits), *(e.cont for e in exits))
        after_else = self.block(stmt.orelse, finished) if finished is not None else Exits(next=None, peak=head)
        return Exits(
            _max(after_else.next, *(e.brk for e in exits)),
            after_else.brk,
            after_else.cont,
            max([after_else.peak, *(e.peak for e in exits)]),
        )

    def try_(self, stmt: ast.Try | ast.TryStar, n: int) -> Exits:
        body = self.block(stmt.body, n)
        orelse = self.block(stmt.orelse, body.next) if body.next is not None else Exits(next=None, peak=body.peak)
        handlers = [self.block(h.body, body.peak) for h in stmt.handlers]
        parts = [body, orelse, *handlers]
        normal = _max(orelse.next, *(h.next for h in handlers))
        if not stmt.finalbody:
            return Exits(
                normal,
                _max(*(p.brk for p in parts)),
                _max(*(p.cont for p in parts)),
                max(p.peak for p in parts),
            )
        peak = max(p.peak for p in parts)
        final = self.block(stmt.finalbody, peak)
        return Exits(
            final.next if normal is not None else None,
            _max(final.brk, *(p.brk for p in parts)) if final.next is not None else final.brk,
            _max(final.cont, *(p.cont for p in parts)) if final.next is not None else final.cont,
            final.peak,
        )


class MultipleYield(Rule):
    """
    ## What it does
    Flags a generator dependency that can `yield` more than once: two yields on one path,
    a yield in a loop that can come round again, a yield in an `except` or `finally` after
    the one in the `try`. The finding points at the second yield. Yields in exclusive
    branches (`if ...: yield a` / `else: yield b`, or a `return` right after the first)
    are fine.

    ## Why is this bad?
    FastAPI wraps a generator dependency in a context manager: it runs the body up to the
    first `yield`, injects that value, and at teardown expects the generator to finish. A
    second `yield` fails the request at teardown with `RuntimeError: generator didn't stop`
    (or `didn't stop after throw()` when the route raised), after the response may already
    have been started.

    ## Example
    ```python
    def get_db():
        for url in (PRIMARY, REPLICA):
            with connect(url) as conn:
                yield conn
    ```

    ## Use instead
    ```python
    def get_db():
        with connect(PRIMARY) as conn:
            yield conn
    ```
    (choose the one value first, then yield it once).
    """

    code = "FDL106"
    name = "multiple-yield"
    summary = "Yield exactly once on every path of a dependency."

    def check(self, ctx: Context) -> Iterator[Finding]:
        for body in dependency_bodies(ctx, generators=True):
            counter = YieldCounter()
            counter.block(body.tree.body, 0)
            if not counter.second:
                continue
            y = min(counter.second, key=lambda node: (node.lineno, node.col_offset))
            loop = counter.second[y] == "loop"
            where = "in a loop that can run it again" if loop else "after an earlier yield on the same path"
            yield self.at(
                body.path,
                loc(y),
                f"dependency `{body.fn.name}` can yield a second time here ({where}); FastAPI expects exactly one "
                "yield and fails the request at teardown with `RuntimeError: generator didn't stop`",
                symbol=body.fn.qualname,
            )
