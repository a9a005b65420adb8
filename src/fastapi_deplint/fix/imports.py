"""Names a fix writes (`Annotated`, `lru_cache`, `Iterator`) and the imports they need.

`Imports.name_for` answers how to spell `typing.Annotated` in a file: the name an existing
unconditional `from typing import Annotated [as A]` binds, else the bare name when nothing in
the file binds it to something else (the import is then added), else `typing.Annotated`
through an existing `import typing`. `add_imports` adds what is missing: into an existing
one-line `from MODULE import ...`, or as a new line after the docstring and `__future__`
imports.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Sequence

import libcst as cst


def _module_name(node: cst.BaseExpression | None) -> str | None:
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


class Imports:
    """What a module binds, read once per file from its `ast` (cheap, and it includes syntax
    libcst may not read)."""

    def __init__(self, tree: ast.Module) -> None:
        self.from_imports: dict[tuple[str, str], str] = {}  # unconditional, top level
        self.module_aliases: dict[str, str] = {}  # `import typing [as t]`, unconditional, top level
        self._tree = tree
        self._bindings: dict[str, set[str]] | None = None
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
                for alias in statement.names:
                    if alias.name != "*":
                        self.from_imports.setdefault((statement.module, alias.name), alias.asname or alias.name)
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname is not None or "." not in alias.name:
                        self.module_aliases.setdefault(alias.name, alias.asname or alias.name)

    @property
    def bindings(self) -> dict[str, set[str]]:
        """name -> what binds it anywhere in the file: "mod.attr" for imports, "" for
        anything else (walked on first use: most files never need it)."""
        if self._bindings is None:
            self._bindings = {}
            for node in ast.walk(self._tree):
                self._scan(node)
        return self._bindings

    def _bind(self, name: str | None, what: str = "") -> None:
        if name:
            assert self._bindings is not None
            self._bindings.setdefault(name, set()).add(what)

    def _scan(self, node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name != "*":
                    self._bind(alias.asname or alias.name, f"{source}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self._bind(alias.asname or alias.name.split(".", 1)[0], f"import {alias.name}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._bind(node.name)
        elif isinstance(node, ast.arg):
            self._bind(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            self._bind(node.id)
        elif isinstance(node, ast.ExceptHandler):
            self._bind(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                self._bind(name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
            self._bind(node.name)
        elif isinstance(node, ast.MatchMapping):
            self._bind(node.rest)

    def _only(self, local: str, name: str, modules: Sequence[str]) -> bool:
        allowed = {f"{m}.{name}" for m in modules}
        return all(what in allowed for what in self.bindings.get(local, ()))

    def free(self, name: str, modules: Sequence[str]) -> bool:
        """Nothing in the file binds `name` except imports of it from one of `modules`."""
        return self._only(name, name, modules)

    def name_for(
        self, name: str, modules: Sequence[str], prefer_module: bool = False
    ) -> tuple[str, tuple[str, str] | None] | None:
        """(how to write `modules[0].name` here, the import to add or None); None when the
        name is taken by something else and the module is not imported either.
        `prefer_module`: `functools.lru_cache` through an existing `import functools`
        rather than a new `from functools import lru_cache`."""
        for module in modules:
            bound = self.from_imports.get((module, name))
            if bound is not None and self._only(bound, name, modules):
                return bound, None
        through_module = self._through_module(name, modules)
        if prefer_module and through_module is not None:
            return through_module, None
        if self.free(name, modules):
            return name, (modules[0], name)
        return (through_module, None) if through_module is not None else None

    def _through_module(self, name: str, modules: Sequence[str]) -> str | None:
        for module in modules:
            alias = self.module_aliases.get(module)
            if alias is not None and not (self.bindings.get(alias, set()) - {f"import {module}"}):
                return f"{alias}.{name}"
        return None


# --- adding imports ---------------------------------------------------------------------------
# On the text, with the file's `ast` for positions: parsing a whole file with libcst only to add
# one line would cost more than all the fixes (and fail on syntax libcst does not know).

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # lines as Python counts them


def split_lines(text: str) -> list[str]:
    return _LINE.findall(text)


def _first_line(statement: ast.stmt) -> int:
    return min([statement.lineno, *(d.lineno for d in getattr(statement, "decorator_list", ()))])


def _is_docstring(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)


def _imported_module(statement: ast.stmt) -> str | None:
    """The module a top-level import imports from (None when it is not an import)."""
    if isinstance(statement, ast.ImportFrom):
        return "." if statement.level else (statement.module or ".")
    if isinstance(statement, ast.Import):
        return statement.names[0].name
    return None


def _stdlib(module: str) -> bool:
    return module.split(".", 1)[0] in sys.stdlib_module_names


def _extendable(statement: cst.BaseStatement, module_name: str) -> cst.ImportFrom | None:
    """A one-line, unparenthesised `from module_name import a, b`, alone on its line."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if (
        isinstance(small, cst.ImportFrom)
        and not small.relative
        and small.lpar is None
        and not isinstance(small.names, cst.ImportStar)
        and _module_name(small.module) == module_name
        and all(a.asname is None or isinstance(a.asname.name, cst.Name) for a in small.names)
    ):
        return small
    return None


