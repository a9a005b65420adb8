"""Autofix: `check --fix`, `--diff`, `--unsafe-fixes` (fastapi_deplint.fix).

The fixture of every rule with an autofix is fixed on a copy and compared with the pinned
result in `tests/fix_cases/` (see its README); the guarantees are checked on each: the fixed
files compile, linting them again finds no fixable finding of the code, a second run changes
nothing (same bytes, same mtime), untouched files keep their bytes and mtime. Then the shapes
each fixer must handle, or must refuse, one small project at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_deplint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CASES = Path(__file__).resolve().parent / "fix_cases"
FIXABLE = ["FDL101", "FDL102", "FDL203", "FDL301", "FDL403", "FDL701"]
UPDATE = os.environ.get("FASTAPI_DEPLINT_UPDATE_FIX_CASES") == "1"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*.py"))}


def fixture_args(code: str, root: Path, *extra: str) -> list[str]:
    args = ["check", str(root), "--isolated", "--select", code, "--output-format", "concise", *extra]
    if (root / "options.toml").is_file():
        args += ["--config", str(root / "options.toml")]
    return args


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def fix(root: Path, code: str, *extra: str) -> tuple[int, str, str]:
    return run("check", str(root), "--isolated", "--select", code, "--output-format", "concise", "--fix", *extra)


def findings(root: Path, code: str) -> list[dict]:
    _, out, _ = run("check", str(root), "--isolated", "--select", code, "--output-format", "json")
    return json.loads(out)


# --- every fixable fixture ------------------------------------------------------------------------


@pytest.mark.parametrize("code", FIXABLE)
def test_fixture_fix_matches_expected_and_keeps_the_guarantees(code: str, tmp_path: Path) -> None:
    root = tmp_path / code
    shutil.copytree(FIXTURES / code, root)
    before = snapshot(root)
    status, out, _ = run(*fixture_args(code, root, "--fix", "--unsafe-fixes"))
    after = snapshot(root)
    changed = {rel for rel in after if after[rel][0] != before[rel][0]}
    expected_dir = CASES / code
    if UPDATE:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for rel in changed:
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_bytes(after[rel][0])
    expected = {p.relative_to(expected_dir).as_posix(): p.read_bytes() for p in expected_dir.rglob("*.py")}
    assert changed == set(expected), f"files changed by the fix: {sorted(changed)}, expected: {sorted(expected)}"
    for rel in changed:
        assert after[rel][0].decode() == expected[rel].decode(), f"{code}/{rel} differs from tests/fix_cases/{code}/{rel}"
        compile(after[rel][0], rel, "exec", dont_inherit=True)
    for rel in set(after) - changed:
        assert after[rel] == before[rel], f"{rel} was rewritten although nothing in it was fixed"
    assert "fixed" in out and status in (0, 1)

    # linting the fixed project again: nothing of the code is left that a fix would handle
    remaining = findings(root, code) if not (root / "options.toml").is_file() else json.loads(
        run(*fixture_args(code, root, "--output-format", "json"))[1]
    )
    assert all(f["code"] != code or "fix" not in f for f in remaining), [f for f in remaining if "fix" in f]

    # fixing twice == fixing once: the second run writes nothing
    run(*fixture_args(code, root, "--fix", "--unsafe-fixes"))
    assert snapshot(root) == after


@pytest.mark.parametrize("code", ["FDL101", "FDL102", "FDL301"])
def test_unsafe_fixes_need_the_option(code: str, tmp_path: Path) -> None:
    root = tmp_path / code
    shutil.copytree(FIXTURES / code, root)
    before = snapshot(root)
    status, out, _ = run(*fixture_args(code, root, "--fix"))
    assert snapshot(root) == before and status == 1
    assert "hidden fix" in out and "--unsafe-fixes" in out


def test_expected_cases_exist_only_for_fixable_codes() -> None:
    assert sorted(p.name for p in CASES.iterdir() if p.is_dir()) == FIXABLE
    from fastapi_deplint.fix import FIXERS
    from fastapi_deplint.rules import rule_by_code

    assert sorted(FIXERS) == FIXABLE
    for code in FIXABLE:
        rule = rule_by_code(code)
        assert rule is not None and rule.fixable in ("safe", "unsafe")
        assert rule.fixable == ("safe" if code in ("FDL203", "FDL403", "FDL701") else "unsafe")


# --- the command line ------------------------------------------------------------------------------

APP = {
    "app/__init__.py": "",
    "app/main.py": """
        from fastapi import Depends, FastAPI

        app = FastAPI()


        def get_token() -> str:
            return "t"


        @app.get("/items")
        async def items(token: str = Depends(get_token)):
            return token
        """,
}


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    root = project(tmp_path, APP)
    before = snapshot(root)
    status, out, err = run("check", str(root), "--isolated", "--select", "FDL701", "--diff")
    assert status == 1 and snapshot(root) == before
    assert out.startswith(f"--- {root / 'app' / 'main.py'}\n+++ ")
    assert "+from typing import Annotated\n" in out
    assert "-async def items(token: str = Depends(get_token)):\n+async def items(token: Annotated[str, Depends(get_token)]):\n" in out
    assert "Would fix 1 finding (0 remaining)." in err
    # nothing to fix: exit 0, no diff
    status, out, _ = run("check", str(root), "--isolated", "--select", "FDL101", "--diff")
    assert status == 0 and out == ""


def test_fix_reports_counts_and_exit_code(tmp_path: Path) -> None:
    root = project(tmp_path, APP)
    status, out, _ = fix(root, "FDL701")
    assert status == 0 and out.strip().endswith("Found 1 finding (1 fixed, 0 remaining).")
    status, out, _ = fix(root, "FDL701")
    assert status == 0 and "All checks passed." in out


def test_fix_with_a_machine_format_says_what_it_did_on_stderr(tmp_path: Path) -> None:
    root = project(tmp_path, APP)
    status, out, err = run("check", str(root), "--isolated", "--select", "FDL701", "--fix", "--output-format", "json")
    assert status == 0 and json.loads(out) == []
    assert "Fixed 1 finding in 1 file (0 remaining)." in err


def test_add_noqa_and_fix_conflict(tmp_path: Path) -> None:
    root = project(tmp_path, APP)
    status, _, err = run("check", str(root), "--isolated", "--add-noqa", "--fix")
    assert status == 2 and "--add-noqa" in err


def test_reports_mark_fixable_findings(tmp_path: Path) -> None:
    root = project(tmp_path, APP)
    status, out, _ = run("check", str(root), "--isolated", "--select", "FDL701", "--output-format", "concise")
    assert status == 1
    assert ": FDL701 [*] `token: str = Depends(get_token)`" in out
    assert "[*] 1 fixable with the `--fix` option." in out
    data = json.loads(run("check", str(root), "--isolated", "--select", "FDL701", "--output-format", "json")[1])
    fix_object = data[0]["fix"]
    assert fix_object["applicability"] == "safe" and fix_object["message"].startswith("Convert to `Annotated")
    assert fix_object["edits"][0] == {
        "content": "from typing import Annotated\n\n",
        "location": {"row": 1, "column": 1},
        "end_location": {"row": 1, "column": 1},
    }
    log = json.loads(run("check", str(root), "--isolated", "--select", "FDL701", "--output-format", "sarif")[1])
    fixes = log["runs"][0]["results"][0]["fixes"]
    replacements = fixes[0]["artifactChanges"][0]["replacements"]
    assert fixes[0]["properties"]["applicability"] == "safe"
    assert replacements[-1]["insertedContent"]["text"].startswith("async def items(token: Annotated[str, Depends(get_token)]):")
    _, out, _ = run("check", str(root), "--isolated", "--select", "FDL701", "--output-format", "full")
    assert "FDL701 [*] " in out and "= fix: Convert to `Annotated[T, Depends(...)]` (`--fix`)" in out


def test_unfixable_shapes_have_no_fix_object(tmp_path: Path) -> None:
    root = project(tmp_path, {"app/__init__.py": "", "app/main.py": """
        from fastapi import Depends, FastAPI

        app = FastAPI()


        def get_token() -> str:
            return "t"


        @app.get("/items")
        async def items(token=Depends(get_token)):
            return token
        """})
    data = findings(root, "FDL701")
    assert len(data) == 1 and "fix" not in data[0]


def _libcst_reads_pep695() -> bool:
    import libcst as cst

    try:
        cst.parse_module("type X = int\n")
    except cst.ParserSyntaxError:
        return False
    return True


@pytest.mark.skipif(_libcst_reads_pep695(), reason="this libcst reads Python 3.12 syntax")
def test_syntax_libcst_cannot_parse_is_skipped_with_a_message(tmp_path: Path) -> None:
    """Only the statement holding the finding is parsed with libcst (and the import is added
    on the text): newer syntax elsewhere in the file does not matter, in the statement it does."""
    main = textwrap.dedent(APP["app/main.py"])
    root = project(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": main + "\n\ntype Token = str\n",
        "app/generic.py": main.replace("async def items(", "async def items[T](").replace("/items", "/generic"),
    })
    before = snapshot(root)
    status, out, err = fix(root, "FDL701")
    after = snapshot(root)
    assert status == 1 and after["app/generic.py"] == before["app/generic.py"]
    fixed = after["app/main.py"][0].decode()
    assert fixed.startswith("from typing import Annotated\n\nfrom fastapi import")
    assert "async def items(token: Annotated[str, Depends(get_token)]):" in fixed and fixed.endswith("\ntype Token = str\n")
    assert "generic.py: not fixed: libcst" in err and "cannot parse the statement at line 10" in err
    assert out.count(": FDL701 ") == 1


def test_project_mode_fixes_only_the_files_given(tmp_path: Path) -> None:
    files = dict(APP)
    files["app/other.py"] = APP["app/main.py"].replace("/items", "/other")
    root = project(tmp_path, files)
    (root / "pyproject.toml").write_text("[tool.fastapi-deplint]\nselect = ['FDL701']\n")
    before = snapshot(root)
    status, _, _ = run("check", str(root / "app" / "main.py"), "--fix")
    after = snapshot(root)
    assert status == 0 and after["app/other.py"] == before["app/other.py"] and after["app/main.py"] != before["app/main.py"]


# --- FDL701 ---------------------------------------------------------------------------------------


def test_fdl701_parameter_order(tmp_path: Path) -> None:
    source = """
        from typing import Optional

        from fastapi import Depends, FastAPI

        app = FastAPI()


        def get_db():
            yield "db"


        @app.get("/a")
        async def a(q: Optional[str] = None, db: str = Depends(get_db)):
            return q, db


        @app.get("/b")
        async def b(db: str = Depends(get_db), q: Optional[str] = None, *, other: str = Depends(get_db)):
            return q, db, other
        """
    root = project(tmp_path, {"main.py": source})
    fix(root, "FDL701")
    text = (root / "main.py").read_text()
    assert "from typing import Annotated, Optional\n" in text  # the existing import, extended in order
    assert "async def a(q: Optional[str] = None, db: str = Depends(get_db)):" in text  # needs a `*`: unsafe
    assert (
        "async def b(db: Annotated[str, Depends(get_db)], q: Optional[str] = None, *, other: Annotated[str, Depends(get_db)]):"
        in text
    )
    fix(root, "FDL701", "--unsafe-fixes")
    text = (root / "main.py").read_text()
    assert "async def a(*, q: Optional[str] = None, db: Annotated[str, Depends(get_db)]):" in text
    assert findings(root, "FDL701") == []


def test_fdl701_spelling_of_annotated(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "own.py": """
            import typing

            from fastapi import Depends, FastAPI

            app = FastAPI()


            class Annotated:  # the project's own name: the fix must not import over it
                pass


            def dep() -> int:
                return 1


            @app.get("/")
            async def read(x: int = Depends(dep)):
                return x
            """,
        "ext.py": '''
            """Docstring."""
            from __future__ import annotations

            from typing_extensions import Annotated as A

            from fastapi import Depends, FastAPI

            app = FastAPI()


            def dep() -> int:
                return 1


            @app.get("/")
            async def read(x: int = Depends(dep)):
                return x
            ''',
    })
    fix(root, "FDL701")
    assert "async def read(x: typing.Annotated[int, Depends(dep)]):" in (root / "own.py").read_text()
    ext = (root / "ext.py").read_text()
    assert "async def read(x: A[int, Depends(dep)]):" in ext and ext.count("import") == 3


def test_fdl701_keeps_comments_and_layout(tmp_path: Path) -> None:
    root = project(tmp_path, {"main.py": """
        from typing import Annotated

        from fastapi import Depends, FastAPI

        app = FastAPI()


        def dep() -> int:
            return 1


        @app.get("/")
        async def read(
            x: int = Depends(  # the dependency
                dep
            ),  # after
            y: int = 0,
        ):
            return x
        """})
    fix(root, "FDL701")
    assert "    x: Annotated[int, Depends(  # the dependency\n        dep\n    )],  # after\n    y: int = 0,\n" in (root / "main.py").read_text()


# --- FDL101 ---------------------------------------------------------------------------------------

RESOURCES = """
    import httpx
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session, sessionmaker

    engine = create_engine("sqlite://")
    AsyncLocal = sessionmaker(class_=AsyncSession)
    SessionLocal = sessionmaker(bind=engine)


    async def get_async_client():
        return httpx.AsyncClient()


    def get_sync_made_async_client():
        return httpx.AsyncClient()


    async def get_async_session():
        session = AsyncLocal()
        return session


    def get_session() -> Session:
        \"\"\"A session.\"\"\"
        return SessionLocal()


    def get_shared():
        return SessionLocal()


    def uses_shared():
        return get_shared()
    """


def test_fdl101_close_calls_and_shapes(tmp_path: Path) -> None:
    main = """
        from fastapi import Depends, FastAPI

        from .deps import get_async_client, get_async_session, get_session, get_shared, get_sync_made_async_client

        app = FastAPI()


        @app.get("/")
        def read(a=Depends(get_async_client), b=Depends(get_async_session), c=Depends(get_session),
                 d=Depends(get_shared), e=Depends(get_sync_made_async_client)):
            return {}
        """
    root = project(tmp_path, {"app/__init__.py": "", "app/deps.py": RESOURCES, "app/main.py": main})
    fix(root, "FDL101", "--unsafe-fixes")
    text = (root / "app" / "deps.py").read_text()
    assert "    client = httpx.AsyncClient()\n    try:\n        yield client\n    finally:\n        await client.aclose()\n" in text
    assert "    session = AsyncLocal()\n    try:\n        yield session\n    finally:\n        await session.close()\n" in text
    assert 'def get_session() -> Iterator[Session]:\n    """A session."""\n    db = SessionLocal()\n' in text
    assert "from collections.abc import Iterator\n" in text
    assert "def get_sync_made_async_client():\n    return httpx.AsyncClient()\n" in text  # cannot await in a sync def
    assert "def get_shared():\n    return SessionLocal()\n" in text  # called directly by `uses_shared`
    compile(text, "deps.py", "exec")


def test_fdl101_keeps_tabs_crlf_and_encoding(tmp_path: Path) -> None:
    source = (
        "# -*- coding: latin-1 -*-\r\n"
        "from fastapi import Depends, FastAPI\r\n"
        "from sqlalchemy.orm import Session\r\n"
        "\r\n"
        "app = FastAPI()\r\n"
        "\r\n"
        "\r\n"
        "def get_db():\r\n"
        "\t# caf\xe9\r\n"
        "\treturn Session()\r\n"
        "\r\n"
        "\r\n"
        "@app.get('/')\r\n"
        "def read(db=Depends(get_db)):\r\n"
        "\treturn {}\r\n"
    )
    root = tmp_path / "proj"
    root.mkdir()
    (root / "main.py").write_bytes(source.encode("latin-1"))
    fix(root, "FDL101", "--unsafe-fixes")
    data = (root / "main.py").read_bytes()
    assert b"\t# caf\xe9\r\n\tdb = Session()\r\n\ttry:\r\n\t\tyield db\r\n\tfinally:\r\n\t\tdb.close()\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


# --- FDL301 ---------------------------------------------------------------------------------------


def test_fdl301_generators_and_chains(tmp_path: Path) -> None:
    root = project(tmp_path, {"main.py": """
        from collections.abc import Iterator
        from typing import Annotated

        from fastapi import Depends, FastAPI

        app = FastAPI()


        def inner(q: str = "") -> str:
            return q.strip()


        def outer(q: Annotated[str, Depends(inner)]) -> str:
            return q.upper()


        def tokens(q: str = "") -> Iterator[str]:
            yield q


        def delegating(q: str = ""):
            yield from [q]


        @app.get("/")
        async def read(o: Annotated[str, Depends(outer)], t: Annotated[str, Depends(tokens)],
                       d: Annotated[str, Depends(delegating)]):
            return o
        """})
    status, out, _ = fix(root, "FDL301", "--unsafe-fixes")
    text = (root / "main.py").read_text()
    # `inner` is reported only once `outer` is async: the second round fixes it
    assert "async def inner(q: str = \"\") -> str:" in text and "async def outer(" in text
    assert "async def tokens(q: str = \"\") -> AsyncIterator[str]:" in text
    assert "from collections.abc import AsyncIterator, Iterator\n" in text
    assert "\ndef delegating(" in text  # `yield from` cannot be in an async generator
    assert status == 1 and "(3 fixed, 1 remaining)" in out


# --- FDL102 ---------------------------------------------------------------------------------------


def test_fdl102_success_path_and_refusals(tmp_path: Path) -> None:
    root = project(tmp_path, {"main.py": """
        from fastapi import Depends, FastAPI

        app = FastAPI()


        class Db:
            def commit(self): ...
            def close(self): ...


        def get_db():
            db = Db()
            yield db

            db.commit()
            db.close()


        def get_conditional():
            db = Db()
            yield db
            if db:
                db.close()


        @app.get("/")
        def read(a=Depends(get_db), b=Depends(get_conditional)):
            return {}
        """})
    fix(root, "FDL102", "--unsafe-fixes")
    text = (root / "main.py").read_text()
    assert "    db = Db()\n    try:\n        yield db\n\n        db.commit()\n    finally:\n        db.close()\n" in text
    assert "    yield db\n    if db:\n        db.close()\n" in text  # a branch is never moved into `finally`


# --- the machinery ----------------------------------------------------------------------------------


def test_valid_rejects_what_python_would_not_compile() -> None:
    from fastapi_deplint.fix.apply import load, valid

    source = load("m.py", b"def f():\n    yield 1\n    return 2\n")
    assert valid(source, source.text)
    assert not valid(source, "async def f():\n    yield 1\n    return 2\n")  # parses, does not compile
    assert not valid(source, "def f(:\n")


def test_overlapping_plans_wait_for_the_next_round(tmp_path: Path) -> None:
    """`db: str = Depends(get_db())` carries an FDL403 and an FDL701 fix on one region."""
    root = project(tmp_path, {"main.py": """
        from typing import Annotated

        from fastapi import Depends, FastAPI

        app = FastAPI()


        def get_db() -> str:
            return "db"


        @app.get("/")
        async def read(db: str = Depends(get_db())):
            return db
        """})
    status, out, _ = run("check", str(root), "--isolated", "--select", "FDL403,FDL701", "--fix", "--output-format", "concise")
    assert "async def read(db: Annotated[str, Depends(get_db)]):" in (root / "main.py").read_text()
    assert status == 0 and "(2 fixed, 0 remaining)" in out


def test_a_broken_fixer_leaves_the_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint.fix import FIXERS

    def boom(*_: object) -> list:
        raise RuntimeError("bug")

    monkeypatch.setattr(FIXERS["FDL701"], "plans", boom)
    root = project(tmp_path, APP)
    before = snapshot(root)
    status, out, _ = fix(root, "FDL701")
    assert status == 1 and snapshot(root) == before and ": FDL701 " in out


def test_fdl203_spells_lru_cache_through_an_existing_functools_import(tmp_path: Path) -> None:
    root = project(tmp_path, {"main.py": """
        import functools
        from typing import Annotated

        from fastapi import Depends, FastAPI
        from pydantic_settings import BaseSettings

        app = FastAPI()


        class Settings(BaseSettings):
            name: str = "app"


        # the one settings object
        def get_settings() -> Settings:
            return Settings()


        @app.get("/")
        async def read(settings: Annotated[Settings, Depends(get_settings)]):
            return settings.name
        """})
    fix(root, "FDL203")
    text = (root / "main.py").read_text()
    assert "# the one settings object\n@functools.lru_cache\ndef get_settings() -> Settings:\n" in text
    assert text.count("import functools") == 1 and "from functools" not in text


def test_write_leaves_a_file_that_changed_meanwhile(tmp_path: Path) -> None:
    from fastapi_deplint.fix.driver import Change, write

    path = tmp_path / "m.py"
    path.write_bytes(b"x = 2\n")
    problems = write([Change(str(path), b"x = 1\n", b"x = 3\n", "x = 1\n", "x = 3\n")])
    assert path.read_bytes() == b"x = 2\n" and "changed while it was being fixed" in problems[0]
    path.chmod(0o640)
    assert write([Change(str(path), b"x = 2\n", b"x = 3\n", "x = 2\n", "x = 3\n")]) == []
    assert path.read_bytes() == b"x = 3\n" and path.stat().st_mode & 0o777 == 0o640


def test_rule_command_says_whether_a_fix_exists() -> None:
    assert "Autofix: safe (`--fix`)" in run("rule", "FDL403")[1]
    assert "Autofix: unsafe (`--fix --unsafe-fixes`)" in run("rule", "FDL101")[1]
    assert "Autofix" not in run("rule", "FDL402")[1]


def test_the_report_describes_fixes_up_to_a_size_budget_in_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Describing fixes in a report stops after `FIX_REPORT_BYTES` of source, counted in report
    order: the same tree always gets the same `[*]` markers (a time budget did not)."""
    import fastapi_deplint.cli as cli

    body = """
        from fastapi import Depends, FastAPI

        app = FastAPI()


        def get_db():
            return 1


        @app.get("/")
        def read(db: int = Depends(get_db)):
            return db
        """
    root = project(tmp_path, {"a.py": body, "b.py": body, "c.py": body})
    size = (root / "a.py").stat().st_size
    args = ["check", str(root), "--isolated", "--no-cache", "--select", "FDL701", "--output-format", "json"]

    def described() -> list[str]:
        _, out, _ = run(*args)
        return sorted({Path(f["path"]).name for f in json.loads(out) if f.get("fix")})

    assert described() == ["a.py", "b.py", "c.py"]
    monkeypatch.setattr(cli, "FIX_REPORT_BYTES", 2 * size)
    assert described() == ["a.py", "b.py"]
    monkeypatch.setattr(cli, "FIX_REPORT_BYTES", 1)
    assert described() == ["a.py"]
