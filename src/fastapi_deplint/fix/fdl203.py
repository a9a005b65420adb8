"""FDL203: add `@lru_cache` to a settings factory, importing it, safe.

`@lru_cache` on a module-level `def` without parameters builds the settings once (FastAPI's
documented pattern; `app.dependency_overrides` still replaces it in tests). Left alone:
`async def` (the cache would hold one coroutine, which cannot be awaited twice), methods,
functions with parameters (the cache would key on request values), generators, already
decorated functions (the order of decorators matters), and the `Depends(Settings)` class
dependency (it needs a new factory function).

Spelling: an existing `from functools import lru_cache` (or its alias), else
`functools.lru_cache` when the file imports `functools`, else `lru_cache` with a new
`from functools import lru_cache`.
"""

from __future__ import annotations

import functools

import libcst as cst

from ..rules.base import Finding
from .base import SAFE, FileContext, Fixer, Plan, is_generator


class CacheSettings(Fixer):
    code = "FDL203"

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        spelled = ctx.imports.name_for("lru_cache", ("functools",), prefer_module=True)
        if spelled is None:
            return []
        decorator, need = spelled
        result = []
        for finding in findings:
            fn = ctx.function_at(finding)
            if fn is None or not self._fixable(ctx, fn):
                continue
            start = ctx.span(fn)[0]
            result.append(
                Plan(
                    [finding],
                    SAFE,
                    f"Decorate `{fn.name.value}` with `@{decorator}`",
                    [(start, start)],
                    [(fn, functools.partial(_decorate, decorator=decorator))],
                    [need] if need else [],
                )
            )
        return result

    @staticmethod
    def _fixable(ctx: FileContext, fn: cst.FunctionDef) -> bool:
        p = fn.params
        has_params = bool(p.posonly_params or p.params or p.kwonly_params) or not isinstance(p.star_arg, cst.MaybeSentinel) or p.star_kwarg is not None
        return (
            fn.asynchronous is None
            and not fn.decorators
            and not has_params
            and isinstance(ctx.parent(fn), cst.Module)
            and not is_generator(fn)
        )


def _decorate(node: cst.CSTNode, decorator: str) -> cst.CSTNode:
    assert isinstance(node, cst.FunctionDef)
    return node.with_changes(decorators=[cst.Decorator(decorator=cst.parse_expression(decorator)), *node.decorators])
