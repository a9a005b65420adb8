"""Resource-lifecycle rules FDL102-FDL108: the pieces the fixtures cannot pin down alone
(version detection, path counting, re-raise analysis) and the FastAPI behaviour the messages
claim, checked against the installed FastAPI."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project
from fastapi_deplint.rules._fastapi_version import parse_spec, project_fastapi, teardown_before_background
from fastapi_deplint.rules._lifecycle import always_raises
from fastapi_deplint.rules.fdl106_multiple_yield import YieldCounter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LIFECYCLE = ["FDL102", "FDL103", "FDL104", "FDL105", "FDL106", "FDL107", "FDL108"]


def lint(root: Path, select: list[str], **settings: object) -> list[tuple[str, int, str]]:
    config = Config(select=select)
    for key, value in settings.items():
        setattr(config, key, value)
    result = engine.run(build_project([root], jobs=1), config)
    assert not result.internal_errors, result.internal_errors
    return sorted((Path(f.path).resolve().relative_to(root).as_posix(), f.line, f.code) for f in result.findings)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root


# --- FastAPI version detection (FDL107) --------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "before_background"),
    [
        ("==0.110.0", True),
        ("==0.106.0", True),
        ("==0.117.1", True),
        ("==0.105.0", False),
        ("==0.118.0", False),
        (">=0.106,<0.118", True),
        (">= 0.110, < 0.115", True),
        (">=0.110", False),  # 0.118+ allowed too: not every allowed version behaves so
        ("<0.115", False),
        ("~=0.110.0", True),
        ("~=0.110", False),
        ("^0.110.1", True),
        ("~0.112", True),
        ("0.111.0", True),
        ("==0.11*", False),
        ("==0.110.*", True),
    ],
)
def test_version_specs(spec: str, before_background: bool) -> None:
    assert teardown_before_background(parse_spec(spec, "test")) is before_background


def test_version_from_lock_beats_pyproject(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi>=0.100"]\n',
            "uv.lock": 'version = 1\n[[package]]\nname = "fastapi"\nversion = "0.112.2"\n',
            "app/main.py": "",
        },
    )
    pinned = project_fastapi(str(tmp_path / "app" / "main.py"))
    assert pinned is not None and pinned.source == "fastapi==0.112.2 (uv.lock)"
    assert teardown_before_background(pinned)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi[standard]==0.115.6"]\n'}, True),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nfastapi = "^0.109.0"\n'}, True),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nfastapi = {version = "0.120.0", extras = ["all"]}\n'}, False),
        ({"poetry.lock": '[[package]]\nname = "FastAPI"\nversion = "0.108.0"\n'}, True),
        ({"requirements.txt": "uvicorn\nfastapi==0.111.0 ; python_version >= '3.8'\n"}, True),
        ({"requirements-prod.txt": "fastapi>=0.118\n"}, False),
        ({"Pipfile.lock": '{"default": {"fastapi": {"version": "==0.116.1"}}}'}, True),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi"]\n'}, False),
    ],
)
def test_version_sources(tmp_path: Path, files: dict[str, str], expected: bool) -> None:
    write(tmp_path, {**files, "pkg/deep/mod.py": ""})
    assert teardown_before_background(project_fastapi(str(tmp_path / "pkg" / "deep" / "mod.py"))) is expected


def test_version_setting_overrides_files(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "fastapi==0.110.0\n", "m.py": ""})
    assert not teardown_before_background(project_fastapi(str(tmp_path / "m.py"), "0.121.0"))
    assert teardown_before_background(project_fastapi(str(tmp_path / "m.py"), ">=0.107,<0.110"))


def test_unreadable_version_files_are_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": "[project\nbroken", "uv.lock": "not toml [[", "m.py": ""})
    assert project_fastapi(str(tmp_path / "m.py")) is None


def test_fastapi_version_setting_turns_on_default_scope_case() -> None:
    root = FIXTURES / "FDL107"
    baseline = lint(root, ["FDL107"])
    legacy = lint(root, ["FDL107"], fastapi_version="0.115.0")
    added = sorted(set(legacy) - set(baseline))
    # the default-scope look-alike in app/main.py; the plain-value task stays silent
    assert added == [("app/main.py", 39, "FDL107")]
    # a version outside 0.106-0.117 keeps only the scope="function" findings
    assert lint(root, ["FDL107"], fastapi_version="0.121.0") == [f for f in baseline if f[0].startswith("app/")]


# --- path analysis -------------------------------------------------------------------------------


def second_yields(source: str) -> list[int]:
    fn = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(fn, ast.FunctionDef)
    counter = YieldCounter()
    counter.block(fn.body, 0)
    return sorted(y.lineno for y in counter.second)


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("def f():\n    yield 1\n    yield 2\n", [3]),
        ("def f(a):\n    if a:\n        yield 1\n    else:\n        yield 2\n", []),
        ("def f(a):\n    if a:\n        yield 1\n        return\n    yield 2\n", []),
        ("def f():\n    try:\n        yield 1\n    except Exception:\n        raise\n    else:\n        pass\n", []),
        ("def f():\n    try:\n        yield 1\n    except Exception:\n        yield 2\n", [5]),
        ("def f():\n    try:\n        x = 1\n    except Exception:\n        yield 0\n        return\n    yield x\n", []),
        ("def f(xs):\n    for x in xs:\n        yield x\n", [3]),
        ("def f(xs):\n    for x in xs:\n        yield x\n        break\n", []),
        ("def f(xs):\n    for x in xs:\n        if x:\n            continue\n        yield x\n        return\n", []),
        ("def f():\n    while True:\n        yield 1\n", [3]),
        ("def f(xs):\n    for x in xs:\n        pass\n    else:\n        yield 1\n", []),
        ("def f():\n    x = (yield 1) + (yield 2)\n", [2]),
        ("def f():\n    def g():\n        yield 1\n        yield 2\n    yield g\n", []),
    ],
)
def test_yield_counter(source: str, lines: list[int]) -> None:
    assert second_yields(source) == lines


@pytest.mark.parametrize(
    ("handler", "raises"),
    [
        ("raise", True),
        ("log(e)\nraise HTTPException(400) from e", True),
        ("if a:\n    raise\nelse:\n    raise X()", True),
        ("if a:\n    raise", False),
        ("log(e)", False),
        ("return", False),
        ("try:\n    cleanup()\nexcept Exception:\n    pass\nraise", True),
        ("try:\n    raise X()\nexcept Exception:\n    pass", False),
        ("try:\n    pass\nfinally:\n    raise", True),
        ("sys.exit(1)", True),
        ("with lock:\n    raise", True),
        ("match e:\n    case A():\n        raise\n    case _:\n        raise X()", True),
        ("match e:\n    case A():\n        raise", False),
        ("while True:\n    raise", True),
        ("for x in y:\n    raise", False),
    ],
)
def test_always_raises(handler: str, raises: bool) -> None:
    body = ast.parse(handler).body
    assert always_raises(body) is raises


# --- the FastAPI behaviour the messages describe -------------------------------------------------


RUNTIME_APP = """
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI

