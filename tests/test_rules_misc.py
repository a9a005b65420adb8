"""Unit tests for FDL503, FDL601, FDL701 and FDL702 behaviour the fixtures cannot express
(messages, locations, configuration, file layout, opt-in defaults)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project
from fastapi_deplint.rules.base import Finding


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run(tmp_path: Path, files: dict[str, str], select: list[str] | None, **options: object) -> list[Finding]:
    write(tmp_path, files)
    config = Config(select=select or [])
    for key, value in options.items():
        setattr(config, key, value)
    return engine.run(build_project([tmp_path], jobs=1), config).findings


def codes(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(Path(f.path).name, f.line, f.code) for f in findings]


# --- FDL503 ------------------------------------------------------------------------------------

GUARDED = """
import functools
from fastapi import APIRouter, FastAPI

def login_required(func):
    @functools.wraps(func)
    async def wrapper(*args, **kwargs):
        return await func(*args, **kwargs)
    return wrapper

app = FastAPI()
router = APIRouter(prefix="/admin")

@login_required
@router.get("/users")
@router.get("/people")
async def users():
    return []

app.include_router(router, prefix="/v1")
"""


def test_fdl503_one_finding_per_decorator_naming_route_and_path(tmp_path: Path) -> None:
    found = run(tmp_path, {"main.py": GUARDED}, ["FDL503"])
    assert codes(found) == [("main.py", 14, "FDL503")]
    message = found[0].message
    assert "`@login_required`" in message and "`@router.get(...)`" in message
    assert "`GET /v1/admin/users`" in message and "never runs for requests" in message
    assert (found[0].col, found[0].end_col) == (1, 15)  # the decorator expression, after `@`


def test_fdl503_metadata_decorators_config(tmp_path: Path) -> None:
    assert run(tmp_path, {"main.py": GUARDED}, ["FDL503"], metadata_decorators=["login_required"]) == []
    assert run(tmp_path, {"main.py": GUARDED}, ["FDL503"], metadata_decorators=["main.login_required"]) == []


def test_fdl503_decorator_imported_from_another_module(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/marks.py": """
            def public(func):
                func.is_public = True
                return func

            def cached(seconds):
                def decorator(func):
                    async def wrapper(*args, **kwargs):
                        return await func(*args, **kwargs)
                    return wrapper
                return decorator
        """,
        "pkg/main.py": """
            from fastapi import FastAPI
            from . import marks

            app = FastAPI()

            @marks.public
            @app.get("/a")
            async def a():
                return 1

            @marks.cached(60)
            @app.get("/b")
            async def b():
                return 2
        """,
    }
    found = run(tmp_path, files, ["FDL503"])
    assert codes(found) == [("main.py", 12, "FDL503")]
    assert "`@marks.cached(...)`" in found[0].message


def test_fdl503_noqa(tmp_path: Path) -> None:
    text = GUARDED.replace("@login_required\n", "@login_required  # noqa: FDL503\n")
    assert run(tmp_path, {"main.py": text}, ["FDL503"]) == []


# --- FDL601 ------------------------------------------------------------------------------------

APP = """
from fastapi import Depends, FastAPI

def get_user():
    return "real"

app = FastAPI()

@app.get("/me")
def me(user=Depends(get_user)):
    return user
"""

LEAK = """
from fastapi.testclient import TestClient
from main import app, get_user

client = TestClient(app)

def test_me():
    app.dependency_overrides[get_user] = lambda: "fake"
    assert client.get("/me").json() == "fake"
