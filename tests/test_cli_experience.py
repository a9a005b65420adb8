"""The command line as users meet it: exit codes, quiet, project mode for files, progress,
`rule`, `--show-settings`, and the generated rules page."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_deplint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FDL101 = ROOT / "fixtures" / "FDL101"


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "repo"
    shutil.copytree(FDL101, dest)
    monkeypatch.chdir(dest)
    return dest


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_exit_codes_like_ruff(app: Path) -> None:
    assert invoke("check", "app", "--select", "FDL101")[0] == 1
    assert invoke("check", "app", "--select", "FDL101", "--exit-zero")[0] == 0
    assert invoke("check", "app", "--select", "FDL3")[0] == 0
    assert invoke("check", "nope")[0] == 2
    assert invoke("check", "app", "--select", "FDL1O1")[0] == 2
    assert invoke("check", "app", "--output-format", "xml")[0] == 2


def test_no_paths_means_the_current_folder(app: Path) -> None:
    code, out, _ = invoke("check", "--select", "FDL101")
    assert code == 1 and "app/database.py:9:1: FDL101" in out


def test_quiet_prints_findings_only(app: Path) -> None:
    code, out, err = invoke("check", "app", "--select", "FDL101", "-q")
    assert code == 1 and len(out.splitlines()) == 5 and "Found" not in out and err == ""
    code, out, _ = invoke("check", "app", "--select", "FDL3", "-q")
    assert code == 0 and out == ""


def test_internal_error_exits_2_and_keeps_other_findings(app: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint.rules.fdl402_chain_too_deep import DependencyChainTooDeep as Rule

    def boom(self: object, ctx: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(Rule, "check", boom)
    code, out, err = invoke("check", "app", "--select", "FDL101,FDL402")
    assert code == 2
    assert "FDL900" in out and out.count(": FDL101 ") == 5
    assert "internal error in rule FDL402 (RuntimeError: kaboom)" in err


def test_files_are_judged_with_their_project(app: Path) -> None:
    # database.py alone has no route: only with main.py in view are its functions dependencies
    code, out, _ = invoke("check", "app/database.py", "--select", "FDL101")
    assert code == 1 and out.count("app/database.py:") == 5
    code, out, _ = invoke("check", "app/main.py", "--select", "FDL101")
    assert code == 0 and "All checks passed." in out
    code, out, _ = invoke("check", "--no-project", "app/database.py", "--select", "FDL101")
    assert code == 0


def test_files_from_two_projects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("one", "two"):
        shutil.copytree(FDL101, tmp_path / name)
        (tmp_path / name / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "two" / "pyproject.toml").write_text('[tool.fastapi-deplint]\nignore = ["FDL101"]\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("check", "one/app/database.py", "two/app/database.py", "--select", "FDL101")
    assert code == 1  # each file is judged with its own project's configuration
    assert out.count("one/app/database.py:") == 5 and "two/app/database.py:" not in out


def test_show_settings(app: Path) -> None:
    (app / "pyproject.toml").write_text('[tool.fastapi-deplint]\nmax-depth = 3\n')
    code, out, _ = invoke("check", "app", "--show-settings", "--ignore", "FDL4")
    settings = json.loads(out)
    assert code == 0 and settings["max-depth"] == 3 and settings["ignore"] == ["FDL4"]
    assert settings["source"].endswith("pyproject.toml")


def test_rule_command() -> None:
    code, out, _ = invoke("rule", "FDL101")
    assert code == 0 and out.startswith("# FDL101 resource-returned-not-yielded") and "Fix: " in out
    code, out, _ = invoke("rule", "fdl901")
    assert code == 0 and "cannot-parse" in out
    code, _, err = invoke("rule", "FDL999")
    assert code == 2 and "unknown rule FDL999" in err


def test_rules_page_is_current() -> None:
    from fastapi_deplint.report.rules_page import REGENERATE, render

    page = ROOT / "docs" / "rules.md"
    current = page.read_text(encoding="utf-8") if page.exists() else ""
    assert current == render(), f"docs/rules.md is out of date: run `{REGENERATE}` and commit the result"


def test_rules_page_documents_every_rule_and_setting() -> None:
    from dataclasses import fields

    from fastapi_deplint.config import Config
    from fastapi_deplint.report.rules_page import render
    from fastapi_deplint.rules import all_rules

    page = render()
    for rule in all_rules():
        assert f"## {rule.code} {rule.name}" in page
        assert rule.summary in page
    for f in fields(Config):
        if f.name != "source":
            assert f"`{f.name.replace('_', '-')}`" in page


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_on_a_terminal_after_a_moment(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint.report.progress import TerminalProgress

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert TerminalProgress.wanted(quiet=False) and not TerminalProgress.wanted(quiet=True)
    progress = TerminalProgress(delay=0.0)
    progress("files", 0, 1234)
    deadline = time.monotonic() + 5
    while "Analysing 1234 files" not in terminal.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    progress("rules", 3, 20)
    time.sleep(0.3)
    progress.stop()
    shown = terminal.getvalue()
    assert "Analysing 1234 files" in shown and "Running rules" in shown and "3/20" in shown


def test_progress_stays_silent_on_quick_runs_and_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint.report.progress import TerminalProgress

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    progress = TerminalProgress(delay=0.5)
    progress("files", 0, 10)
    progress.stop()
    time.sleep(0.7)
    assert terminal.getvalue() == ""
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not TerminalProgress.wanted(quiet=False)


def test_real_process_prints_nothing_on_stderr_when_piped(app: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "fastapi_deplint", "check", "app"], capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr == ""


HELPER = '''import requests


def fetch(url: str) -> str:
    return requests.get(url).text
'''
ROUTE = '''from fastapi import FastAPI

from .helpers import fetch

app = FastAPI()


@app.get("/")
async def index() -> str:
    return fetch("https://example.com")
'''


def test_a_message_names_another_file_the_same_whichever_way_files_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files given alone (pre-commit) are analysed from their project's root, found as an
    # absolute path; the file a message points to must still read as in a run over the
    # folder: a baseline and SARIF's fingerprints key on the message.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "helpers.py").write_text(HELPER)
    (tmp_path / "app" / "main.py").write_text(ROUTE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    _, folder, _ = invoke("check", ".", "--select", "FDL302", "-q")
    _, given, _ = invoke("check", "app/main.py", "--select", "FDL302", "-q")
    assert "app/main.py:10:12: FDL302 `fetch()` makes blocking call `requests.get` (app/helpers.py:5)" in folder
    assert given == folder
