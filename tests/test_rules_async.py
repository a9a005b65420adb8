"""Unit tests for FDL302 (blocking call in async code), FDL403 (`Depends(f())`) and FDL203
(settings built per request)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project
from fastapi_deplint.rules.base import Finding
from fastapi_deplint.rules.fdl403_depends_called import called_dependencies


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def run(tmp_path: Path, files: dict[str, str], code: str, **options: object) -> list[Finding]:
    write(tmp_path, files)
    config = Config()
    config.select = [code]
    for key, value in options.items():
        setattr(config, key, value)
    result = engine.run(build_project([tmp_path], jobs=1), config)
    assert not [f for f in result.findings if f.code != code], result.findings
    return sorted(result.findings, key=lambda f: (f.path, f.line))


def lines(findings: list[Finding]) -> list[tuple[str, int]]:
    return [(Path(f.path).name, f.line) for f in findings]


DATABASE = """
from typing import Annotated
from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
AsyncSessionLocal = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
OldStyleAsync = sessionmaker(create_async_engine("sqlite+aiosqlite://"), class_=AsyncSession)

def get_db():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()

async def get_async_db():
    async with AsyncSessionLocal() as session:
        yield session

async def get_old_style_db():
    async with OldStyleAsync() as session:
        yield session

SessionDep = Annotated[Session, Depends(get_db)]
"""


# --- FDL302 ---------------------------------------------------------------------------------------


def test_blocking_library_calls_resolved_through_imports(tmp_path: Path) -> None:
    app = """
    import asyncio
    import requests as r
    from time import sleep as pause
    from fastapi import FastAPI
    app = FastAPI()

    @app.get("/a")
    async def a():
        r.get("https://example.com")
        pause(1)
        await asyncio.sleep(1)
        await asyncio.to_thread(r.get, "https://example.com")

    @app.get("/b")
    def b():
        r.get("https://example.com")  # a plain def route runs in the threadpool
        pause(1)
    """
    findings = run(tmp_path, {"main.py": app}, "FDL302")
    assert lines(findings) == [("main.py", 10), ("main.py", 11)]
    assert "`r.get` (`requests.get`)" in findings[0].message
    assert "async route `GET /a`" in findings[0].message
    assert "`pause` (`time.sleep`)" in findings[1].message and "asyncio.sleep" in findings[1].message


def test_a_project_function_named_like_a_blocking_one_is_silent(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/metrics.py": "def sleep(seconds):\n    return seconds\n",
        "pkg/main.py": """
        from fastapi import FastAPI
        from .metrics import sleep
        app = FastAPI()

        @app.get("/")
        async def root():
            sleep(1)
        """,
    }
    assert run(tmp_path, files, "FDL302") == []


def test_sync_session_from_the_providing_dependency_or_annotation(tmp_path: Path) -> None:
    app = """
    from typing import Annotated
    from fastapi import Depends, FastAPI
    from sqlalchemy import select
    from .database import SessionDep, get_async_db, get_db, get_old_style_db
    app = FastAPI()

    @app.get("/provided")
    async def provided(db=Depends(get_db)):
        rows = db.query(int).all()
        db.commit()
        return rows

    @app.get("/annotated")
    async def annotated(db: SessionDep):
        return db.get(int, 1)

    @app.get("/async")
    async def async_session(db=Depends(get_async_db)):
        db.add(1)
        return (await db.execute(select(1))).all()

    @app.get("/old-style")
    async def old_style(db=Depends(get_old_style_db)):
        db.add(1)
        return await db.execute(select(1))
    """
    files = {"pkg/__init__.py": "", "pkg/database.py": DATABASE, "pkg/main.py": app}
    findings = run(tmp_path, files, "FDL302")
    assert lines(findings) == [("main.py", 10), ("main.py", 16)]
    assert "`db.query` on sync session `db` (and 1 more call)" in findings[0].message
    assert "AsyncSession" not in findings[0].message and "async session" in findings[0].message


def test_sync_dependency_work_inside_an_async_dependency(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    from .database import SessionDep
    app = FastAPI()

    async def current_user(db: SessionDep):
        return db.get(dict, 1)

    @app.get("/me")
    async def me(user=Depends(current_user)):
        return user
    """
    files = {"pkg/__init__.py": "", "pkg/database.py": DATABASE, "pkg/main.py": app}
    (finding,) = run(tmp_path, files, "FDL302")
    assert finding.line == 7
    assert "async dependency `current_user`" in finding.message
    assert "declare the dependency `def`" in finding.message  # it awaits nothing


