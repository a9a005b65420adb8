"""Textual tests over a module's bytes, for modules the pre-scan deferred.

Parsing a module costs about a thousand times a substring search. When a rule wonders whether a
deferred module can matter (does the helper a route calls block? does it raise 401?), it first
looks at the text of the function in question; only a text that may hold what the rule looks
for is parsed. A textual test may say "maybe" wrongly (the module is then parsed, as before),
and must not say "no" where the parsed facts would say yes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator


def function_texts(data: bytes, name: str) -> Iterator[bytes]:
    """The source of each `def name(` in a module's bytes, up to the next line that is not
    more indented than the `def` (a textual cut; good enough to look for words). A module
    with more than `MAX_DEFS` of them (a hostile or generated file: cutting each out took 15 s
    for 100,000) is one text, the whole module: a test then errs towards "maybe"."""
    needle = name.encode()
    texts: list[bytes] = []
    at = data.find(needle)
    while at >= 0:
        end = at + len(needle)
        line_start = data.rfind(b"\n", max(0, at - _LONGEST_DEF_PREFIX), at) + 1
        match = _DEF_LINE.fullmatch(data, line_start, at) if line_start or at < _LONGEST_DEF_PREFIX else None
        if match is not None and _OPEN_PAREN.match(data, end):
            if len(texts) == MAX_DEFS:
                yield data
                return
            stop = _function_end(data, end, len(match.group(1)))
            if _inside_string(data[line_start:stop]):  # a line of a multi-line string ended the cut
                stop = len(data)
            texts.append(_without_docstring(data[line_start:stop]))
        at = data.find(needle, end)
    yield from texts


# a docstring's opening quotes at the start of a line (no `f`: an f-string runs code)
_DOCSTRING_START = re.compile(rb"[ \t]*[rRuU]?(\"\"\"|\'\'\')")


def _without_docstring(text: bytes) -> bytes:
    """A function's text less its docstring, which runs nothing but may well spell a word a
    test looks for ("returns a client for..."). The docstring is a string opening the line
    after the signature (the first line ending in `:`, as `_function_end` finds it); the cut
    goes up to the first closing quotes: an escaped one ends it early, which leaves text in,
    never takes code out."""
    at = 0
    for _ in range(64):
        eol = text.find(b"\n", at)
        if eol < 0:
            return text
        line, at = text[at:eol], eol + 1
        if line.split(b"#", 1)[0].rstrip().endswith(b":"):
            break
    else:
        return text
    opening = _DOCSTRING_START.match(text, at)
    if opening is None:
        return text
    close = text.find(opening.group(1), opening.end())
    return text if close < 0 else text[: opening.start(1)] + text[close + 3 :]


def _inside_string(text: bytes) -> bool:
    """Does the cut end inside a triple-quoted string (an odd count of one kind of quotes)?
    A line of the string at the `def`'s indentation or less is no end of the function, so
    the text then runs to the end of the module: more text may say "maybe" wrongly, a cut
    one could say "no" wrongly. A quote escaped or inside another string errs the same way."""
    return text.count(b'"""') % 2 == 1 or text.count(b"'''") % 2 == 1


MAX_DEFS = 16
_LONGEST_DEF_PREFIX = 256  # indentation and `async def ` before the name


_DEF_LINE = re.compile(rb"([ \t]*)(?:async[ \t]+)?def[ \t]+")
_OPEN_PAREN = re.compile(rb"[ \t]*\(")


def _function_end(data: bytes, body: int, indent: int) -> int:
    for _ in range(64):  # past the signature: the first line ending in `:`
        eol = data.find(b"\n", body)
        line = data[body : eol if eol >= 0 else len(data)]
        body = eol + 1 if eol >= 0 else len(data)
        if line.split(b"#", 1)[0].rstrip().endswith(b":") or eol < 0:
            break
    stop = re.compile(rb"^[ \t]{0,%d}[^ \t\r\n#]" % indent, re.MULTILINE).search(data, body)
    return stop.start() if stop else len(data)


