"""Reading one file safely: bytes -> text -> `ast` -> `ModuleFacts`, never raising.

Every failure becomes `ModuleFacts.error` (reported as FDL901, or FDL900 when it is a bug of
ours) so one odd file never stops a run: unreadable, vanished or non-regular files (a FIFO is
opened non-blocking and never read), files over `MAX_PARSE_BYTES`, null bytes, bad encodings,
syntax errors, nesting too deep for the parser or the extractor. Code written for a newer
Python than the running one is read where that is safe (`syntax_compat`); otherwise the
message names the Python that reads it. Nothing is imported or executed.
"""

from __future__ import annotations

import ast
import functools
import io
import os
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .discover import open_regular
from .facts.extract import extract
from .facts.model import ModuleFacts
from .read_log import note_read
from .syntax_compat import mark_type_aliases, newer_python_hint, rewrite

# Larger files are generated code (API clients, protobuf, data tables): parsing a 20 MB file
# takes 40 s and 3.7 GB. They are scanned for relevance in chunks, never parsed.
MAX_PARSE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
# `ModuleFacts.error` of a file whose analysis hit a bug of ours: reported as FDL900
INTERNAL_ERROR_PREFIX = "internal error"
# Recursion budget while parsing/extracting one file (Python 3.11's parser limit depends on
# how deep the caller already is; functions of the extractor recurse per nesting level).
_PARSE_HEADROOM = 1000
_EXTRACT_HEADROOM = 5000
NUL = b"\x00"
# flake8-compatible: codes are letters then digits (`FDL101`, `E501`)
_NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
# line breaks as Python counts lines (not `str.splitlines`'s \f, \x1c, \x85, \u2028...)
LINE_BREAK = re.compile(r"\r\n|\r|\n")


if TYPE_CHECKING:
    from .cache import FactsCache


# The pre-scan. A file that contains none of these cannot declare an app, a router, a route, a
# dependency marker, an include or an override: it is parsed only if the graph reaches it through
# an import (a dependency function, a settings class, a re-export). Merely importing something
# from fastapi (`HTTPException`, `Request`, a security scheme class) does not make a file
# relevant: in large projects most such files are helpers (measured on the benchmark corpus:
# 1,688 files / 26.7 MB mention fastapi or starlette; 1,312 / 19.9 MB contain one of these).
_TOKENS = (b"Depends", b"include_router", b"dependency_overrides", b".mount(")
# `FastAPI` and `Security` are also English words, error class prefixes and JSON titles: they
# count only as a call (`FastAPI(`, `Security(`) or, for `FastAPI`, a base class or annotation
# (`(FastAPI)`, `app: FastAPI)`). Mentions in docstrings, `"title": "FastAPI"` in expected
# OpenAPI documents, `SecurityMiddleware` or `Strict-Transport-Security` made 308 files / 4.3
# MB of the benchmark corpus relevant for nothing. `APIRoute` and `add_api_` count as whole
# words: `SearchAPIRouter` and `add_api_key_...` made 9 files / 1.1 MB of it relevant (one
# of them 846 KB), none of which declares anything.
_WORDS = (
    (b"FastAPI", re.compile(rb"FastAPI\s*[()]|\(\s*FastAPI\b")),
    (b"Security", re.compile(rb"(?<!\w)Security\s*\(")),
    (b"APIRoute", re.compile(rb"(?<!\w)APIRoute")),  # (`APIRouter` too)
    (b"add_api_", re.compile(rb"(?<!\w)add_api_(?:websocket_)?route\b")),
)
# a route decorator on an object imported from elsewhere (`from .main import app` then
# `@app.get("/")`): the file need not mention anything else. The path must look like one, so
# `@mock.patch("pkg.mod")` does not count.
_ROUTE_DECORATOR = re.compile(
    rb"@[ \t]*[\w.]+\.(?:get|post|put|patch|delete|head|options|trace|api_route|websocket|route)"
    rb"[ \t]*\(\s*(?:path\s*=\s*)?[rfRF]?[\"'](?:/|[\"'])"
)


def is_relevant(data: bytes) -> bool:
    """Whether a file can take part in the dependency graph on its own (a byte-level scan:
    plain `in` tests run at memory speed; a regex runs only on a file with its word or a `@`)."""
    for token in _TOKENS:
        if token in data:
            return True
    for word, pattern in _WORDS:
        if word in data and pattern.search(data) is not None:
            return True
    return b"@" in data and _ROUTE_DECORATOR.search(data) is not None