def _with_names(node: cst.ImportFrom, names: Sequence[str]) -> cst.ImportFrom:
    aliases = list(node.names)  # type: ignore[arg-type]
    present = {_module_name(a.name) for a in aliases}
    keys = [(_module_name(a.name) or "").lower() for a in aliases]
    ordered = keys == sorted(keys)
    for name in names:
        if name in present:
            continue
        new = cst.ImportAlias(name=cst.Name(name))
        index = len(aliases)
        if ordered:
            index = next((i for i, a in enumerate(aliases) if (_module_name(a.name) or "").lower() > name.lower()), len(aliases))
        aliases.insert(index, new)
    comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    rebuilt = [a.with_changes(comma=comma) for a in aliases[:-1]] + [aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
    return node.with_changes(names=rebuilt)


def _extended_line(tree: ast.Module, lines: list[str], source: str, names: Sequence[str]) -> tuple[int, str] | None:
    """(line number, new text) extending an existing one-line `from source import ...`."""
    for statement in tree.body:
        if not (
            isinstance(statement, ast.ImportFrom)
            and not statement.level
            and statement.module == source
            and statement.lineno == statement.end_lineno
        ):
            continue
        line = lines[statement.lineno - 1]
        body = line.rstrip("\r\n")
        try:
            parsed = cst.parse_statement(body + "\n")
        except cst.ParserSyntaxError:
            continue  # shares its line with another statement, or a continuation
        small = _extendable(parsed, source)
        if small is not None:
            assert isinstance(parsed, cst.SimpleStatementLine)
            new = cst.Module(body=[]).code_for_node(parsed.with_changes(body=[_with_names(small, names)]))
            return statement.lineno, new.rstrip("\n") + line[len(body) :]
    return None


LineEdit = tuple[int, int, str]  # replace lines [start, end) (0-based) of the original by this text


def import_edits(tree: ast.Module, lines: list[str], needs: Iterable[tuple[str, str]]) -> list[LineEdit]:
    """Line edits of the original file adding `from MODULE import NAME` for each need: into
    an existing one-line `from MODULE import ...`, else a new line among the standard-library
    imports that open the file (isort's default order), else before the first statement
    after the docstring and `__future__` imports. Computed on the original `ast` and lines,
    so they combine with edits of later statements."""
    wanted: dict[str, list[str]] = {}
    for source, name in needs:
        if name not in wanted.setdefault(source, []):
            wanted[source].append(name)
    newline = next((line[len(line.rstrip("\r\n")) :] for line in lines if line.endswith(("\n", "\r"))), "\n")
    edits: list[LineEdit] = []
    inserts: dict[int, list[str]] = {}
    for source, names in wanted.items():
        extended = _extended_line(tree, lines, source, names)
        if extended is not None:
            edits.append((extended[0] - 1, extended[0], extended[1]))
            continue
        index, text = _new_line(tree, lines, source, names, newline)
        inserts.setdefault(index, []).append(text)
    for index, texts in inserts.items():
        if index >= len(lines) and lines and not lines[-1].endswith(("\n", "\r")):
            edits.append((len(lines) - 1, len(lines), lines[-1] + newline))
        edits.append((index, index, "".join(texts)))
    return edits


def _new_line(tree: ast.Module, lines: list[str], source: str, names: Sequence[str], newline: str) -> tuple[int, str]:
    new = f"from {source} import {', '.join(names)}{newline}"
    body = tree.body
    start = 1 if body and _is_docstring(body[0]) else 0
    while start < len(body) and isinstance(body[start], ast.ImportFrom) and body[start].module == "__future__":  # type: ignore[attr-defined]
        start += 1
    end = start
    while end < len(body) and (module := _imported_module(body[end])) is not None and _stdlib(module):
        if end > start and any(not line.strip() for line in lines[(body[end - 1].end_lineno or 1) : body[end].lineno - 1]):
            break  # a blank line ends the group
        end += 1
    if end > start:  # among the standard-library imports, in order
        before = next((s for s in body[start:end] if isinstance(s, ast.ImportFrom) and (s.module or "").lower() > source.lower()), None)
        return (before.lineno - 1 if before is not None else (body[end - 1].end_lineno or 1)), new
    if start < len(body):  # before the first statement (its comments stay above it)
        following = body[start]
        module = _imported_module(following)
        if module is None:
            new += newline * (2 if isinstance(following, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else 1)
        elif not _stdlib(module):
            new += newline
        return _first_line(following) - 1, new
    if start:  # nothing but a docstring and `__future__` imports
        return (body[start - 1].end_lineno or 1), newline + new
    return len(lines), new


def apply_line_edits(lines: list[str], edits: Iterable[LineEdit]) -> str:
    """Apply non-overlapping line edits (0-based, end exclusive) to the original lines."""
    result = list(lines)
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        result[start:end] = [text]
    return "".join(result)
