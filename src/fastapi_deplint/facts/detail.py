"""Function bodies on demand, for the few rules that need statement structure.

The per-file facts (`facts.extract`) are deliberately small: they cross process boundaries and
the cache, so they hold what most rules need for every function (calls, names, returns,
yields). A handful of rules need the *shape* of a body — what runs after a `yield`, which
`except` surrounds it, whether a `finally` closes the returned value — but only for a few
functions (generator dependencies, dependencies with `finally`, test fixtures). Those rules
ask for the function's `ast` node here: the file is re-read and re-parsed (safely, like the
first time), and a few recent trees are kept.
"""

from __future__ import annotations

import ast
from collections import OrderedDict

from .model import Function

_CACHE_SIZE = 256  # trees of the files rules asked about; each file is parsed at most once per run
_trees: OrderedDict[str, ast.Module | None] = OrderedDict()

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def module_tree(path: str) -> ast.Module | None:
    """The parsed module at `path`, or None when it cannot be read or parsed."""
    if path in _trees:
        _trees.move_to_end(path)
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


def function_node(path: str, fn: Function) -> FunctionNode | None:
    """The `def` of `fn` in the file at `path` (matched by line and name)."""
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


def clear() -> None:
    _trees.clear()
