"""Odd and hostile files are reported as FDL901 and the rest of the project is still analysed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project

ROOT = Path(__file__).resolve().parent.parent


def findings(root: Path) -> list[tuple[str, int, str]]:
    result = engine.run(build_project([root], jobs=1), Config(select=["FDL101", "FDL901"]))
    return sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in result.findings)


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(ROOT / "fixtures" / "FDL101", dest)
    return dest


def test_hostile_files_do_not_hide_real_findings(tree: Path) -> None:
    app = tree / "app"
    # every hostile file mentions FastAPI, so the pre-scan cannot skip it
    (app / "broken.py").write_text("from fastapi import Depends\ndef f(:\n    pass\n")
    (app / "nul.py").write_bytes(b"import fastapi\nx = 1\x00\n")
    (app / "latin.py").write_bytes(b"import fastapi\nx = '\xe9'\n")
    (app / "badcookie.py").write_bytes(b"# -*- coding: klingon -*-\nimport fastapi\n")
    (app / "bom.py").write_bytes(b"\xef\xbb\xbfimport fastapi\r\ny = 2\n")
    (app / "empty.py").write_bytes(b"")
    (app / "deep.py").write_text("import fastapi\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
    (app / "unrelated_broken.py").write_text("def g(:\n")  # never imported, never parsed: not reported
    (app / "dir.py").mkdir()
    (app / "loop").symlink_to(app)
    if hasattr(os, "mkfifo"):
        os.mkfifo(app / "pipe.py")
    got = findings(tree)
    errors = {path for path, _, code in got if code == "FDL901"}
    assert errors == {"app/broken.py", "app/nul.py", "app/latin.py", "app/badcookie.py", "app/deep.py"}
    assert [g for g in got if g[2] == "FDL101"] == [
        ("app/database.py", 9, "FDL101"),
        ("app/database.py", 14, "FDL101"),
        ("app/database.py", 18, "FDL101"),
        ("app/database.py", 22, "FDL101"),
        ("app/database.py", 26, "FDL101"),
    ]


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="read natively on 3.14")
def test_python_314_except_without_parentheses_is_read(tmp_path: Path) -> None:
    (tmp_path / "deps.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom sqlalchemy.orm import sessionmaker\n"
        "SessionLocal = sessionmaker()\napp = FastAPI()\n\n"
        "def get_db():\n    try:\n        db = SessionLocal()\n    except ValueError, TypeError:\n        raise\n    return db\n\n"
        "@app.get('/')\ndef index(db=Depends(get_db)):\n    return 1\n"
    )
    assert findings(tmp_path) == [("deps.py", 6, "FDL101")]


def test_newer_syntax_names_the_python_that_reads_it(tmp_path: Path) -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("PEP 695 is read natively")
    (tmp_path / "types_.py").write_text("from fastapi import Depends\ntype Alias = int\n")
    result = engine.run(build_project([tmp_path], jobs=1), Config())
    assert len(result.findings) == 1
    assert "3.12" in result.findings[0].message


def test_modules_without_fastapi_are_parsed_only_when_reached(tmp_path: Path) -> None:
    """`database.py` never mentions FastAPI; the graph reaches it through an import, so it is
    parsed then (and its leak found); a broken module nothing imports is never parsed."""
    (tmp_path / "database.py").write_text(
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n\ndef get_db():\n    return SessionLocal()\n"
    )
    (tmp_path / "main.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom database import get_db\napp = FastAPI()\n\n"
        "@app.get('/')\ndef index(db=Depends(get_db)):\n    return 1\n"
    )
    (tmp_path / "scratch.py").write_text("def broken(:\n")
    project = build_project([tmp_path], jobs=1)
    assert sorted(Path(f.path).name for f in project.facts) == ["database.py", "main.py"]
    assert findings(tmp_path) == [("database.py", 4, "FDL101")]
