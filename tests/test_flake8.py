"""The flake8 plugin, through real flake8 subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# flake8 run with the `spawn` start method: each -j worker is a fresh interpreter that
# re-runs the plugins' parse_options. The script is re-imported in every worker (as
# `__mp_main__`), so the patch below records which processes ran parse_options.
SPAWN_WRAPPER = """
import multiprocessing, os, sys
from fastapi_deplint.flake8_plugin import DeplintChecker

_original = DeplintChecker.parse_options.__func__

def _recording(cls, options):
    with open(os.environ["FDL_TEST_PIDS"], "a") as out:
        out.write(f"{os.getpid()}\\n")
    return _original(cls, options)

DeplintChecker.parse_options = classmethod(_recording)

if __name__ == "__main__":
    multiprocessing.set_start_method(sys.argv.pop(1), force=True)
    from flake8.main.cli import main
    sys.exit(main())
"""


def flake8(cwd: Path, *args: str, select: str = "FDL", expect_rc: tuple[int, ...] = (0, 1)) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", select, *args, "."], cwd=cwd, capture_output=True, text=True
    )
    assert proc.returncode in expect_rc, proc.stdout + proc.stderr
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
    config = Config()  # `--select FDL`: the default rules, as `fastapi-deplint check`
    expected = engine.run(build_project([project], jobs=1), config).findings
    assert len(found) == len(expected) > 0
    want = sorted(f"./{Path(f.path).relative_to(project).as_posix()}:{f.line}:{f.col + 1}: {f.code} {f.message}" for f in expected)
    assert found == want


def test_flake8_parallel_equals_serial(project: Path) -> None:
    serial = flake8(project, "-j", "1")
    assert serial and flake8(project, "-j", "2") == serial


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_flake8_parallel_under_start_method(project: Path, tmp_path: Path, method: str) -> None:
    wrapper = tmp_path / "flake8_with_start_method.py"
    wrapper.write_text(SPAWN_WRAPPER)
    pids = tmp_path / "pids.txt"
    env = {**os.environ, "FDL_TEST_PIDS": str(pids)}
    proc = subprocess.run(
        [sys.executable, str(wrapper), method, "--select", "FDL", "-j", "2", "."],
        cwd=project, capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(line for line in proc.stdout.splitlines() if line) == flake8(project, "-j", "1")
    ran = pids.read_text().split()
    if method == "spawn":
        assert len(set(ran)) >= 2, ran  # the workers re-ran parse_options (and used the findings)
    else:
        assert len(set(ran)) == 1, ran  # forked workers inherit the parent's findings


def test_flake8_selecting_an_opt_in_family_turns_it_on(project: Path) -> None:
    assert not [line for line in flake8(project) if ": FDL7" in line]
    opt_in = [line for line in flake8(project, "--extend-select", "FDL7") if ": FDL7" in line]
    assert opt_in and opt_in == [line for line in flake8(project, select="FDL7") if ": FDL7" in line]


def test_flake8_noqa_and_per_file_ignores(project: Path) -> None:
    db = project / "app" / "database.py"
    db.write_text(db.read_text().replace("def get_session():  # expect: FDL101", "def get_session():  # noqa: FDL101"))
    assert len(flake8(project, select="FDL101")) == 4
    assert flake8(project, "--per-file-ignores", "app/database.py:FDL101", select="FDL101") == []
    assert [line for line in flake8(project) if ": FDL1" in line]
    assert not [line for line in flake8(project, "--extend-ignore", "FDL1") if ": FDL1" in line]


def test_flake8_noqa_for_another_code_does_not_hide(project: Path) -> None:
    db = project / "app" / "database.py"
    db.write_text(db.read_text().replace("def get_session():  # expect: FDL101", "def get_session():  # noqa: E501"))
    assert len(flake8(project, select="FDL101")) == 5


def test_flake8_reads_pyproject_table_and_fdl_options(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.fastapi-deplint]\nignore = ["FDL101"]\n')
    assert flake8(project, select="FDL101") == []
    # flake8's own configuration: the rule options as fdl-<key>
    (project / "pyproject.toml").write_text('[tool.fastapi-deplint]\nresource-factories = ["make_thing"]\n')
    (project / "app" / "things.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom app.main import app\n\n"
        "def make_thing():\n    return object()\n\n"
        "def get_thing():\n    return make_thing()\n\n"
        "def get_other():\n    return build_other()\n\n"
        "def build_other():\n    return object()\n\n"
        "@app.get('/t')\ndef t(a=Depends(get_thing), b=Depends(get_other)):\n    return a, b\n"
    )
    from_table = [line for line in flake8(project, select="FDL101") if "things.py" in line]
    assert [line.split(":")[1] for line in from_table] == ["7"]
    (project / ".flake8").write_text("[flake8]\nfdl-resource-factories = build_other, make_thing\n")
    from_flake8 = [line for line in flake8(project, select="FDL101") if "things.py" in line]
    assert sorted(int(line.split(":")[1]) for line in from_flake8) == [7, 10]


def test_flake8_bad_configuration_is_a_clear_error(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.fastapi-deplint]\nmax-depth = "deep"\n')
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "FDL", "."], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "max-depth" in proc.stdout and "pyproject.toml" in proc.stdout and "must be a positive integer" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    (project / "pyproject.toml").write_text("")
    proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "FDL", "--fdl-fastapi-version", "new", "."],
                          cwd=project, capture_output=True, text=True)
    assert proc.returncode == 1 and "flake8 options: `fastapi-version` must be a version" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_flake8_given_files_reports_what_the_whole_project_puts_there(tmp_path: Path) -> None:
    """pre-commit's flake8 hook passes the changed files: each is judged within the project it
    belongs to (its router's app and dependencies are other modules), and only they are
    reported."""
    project = tmp_path / "proj"
    shutil.copytree(ROOT / "examples" / "shop", project)
    (project / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    whole = flake8(project)
    router = os.path.join("shop", "routers", "items.py")
    assert any(line.startswith(f".{os.sep}{router}:") for line in whole)  # the sample has a finding there
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "FDL", router], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    given = sorted(line for line in proc.stdout.splitlines() if line)
    assert given == [line[2:] for line in whole if line.startswith(f".{os.sep}{router}:")]


def test_flake8_given_files_one_after_another_never_reuses_another_files_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run narrowed to the files given (FDL302 checks only their routes) is stored for those
    files alone: files given next, or the whole tree, get their own exact answers from the
    shared record."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "app"\n')
    for name in ("one", "two"):
        (project / f"{name}.py").write_text(
            f"import time\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
            f"@router.get('/{name}')\nasync def {name}():\n    time.sleep(1)\n"
        )
    (project / "main.py").write_text(
        "from fastapi import FastAPI\n\nimport one\nimport two\n\napp = FastAPI()\n"
        "app.include_router(one.router)\napp.include_router(two.router)\n"
    )
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    whole = flake8(project)
    assert [line.split(":")[0] for line in whole] == ["./one.py", "./two.py"]

    def given(name: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-m", "flake8", "--select", "FDL", name], cwd=project, capture_output=True, text=True)
        return sorted(f".{os.sep}{line}" for line in proc.stdout.splitlines() if line)

    with open(project / "one.py", "a") as out:
        out.write("# edited\n")
    for name in ("one.py", "two.py", "one.py"):
        assert given(name) == [line for line in whole if line.startswith(f".{os.sep}{name}:")], name
    assert flake8(project) == whole