"""


def test_fdl601_points_at_the_assignment_with_advice(tmp_path: Path) -> None:
    found = run(tmp_path, {"main.py": APP, "tests/test_me.py": LEAK}, ["FDL601"])
    assert codes(found) == [("test_me.py", 8, "FDL601")]
    assert "app.dependency_overrides" in found[0].message and "yield" in found[0].message
    assert found[0].symbol == "test_me"


def test_fdl601_only_in_test_files(tmp_path: Path) -> None:
    """Application code that installs overrides on purpose (an in-process client) is not a test."""
    assert run(tmp_path, {"main.py": APP, "tests/helpers_me.py": LEAK}, ["FDL601"]) == []
    found = run(tmp_path, {"main.py": APP, "tests/me_test.py": LEAK}, ["FDL601"])
    assert codes(found) == [("me_test.py", 8, "FDL601")]


def test_fdl601_autouse_fixture_in_a_parent_conftest(tmp_path: Path) -> None:
    conftest = """
        import pytest
        from main import app

        @pytest.fixture(autouse=True)
        def reset():
            yield
            app.dependency_overrides = {}
    """
    files = {"main.py": APP, "tests/conftest.py": conftest, "tests/unit/test_me.py": LEAK}
    assert run(tmp_path, files, ["FDL601"]) == []
    # a conftest in a sibling folder does not apply
    files = {"main.py": APP, "other/conftest.py": conftest, "tests/unit/test_me.py": LEAK}
    assert codes(run(tmp_path / "2", files, ["FDL601"])) == [("test_me.py", 8, "FDL601")]


def test_fdl601_conftest_runtest_hook(tmp_path: Path) -> None:
    conftest = """
        from main import app

        def pytest_runtest_teardown(item):
            app.dependency_overrides.clear()
    """
    assert run(tmp_path, {"main.py": APP, "tests/conftest.py": conftest, "tests/test_me.py": LEAK}, ["FDL601"]) == []


def test_fdl601_patch_object_and_addcleanup(tmp_path: Path) -> None:
    tests = """
        import unittest
        from unittest import mock
        from main import app, get_user

        @mock.patch.object(app, "dependency_overrides", {})
        def test_patched():
            app.dependency_overrides[get_user] = lambda: "fake"

        class MeTest(unittest.TestCase):
            def test_me(self):
                self.addCleanup(lambda: app.dependency_overrides.pop(get_user))
                app.dependency_overrides[get_user] = lambda: "fake"
    """
    assert run(tmp_path, {"main.py": APP, "tests/test_me.py": tests}, ["FDL601"]) == []


def test_fdl601_fixture_chain_cleans(tmp_path: Path) -> None:
    tests = """
        import pytest
        from fastapi.testclient import TestClient
        from main import app, get_user

        @pytest.fixture
        def clean_app():
            yield app
            app.dependency_overrides.clear()

        @pytest.fixture
        def client(clean_app):
            return TestClient(clean_app)

        def test_me(client):
            app.dependency_overrides[get_user] = lambda: "fake"
            assert client.get("/me").json() == "fake"
    """
    assert run(tmp_path, {"main.py": APP, "tests/test_me.py": tests}, ["FDL601"]) == []



def test_fdl601_reads_a_conftest_the_prescan_skipped(tmp_path: Path) -> None:
    """A conftest with no FastAPI words is not parsed up front; its fixtures still count, and
    the verdict does not depend on whether another rule happened to parse it first."""
    factory = "from main import app as made\n\ndef create_app():\n    return made\n"
    conftest = """
        import pytest
        from factory import create_app

        @pytest.fixture
        def app():
            return create_app()
    """
    tests = """
        from main import get_user

        def test_me(app):
            app.dependency_overrides[get_user] = lambda: "fake"
    """
    files = {"main.py": APP, "factory.py": factory, "tests/conftest.py": conftest, "tests/test_me.py": tests}
    assert run(tmp_path, files, ["FDL601"]) == []  # a fresh app per test cannot leak
    leaky = conftest.replace("return create_app()", "return made_once").replace("import create_app", "import made_once")
    found = run(tmp_path / "2", {**files, "tests/conftest.py": leaky}, ["FDL601"])
    assert codes(found) == [("test_me.py", 5, "FDL601")]

def test_fdl601_reads_again_only_test_files_with_an_open_override(tmp_path: Path, monkeypatch) -> None:
    """Extraction counts the overrides nothing in their own file undoes; the rule parses again
    only files where that count is not 0 (and the conftests above them)."""
    from fastapi_deplint.facts import detail

    undone_here = LEAK.replace('== "fake"', '== "fake"\n    app.dependency_overrides.clear()')
    conftest = "import pytest\nfrom main import app\n\n@pytest.fixture(autouse=True)\ndef reset():\n    yield\n    app.dependency_overrides = {}\n"
    write(tmp_path, {"main.py": APP, "tests/test_here.py": undone_here, "tests/test_leak.py": LEAK, "tests/conftest.py": conftest})
    project = build_project([tmp_path], jobs=1)
    counts = {Path(f.path).name: f.open_overrides for f in project.graph.modules.values() if f.test_file}
    assert counts == {"test_here.py": 0, "test_leak.py": 1, "conftest.py": 0}
    parsed: list[str] = []
    real = detail.module_tree
    monkeypatch.setattr(detail, "module_tree", lambda path: parsed.append(Path(path).name) or real(path))
    assert engine.run(project, Config(select=["FDL601"])).findings == []  # the conftest undoes it
    assert sorted(parsed) == ["conftest.py", "test_leak.py"]


def test_fdl601_finalizer_registered_before_the_override(tmp_path: Path) -> None:
    """A helper that clears, called by a finalizer registered before the override is set: the
    statement that calls it never spells `dependency_overrides`, and is still looked into."""
    tests = """
        from main import app, get_user

        def reset_overrides():
            app.dependency_overrides.clear()

        def test_me(request):
            request.addfinalizer(lambda: reset_overrides())
            app.dependency_overrides[get_user] = lambda: "fake"

        def test_other(request):
            request.addfinalizer(lambda: print("done"))
            app.dependency_overrides[get_user] = lambda: "fake"
    """
    found = run(tmp_path, {"main.py": APP, "tests/test_me.py": tests}, ["FDL601"])
    assert codes(found) == [("test_me.py", 13, "FDL601")]


def test_fdl601_skipping_what_cannot_matter_models_the_same() -> None:
    """A test module modelled from its text (expressions and statements that spell none of the
    words are not walked) has the same sites, fixtures, helpers and open count as one walked
    whole."""
    import ast

    from fastapi_deplint.rules.fdl601_override_not_cleared import OverrideNotCleared
    from fastapi_deplint.rules.fdl601_testcode import TestModule
    from fastapi_deplint.source import LINE_BREAK

    files = sorted((Path(__file__).resolve().parent.parent / "fixtures" / "FDL601").rglob("*.py"))
    assert len(files) >= 8
    for path in files:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        pruned, whole = TestModule.build(str(path), "m", tree, LINE_BREAK.split(text)), TestModule.build(str(path), "m", tree)
        assert [(s.node.lineno, s.key) for s in pruned.sites] == [(s.node.lineno, s.key) for s in whole.sites]
        assert pruned.helpers == whole.helpers and pruned.fixtures == whole.fixtures
        assert len(pruned.parents) < len(whole.parents) or len(whole.parents) < 200
        rule = OverrideNotCleared()
        assert [rule._covered(pruned, [], s) for s in pruned.sites] == [rule._covered(whole, [], s) for s in whole.sites]


def test_fdl601_counting_open_overrides_changes_no_finding(monkeypatch) -> None:
    """The fixtures' findings are the same when every test file is read again (the count
    not worked out): a change undone in its own file is undone in the whole project."""
    from fastapi_deplint import source

    root = Path(__file__).resolve().parent.parent / "fixtures" / "FDL601"

    def findings() -> list[tuple[str, int]]:
        result = engine.run(build_project([root], jobs=1), Config(select=["FDL601"]))
        return sorted((f.path, f.line) for f in result.findings)

    counted = findings()
    assert len(counted) >= 5
    monkeypatch.setattr(source, "_open_overrides", lambda *args: None)
    assert findings() == counted


# --- FDL701 ------------------------------------------------------------------------------------

STYLE = """
from typing import Annotated
from fastapi import Depends, FastAPI

