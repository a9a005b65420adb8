"""A project full of hostile inputs next to good files: each hostile input gives exactly the
expected FDL901 (or nothing), the good files keep every real finding, nothing hangs, and
nothing under analysis is ever imported or executed.

The nasty inputs (FIFOs, sockets, symlink loops, a 20 MB file, undecodable bytes...) are
built in a temporary copy of `fixtures/_hostile/project`; they never enter git.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project
from fixture_harness import expected

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "fixtures" / "_hostile"
CODES = ["FDL101", "FDL401", "FDL900", "FDL901"]
TIMEOUT = 120  # seconds for one CLI run over the whole hostile tree
Key = tuple[str, int, str]

# Every file names `Depends`, so the pre-scan cannot skip it: each is really read.
LEAK = "from fastapi import Depends, FastAPI\nfrom app.database import SessionLocal\n"
HOSTILE_FILES: dict[str, bytes] = {
    "syntax_error.py": b"from fastapi import Depends\ndef f(:\n    pass\n",
    "null_byte.py": b"from fastapi import Depends\nx = 1\x00\n",
    "latin1_undeclared.py": b"from fastapi import Depends\nx = '\xe9'\n",
    "latin1_declared.py": b"# -*- coding: latin-1 -*-\nfrom fastapi import Depends\nx = '\xe9'\n",
    "unknown_codec.py": b"# -*- coding: klingon -*-\nfrom fastapi import Depends\n",
    "utf16_cookie.py": b"# coding: utf-16\nfrom fastapi import Depends\n",
    "bytes_codec.py": b"# coding: hex\nfrom fastapi import Depends\n",
    "bom_and_cookie_disagree.py": b"\xef\xbb\xbf# coding: latin-1\nfrom fastapi import Depends\n",
    "bom_crlf.py": b"\xef\xbb\xbffrom fastapi import Depends\r\ny = 2\r\n",
    "empty.py": b"",
    "blank.py": b"\n\n   \n\t\n",
    "python2.py": b"from fastapi import Depends\nprint 'hello'\n",
    "deep_parentheses.py": b"from fastapi import Depends\nx = " + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
    "deep_unary.py": b"from fastapi import Depends\nx = " + b"not " * 100_000 + b"y\n",
    "deep_indent.py": b"from fastapi import Depends\n" + b"".join(b" " * i + b"if x:\n" for i in range(101)) + b" " * 101 + b"pass\n",
    # deep but valid: the parser takes them, the extractor must too (it recurses per level)
    "deep_calls.py": b"from fastapi import Depends\ndef f():\n    return g" + b"()" * 2500 + b"\n",
    "deep_attributes.py": b"from fastapi import Depends\ndef f():\n    return a" + b".b" * 2500 + b"\n",
    "deep_sum.py": b"from fastapi import Depends\ndef f():\n    return 1" + b" + 1" * 2500 + b"\n",
    "deep_blocks.py": b"from fastapi import Depends\ndef f():\n" + b"".join(b" " * (4 + i) + b"for x in y:\n" for i in range(95)) + b" " * 99 + b"pass\n",
    # deep and with a fixable finding: the CLI's fix description (libcst) must cope too
    "deep_with_leak.py": (
        LEAK + "def get_deep_leak():\n    return SessionLocal()\n\ndef deep():\n    return 1" + " + 1" * 2500 + "\n\n"
        "app5 = FastAPI()\n\n@app5.get('/d')\ndef d(db=Depends(get_deep_leak)):\n    return 1\n"
    ).encode(),
    # real findings after odd line endings, form feeds and Unicode line separators: the
    # finding's line and its noqa comment must agree with Python's own line numbers
    "mixed_endings.py": (
        LEAK + "app2 = FastAPI()\r\n# a comment with a \u2028 line separator\r"
        "\x0cdef get_leak():\n    return SessionLocal()\r\n"
        "def get_quiet():  # noqa: FDL101\n    return SessionLocal()\n"
        "@app2.get('/')\r\ndef r(a=Depends(get_leak), b=Depends(get_quiet)):\n    return 1\n"
    ).encode(),
    # newer-Python syntax: read, so the leaks inside are found (no FDL901)
    "py312_syntax.py": (
        LEAK + "from typing import Annotated\n\n"
        "type Session = Annotated[object, Depends(lambda: None)]\n\n"
        "class Box[T]:\n    pass\n\n"
        "def get_generic[T: (int, str) = int]():\n    return SessionLocal()\n\n"
        "app3 = FastAPI()\n\n@app3.get('/g')\ndef g(db=Depends(get_generic)):\n    return 1\n"
    ).encode(),
    "py314_except.py": (
        LEAK + "def get_guarded():\n    try:\n        db = SessionLocal()\n    except ValueError, TypeError:\n        raise\n"
        "    return db\n\napp4 = FastAPI()\n\n@app4.get('/e')\ndef e(db=Depends(get_guarded)):\n    return 1\n"
    ).encode(),
}
# (file, line, words the message must contain); files not listed must give no FDL901
EXPECTED_901: list[tuple[str, int, tuple[str, ...]]] = [
    ("app/syntax_error.py", 2, ("syntax error",)),
    ("app/null_byte.py", 2, ("null byte",)),
    ("app/latin1_undeclared.py", 2, ("not valid utf-8", "line 2")),
    ("app/unknown_codec.py", 1, ("encoding", "klingon")),
    ("app/utf16_cookie.py", 1, ("utf-16",)),
    ("app/bytes_codec.py", 1, ("hex",)),
    ("app/bom_and_cookie_disagree.py", 1, ("encoding",)),
    ("app/python2.py", 2, ("syntax error", "print")),
    ("app/deep_parentheses.py", 2, ("too many nested parentheses",)),
    ("app/deep_unary.py", 1, ("too deeply nested",)),
    ("app/deep_indent.py", 102, ("too many levels of indentation",)),
    ("app/huge.py", 1, ("too large", "MiB")),
    ("app/loop_a.py", 1, ("symbolic link loop",)),
    ("app/loop_b.py", 1, ("symbolic link loop",)),
]
EXPECTED_EXTRA: set[Key] = {
    ("app/deep_with_leak.py", 3, "FDL101"),
    ("app/mixed_endings.py", 5, "FDL101"),
    ("app/py312_syntax.py", 10, "FDL101"),
    ("app/py314_except.py", 3, "FDL101"),
}


def build_hostile_tree(dest: Path) -> Path:
    shutil.copytree(HOSTILE / "project", dest)
    app = dest / "app"
    for name, data in HOSTILE_FILES.items():
        (app / name).write_bytes(data)
    # a 20 MB generated file that mentions FastAPI (reported, never parsed) and one that
    # does not and that nothing imports (never parsed, not reported)
    line = b"VALUE_%d = {'key': [1, 2, 3], 'name': 'generated'}\n"
    body = b"".join(line % i for i in range(420_000))
    assert len(body) > 20_000_000
    (app / "huge.py").write_bytes(b"from fastapi import APIRouter\n" + body)
    (app / "huge_unrelated.py").write_bytes(body)
    (app / "unrelated_broken.py").write_bytes(b"def g(:\n")  # never reached: never parsed
    # a directory named like a module, containing a good module
    (app / "folder.py").mkdir()
    (app / "folder.py" / "inside.py").write_text("from fastapi import Depends\nX = 1\n")
    # symlinks: a loop between two `.py` links, a dangling one (an editor lock file), a
    # directory link back to the root (not followed: no endless walk), a link to a good file
    (app / "loop_a.py").symlink_to("loop_b.py")
    (app / "loop_b.py").symlink_to("loop_a.py")
    (app / ".#lock.py").symlink_to("user@host.1234")
    (app / "back").symlink_to(dest)
    (app / "alias_of_database.py").symlink_to("database.py")
    # special files named `*.py`: skipped without being opened (opening a FIFO blocks)
    os.mkfifo(app / "fifo.py")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(app / "socket.py"))
    server.close()
    return dest


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not hasattr(os, "mkfifo") or not hasattr(socket, "AF_UNIX"):
        pytest.skip("needs FIFOs and Unix sockets")
    yield build_hostile_tree(tmp_path_factory.mktemp("hostile") / "project")


def expected_keys() -> set[Key]:
    """The `# expect:` markers of the fixture (read from git's copy: the temporary one has
    FIFOs and link loops) plus the findings of the generated files."""
    keys = {k for k in expected(HOSTILE / "project") if k[2] in CODES} | EXPECTED_EXTRA
    return keys | {(path, line, "FDL901") for path, line, _ in EXPECTED_901}


def test_library_reports_exactly_the_expected_findings(hostile_tree: Path) -> None:
    project = build_project([hostile_tree], jobs=1)
    result = engine.run(project, Config(select=CODES))
    got = {(Path(f.path).relative_to(hostile_tree).as_posix(), f.line, f.code) for f in result.findings}
    assert got == expected_keys()
    assert not result.internal_errors
    messages = {(Path(f.path).relative_to(hostile_tree).as_posix(), f.line): f.message for f in result.findings}
    for path, line, words in EXPECTED_901:
        for word in words:
            assert word in messages[(path, line)], (path, messages[(path, line)])
    # the linked duplicate of database.py is analysed once, under one of its names
    assert sum(1 for f in result.findings if f.message.startswith("dependency `get_db`")) == 1


def test_cli_on_the_hostile_tree_exits_1_without_traceback(hostile_tree: Path) -> None:
    filler = hostile_tree / "filler"  # enough files for the parallel reader to start
    filler.mkdir(exist_ok=True)
    for i in range(70):
        (filler / f"m{i}.py").write_text(f"from fastapi import APIRouter\nrouter{i} = APIRouter()\n")
    try:
        run = subprocess.run(
            [sys.executable, "-m", "fastapi_deplint", "check", str(hostile_tree), "--isolated",
             "--select", ",".join(CODES), "--output-format", "json"],
            capture_output=True, text=True, timeout=TIMEOUT, cwd=hostile_tree,
        )
    finally:
        shutil.rmtree(filler)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1, run.stderr
    got = {(Path(os.path.relpath(f["path"], hostile_tree)).as_posix(), f["line"], f["code"])
           for f in json.loads(run.stdout)}
    assert got == expected_keys()


def test_pep695_type_statement_is_a_type_alias(hostile_tree: Path) -> None:
    """On every Python the `type` statement is an alias (as `ast.TypeAlias` on 3.12+)."""
    from fastapi_deplint.source import read_facts

    facts = read_facts(hostile_tree / "app" / "py312_syntax.py")
    assert facts.error is None
    [alias] = facts.assigns[""]["Session"]
    assert alias.is_type_alias
    assert "get_generic" in facts.functions and "Box" in facts.classes


# -- nothing analysed is imported or executed -------------------------------------------


def _console_script(name: str) -> Path | None:
    candidate = Path(sys.executable).parent / name
    return candidate if candidate.exists() else None


def _markers(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("MARKER*"))


@pytest.fixture()
def never_run(tmp_path: Path) -> Path:
    dest = tmp_path / "never_run"
    shutil.copytree(HOSTILE / "never_run", dest)
    return dest


def test_nothing_is_imported_by_the_library(never_run: Path) -> None:
    from fastapi_deplint.config import load_config

    config = load_config([never_run])
    assert config.select == ["FDL101", "FDL401", "FDL901"]
    assert list(config.per_file_ignores) == ["__import__('os').system('touch MARKER-config')"]
    result = engine.run(build_project([never_run], jobs=1), config)
    got = {(Path(f.path).relative_to(never_run).as_posix(), f.line, f.code) for f in result.findings}
    assert got == expected(HOSTILE / "never_run")
    assert _markers(never_run) == []


@pytest.mark.parametrize(
    "command",
    [
        ["{python}", "-m", "fastapi_deplint", "check", "."],
        ["{python}", "-m", "fastapi_deplint", "graph", ".", "--format", "json"],
        ["fastapi-deplint", "check", "."],
        ["flake8", "--select", "FDL", "."],
    ],
    ids=["python-m-check", "python-m-graph", "console-script", "flake8"],
)
def test_nothing_is_imported_by_any_entry_point(never_run: Path, command: list[str]) -> None:
    """Run from inside the analysed tree, whose `tokenize.py`, `ast.py`, `click.py` and
    `typing.py` would shadow the standard library's if the current folder were importable."""
    if command[0] == "{python}":
        argv = [sys.executable, *command[1:]]
    else:
        script = _console_script(command[0])
        if script is None:
            pytest.skip(f"no {command[0]} console script next to {sys.executable}")
        argv = [str(script), *command[1:]]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}  # the hazard must be live
    run = subprocess.run(argv, cwd=never_run, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert _markers(never_run) == [], run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    if command[1:3] == ["-m", "fastapi_deplint"] and command[3] == "graph":
        assert run.returncode == 0, run.stderr
        assert "never_run.main.index" in run.stdout
    else:
        assert run.returncode == 1, run.stdout + run.stderr  # the leak in deps.py, not exit 3/4/5/77
        assert "deps.py:10:" in run.stdout and "FDL101" in run.stdout
