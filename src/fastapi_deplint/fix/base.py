"""What every fixer works with: one top-level statement of a file as a libcst tree with
positions, and the `Plan` a fixer returns for a group of findings.

A fixer never edits text. It finds the nodes a finding points at (findings carry 1-based
lines and 0-based character columns, as libcst's positions do; the context adds the line
offset of its statement), checks that the shape is one it is sure of, and returns a `Plan`:
functions that rewrite those nodes, the source regions they rewrite (so the driver can keep
overlapping fixes apart) and the imports they need. The driver applies the plans of one
file in one pass, adds the imports, and checks the result before anything is written.
"""

from __future__ import annotations

import ast
import textwrap
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

import libcst as cst

with warnings.catch_warnings():  # libcst 1.0's metadata package imports deprecated mypy_extensions names
    warnings.simplefilter("ignore", DeprecationWarning)
    from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from ..facts.model import Function, ModuleFacts
from ..graph.model import ProjectGraph
from ..rules.base import Finding
from .imports import Imports

if TYPE_CHECKING:
    from .apply import SourceFile

N = TypeVar("N", bound=cst.CSTNode)
Pos = tuple[int, int]  # (1-based line, 0-based character column) in the file
Span = tuple[Pos, Pos]
NodeEdit = tuple[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]

SAFE, UNSAFE = "safe", "unsafe"


@dataclass(eq=False)
class Plan:
    """One fix: rewrites that remove `findings` together (all or nothing)."""

    findings: list[Finding]
    applicability: str  # SAFE | UNSAFE
    message: str  # what the fix does, one line ("Convert to `Annotated[...]`")
    spans: list[Span]  # the original regions the edits rewrite (never two plans on one region)
    edits: list[NodeEdit]  # (original node, rewrite of its updated copy)
    imports: list[tuple[str, str]] = field(default_factory=list)  # `from MODULE import NAME` to ensure
    ctx: FileContext | None = None  # the statement the edits belong to (set by the driver)

    @property
    def start(self) -> Pos:
        return min(s[0] for s in self.spans) if self.spans else (0, 0)


class FileContext:
    """One top-level statement of a file (lines `offset + 1` to `offset + line_count`),
    parsed on its own, with positions and parents; its file's facts, graph and imports."""

    def __init__(
        self,
        path: str,
        module: cst.Module,
        offset: int,
        line_count: int,
        graph: ProjectGraph | None,
        facts: ModuleFacts | None,
        imports: Imports,
    ) -> None:
        self.path = path
        self.offset = offset
        self.line_count = line_count
        self.wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self.module = self.wrapper.module
        self.positions: Mapping[cst.CSTNode, CodeRange] = _positions(self.wrapper)
        self._parents: dict[int, cst.CSTNode] = {}  # found on demand (libcst's provider walks everything)
        self.graph = graph
        self.facts = facts
        self.imports = imports
        self._starts: dict[tuple[type, Pos], list[cst.CSTNode]] | None = None

    # -- finding nodes (positions in file coordinates) --------------------------------------------
    def _index(self) -> dict[tuple[type, Pos], list[cst.CSTNode]]:
        if self._starts is None:
            starts: dict[tuple[type, Pos], list[cst.CSTNode]] = {}
            for node, where in self.positions.items():
                starts.setdefault((type(node), (where.start.line + self.offset, where.start.column)), []).append(node)
            self._starts = starts
        return self._starts

    def node_at(self, kind: type[N], line: int, col: int) -> N | None:
        """The outermost node of `kind` that starts at (line, col)."""
        found = self._index().get((kind, (line, col)), [])
        if not found:
            return None
        return found[0] if len(found) == 1 else self._outermost(found)  # type: ignore[return-value]

    def _outermost(self, nodes: list[cst.CSTNode]) -> cst.CSTNode:
        inner = set()
        for node in nodes:
            parent = self.parent(node)
            while parent is not None:
                if parent in nodes:
                    inner.add(node)
                    break
                parent = self.parent(parent)
        return next(n for n in nodes if n not in inner)

    def function_at(self, finding: Finding) -> cst.FunctionDef | None:
        """The `def` a definition finding points at: its name is on the finding's line and
        is the last part of the finding's symbol."""
        name = finding.symbol.rsplit(".", 1)[-1] if finding.symbol else None
        found = [
            n
            for n in self.positions
            if isinstance(n, cst.FunctionDef)
            and self.positions[n.name].start.line + self.offset == finding.line
            and (name is None or n.name.value == name)
        ]
        return found[0] if len(found) == 1 else None

    def span(self, node: cst.CSTNode) -> Span:
        where = self.positions[node]
        return (where.start.line + self.offset, where.start.column), (where.end.line + self.offset, where.end.column)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The node's parent, found by descending from the statement along the children
        whose source range holds the node's (and remembered on the way)."""
        if id(node) in self._parents or node is self.module:
            return self._parents.get(id(node))
        target = self.positions.get(node)
        if target is None:
            return None
        current: cst.CSTNode = self.module
        while True:
            children = current.children
            for child in children:
                self._parents[id(child)] = current
            if any(child is node for child in children):
                return current
            inside = [c for c in children if self._holds(c, target)]
            if not inside:  # a range that does not hold all its children (libcst 1.0's `Param`)
                return self._search(current, node)
            current = inside[-1] if len(inside) > 1 and self._empty(inside[0]) else inside[0]

    def _search(self, root: cst.CSTNode, node: cst.CSTNode) -> cst.CSTNode | None:
        stack = [root]
        while stack:
            current = stack.pop()
            for child in current.children:
                self._parents[id(child)] = current
                if child is node:
                    return current
                stack.append(child)
        return None

    def _holds(self, outer: cst.CSTNode, inner: CodeRange) -> bool:
        where = self.positions.get(outer)
        if where is None:
            return False
        start, end = (where.start.line, where.start.column), (where.end.line, where.end.column)
        return start <= (inner.start.line, inner.start.column) and (inner.end.line, inner.end.column) <= end

    def _empty(self, node: cst.CSTNode) -> bool:
        where = self.positions.get(node)
        return where is None or (where.start.line, where.start.column) == (where.end.line, where.end.column)

    def enclosing(self, node: cst.CSTNode, kind: type[N]) -> N | None:
        current = self.parent(node)
        while current is not None and not isinstance(current, kind):
            current = self.parent(current)
        return current

    def code(self, node: cst.CSTNode) -> str:
        return self.module.code_for_node(node)

    def statement_ast(self, node: cst.CSTNode) -> ast.Module | None:
        """A statement's `ast` (for predicates shared with the rules, which work on `ast`)."""
        try:
            return ast.parse(textwrap.dedent(self.code(node)).strip() + "\n")
        except (SyntaxError, ValueError, RecursionError):
            return None

    def parse_statement(self, code: str) -> cst.BaseStatement:
        """A statement in this file's indentation and newline style."""
        return cst.parse_statement(code, config=self.module.config_for_parsing)

    # -- facts --------------------------------------------------------------------------------
    def function_facts(self, finding: Finding) -> Function | None:
        if self.facts is None or not finding.symbol:
            return None
        fn = self.facts.functions.get(finding.symbol)
        return fn if fn is not None and fn.loc[0] == finding.line else None


