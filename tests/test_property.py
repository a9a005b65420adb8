"""Property tests: no input makes the linter crash, raise or report an internal error.

- valid Python programs from `hypothesmith` (from the grammar, and from libcst's node
  types), read on their own and linked into a small FastAPI project with every rule on;
- random byte mutations (flips, NULs, CRs, invalid UTF-8, cuts, repeats, truncation) of every
  fixture file, analysed inside a copy of their project with every rule on.

Example counts stay moderate so the suite stays fast; the examples are derandomized so a
run is reproducible. `FDL_PROPERTY_RANDOM=1 FDL_PROPERTY_EXAMPLES=2000` explores further.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project
from fastapi_deplint.source import INTERNAL_ERROR_PREFIX, facts_from_text

# hypothesmith compiles what it generates: the compiler's own warnings about it are not ours
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
EXAMPLES = int(os.environ.get("FDL_PROPERTY_EXAMPLES", "120"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("FDL_PROPERTY_RANDOM"),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)

# The generated module is star-imported and its names used as dependencies, so the linker
# and the rules really look at it.
HOST_MAIN = """\
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI

from .gen import *  # noqa: F403
from . import gen

app = FastAPI(dependencies=[Depends(gen.dependency)])
router = APIRouter(prefix="/g", dependencies=[Depends(getattr(gen, "f", None))])


@router.get("/a")
async def a(x=Depends(f), y: Annotated[int, Depends(g)] = 0, z=Depends(gen.C)):
    return x


@app.get("/b")
def b(db=Depends(gen.get_db)):
    return db


app.include_router(router)
app.include_router(gen.router)
"""


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.py") if p.is_file())


def _project_root(path: Path) -> Path:
    """The fixture project a file belongs to: `fixtures/<name>` (or `fixtures/_hostile/<name>`)."""
    rel = path.relative_to(FIXTURES).parts
    return FIXTURES.joinpath(*rel[:2]) if rel[0].startswith("_") else FIXTURES / rel[0]


def _assert_no_crash(root: Path) -> None:
    result = engine.run(build_project([root], jobs=1), Config(select=["ALL"]))
    assert not result.internal_errors, result.internal_errors[0]
    assert not [f for f in result.findings if f.code == "FDL900"]


def _check_program(source: str) -> None:
    facts = facts_from_text(source, "gen.py", "pkg.gen", False)
    assert facts.error is None or not facts.error.startswith(INTERNAL_ERROR_PREFIX), facts.error
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "pkg"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        (pkg / "main.py").write_text(HOST_MAIN)
        (pkg / "gen.py").write_text(source, encoding="utf-8", errors="surrogatepass")
        _assert_no_crash(Path(tmp))


@PROPERTY
@given(hypothesmith.from_grammar())
def test_programs_from_the_grammar(source: str) -> None:
    _check_program(source)


@settings(PROPERTY, max_examples=max(1, EXAMPLES // 3))  # generating these is slow
@given(hypothesmith.from_node())
def test_programs_from_libcst_nodes(source: str) -> None:
    _check_program(source)


# -- byte mutations ------------------------------------------------------------------------

_PAYLOADS = [b"\x00", b"\r", b"\r\n", b"\n", b"\xff\xfe", b"\xe9", b"\xef\xbb\xbf", b"(", b")", b":", b"\t",
             b"    ", b"\\", b"'''", b'"', b"# coding: latin-1\n", b"# coding: utf-16\n", b"\x0c", b"\xe2\x80\xa8",
             b"Depends(", b"yield ", b"async ", b"@app.get('/')\n", b"type X = int\n", b"except A, B:\n"]
_MUTATION = st.tuples(
    st.sampled_from(["flip", "insert", "delete", "repeat", "truncate"]),
    st.floats(0, 1),
    st.one_of(st.sampled_from(_PAYLOADS), st.binary(min_size=1, max_size=8)),
    st.integers(1, 64),
)


def mutate(data: bytes, mutations: list[tuple[str, float, bytes, int]]) -> bytes:
    for kind, where, payload, size in mutations:
        at = int(where * len(data))
        if kind == "flip" and data:
            at = min(at, len(data) - 1)
            data = data[:at] + bytes([data[at] ^ (1 << (size % 8))]) + data[at + 1:]
        elif kind == "insert":
            data = data[:at] + payload + data[at:]
        elif kind == "delete":
            data = data[:at] + data[at + size:]
        elif kind == "repeat":
            data = data[:at] + data[at:at + size] * 3 + data[at:]
        elif kind == "truncate":
            data = data[:at]
    return data


@settings(PROPERTY, max_examples=EXAMPLES * 2)
@given(st.sampled_from(_fixture_files()), st.lists(_MUTATION, min_size=1, max_size=6))
def test_byte_mutations_of_fixture_files(path: Path, mutations: list[tuple[str, float, bytes, int]]) -> None:
    source_root = _project_root(path)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / source_root.name
        shutil.copytree(source_root, root)
        target = root / path.relative_to(source_root)
        target.write_bytes(mutate(path.read_bytes(), mutations))
        _assert_no_crash(root)


def test_mutation_helper_changes_bytes() -> None:
    assert mutate(b"abcdef", [("insert", 0.5, b"\x00", 1)]) == b"abc\x00def"
    assert mutate(b"abcdef", [("delete", 0.0, b"", 2)]) == b"cdef"
    assert mutate(b"abcdef", [("truncate", 0.5, b"", 1)]) == b"abc"
    assert mutate(b"ab", [("repeat", 0.5, b"", 1)]) == b"abbbb"
    assert mutate(b"\x00", [("flip", 0.0, b"", 1)]) == b"\x02"
