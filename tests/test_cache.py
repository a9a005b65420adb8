"""The per-file facts cache: hits give the same graph as a cold run, changed bytes are re-read,
corrupt entries are misses, and `--no-cache` writes nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fastapi_deplint.cache import FactsCache
from fastapi_deplint.cli import main
from fastapi_deplint.project import build_project

APP = """
from fastapi import Depends, FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

SessionLocal = sessionmaker(bind=create_engine("sqlite://"))
app = FastAPI()

def get_db():
    return SessionLocal()

@app.get("/")
def index(db=Depends(get_db)):
    return db
"""


def _routes(root: Path, cache: FactsCache | None) -> list[tuple[str, list[str]]]:
    project = build_project([root], jobs=1, cache=cache)
    return [(r.endpoint, [e.target for e in r.all_edges()]) for r in project.graph.routes]


def test_warm_run_equals_cold_run_and_sees_edits(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "main.py").write_text(APP)
    cache = FactsCache(tmp_path / "cache")
    cold = _routes(root, cache)
    entries = list((tmp_path / "cache").rglob("*"))
    assert any(p.is_file() for p in entries)
    assert _routes(root, cache) == cold == _routes(root, None)
    (root / "main.py").write_text(APP.replace('@app.get("/")', '@app.get("/")\ndef other():\n    pass\n\n@app.get("/x")'))
    assert [e for e, _ in _routes(root, cache)] == [e for e, _ in _routes(root, None)] != [e for e, _ in cold]


def test_corrupt_entries_are_misses(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "main.py").write_text(APP)
    cache = FactsCache(tmp_path / "cache")
    cold = _routes(root, cache)
    for entry in (tmp_path / "cache").rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"not a pickle")
    assert _routes(root, cache) == cold


def test_no_cache_flag_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "main.py").write_text(APP)
    monkeypatch.setenv("FASTAPI_DEPLINT_CACHE_DIR", str(tmp_path / "c1"))
    monkeypatch.delenv("FASTAPI_DEPLINT_NO_CACHE", raising=False)
    first = CliRunner().invoke(main, ["check", "--output-format", "json", str(root)])
    assert (tmp_path / "c1").is_dir()
    second = CliRunner().invoke(main, ["check", "--no-cache", "--cache-dir", str(tmp_path / "c2"), "--output-format", "json", str(root)])
    assert not (tmp_path / "c2").exists()
    assert first.output == second.output and '"FDL101"' in first.output
