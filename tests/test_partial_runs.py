"""Partial runs (`run_cache.Partial`, `components`): after an edit only the parts of the project
the edited files are in are analysed again, and the report is a whole run's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import fastapi_deplint.cli as cli
from fastapi_deplint import engine, rules_parallel
from fastapi_deplint.components import parts_of
from fastapi_deplint.config import Config

ROOT = Path(__file__).resolve().parents[1]
APPS = ("FDL101", "FDL302", "FDL301", "FDL501")


def package(code: str) -> str:
    return f"app_{code.lower()}"


@pytest.fixture
def mono(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tree of independent apps (packages `app_fdl101`, ...), checked with a cache of its own."""
    for code in APPS:
        shutil.copytree(ROOT / "fixtures" / code / "app", tmp_path / "mono" / code / package(code))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    return tmp_path / "mono"


def check(*args: str) -> str:
    result = CliRunner().invoke(cli.main, ["check", "--output-format", "concise", *args])
    assert result.exit_code in (0, 1), result.output
    return result.output


def spy_parts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What each partial run analysed: the files of its parts (widened when it reached other
    parts), or None when it was declined."""
    seen: list[Any] = []
    real = cli.analyse_part

    def spy(group: cli.Group, plan: Any, *args: Any) -> Any:
        done = real(group, plan, *args)
        seen.append(set(done[1].focus) if done is not None else None)
        return done

    monkeypatch.setattr(cli, "analyse_part", spy)
    return seen


def whole(*args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    report = check(*args, "--no-cache")
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE")  # the option turns the cache off through it
    return report


def test_an_edit_re_analyses_only_the_app_it_is_in(mono: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy_parts(monkeypatch)
    before = check("mono")
    assert "FDL302" in before and "FDL101" in before and seen == []
    helpers = mono / "FDL302" / package("FDL302") / "helpers.py"
    helpers.write_text(helpers.read_text().replace('requests.post(url, json={"event": "created"})', "return None"))
    after = check("mono")
    assert after != before and after == whole("mono", monkeypatch=monkeypatch)
    (focus,) = seen
    assert focus and all(Path(p).is_relative_to((mono / "FDL302").resolve()) for p in focus)
    assert str((mono / "FDL302" / package("FDL302") / "main.py").resolve()) in focus  # the whole app, not the file alone


def parts_named(focus: set[str], mono: Path) -> set[str]:
    return {Path(p).relative_to(mono.resolve()).parts[0] for p in focus}


def test_an_edit_that_joins_two_apps_analyses_both(mono: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = spy_parts(monkeypatch)
    check("mono")
    main = mono / "FDL101" / package("FDL101") / "main.py"
    main.write_text(
        main.read_text()
        + '\n\nfrom app_fdl302.helpers import notify as notify_helper\n\n\n@app.get("/joined")\nasync def joined():\n    notify_helper("x")\n'
    )
    after = check("mono")
    # the run of FDL101's part reached FDL302's, so it ran again over both
    assert len(seen) == 1 and seen[0] is not None and parts_named(seen[0], mono) == {"FDL101", "FDL302"}
    assert after == whole("mono", monkeypatch=monkeypatch)
    # the record now has the two apps in one part: an edit of either analyses both
    helpers = mono / "FDL302" / package("FDL302") / "helpers.py"
    helpers.write_text(helpers.read_text() + "\n# edited\n")
    assert check("mono") == after
    assert parts_named(seen[-1], mono) == {"FDL101", "FDL302"}


def test_a_forked_child_s_joins_count_as_the_run_s(mono: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rules in a forked child ask the resolver too; the parent must know what they joined."""
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    config = Config(select=["ALL"])

    def parts(jobs: int) -> set[frozenset[str]]:
        project = engine.analyse([mono], config, jobs=1)
        engine.run(project, config, jobs=jobs)
        found: dict[int, set[str]] = {}
        for path, number in parts_of(project.graph).items():
            found.setdefault(number, set()).add(path)
        return {frozenset(p) for p in found.values()}

    serial = parts(1)
    monkeypatch.setattr(rules_parallel, "MIN_GRAPH", 0)
    monkeypatch.setattr(rules_parallel, "take_back", lambda ends: None)  # every rule in the child
    assert parts(2) == serial and len(serial) >= len(APPS)


