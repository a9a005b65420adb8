"""Turning `ast` expressions into the small resolvable expression tree of `facts.model`."""

from __future__ import annotations

import ast
import warnings

from .model import Call, Lit, Loc, Name, Opaque, Seq, Sub, X

MAX_DEPTH = 8
MAX_ITEMS = 64
MAX_CALL_CHAIN = 32


def loc_of(node: ast.AST) -> Loc:
    try:
        line, col = node.lineno, node.col_offset  # type: ignore[attr-defined]
    except AttributeError:
        return (1, 0, 1, 0)
    end_line, end_col = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
    return (line, col, end_line if end_line is not None else line, end_col if end_col is not None else col)


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` -> "a.b.c"; None when the chain is not rooted at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def callee_text(node: ast.expr, depth: int = 0) -> str:
    """Dotted callee; attribute calls on anything else keep their attribute tail: `?.query`.
    Chains of more than `MAX_CALL_CHAIN` calls start with `?` (bounded work on `f()()()...`)."""
    name = dotted_name(node)
    if name is not None:
        return name
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call) and depth < MAX_CALL_CHAIN:
        inner = callee_text(node.func, depth + 1)
        parts.append(f"{inner}()")
    else:
        parts.append("?")
    return ".".join(reversed(parts))


def to_x(node: ast.expr | None, depth: int = 0) -> X | None:
    if node is None:
        return None
    loc = loc_of(node)
    cls = node.__class__
    if cls is ast.Name:
        return Name(node.id, loc)  # type: ignore[attr-defined]
    if depth > MAX_DEPTH:
        return Opaque("deep", loc)
    if cls is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        if isinstance(value, (str, int, float, bool)) or value is None:
            return Lit(value, loc)
        return Opaque("constant", loc)
    if cls is ast.Attribute:
        dotted = dotted_name(node)
        if dotted is not None:
            return Name(dotted, loc)
        return Opaque("attribute", loc)
    if cls is ast.Call:
        func = to_x(node.func, depth + 1) or Opaque("call", loc)  # type: ignore[attr-defined]
        args = tuple(
            (to_x(a, depth + 1) if a.__class__ is not ast.Starred else Opaque("starred", loc_of(a))) or Opaque("?", loc)
            for a in node.args[:MAX_ITEMS]  # type: ignore[attr-defined]
        )
        kwargs = tuple((k.arg, to_x(k.value, depth + 1) or Opaque("?", loc)) for k in node.keywords[:MAX_ITEMS])  # type: ignore[attr-defined]
        return Call(func, args, kwargs, loc)
    if cls is ast.Subscript:
        value = to_x(node.value, depth + 1) or Opaque("?", loc)  # type: ignore[attr-defined]
        sl = node.slice  # type: ignore[attr-defined]
        elts = sl.elts if isinstance(sl, ast.Tuple) else [sl]
        items = tuple(to_x(e, depth + 1) or Opaque("?", loc) for e in elts[:MAX_ITEMS])
        return Sub(value, items, loc)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, (str, int, float, bool)) or value is None:
            return Lit(value, loc)
        return Opaque("constant", loc)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return Seq(tuple(to_x(e, depth + 1) or Opaque("?", loc) for e in node.elts[:MAX_ITEMS]), loc)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        # "/api" + "/v1" style prefixes
        left, right = to_x(node.left, depth + 1), to_x(node.right, depth + 1)
        if isinstance(left, Lit) and isinstance(right, Lit) and isinstance(left.value, str) and isinstance(right.value, str):
            return Lit(left.value + right.value, loc)
        if isinstance(left, Seq) and isinstance(right, Seq):
            return Seq(left.items + right.items, loc)
        return Opaque("binop", loc)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return Opaque("union", loc)
    if isinstance(node, ast.JoinedStr):
        return Opaque("fstring", loc)
    if isinstance(node, ast.Lambda):
        return Opaque("lambda", loc)
    if isinstance(node, ast.Starred):
        return Opaque("starred", loc)
    return Opaque(type(node).__name__, loc)


def x_text(x: X | None) -> str:
    """A canonical, location-free text of an expression (for "same arguments" comparisons)."""
    if x is None:
        return ""
    if isinstance(x, Name):
        return x.dotted
    if isinstance(x, Call):
        parts = [x_text(a) for a in x.args] + [f"{k or '**'}={x_text(v)}" for k, v in x.kwargs]
        return f"{x_text(x.func)}({', '.join(parts)})"
    if isinstance(x, Sub):
        return f"{x_text(x.value)}[{', '.join(x_text(i) for i in x.items)}]"
    if isinstance(x, Lit):
        return repr(x.value)
    if isinstance(x, Seq):
        return f"[{', '.join(x_text(i) for i in x.items)}]"
    return f"<{x.kind}>"


def parse_string_annotation(text: str, loc: Loc) -> X | None:
    """`"Annotated[User, Depends(f)]"` -> its expression tree, positioned at the string."""
    try:
        with warnings.catch_warnings():  # 3.12+ warns about `"list['\\d']"`: not ours to print
            warnings.simplefilter("ignore")
            node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for sub in ast.walk(node):
        if hasattr(sub, "lineno"):
            sub.lineno, sub.col_offset = loc[0], loc[1]  # type: ignore[attr-defined]
            sub.end_lineno, sub.end_col_offset = loc[2], loc[3]  # type: ignore[attr-defined]
    return to_x(node)
