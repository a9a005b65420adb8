"""`[tool.fastapi-deplint]`: discovery, every key, command-line precedence, clear errors,
`.gitignore` (checked against git itself), excludes and `src` roots."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_deplint.cli import main
from fastapi_deplint.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
FDL101 = ROOT / "fixtures" / "FDL101"


def check(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    dest = tmp_path / "proj"
    shutil.copytree(FDL101, dest)
    monkeypatch.chdir(dest)
    return dest


def write_config(proj: Path, body: str) -> Path:
    path = proj / "pyproject.toml"
    path.write_text(f'[project]\nname = "demo"\n\n[tool.fastapi-deplint]\n{body}\n')
    return path


def lines(out: str, code: str = "") -> list[str]:
    return [line for line in out.splitlines() if f": {code}" in line and line[:1] not in ("F", "A")]


def test_found_by_walking_up_from_the_paths(proj: Path, tmp_path: Path) -> None:
    write_config(proj, 'ignore = ["FDL101"]')
    config = load_config([proj / "app" / "database.py"])
    assert config.ignore == ["FDL101"] and config.source == str(proj / "pyproject.toml")
    # a pyproject.toml without the table is skipped on the way up
    (proj / "app" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    assert load_config([proj / "app"]).ignore == ["FDL101"]
    assert load_config([tmp_path]).source is None


def test_every_key_is_read(proj: Path) -> None:
    write_config(
        proj,
        'select = ["FDL1"]\nextend-select = ["FDL7"]\nignore = ["FDL104"]\n'
        '[tool.fastapi-deplint.per-file-ignores]\n"tests/*" = ["FDL601"]\n',
    )
    (proj / "pyproject.toml").write_text(
        (proj / "pyproject.toml").read_text().replace(
            "[tool.fastapi-deplint.per-file-ignores]",
            'exclude = ["migrations"]\nextend-exclude = ["gen_*.py"]\nrespect-gitignore = false\nsrc = ["src"]\n'
            'max-depth = 3\nauth-dependencies = ["verify"]\npublic-routes = ["/open*"]\nextend-public-routes = ["/x"]\n'
            'protected-prefixes = ["/staff"]\nfastapi-version = "0.115.2"\nresource-factories = ["make_conn"]\n'
            'client-factories = ["make_client"]\nmetadata-decorators = ["tag"]\noutput-format = "concise"\n'
            "[tool.fastapi-deplint.per-file-ignores]",
        )
    )
    c = load_config([proj])
    assert (c.select, c.extend_select, c.ignore) == (["FDL1"], ["FDL7"], ["FDL104"])
    assert c.per_file_ignores == {"tests/*": ["FDL601"]}
    assert (c.exclude, c.extend_exclude, c.respect_gitignore, c.src) == (["migrations"], ["gen_*.py"], False, ["src"])
    assert (c.max_depth, c.auth_dependencies, c.public_routes, c.extend_public_routes) == (3, ["verify"], ["/open*"], ["/x"])
    assert (c.protected_prefixes, c.fastapi_version, c.resource_factories) == (["/staff"], "0.115.2", ["make_conn"])
    assert (c.client_factories, c.metadata_decorators, c.output_format) == (["make_client"], ["tag"], "concise")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('max-depth = "deep"', "`max-depth` must be a positive integer, got 'deep'"),
        ("max-depth = 0", "`max-depth` must be a positive integer"),
        ("select = [1]", "`select` must be a list of strings"),
        ('ignore = ["FDL1O1"]', "`ignore`: unknown rule code or prefix 'FDL1O1'"),
        ('select = ["E501"]', "unknown rule code or prefix 'E501'"),
        ("respect-gitignore = 1", "`respect-gitignore` must be true or false"),
        ('fastapi-version = "latest"', "`fastapi-version` must be a version"),
        ('output-format = "xml"', "`output-format` must be one of full, concise, json, sarif, github, junit"),
        ('per-file-ignores = ["x"]', "`per-file-ignores` must map glob patterns to lists of codes"),
        ('max-dept = 3', "unknown key `max-dept` in [tool.fastapi-deplint] (did you mean `max-depth`?)"),
        ("select = [", "invalid TOML"),
    ],
)
def test_bad_values_are_clear_errors(proj: Path, body: str, needle: str) -> None:
    path = write_config(proj, body)
    code, out, err = check("app")
    assert code == 2, out
    assert needle in err and str(path) in err, err
    assert "Traceback" not in out + err


def test_command_line_overrides_the_file(proj: Path) -> None:
    write_config(proj, 'select = ["FDL4"]\nmax-depth = 1')
    assert check("app")[0] == 0  # FDL101 not selected
    code, out, _ = check("app", "--select", "FDL101")
    assert code == 1 and len(lines(out, "FDL101")) == 5
    code, out, _ = check("app", "--select", "FDL101", "--ignore", "FDL101")
    assert code == 0
    code, out, _ = check("app", "--select", "FDL101", "--ignore", "FDL1")  # the more specific wins
    assert code == 1
    # any option through --config, and an explicit file
    code, out, _ = check("app", "--config", 'select = ["FDL101"]')
    assert code == 1
    other = proj / "other.toml"
    other.write_text('select = ["FDL101"]\nignore = ["FDL101"]\n')
    assert check("app", "--config", str(other))[0] == 0
    assert check("app", "--isolated", "--select", "FDL101")[0] == 1
    code, _, err = check("app", "--config", "max-depth = ")
    assert code == 2 and "--config" in err


def test_per_file_ignores_relative_to_the_project(proj: Path, tmp_path: Path) -> None:
    write_config(proj, '[tool.fastapi-deplint.per-file-ignores]\n"app/database.py" = ["FDL101"]')
    assert check("app", "--select", "FDL101")[0] == 0
    # the same from another working directory, with an absolute path
    os.chdir(tmp_path)
    assert check(str(proj), "--select", "FDL101")[0] == 0
    code, out, _ = check(str(proj), "--select", "FDL101", "--isolated", "--per-file-ignores", "*/main.py:FDL101")
    assert code == 1 and len(lines(out, "FDL101")) == 5


def test_exclude_globs_relative_to_the_project(proj: Path) -> None:
    write_config(proj, 'exclude = ["app/database.py"]')
    code, out, _ = check(".", "--select", "FDL101")
    assert code == 0, out
    code, out, _ = check(".", "--select", "FDL101", "--exclude", "nothing")  # --exclude replaces
    assert code == 1
    code, out, _ = check(".", "--select", "FDL101", "--extend-exclude", "*/database.py")
    assert code == 0


def test_respect_gitignore(proj: Path) -> None:
    (proj / ".gitignore").write_text("# generated\n/app/database.py\n")
    assert check(".", "--select", "FDL101")[0] == 0
    assert check(".", "--select", "FDL101", "--no-respect-gitignore")[0] == 1
    write_config(proj, "respect-gitignore = false")
    assert check(".", "--select", "FDL101")[0] == 1
    # a .gitignore above the analysed folder counts inside a git repository
    (proj / "pyproject.toml").unlink()
    (proj / ".gitignore").write_text("database.py\n")
    subprocess.run(["git", "init", "-q", str(proj)], check=True)
    assert check("app", "--select", "FDL101")[0] == 0


GITIGNORE = r"""# comment
*.log
!keep.log
/build
docs/*.py
**/gen/**
secret/
a/**/b.py
\#hash.py
[ab]x.py
sub/*
!sub/inc.py
trailing.py   
deep/**/x?.py
"""
CASES = [
    ("x.log", False), ("sub/dir/x.log", False), ("keep.log", False), ("build", True), ("src/build", True),
    ("docs/a.py", False), ("docs/sub/a.py", False), ("p/gen/q/x.py", False), ("gen/x.py", False),
    ("secret", True), ("other/secret", False), ("a/b.py", False), ("a/x/y/b.py", False), ("#hash.py", False),
    ("ax.py", False), ("cx.py", False), ("sub/x.py", False), ("sub/inc.py", False), ("trailing.py", False),
    ("deep/x1.py", False), ("deep/m/n/x2.py", False), ("deep/x12.py", False), ("nested/local.py", False),
    ("nested/deep/local.py", False), ("nested/gen", True), ("nested/gen/y.py", False), ("ok.py", False),
]


@pytest.mark.parametrize("reinclude", [True, False], ids=["with-reincludes", "without"])
def test_gitignore_matches_like_git(tmp_path: Path, reinclude: bool) -> None:
    """Also without `!` lines, where only the last matching line of each kind decides."""
    from fastapi_deplint.gitignore import GitIgnore

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    text = GITIGNORE if reinclude else "".join(line for line in GITIGNORE.splitlines(True) if not line.startswith("!"))
    (tmp_path / ".gitignore").write_text(text)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / ".gitignore").write_text("local.py\n!/gen\n")
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("*.tmp.py\n")
    matcher = GitIgnore(tmp_path)
    cases = [*CASES, ("x.tmp.py", False)]
    for rel, is_dir in cases:  # made on disk, so git knows which are folders
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if is_dir:
            target.mkdir(exist_ok=True)
        elif not target.exists():
            target.write_text("")
    for rel, is_dir in cases:
        proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", rel], cwd=tmp_path)
        assert matcher.ignored(tmp_path / rel, is_dir) == (proc.returncode == 0), rel


def test_src_roots_name_namespace_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No __init__.py anywhere. Without `src`, shim.py is module `shim` and its `from .db import`
    # means a top-level `db`, a name two files have: the one next to shim.py is taken (the
    # resolver prefers the nearest of files with one name). Declaring src/ as the import root
    # names them app.core.shim and app.core.db, with no ambiguity left.
    for pkg, body in (("aaa", "return object()"), ("app", "return Session()")):
        (tmp_path / "src" / pkg / "core").mkdir(parents=True)
        (tmp_path / "src" / pkg / "core" / "db.py").write_text(
            f"from fastapi import Depends\nfrom sqlalchemy.orm import Session\n\n\ndef get_db():\n    {body}\n"
        )
    (tmp_path / "src" / "app" / "core" / "shim.py").write_text("from .db import get_db as get_session\n")
    (tmp_path / "src" / "app" / "main.py").write_text(
        "from fastapi import Depends, FastAPI\nfrom app.core.shim import get_session\n\napp = FastAPI()\n\n\n"
        "@app.get('/')\ndef index(db=Depends(get_session)):\n    return db\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out, _ = check("src", "--select", "FDL101", "--isolated")
    assert code == 1 and "src/app/core/db.py:5:1: FDL101" in out and "aaa" not in out
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-deplint]\nsrc = ["src"]\n')
    code, out, _ = check("src", "--select", "FDL101")
    assert code == 1 and "src/app/core/db.py:5:1: FDL101" in out


def test_config_defaults() -> None:
    c = Config()
    assert c.respect_gitignore and c.max_depth == 5 and c.select == [] and c.output_format is None
    with pytest.raises(ConfigError):
        load_config([], overrides={"max-depth": -1})


def test_each_gitignore_applies_inside_its_own_repository(tmp_path: Path) -> None:
    """Folders given together, each its own repository: a `.gitignore` ignores nothing in the
    other one. The walk's `os.stat` of each file comes with it, in order."""
    from fastapi_deplint.config import Config
    from fastapi_deplint.discover import discover

    for repo, ignored in (("one", "b.py"), ("two", "a.py")):
        (tmp_path / repo / ".git").mkdir(parents=True)
        (tmp_path / repo / ".gitignore").write_text(f"{ignored}\n")
        for name in ("a.py", "b.py"):
            (tmp_path / repo / name).write_text(f"# {repo}/{name}\n" * (len(repo) + len(name)))
    found = discover([tmp_path / "one", tmp_path / "two"], Config())
    assert [p.relative_to(tmp_path).as_posix() for p in found.files] == ["one/a.py", "two/b.py"]
    assert [(st.st_ino, st.st_size) for st in found.stats or []] == [(p.stat().st_ino, p.stat().st_size) for p in found.files]