def test_one_project_function_deep(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/database.py": DATABASE,
        "pkg/helpers.py": """
        import requests

        def notify(url):
            requests.post(url)

        def load(db, key):
            return db.get(dict, key)

        def deeper(url):
            notify(url)  # two project calls deep: not followed

        def pure(x):
            return x * 2
        """,
        "pkg/main.py": """
        import asyncio
        from fastapi import Depends, FastAPI
        from .database import get_db
        from .helpers import deeper, load, notify, pure
        app = FastAPI()

        @app.post("/a")
        async def a(db=Depends(get_db)):
            notify("https://example.com")
            notify("https://example.com")
            load(db, 1)
            deeper("https://example.com")
            await asyncio.to_thread(notify, "https://example.com")
            return pure(2)
        """,
    }
    findings = run(tmp_path, files, "FDL302")
    assert lines(findings) == [("main.py", 10), ("main.py", 12)]  # each helper once per function
    assert "`notify()` makes blocking call `requests.post`" in findings[0].message
    assert "helpers.py:5" in findings[0].message
    assert "`load()` makes blocking call `db.get` on sync session `db`" in findings[1].message


def test_awaited_async_helper_is_reported_inside_once(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/remote.py": """
        import urllib.request

        async def fetch(url):
            return urllib.request.urlopen(url).read()
        """,
        "pkg/main.py": """
        from fastapi import FastAPI
        from .remote import fetch
        app = FastAPI()

        @app.get("/a")
        async def a():
            return await fetch("https://a")

        @app.get("/b")
        async def b():
            return await fetch("https://b")
        """,
    }
    (finding,) = run(tmp_path, files, "FDL302")
    assert (Path(finding.path).name, finding.line) == ("remote.py", 5)
    assert "async function `fetch` (awaited by route `GET /a`)" in finding.message


def test_thread_handoffs_and_nested_functions_are_silent(tmp_path: Path) -> None:
    app = """
    import anyio
    import asyncio
    import time
    from fastapi import FastAPI
    from fastapi.concurrency import run_in_threadpool
    app = FastAPI()

    @app.get("/")
    async def root():
        def work():
            time.sleep(1)
        await run_in_threadpool(work)
        await run_in_threadpool(lambda: time.sleep(1))
        await anyio.to_thread.run_sync(time.sleep, 1)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: time.sleep(1))
    """
    assert run(tmp_path, {"main.py": app}, "FDL302") == []


def test_file_io_only_when_the_file_is_read_or_written_on_the_loop(tmp_path: Path) -> None:
    app = """
    import asyncio
    import json
    from pathlib import Path
    from fastapi import FastAPI, UploadFile
    app = FastAPI()
    ROOT = Path("/srv")

    @app.post("/offloaded")
    async def offloaded(file: UploadFile):
        with open("/tmp/x", "wb") as out:
            await asyncio.to_thread(out.write, await file.read())

    @app.get("/read")
    async def read():
        with open("/etc/app.json") as handle:
            return json.load(handle)

    @app.get("/path")
    async def path(name: str):
        target = ROOT / "data" / name
        return target.read_text()
    """
    findings = run(tmp_path, {"main.py": app}, "FDL302")
    assert lines(findings) == [("main.py", 17), ("main.py", 22)]
    assert "`json.load` on file `handle`" in findings[0].message
    assert "`target.read_text`" in findings[1].message


def test_repository_attribute_holding_a_sync_session(tmp_path: Path) -> None:
    app = """
    from typing import Annotated
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session
    from .database import get_db
    app = FastAPI()

    class Repo:
        def __init__(self, db: Session):
            self.db = db

        def all(self):
            return self.db.query(int).all()

    def get_repo(db=Depends(get_db)) -> Repo:
        return Repo(db)

    @app.get("/")
    async def root(repo: Annotated[Repo, Depends(get_repo)]):
        return repo.all()
    """
    files = {"pkg/__init__.py": "", "pkg/database.py": DATABASE, "pkg/main.py": app}
    (finding,) = run(tmp_path, files, "FDL302")
    assert finding.line == 20 and "`self.db.query` on sync session `self.db`" in finding.message


def test_advice_to_declare_def_only_when_nothing_is_awaited(tmp_path: Path) -> None:
    app = """
    import asyncio, subprocess
    from fastapi import FastAPI
    app = FastAPI()

    @app.post("/a")
    async def a():
        subprocess.run(["true"])

    @app.post("/b")
    async def b():
        subprocess.run(["true"])
        await asyncio.sleep(0)
    """
    first, second = run(tmp_path, {"main.py": app}, "FDL302")
    assert "declare the route `def`" in first.message
    assert "declare the route `def`" not in second.message
    assert "asyncio.create_subprocess_exec" in second.message


def test_unparsable_helper_does_not_crash(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/broken.py": "def helper(:\n",
        "pkg/main.py": """
        from fastapi import FastAPI
        from .broken import helper
        app = FastAPI()

        @app.get("/")
        async def root():
            helper()
        """,
    }
    assert run(tmp_path, files, "FDL302") == []


# --- FDL403 ---------------------------------------------------------------------------------------

FACTORIES = """
from functools import partial
from typing import Annotated
from fastapi import Depends, FastAPI, Security
import some_library
app = FastAPI()

def get_db():
    yield 1

async def current_user():
    return {}

def params(limit: int = 10):
    return {"limit": limit}

def make_checker(role):
    def checker():
        return role
    return checker

def lam():
    return lambda: 1

