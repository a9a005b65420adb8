"""The baseline (`--baseline FILE`) and `--add-noqa`: adopting the linter on a legacy codebase."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_deplint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FDL101 = ROOT / "fixtures" / "FDL101"
NEW_LEAK = '''

def get_other_connection():
    return engine.connect()
'''


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(FDL101, dest)
    monkeypatch.chdir(dest)
    return dest


def use_new_leak(proj: Path) -> None:
    db = proj / "app" / "database.py"
    db.write_text(db.read_text() + NEW_LEAK)
    main_py = proj / "app" / "main.py"
    main_py.write_text(
        main_py.read_text() + "\n\nfrom .database import get_other_connection  # noqa: E402\n\n\n"
        "@app.get('/other')\ndef other(c=Depends(get_other_connection)):\n    return c\n"
    )


def test_baseline_is_written_then_hides_known_findings(proj: Path) -> None:
    base = proj / "deplint-baseline.json"
    code, out, err = check("app", "--select", "FDL101", "--baseline", str(base))
    assert code == 0 and "wrote 5 findings to the baseline" in err
    data = json.loads(base.read_text())
    assert data["version"] == 1 and len(data["findings"]) == 5
    entry = data["findings"][0]
    assert set(entry) == {"path", "code", "symbol", "message"} and entry["path"] == "app/database.py"
    assert entry["symbol"] in {"get_db", "get_session", "get_connection", "get_client", "get_file"}
    code, out, _ = check("app", "--select", "FDL101", "--baseline", str(base))
    assert code == 0 and "All checks passed. (5 more in the baseline.)" in out


def test_baseline_survives_unrelated_edits_and_reports_new_findings(proj: Path) -> None:
    base = proj / "baseline.json"
    check("app", "--select", "FDL101", "--baseline", str(base))
    db = proj / "app" / "database.py"
    db.write_text('"""Database helpers."""\n# moved everything down a few lines\n\n\n' + db.read_text())
    assert check("app", "--select", "FDL101", "--baseline", str(base))[0] == 0
    use_new_leak(proj)
    code, out, _ = check("app", "--select", "FDL101", "--baseline", str(base), "-q")
    assert code == 1
    assert [line.split(": FDL101 ")[1].split("`")[1] for line in out.splitlines()] == ["get_other_connection"]
    # paths are relative to the baseline file: the same result from another folder
    code, out, _ = check(str(proj / "app"), "--select", "FDL101", "--baseline", str(base), "-q")
    assert code == 1 and len(out.splitlines()) == 1
    # --update-baseline takes the new one in; a fixed finding leaves it
    code, _, err = check("app", "--select", "FDL101", "--baseline", str(base), "--update-baseline")
    assert code == 0 and "wrote 6 findings" in err
    assert check("app", "--select", "FDL101", "--baseline", str(base))[0] == 0


def test_baseline_counts_identical_findings(proj: Path) -> None:
    from fastapi_deplint.baseline import Baseline, key, load
    from fastapi_deplint.rules.base import Finding

    a = Finding("FDL202", "mutates `CACHE` (line 3)", "app/x.py", 3, 0, 3, 1, symbol="f")
    b = Finding("FDL202", "mutates `CACHE` (line 9)", "app/x.py", 9, 0, 9, 1, symbol="f")
    c = Finding("FDL202", "mutates `CACHE` (line 12)", "app/x.py", 12, 0, 12, 1, symbol="f")
    assert key(a, proj) == key(b, proj)  # numbers in messages do not matter
    from fastapi_deplint import baseline

    path = proj / "b.json"
    baseline.write(path, [a, b])
    assert json.loads(path.read_text())["findings"][0]["count"] == 2
    loaded: Baseline = load(path)
    kept, dropped = loaded.filter([a, b, c])
    assert dropped == 2 and kept == [c]


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "invalid JSON"), ('{"version": 9, "findings": []}', "not a fastapi-deplint baseline"),
     ('{"version": 1, "findings": [{"path": 1}]}', "malformed entry #1")],
)
def test_bad_baseline_is_a_clear_error(proj: Path, content: str, message: str) -> None:
    base = proj / "b.json"
    base.write_text(content)
    code, out, err = check("app", "--baseline", str(base))
    assert code == 2 and message in err and "Traceback" not in out + err


def test_update_baseline_needs_baseline(proj: Path) -> None:
    code, _, err = check("app", "--update-baseline")
    assert code == 2 and "--update-baseline needs --baseline" in err


def test_add_noqa_suppresses_in_place_and_is_idempotent(proj: Path) -> None:
    db = proj / "app" / "database.py"
    # CRLF line endings, an existing noqa for another tool, a comment, a multi-line string
    text = db.read_text()
    text = text.replace("def get_session():  # expect: FDL101", "def get_session():  # noqa: E501")
    text = text.replace("def get_connection():  # expect: FDL101", "def get_connection():  # keep me")
    db.write_bytes(text.replace("\n", "\r\n").encode())
    code, out, err = check("app", "--select", "FDL101", "--add-noqa")
    assert code == 0 and "Added 5 noqa directives to 1 file." in out, out + err
    after = db.read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b"")  # every line still ends with CRLF
    lines = after.decode().split("\r\n")
    assert "def get_session():  # noqa: E501, FDL101" in lines
    assert "def get_connection():  # keep me  # noqa: FDL101" in lines
    assert "def get_db():  # expect: FDL101  # noqa: FDL101" in lines
    assert check("app", "--select", "FDL101")[0] == 0
    code, out, _ = check("app", "--select", "FDL101", "--add-noqa")
    assert code == 0 and "Added 0 noqa directives to 0 files." in out
    assert db.read_bytes() == after


def test_add_noqa_never_edits_inside_a_string_or_after_a_backslash(tmp_path: Path) -> None:
    from fastapi_deplint.add_noqa import add_noqa
    from fastapi_deplint.rules.base import Finding

    src = tmp_path / "m.py"
    original = 'x = f("""a\nb""")\ny = 1 + \\\n    2\nz = 3\n'
    src.write_text(original)
    findings = [Finding("FDL104", "m", str(src), line, 0, line, 1) for line in (1, 3, 5)]
    done = add_noqa(findings + [Finding("FDL901", "m", str(src), 5, 0, 5, 0)])
    assert src.read_text() == 'x = f("""a\nb""")\ny = 1 + \\\n    2\nz = 3  # noqa: FDL104\n'
    assert done.added == 1 and [(line, why.split()[0]) for _, line, why in done.skipped] == [(5, "FDL901"), (1, "the"), (3, "the")]
    compile(src.read_text(), str(src), "exec")
