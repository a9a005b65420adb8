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
    more indented than the `def` (a textual cut; good enough to look for words)."""
    needle = name.encode()
    at = data.find(needle)
    while at >= 0:
        end = at + len(needle)
        line_start = data.rfind(b"\n", 0, at) + 1
        match = _DEF_LINE.fullmatch(data, line_start, at)
        if match is not None and _OPEN_PAREN.match(data, end):
            yield data[line_start : _function_end(data, end, len(match.group(1)))]
        at = data.find(needle, end)


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


_FROM_IMPORT = re.compile(rb"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_PLAIN_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([^\n]*)", re.MULTILINE)
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+)?import[ \t]", re.MULTILINE)
_COMMENT = re.compile(rb"#[^\n]*")
_STAR_IMPORT = re.compile(rb"import[ \t]+\*")  # (a pattern that starts with a literal is searched fast)


@functools.lru_cache(maxsize=256)
def imported_names(data: bytes) -> dict[bytes, list[tuple[bytes, bytes | None]]]:
    """name -> where it is imported from: (module, the name imported) for `from m import a as
    x` (binds `x` to `(m, a)`; `*` holds the star imports), (module, None) for `import a.b as
    x` (and `import a.b` binds `a` to `(a.b, None)`)."""
    table: dict[bytes, list[tuple[bytes, bytes | None]]] = {}
    for match in _IMPORT_LINE.finditer(data):
        for bound, source, there in _bindings(data, match.start()):
            table.setdefault(bound, []).append((source, there))
    return table


def may_bind(data: bytes, name: str) -> bool:
    """May the module bind `name` at all? Not when its text never spells the name and it
    star-imports nothing (then looking the name up in it finds nothing, parsed or not)."""
    return name.encode() in data or _STAR_IMPORT.search(data) is not None


def import_sources(data: bytes, name: str) -> list[tuple[str, str | None]]:
    """Where a module's text may import `name` from: (module as written, with its leading
    dots; the name it has there, None for a module), the star imports included. Only the
    statements around the places that spell the name are read: this is asked of many large
    modules, and taking all their imports apart cost more than the rest of the question."""
    word = name.encode()
    found: list[tuple[str, str | None]] = []
    starts: set[int] = set()
    at = data.find(word)
    while at >= 0:
        start = _import_statement(data, at)
        if start is not None and start not in starts:
            starts.add(start)
            for bound, source, there in _bindings(data, start):
                if bound == word:
                    found.append((source.decode(), there.decode() if there is not None else None))
        at = data.find(word, at + len(word))
    if _STAR_IMPORT.search(data) is not None:
        found += [(match.group(1).decode(), name) for match in _STAR_FROM.finditer(data)]
    return found


_STAR_FROM = re.compile(rb"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+\*", re.MULTILINE)


def _import_statement(data: bytes, at: int) -> int | None:
    """The start of the import statement whose names span `at`, if any: on its first line
    (`from m import a as x`), or inside its parentheses (`from m import (\n a,\n)`)."""
    start = data.rfind(b"\n", 0, at) + 1
    if data.find(b"import", start, at) >= 0:
        return start
    paren = data.rfind(b"(", 0, at)
    if paren < 0 or data.find(b")", paren, at) >= 0:
        return None
    start = data.rfind(b"\n", 0, paren) + 1
    return start if data[start:paren].rstrip().endswith(b"import") else None


def _bindings(data: bytes, start: int) -> Iterator[tuple[bytes, bytes, bytes | None]]:
    """(name bound, module, name imported or None) of the import statement at `start`."""
    match = _FROM_IMPORT.match(data, start)
    if match is not None:
        for part in _COMMENT.sub(b"", match.group(2)).strip(b"()").split(b","):
            words = part.split()
            if words:
                yield words[-1], match.group(1), words[0]
        return
    match = _PLAIN_IMPORT.match(data, start)
    if match is not None:
        for part in match.group(1).split(b"#", 1)[0].split(b","):
            words = part.split()
            if words:
                yield (words[-1] if len(words) == 3 and words[1] == b"as" else words[0].split(b".", 1)[0]), words[0], None
