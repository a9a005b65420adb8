"""Function bodies on demand, for the few rules that need statement structure.

The per-file facts (`facts.extract`) are deliberately small: they cross process boundaries and
the cache, so they hold what most rules need for every function (calls, names, returns,
yields). A handful of rules need the *shape* of a body — what runs after a `yield`, which
`except` surrounds it, whether a `finally` closes the returned value — but only for a few
functions (generator dependencies, dependencies with `finally`, test fixtures). Those rules
ask for the function's `ast` node here: the file is re-read and only the function's own lines
are parsed again (safely, like the first time; measured on the benchmark corpus: parsing whole
modules for this was a quarter of FDL302's time). Whole trees are kept for the rules that
walk a whole module (test files for FDL601).
"""

from __future__ import annotations

import ast
from collections import OrderedDict

from ..read_log import note_read
from .model import Function, first_line

_CACHE_SIZE = 256  # trees (or lines) of the files rules asked about, most recent first
_trees: OrderedDict[str, ast.Module | None] = OrderedDict()
_lines: OrderedDict[str, list[str] | None] = OrderedDict()

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_functions: dict[tuple[str, int, str], FunctionNode] = {}  # (path, def line, name) -> its node


def module_tree(path: str) -> ast.Module | None:
    """The parsed module at `path`, or None when it cannot be read or parsed."""
    if path in _trees:
        _trees.move_to_end(path)
        note_read(path)  # what the tree was read from counts as read by this run
        return _trees[path]
    from ..source import decode, parse_text, read_source  # local: source imports the extractor

    tree: ast.Module | None
    try:
        tree = parse_text(decode(read_source(path)), path)  # never blocks on a FIFO swapped in
    except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):
        tree = None
    _trees[path] = tree
    if len(_trees) > _CACHE_SIZE:
        _trees.popitem(last=False)
    return tree


def source_lines(path: str) -> list[str] | None:
    """The lines of the file at `path` as Python counts them, or None when it cannot be read."""
    if path in _lines:
        _lines.move_to_end(path)
        note_read(path)
        return _lines[path]
    from ..source import LINE_BREAK, decode, read_source

    lines: list[str] | None
    try:
        lines = LINE_BREAK.split(decode(read_source(path)))
    except (OSError, ValueError):
        lines = None
    _lines[path] = lines
    if len(_lines) > _CACHE_SIZE:
        _lines.popitem(last=False)
    return lines


def function_node(path: str, fn: Function) -> FunctionNode | None:
    """The `def` of `fn` in the file at `path` (matched by line and name)."""
    key = (path, fn.loc[0], fn.name)
    if key in _functions:
        note_read(path)
        return _functions[key]
    if path not in _trees:
        own = _parse_function_lines(path, fn)
        if own is not None:
            if len(_functions) >= 16 * _CACHE_SIZE:
                _functions.clear()
            _functions[key] = own
            return own
    tree = module_tree(path)
    if tree is None:
        return None
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno == fn.loc[0] and node.name == fn.name:
            return node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                stack.append(child)
            elif isinstance(child, ast.excepthandler) or child.__class__.__name__ == "match_case":
                stack.append(child)
    return None


def _parse_function_lines(path: str, fn: Function) -> FunctionNode | None:
    """`fn` parsed from its own lines (decorators to the end of its body), positions as in the
    whole file; None when that does not give the same `def` (the file changed, say)."""
    from ..source import parse_text

    lines = source_lines(path)
    start = first_line(fn)
    if lines is None or not 1 <= start <= fn.loc[2] <= len(lines):
        return None
    segment = lines[start - 1 : fn.loc[2]]
    indented = segment[0][:1] in (" ", "\t", "\f")
    # an indented `def` (a method, a nested function) parses as the body of `if 1:`, which
    # keeps every column as it is in the file
    text = "\n".join(["if 1:", *segment] if indented else segment)
    try:
        tree = parse_text(text, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    node = tree.body[0] if tree.body else None
    if indented and isinstance(node, ast.If) and node.body:
        node = node.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name != fn.name:
        return None
    ast.increment_lineno(node, start - 2 if indented else start - 1)
    return node if node.lineno == fn.loc[0] else None


def clear() -> None:
    _trees.clear()
    _lines.clear()
    _functions.clear()
