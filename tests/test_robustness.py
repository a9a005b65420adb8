"""Odd and hostile files are reported as FDL901 and the rest of the project is still analysed."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project

if TYPE_CHECKING:
    from fastapi_deplint.rules.base import Rule

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
    (app / "nul.py").write_bytes(b"from fastapi import Depends\nx = 1\x00\n")
    (app / "latin.py").write_bytes(b"from fastapi import Depends\nx = '\xe9'\n")
    (app / "badcookie.py").write_bytes(b"# -*- coding: klingon -*-\nfrom fastapi import Depends\n")
    (app / "bom.py").write_bytes(b"\xef\xbb\xbffrom fastapi import Depends\r\ny = 2\n")
    (app / "empty.py").write_bytes(b"")
    (app / "deep.py").write_text("from fastapi import Depends\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n")
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


def test_pep695_syntax_is_read_on_every_python(tmp_path: Path) -> None:
    """`type` statements and type parameters are read (rewritten on 3.11), so a leak in a
    generic dependency is found and nothing is FDL901."""
    (tmp_path / "deps.py").write_text(
        "from typing import Annotated\nfrom fastapi import Depends, FastAPI\nfrom sqlalchemy.orm import sessionmaker\n"
        "SessionLocal = sessionmaker()\napp = FastAPI()\n"
        "type Db[T] = Annotated[T, Depends(lambda: None)]\n"
        "class Repo[T]:\n    pass\n"
        "def get_db[T: (int, str)](x: T = 1):\n    return SessionLocal()\n\n"
        "@app.get('/')\ndef index(db=Depends(get_db)):\n    return 1\n"
    )
    assert findings(tmp_path) == [("deps.py", 9, "FDL101")]


@pytest.mark.parametrize(
    ("source", "reader", "applies"),
    [
        ("x = t'hello {name}'\n", "3.14", sys.version_info < (3, 14)),
        ("x = f'{d['key']}'\n", "3.12", sys.version_info < (3, 12)),
        ("try:\n    pass\nexcept A, B as e:\n    pass\n", "3.14", True),  # PEP 758 requires parentheses with `as`
    ],
    ids=["t-string", "pep701-f-string", "except-as"],
)
def test_unreadable_newer_syntax_names_the_python_that_reads_it(tmp_path: Path, source: str, reader: str, applies: bool) -> None:
    if not applies:
        pytest.skip(f"read natively on Python {sys.version_info.major}.{sys.version_info.minor}")
    (tmp_path / "new.py").write_text("from fastapi import Depends\n" + source)
    [finding] = engine.run(build_project([tmp_path], jobs=1), Config()).findings
    assert finding.code == "FDL901"
    if source.startswith("try"):
        assert "syntax error" in finding.message and "would read it" not in finding.message  # invalid everywhere
    else:
        assert f"Python {reader}+ would read it" in finding.message


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


# -- reading: encodings, line numbers, recursion, special files ------------------------------


def test_every_stdlib_codec_is_accepted_or_rejected_like_cpython(tmp_path: Path) -> None:
    """A coding cookie naming any codec Python knows (text, bytes-to-bytes, UTF-16...) is
    read exactly when CPython itself would compile the file; never a crash."""
    import ast
    import encodings.aliases

    from fastapi_deplint.source import read_facts

    names = sorted(set(encodings.aliases.aliases.values()) | {"hex", "rot13", "idna", "punycode", "unicode_escape", "undefined"})
    path = tmp_path / "cookie.py"
    disagree = []
    for name in names:
        data = f"# coding: {name}\nimport fastapi\nx = 1\n".encode("ascii")
        path.write_bytes(data)
        try:
            compile(data, str(path), "exec", ast.PyCF_ONLY_AST)
            cpython_reads = True
        except (SyntaxError, ValueError, LookupError):
            cpython_reads = False
        if (read_facts(path).error is None) != cpython_reads:
            disagree.append(name)
    assert disagree == []


def test_noqa_lines_are_python_lines() -> None:
    """Form feeds, `\\x1c`-`\\x1e`, `\\x85` and `\\u2028` are not line breaks for Python (they are
    for `str.splitlines`); a lone `\\r` is."""
    from fastapi_deplint.source import noqa_map

    text = "a = 1  # \u2028 \x85 \x1c\n\x0cb = 2\rc = 3  # noqa: FDL101\r\nd = 4  # noqa\n"
    assert noqa_map(text) == {3: frozenset({"FDL101"}), 4: None}


def test_reading_never_warns_about_the_analysed_code() -> None:
    """Invalid escapes (a DeprecationWarning on 3.11, a SyntaxWarning on 3.12+), in code and in
    string annotations, and 3.14's `return` in `finally` are the user's business, not
    something to print on every run."""
    from fastapi_deplint.source import facts_from_text

    text = (
        "import re\nfrom fastapi import Depends\nPATTERN = '\\d+'\n"
        "def f(x: \"list['\\d']\" = Depends(lambda: 1)):\n    try:\n        pass\n    finally:\n        return x\n"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = facts_from_text(text, "warn.py", "warn", False)
    assert [str(w.message) for w in caught] == []
    assert facts.error is None and "f" in facts.functions


def _at_depth(depth: int, call):  # type: ignore[no-untyped-def]
    return _at_depth(depth - 1, call) if depth else call()


def test_parse_verdict_does_not_depend_on_the_callers_depth() -> None:
    """Python 3.11's parser counts the caller's frames against its recursion limit; a file
    Python itself compiles is read even from deep inside flake8 or a test runner."""
    from fastapi_deplint.source import facts_from_text

    text = "import fastapi\ndef f():\n    return 1" + " + 1" * 2500 + "\n"
    shallow = facts_from_text(text, "deep.py", "deep", False)
    deep = _at_depth(sys.getrecursionlimit() - 150, lambda: facts_from_text(text, "deep.py", "deep", False))
    assert shallow.error is None and deep.error is None
    assert "f" in deep.functions


def test_a_fifo_is_never_opened_for_reading(tmp_path: Path) -> None:
    from fastapi_deplint.source import read_facts, read_source

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    with deadline(10):
        with pytest.raises(OSError, match="a FIFO"):
            read_source(fifo)
        assert read_facts(fifo).error == "cannot read file: not a regular file: a FIFO"


def test_file_swapped_for_a_fifo_after_analysis_does_not_hang_the_report(tree: Path) -> None:
    """Reports re-read source lines (columns, the `full` format): a file replaced by a FIFO
    meanwhile is not waited on."""
    from fastapi_deplint.report.full import SourceCache

    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    project = build_project([tree], jobs=1)
    database = tree / "app" / "database.py"
    database.unlink()
    os.mkfifo(database)
    with deadline(20):
        result = engine.run(project, Config(select=["FDL101"]))
        assert SourceCache().line(str(database), 9) is None
    assert [f.line for f in result.findings] == [9, 14, 18, 22, 26]


def test_large_files_are_scanned_in_chunks_and_never_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint import source

    monkeypatch.setattr(source, "MAX_PARSE_BYTES", 4096)
    monkeypatch.setattr(source, "_CHUNK", 1000)
    filler = b"x = 1\n" * 2000
    (tmp_path / "tail.py").write_bytes(filler + b"from fastapi import Depends\n")  # mentioned past the first chunks
    (tmp_path / "split.py").write_bytes(filler[:4094] + b"Depends" + filler)  # word across a chunk edge
    (tmp_path / "none.py").write_bytes(filler)
    got = {p.name: source.read_facts(p, prescan=True) for p in sorted(tmp_path.iterdir())}
    assert got["none.py"].deferred and got["none.py"].error is None
    for name in ("tail.py", "split.py"):
        assert not got[name].deferred and "too large" in (got[name].error or ""), name
    assert "too large" in (source.read_facts(tmp_path / "none.py").error or "")  # when an import reaches it


# -- files that vanish or become unreadable mid-run -------------------------------------------


def _read_hook(monkeypatch: pytest.MonkeyPatch, hook) -> None:  # type: ignore[no-untyped-def]
    from fastapi_deplint import source

    real = source.read_source

    def read_source(path: Path | str) -> bytes:
        hook(Path(path))
        return real(path)

    monkeypatch.setattr(source, "read_source", read_source)


def test_files_vanishing_between_listing_and_reading(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "app" / "gone.py").write_text("import fastapi\n")
    _read_hook(monkeypatch, lambda p: p.unlink() if p.name == "gone.py" and p.exists() else None)
    assert findings(tree) == [
        ("app/database.py", 9, "FDL101"),
        ("app/database.py", 14, "FDL101"),
        ("app/database.py", 18, "FDL101"),
        ("app/database.py", 22, "FDL101"),
        ("app/database.py", 26, "FDL101"),
        ("app/gone.py", 1, "FDL901"),
    ]


def test_imported_module_vanishing_before_it_is_parsed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`database.py` mentions nothing FastAPI: it is read once (pre-scan), then again when the
    graph reaches it; it vanishes in between."""
    (tmp_path / "database.py").write_text("from sqlalchemy.orm import sessionmaker\nS = sessionmaker()\ndef get_db():\n    return S()\n")
    (tmp_path / "main.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom database import get_db\napp = FastAPI()\n"
        "@app.get('/')\ndef index(db=Depends(get_db)):\n    return 1\n"
    )
    reads: list[str] = []

    def hook(path: Path) -> None:
        reads.append(path.name)
        if path.name == "database.py" and reads.count("database.py") == 2:
            path.unlink()

    _read_hook(monkeypatch, hook)
    got = engine.run(build_project([tmp_path], jobs=1), Config(select=["FDL101", "FDL901"])).findings
    assert [(Path(f.path).name, f.code) for f in got] == [("database.py", "FDL901")]
    assert "No such file" in got[0].message


