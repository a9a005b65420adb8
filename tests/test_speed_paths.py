"""The fast paths must give the answers of the slow ones: the whole-run cache, the pre-scan,
and the textual tests that decide whether a deferred module is parsed."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, cast
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_deplint.cli import main
from fastapi_deplint.facts.text import bindings, function_texts, import_sources, imported_names, may_bind
from fastapi_deplint.project import build_project, gc_paused
from fastapi_deplint import source
from fastapi_deplint.graph.resolve import Resolver
from fastapi_deplint.rules._blocking import ASESSION, _may_block, _plain_class_only, may_be_variable, may_block, project_maker
from fastapi_deplint.source import is_relevant
from fixture_harness import actual, fixture_dirs

ROOT = Path(__file__).resolve().parent.parent
NEW_LEAK = "\n\ndef get_second_file():\n    return open('other.txt')\n"


def add_second_leak(proj: Path) -> None:
    """An edit with a new finding: a second leaking dependency and a route that uses it."""
    database = proj / "app" / "database.py"
    database.write_text(database.read_text() + NEW_LEAK)
    main_py = proj / "app" / "main.py"
    main_py.write_text(main_py.read_text() + "\n\nfrom .database import get_second_file  # noqa: E402\n\n\n"
                       "@app.get('/second')\ndef second(f=Depends(get_second_file)):\n    return 1\n")


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "--output-format", "concise", "--exit-zero", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture()
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(ROOT / "fixtures" / "FDL101", dest)
    monkeypatch.chdir(dest)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    return dest


def test_a_warm_run_reports_what_the_cold_run_did_and_an_edit_is_seen(proj: Path, tmp_path: Path) -> None:
    cold = check("app")
    assert list((tmp_path / "cache").glob("*/runs/*")), "the run was not stored"
    assert check("app") == cold
    assert check("app", "--no-cache") == cold
    add_second_leak(proj)
    edited = check("app")
    assert edited != cold and "get_second_file" in edited
    assert edited == check("app", "--no-cache")


def flake8(*args: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "FDL", *args], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return sorted(proc.stdout.splitlines())


def test_the_flake8_plugin_reuses_a_run_and_sees_an_edit(proj: Path, tmp_path: Path) -> None:
    """The plugin keeps its findings in the whole-run cache: a second flake8 run over an
    unchanged tree stores nothing new, gives the same report, and an edit is a new run."""
    cold = flake8("app")
    runs = {p for p in (tmp_path / "cache").glob("*/runs/*") if not p.name.startswith("record-")}
    assert cold and len(runs) == 1
    stored = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in runs]
    assert flake8("app") == cold
    assert flake8("-j", "2", "app") == cold
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in runs] == stored  # hits: not written again
    add_second_leak(proj)
    edited = flake8("app")
    assert edited != cold and any("get_second_file" in line for line in edited)
    os.environ["FASTAPI_DEPLINT_NO_CACHE"] = "1"
    try:
        assert flake8("app") == edited
    finally:
        del os.environ["FASTAPI_DEPLINT_NO_CACHE"]


def test_a_changed_dependency_manifest_is_a_new_run(proj: Path, tmp_path: Path) -> None:
    """FDL107 reads the pinned FastAPI version: a cached result must not outlive a bump."""
    (proj / "requirements.txt").write_text("fastapi==0.110.0\n")
    check("app")
    runs = set((tmp_path / "cache").glob("*/runs/*"))
    check("app")
    assert set((tmp_path / "cache").glob("*/runs/*")) == runs  # a hit stores nothing
    (proj / "requirements.txt").write_text("fastapi==0.118.0\n")
    check("app")
    assert len(set((tmp_path / "cache").glob("*/runs/*")) - runs) == 1


def test_an_edit_in_one_project_reanalyses_that_project_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files given one by one (pre-commit) are analysed project by project (folders with
    their own pyproject.toml), and the projects are cached one by one."""
    import fastapi_deplint.cli as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    for name in ("one", "two"):
        shutil.copytree(ROOT / "fixtures" / "FDL101", tmp_path / name)
        (tmp_path / name / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    analysed: list[str] = []
    real, real_part = cli.analyse, cli.analyse_part

    def spy(*args: object, **kwargs: object) -> object:
        groups = args[4]
        analysed.extend(g.root.name for g in groups)  # type: ignore[union-attr]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    def spy_part(group: cli.Group, *args: object) -> object:  # the edited part of a project only
        assert group.root is not None
        analysed.append(group.root.name)
        return real_part(group, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "analyse", spy)
    monkeypatch.setattr(cli, "analyse_part", spy_part)
    files = ("one/app/database.py", "two/app/database.py")
    cold = check(*files)
    assert sorted(analysed) == ["one", "two"] and "one/app/database.py" in cold and "two/app/database.py" in cold
    analysed.clear()
    assert check(*files) == cold and analysed == []
    database = tmp_path / "two" / "app" / "database.py"
    database.write_text("# moved down a line\n" + database.read_text())
    edited = check(*files)
    assert analysed == ["two"] and edited != cold
    assert edited == check(*files, "--no-cache")


def test_settings_are_part_of_the_run_key(proj: Path) -> None:
    every = check("app")
    assert check("app", "--select", "FDL102") != every
    assert check("app") == every


@pytest.mark.parametrize(
    ("source", "relevant"),
    [
        (b"from .main import app\n\n@app.get('/')\ndef root():\n    return 1\n", True),
        (b"@router.post(\n    path=''\n)\nasync def f(): ...\n", True),
        (b"x = Depends(get_db)\n", True),
        (b"app.include_router(r)\n", True),
        (b"from fastapi import HTTPException\n\ndef helper():\n    raise HTTPException(404)\n", False),
        (b"@mock.patch('pkg.mod.thing')\ndef test_x(m): ...\n", False),
        (b"import requests\n", False),
        (b"app = fastapi.FastAPI (title='x')\n", True),
        (b"class Api(FastAPI):\n    pass\n", True),
        (b"def setup(app: FastAPI) -> None: ...\n", True),
        (b"user = Security(get_user, scopes=['me'])\n", True),
        (b'"""Read more in the FastAPI docs."""\nfrom fastapi import FastAPI\n', False),
        (b'EXPECTED = {"info": {"title": "FastAPI", "version": "0.1.0"}}\n', False),
        (b"raise FastAPIError('x')\n", False),
        (b"MIDDLEWARE = ['django.middleware.security.SecurityMiddleware']\n", False),
        (b"headers['Strict-Transport-Security'] = 'max-age=1'\nraise TemplateSecurityError(x)\n", False),
        (b"class TimedRoute(routing.APIRoute):\n    pass\n", True),
        (b"router = APIRouter(route_class=TimedRoute)\n", True),
        (b"app.add_api_route('/x', handler)\n", True),
        (b"router.add_api_websocket_route('/ws', handler)\n", True),
        (b"await SearchAPIRouter.async_search(q)\n", False),
        (b"data = add_api_key_to_headers(data)\n", False),
    ],
)
def test_the_prescan_keeps_files_that_can_declare_graph_parts(source: bytes, relevant: bool) -> None:
    assert is_relevant(source) is relevant


def test_function_texts_cut_a_function_out_of_a_module() -> None:
    source = (b"async def helper(\n    a: int,\n) -> None:\n    x = 1\n    time.sleep(1)\n\n"
              b"def other():\n    helper(1)\n\nclass K:\n    def helper(self):\n        return 1\n    def z(self): pass\n")
    texts = list(function_texts(source, "helper"))
    assert len(texts) == 2
    assert b"time.sleep" in texts[0] and b"other" not in texts[0]
    assert texts[1].strip().endswith(b"return 1")


def test_function_texts_do_not_end_inside_a_multi_line_string() -> None:
    """A line of a string at the `def`'s indentation is no end of the function: the code
    after the string must stay in its text (a test that says "no" on a cut text is wrong)."""
    source = b'def make():\n    s = """\nx:\n    """ + requests.get(u)\n    return s\n\n\ndef other():\n    pass\n'
    (text,) = function_texts(source, "make")
    assert b"requests.get" in text


@pytest.mark.parametrize(
    ("source", "kept", "left_out"),
    [
        (b'def make(\n    a: int,\n) -> None:  # note\n    """Returns a client."""\n    return build()\n', b"return build()", b"client"),
        (b'def make():\n    r\'\'\'A client\n    maker.\'\'\'\n    return 1\n', b"return 1", b"client"),
        (b'def make():\n    f"""{client()}"""\n', b"client()", None),  # an f-string runs code
        (b'def make():\n    x = 1\n    """client"""\n', b"client", None),  # not the docstring
        (b'def make():\n    """A \\""" client"""\n    return client()\n', b"client()", None),  # cut early, not late
    ],
)
def test_function_texts_leave_the_docstring_out(source: bytes, kept: bytes, left_out: bytes | None) -> None:
    """A docstring runs nothing: a word in it ("returns a client") must not make a textual
    test parse the module."""
    (text,) = function_texts(source, "make")
    assert kept in text
    assert left_out is None or left_out not in text


@pytest.mark.parametrize(
    ("text", "name", "sources"),
    [
        (b"from .impl import archive as store, label\n", "store", [(".impl", "archive")]),
        (b"from .impl import archive as store, label\n", "archive", []),  # renamed: `archive` is not bound
        (b"from ..x import (\n    a,  # the first\n    b as c,\n)\n", "c", [("..x", "b")]),
        (b"from ..x import (\n    a,  # the first\n    b,\n)\n", "b", [("..x", "b")]),  # after a comment
        (b"import pkg.mod as m, os\n", "m", [("pkg.mod", None)]),
        (b"import pkg.mod\n", "pkg", [("pkg.mod", None)]),
        (b"from . import files\n", "files", [(".", "files")]),
        (b"from .impl import *\n", "anything", [(".impl", "anything")]),
        (b'"""files, store"""\nfiles = 1\nprint(store)  # import store\n', "files", []),  # no import binds it
        (b"def f():\n    from .impl import store\n", "store", [(".impl", "store")]),
    ],
)
def test_import_sources_read_the_statements_that_bind_a_name(text: bytes, name: str, sources: list[object]) -> None:
    """What `Resolver._hands_on` follows through a deferred module that re-exports a name; the
    same bindings as `imported_names` takes from every import of the module."""
    assert sorted(import_sources(text, name), key=str) == sorted(sources, key=str)
    table = imported_names(text)
    expected = [(m.decode(), a.decode() if a else None) for m, a in table.get(name.encode(), ())]
    expected += [(m.decode(), name) for m, _ in table.get(b"*", ())]
    assert sorted(import_sources(text, name), key=str) == sorted(expected, key=str)


def test_a_module_with_very_many_defs_of_a_name_is_one_text() -> None:
    """Cutting out each of 100,000 `def pause(` took 15 s; past `MAX_DEFS` the whole module is
    the text (a textual test then errs towards parsing it)."""
    data = b"def pause(\n" * 100000
    started = time.perf_counter()
    assert list(function_texts(data, "pause")) == [data]
    assert time.perf_counter() - started < 5


def test_reading_imports_takes_linear_time_in_a_hostile_file() -> None:
    """A skipped module is never parsed, so its text may be anything: 20,000 `import (` left
    open, or one `(` and 80,000 mentions of the name. Scanning from each statement or each
    mention to the end of the file took 11 s and more (quadratic); now each byte is looked at
    a bounded number of times."""
    for data in (b"from x import (\n" * 20000 + b"nap\n", b"x = (\n" + b"nap, " * 80000 + b"\n"):
        started = time.perf_counter()
        assert import_sources(data, "nap") == []
        imported_names(data)
        assert time.perf_counter() - started < 5


def test_textual_tests_of_assignments_take_linear_time_in_a_hostile_file() -> None:
    """`x = C1()` ... `x = C20000()`, or 200,000 literal assignments: each class would be a
    pass over the module; only the first few are looked up."""
    from fastapi_deplint.facts.text import may_assign_call

    many_classes = b"".join(b"class C%d:\n    pass\nx = C%d()\n" % (i, i) for i in range(20000))
    literals = b"x = 1\n" * 200000
    for data in (many_classes, literals):
        started = time.perf_counter()
        may_be_variable(data, "x")
        may_assign_call(data, "x")
        assert time.perf_counter() - started < 5


@pytest.mark.parametrize("root", fixture_dirs(), ids=lambda p: p.name)
def test_deferring_modules_finds_what_parsing_every_module_finds(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The textual tests may parse a deferred module for nothing, but must never rule out one
    whose facts would give a finding: every fixture, pre-scan on and off, same findings."""
    deferred = actual(root)
    monkeypatch.setattr(source, "is_relevant", lambda data: True)
    assert actual(root) == deferred


@pytest.mark.parametrize(
    ("text", "name", "binds"),
    [
        (b"from .impl import label\n", "impl", False),  # spelled, but `impl` is left to the submodule
        (b"from .impl import label\nimpl = None\n", "impl", True),
        (b"from . import impl\n", "impl", True),
        (b"import pkg.impl as impl\n", "impl", True),
        (b"def impl():\n    pass\n", "impl", True),
        (b"from .impl import *\n", "other", True),
        (b"x = 1\n", "impl", False),
    ],
)
def test_may_bind_tells_a_name_bound_from_a_name_only_imported_from(text: bytes, name: str, binds: bool) -> None:
    assert may_bind(text, name) is binds


@pytest.mark.parametrize(
    ("text", "name", "may"),
    [
        (b"import requests\nhttp = requests.Session()\n", "http", True),
        (b"import requests\nshared: requests.Session\n", "shared", True),
        (b"client = None  # set at startup\nclient = make_client()\n", "client", True),
        (b'VERSION = "1.2"\nROUTES = [1, 2]\nLIMIT = -1\nFLAG = True\n', "VERSION", False),
        (b'ROUTES = [1, 2]\n', "ROUTES", False),
        (b"class ChatTable:\n    pass\n\nChats = ChatTable()\n", "Chats", False),
        (b"from pydantic import BaseModel\nclass Form(BaseModel):\n    pass\n\nform = Form()\n", "form", False),
        (b"from sqlalchemy.orm import Session\nclass DB(Session):\n    pass\n\ndb = DB()\n", "db", True),
        (b"def client():\n    return 1\n", "client", False),
        (b"from .clients import http\n", "http", False),  # the resolver follows the import itself
        (b"x = 1\n", None, True),
        (b"class Registry:\n    pass\n\nREGISTRY: Final = Registry()\nRegistry.reset()\n", "REGISTRY", False),
        (b"import requests\nHTTP: Final = requests.Session()\n", "HTTP", True),
        (b"class Registry:\n    pass\n\nREGISTRY = Registry()\nRegistry = make()\n", "REGISTRY", True),
    ],
)
def test_may_be_variable_rules_out_names_that_cannot_hold_a_blocking_kind(text: bytes, name: str | None, may: bool) -> None:
    assert may_be_variable(text, name) is may


@pytest.mark.parametrize(
    ("text", "name", "bound"),
    [
        (b"from .impl import x\n", "impl", set()),
        (b"import httpx\nclient = httpx.Client()\n", "client", {"assign"}),
        (b"x: int = 1\nx == 2\n", "x", {"assign"}),
        (b"x == 1\nprint(x)\n", "x", set()),
        (b"import requests\nshared: requests.Session\n", "shared", {"annotation"}),
        (b"class RedisService(Base):\n    pass\n", "RedisService", {"class"}),
        (b"async def make():\n    return 1\n", "make", {"def"}),
        (b"from httpx import AsyncClient as C\n", "C", {"import"}),
        (b"from .a import b as C\n", "C", {"relative"}),
        (b"from m import *\n", "q", {"star"}),
    ],
)
def test_bindings_says_how_a_text_may_bind_a_name(text: bytes, name: str, bound: set[str]) -> None:
    assert bindings(text, name) == bound


class _Project:
    """A resolver's view of which absolute module names are the project's."""

    def __init__(self, *modules: str) -> None:
        self.modules = set(modules)

    def may_be_module(self, name: str) -> bool:
        return name in self.modules


@pytest.mark.parametrize(
    ("text", "name", "verdict"),
    [
        (b"import requests\ndef f(u):\n    requests.get(u)\n", "f", True),
        (b"def f(db: Session):\n    db.query(X).all()\n", "f", True),  # a type word of the method's kind
        (b"async def f(db: AsyncSession):\n    await db.execute(q)\n    d = {}\n    d.get(1)\n", "f", "kinds"),
        (b"def f(x):\n    x.commit()\n", "f", "kinds"),  # blocks only if the caller hands it a session
        (b"from .db import (\n    SessionLocal,\n)\ndef f():\n    db = SessionLocal()\n    db.commit()\n", "f", True),
        (b"def f(resp):\n    data = resp.json()\n    return data.get('k')\n", "f", "kinds"),
        (b"client = Redis()\ndef f(k):\n    return client.get(k)\n", "f", True),  # a module-level value
        (b"def g():\n    time.sleep(1)\n", "f", "kinds"),  # no such function
        # an awaited method call is no blocking call: `get_session` need not be looked at
        (b"from .db import get_session\nasync def f():\n    s = get_session()\n    r = await s.execute(q)\n", "f", "kinds"),
        # ... unless its result is used further, or the call is not the whole of the `await`
        (b"from .db import get_session\nasync def f():\n    s = get_session()\n    await s.execute(q).first()\n", "f", True),
        (b"from .db import get_session\nasync def f():\n    s = get_session()\n    await g(s.execute(q))\n", "f", True),
        # a bare call blocks when the name is imported from the library where it blocks
        (b"from time import sleep\ndef f():\n    sleep(1)\n", "f", True),
        (b"from requests import get as fetch\ndef f(u):\n    return fetch(u)\n", "f", True),  # renamed
        (b"from requests import *\ndef f(u):\n    return get(u)\n", "f", True),
        # ... not when another library's name is called (`sqlalchemy.delete`, beside `requests`)
        (b"import requests\nfrom sqlalchemy import delete\ndef f(db):\n    db.run(delete(X))\n", "f", "kinds"),
        (b"from requests import get\ndef f(d):\n    return d.get(1), target(2), forget(3)\n", "f", "kinds"),
    ],
)
def test_may_block_names_the_kinds_a_helper_needs_to_block(text: bytes, name: str, verdict: object) -> None:
    if verdict is True:  # (a relative import is the project's)
        assert may_block(name, lambda: frozenset(), project_maker(cast(Resolver, _Project())))(text, None) is True
    else:
        got = _may_block(text, name)
        assert got is not True and ASESSION not in got[0]


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        # the receiver comes from a project function: its kind is known once parsed
        (b"from .db import make\ndef f():\n    c = make()\n    c.get(1)\n", True),
        (b"from app.db import make\ndef f():\n    c = make()\n    c.get(1)\n", True),
        (b"import app.db\ndef f():\n    c = app.db.make()\n    c.get(1)\n", True),
        (b"from app import db\ndef f():\n    c = db.make()\n    c.get(1)\n", True),  # a submodule
        (b"from redis import from_url\ndef f():\n    c = from_url(u)\n    c.get(1)\n", True),  # a library's maker
        # ... from a library's function that makes no blocking kind: no need to parse
        (b"from copy import deepcopy\ndef f(d):\n    c = deepcopy(d)\n    c.get(1)\n", False),
        (b"import json\ndef f(s):\n    c = json.loads(s)\n    c.get(1)\n", False),
        (b"from types import MappingProxyType\ndef f(d):\n    c = MappingProxyType(d)\n    c.get(1)\n", False),
    ],
)
def test_a_receiver_made_by_a_library_function_blocks_only_when_the_library_makes_a_kind(text: bytes, blocks: bool) -> None:
    test = may_block("f", lambda: frozenset(), project_maker(cast(Resolver, _Project("app", "app.db"))))
    assert test(text, None) is blocks


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        (b"from pydantic import BaseModel\nclass Form(BaseModel):\n    x: int\n", True),
        (b"from pydantic import (\n    Field,\n    BaseModel,\n)\nclass Form(BaseModel):\n    x: int\n", True),
        (b"class Form:\n    x: int\n", True),
        (b"from enum import Enum\nclass Form(str, Enum):\n    A = 1\n", True),
        (b"from app.db import BaseModel\nclass Form(BaseModel):\n    x: int\n", False),  # a project base
        (b"from pydantic import BaseModel\nclass Base(BaseModel):\n    pass\nclass Form(Base):\n    x: int\n", True),
        (b"from sqlalchemy.orm import Session\nclass Base(Session):\n    pass\nclass Form(Base):\n    x: int\n", False),
        (b"class Form(Base):\n    pass\nclass Base(Form):\n    pass\n", False),  # a cycle: no plain base anywhere
        (b"class Form(str, Enum):\n    A = 1\n", False),  # `Enum` from nowhere
        (b"from sqlalchemy.orm import Session\nclass Form(Session):\n    pass\n", False),
        (b"from .models import Form\n", False),  # a re-export
        (b"from .models import *\nclass Form:\n    pass\n", False),
        (b"class Form:\n    pass\nForm = Session\n", False),
        (b"class object(Session): pass\nclass Form(object): pass\n", False),
    ],
)
def test_a_plain_class_is_no_reason_to_parse_its_module(text: bytes, plain: bool) -> None:
    assert _plain_class_only(text, "Form") is plain


def test_a_route_module_without_fastapi_names_joins_the_graph(tmp_path: Path) -> None:
    """`from .main import app` then `@app.get(...)`: parsed although it names nothing of FastAPI."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "main.py").write_text("from fastapi import FastAPI\napp = FastAPI()\nfrom . import views  # noqa\n")
    (pkg / "views.py").write_text("from .main import app\n\n\n@app.get('/items')\nasync def items():\n    return []\n")
    (pkg / "helpers.py").write_text("from fastapi import HTTPException\n\n\ndef fail():\n    raise HTTPException(404)\n")
    project = build_project([tmp_path], jobs=1)
    assert [r.path for r in project.graph.routes] == ["/items"]
    assert "pkg.helpers" not in project.graph.modules  # deferred: nothing reached it


def test_a_default_named_in_a_skipped_module_is_a_marker_only_when_bound_to_a_call(tmp_path: Path) -> None:
    """`user=CURRENT_USER` with `CURRENT_USER = auth_dep()` in a module that names nothing of
    FastAPI: that module is parsed and the dependency found; `limit=DEFAULT_LIMIT` (a
    literal in another such module) parses nothing."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "auth.py").write_text("from fastapi import Depends\n\n\ndef get_user():\n    return 'me'\n\n\ndef auth_dep():\n    return Depends(get_user)\n")
    (pkg / "markers.py").write_text("from .auth import auth_dep\n\nCURRENT_USER = auth_dep()\n")
    (pkg / "limits.py").write_text("DEFAULT_LIMIT = 100\nMAX_LIMIT: int = 1000\n")
    (pkg / "main.py").write_text(
        "from fastapi import FastAPI\nfrom .markers import CURRENT_USER\nfrom .limits import DEFAULT_LIMIT\n\napp = FastAPI()\n\n\n"
        "@app.get('/items')\nasync def items(user=CURRENT_USER, limit: int = DEFAULT_LIMIT):\n    return []\n"
    )
    project = build_project([tmp_path], jobs=1)
    (route,) = project.graph.routes
    assert [e.target for e in route.all_edges()] == ["pkg.auth.get_user"]
    assert "pkg.markers" in project.graph.modules and "pkg.limits" not in project.graph.modules


def test_the_deferral_index_skips_unchanged_deferred_files_and_sees_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fastapi_deplint.cache as cache_module
    import fastapi_deplint.source as source_module
    from fastapi_deplint.cache import FactsCache
    from fastapi_deplint.project import collect_facts_parallel

    monkeypatch.setattr(cache_module, "RACY_NS", 0)  # files written by the test are brand new
    (tmp_path / "main.py").write_text("from fastapi import Depends\n")
    helpers = tmp_path / "helpers.py"
    helpers.write_text("client = make_client()\n")
    cache = FactsCache(tmp_path / "cache")
    read: list[str] = []
    real = source_module.read_source

    def spy(path: Path) -> bytes:
        read.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(source_module, "read_source", spy)
    files = [tmp_path / "helpers.py", tmp_path / "main.py"]
    first = collect_facts_parallel(files, 1, cache)
    read.clear()
    second = collect_facts_parallel(files, 1, cache)
    assert read == ["main.py"], "an unchanged deferred file was opened again"
    assert second[0].deferred and second[0].global_calls == first[0].global_calls == {"client": "make_client"}
    # an edit of the same size with the old mtime still changes the ctime
    st = helpers.stat()
    helpers.write_text("client = Depends(x)\n"[: st.st_size].ljust(st.st_size))
    os.utime(helpers, ns=(st.st_atime_ns, st.st_mtime_ns))
    third = collect_facts_parallel(files, 1, cache)
    assert "helpers.py" in read and not third[0].deferred


def _canonical(value: object) -> object:
    """A facts object as plain, order-stable data (sets sorted; X nodes compare by identity)."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return (type(value).__name__, *(_canonical(getattr(value, f.name)) for f in dataclasses.fields(value)))
    if isinstance(value, dict):
        return [(k, _canonical(v)) for k, v in value.items()]
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


@pytest.mark.parametrize("jobs", [2, 3])
def test_facts_on_several_processes_equal_one_process(tmp_path: Path, jobs: int) -> None:
    """Workers take chunks from the front and the parent from the back: every file's facts,
    in the given order, exactly as one process reads them (and as the cache then returns)."""
    from fastapi_deplint.cache import FactsCache
    from fastapi_deplint.project import CHUNK_FILES, collect_facts_parallel

    files = sorted(p for folder in ("fixtures", "examples") for p in (ROOT / folder).rglob("*.py"))
    assert len(files) > 8 * CHUNK_FILES  # enough chunks for both ends to take several
    serial = _canonical(collect_facts_parallel(files, 1))
    assert _canonical(collect_facts_parallel(files, jobs)) == serial
    # with the walk's stats the chunks go largest first: the results keep the given order
    assert _canonical(collect_facts_parallel(files, jobs, stats=[os.stat(f) for f in files])) == serial
    cache = FactsCache(tmp_path / "cache")
    assert _canonical(collect_facts_parallel(files, jobs, cache)) == serial
    assert _canonical(collect_facts_parallel(files, jobs, cache)) == serial


@pytest.mark.skipif(not hasattr(os, "fork"), reason="written behind only where a process can fork")
def test_cache_entries_written_behind_are_those_written_at_once(tmp_path: Path) -> None:
    """With `write_behind`, a forked child writes the new entries (the workers' pickles and
    the parent's facts) and the deferral index after the facts phase: the same entries, and
    in place once `settle` returns."""
    import pickle

    import fastapi_deplint.cache as cache_module
    from fastapi_deplint.cache import FactsCache, settle
    from fastapi_deplint.project import collect_facts_parallel

    files = sorted(p for folder in ("fixtures", "examples") for p in (ROOT / folder).rglob("*.py"))

    def entries(root: Path) -> dict[str, object]:
        return {str(p.relative_to(root)): _canonical(pickle.loads(p.read_bytes())) for p in sorted(root.rglob("*")) if p.is_file()}

    at_once, behind = FactsCache(tmp_path / "a"), FactsCache(tmp_path / "b")
    serial = _canonical(collect_facts_parallel(files, 2, at_once))
    assert _canonical(collect_facts_parallel(files, 2, behind, write_behind=True)) == serial
    assert len(cache_module._writers) == 1, "no background writer"
    settle()
    written = entries(tmp_path / "b")
    assert len(written) > len(files) / 2 and written == entries(tmp_path / "a")
    assert _canonical(collect_facts_parallel(files, 2, behind)) == serial  # and read back


def spied_check(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[bool, str]]:
    """`check ARGS` as (whether it analysed anything or answered from the cache, its report);
    the report must be what a run without the cache reports (see `recording_runs`)."""
    run = recording_runs(monkeypatch, lambda done: "part")

    def analysed(*args: str) -> tuple[bool, str]:
        how, report = run(*args)
        return bool(how), report

    return analysed


def test_an_edit_no_finding_can_depend_on_reuses_the_last_run(proj: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edited file the last run deferred and never read, still deferred with the same
    pre-scan verdict afterwards, cannot change the findings: the run is reused (see
    `run_cache`). Any other edit is a new run (see also `test_files_that_come_and_go...`)."""
    unrelated = proj / "app" / "unrelated.py"
    unrelated.write_text("VALUE = 1\n")
    run = spied_check(monkeypatch)
    ran, cold = run("app")
    assert ran and "FDL101" in cold

    def edit(path: Path, text: str) -> bool:
        """Whether the run after writing `text` analysed."""
        st = path.stat() if path.exists() else None
        path.write_text(text)
        if st is not None and path.stat().st_mtime_ns == st.st_mtime_ns:  # coarse clocks
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        return run("app")[0]

    assert not edit(unrelated, "VALUE = 2  # edited\n")
    assert not edit(unrelated, "VALUE = 3\n")
    assert edit(unrelated, "client = make_client()\n")  # a new module-level call: the pre-scan's verdict differs
    assert edit(unrelated, "from fastapi import Depends\n")  # now parsed
    assert edit(unrelated, "VALUE = 1\n")
    database = proj / "app" / "database.py"  # deferred, but read: linking parsed it on demand
    assert edit(database, database.read_text() + "\n# edited\n")
    assert not edit(proj / "app" / "new_module.py", "X = 1\n")  # a file came that nothing looked for


def recording_runs(monkeypatch: pytest.MonkeyPatch, partial: Callable[[Any], str]) -> Callable[..., tuple[list[str], str]]:
    """`check ARGS` as (how it analysed: "whole", `partial(result)` of a partial run,
    "declined"; its report), the report checked against a run without the cache."""
    import fastapi_deplint.cli as cli

    how: list[str] = []
    real, real_part = cli.analyse, cli.analyse_part

    def whole(*args: Any, **kwargs: Any) -> Any:
        how.append("whole")
        return real(*args, **kwargs)

    def part(*args: Any, **kwargs: Any) -> Any:
        done = real_part(*args, **kwargs)
        how.append(partial(done) if done is not None else "declined")
        return done

    monkeypatch.setattr(cli, "analyse", whole)
    monkeypatch.setattr(cli, "analyse_part", part)

    def run(*args: str) -> tuple[list[str], str]:
        how.clear()
        report = check(*args)
        ran = list(how)
        assert report == check(*args, "--no-cache")
        monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE")  # the option turns the cache off through it
        return ran, report

    return run


def test_files_that_come_and_go_reuse_or_re_run_what_they_can_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new or gone file re-runs only what it can change (`run_cache.Membership`): nothing
    when the pre-scan defers it and no module name looked up relates to it, the new file alone
    when it is FastAPI code, the whole project when a looked-up name, a package boundary or a
    new first segment is involved. Every report equals a run without the cache."""

    app = tmp_path / "proj" / "app"
    app.mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "database.py").write_text("def get_db():\n    return open('db.txt')\n")
    (app / "main.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom app.database import get_db\nfrom app.extras import extra\n\n"
        "app = FastAPI()\n\n\n@app.get('/a')\ndef a(db=Depends(get_db)):\n    return extra\n"
    )
    monkeypatch.chdir(tmp_path / "proj")
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    run = recording_runs(monkeypatch, lambda done: "part:" + ",".join(sorted(Path(p).name for p in done[1].focus)))

    def change(path: Path, text: str | None) -> list[str]:
        """How the run after writing `text` to `path` (None: removing it) analysed."""
        path.unlink() if text is None else path.write_text(text)
        return run(".")[0]

    assert change(app / "unused.py", "X = 1\n") == ["whole"]  # the first run
    assert change(app / "other.py", "import os\nVALUE = os.sep\n") == []  # deferred, unrelated
    assert change(app / "other.py", None) == []
    routes = "import time\n\nfrom fastapi import APIRouter, Depends\nfrom app.database import get_db\n\nrouter = APIRouter()\n\n\n"
    routes += "@router.get('/b')\nasync def b(db=Depends(get_db)):\n    time.sleep(1)\n"
    # FastAPI code: analysed alone, then with the part it imports from, never the whole project
    assert change(app / "more_routes.py", routes) == ["part:database.py,main.py,more_routes.py"]
    assert "more_routes.py:11:5: FDL302" in check(".")
    assert change(app / "unused.py", None) == []  # deferred and never read
    assert change(app / "extras.py", "extra = 1\n") == ["whole"]  # `app.extras` was looked up
    assert change(tmp_path / "proj" / "requests.py", "X = 1\n") == ["whole"]  # a new first segment
    (app / "sub").mkdir()
    assert change(app / "sub" / "__init__.py", "") == ["whole"]  # a package boundary
    # gone: an analysed file nothing looked up re-runs its part, one that was looked up all
    assert change(app / "more_routes.py", None) == ["part:database.py,extras.py,main.py,more_routes.py"]
    assert change(app / "extras.py", None) == ["whole"]
    # pytest finds a conftest.py by its folder, not by a module name: FDL601 reads every one
    leak = "from app.database import get_db\n\n\ndef test_a(app):\n    app.dependency_overrides[get_db] = lambda: 1\n"
    assert change(app / "test_a.py", leak) == ["part:test_a.py"]
    assert "test_a.py:5:5: FDL601" in check(".")
    fresh_app = "import pytest\nfrom app.main import make\n\n\n@pytest.fixture\ndef app():\n    return make()\n"
    assert change(app / "conftest.py", fresh_app) == ["whole"]  # (the pre-scan defers it)
    assert "FDL601" not in check(".")
    assert change(app / "conftest.py", None) == []  # the tree of two runs ago: its own entry


def test_a_module_a_re_export_names_is_looked_up_for_files_that_come_later(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Resolver._hands_on` follows a skipped module's re-export by text to the module it
    names; that name counts as looked up, so the file that brings it later re-runs the
    project (it was taken for unrelated, and the warm run kept "All checks passed")."""
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "helpers_pkg").mkdir()
    for empty in ("pyproject.toml", "app/__init__.py", "helpers_pkg/__init__.py"):
        (root / empty).write_text("")
    (root / "facade.py").write_text("from helpers_pkg.impl import pause as nap\n")
    (root / "app" / "main.py").write_text(
        "from fastapi import FastAPI\nfrom facade import nap\n\napp = FastAPI()\n\n\n@app.get('/')\nasync def root():\n    nap()\n"
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    run = recording_runs(monkeypatch, lambda done: "part")
    assert run(".")[0] == ["whole"]
    (root / "helpers_pkg" / "impl.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    how, report = run(".")
    assert how == ["whole"] and "main.py:9:5: FDL302" in report


def test_a_forked_child_s_reads_count_as_the_run_s(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules that run in a forked child read files too; the parent must know about them."""
    import fastapi_deplint.rules_parallel as rules_parallel
    from fastapi_deplint import engine
    from fastapi_deplint.config import Config

    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    config = Config(select=["ALL"])
    serial = engine.analyse([ROOT / "examples"], config, jobs=1)
    engine.run(serial, config, jobs=1)
    monkeypatch.setattr(rules_parallel, "MIN_GRAPH", 0)
    monkeypatch.setattr(rules_parallel, "take_back", lambda ends: None)  # every rule in the child
    forked = engine.analyse([ROOT / "examples"], config, jobs=1)
    engine.run(forked, config, jobs=2)
    assert forked.reads == serial.reads and serial.reads


def test_files_given_one_by_one_reuse_their_project_s_run(proj: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pre-commit passes other files every commit: the project's recorded run answers for
    any of them while no edit can change its findings, reported (fix markers too) as a
    fresh run reports them."""
    (proj / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    unrelated = proj / "app" / "unrelated.py"
    unrelated.write_text("VALUE = 1\n")
    run = spied_check(monkeypatch)

    assert run("app/main.py")[0]
    unrelated.write_text("VALUE = 2\n")
    assert run("app/unrelated.py") == (False, "All checks passed.\n")
    ran, report = run("app/database.py")
    assert not ran and "FDL101" in report
    assert run("app/main.py", "app/database.py")[0] is False
    # FDL101's (unsafe) fixes are described from the project's graph: a report that shows them
    # analyses again rather than show less than a fresh run
    assert run("app/main.py", "--output-format", "json")[0]  # a JSON report has its own record
    unrelated.write_text("VALUE = 3\n")
    assert run("app/unrelated.py", "--output-format", "json") == (False, "[]\n")
    ran, report = run("app/database.py", "--output-format", "json")
    assert ran and '"fix"' in report


def test_a_cache_hit_from_a_copy_elsewhere_keeps_its_own_path(tmp_path: Path) -> None:
    """Two copies of a tree share cache entries (same bytes, same module names): facts that
    come back from a worker's cache hit must carry the path they were read at."""
    from fastapi_deplint.cache import FactsCache
    from fastapi_deplint.project import collect_facts_parallel, display_path

    for copy in ("one", "two"):
        shutil.copytree(ROOT / "fixtures", tmp_path / copy)
    cache = FactsCache(tmp_path / "cache")
    first = sorted((tmp_path / "one").rglob("*.py"))
    collect_facts_parallel(first, 2, cache)
    second = sorted((tmp_path / "two").rglob("*.py"))
    facts = collect_facts_parallel(second, 2, cache)
    assert [f.path for f in facts] == [display_path(p) for p in second]


def test_what_is_built_while_the_gc_is_paused_is_not_scanned_as_young_afterwards() -> None:
    """Facts live to the end of the run: left in the youngest generation, the first collection
    after `gc.enable()` scanned all of them (0.6 s on the benchmark corpus). They are frozen."""
    before = gc.get_freeze_count()
    with gc_paused():
        kept = [[i] for i in range(20_000)]  # (lists are always tracked; small dicts are not)
    assert gc.isenabled()
    assert gc.get_freeze_count() - before >= len(kept)


@pytest.mark.parametrize("root", [*fixture_dirs(), ROOT / "examples"], ids=lambda p: p.name)
def test_a_focused_run_reports_in_its_files_what_a_whole_run_does(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pre-commit gives files and sees only their findings (`Context.focus`): rules may skip
    work whose findings land elsewhere, never change what lands in the files given. Every
    file of every fixture, alone, against the whole run."""
    import fastapi_deplint.rules.fdl302_blocking_call as fdl302
    from fastapi_deplint import engine
    from fastapi_deplint.config import Config

    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    config = Config(select=["ALL"])
    whole = engine.run(engine.analyse([root], config, jobs=1), config).findings
    narrowed: list[str] = []
    real = fdl302._focused
    monkeypatch.setattr(fdl302, "_focused", lambda *args: narrowed.append("x") or real(*args))
    for path in sorted(root.rglob("*.py")):
        real_path = os.path.normcase(os.path.realpath(path))
        project = engine.analyse([root], config, jobs=1)
        focused = engine.run(project, config, wanted={real_path}).findings
        expected = [f for f in whole if os.path.normcase(os.path.realpath(f.path)) == real_path]
        assert [f for f in focused if os.path.normcase(os.path.realpath(f.path)) == real_path] == expected, path


def test_fdl302_checks_only_the_focused_files_when_that_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A router module of async routes: only its targets are checked. A module with an async
    helper: also every target that may await it, in order (the first one names itself in the
    helper's finding), found however it names the helper."""
    import fastapi_deplint.rules.fdl302_blocking_call as fdl302
    from fastapi_deplint import engine
    from fastapi_deplint.config import Config

    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    (tmp_path / "routes.py").write_text(
        "import time\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
        "@router.get('/a')\nasync def a():\n    time.sleep(1)\n"
    )
    (tmp_path / "helpers.py").write_text(  # parsed up front (it names FastAPI), as the focused file is
        "import time\n\nfrom fastapi import Depends\n\n\nasync def pause():\n    time.sleep(1)\n"
    )
    (tmp_path / "main.py").write_text(
        "from fastapi import FastAPI\nfrom helpers import pause\nfrom helpers import pause as nap\nfrom routes import router\n\n"
        "app = FastAPI()\napp.include_router(router)\n\n\n"
        "@app.get('/c')\nasync def c():\n    await nap()\n\n\n"
        "@app.get('/b')\nasync def b():\n    await pause()\n"
    )
    config = Config(select=["FDL302"])
    checked: list[str] = []
    real = fdl302.BlockingCallInAsync._candidates
    monkeypatch.setattr(
        fdl302.BlockingCallInAsync, "_candidates", lambda self, g, k, target, *a: checked.append(target.fn.name) or real(self, g, k, target, *a)
    )

    def run(name: str | None) -> list[tuple[str, int, str]]:
        checked.clear()
        project = engine.analyse([tmp_path], config, jobs=1)
        wanted = {os.path.normcase(os.path.realpath(tmp_path / name))} if name is not None else None
        return [(Path(f.path).name, f.line, f.message) for f in engine.run(project, config, wanted=wanted).findings]

    whole = run(None)
    assert [m for f, _, m in whole if f == "helpers.py"] and all("awaited by route `GET /c`" in m for f, _, m in whole if f == "helpers.py")
    assert [f for f in run("routes.py") if f[0] == "routes.py"] == [f for f in whole if f[0] == "routes.py"] and checked == ["a"]
    assert [f for f in run("helpers.py") if f[0] == "helpers.py"] == [f for f in whole if f[0] == "helpers.py"]
    assert sorted(checked) == ["b", "c", "pause"]


def test_fdl501_focused_on_one_file_still_compares_the_routes_of_its_router_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FDL501 narrowed to the files given looks only at the routers with a route there, but at
    every route of those routers: the protected siblings may be declared in another file."""
    from fastapi_deplint import engine
    from fastapi_deplint.config import Config

    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    (tmp_path / "deps.py").write_text(
        "from fastapi import Depends, HTTPException\nfrom fastapi.security import OAuth2PasswordBearer\n\n"
        "oauth2 = OAuth2PasswordBearer(tokenUrl='token')\n\n\ndef get_current_user(token: str = Depends(oauth2)):\n"
        "    if token != 'ok':\n        raise HTTPException(status_code=401)\n    return token\n"
    )
    (tmp_path / "items.py").write_text(
        "from fastapi import APIRouter, Depends\nfrom deps import get_current_user\n\nrouter = APIRouter()\n\n\n"
        "@router.post('/items')\ndef create(user=Depends(get_current_user)):\n    return user\n\n\n"
        "@router.put('/items/{i}')\ndef update(i: int, user=Depends(get_current_user)):\n    return user\n\n\n"
        "@router.patch('/items/{i}')\ndef patch(i: int, user=Depends(get_current_user)):\n    return user\n"
    )
    (tmp_path / "more.py").write_text(
        "from items import router\n\nstore: dict[int, str] = {}\n\n\n@router.delete('/items/{i}')\ndef delete(i: int):\n    return store.pop(i, None)\n"
    )
    (tmp_path / "main.py").write_text(
        "from fastapi import FastAPI\nimport more\nfrom items import router\n\napp = FastAPI()\napp.include_router(router)\n"
    )
    config = Config(select=["FDL501"])
    whole = engine.run(engine.analyse([tmp_path], config, jobs=1), config).findings
    assert [(Path(f.path).name, f.line) for f in whole] == [("more.py", 6)]
    project = engine.analyse([tmp_path], config, jobs=1)
    focused = engine.run(project, config, wanted={os.path.normcase(os.path.realpath(tmp_path / "more.py"))}).findings
    assert [(Path(f.path).name, f.line, f.message) for f in focused] == [("more.py", 6, whole[0].message)]


def test_a_pre_commit_edit_is_narrowed_and_never_becomes_the_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files given in project mode (pre-commit) after an edit: the run is narrowed to them
    (`analyse_part(narrow=True)`), reports what a run without the cache reports, is answered
    from its own entry when nothing changed, and leaves the record alone."""

    proj = tmp_path / "proj"
    shutil.copytree(ROOT / "fixtures" / "FDL302", proj)
    (proj / "pyproject.toml").write_text("[tool.fastapi-deplint]\n")
    monkeypatch.chdir(proj)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    run = recording_runs(monkeypatch, lambda done: "narrowed" if done[3] else "part")

    main_py, helpers = Path("app") / "main.py", Path("app") / "helpers.py"
    assert run(str(main_py))[0] == ["whole"]
    assert run(str(main_py))[0] == []
    main_py.write_text(main_py.read_text() + "\n# edited\n")
    ran, shown = run(str(main_py))
    assert ran == ["narrowed"] and {line.split(":")[0] for line in shown.splitlines()[:-2]} == {str(main_py)}
    assert run(str(main_py))[0] == []  # its own entry
    # the record is still the first run's: had the narrowed run become it, helpers.py's
    # findings (never looked for) would be missing here
    ran, shown = run(str(helpers))
    assert ran == ["narrowed"] and f"{helpers}:" in shown


def test_a_run_answered_from_the_cache_imports_neither_the_parser_nor_the_rules(tmp_path: Path) -> None:
    """Half of a small project's warm run was importing modules it does not use: a run whose
    result is cached loads no parser, linker, engine or rule (its report, fix hint included,
    is the cached one's)."""
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "shop")
    script = (
        "import sys\nfrom fastapi_deplint.cli import main\n"
        "try:\n    main(['check', 'shop'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(*sorted(m for m in sys.modules if m.startswith('fastapi_deplint')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASTAPI_DEPLINT_")}  # (an in-process --no-cache sets one)
    env["FASTAPI_DEPLINT_CACHE_DIR"] = str(tmp_path / "cache")

    def run() -> tuple[str, set[str]]:
        done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        report, _, modules = done.stdout.rstrip("\n").rpartition("\n")
        return report + done.stderr, set(modules.split())

    cold_report, cold = run()
    warm_report, warm = run()
    assert {"fastapi_deplint.source", "fastapi_deplint.engine", "fastapi_deplint.rules.fdl101_resource_returned"} <= cold
    heavy = {m for m in warm if m.split(".")[1:2] in (["source"], ["engine"], ["project"], ["graph"], ["facts"], ["rules_parallel"])}
    heavy |= {m for m in warm if m.startswith("fastapi_deplint.rules.") and m != "fastapi_deplint.rules.base" and not m.endswith("_fastapi_version")}
    assert not heavy, f"imported by a run answered from the cache: {sorted(heavy)}"
    assert warm_report == cold_report and "FDL101" in warm_report and "hidden fix" in warm_report


def test_facts_pickle_and_copy_field_for_field_without_python_code_per_object() -> None:
    """Facts cross processes and the cache as pickles; their reducer is C only (`copyreg`), so
    pickling runs no Python frame per object, and unpickling or copying gives the same facts."""
    import copy
    import pickle
    import sys

    from fastapi_deplint.source import facts_from_text

    sample = Path(__file__).parent.parent / "src" / "fastapi_deplint" / "facts" / "extract.py"
    facts = facts_from_text(sample.read_text(), str(sample), "extract", False)
    kinds = {type(v).__name__ for v in _walk(facts)}
    assert kinds >= {"Function", "Class", "Assign", "Import", "Param", "CallSite", "Name", "Call", "Lit"}
    frames: list[str] = []

    def count(frame: object, event: str, arg: object) -> None:
        if event == "call":
            frames.append(frame.f_code.co_name)  # type: ignore[attr-defined]

    sys.setprofile(count)
    try:
        blob = pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        sys.setprofile(None)
    assert frames == []
    assert _canonical(pickle.loads(blob)) == _canonical(facts)
    assert _canonical(copy.deepcopy(facts)) == _canonical(facts)


def _walk(value: object) -> Iterator[object]:
    import dataclasses

    yield value
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)


def test_the_run_key_finds_the_manifests_in_the_listings_of_the_walk(tmp_path: Path) -> None:
    """Discovery notes the dependency manifests of every folder it lists, so the run's key
    does not list them again; what it finds is what listing every folder finds."""
    from fastapi_deplint.config import Config
    from fastapi_deplint.discover import discover
    from fastapi_deplint.rules._fastapi_version import manifest_files, manifest_name

    files = {
        "pyproject.toml": "",
        "app/main.py": "",
        "app/requirements-dev.txt": "",
        "app/requirements.in": "",
        "app/svc/requirements/base.txt": "",
        "app/svc/requirements/notes.md": "",
        "app/svc/api.py": "",
        "app/svc/uv.lock": "",
        "app/.venv/pyproject.toml": "",
        "app/.venv/lib.py": "",
        "app/pyproject.toml/weird.py": "",  # a folder with a manifest's name
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = discover([tmp_path / "app"], Config(), manifest_name)
    assert found.absolute is not None and found.listed is not None
    folders = {os.path.dirname(a) for a in found.absolute}
    assert folders <= set(found.listed)  # keyed as the run key asks (nothing is listed twice)
    manifests = manifest_files(folders, found.listed)
    assert manifests == manifest_files(folders)
    shown = {str(p.relative_to(tmp_path)) for p in manifests if tmp_path in p.parents}
    assert shown == {"pyproject.toml", "app/requirements-dev.txt", "app/svc/requirements/base.txt", "app/svc/uv.lock", "app/pyproject.toml"}