def function_text_matches(dotted: str, pattern: re.Pattern[bytes]) -> Callable[[bytes, str | None], bool]:
    """A test of a module (`Resolver.resolve_when`): does the text of some `def NAME(` in it
    match `pattern`, for a NAME `dotted` is `looked_for` as?"""
    return lambda data, wanted: any(pattern.search(text) for n in looked_for(dotted, wanted) for text in function_texts(data, n))


def looked_for(dotted: str, wanted: str | None) -> tuple[str, ...]:
    """The names a textual test of a deferred module looks for, when the resolver reached it
    looking up `wanted` there (`Resolver.resolve_when`) on its way to what `dotted` names: the
    last part of `dotted` (`load` of `SessionManager.load`: `SessionManager` is the name
    wanted, but `def load(` the text that matters), and for a plain name also the one the
    module has for it, which an import may have renamed (`from helpers import pause as
    nap`: `pause`)."""
    last = dotted.rsplit(".", 1)[-1]
    return (last,) if wanted is None or wanted == last or "." in dotted else (last, wanted)


_FROM_HEAD = re.compile(rb"[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]*")
_PLAIN_HEAD = re.compile(rb"[ \t]*import[ \t]+")
_COMMENT = re.compile(rb"#[^\n]*")
_STAR_IMPORT = re.compile(rb"import[ \t]+\*")  # (a pattern that starts with a literal is searched fast)
_LONGEST_PREFIX = 512  # `from a.long.module.name ` before `import`: longer is no import statement
# an import statement: the module of `from m import ...` (None for `import ...`), and the text
# of its names (`a, b as x`, or the parenthesised list)
Statement = tuple[bytes | None, bytes]


@functools.lru_cache(maxsize=256)
def imported_names(data: bytes) -> dict[bytes, list[tuple[bytes, bytes | None]]]:
    """name -> where it is imported from: (module, the name imported) for `from m import a as
    x` (binds `x` to `(m, a)`; `*` holds the star imports), (module, None) for `import a.b as
    x` (and `import a.b` binds `a` to `(a.b, None)`)."""
    table: dict[bytes, list[tuple[bytes, bytes | None]]] = {}
    for statement in _import_statements(data):
        for bound, source, there in _bindings(statement):
            table.setdefault(bound, []).append((source, there))
    return table


def imported_dotted(module: bytes, original: bytes | None) -> str:
    """The dotted name an `imported_names` entry stands for: `m.a` for `from m import a`, `m`
    for `import m`."""
    written = module.decode("ascii", "replace")
    return f"{written}.{original.decode('ascii', 'replace')}" if original is not None else written


def may_bind(data: bytes, name: str) -> bool:
    """May the module bind `name` at all? Not when it star-imports nothing and its text spells
    the name only where no import binds it, or nowhere: a package's `from .impl import x`
    leaves `impl` to the submodule (then looking the name up in it finds nothing, parsed or
    not)."""
    if _STAR_IMPORT.search(data) is not None:
        return True
    word = name.encode()
    if word not in data:
        return False
    return word in imported_names(data) or data.count(word) > _import_texts(data).count(word)


@functools.lru_cache(maxsize=1024)
def bindings(data: bytes, name: str) -> frozenset[str]:
    """How a module's text may bind `name`: "star" (it star-imports), "import" (from a module
    written absolute: a library's, or the project's), "relative" (from a module written with
    dots: the project's), "class", "def", "assign" (`name = ...`, `name: T = ...`, at any
    indentation: a textual cut errs towards binding), "annotation" (`name: T`, declared
    only). Empty when it cannot (`may_bind`)."""
    if not may_bind(data, name):
        return frozenset()
    found = {"star"} if _STAR_IMPORT.search(data) is not None else set()
    word = name.encode()
    for module, _ in imported_names(data).get(word, ()):
        found.add("relative" if module.startswith(b".") else "import")
    for match in re.finditer(rb"^[ \t]*(?:(class)[ \t]+|(?:async[ \t]+)?(def)[ \t]+)?%s\b[ \t]*(:[^=\n]*)?(=(?!=))?" % re.escape(word), data, re.MULTILINE):
        if match.group(1) or match.group(2):
            found.add("class" if match.group(1) else "def")
        elif match.group(4):
            found.add("assign")
        elif match.group(3):
            found.add("annotation")
    return frozenset(found)