def test_file_losing_read_permission_mid_run(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated: as root (the test machine) `chmod 000` does not stop reading."""

    def hook(path: Path) -> None:
        if path.name == "main.py":
            raise PermissionError(13, "Permission denied", str(path))

    _read_hook(monkeypatch, hook)
    got = findings(tree)
    assert ("app/main.py", 1, "FDL901") in got
    result = engine.run(build_project([tree], jobs=1), Config(select=["FDL901"]))
    assert [f.message for f in result.findings] == ["cannot analyse file: cannot read file: Permission denied"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_for_real(tree: Path) -> None:
    target = tree / "app" / "main.py"
    target.chmod(0)
    try:
        assert ("app/main.py", 1, "FDL901") in findings(tree)
    finally:
        target.chmod(0o644)


def test_analysed_file_deleted_before_the_rules_run(tree: Path) -> None:
    """Rules re-read function bodies on demand, reports re-read lines: a file deleted after
    the facts were collected costs those extras, never the run."""
    project = build_project([tree], jobs=1)
    (tree / "app" / "database.py").unlink()
    result = engine.run(project, Config(select=["ALL"]))
    assert not result.internal_errors
    assert {f.line for f in result.findings if f.code == "FDL101"} == {9, 14, 18, 22, 26}


# -- internal errors: one rule on one file ------------------------------------------------------


def _exploding_rule(bad_file: str) -> type[Rule]:
    from fastapi_deplint.rules.base import Context, Finding, Rule

    class Exploding(Rule):
        """Test rule: fails on every dependency defined in `bad_file`."""

        code = "FDL999"
        name = "exploding"
        summary = "test"

        def check(self, ctx: Context) -> Iterator[Finding]:
            for node in ctx.project_dependencies():
                if node.file is not None and node.file.endswith(bad_file):
                    raise KeyError("boom")
                yield self.at_def(node, f"saw {node.name}")

    return Exploding


def test_a_rule_failing_on_one_file_is_reported_and_the_rest_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint.rules import rule_by_code

    root = ROOT / "fixtures" / "_hostile" / "project"
    monkeypatch.setattr(engine, "enabled_rules", lambda config: [_exploding_rule("database.py"), rule_by_code("FDL101"), rule_by_code("FDL401")])
    result = engine.run(build_project([root], jobs=1), Config())
    rel = sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in result.findings)
    assert rel == [
        ("app/database.py", 10, "FDL101"),
        ("app/database.py", 10, "FDL900"),  # at the dependency it failed on
        ("app/sessions.py", 11, "FDL401"),
        ("app/sessions.py", 11, "FDL999"),  # the same rule still checked the other files
        ("app/users.py", 12, "FDL999"),
        ("app/users.py", 16, "FDL999"),
    ]
    [internal] = [f for f in result.findings if f.code == "FDL900"]
    assert "FDL999" in internal.message and "app/database.py" in internal.message and "KeyError" in internal.message
    assert len(result.internal_errors) == 1 and "Traceback" in result.internal_errors[0]


def test_internal_errors_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from fastapi_deplint.cli import main

    root = ROOT / "fixtures" / "_hostile" / "project"
    monkeypatch.setattr(engine, "enabled_rules", lambda config: [_exploding_rule("users.py")])
    run = CliRunner().invoke(main, ["check", str(root), "--isolated", "--output-format", "concise"])
    assert run.exit_code == 2, run.output
    assert "FDL900 internal error in rule FDL999 on " in run.output


def test_a_bug_while_reading_one_file_is_fdl900_for_that_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint import source

    root = ROOT / "fixtures" / "_hostile" / "project"
    real = source.extract

    def extract(tree_, module, path, is_package):  # type: ignore[no-untyped-def]
        if path.endswith("sessions.py"):
            raise AttributeError("a bug of ours")
        return real(tree_, module, path, is_package)

    monkeypatch.setattr(source, "extract", extract)
    result = engine.run(build_project([root], jobs=1), Config(select=["FDL101", "FDL401", "FDL901"]))
    got = sorted((Path(f.path).relative_to(root).as_posix(), f.line, f.code) for f in result.findings)
    assert got == [("app/database.py", 10, "FDL101"), ("app/sessions.py", 1, "FDL900")]
    assert result.internal_errors and "AttributeError: a bug of ours" in result.internal_errors[0]


# -- every resolver has a bound: cycles and long chains terminate --------------------------------

H = "from typing import Annotated\nfrom fastapi import APIRouter, Depends, FastAPI\nfrom functools import partial\n"


def _star_clique(n: int) -> dict[str, str]:
    files = {"pkg/__init__.py": ""}
    for i in range(n):
        stars = "".join(f"from .m{j} import *\n" for j in range(n) if j != i)
        files[f"pkg/m{i}.py"] = (
            H + stars + f"from .m{(i + 1) % n} import missing_dep, missing_name\napp{i} = FastAPI()\n"
            f"@app{i}.get('/')\nasync def e{i}(x=Depends(missing_dep)):\n    return missing_name() + other{i}()\n"
        )
    return files


CYCLES: dict[str, dict[str, str]] = {
    "star-import-clique": _star_clique(8),
    "import-cycle": {
        "pkg/__init__.py": "from .a import dep\n",
        "pkg/a.py": H + "from .b import dep\nr = APIRouter()\n@r.get('/')\ndef e(x=Depends(dep)):\n    return 1\n",
        "pkg/b.py": H + "from .c import dep\n",
        "pkg/c.py": H + "from .a import dep\nfrom . import dep as again\n",
    },
    "alias-cycle": {
        "a.py": H + "A = B\nB = C\nC = A\nD = Annotated[D, Depends(D)]\nX = X\nP = partial(P)\nQ = partial(R)\nR = partial(Q)\n"
        "app = FastAPI()\n@app.get('/')\ndef e(a: A, d: D, x=Depends(X), p=Depends(P), q=Depends(Q)):\n    return 1\n",
    },
    "router-cycle": {
        "a.py": H + "app = FastAPI()\nr1 = APIRouter(prefix='/a')\nr2 = APIRouter(prefix='/b', dependencies=[Depends(lambda: 1)])\n"
        "r1.include_router(r2)\nr2.include_router(r1)\nr1.include_router(r1)\napp.include_router(r1)\napp.include_router(app)\n"
        "@r2.get('/x')\ndef e():\n    return 1\n",
    },
    "dependency-cycle": {
        "a.py": H + "def b1(c=Depends(lambda: None)):\n    return c\ndef c1(b=Depends(b1)):\n    return b\n"
        "def selfish(s: Annotated[int, Depends(selfish)]):\n    return s\n"
        "class L:\n    def __init__(self, m: 'M' = Depends()):\n        pass\n"
        "class M:\n    def __init__(self, l: L = Depends()):\n        pass\n"
        "app = FastAPI()\n@app.get('/')\ndef e(x=Depends(c1), y=Depends(selfish), z: Annotated[L, Depends()] = None):\n    return 1\n",
    },
    "class-base-cycle": {
        "a.py": H + "class A(B):\n    x = 1\nclass B(A):\n    pass\nclass C(C):\n    pass\n"
        "app = FastAPI()\n@app.get('/')\ndef e(a: Annotated[A, Depends()], b=Depends(B.missing), c=Depends(C().run)):\n    return 1\n",
    },
    "dependency-chain-2000": {
        "a.py": H + "def d0():\n    return 1\n" + "".join(f"def d{i}(x=Depends(d{i - 1})):\n    return x\n" for i in range(1, 2000))
        + "app = FastAPI()\n@app.get('/')\ndef e(x=Depends(d1999)):\n    return 1\n",
    },
    "alias-chain-2000": {
        "a.py": H + "A0 = Annotated[int, Depends(lambda: 1)]\n" + "".join(f"A{i} = A{i - 1}\n" for i in range(1, 2000))
        + "app = FastAPI()\n@app.get('/')\ndef e(x: A1999):\n    return 1\n",
    },
    "router-chain-500": {
        "a.py": H + "app = FastAPI()\n" + "".join(f"r{i} = APIRouter(prefix='/p{i}')\n" for i in range(500))
        + "".join(f"r{i}.include_router(r{i + 1})\n" for i in range(499)) + "app.include_router(r0)\n@r499.get('/x')\ndef e():\n    return 1\n",
    },
    "import-chain-300": {
        "pkg/__init__.py": "",
        **{f"pkg/m{i}.py": H + (f"from .m{i + 1} import dep\n" if i < 299 else "def dep():\n    return 1\n") for i in range(300)},
        "pkg/main.py": H + "from .m0 import dep\napp = FastAPI()\n@app.get('/')\ndef e(x=Depends(dep)):\n    return 1\n",
    },
}


@pytest.mark.parametrize("name", sorted(CYCLES))
def test_cycles_and_chains_terminate(tmp_path: Path, name: str) -> None:
    for rel, text in CYCLES[name].items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    with deadline(30):
        project = build_project([tmp_path], jobs=1)
        result = engine.run(project, Config(select=["ALL"]))
    assert not result.internal_errors, result.internal_errors[0]
    codes = {f.code for f in result.findings}
    assert "FDL901" not in codes
    if name == "dependency-cycle":
        cycles = sorted(f.line for f in result.findings if f.code == "FDL401")
        assert len(cycles) == 2, cycles  # selfish -> selfish, L -> M -> L (c1 -> b1 is no cycle)
    if name == "dependency-chain-2000":
        assert "FDL402" in codes  # the chain is far deeper than max-depth


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block runs longer than `seconds`."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: a resolver without a bound?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)  # and again every second: a rule's own guard may swallow one
    try:
        yield
    except TimeoutError as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        pytest.fail(str(exc), pytrace=False)  # the stack of a runaway recursion is no help
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_module_names_do_not_depend_on_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from inside a package (its folder has an `__init__.py`), relative paths must name
    modules as absolute ones do, or imports through the top package stop resolving."""
    package = tmp_path / "pk"
    (package / "app").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "app" / "__init__.py").write_text("")
    (package / "app" / "deps.py").write_text("def get_db():\n    return open('x')\n")
    (package / "app" / "main.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom pk.app.deps import get_db\n\napp = FastAPI()\n\n\n"
        "@app.get('/')\ndef read(db=Depends(get_db)):\n    return 1\n"
    )
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    monkeypatch.chdir(package)
    relative = build_project([Path("app")], jobs=1)
    assert sorted(relative.graph.modules) == ["pk.app.deps", "pk.app.main"]
    codes = [f.code for f in engine.run(relative, Config(select=["FDL101"])).findings]
    assert codes == ["FDL101"]
