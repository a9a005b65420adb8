"""Router discovery only resolves calls whose callee can name a router class; these are the
spellings that must still be found (import aliases, subclasses, subclasses of aliases)."""

from __future__ import annotations

from pathlib import Path

from fastapi_deplint.project import build_project


def _routers(tmp_path: Path, files: dict[str, str]) -> set[tuple[str, str]]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    project = build_project([tmp_path], jobs=1)
    return {(r.name, r.kind) for r in project.graph.routers.values()}


def test_aliases_and_subclasses_are_routers(tmp_path: Path) -> None:
    found = _routers(
        tmp_path,
        {
            "base.py": "from fastapi import APIRouter as AR, FastAPI as F\n"
            "class Api(F):\n    pass\n"
            "class Section(AR):\n    pass\n"
            "class Deeper(Section):\n    pass\n",
            "main.py": "from fastapi import Depends, FastAPI as Application\n"
            "import fastapi\n"
            "from base import Api, Deeper as D\n"
            "app = Application()\n"
            "other = fastapi.FastAPI()\n"
            "api = Api()\n"
            "section = D(prefix='/x')\n"
            "def make():\n    from fastapi import APIRouter as R\n    inner = R()\n    return inner\n"
            "client = dict()\n",
        },
    )
    assert found == {
        ("app", "app"),
        ("other", "app"),
        ("api", "app"),
        ("section", "router"),
        ("inner", "router"),
    }