def module_name_for(path: Path, src_roots: Sequence[str] = ()) -> tuple[str, bool]:
    """Module name by Python's package rules: walk up while `__init__.py` exists. Under one
    of `src_roots` (absolute paths, the `src` setting) folders without `__init__.py` count as
    namespace packages: `src/app/api/x.py` is `app.api.x` there."""
    if src_roots:
        name, is_package = module_name_for(path)
        rooted = _name_under_roots(path, src_roots)
        if rooted is not None and f".{rooted}".endswith(f".{name}") and rooted.count(".") > name.count("."):
            return rooted, is_package
        return name, is_package
    is_package = path.name == "__init__.py"
    package = _package_of(str(path.parent))
    if is_package:
        return package or path.stem, True
    return f"{package}.{path.stem}" if package else path.stem, False


@functools.lru_cache(maxsize=8192)
def _package_of(directory: str) -> str:
    """The dotted package a folder is (walking up while `__init__.py` exists), "" when it is
    none. Memoised per folder: thousands of files share a few hundred folders (the walk cost
    0.7 s of stat calls on the benchmark corpus); `forget_packages` starts afresh."""
    parts: list[str] = []
    path = Path(os.path.abspath(directory))  # a relative walk would stop at the working folder
    for _ in range(64):
        if not (path / "__init__.py").is_file():
            break
        parts.append(path.name)
        if path.parent == path:
            break
        path = path.parent
    return ".".join(reversed(parts))


def forget_packages() -> None:
    """Drop the folder memo (a new run may see `__init__.py` files added or removed)."""
    _package_of.cache_clear()


def _name_under_roots(path: Path, src_roots: Sequence[str]) -> str | None:
    absolute = os.path.abspath(path)
    for root in src_roots:
        try:
            rel = os.path.relpath(absolute, root)
        except ValueError:  # another drive
            continue
        if rel.startswith(os.pardir) or os.path.isabs(rel):
            continue
        parts = Path(rel).with_suffix("").parts
        if parts and parts[-1] == "__init__":
            parts = parts[:-1]
        if parts and all(part.isidentifier() for part in parts):
            return ".".join(parts)
    return None


def is_test_file(path: Path) -> bool:
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


class SourceError(ValueError):
    """Bytes that are not Python source text; `line` locates the problem."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


class FileTooLarge(OSError):
    """A file over `MAX_PARSE_BYTES` (generated code); `relevant` as `is_relevant`."""

    def __init__(self, size: int, relevant: bool) -> None:
        super().__init__(f"file too large to analyse ({size / 1048576:.1f} MiB, the limit is "
                         f"{MAX_PARSE_BYTES // 1048576} MiB): generated code? exclude it")
        self.size = size
        self.relevant = relevant

    def __str__(self) -> str:
        return str(self.args[0])


def _rest_relevant(handle: io.BufferedReader, tail: bytes) -> bool:
    """`is_relevant` over the rest of an open file, chunk by chunk (bounded memory)."""
    while True:
        chunk = handle.read(_CHUNK)
        if not chunk:
            return False
        if is_relevant(tail + chunk):
            return True
        tail = chunk[-32:]


# real path -> bytes that stand in for the file's content (see `overlay`)
_OVERLAY: dict[str, bytes] = {}


@contextmanager
def overlay(contents: dict[str, bytes]) -> Iterator[None]:
    """Within the block, `read_source` of a file whose real path is a key of `contents`
    returns that value instead of reading the disk: the autofixer lints its in-memory
    results (`--diff` writes nothing). `contents` is used live, not copied."""
    global _OVERLAY
    previous, _OVERLAY = _OVERLAY, contents
    try:
        yield
    finally:
        _OVERLAY = previous


def read_source(path: Path | str) -> bytes:
    """The bytes of a regular file of at most `MAX_PARSE_BYTES`; `OSError` otherwise
    (`FileTooLarge` for a larger one)."""
    note_read(path)
    if _OVERLAY:
        staged = _OVERLAY.get(os.path.realpath(path))
        if staged is not None:
            return staged
    with open_regular(path) as handle:
        data = handle.read(MAX_PARSE_BYTES + 1)
        if len(data) > MAX_PARSE_BYTES:
            relevant = is_relevant(data) or _rest_relevant(handle, data[-32:])
            raise FileTooLarge(os.fstat(handle.fileno()).st_size, relevant)
        return data


_LINE_BREAK_BYTES = re.compile(rb"\r\n|\r|\n")


def _line_at(data: bytes, offset: int) -> int:
    return len(_LINE_BREAK_BYTES.findall(data, 0, offset)) + 1


def _ascii_compatible(encoding: str) -> bool:
    """Python reads the coding cookie as ASCII: a UTF-16/32 or `hex` file cannot declare itself."""
    sample = "# -*- coding: x -*-\n"
    try:
        return sample.encode("ascii").decode(encoding) == sample and sample[:-1].encode(encoding) == sample[:-1].encode("ascii")
    except (LookupError, ValueError, TypeError):
        return False


def decode(data: bytes) -> str:
    """Decode per PEP 263 (BOM and coding cookie); `SourceError` (a ValueError) with a clear
    message and line otherwise. Only Python's own codecs are ever looked up."""
    if NUL in data:
        line = _line_at(data, data.index(NUL))
        raise SourceError(f"source contains a null byte (line {line}): Python cannot compile it", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"bad encoding declaration: {getattr(exc, 'msg', None) or exc}") from None
    if encoding not in ("utf-8", "utf-8-sig") and not _ascii_compatible(encoding):
        raise SourceError(f"bad encoding declaration: Python cannot read source files in {encoding}")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_at(data, exc.start)
        raise SourceError(
            f"not valid {encoding}: byte {data[exc.start:exc.start + 1].hex()} on line {line} cannot be decoded "
            "(declare the file's encoding, or save it as UTF-8)",
            line,
        ) from None
    except (LookupError, ValueError, TypeError) as exc:  # `coding: hex`, `rot13`, `idna`...
        raise SourceError(f"cannot decode with the declared encoding {encoding!r}: {exc}") from None


