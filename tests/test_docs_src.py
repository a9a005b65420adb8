"""Every default rule on FastAPI's own documentation examples (correct code, apart from the
examples the docs show as wrong): the complete list of findings is pinned here, with why each
one is right. A new finding on docs_src is almost certainly a false positive."""

from __future__ import annotations

from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project

EXPECTED = {
    # the docs' deliberate "don't swallow exceptions in yield dependencies" example
    ("dependencies/tutorial008c.py", 15, "FDL105"),
    ("dependencies/tutorial008c_non_an.py", 13, "FDL105"),
    # sync dependencies that only read their parameters, resolved for `async def` routes: the
    # spec's "free win" (each costs a threadpool hop per request)
    ("background_tasks/tutorial002.py", 13, "FDL301"),
    ("background_tasks/tutorial002_non_an.py", 11, "FDL301"),
    ("dependencies/tutorial005.py", 12, "FDL301"),
    ("dependencies/tutorial005_non_an.py", 10, "FDL301"),
}


def test_default_rules_on_fastapi_docs(fastapi_sdist: Path) -> None:
    root = fastapi_sdist / "docs_src"
    result = engine.run(build_project([root]), Config())
    assert not result.internal_errors
    found = {(Path(f.path).resolve().relative_to(root.resolve()).as_posix(), f.line, f.code) for f in result.findings}
    assert found == EXPECTED, f"unexpected: {sorted(found - EXPECTED)}\nmissing: {sorted(EXPECTED - found)}"
