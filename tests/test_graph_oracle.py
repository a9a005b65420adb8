"""Differential tests: the static graph against FastAPI's own runtime `route.dependant` tree.

The fixture apps are imported here (in worker subprocesses, by the test — never by the
linter) and every endpoint's transitive (endpoint, dependency name) pairs must match the
static graph exactly, and so must each route's *direct* dependency order."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_deplint.project import build_project
from fastapi_deplint.report.graph_formats import graph_json
from oracle_runtime import runtime_pairs

HERE = Path(__file__).resolve().parent
ORACLE_ROOTS = [HERE / "oracle_apps", HERE.parent / "examples" / "shop", HERE.parent / "fixtures" / "FDL101"]


def static_pairs(root: Path) -> dict[str, set[str]]:
    data = graph_json(build_project([root], jobs=1))
    nodes = data["nodes"]
    result: dict[str, set[str]] = {}
    for route in data["routes"]:
        names = result.setdefault(route["endpoint"], set())
        stack, seen = list(route["dependencies"]), set()
        while stack:
            node_id = stack.pop()
            if node_id in seen:
                continue
            seen.add(node_id)
            names.add(nodes[node_id]["name"])
            stack.extend(nodes[node_id]["dependencies"])
    return result


@pytest.mark.parametrize("root", ORACLE_ROOTS, ids=lambda p: p.name)
def test_static_graph_matches_fastapi_runtime(root: Path) -> None:
    runtime, failures = runtime_pairs(root)
    importable = [f for f in failures if "sqlalchemy" not in f and "No module named" not in f]
    assert not importable, f"fixture apps must import cleanly: {importable}"
    if not runtime:
        pytest.skip(f"nothing importable under {root.name} in this environment: {failures[:3]}")
    static = static_pairs(root)
    problems = []
    for endpoint, names in sorted(runtime.items()):
        got = static.get(endpoint)
        if got is None:
            problems.append(f"{endpoint}: route missing from the static graph")
        elif got != names:
            problems.append(f"{endpoint}: missing {sorted(names - got)}, extra {sorted(got - names)}")
    assert not problems, "\n".join(problems)


def test_kitchen_routes_direct_dependency_order() -> None:
    """App, include_router, router, decorator, then parameter dependencies — FastAPI's order."""
    data = graph_json(build_project([HERE / "oracle_apps"], jobs=1))
    by_path = {r["path"]: r for r in data["routes"]}
    names = lambda route: [data["nodes"][i]["name"] for i in route["dependencies"]]  # noqa: E731
    assert names(by_path["/admin/stats"]) == ["get_settings", "get_db", "RequiresRole()"]
    assert names(by_path["/items/search"]) == ["get_settings", "get_settings", "checker", "Filters", "paged"]
    assert names(by_path["/admin/sub/audit"])[-1] == "RequiresRole()"
    assert by_path["/items/search"]["methods"] == ["GET", "POST"]
    assert by_path["/items/ws"]["methods"] == ["WEBSOCKET"]
    assert "/shadow" in by_path and by_path["/shadow"]["dependencies"] == []
    assert "/health" in by_path  # a route defined inside the app factory
