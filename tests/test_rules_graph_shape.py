"""Unit tests for FDL301 (sync dependency in async route), FDL401 (cycles), FDL402 (depth)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project


def run(tmp_path: Path, files: dict[str, str], code: str, **options: object) -> list:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    config = Config()
    config.select = [code]
    for key, value in options.items():
        setattr(config, key, value)
    result = engine.run(build_project([tmp_path], jobs=1), config)
    assert not [f for f in result.findings if f.code != code], result.findings
    return sorted(result.findings, key=lambda f: (f.path, f.line))


def chain_app(depth: int, *, route_async: bool = False) -> str:
    """A route whose dependency chain is exactly `depth` levels deep."""
    lines = ["from fastapi import Depends, FastAPI", "app = FastAPI()", "def d0():", "    return 0"]
    for i in range(1, depth):
        lines += [f"def d{i}(x=Depends(d{i - 1})):", "    return x"]
    lines += [
        '@app.get("/deep")',
        f"{'async ' if route_async else ''}def deep(x=Depends(d{depth - 1})):",
        "    return x",
    ]
    return "\n".join(lines) + "\n"


# --- FDL402 -------------------------------------------------------------------------------------


def test_depth_at_default_limit_is_silent(tmp_path: Path) -> None:
    assert run(tmp_path, {"main.py": chain_app(5)}, "FDL402") == []


def test_depth_over_default_limit(tmp_path: Path) -> None:
    (finding,) = run(tmp_path, {"main.py": chain_app(6)}, "FDL402")
    assert finding.line == 15  # the route decorator
    assert "6 levels deep (max 5)" in finding.message
    assert "deep -> d5 -> d4 -> d3 -> d2 -> d1 -> d0" in finding.message
    assert "GET /deep" in finding.message


def test_depth_custom_limit(tmp_path: Path) -> None:
    assert len(run(tmp_path, {"main.py": chain_app(3)}, "FDL402", max_depth=2)) == 1
    assert run(tmp_path, {"main.py": chain_app(3)}, "FDL402", max_depth=3) == []


def test_very_long_chain_does_not_recurse(tmp_path: Path) -> None:
    (finding,) = run(tmp_path, {"main.py": chain_app(1500)}, "FDL402")
    assert "1500 levels deep" in finding.message


# --- FDL401 -------------------------------------------------------------------------------------

CYCLES = """
from __future__ import annotations
from typing import Annotated
from fastapi import Depends, FastAPI

app = FastAPI()

def a(x: Annotated[int, Depends(b)]): ...
def b(x: Annotated[int, Depends(c)], y: Annotated[int, Depends(d)]): ...
def c(x: Annotated[int, Depends(a)]): ...
def d(x: Annotated[int, Depends(b)]): ...

@app.get("/")
def route(x: Annotated[int, Depends(a)]): ...
"""


def test_one_finding_per_strongly_connected_component(tmp_path: Path) -> None:
    (finding,) = run(tmp_path, {"main.py": CYCLES}, "FDL401")
    # entered at `a` (the route's dependency); closed by c's Depends(a)
    assert "a -> b -> c -> a" in finding.message
    assert finding.line == 10


def test_no_cycle_in_diamond(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    app = FastAPI()
    def base(): ...
    def left(x=Depends(base)): ...
    def right(x=Depends(base)): ...
    @app.get("/")
    def route(a=Depends(left), b=Depends(right), c=Depends(base)): ...
    """
    assert run(tmp_path, {"main.py": app}, "FDL401") == []


def test_long_cycle_is_iterative(tmp_path: Path) -> None:
    n = 1500
    lines = [
        "from __future__ import annotations",
        "from typing import Annotated",
        "from fastapi import Depends, FastAPI",
        "app = FastAPI()",
    ]
    for i in range(n):
        lines += [f"def d{i}(x: Annotated[int, Depends(d{(i + 1) % n})]): ..."]
    lines += ['@app.get("/")', "def route(x: Annotated[int, Depends(d0)]): ..."]
    (finding,) = run(tmp_path, {"main.py": "\n".join(lines) + "\n"}, "FDL401")
    assert finding.message.startswith("dependency cycle d0 -> d1 -> ")
    assert f"d{n - 1} -> d0:" in finding.message


# --- FDL301 -------------------------------------------------------------------------------------


def test_sync_dependency_named_once_with_one_route(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    app = FastAPI()
    def params(q: str = ""):
        return {"q": q.strip()}
    @app.get("/a")
    async def a(p=Depends(params)): ...
    @app.post("/b")
    async def b(p=Depends(params)): ...
    @app.get("/c")
    def c(p=Depends(params)): ...
    """
    (finding,) = run(tmp_path, {"main.py": app}, "FDL301")
    assert "`params`" in finding.message and "GET /a" in finding.message
    assert "declare it `async def`" in finding.message


def test_unknown_third_party_call_counts_as_blocking(tmp_path: Path) -> None:
    app = """
    import boto3
    from fastapi import Depends, FastAPI
    app = FastAPI()
    def bucket(name: str = "x"):
        return boto3.resource("s3").Bucket(name)
    def service(db=Depends(bucket)):
        return db.lookup("x")  # an unknown object's method may do I/O
    @app.get("/a")
    async def a(b=Depends(bucket), s=Depends(service)): ...
    """
    assert run(tmp_path, {"main.py": app}, "FDL301") == []


def test_sync_generator_advice(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    app = FastAPI()
    def value():
        yield 1
    @app.get("/a")
    async def a(v=Depends(value)): ...
    """
    (finding,) = run(tmp_path, {"main.py": app}, "FDL301")
    assert "sync generator dependency `value`" in finding.message
    assert finding.message.endswith("make it an `async def` generator")
