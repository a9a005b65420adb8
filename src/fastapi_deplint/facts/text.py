"""Textual tests over a module's bytes, for modules the pre-scan deferred.

Parsing a module costs about a thousand times a substring search. When a rule wonders whether a
deferred module can matter (does the helper a route calls block? does it raise 401?), it first
looks at the text of the function in question; only a text that may hold what the rule looks
for is parsed. A textual test may say "maybe" wrongly (the module is then parsed, as before),
and must not say "no" where the parsed facts would say yes.
"""

from __future__ import annotations

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


def function_text_matches(name: str, pattern: re.Pattern[bytes]) -> Callable[[bytes], bool]:
    """A test: does the text of some `def name(` in the module match `pattern`?"""
    return lambda data: any(pattern.search(text) for text in function_texts(data, name))