def test_the_walk_gives_each_file_its_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery hands on each file's absolute path, in file order, as `absolute_paths` makes
    it from the path yielded (relative folders, a trailing slash, `..`, a file given alone, a
    symlinked file), so that the run's key and the facts phase need not join them again."""
    import os

    from fastapi_deplint.config import Config
    from fastapi_deplint.discover import absolute_paths, discover

    (tmp_path / "work" / "pkg" / "sub").mkdir(parents=True)
    for name in ("pkg/a.py", "pkg/sub/b.py", "lone.py"):
        (tmp_path / "work" / name).write_text("x = 1\n")
    if hasattr(os, "symlink"):
        os.symlink(tmp_path / "work" / "lone.py", tmp_path / "work" / "pkg" / "link.py")
    monkeypatch.chdir(tmp_path / "work" / "pkg")
    found = discover([Path("./"), Path("../lone.py"), Path("sub/../sub/")], Config())
    assert len(found.files) >= 3 and found.absolute == absolute_paths(found.files)
    assert all(os.path.isabs(a) and os.path.samefile(a, f) for a, f in zip(found.absolute, found.files))


def test_a_loose_file_in_the_home_folder_is_a_project_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file in a folder nothing marks takes that folder as its project (a small app without
    a pyproject.toml), except directly in the home folder: `check script.py` there must not
    walk everything below. `check script.py` analyses it alone."""
    from fastapi_deplint.cli import plan
    from fastapi_deplint.config import Config, find_project_root

    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    (home / "app").mkdir(parents=True)
    script, module = home / "script.py", home / "app" / "main.py"
    for path in (script, module):
        path.write_text("from fastapi import Depends, FastAPI\n\napp = FastAPI()\n")
    if find_project_root(home / "app") != home / "app":
        pytest.skip("this machine marks a project above the temporary folder")
    assert find_project_root(script) == script
    assert find_project_root(module) == home / "app"
    analysed = [f for group in plan([script], True, lambda where: Config()) for f in group.found.files]
    assert [os.path.abspath(f) for f in analysed] == [str(script)]
