"""FDL701: `x: T = Depends(f)` -> `x: Annotated[T, Depends(f)]`, importing `Annotated`.

The parameter loses its default, so Python's rule "no parameter without a default after one
with a default" decides what can move, per function:

- keyword-only parameters (after `*` or `*args`) always convert (safe);
- a positional parameter converts when no positional parameter before it keeps a default
  (safe); the dependency's value, its order among the dependencies and every keyword call
  stay the same;
- a positional parameter after one that keeps its default (`q: str = None, db: Session =
  Depends(get_db)`, the documentation's own shape) converts only by making the parameters
  from that default on keyword-only with a `*` (unsafe: a caller passing them by position
  breaks; FastAPI itself always passes them by keyword).

Not converted: parameters without an annotation (the type is the user's to choose), a
`Depends()` without a dependency whose annotation is a string (the class must be a real
name), lambdas, and positional-only parameters that would need a `*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import libcst as cst

from ..rules.base import Finding
from .base import SAFE, UNSAFE, FileContext, Fixer, NodeEdit, Plan

if TYPE_CHECKING:
    from .apply import SourceFile

TYPING = ("typing", "typing_extensions")


class DependsToAnnotated(Fixer):
    code = "FDL701"

    def wanted(self, finding: Finding, source: SourceFile) -> bool:
        arg = source.arg_at(finding.line, finding.col)
        return arg is None or arg.annotation is not None  # no type to put in `Annotated[...]`

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        by_function: dict[cst.Parameters, dict[cst.Param, Finding]] = {}
        for finding in findings:
            name = ctx.node_at(cst.Name, finding.line, finding.col)
            param = ctx.parent(name) if name is not None else None
            if not isinstance(param, cst.Param) or param.name is not name:
                continue
            params = ctx.parent(param)
            if isinstance(params, cst.Parameters) and isinstance(ctx.parent(params), cst.FunctionDef):
                by_function.setdefault(params, {})[param] = finding
        spelled = ctx.imports.name_for("Annotated", self._modules(ctx))
        if spelled is None:
            return []
        annotated, need = spelled
        result: list[Plan] = []
        for params, wanted in by_function.items():
            result += self._function_plans(ctx, params, wanted, annotated, need, unsafe)
        return result

    @staticmethod
    def _modules(ctx: FileContext) -> tuple[str, ...]:
        """`typing_extensions` first when the file already takes `Annotated` from there."""
        if ("typing_extensions", "Annotated") in ctx.imports.from_imports and ("typing", "Annotated") not in ctx.imports.from_imports:
            return ("typing_extensions", "typing")
        return TYPING

    def _function_plans(
        self,
        ctx: FileContext,
        params: cst.Parameters,
        wanted: dict[cst.Param, Finding],
        annotated: str,
        need: tuple[str, str] | None,
        unsafe: bool,
    ) -> list[Plan]:
        convertible = {p for p in wanted if self._convertible(p)}
        positional = [*params.posonly_params, *params.params]
        safe: list[cst.Param] = [p for p in params.kwonly_params if p in convertible]
        star_before: cst.Param | None = None  # `*` goes before this parameter (unsafe)
        needs_star: list[cst.Param] = []
        kept_default: cst.Param | None = None
        for p in positional:
            if p in convertible and kept_default is None:
                safe.append(p)
            elif p in convertible:
                needs_star.append(p)
            elif p.default is not None and kept_default is None:
                kept_default = p
        if needs_star and (
            not unsafe
            or not isinstance(params.star_arg, cst.MaybeSentinel)  # `*args` or a bare `*` already there
            or kept_default in params.posonly_params
        ):
            needs_star = []
        if needs_star:
            star_before = kept_default
        plans: list[Plan] = []
        safe_plan = self._plan(ctx, params, safe, wanted, annotated, need, None, SAFE) if safe else None
        if needs_star:
            # one plan: the `*` only makes sense with every conversion it enables
            plans.append(self._plan(ctx, params, safe + needs_star, wanted, annotated, need, star_before, UNSAFE))
        elif safe_plan is not None:
            plans.append(safe_plan)
        return plans

    @staticmethod
    def _convertible(param: cst.Param) -> bool:
        if param.annotation is None or param.default is None or param.star not in ("", cst.MaybeSentinel.DEFAULT):
            return False
        default = param.default
        if isinstance(param.annotation.annotation, (cst.SimpleString, cst.ConcatenatedString)):
            if isinstance(default, cst.Call) and not default.args:
                return False  # `Depends()` takes the class from the annotation: it must stay a real name
        return True

    def _plan(
        self,
        ctx: FileContext,
        params: cst.Parameters,
        converted: list[cst.Param],
        wanted: dict[cst.Param, Finding],
        annotated: str,
        need: tuple[str, str] | None,
        star_before: cst.Param | None,
        applicability: str,
    ) -> Plan:
        # one edit of the whole parameter list: libcst checks the order of defaults whenever
        # it rebuilds `Parameters`, so the conversions and the `*` must happen together
        names = frozenset(p.name.value for p in converted)
        before = star_before.name.value if star_before is not None else None
        edits: list[NodeEdit] = [(params, lambda node: _convert(node, names, annotated, before))]
        spans = [ctx.span(p) for p in converted]
        if star_before is not None:
            spans.append(ctx.span(params))
        message = "Convert to `Annotated[T, Depends(...)]`"
        if star_before is not None:
            message += f" and make the parameters from `{star_before.name.value}` on keyword-only"
        findings = sorted((wanted[p] for p in converted), key=lambda f: (f.line, f.col))
        return Plan(findings, applicability, message, spans, edits, [need] if need else [])


def _convert(node: cst.CSTNode, names: frozenset[str], annotated: str, star_before: str | None) -> cst.CSTNode:
    assert isinstance(node, cst.Parameters)

    def each(params: Sequence[cst.Param]) -> list[cst.Param]:
        return [_to_annotated(p, annotated) if p.name.value in names else p for p in params]

    posonly, positional, kwonly = each(node.posonly_params), each(node.params), each(node.kwonly_params)
    star = node.star_arg
    if star_before is not None:
        index = [p.name.value for p in positional].index(star_before)
        moved = positional[index:]
        # the `*` takes the separator style of the parameter it precedes (`, ` or a new line)
        separator = moved[0].comma.whitespace_after if isinstance(moved[0].comma, cst.Comma) else cst.SimpleWhitespace(" ")
        star = cst.ParamStar(comma=cst.Comma(whitespace_after=separator))
        positional, kwonly = positional[:index], [*moved, *kwonly]
    return node.with_changes(posonly_params=posonly, params=positional, star_arg=star, kwonly_params=kwonly)


def _to_annotated(node: cst.Param, annotated: str) -> cst.Param:
    assert node.annotation is not None and node.default is not None
    subscript = cst.Subscript(
        value=cst.parse_expression(annotated),
        slice=[
            cst.SubscriptElement(
                slice=cst.Index(value=node.annotation.annotation),
                comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            ),
            cst.SubscriptElement(slice=cst.Index(value=node.default)),
        ],
    )
    return node.with_changes(
        annotation=node.annotation.with_changes(annotation=subscript),
        equal=cst.MaybeSentinel.DEFAULT,
        default=None,
    )