def _stack_depth() -> int:
    frame = sys._getframe()
    depth = 0
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    return depth


@contextmanager
def _recursion_headroom(frames: int) -> Iterator[None]:
    """At least `frames` more frames of recursion than the caller's depth, for one call."""
    old = sys.getrecursionlimit()
    wanted = _stack_depth() + frames
    if wanted > old:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        if wanted > old:
            sys.setrecursionlimit(old)


def _parse(text: str, filename: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes, `return` in `finally`...: not ours to say
        try:
            return ast.parse(text, filename)
        except RecursionError:
            if sys.version_info >= (3, 12):
                raise  # 3.12+: the parser's limit does not depend on the caller's depth
        # 3.11 counts the caller's frames against the parser's limit: give it the budget a
        # top-level `compile()` has, so the verdict does not depend on who calls us
        with _recursion_headroom(_PARSE_HEADROOM):
            return ast.parse(text, filename)


def parse_text(text: str, filename: str) -> ast.Module:
    """`ast.parse` (warnings silenced), retrying with newer-Python syntax rewritten where that
    is safe (`syntax_compat`). Raises what `ast.parse` raises."""
    try:
        return _parse(text, filename)
    except SyntaxError as first:
        try:
            rewritten = rewrite(text)
        except Exception:  # the fallback must never turn a syntax error into a crash
            rewritten = None
        if rewritten is not None:
            new_text, aliases = rewritten
            try:
                tree = _parse(new_text, filename)
            except (SyntaxError, ValueError):
                pass
            else:
                mark_type_aliases(tree, aliases)
                return tree
        raise first


def noqa_map(text: str) -> dict[int, frozenset[str] | None]:
    """line -> codes suppressed there (None = every code), flake8-compatible."""
    result: dict[int, frozenset[str] | None] = {}
    if "noqa" not in text.lower():
        return result
    for number, line in enumerate(LINE_BREAK.split(text), start=1):
        if "#" not in line:
            continue
        match = _NOQA.search(line)
        if match:
            codes = match.group("codes")
            result[number] = None if not codes else frozenset(c.upper() for c in re.split(r"[,\s]+", codes) if c)
    return result


def _extract(tree: ast.Module, module: str, path: str, is_package: bool) -> ModuleFacts:
    try:
        return extract(tree, module, path, is_package)
    except RecursionError:
        pass
    with _recursion_headroom(_EXTRACT_HEADROOM):  # a deep tree the parser accepted
        return extract(tree, module, path, is_package)


def internal_error_message(where: str, exc: BaseException) -> str:
    return f"{INTERNAL_ERROR_PREFIX} {where} ({type(exc).__name__}: {exc}); please report it"


def facts_from_text(text: str, path: str, module: str, is_package: bool) -> ModuleFacts:
    try:
        tree = parse_text(text, path)
    except SyntaxError as exc:
        line = exc.lineno or 1
        offset = max((exc.offset or 1) - 1, 0)
        if exc.text and exc.lineno:
            offset = len(exc.text[:offset].encode("utf-8", "surrogatepass"))  # columns are UTF-8 bytes
        facts = _error(path, module, is_package, f"syntax error: {exc.msg}{newer_python_hint(exc)}", line)
        facts.error_loc = (line, offset, line, offset)
        return facts
    except (RecursionError, MemoryError):
        return _error(path, module, is_package, "too deeply nested for Python's parser (Python cannot compile it either)")
    except ValueError as exc:
        return _error(path, module, is_package, f"cannot parse: {exc}")
    try:
        facts = _extract(tree, module, path, is_package)
    except RecursionError:
        return _error(path, module, is_package, "nesting too deep to analyse")
    except MemoryError:
        return _error(path, module, is_package, "out of memory while analysing this file")
    except Exception as exc:  # a bug of ours: FDL900 on this file, the run goes on
        return _error(path, module, is_package, internal_error_message("while reading this file", exc))
    facts.noqa = noqa_map(text)
    facts.test_file = is_test_file(Path(path))
    if facts.test_file:
        facts.open_overrides = _open_overrides(tree, text, path, module)
    return facts


def _open_overrides(tree: ast.Module, text: str, path: str, module: str) -> int | None:
    """`ModuleFacts.open_overrides`, counted on the tree at hand: FDL601 then parses only the
    few test files where it is not 0 instead of every test file that mentions the overrides."""
    if "dependency_overrides" not in text:
        return 0
    from .rules.fdl601_override_not_cleared import open_overrides  # local: the rules import this module

    try:
        return open_overrides(tree, LINE_BREAK.split(text), path, module)
    except Exception:  # RecursionError included: the rule then reads the file itself, contained
        return None


def _error(path: str, module: str, is_package: bool, message: str, line: int = 1) -> ModuleFacts:
    facts = ModuleFacts(module=module, path=path, is_package=is_package)
    facts.error = message
    facts.error_loc = (line, 0, line, 0)
    return facts


def read_facts(
    path: Path,
    display: str | None = None,
    prescan: bool = False,
    src_roots: Sequence[str] = (),
    cache: FactsCache | None = None,
) -> ModuleFacts:
    """Facts of one file; never raises (errors land in `facts.error`). With `prescan`, a file
    that cannot matter (see `is_relevant`) comes back as an empty `deferred` ModuleFacts.
    With a `cache`, facts of bytes seen before are loaded instead of parsed."""
    shown = display or str(path)
    try:
        module, is_package = module_name_for(path, src_roots)
    except (OSError, ValueError):
        module, is_package = path.stem, False
    try:
        return _read_facts(path, shown, module, is_package, prescan, cache)
    except Exception as exc:  # a bug of ours: FDL900 on this file, the run goes on
        return _error(shown, module, is_package, internal_error_message("while reading this file", exc))


# module-level `NAME = callee(` (optionally annotated), found without parsing
_GLOBAL_CALL = re.compile(rb"\n([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=[ \t]*([A-Za-z_][\w.]*)[ \t]*\(")


def deferred_facts(shown: str, module: str, is_package: bool, data: bytes = b"") -> ModuleFacts:
    facts = ModuleFacts(module=module, path=shown, is_package=is_package)
    facts.deferred = True
    if data:
        facts.global_calls = {name.decode(): callee.decode() for name, callee in _GLOBAL_CALL.findall(b"\n" + data)}
    return facts


def _read_facts(
    path: Path, shown: str, module: str, is_package: bool, prescan: bool, cache: FactsCache | None = None
) -> ModuleFacts:
    try:
        data = read_source(path)
    except FileTooLarge as exc:
        if prescan and not exc.relevant:
            return deferred_facts(shown, module, is_package)
        return _error(shown, module, is_package, str(exc))
    except OSError as exc:
        return _error(shown, module, is_package, f"cannot read file: {exc.strerror or exc}")
    if prescan and not is_relevant(data):
        return deferred_facts(shown, module, is_package, data)
    key = cache.key(data, module, is_package, shown) if cache is not None else None
    if key is not None:
        hit = cache.get(key, shown)  # type: ignore[union-attr]
        if hit is not None:
            return hit
    try:
        text = decode(data)
    except SourceError as exc:
        facts = _error(shown, module, is_package, str(exc), exc.line)
    else:
        facts = facts_from_text(text, shown, module, is_package)
    if key is not None:
        cache.put(key, facts)  # type: ignore[union-attr]
    return facts
