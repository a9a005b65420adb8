"""The pre-commit hook, for real: a user repository whose `.pre-commit-config.yaml` points at
a git copy of this checkout (uncommitted work included), run by the `pre-commit` program,
which installs the hook into its own virtualenv from the package registry."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NO_NETWORK = (
    "Could not find a version that satisfies",
    "No matching distribution found",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "ConnectionError",
    "ReadTimeoutError",
)
GIT_ENV = {
    "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}

DATABASE = '''from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    return SessionLocal()
'''
MAIN = '''from fastapi import Depends, FastAPI

from app.database import get_db

app = FastAPI()


@app.get("/items")
def items(db=Depends(get_db)):
    return db.query()
'''


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This checkout's working tree (what the hook installs from) committed in a fresh repo."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in (".pre-commit-hooks.yaml", "pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(ROOT / "src", repo / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc"))
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo, git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture()
def user_repo(tmp_path: Path, hook_repo: tuple[Path, str]) -> Path:
    repo = tmp_path / "user"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "__init__.py").write_text("")
    (repo / "app" / "database.py").write_text(DATABASE)
    (repo / "app" / "main.py").write_text(MAIN)
    (repo / "app" / "unrelated.py").write_text("VALUE = 1\n")
    path, rev = hook_repo
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {path.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: fastapi-deplint\n"
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "app")
    return repo


def pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *args], cwd=repo, capture_output=True, text=True, env=env, timeout=900
    )
    output = proc.stdout + proc.stderr
    if "An unexpected error has occurred" in output or "error: subprocess-exited-with-error" in output:
        log = home / "pre-commit.log"
        details = output + (log.read_text() if log.exists() else "")
        if any(sign in details for sign in NO_NETWORK) and not os.environ.get("CI"):
            pytest.skip("pre-commit cannot install the hook here (no package registry reachable)")
        pytest.fail(details)
    return proc


def test_pre_commit_all_files_reports_the_finding(user_repo: Path, pre_commit_home: Path) -> None:
    proc = pre_commit(user_repo, pre_commit_home, "--all-files")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "fastapi-deplint" in proc.stdout and "Failed" in proc.stdout
    assert "app/database.py:8:1: FDL101 " in proc.stdout, proc.stdout


def test_pre_commit_analyses_the_project_but_reports_passed_files(user_repo: Path, pre_commit_home: Path) -> None:
    # get_db is only a dependency because main.py's route uses it: passed alone, database.py
    # is still judged with the whole project in view.
    proc = pre_commit(user_repo, pre_commit_home, "--files", "app/database.py")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "app/database.py:8:1: FDL101 " in proc.stdout
    # main.py and unrelated.py have nothing of their own to report
    proc = pre_commit(user_repo, pre_commit_home, "--files", "app/main.py", "app/unrelated.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FDL101" not in proc.stdout
