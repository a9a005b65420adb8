"""The fixture harness: every `fixtures/<CODE>/` folder is a small project whose offending
lines carry `# expect: CODE[, CODE...]`; running the linter on it must produce exactly those
findings (for the codes the folder selects), nothing missing and nothing extra."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi_deplint import engine
from fastapi_deplint.config import Config
from fastapi_deplint.project import build_project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>FDL\d{3}(?:\s*,\s*FDL\d{3})*)")
Key = tuple[str, int, str]


def fixture_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def expected(root: Path) -> set[Key]:
    result: set[Key] = set()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = EXPECT.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group("codes")):
                    result.add((rel, number, code))
    return result


def config_for(root: Path) -> Config:
    """`fixtures/FDL101` selects FDL101; `fixtures/clean` selects every rule (opt-in too)."""
    config = Config()
    options = root / "options.toml"
    if options.is_file():
        import tomllib

        from fastapi_deplint.config import apply_table

        apply_table(config, tomllib.loads(options.read_text(encoding="utf-8")), str(options))
    if re.fullmatch(r"FDL\d{3}", root.name):
        config.select = [root.name]
    elif not config.select:
        config.select = ["ALL"]
    return config


def actual(root: Path) -> set[Key]:
    project = build_project([root], jobs=1)
    result = engine.run(project, config_for(root))
    found: set[Key] = set()
    for f in result.findings:
        rel = Path(f.path).resolve().relative_to(root).as_posix()
        found.add((rel, f.line, f.code))
    return found


def diff(root: Path) -> str:
    want, got = expected(root), actual(root)
    lines = [f"missing    {p}:{n}: {c}" for p, n, c in sorted(want - got)]
    lines += [f"unexpected {p}:{n}: {c}" for p, n, c in sorted(got - want)]
    return "\n".join(lines)
