"""FDL105 yield-swallows-exception."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from ..facts import detail
from ..graph.resolve import RFunc
from ._lifecycle import Body, always_raises, dependency_bodies, dotted, loc, own_body_nodes, text, yields_in
from .base import Context, Finding, Rule

IGNORED = frozenset({"GeneratorExit"})  # thrown by close(), not by the route
NORETURN_ANNOTATIONS = frozenset({"NoReturn", "Never"})


class YieldSwallowsException(Rule):
    """
    ## What it does
    Flags an `except` clause around the `yield` of a generator dependency that can finish
    without raising: it logs, rolls back, returns or does nothing, and the exception is gone.
    The finding points at the `except`.

    ## Why is this bad?
    When the route raises, FastAPI throws the exception into the dependency at its `yield`.
    If the dependency catches it and does not raise again, the error disappears: FastAPI has
    no response to send and fails with `FastAPIError: Response not awaited`, the client gets
    a bare 500 and the logs do not show the route's real error (FastAPI documents this in
    "Dependencies with yield and except"). The handler also catches `HTTPException`s the
    route meant to send.

    A handler re-raises when every path through it ends in `raise`: a bare `raise`,
    `raise X from e`, raising an `HTTPException` instead, or calling a project function that
    always raises (or is annotated `NoReturn`). `except GeneratorExit` is not an error from
    the route and is ignored.

    ## Example
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        except SQLAlchemyError:
            db.rollback()
        finally:
            db.close()
    ```

    ## Use instead
    ```python
    def get_db():
        db = SessionLocal()
        try:
            yield db
        except SQLAlchemyError:
            db.rollback()
            raise
        finally:
            db.close()
    ```
    """

    code = "FDL105"
    name = "yield-swallows-exception"
    summary = "Re-raise at the end of the `except` around `yield` (`raise`)."

    def check(self, ctx: Context) -> Iterator[Finding]:
        for body in dependency_bodies(ctx, generators=True):
            for handler in self._swallowing_handlers(ctx, body):
                clause = f"except {text(handler.type)}" if handler.type is not None else "except:"
                yield self.at(
                    body.path,
                    loc(handler),
                    f"`{clause}` around `yield` in dependency `{body.fn.name}` does not re-raise: an error "
                    "raised by the route is swallowed and FastAPI fails with \"Response not awaited\" (a bare 500 "
                    "without the real error); end the handler with `raise`",
                    symbol=body.fn.qualname,
                )

    def _swallowing_handlers(self, ctx: Context, body: Body) -> Iterator[ast.ExceptHandler]:
        for node in own_body_nodes(body.tree):
            if not (isinstance(node, (ast.Try, ast.TryStar))):
                continue
            if not any(yields_in(stmt) for stmt in node.body):
                continue
            for handler in node.handlers:
                if self._ignored(handler) or any(yields_in(stmt) for stmt in handler.body):
                    continue  # a second yield in the handler is FDL106's finding
                if not always_raises(handler.body, lambda call: self._never_returns(ctx, body, call)):
                    yield handler

    @staticmethod
    def _ignored(handler: ast.ExceptHandler) -> bool:
        if handler.type is None:
            return False
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        return all((dotted(k) or "").rsplit(".", 1)[-1] in IGNORED for k in kinds)

    @staticmethod
    def _never_returns(ctx: Context, body: Body, call: ast.Call) -> bool:
        """A project function that always raises (`raise_http_error(e)`), or is annotated so."""
        resolver = ctx.graph.resolver
        name = dotted(call.func)
        if resolver is None or name is None:
            return False
        target = resolver.resolve(body.module, body.fn.qualname, name)
        if not isinstance(target, RFunc):
            return False
        facts = ctx.graph.modules.get(target.module)
        fn = facts.functions.get(target.qualname) if facts else None
        if fn is None or facts is None:
            return False
        ann = fn.returns_annotation
        ann_name = getattr(ann, "dotted", "") or ""
        if ann_name.rsplit(".", 1)[-1] in NORETURN_ANNOTATIONS:
            return True
        tree = detail.function_node(facts.path, fn)
        return tree is not None and always_raises(tree.body)
