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
        self.bindings: dict[str, set[str]] = {}  # name -> "mod.attr" for imports, "" for anything else
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
                for alias in statement.names:
                    if alias.name != "*":
                        self.from_imports.setdefault((statement.module, alias.name), alias.asname or alias.name)
            elif isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname is not None or "." not in alias.name:
                        self.module_aliases.setdefault(alias.name, alias.asname or alias.name)
        for node in ast.walk(tree):
            self._scan(node)

    def _bind(self, name: str | None, what: str = "") -> None:
        if name:
            self.bindings.setdefault(name, set()).add(what)

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


def _is_docstring(statement: cst.BaseStatement) -> bool:
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
    return isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.ConcatenatedString))


def _is_future(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and any(
        isinstance(s, cst.ImportFrom) and _module_name(s.module) == "__future__" for s in statement.body
    )


def _extendable(statement: cst.BaseStatement, module_name: str) -> cst.ImportFrom | None:
    """A one-line, unparenthesised `from module_name import a, b` at top level."""
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


def _imported_module(statement: cst.BaseStatement) -> str | None:
    """The module a top-level import line imports from (None when it is not an import)."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and statement.body else None
    if isinstance(small, cst.ImportFrom):
        return "." if small.relative else (_module_name(small.module) or ".")
    if isinstance(small, cst.Import):
        return _module_name(small.names[0].name) or "."
    return None


def _sorted_position(body: list[cst.BaseStatement], start: int, source: str) -> int | None:
    """Where `from source import ...` goes among the standard-library imports that open the
    file (isort's default order: `import x` lines, then `from x import` lines by module), or
    None when the file does not open with standard-library imports."""
    end = start
    while end < len(body) and (imported := _imported_module(body[end])) is not None and _stdlib(imported):
        if end > start and any(line.comment is None for line in body[end].leading_lines):
            break  # a blank line ends the group
        end += 1
    if end == start:
        return None
    for i in range(start, end):
        small = body[i].body[0]  # type: ignore[attr-defined]
        if isinstance(small, cst.ImportFrom) and (_module_name(small.module) or "").lower() > source.lower():
            return i
    return end


def _stdlib(module: str) -> bool:
    return module.split(".", 1)[0] in sys.stdlib_module_names


def add_imports(module: cst.Module, needs: Iterable[tuple[str, str]]) -> cst.Module:
    """`module` with `from MODULE import NAME` for each need (existing ones are kept)."""
    wanted: dict[str, list[str]] = {}
    for source, name in needs:
        if name not in wanted.setdefault(source, []):
            wanted[source].append(name)
    if not wanted:
        return module
    body = list(module.body)
    for source, names in wanted.items():
        for i, statement in enumerate(body):
            existing = _extendable(statement, source)
            if existing is not None:
                assert isinstance(statement, cst.SimpleStatementLine)
                body[i] = statement.with_changes(body=[_with_names(existing, names)])
                break
        else:
            index = 0
            while index < len(body) and (_is_future(body[index]) or (index == 0 and _is_docstring(body[index]))):
                index += 1
            line = cst.SimpleStatementLine(
                body=[cst.ImportFrom(module=cst.parse_expression(source), names=[cst.ImportAlias(name=cst.Name(n)) for n in names])]  # type: ignore[arg-type]
            )
            sorted_at = _sorted_position(body, index, source)
            if sorted_at is not None:  # inside the leading standard-library imports, in isort's order
                body.insert(sorted_at, line)
                continue
            if index < len(body):
                following = body[index]
                line = line.with_changes(leading_lines=following.leading_lines)
                imported = _imported_module(following)
                if imported is None:  # code follows: a blank line (two before a def or class)
                    gap = [cst.EmptyLine()] * (2 if isinstance(following, (cst.FunctionDef, cst.ClassDef)) else 1)
                else:  # our imports are standard library: a blank line before a third-party group
                    gap = [] if _stdlib(imported) == _stdlib(source) else [cst.EmptyLine()]
                body[index] = following.with_changes(leading_lines=gap)
            elif index > 0:
                line = line.with_changes(leading_lines=[cst.EmptyLine()])
            body.insert(index, line)
    return module.with_changes(body=body)
