"""The flake8 plugin, through real flake8 subprocesses."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def flake8(cwd: Path, *args: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "FDL", *args, "."], cwd=cwd, capture_output=True, text=True
    )
    assert proc.returncode in (0, 1), proc.stderr
    return sorted(line for line in proc.stdout.splitlines() if line)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(ROOT / "fixtures" / "FDL101", dest)
    return dest


def test_flake8_reports_same_findings_as_check(project: Path) -> None:
    from fastapi_deplint import engine
    from fastapi_deplint.config import Config
    from fastapi_deplint.project import build_project

    found = flake8(project)
    config = Config(select=["FDL"])
    expected = engine.run(build_project([project], jobs=1), config).findings
    assert len(found) == len(expected) > 0
    want = sorted(f"./{Path(f.path).relative_to(project).as_posix()}:{f.line}:{f.col + 1}: {f.code} {f.message}" for f in expected)
    assert found == want


def test_flake8_parallel_equals_serial(project: Path) -> None:
    assert flake8(project, "-j", "2") == flake8(project, "-j", "1")


def test_flake8_noqa_and_per_file_ignores(project: Path) -> None:
    db = project / "app" / "database.py"
    db.write_text(db.read_text().replace("def get_session():  # expect: FDL101", "def get_session():  # noqa: FDL101"))
    assert len(flake8(project)) == 4
    assert flake8(project, "--per-file-ignores", "app/database.py:FDL101") == []
    assert flake8(project, "--extend-ignore", "FDL1") == []