def part():
    return partial(params, limit=5)

def passthrough(dep):
    return dep

class Checker:
    def __call__(self):
        return 1

def instance():
    return Checker()

@app.get("/bad")
def bad(a=Depends(get_db()), b=Security(current_user()), c=Depends(params(5))):
    return a

@app.get("/good")
def good(
    a=Depends(make_checker("admin")),
    b=Depends(lam()),
    c=Depends(part()),
    d=Depends(passthrough(get_db)),
    e=Depends(instance()),
    f=Depends(Checker()),
    g=Depends(some_library.factory()),
):
    return a
"""


def test_depends_called_flags_non_callable_results_only(tmp_path: Path) -> None:
    findings = run(tmp_path, {"main.py": FACTORIES}, "FDL403")
    assert [f.col for f in findings] == [18, 40, 67]
    assert all(f.line == 39 for f in findings)
    assert "a generator object" in findings[0].message and "`Depends(get_db)`" in findings[0].message
    assert "a coroutine object" in findings[1].message and "`Security(current_user)`" in findings[1].message
    assert "a dict" in findings[2].message and "pass `params` itself" in findings[2].message


def test_depends_called_exposes_the_autofix_condition(tmp_path: Path) -> None:
    write(tmp_path, {"main.py": FACTORIES})
    project = build_project([tmp_path], jobs=1)
    sites = sorted(called_dependencies(project.graph), key=lambda s: s.loc[1])
    assert [(s.function.name, s.no_args, s.autofixable) for s in sites] == [
        ("get_db", True, True),
        ("current_user", True, True),
        ("params", False, False),
    ]


def test_depends_called_on_a_contextmanager_advises_dropping_the_decorator(tmp_path: Path) -> None:
    app = """
    from contextlib import contextmanager
    from fastapi import Depends, FastAPI
    app = FastAPI()

    @contextmanager
    def scope():
        yield 1

    @app.get("/")
    def root(s=Depends(scope())):
        return s
    """
    (finding,) = run(tmp_path, {"main.py": app}, "FDL403")
    assert "drop `@contextmanager`" in finding.message
    write(tmp_path, {"main.py": app})
    (site,) = called_dependencies(build_project([tmp_path], jobs=1).graph)
    assert site.no_args and not site.autofixable


# --- FDL203 ---------------------------------------------------------------------------------------

SETTINGS = """
from functools import lru_cache
from pydantic import BaseModel
from pydantic_settings import BaseSettings

class Base(BaseSettings):
    name: str = "x"

class Settings(Base):
    debug: bool = False

class Plain(BaseModel):
    x: int = 1

settings = Settings()

@lru_cache
def cached() -> Settings:
    return Settings()
"""


def test_settings_built_per_request(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/config.py": SETTINGS,
        "pkg/main.py": """
        from functools import lru_cache
        from fastapi import Depends, FastAPI
        from .config import Plain, Settings, cached, settings
        app = FastAPI()

        def uncached():
            return Settings()

        @lru_cache
        def cached_here():
            return Settings()

        def module_level():
            return settings

        def plain():
            return Plain()

        def via_cached():
            return cached()

        @app.get("/")
        def root(a=Depends(uncached), b=Depends(cached_here), c=Depends(module_level), d=Depends(plain), e=Depends(via_cached)):
            return a
        """,
    }
    (finding,) = run(tmp_path, files, "FDL203")
    assert finding.line == 7 and finding.col == 0
    assert "`uncached` builds settings `Settings`" in finding.message and "@lru_cache" in finding.message


def test_pydantic_v1_settings_and_lazy_singleton(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    from pydantic import BaseSettings
    app = FastAPI()

    class Settings(BaseSettings):
        debug: bool = False

    _settings = None

    def lazy():
        global _settings
        if _settings is None:
            _settings = Settings()
        return _settings

    async def per_call():
        return Settings()

    @app.get("/")
    async def root(a=Depends(lazy), b=Depends(per_call)):
        return a
    """
    (finding,) = run(tmp_path, {"main.py": app}, "FDL203")
    assert finding.line == 17
    assert "cached function without parameters" in finding.message  # `@lru_cache` on `async def` caches a coroutine


def test_configured_settings_class_and_class_dependency(tmp_path: Path) -> None:
    app = """
    from typing import Annotated
    from fastapi import Depends, FastAPI
    from pydantic_settings import BaseSettings
    app = FastAPI()

    class IniConfig:
        def __init__(self):
            self.values = {}

    class Settings(BaseSettings):
        debug: bool = False

    def get_config():
        return IniConfig()

    @app.get("/")
    def root(config=Depends(get_config), settings: Annotated[Settings, Depends()] = None):
        return config
    """
    assert [f.line for f in run(tmp_path, {"main.py": app}, "FDL203")] == [18]
    findings = run(tmp_path, {"main.py": app}, "FDL203", settings_classes=["IniConfig"])
    assert [f.line for f in findings] == [14, 18]
    assert "settings class `Settings`" in findings[1].message