def get_db():
    yield "db"

app = FastAPI()

@app.get("/")
def read(db: str = Depends(get_db, use_cache=False)):
    return db
"""


def test_fdl701_is_opt_in(tmp_path: Path) -> None:
    assert run(tmp_path, {"main.py": STYLE}, None) == []


def test_fdl701_location_spans_the_parameter(tmp_path: Path) -> None:
    found = run(tmp_path, {"main.py": STYLE}, ["FDL701"])
    assert codes(found) == [("main.py", 11, "FDL701")]
    f = found[0]
    line = STYLE.splitlines()[10]
    assert line[f.col : f.end_col] == "db: str = Depends(get_db, use_cache=False)"
    assert "`db: Annotated[str, Depends(get_db, use_cache=False)]`" in f.message


def test_fdl701_silent_when_the_project_pins_fastapi_before_annotated(tmp_path: Path) -> None:
    assert run(tmp_path, {"main.py": STYLE}, ["FDL701"], fastapi_version="0.94.1") == []
    assert len(run(tmp_path, {"main.py": STYLE}, ["FDL701"], fastapi_version="0.95.0")) == 1
    pinned = {"main.py": STYLE, "requirements.txt": "fastapi==0.89.1\n"}
    assert run(tmp_path / "old", pinned, ["FDL701"]) == []


# --- FDL702 ------------------------------------------------------------------------------------

UNUSED = """
from typing import Annotated
from fastapi import FastAPI, Security
from fastapi.security import OAuth2PasswordBearer

oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "read"})

def get_user(token: Annotated[str, Security(oauth2)]):
    return token

app = FastAPI()

@app.get("/items")
def items(user: Annotated[str, Security(get_user, scopes=["items"])]):
    return []
"""


def test_fdl702_is_opt_in_and_keeps_the_scopes(tmp_path: Path) -> None:
    assert run(tmp_path, {"main.py": UNUSED}, None) == []
    found = run(tmp_path, {"main.py": UNUSED}, ["FDL702"])
    assert codes(found) == [("main.py", 14, "FDL702")]
    assert "Security(get_user, scopes=['items'])" in found[0].message and "`user`" in found[0].message
    line = UNUSED.splitlines()[13]
    assert line[found[0].col : found[0].end_col].startswith("user: Annotated[str")


def test_fdl702_one_finding_for_a_route_registered_twice(tmp_path: Path) -> None:
    text = UNUSED.replace('@app.get("/items")', '@app.get("/items")\n@app.get("/things")')
    assert len(run(tmp_path, {"main.py": text}, ["FDL702"])) == 1
