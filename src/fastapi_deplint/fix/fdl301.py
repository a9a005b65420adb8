"""FDL301: a sync dependency that makes no blocking call -> `async def`.

Unsafe: the body then runs on the event loop instead of the threadpool, and code that calls
the function directly would get a coroutine (the rule already stays silent for functions
the project calls directly). Fixed only when:

- no call in the body may block (the rule's own purity analysis, asked again here, so a
  sync generator that closes a sync session is never made async);
- it has no decorator (`staticmethod`/`classmethod` aside) and is not `__call__`/`__init__`;
- as a generator: no `yield from` and no `return` with a value (both are syntax errors in an
  async generator); a `-> Iterator[T]`/`Generator[T, ...]`/`Iterable[T]` annotation becomes
  `AsyncIterator[T]`/`AsyncGenerator[T, S]`/`AsyncIterable[T]`, any other annotation on a
  generator is left alone and so is the function.
"""

from __future__ import annotations

import libcst as cst

from ..facts.model import Function
from ..rules.base import Finding
from .base import UNSAFE, FileContext, Fixer, NodeEdit, Plan, dotted, is_generator, own_nodes

TRANSPARENT = frozenset({"staticmethod", "classmethod"})
ASYNC_TYPES = {"Iterator": "AsyncIterator", "Iterable": "AsyncIterable", "Generator": "AsyncGenerator"}
TYPE_MODULES = ("collections.abc", "typing", "typing_extensions")


class MakeAsync(Fixer):
    code = "FDL301"

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        if not unsafe or ctx.graph is None or ctx.facts is None:
            return []
        result = []
        for finding in findings:
            plan = self._plan(finding, ctx)
            if plan is not None:
                result.append(plan)
        return result

    def _plan(self, finding: Finding, ctx: FileContext) -> Plan | None:
        fn = ctx.function_at(finding)
        facts_fn = ctx.function_facts(finding)
        if fn is None or facts_fn is None or fn.asynchronous is not None or fn.name.value in ("__call__", "__init__"):
            return None
        if any(dotted(d.decorator) not in TRANSPARENT for d in fn.decorators):
            return None
        if self._blocking(ctx, facts_fn):
            return None
        generator = is_generator(fn)
        edits: list[NodeEdit] = [(fn, _make_async)]
        spans = [(ctx.span(fn.name)[0], ctx.span(fn.name)[0])]
        imports: list[tuple[str, str]] = []
        if generator:
            for node in own_nodes(fn.body):
                if isinstance(node, cst.Yield) and isinstance(node.value, cst.From):
                    return None
                if isinstance(node, cst.Return) and node.value is not None:
                    return None
            if fn.returns is not None:
                swap = self._async_annotation(ctx, fn.returns.annotation)
                if swap is None:
                    return None
                edits.append(swap[0])
                spans.append(ctx.span(fn.returns))
                imports += swap[1]
        what = "generator" if generator else "function"
        return Plan([finding], UNSAFE, f"Make the dependency an `async def` {what}", spans, edits, imports)

    def __init__(self) -> None:
        self._purity: tuple[object, object] | None = None  # (graph, its Purity): memoised per lint

    def _blocking(self, ctx: FileContext, fn: Function) -> bool:
        from ..rules.fdl301_sync_dependency import Purity

        assert ctx.graph is not None and ctx.facts is not None
        if self._purity is None or self._purity[0] is not ctx.graph:
            self._purity = (ctx.graph, Purity(ctx.graph))
        purity = self._purity[1]
        assert isinstance(purity, Purity)
        return purity.blocking_call(ctx.facts.module, fn) is not None

    @staticmethod
    def _async_annotation(ctx: FileContext, annotation: cst.BaseExpression) -> tuple[tuple, list[tuple[str, str]]] | None:
        """The edit turning `Iterator[T]`/`Generator[T, S, R]` into its async form."""
        if not isinstance(annotation, cst.Subscript):
            return None
        written = dotted(annotation.value)
        if written is None:
            return None
        head, _, last = written.rpartition(".")
        if last not in ASYNC_TYPES:
            return None
        if head:
            new_value, imports = f"{head}.{ASYNC_TYPES[last]}", []
        else:
            source = next((m for m in TYPE_MODULES if ctx.imports.from_imports.get((m, last)) == last), None)
            if source is None:
                return None
            spelled = ctx.imports.name_for(ASYNC_TYPES[last], (source, *[m for m in TYPE_MODULES if m != source]))
            if spelled is None:
                return None
            new_value, need = spelled
            imports = [need] if need else []
        elements = list(annotation.slice)
        if last == "Generator":
            if len(elements) != 3:
                return None
            return_type = elements[2].slice
            if not (isinstance(return_type, cst.Index) and isinstance(return_type.value, cst.Name) and return_type.value.value == "None"):
                return None
            elements = [elements[0], elements[1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]

        def edit(node: cst.CSTNode, value: str = new_value, elements: list = elements) -> cst.CSTNode:
            assert isinstance(node, cst.FunctionDef) and node.returns is not None
            new = cst.Subscript(value=cst.parse_expression(value), slice=elements)
            return node.with_changes(returns=node.returns.with_changes(annotation=new))

        return (annotation_owner(ctx, annotation), edit), imports


def annotation_owner(ctx: FileContext, annotation: cst.BaseExpression) -> cst.CSTNode:
    """The `def` whose return annotation this is (edits rewrite the def)."""
    found = ctx.enclosing(annotation, cst.FunctionDef)
    assert found is not None
    return found


def _make_async(node: cst.CSTNode) -> cst.CSTNode:
    assert isinstance(node, cst.FunctionDef)
    return node.with_changes(asynchronous=cst.Asynchronous())
