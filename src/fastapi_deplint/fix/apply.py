"""Applying plans to one file: libcst passes over the statements that carry findings, the
imports the plans need, and a check of the result before anyone may write it.

libcst's position metadata is costly on a whole file (0.3 s for 20 KB on libcst 1.0), so a
fixer never sees the whole file: each top-level statement that holds a finding (a `def`, a
class, an assignment, with its decorators) is cut out as whole lines, parsed on its own and
handed to the fixers with its line offset (`FileContext`); the rewritten statement is spliced
back in place. Imports are added on the text, placed with the file's `ast`. A statement that
libcst cannot parse (newer syntax) is skipped with a message, the rest of the file is still
fixed.

Plans whose regions overlap are not applied together: the first (in source order) wins and
the others wait for the next round, when the file is linted again. A result that does not
parse, or no longer compiles while the original did (`return` with a value in what became
an async generator, an `await` outside `async def`), is never returned: the plans are then
tried one at a time and only those that keep the file valid stay.
"""

from __future__ import annotations

import ast
import difflib
import io
import tokenize
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import libcst as cst

from ..facts.model import ModuleFacts
from ..graph.model import ProjectGraph
from ..source import decode, parse_text
from .base import FileContext, Plan, Span
from .imports import Imports, LineEdit, apply_line_edits, import_edits, split_lines


class CannotFix(Exception):
    """The file (or one statement of it) cannot be handled: unreadable, not decodable, or
    syntax libcst cannot parse."""


@dataclass(slots=True)
class SourceFile:
    path: str
    data: bytes
    text: str
    encoding: str
    lines: list[str]  # with their line breaks
    groups: list[tuple[int, int]]  # (first, last) line of each top-level statement (or several on shared lines)
    imports: Imports
    tree: ast.Module
    _contexts: dict[tuple[int, int], FileContext | CannotFix] = field(default_factory=dict)
    _args: dict[tuple[int, int], ast.arg] | None = None
    _compiles: bool | None = None
    _imports: dict[tuple[tuple[str, str], ...], list[LineEdit]] = field(default_factory=dict)

    @property
    def compiles(self) -> bool:
        """The original compiles with the running Python (asked only when a result does not)."""
        if self._compiles is None:
            self._compiles = _compiles(self.text, self.path)
        return self._compiles

    def import_edits(self, needs: Sequence[tuple[str, str]]) -> list[LineEdit]:
        key = tuple(sorted(set(needs)))
        if key not in self._imports:
            self._imports[key] = import_edits(self.tree, self.lines, key)
        return self._imports[key]

    def arg_at(self, line: int, col: int) -> ast.arg | None:
        """The `ast` parameter at a finding's position (column in characters): a cheap look
        before a statement is parsed with libcst."""
        if self._args is None:
            self._args = {(n.lineno, n.col_offset): n for n in ast.walk(self.tree) if isinstance(n, ast.arg)}
        if not 1 <= line <= len(self.lines):
            return None
        return self._args.get((line, len(self.lines[line - 1][:col].encode("utf-8"))))

    def group_of(self, line: int) -> tuple[int, int] | None:
        for first, last in self.groups:
            if first <= line <= last:
                return first, last
        return None

    def context(self, line: int, graph: ProjectGraph | None, facts: ModuleFacts | None) -> FileContext:
        """The parsed top-level statement around `line` (`CannotFix` when there is none or
        libcst cannot read it)."""
        group = self.group_of(line)
        if group is None:
            raise CannotFix(f"line {line} is not inside a statement")
        if group not in self._contexts:
            first, last = group
            snippet = "".join(self.lines[first - 1 : last])
            try:
                module = cst.parse_module(snippet)
            except cst.ParserSyntaxError:
                self._contexts[group] = CannotFix(
                    f"libcst {libcst_version()} cannot parse the statement at line {first} (syntax it does not know)"
                )
            except (RecursionError, MemoryError, ValueError) as exc:
                self._contexts[group] = CannotFix(f"libcst cannot parse the statement at line {first} ({type(exc).__name__})")
            else:
                try:
                    self._contexts[group] = FileContext(self.path, module, first - 1, last - first + 1, graph, facts, self.imports)
                except (RecursionError, MemoryError) as exc:  # libcst's codegen recurses per nesting level
                    self._contexts[group] = CannotFix(f"libcst cannot handle the statement at line {first} ({type(exc).__name__})")
        found = self._contexts[group]
        if isinstance(found, CannotFix):
            raise found
        return found


def _groups(tree: ast.Module) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for stmt in tree.body:
        first = min([stmt.lineno, *(d.lineno for d in getattr(stmt, "decorator_list", ()))])
        last = stmt.end_lineno or stmt.lineno
        if spans and first <= spans[-1][1]:  # `a = 1; b = 2`: statements sharing a line go together
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]))
        else:
            spans.append((first, last))
    return spans


