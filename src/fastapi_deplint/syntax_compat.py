"""Reading code written for a newer Python than the one running the linter.

Three kinds of newer syntax sit in real FastAPI projects and can be read safely on Python 3.11:

- Python 3.12's `type Alias = ...` statements (PEP 695): read as an assignment and marked as
  a type alias, as `ast.TypeAlias` is on 3.12+;
- PEP 695 type parameters, `def f[T](x: T)` and `class Box[T]:`, and 3.13's defaults
  (`[T = int]`, PEP 696): the brackets are blanked out, the annotations that use `T` stay;
- Python 3.14's `except A, B:` without parentheses (PEP 758): parenthesised.

The rewrite works on tokens (strings and comments are never touched) and keeps every other
token at its line and column, so findings point at the real source. Everything else a newer
Python reads and this one does not (PEP 701 f-strings, 3.14 t-strings) stays a syntax error,
whose message then names the Python version that reads it (see `newer_python_hint`).
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from collections.abc import Callable, Iterator

# Linear-time pre-check: only text that may hold such syntax is tokenized.
_CANDIDATE = re.compile(r"^[ \t]*(?:type[ \t]+\w|except\b)|\b(?:def|class)[ \t]+\w+[ \t]*\[", re.M)
_OPEN, _CLOSE = "([{", ")]}"


class TypeAlias(ast.stmt):
    """Stand-in for Python 3.12's `ast.TypeAlias` (`type X = ...`) on older Pythons."""

    _fields = ("name", "type_params", "value")

    def __init__(self, name: ast.Name, type_params: list[ast.AST], value: ast.expr) -> None:
        super().__init__()
        self.name, self.type_params, self.value = name, type_params, value


def _tokens(text: str) -> Iterator[tokenize.TokenInfo]:
    """Tokens up to the first the tokenizer cannot read (the parse will report it)."""
    try:
        yield from tokenize.generate_tokens(io.StringIO(text).readline)
    except (tokenize.TokenError, SyntaxError):
        return


def _matching(tokens: list[tokenize.TokenInfo], index: int) -> int | None:
    """Index of the bracket closing the one at `index`."""
    depth = 0
    for j in range(index, len(tokens)):
        tok = tokens[j]
        if tok.type == tokenize.OP:
            if tok.string in _OPEN:
                depth += 1
            elif tok.string in _CLOSE:
                depth -= 1
                if depth == 0:
                    return j
    return None


def _blanked(segment: str, head: str = "") -> str:
    """`segment` as blanks (with `head` at its start), newlines kept as line continuations so
    that lines and the columns of everything after the segment are unchanged."""
    parts = segment.split("\n")
    out: list[str] = []
    for number, part in enumerate(parts):
        cr = part.endswith("\r")
        core = part[:-1] if cr else part
        lead = head if number == 0 else ""
        body = lead.ljust(len(core))
        if number < len(parts) - 1:  # a newline follows inside the region: continue the line
            body = body[:-1] + "\\" if len(body) > len(lead) else body + "\\"
        out.append(body + ("\r" if cr else ""))
    return "\n".join(out)


def _line_offsets(text: str) -> list[int]:
    """Offset of each line's start as `tokenize` numbers lines (split at `\\n`)."""
    offsets = [0]
    find = text.find
    position = find("\n")
    while position != -1:
        offsets.append(position + 1)
        position = find("\n", position + 1)
    return offsets


