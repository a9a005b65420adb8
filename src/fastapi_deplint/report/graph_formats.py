"""Rendering the dependency graph: `tree` (rich), `json` (stable schema), `mermaid`, `dot`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..graph.model import Edge, Node, ProjectGraph, Route
from ..graph.resolve import real_name
from ..project import Project

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)

JSON_SCHEMA_VERSION = 1


def _loc_line(node: Node) -> int | None:
    return node.loc[0] if node.loc is not None else None


def endpoint_key(route: Route) -> str:
    return f"{real_name(route.module)}.{route.qualname}"


def graph_json(project: Project) -> dict[str, Any]:
    graph = project.graph
    routes: list[dict[str, Any]] = []
    used: set[str] = set()
    for route in graph.routes:
        for mount in route.mounts:
            deps = [e.target for e in route.all_edges(mount)]
            used.update(graph.reachable(route.all_edges(mount)))
            routes.append(
                {
                    "endpoint": endpoint_key(route),
                    "file": route.file,
                    "line": route.def_loc[0],
                    "methods": route.methods,
                    "path": mount.path,
                    "async": route.is_async,
                    "routers": mount.chain,
                    "dependencies": deps,
                    "edges": [_edge_json(e) for e in route.all_edges(mount)],
                }
            )
    nodes = {
        node_id: {
            "name": node.name,
            "kind": node.kind,
            "file": node.file,
            "line": _loc_line(node),
            "async": node.is_async,
            "generator": node.is_generator,
            "security_scheme": node.is_security_scheme,
            "cached": node.is_cached,
            "dependencies": [e.target for e in node.edges],
            "edges": [_edge_json(e) for e in node.edges],
        }
        for node_id, node in sorted(graph.nodes.items())
        if node_id in used
    }
    errors = [{"path": f.path, "line": f.error_loc[0] if f.error_loc else 1, "message": f.error} for f in project.file_errors]
    errors += [{"path": p, "line": 1, "message": m} for p, m in project.discovery_errors]
    return {"version": JSON_SCHEMA_VERSION, "routes": routes, "nodes": nodes, "errors": errors}


def _edge_json(edge: Edge) -> dict[str, Any]:
    return {
        "target": edge.target,
        "marker": edge.marker,
        "origin": edge.origin,
        "param": edge.param,
        "use_cache": edge.use_cache,
        "scope": edge.scope,
        "scopes": list(edge.scopes),
        "file": edge.file,
        "line": edge.loc[0],
    }


def render_json(project: Project) -> str:
    return json.dumps(graph_json(project), indent=1)


def _node_label(node: Node, edge: Edge | None) -> str:
    tags: list[str] = []
    if node.is_async is True:
        tags.append("[green]async[/]")
    elif node.is_async is False:
        tags.append("[yellow]sync[/]")
    if node.is_generator:
        tags.append("[magenta]yield[/]")
    if edge is not None:
        if not edge.use_cache:
            tags.append("[red]uncached[/]")
        if edge.scope:
            tags.append(f"scope={edge.scope}")
        if edge.marker == "Security" or node.is_security_scheme:
            tags.append("[cyan]security[/]" + (f" scopes={list(edge.scopes)}" if edge.scopes else ""))
        if edge.origin != "param":
            tags.append(f"[dim]via {edge.origin}[/]")
    if node.is_cached:
        tags.append("lru_cache")
    where = f" [dim]{escape(node.file)}:{node.loc[0]}[/]" if node.file and node.loc else (f" [dim]{escape(node.external or '')}[/]" if node.external else "")
    param = f"{escape(edge.param)}: " if edge is not None and edge.param else ""
    return f"{param}[bold]{escape(node.name)}[/] ({node.kind}) {' '.join(tags)}{where}"


def render_tree(project: Project, console: Console) -> None:
    from rich.tree import Tree

    graph = project.graph
    if not graph.routes:
        console.print("No routes found.")
    for route in graph.routes:
        for mount in route.mounts:
            kind = "[green]async[/]" if route.is_async else "[yellow]sync[/]"
            tree = Tree(
                f"[bold]{' '.join(route.methods)}[/] {escape(mount.path)} -> {escape(endpoint_key(route))} {kind} "
                f"[dim]{escape(route.file)}:{route.def_loc[0]}[/]"
            )
            _grow(graph, tree, route.all_edges(mount), [])
            console.print(tree)
    for facts in project.file_errors:
        console.print(f"[red]error[/] {escape(facts.path)}: {escape(facts.error or '')}")


def _grow(graph: ProjectGraph, tree: "Tree", edges: list[Edge], path: list[str]) -> None:
    for edge in edges:
        node = graph.nodes.get(edge.target)
        if node is None:
            continue
        if edge.target in path:
            tree.add(f"[red]cycle back to {escape(node.name)}[/]")
            continue
        branch = tree.add(_node_label(node, edge))
        if len(path) < 50:
            _grow(graph, branch, node.edges, [*path, edge.target])


def _mermaid_id(value: str, ids: dict[str, str]) -> str:
    if value not in ids:
        ids[value] = f"n{len(ids)}"
    return ids[value]


def render_mermaid(project: Project) -> str:
    graph = project.graph
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    edges: set[tuple[str, str, str]] = set()
    for route in graph.routes:
        for mount in route.mounts:
            rid = _mermaid_id("route:" + " ".join(route.methods) + " " + mount.path, ids)
            lines.append(f'    {rid}["{" ".join(route.methods)} {_quote(mount.path)}"]')
            for e in route.all_edges(mount):
                edges.add((rid, _mermaid_id(e.target, ids), "-.->" if not e.use_cache else "-->"))
    for node_id in sorted(graph.dependency_nodes()):
        node = graph.nodes[node_id]
        nid = _mermaid_id(node_id, ids)
        shape = ('(["', '"])') if node.is_generator else (("{{", "}}") if node.is_security_scheme else ('["', '"]'))
        lines.append(f"    {nid}{shape[0]}{_quote(node.name)}{shape[1]}")
        for e in node.edges:
            edges.add((nid, _mermaid_id(e.target, ids), "-.->" if not e.use_cache else "-->"))
    lines.extend(f"    {a} {arrow} {b}" for a, b, arrow in sorted(edges))
    return "\n".join(dict.fromkeys(lines)) + "\n"


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")


def render_dot(project: Project) -> str:
    graph = project.graph
    lines = ["digraph dependencies {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen: set[str] = set()
    for route in graph.routes:
        for mount in route.mounts:
            rid = f"route {' '.join(route.methods)} {mount.path}"
            if rid not in seen:
                seen.add(rid)
                lines.append(f"  {json.dumps(rid)} [shape=box, style=bold];")
            for e in route.all_edges(mount):
                style = " [style=dashed]" if not e.use_cache else ""
                lines.append(f"  {json.dumps(rid)} -> {json.dumps(e.target)}{style};")
    for node_id in sorted(graph.dependency_nodes()):
        node = graph.nodes[node_id]
        shape = "ellipse" if node.is_generator else ("diamond" if node.is_security_scheme else "box")
        lines.append(f"  {json.dumps(node_id)} [label={json.dumps(node.name)}, shape={shape}];")
        for e in node.edges:
            style = " [style=dashed]" if not e.use_cache else ""
            lines.append(f"  {json.dumps(node_id)} -> {json.dumps(e.target)}{style};")
    lines.append("}")
    return "\n".join(dict.fromkeys(lines)) + "\n"