def load(path: str, data: bytes) -> SourceFile:
    try:
        text = decode(data)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        tree = parse_text(text, path)
    except (ValueError, SyntaxError, RecursionError, MemoryError) as exc:
        raise CannotFix(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return SourceFile(path, data, text, encoding, split_lines(text), _groups(tree), Imports(tree), tree)


def _compiles(text: str, path: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(text, path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def libcst_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("libcst")
    except PackageNotFoundError:
        return "?"


def valid(source: SourceFile, text: str) -> bool:
    """The result compiles; or, when the original does not compile with this Python either
    (newer syntax), it parses back as the linter reads files."""
    if _compiles(text, source.path):
        return True
    if source.compiles:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parse_text(text, source.path)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return False
    return True


def _overlaps(a: Span, b: Span) -> bool:
    (a0, a1), (b0, b1) = a, b
    if a0 == a1 and b0 == b1:  # two insertions: only at the same point
        return a0 == b0
    if a0 == a1:  # an insertion point: only strictly inside the other region
        return b0 < a0 < b1
    if b0 == b1:
        return a0 < b0 < a1
    return a0 < b1 and b0 < a1


def compatible(plans: Sequence[Plan]) -> list[Plan]:
    """Plans in source order, without any whose regions overlap an earlier accepted one."""
    accepted: list[Plan] = []
    for plan in sorted(plans, key=lambda p: (p.start, p.findings[0].code)):
        if any(_overlaps(s, t) for other in accepted for s in plan.spans for t in other.spans):
            continue
        accepted.append(plan)
    return accepted


class _Rewrite(cst.CSTTransformer):
    """Applies the edits bottom-up, visiting only the paths from the statement down to the
    edited nodes (the rest of the tree is kept as it is)."""

    def __init__(self, ctx: FileContext, plans: Sequence[Plan]) -> None:
        super().__init__()
        self.edits: dict[int, list[Any]] = {}
        self.paths: set[int] = set()
        for plan in plans:
            for node, edit in plan.edits:
                self.edits.setdefault(id(node), []).append(edit)
                current: cst.CSTNode | None = node
                while current is not None and id(current) not in self.paths:
                    self.paths.add(id(current))
                    current = ctx.parent(current)

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.paths or isinstance(node, cst.Module)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        for edit in self.edits.get(id(original_node), ()):
            updated_node = edit(updated_node)
        return updated_node


def render(source: SourceFile, plans: Sequence[Plan]) -> str:
    """The file with `plans` applied (`CannotFix` when libcst cannot rebuild a statement)."""
    by_statement: dict[int, tuple[FileContext, list[Plan]]] = {}
    for plan in plans:
        assert plan.ctx is not None
        by_statement.setdefault(id(plan.ctx), (plan.ctx, []))[1].append(plan)
    edits: list[LineEdit] = []
    for ctx, chosen in by_statement.values():
        try:
            module = ctx.module.visit(_Rewrite(ctx, chosen))
            code = module.code
        except (RecursionError, MemoryError) as exc:
            raise CannotFix(f"libcst cannot rebuild the statement at line {ctx.offset + 1} ({type(exc).__name__})") from None
        edits.append((ctx.offset, ctx.offset + ctx.line_count, code))
    needs = [need for plan in plans for need in plan.imports]
    if needs:
        edits += source.import_edits(needs)
    return apply_line_edits(source.lines, edits)


@dataclass(slots=True)
class FileResult:
    text: str  # the new text (== original when nothing applied)
    applied: list[Plan] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # why some plans were not applied


def attempt(source: SourceFile, plans: Sequence[Plan]) -> str | None:
    try:
        text = render(source, plans)
    except CannotFix:
        return None
    return text if valid(source, text) else None


def apply_plans(source: SourceFile, plans: Sequence[Plan]) -> FileResult:
    """Apply the compatible plans; if the result is not valid, keep only the plans that
    leave it valid, added one at a time."""
    chosen = compatible(plans)
    if not chosen:
        return FileResult(source.text)
    text = attempt(source, chosen)
    if text is not None:
        return FileResult(text, chosen)
    kept: list[Plan] = []
    problems: list[str] = []
    text = source.text
    for plan in chosen:
        where = f"{plan.findings[0].code} at line {plan.findings[0].line}"
        try:
            candidate = render(source, [*kept, plan])
        except CannotFix as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not valid(source, candidate):
            problems.append(f"{where}: the result would not compile")
            continue
        kept.append(plan)
        text = candidate
    return FileResult(text, kept, problems)


def encode(source: SourceFile, text: str) -> bytes:
    return text.encode(source.encoding)


# --- edits and diffs, for reports ------------------------------------------------------------------


def line_edits(before: str | list[str], after: str | list[str], offset: int = 0) -> list[dict[str, Any]]:
    """The change as replacements of whole lines: `location`/`end_location` 1-based
    (row, column), `end_location` exclusive, as ruff's JSON writes them; `offset` is added
    to the rows (for a change computed on one statement)."""
    old = split_lines(before) if isinstance(before, str) else before
    new = split_lines(after) if isinstance(after, str) else after
    edits = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(
            {
                "content": "".join(new[j1:j2]),
                "location": {"row": offset + i1 + 1, "column": 1},
                "end_location": {"row": offset + i2 + 1, "column": 1},
            }
        )
    return edits


def plan_edits(source: SourceFile, plan: Plan) -> list[dict[str, Any]]:
    """The line edits of one plan, computed on its statement (and, for the imports it needs,
    once per file): cheap enough to describe every fixable finding of a large file."""
    ctx = plan.ctx
    assert ctx is not None
    module = ctx.module.visit(_Rewrite(ctx, [plan]))
    assert isinstance(module, cst.Module)
    edits = line_edits(source.lines[ctx.offset : ctx.offset + ctx.line_count], split_lines(module.code), ctx.offset)
    for start, end, text in source.import_edits(plan.imports) if plan.imports else ():
        edits += line_edits(source.lines[start:end], split_lines(text), start)
    return sorted(edits, key=lambda e: e["location"]["row"])


def unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(split_lines(before), split_lines(after), fromfile=path, tofile=path)
    out = []
    for line in lines:
        out.append(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    return "".join(out)
