"""The command line, through click's CliRunner and as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from fastapi_deplint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FDL101 = ROOT / "fixtures" / "FDL101"


def test_check_concise_and_exit_code() -> None:
    result = CliRunner().invoke(main, ["check", str(FDL101), "--select", "FDL101"])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if ": FDL101 " in line]
    assert len(lines) == 5
    path, line, col, rest = lines[0].split(":", 3)
    assert path.endswith("database.py") and line == "9" and col == "1"
    assert "Found 5 findings." in result.output.splitlines()
    # unsafe fixes are not described for a text report without --unsafe-fixes: "up to"
    assert result.output.rstrip().endswith("(up to 5 hidden fixes can be enabled with the `--unsafe-fixes` option).")
    shown = CliRunner().invoke(main, ["check", str(FDL101), "--select", "FDL101", "--unsafe-fixes"])
    assert shown.output.count(" [*] ") == 5 and "[*] 5 fixable" in shown.output and "hidden" not in shown.output, shown.output


def test_default_command_is_check() -> None:
    result = CliRunner().invoke(main, [str(FDL101), "--select", "FDL101", "-q"])
    assert result.exit_code == 1
    assert "Found" not in result.output


def test_json_output_schema() -> None:
    result = CliRunner().invoke(main, ["check", str(FDL101), "--select", "FDL101", "--output-format", "json"])
    data = json.loads(result.output)
    assert {tuple(sorted(k for k in d if k != "fix")) for d in data} == {
        ("code", "column", "end_column", "end_line", "line", "message", "path", "severity")
    }
    assert {d["fix"]["applicability"] for d in data if "fix" in d} == {"unsafe"}
    assert all(d["line"] >= 1 and d["column"] >= 1 for d in data)


def test_clean_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("from fastapi import FastAPI\napp = FastAPI()\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 0
    assert "All checks passed." in result.output


def test_exit_zero_and_statistics() -> None:
    result = CliRunner().invoke(main, ["check", str(FDL101), "--select", "FDL101", "--statistics", "--exit-zero"])
    assert result.exit_code == 0
    assert result.output.split() == ["5", "FDL101"]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert CliRunner().invoke(main, ["check", str(tmp_path / "missing")]).exit_code == 2
    bad = tmp_path / "proj"
    bad.mkdir()
    (bad / "pyproject.toml").write_text('[tool.fastapi-deplint]\nmax-depth = "deep"\n')
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert "max-depth" in result.output and "pyproject.toml" in result.output
    assert "Traceback" not in result.output


def test_rule_docs() -> None:
    result = CliRunner().invoke(main, ["rule", "FDL101"])
    assert result.exit_code == 0 and "## Why is this bad?" in result.output
    assert CliRunner().invoke(main, ["rule", "FDL999"]).exit_code == 2
    every = CliRunner().invoke(main, ["rule", "--all"]).output
    from fastapi_deplint.rules import all_rules

    for rule in all_rules():
        assert f"# {rule.code} {rule.name}" in every
        assert "## What it does" in rule.documentation() and "## Why is this bad?" in rule.documentation()


def test_graph_formats() -> None:
    app = ROOT / "examples" / "shop"
    runner = CliRunner()
    data = json.loads(runner.invoke(main, ["graph", str(app), "--format", "json"]).output)
    assert {r["path"] for r in data["routes"]} >= {"/items/", "/admin/stats", "/token"}
    mermaid = runner.invoke(main, ["graph", str(app), "--format", "mermaid"]).output
    assert mermaid.startswith("flowchart LR") and "get_current_user" in mermaid
    dot = runner.invoke(main, ["graph", str(app), "--format", "dot"]).output
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    tree = runner.invoke(main, ["graph", str(app)]).output
    assert "GET /admin/stats" in tree and "RequiresRole()" in tree


def test_console_script_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "fastapi_deplint", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "fastapi-deplint" in proc.stdout


def test_graph_reports_broken_files_and_still_builds(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples" / "shop", tmp_path / "shop")
    (tmp_path / "shop" / "shop" / "broken.py").write_text("from fastapi import Depends\ndef oops(:\n")
    result = CliRunner().invoke(main, ["graph", str(tmp_path / "shop"), "--format", "json"])
    data = json.loads(result.output)
    assert [e["path"].endswith("broken.py") for e in data["errors"]] == [True]
    assert len(data["routes"]) == 5


def test_the_command_leaves_without_teardown_but_with_all_output_and_its_exit_code(tmp_path: Path) -> None:
    """`cli.run` ends with `os._exit`: stdout and stderr must be complete and the code right."""
    many = tmp_path / "many"
    for n in range(40):  # enough JSON to outgrow a pipe's buffer
        shutil.copytree(FDL101 / "app", many / f"app{n}")
    found = subprocess.run([sys.executable, "-m", "fastapi_deplint", "check", str(many), "--select", "FDL101",
                            "--output-format", "json", "--no-cache"], capture_output=True, text=True)
    assert found.returncode == 1 and len(json.loads(found.stdout)) == 40 * 5
    clean = subprocess.run([sys.executable, "-m", "fastapi_deplint", "check", str(ROOT / "fixtures" / "clean"), "--isolated"],
                           capture_output=True, text=True)
    assert clean.returncode == 0 and "All checks passed." in clean.stdout
    usage = subprocess.run([sys.executable, "-m", "fastapi_deplint", "check", "--no-such-option"], capture_output=True, text=True)
    assert usage.returncode == 2 and "--no-such-option" in usage.stderr