def _positions(wrapper: MetadataWrapper) -> Mapping[cst.CSTNode, CodeRange]:
    """libcst's positions. `wrapper.resolve` also walks the whole tree once more for the
    batchable providers even when none is asked for (libcst 1.0): the provider alone is
    enough, and half the cost; the documented way remains the fallback."""
    try:
        return cast(Mapping[cst.CSTNode, CodeRange], PositionProvider()._gen(wrapper))
    except AttributeError:
        return wrapper.resolve(PositionProvider)


class Fixer:
    """Subclasses set `code` and return plans for the findings of their code in one statement."""

    code: ClassVar[str]

    def wanted(self, finding: Finding, source: SourceFile) -> bool:
        """A cheap look (on the file's `ast`) whether a fix may apply at all, before the
        statement is parsed with libcst; True when unsure."""
        return True

    def plans(self, findings: list[Finding], ctx: FileContext, unsafe: bool) -> list[Plan]:
        """`unsafe`: whether plans that change behaviour may be returned."""
        raise NotImplementedError


# --- small libcst helpers shared by fixers ------------------------------------------------------

SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def own_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `root` that belongs to its scope: nested functions, classes and
    lambdas are skipped (comprehensions are walked: their `yield`/`await` count)."""
    stack: list[cst.CSTNode] = list(root.children)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, SCOPES):
            stack.extend(node.children)


def function_body(fn: cst.FunctionDef) -> list[cst.BaseStatement] | None:
    """The statements of `fn` when its body is an indented block (not `def f(): ...` on one line)."""
    return list(fn.body.body) if isinstance(fn.body, cst.IndentedBlock) else None


def is_generator(fn: cst.FunctionDef) -> bool:
    return any(isinstance(n, (cst.Yield,)) for n in own_nodes(fn.body))


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a name/attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def names_in(root: cst.CSTNode) -> set[str]:
    """Every identifier used or bound under `root` (nested scopes included)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            found.add(node.value)
        stack.extend(node.children)
    return found


def name_expr(text: str) -> cst.BaseExpression:
    """`Annotated` or `typing.Annotated` as an expression."""
    return cst.parse_expression(text)


def single_statement(line: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    """The one small statement of a simple line (`return x`), else None (`a; b`)."""
    if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
        return line.body[0]
    return None