app = FastAPI()
seen = {}


class Boom(Exception):
    pass


class Resource:
    closed = False


def swallowing():
    try:
        yield 1
    except Boom:
        pass


def twice():
    yield 1
    yield 2


def resource():
    r = Resource()
    try:
        yield r
    finally:
        r.closed = True


def task(name, r):
    seen[name] = r.closed


@app.get("/swallow")
def swallow(x: Annotated[int, Depends(swallowing)]):
    raise Boom()


@app.get("/twice")
def two(x: Annotated[int, Depends(twice)]):
    return x


@app.get("/function")
def function_scope(t: BackgroundTasks, r: Annotated[Resource, Depends(resource, scope="function")]):
    t.add_task(task, "function", r)


@app.get("/request")
def request_scope(t: BackgroundTasks, r: Annotated[Resource, Depends(resource)]):
    t.add_task(task, "request", r)
"""


def test_runtime_behaviour_matches_messages() -> None:
    """FDL105: a swallowed error becomes "Response not awaited"; FDL106: a second yield fails
    with "generator didn't stop"; FDL107: scope="function" tears down before background tasks,
    the default request scope after them (FastAPI >= 0.118)."""
    fastapi = pytest.importorskip("fastapi")
    testclient = pytest.importorskip("fastapi.testclient")
    if tuple(int(p) for p in fastapi.__version__.split(".")[:2]) < (0, 121):
        pytest.skip("Depends(scope=...) needs FastAPI 0.121+")
    namespace: dict[str, object] = {"__name__": "fdl_runtime_app"}
    exec(compile(RUNTIME_APP, "fdl_runtime_app.py", "exec"), namespace)  # noqa: S102 - our own test app
    client = testclient.TestClient(namespace["app"])
    with pytest.raises(Exception, match="Response not awaited"):
        client.get("/swallow")
    with pytest.raises(RuntimeError, match="didn't stop"):
        client.get("/twice")
    client.get("/function")
    client.get("/request")
    assert namespace["seen"] == {"function": True, "request": False}


# --- real code -------------------------------------------------------------------------------------


def test_fastapi_docs_only_the_intentional_example(fastapi_sdist: Path) -> None:
    """FastAPI's docs are correct code, except tutorial008c, its deliberate "don't swallow" example."""
    found = lint(fastapi_sdist / "docs_src", LIFECYCLE)
    assert found == [
        ("dependencies/tutorial008c.py", 15, "FDL105"),
        ("dependencies/tutorial008c_non_an.py", 13, "FDL105"),
    ]


def test_rules_survive_odd_bodies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": """
                from fastapi import BackgroundTasks, Depends, FastAPI

                app = FastAPI()

                def lam():
                    f = lambda: (yield)
                    yield f

                def weird(kind: str = ""):
                    match kind:
                        case "a":
                            yield 1
                    try:
                        pass
                    except* ValueError:
                        pass

                async def agen():
                    async for x in source():
                        pass
                    yield (yield) if False else None

                @app.get("/")
                def r(t: BackgroundTasks, a=Depends(lam), b=Depends(weird), c=Depends(agen)):
                    t.add_task(print, a, b, c)
            """,
        },
    )
    lint(tmp_path, LIFECYCLE, fastapi_version="0.110.0")  # no internal error, whatever it finds


def test_fdl101_leaves_closed_returns_to_fdl103() -> None:
    """`try: return db` / `finally: db.close()` is closed too early, not leaked: one finding."""
    found = lint(FIXTURES / "FDL103", ["FDL101", "FDL103"])
    assert [f for f in found if f[2] == "FDL101"] == []
    assert ("app/database.py", 13, "FDL103") in found