def rewrite(text: str) -> tuple[str, set[tuple[int, int]]] | None:
    """The text with newer syntax rewritten, and the (line, UTF-8 column) of each `type`
    statement; None when there is nothing to rewrite."""
    if sys.version_info >= (3, 14) or not _CANDIDATE.search(text):
        return None
    tokens = list(_tokens(text))
    starts = _line_offsets(text)

    def offset(position: tuple[int, int]) -> int:
        return starts[position[0] - 1] + position[1]

    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), in order
    aliases: set[tuple[int, int]] = set()
    no_type_params = sys.version_info < (3, 13)  # 3.12 has PEP 695, 3.13 adds defaults (PEP 696)
    no_type_statement = sys.version_info < (3, 12)
    at_statement = True
    i, count = 0, len(tokens)
    while i < count:
        tok = tokens[i]
        kind, string = tok.type, tok.string
        if kind in (tokenize.NL, tokenize.COMMENT):
            i += 1
            continue
        if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) or (kind == tokenize.OP and string == ";"):
            at_statement = True
            i += 1
            continue
        starting, at_statement = at_statement, False
        following = tokens[i + 2].string if i + 2 < count and tokens[i + 1].type == tokenize.NAME else None
        if no_type_params and kind == tokenize.NAME and string in ("def", "class") and following == "[":
            close = _matching(tokens, i + 2)
            if close is None:
                break
            start, end = offset(tokens[i + 2].start), offset(tokens[close].end)
            edits.append((start, end, _blanked(text[start:end])))
            i = close + 1
            continue
        if starting and kind == tokenize.NAME and string == "type" and (
            (no_type_statement and following == "=") or (no_type_params and following == "[")
        ):
            j = i + 2
            if following == "[":
                close = _matching(tokens, j)
                if close is None:
                    break
                j = close + 1
            if j < count and tokens[j].type == tokenize.OP and tokens[j].string == "=":
                name = tokens[i + 1].string
                start, end = offset(tok.start), offset(tokens[j].start)
                edits.append((start, end, _blanked(text[start:end], name)))
                line = tok.line
                aliases.add((tok.start[0], len(line[: tok.start[1]].encode("utf-8", "surrogatepass"))))
                i = j + 1
                continue
        if starting and kind == tokenize.NAME and string == "except":
            edit = _except_edit(tokens, i, text, offset)
            if edit is not None:
                edits.extend(edit)
        i += 1
    if not edits:
        return None
    pieces: list[str] = []
    last = 0
    for start, end, replacement in sorted(edits):
        if start < last:
            continue  # overlapping (cannot happen with well-formed tokens); keep the first
        pieces.append(text[last:start])
        pieces.append(replacement)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), aliases


def _except_edit(
    tokens: list[tokenize.TokenInfo], index: int, text: str, offset: Callable[[tuple[int, int]], int]
) -> list[tuple[int, int, str]] | None:
    """`except A, B:` -> `except(A, B):` (the blank after `except` becomes the parenthesis,
    so the names keep their columns). Not with `as` (PEP 758 requires parentheses there)."""
    j = index + 1
    if j < len(tokens) and tokens[j].type == tokenize.OP and tokens[j].string == "*":
        j += 1
    depth, comma, k = 0, False, j
    while k < len(tokens):
        tok = tokens[k]
        if tok.type == tokenize.NEWLINE or tok.type == tokenize.ENDMARKER:
            return None
        if tok.type == tokenize.NAME and tok.string == "as" and depth == 0:
            return None
        if tok.type == tokenize.OP:
            if tok.string in _OPEN:
                depth += 1
            elif tok.string in _CLOSE:
                depth -= 1
            elif depth == 0 and tok.string == ",":
                comma = True
            elif depth == 0 and tok.string == ":":
                break
        k += 1
    if not comma or k >= len(tokens) or k == j:
        return None
    first, colon = offset(tokens[j].start), offset(tokens[k].start)
    if first > 0 and text[first - 1] in " \t":
        opening = (first - 1, first, "(")
    else:
        opening = (first, first, "(")
    return [opening, (colon, colon, ")")]


def mark_type_aliases(tree: ast.Module, aliases: set[tuple[int, int]]) -> None:
    """Turn the assignments that were `type` statements back into `TypeAlias` nodes."""
    if not aliases:
        return
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            for index, stmt in enumerate(body):
                if (
                    isinstance(stmt, ast.Assign)
                    and (stmt.lineno, stmt.col_offset) in aliases
                    and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)
                ):
                    alias = TypeAlias(name=stmt.targets[0], type_params=[], value=stmt.value)
                    ast.copy_location(alias, stmt)
                    body[index] = alias


_PEP695 = re.compile(r"^\s*(?:type\s+\w+\s*[\[=]|(?:async\s+)?def\s+\w+\s*\[|class\s+\w+\s*\[)")
_EXCEPT_LIST = re.compile(r"^\s*except\b(?!.*\bas\b).*,")  # PEP 758 allows no `as` here
_TSTRING = re.compile(r"(?<![\w'\"])(?:[tT][rR]?|[rR][tT])['\"]")


def newer_python_hint(exc: SyntaxError) -> str:
    """A note naming the Python that would read the line, when it looks like newer syntax."""
    line = exc.text or ""
    message = exc.msg or ""
    if sys.version_info < (3, 13) and _PEP695.match(line):
        return " (type parameters, PEP 695/696: Python 3.12+ would read it, 3.13+ with defaults)"
    if sys.version_info < (3, 12) and message.startswith("f-string"):
        return " (if this f-string nests quotes, backslashes or comments (PEP 701), Python 3.12+ would read it)"
    if sys.version_info < (3, 14) and _TSTRING.search(line):
        return " (if this is a template string (PEP 750), Python 3.14+ would read it)"
    if sys.version_info < (3, 14) and _EXCEPT_LIST.match(line):
        return " (`except` with several types and no parentheses: Python 3.14+ would read it)"
    return ""
