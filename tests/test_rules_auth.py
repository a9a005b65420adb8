"""Unit tests for FDL501/FDL502 behaviour the fixtures cannot express (counts, config)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project

SECURITY = """
from typing import Annotated
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")

def get_current_user(token: Annotated[str, Depends(oauth2_scheme)]):
    return token
"""


def run(tmp_path: Path, files: dict[str, str], code: str, **options: object) -> list:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    config = Config(select=[code])
    for key, value in options.items():
        setattr(config, key, value)
    return engine.run(build_project([tmp_path], jobs=1), config).findings


MIXED = """
from fastapi import APIRouter, Depends, FastAPI
from sec import get_current_user

router = APIRouter()

@router.get("/a")
def a(user=Depends(get_current_user)):
    return user

@router.get("/b")
def b():
    return read_records()

@router.get("/c")
def c(user=Depends(get_current_user)):
    return user

app = FastAPI()
app.include_router(router, prefix="/v1")
app.include_router(router, prefix="/v2")
"""


def test_one_finding_per_route_over_several_mounts(tmp_path: Path) -> None:
    found = run(tmp_path, {"sec.py": SECURITY, "main.py": MIXED}, "FDL501")
    assert [(f.line, f.code) for f in found] == [(11, "FDL501")]
    assert "`a`" in found[0].message and "get_current_user" in found[0].message


def test_extend_public_routes_silences(tmp_path: Path) -> None:
    assert run(tmp_path, {"sec.py": SECURITY, "main.py": MIXED}, "FDL501", extend_public_routes=["/v*/b"]) == []
    assert run(tmp_path, {"sec.py": SECURITY, "main.py": MIXED}, "FDL501", extend_public_routes=["B"]) == []


def test_auth_dependencies_config_names_a_guard(tmp_path: Path) -> None:
    app = """
    from fastapi import APIRouter, Depends
    from guards import check_tenant

    router = APIRouter()

    @router.get("/a", dependencies=[Depends(check_tenant)])
    def a():
        return 1

    @router.get("/b")
    def b():
        return read_records()

    @router.get("/c", dependencies=[Depends(check_tenant)])
    def c():
        return 1
    """
    guards = "def check_tenant():\n    return None\n"
    files = {"guards.py": guards, "main.py": app}
    assert run(tmp_path, files, "FDL501") == []  # not recognisable as auth: not mixed
    found = run(tmp_path, files, "FDL501", auth_dependencies=["check_tenant"])
    assert [f.line for f in found] == [11]


def test_third_party_current_user_counts_as_auth(tmp_path: Path) -> None:
    app = """
    from fastapi import APIRouter, Depends
    from fastapi_users import FastAPIUsers

    fastapi_users = FastAPIUsers(get_user_manager, [auth_backend])
    current_active_user = fastapi_users.current_user(active=True)
    router = APIRouter(prefix="/admin")

    @router.get("/a")
    def a(user=Depends(current_active_user)):
        return user

    @router.get("/b")
    def b():
        return read_records()
    """
    found = run(tmp_path, {"main.py": app}, "FDL501")
    assert [f.line for f in found] == [13]


def test_protected_prefix_needs_a_project_that_uses_auth_dependencies(tmp_path: Path) -> None:
    app = """
    from fastapi import APIRouter, FastAPI

    router = APIRouter(prefix="/admin")

    @router.post("/reindex")
    def reindex():
        return 1

    app = FastAPI()
    app.include_router(router)
    """
    # auth may live in a middleware the linter cannot see: stay silent
    assert run(tmp_path, {"main.py": app}, "FDL501") == []


def test_websocket_routes_are_left_alone(tmp_path: Path) -> None:
    app = """
    from fastapi import APIRouter, Depends, WebSocket
    from sec import get_current_user

    router = APIRouter()

    @router.get("/a")
    def a(user=Depends(get_current_user)):
        return user

    @router.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
    """
    assert run(tmp_path, {"sec.py": SECURITY, "main.py": app}, "FDL501") == []


def test_fdl502_is_informational(tmp_path: Path) -> None:
    app = """
    from fastapi import Depends, FastAPI
    from sec import get_current_user

    app = FastAPI()

    @app.get("/a")
    def a(user=Depends(get_current_user)):
        return user

    @app.get("/b")
    def b(user=Depends(get_current_user)):
        return user

    @app.get("/c")
    def c(user=Depends(get_current_user)):
        return user
    """
    found = run(tmp_path, {"sec.py": SECURITY, "main.py": app}, "FDL502")
    assert [(f.line, f.severity) for f in found] == [(5, "info")]
    assert "FastAPI(dependencies=[...])" in found[0].message


def _router_with(extra: str) -> str:
    return f"""
from fastapi import APIRouter, Depends
from sec import get_current_user

router = APIRouter()

@router.get("/a")
def a(user=Depends(get_current_user)):
    return user

@router.get("/c")
def c(user=Depends(get_current_user)):
    return user
{extra}"""


def test_stub_and_constant_routes_have_nothing_to_protect(tmp_path: Path) -> None:
    gone = '\n@router.get("/old")\ndef old():\n    raise HTTPException(status_code=410, detail="gone")\n'
    constant = '\n@router.head("/status-check")\ndef alive() -> dict:\n    return {"ok": True}\n'
    leak = '\n@router.head("/status-check")\ndef alive() -> dict:\n    return {"ok": SECRET}\n'
    for stub in (gone, constant):
        assert run(tmp_path, {"sec.py": SECURITY, "main.py": _router_with(stub)}, "FDL501") == []
    assert len(run(tmp_path, {"sec.py": SECURITY, "main.py": _router_with(leak)}, "FDL501")) == 1


def test_several_open_routes_are_a_public_subset_but_a_lone_one_is_flagged(tmp_path: Path) -> None:
    one = '\n@router.get("/b")\ndef b():\n    return read_records()\n'
    two = one + '\n@router.get("/d")\ndef d():\n    return read_other_records()\n'
    assert [f.line for f in run(tmp_path, {"sec.py": SECURITY, "main.py": _router_with(one)}, "FDL501")] == [15]
    assert run(tmp_path, {"sec.py": SECURITY, "main.py": _router_with(two)}, "FDL501") == []


def test_unreadable_dependencies_may_carry_auth(tmp_path: Path) -> None:
    factory = """
def register(router, dependencies):
    @router.get("/b", dependencies=dependencies)
    def b():
        return read_records()
"""
    assert run(tmp_path, {"sec.py": SECURITY, "main.py": _router_with(factory)}, "FDL501") == []


def test_routes_declared_in_tests_are_not_the_application(tmp_path: Path) -> None:
    one = '\n@router.get("/b")\ndef b():\n    return read_records()\n'
    assert run(tmp_path, {"sec.py": SECURITY, "test_main.py": _router_with(one)}, "FDL501") == []