def may_assign_call(data: bytes, wanted: str | None) -> bool:
    """May the module bind `wanted` to a call (`NAME = factory(...)`, `NAME: T = (...)`, at
    any indentation)? A parameter default that names a variable is a marker only then
    (`user=CURRENT_USER`, `CURRENT_USER = Depends(get_user)`), not when every assignment is
    a literal (`limit=DEFAULT_LIMIT`, `DEFAULT_LIMIT = 100`). A name the module only imports
    is followed by the resolver (`Resolver._hands_on`); a module itself (`wanted` None) may."""
    if wanted is None:
        return True
    return "assign" in bindings(data, wanted) and any(_CALL_START.match(value) for _, value in assignments(data, wanted))


_CALL_START = re.compile(rb"[A-Za-z_][\w.]*[ \t]*\(|\(|\\|$")  # a call, parenthesised, or continued


def assignments(data: bytes, name: str) -> Iterator[tuple[bytes | None, bytes]]:
    """Each `name = value` / `name: T = value` of a module's text, at any indentation, as
    (the annotation with its colon or None, the rest of the line after `=`)."""
    pattern = rb"^[ \t]*%s[ \t]*(:[^=\n]*)?=(?!=)[ \t]*([^\n]*)" % re.escape(name.encode())
    for match in re.finditer(pattern, data, re.MULTILINE):
        yield match.group(1), match.group(2)


@functools.lru_cache(maxsize=256)
def _import_texts(data: bytes) -> bytes:
    """The module and name parts of every import statement, one per line."""
    return b"\n".join(b"%s %s" % (module or b"", names) for module, names in _import_statements(data))


def import_sources(data: bytes, name: str) -> list[tuple[str, str | None]]:
    """Where a module's text may import `name` from: (module as written, with its leading
    dots; the name it has there, None for a module), the star imports included."""
    word = name.encode()
    if word not in data and _STAR_IMPORT.search(data) is None:
        return []
    table = imported_names(data)
    found = [(m.decode(), a.decode() if a is not None else None) for m, a in table.get(word, ())]
    return found + [(m.decode(), name) for m, _ in table.get(b"*", ())]


def _import_statements(data: bytes) -> Iterator[Statement]:
    """Each import statement that starts a line (`from m import ...`, `import m`), found by
    the literal `import` (a search for a literal is fast; one anchored at line starts is not),
    in linear time even in a hostile file: the text before `import` on its line is looked at
    only up to `_LONGEST_PREFIX` bytes, the search goes on after each statement, and a `(`
    left open is noticed once."""
    at = data.find(b"import")
    unclosed_from = len(data) + 1  # no `)` at or after this offset
    while at >= 0:
        line = data.rfind(b"\n", max(0, at - _LONGEST_PREFIX), at) + 1
        head = None
        if line or at < _LONGEST_PREFIX:
            head = (_FROM_HEAD if data[line:at].strip() else _PLAIN_HEAD).match(data, line)
        if head is None or head.end(0) <= at:
            at = data.find(b"import", at + 6)
            continue
        names_at = head.end(0)
        close = data.find(b")", names_at) if data.startswith(b"(", names_at) and names_at < unclosed_from else -1
        if close < 0:
            if data.startswith(b"(", names_at):
                unclosed_from = min(unclosed_from, names_at)
            end = data.find(b"\n", names_at)
            end = len(data) if end < 0 else end
        else:
            end = close + 1
        yield (head.group(1) if head.re is _FROM_HEAD else None), data[names_at:end]
        at = data.find(b"import", end)


def _bindings(statement: Statement) -> Iterator[tuple[bytes, bytes, bytes | None]]:
    """(name bound, module, name imported or None) of an import statement."""
    module, names = statement
    if module is not None:
        for part in _COMMENT.sub(b"", names).strip(b"()").split(b","):
            words = part.split()
            if words:
                yield words[-1], module, words[0]
        return
    for part in names.split(b"#", 1)[0].split(b","):
        words = part.split()
        if words:
            yield (words[-1] if len(words) == 3 and words[1] == b"as" else words[0].split(b".", 1)[0]), words[0], None
