"""Rules on two processes report exactly what one process does (`rules_parallel`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fastapi_deplint import engine, rules_parallel
from fastapi_deplint.config import load_config
from fastapi_deplint.rules import all_rules

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="the parallel path forks")


def findings(path: Path, jobs: int) -> list[tuple[str, int, int, str, str]]:
    config = load_config([path], overrides={"select": "ALL"})
    project = engine.analyse([path], config, jobs=1)
    result = engine.run(project, config, jobs=jobs)
    return [(f.path, f.line, f.col, f.code, f.message) for f in result.findings]


@needs_fork
@pytest.mark.parametrize("folder", ["fixtures", "examples"])
def test_two_processes_find_what_one_does(folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    serial = findings(ROOT / folder, 1)
    monkeypatch.setattr(rules_parallel, "MIN_GRAPH", 0)
    assert findings(ROOT / folder, 2) == serial
    assert serial and rules_parallel._shared is None


@needs_fork
def test_the_child_hands_over_the_modules_it_could_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`helpers.py` names nothing of FastAPI, so the pre-scan defers it; the blocking-call
    rule (the child's share) parses it on demand and finds it broken: the parent must still
    report FDL901 for it, as a serial run does."""
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    monkeypatch.setattr(rules_parallel, "MIN_GRAPH", 0)
    (tmp_path / "helpers.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n\n\ndef broken(:\n    pass\n")
    (tmp_path / "main.py").write_text(
        "from fastapi import FastAPI\nfrom helpers import pause\n\napp = FastAPI()\n\n\n"
        "@app.get('/a')\nasync def a():\n    pause()\n"
    )
    serial = findings(tmp_path, 1)
    assert findings(tmp_path, 2) == serial
    assert [(Path(path).name, code) for path, _, _, code, _ in serial] == [("helpers.py", "FDL901")], serial


def test_the_rules_are_taken_heaviest_first_and_the_heaviest_is_the_child_s() -> None:
    import multiprocessing

    rules = list(all_rules())
    order = rules_parallel.heaviest_first(rules)
    assert sorted({r.code for r, _ in order}) == sorted(r.code for r in rules)
    assert sorted((r.code, i) for r, i in order if i is not None) == sorted(
        (r.code, i) for r in rules if r.shards > 1 for i in range(r.shards)
    )  # a sharded rule is one item per shard, the others one item each
    costs = [r.cost / r.shards if i is not None else r.cost for r, i in order]
    assert costs == sorted(costs, reverse=True)
    ends = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn").Array("l", [0, len(order)])
    taken = []
    while (index := rules_parallel.take_back(ends)) is not None:
        taken.append(index)
    assert taken == list(range(len(order) - 1, 0, -1))  # lightest first, never the heaviest


def test_small_projects_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork(*args: object, **kwargs: object) -> None:
        raise AssertionError("forked for a small project")

    monkeypatch.setattr(rules_parallel.concurrent.futures, "ProcessPoolExecutor", no_fork)
    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    assert findings(ROOT / "fixtures" / "FDL302", 2) == findings(ROOT / "fixtures" / "FDL302", 1)


@needs_fork
def test_a_shard_that_raises_makes_the_parent_run_its_rule_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sharding is only a way to share the work: a bug in one shard (here in the child, which
    takes shard 0 first) must leave the report as a serial run makes it."""
    from fastapi_deplint.rules.fdl302_blocking_call import BlockingCallInAsync

    monkeypatch.setenv("FASTAPI_DEPLINT_NO_CACHE", "1")
    serial = findings(ROOT / "fixtures", 1)
    real = BlockingCallInAsync.shard

    def flaky(self: BlockingCallInAsync, ctx: object, index: int, count: int) -> object:
        if index == 0 and count > 1:
            raise RuntimeError("a bug in a shard")
        return real(self, ctx, index, count)  # type: ignore[arg-type]

    monkeypatch.setattr(BlockingCallInAsync, "shard", flaky)
    monkeypatch.setattr(rules_parallel, "MIN_GRAPH", 0)
    assert findings(ROOT / "fixtures", 2) == serial
    assert any(code == "FDL302" for _, _, _, code, _ in serial)


@pytest.mark.parametrize(("code", "at_least"), [("FDL302", 10), ("FDL601", 3)])
def test_merging_shards_yields_what_one_check_does(code: str, at_least: int) -> None:
    """A rule split into shards and merged (the parallel path, here in one process) reports
    what its `check` does, in the same order. For FDL302, deduplication and the async helpers
    found on the way tie targets of different shards together."""
    from fastapi_deplint.rules.base import Context

    rule = next(r for r in all_rules() if r.code == code)
    assert rule.shards > 1
    config = load_config([ROOT / "fixtures"], overrides={"select": "ALL"})
    for count in (2, 3, 7):
        ctx = Context(engine.analyse([ROOT / "fixtures"], config, jobs=1).graph, config)
        whole = [(f.path, f.line, f.col, f.message) for f in rule().check(ctx)]
        ctx = Context(engine.analyse([ROOT / "fixtures"], config, jobs=1).graph, config)
        shards = [rule().shard(ctx, i, count) for i in range(count)]
        merged = [(f.path, f.line, f.col, f.message) for f in rule().merge(ctx, shards)]
        assert merged == whole and len(whole) > at_least
