"""Reading one file safely: bytes -> text -> `ast` -> `ModuleFacts`, never raising.

Every failure becomes `ModuleFacts.error` (reported as FDL901) so one odd file never stops a
run. Code written for a newer Python than the running one is read where that is safe
(Python 3.14's unparenthesised `except A, B:` is rewritten to `except (A, B):` first).
"""

from __future__ import annotations

import ast
import io
import os
import re
import sys
import tokenize
from pathlib import Path

from .facts.extract import extract
from .facts.model import Loc, ModuleFacts

MAX_FILE_BYTES = 64 * 1024 * 1024
NUL = b"\x00"
_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z][0-9]+(?:[,\s]+[A-Z][0-9]+)*))?", re.IGNORECASE)
# PEP 758 (3.14): `except A, B:` without parentheses (and without `as`)
_EXCEPT_NO_PARENS = re.compile(r"^(?P<indent>[ \t]*)except(?P<star>\s*\*)?\s+(?P<types>[^():#\n]+,[^():#\n]+?)\s*:", re.M)


# A file that mentions none of these cannot declare routes, routers, dependency markers or
# overrides; it is parsed only if the graph reaches it through an import.
_RELEVANT = re.compile(rb"fastapi|starlette|Depends|Security|APIRouter|dependency_overrides|include_router")


def is_relevant(data: bytes) -> bool:
    return _RELEVANT.search(data) is not None


def module_name_for(path: Path) -> tuple[str, bool]:
    """Module name by Python's package rules: walk up while `__init__.py` exists."""
    is_package = path.name == "__init__.py"
    parts: list[str] = [] if is_package else [path.stem]
    directory = path.parent
    seen = 0
    while (directory / "__init__.py").is_file() and seen < 64:
        parts.append(directory.name)
        parent = directory.parent
        if parent == directory:
            break
        directory = parent
        seen += 1
    return ".".join(reversed(parts)) or path.stem, is_package


def is_test_file(path: Path) -> bool:
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def decode(data: bytes) -> str:
    """Decode per PEP 263 (BOM and coding cookie), raising ValueError with a clear message."""
    if b"\x00" in data:
        raise ValueError(f"source contains a null byte at offset {data.index(NUL)}")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise ValueError(f"bad encoding declaration: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ValueError(f"cannot decode as {encoding}: {exc}") from None


def parse_text(text: str, filename: str) -> ast.Module:
    """`ast.parse`, retrying with newer-Python syntax rewritten where that is safe."""
    try:
        return ast.parse(text, filename)
    except SyntaxError as first:
        if sys.version_info < (3, 14) and _EXCEPT_NO_PARENS.search(text):
            rewritten = _EXCEPT_NO_PARENS.sub(
                lambda m: f"{m['indent']}except{m['star'] or ''} ({m['types']}):", text
            )
            try:
                return ast.parse(rewritten, filename)
            except SyntaxError:
                pass
        raise first


def _newer_python_hint(exc: SyntaxError) -> str:
    line = (exc.text or "").strip()
    if sys.version_info < (3, 12) and (line.startswith("type ") or re.match(r"(async\s+)?def\s+\w+\[|class\s+\w+\[", line)):
        return " (PEP 695 syntax: Python 3.12+ would read it)"
    if sys.version_info < (3, 14) and line.startswith("except") and "," in line:
        return " (Python 3.14+ would read it)"
    return ""


def noqa_map(text: str) -> dict[int, frozenset[str] | None]:
    """line -> codes suppressed there (None = every code), flake8-compatible."""
    result: dict[int, frozenset[str] | None] = {}
    if "noqa" not in text.lower():
        return result
    for number, line in enumerate(text.splitlines(), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match:
            codes = match.group("codes")
            result[number] = None if not codes else frozenset(c.upper() for c in re.split(r"[,\s]+", codes) if c)
    return result


def facts_from_text(text: str, path: str, module: str, is_package: bool) -> ModuleFacts:
    try:
        tree = parse_text(text, path)
    except SyntaxError as exc:
        facts = ModuleFacts(module=module, path=path, is_package=is_package)
        line = exc.lineno or 1
        facts.error = f"syntax error: {exc.msg}{_newer_python_hint(exc)}"
        facts.error_loc = Loc(line, max((exc.offset or 1) - 1, 0), line, max((exc.offset or 1) - 1, 0))
        return facts
    except (RecursionError, MemoryError):
        return _error(path, module, is_package, "expression nesting too deep for the parser")
    except ValueError as exc:
        return _error(path, module, is_package, f"cannot parse: {exc}")
    try:
        facts = extract(tree, module, path, is_package)
    except RecursionError:
        return _error(path, module, is_package, "nesting too deep to analyse")
    facts.noqa = noqa_map(text)
    facts.test_file = is_test_file(Path(path))
    return facts


def _error(path: str, module: str, is_package: bool, message: str, line: int = 1) -> ModuleFacts:
    facts = ModuleFacts(module=module, path=path, is_package=is_package)
    facts.error = message
    facts.error_loc = Loc(line, 0, line, 0)
    return facts


def read_facts(path: Path, display: str | None = None, prescan: bool = False) -> ModuleFacts:
    """Facts of one file; never raises (errors land in `facts.error`). With `prescan`, a file
    that cannot matter (see `is_relevant`) comes back as an empty `deferred` ModuleFacts."""
    shown = display or str(path)
    try:
        module, is_package = module_name_for(path)
    except OSError:
        module, is_package = path.stem, False
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            return _error(shown, module, is_package, f"file too large to analyse ({size} bytes)")
        data = path.read_bytes()
    except OSError as exc:
        return _error(shown, module, is_package, f"cannot read file: {exc.strerror or exc}")
    if prescan and not is_relevant(data):
        facts = ModuleFacts(module=module, path=shown, is_package=is_package)
        facts.deferred = True
        return facts
    try:
        text = decode(data)
    except ValueError as exc:
        return _error(shown, module, is_package, str(exc))
    return facts_from_text(text, shown, module, is_package)