def test_services_with_one_package_name_each_link_to_their_own_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A monorepo whose services each have an `app` package: service b's `from app.deps import
    get_db` (or `from .deps import`) means b's `app/deps.py`, not the first file of that name.
    They are then separate parts too."""
    body = {"a": "    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n", "b": "    return SessionLocal()\n"}
    for service in ("a", "b"):
        app = tmp_path / "services" / service / "app"
        app.mkdir(parents=True)
        (app / "__init__.py").write_text("")
        (app / "deps.py").write_text(f"from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\ndef get_db():\n{body[service]}")
        (app / "main.py").write_text(
            "from fastapi import Depends, FastAPI\nfrom app.deps import get_db\nfrom .deps import get_db as get_db2\n\n"
            "app = FastAPI()\n\n\n@app.get('/x')\ndef read(db=Depends(get_db), db2=Depends(get_db2)):\n    return {}\n"
        )
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    project = engine.analyse([tmp_path / "services"], Config())
    used = {route.file: sorted({project.graph.nodes[e.target].file or "" for e in route.param_edges}) for route in project.graph.routes}
    assert used == {
        os.path.join(str(tmp_path / "services" / s), "app", "main.py"): [os.path.join(str(tmp_path / "services" / s), "app", "deps.py")]
        for s in ("a", "b")
    }
    findings = engine.run(project, Config()).findings
    assert [(f.code, Path(f.path).parent.parent.name) for f in findings] == [("FDL101", "b")]
    groups: dict[int, set[str]] = {}
    for path, number in parts_of(project.graph).items():
        groups.setdefault(number, set()).add(Path(path).relative_to(tmp_path / "services").parts[0])
    assert sorted(map(sorted, groups.values())) == [["a"], ["b"]]


def test_copies_side_by_side_link_modules_found_by_their_path_to_their_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder without `__init__.py` makes its modules known by the file name alone; an
    import names them by their path (`pkg.deps.db`), found by its tail. With two copies of the
    project side by side (a monorepo's vendored copies, a v1/v2 tree) that tail is in both:
    each copy's import means its own file. It found none (and lost most of litellm's
    findings when the benchmark corpus was analysed twice over)."""
    body = {"a": "    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n", "b": "    return SessionLocal()\n"}
    for copy in ("a", "b"):
        pkg = tmp_path / copy / "pkg"
        (pkg / "deps").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "deps" / "db.py").write_text(f"from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\ndef get_db():\n{body[copy]}")
        (pkg / "main.py").write_text(
            "from fastapi import Depends, FastAPI\nfrom pkg.deps.db import get_db\n\n"
            "app = FastAPI()\n\n\n@app.get('/x')\ndef read(db=Depends(get_db)):\n    return {}\n"
        )
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    project = engine.analyse([tmp_path], Config())
    used = {route.file: sorted({project.graph.nodes[e.target].file or "" for e in route.param_edges}) for route in project.graph.routes}
    assert used == {
        os.path.join(str(tmp_path / c), "pkg", "main.py"): [os.path.join(str(tmp_path / c), "pkg", "deps", "db.py")] for c in ("a", "b")
    }
    findings = engine.run(project, Config()).findings
    assert [(f.code, Path(f.path).relative_to(tmp_path).parts[0]) for f in findings] == [("FDL101", "b")]


def test_copies_side_by_side_resolve_an_attribute_of_a_namespace_package_in_their_own_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`import pkg` (a folder without `__init__.py`) then `Depends(pkg.db.get_db)`: `pkg.db`
    is found by its tail, in both copies; each route means its own copy's `get_db` (b's skips
    its cleanup when the route raises: FDL102 in b only). It resolved to nothing."""
    body = {"a": "    db = 1\n    try:\n        yield db\n    finally:\n        pass\n", "b": "    db = 1\n    yield db\n    db.close()\n"}
    for copy in ("a", "b"):
        (tmp_path / copy / "pkg").mkdir(parents=True)
        (tmp_path / copy / "pkg" / "db.py").write_text(f"def get_db():\n{body[copy]}")
        (tmp_path / copy / "main.py").write_text(
            "from fastapi import Depends, FastAPI\nimport pkg\n\napp = FastAPI()\n\n\n@app.get('/x')\ndef read(db=Depends(pkg.db.get_db)):\n    return {}\n"
        )
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    project = engine.analyse([tmp_path], Config())
    findings = engine.run(project, Config()).findings
    assert [(f.code, Path(f.path).relative_to(tmp_path).parts[0]) for f in findings] == [("FDL102", "b")]


def test_the_flake8_plugin_analyses_only_the_edited_app(mono: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_deplint import flake8_plugin

    used: list[Any] = []
    real = engine.run_part

    def spy(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        used.append(parts_named(done[2].focus, mono) if done is not None else None)
        return done

    monkeypatch.setattr(engine, "run_part", spy)
    before = flake8_plugin._build(["mono"])
    helpers = mono / "FDL302" / package("FDL302") / "helpers.py"
    helpers.write_text(helpers.read_text().replace('requests.post(url, json={"event": "created"})', "return None"))
    after = flake8_plugin._build(["mono"])
    assert used == [{"FDL302"}] and after != before
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    assert after == flake8_plugin._build(["mono"])
