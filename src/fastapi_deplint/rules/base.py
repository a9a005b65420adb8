"""The rule framework: a rule is a small query over the `ProjectGraph` that yields findings.

Each rule is a subclass of `Rule` in its own module under `fastapi_deplint.rules`, with its
documentation as the class docstring in a fixed shape (What it does / Why is this bad? /
Example / Use instead). `fastapi-deplint rule CODE` and the generated rules page print that
text; the registry discovers rules by importing every module of this package.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # (a run answered from the cache unpickles `Finding` and needs none of these)
    from ..config import Config
    from ..facts.model import Function, Loc, ModuleFacts
    from ..graph.model import Edge, Node, ProjectGraph, Route


def shown_path(path: str) -> str:
    """A file as a message names it: relative to the current folder when it lies inside it.
    Files given alone (pre-commit) are analysed from their project's root, found as an
    absolute path; a message must read the same as in a run over the folder, since a baseline
    and SARIF's fingerprints key on it."""
    if not os.path.isabs(path):
        return path
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return path
    return path if relative == os.pardir or relative.startswith(os.pardir + os.sep) else relative


@dataclass(slots=True)
class Finding:
    code: str
    message: str
    path: str
    line: int  # 1-based
    col: int  # 0-based, as `ast` (UTF-8 bytes); converted to characters when reported
    end_line: int
    end_col: int
    severity: str = "warning"  # "error" | "warning" | "info"
    symbol: str = ""  # enclosing definition, for the baseline
    fix: dict[str, Any] | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)


@dataclass(slots=True)
class Shard:
    """What one shard of a rule's work found (see `Rule.shards`): every finding its merge may
    report, and what else the merge needs (the rule's own)."""

    findings: list[Finding]
    data: Any = None


@dataclass(slots=True)
class Context:
    """What every rule gets: the graph, the config, and cached derived views.

    `focus`: the files (as `ModuleFacts.path`) whose findings the caller reports, None for
    all. A rule may then skip work whose findings can only land in other files, as long as
    what it reports in these files is exactly what a whole run reports there (see FDL302)."""

    graph: ProjectGraph
    config: Config
    focus: frozenset[str] | None = None
    _dep_nodes: set[str] | None = None

    def dependency_nodes(self) -> set[str]:
        if self._dep_nodes is None:
            self._dep_nodes = self.graph.dependency_nodes()
        return self._dep_nodes

    def project_dependencies(self) -> Iterator[Node]:
        """Every dependency node reached from a route that has project source to look at."""
        for node_id in sorted(self.dependency_nodes()):
            node = self.graph.nodes.get(node_id)
            if node is not None and node.function is not None and node.file is not None:
                yield node

    def module_of(self, path: str) -> ModuleFacts | None:
        return self.graph.file_facts(path)


class Rule:
    """Base class. Subclasses set the class attributes and implement `check`."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, also the fix hint
    severity: ClassVar[str] = "warning"
    default_enabled: ClassVar[bool] = True
    fixable: ClassVar[str] = "none"  # "none" | "safe" | "unsafe"
    # relative run time (tenths of a second on the benchmark corpus, `bench/phases.py`): how
    # `rules_parallel` shares the rules between processes
    cost: ClassVar[int] = 1
    # > 1: the rule's work splits into this many `shard`s that may run on different processes,
    # and `merge` turns their results into the findings `check` yields (in the same order)
    shards: ClassVar[int] = 1

    def check(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError

    def shard(self, ctx: Context, index: int, count: int) -> Shard:
        """Part `index` of `count` of the work (a rule with `shards` > 1)."""
        raise NotImplementedError

    def merge(self, ctx: Context, shards: list[Shard]) -> Iterator[Finding]:
        """The findings of all the shards' results, in order (a rule with `shards` > 1)."""
        raise NotImplementedError

    # -- helpers shared by rules ----------------------------------------------------------
    def at(self, path: str, loc: Loc, message: str, symbol: str = "", **extra: Any) -> Finding:
        return Finding(
            code=self.code,
            message=message,
            path=path,
            line=loc[0],
            col=loc[1],
            end_line=loc[2],
            end_col=loc[3],
            severity=self.severity,
            symbol=symbol,
            **extra,
        )

    def at_def(self, node: Node | Route, message: str) -> Finding:
        fn: Function | None = node.function
        assert fn is not None and node.file is not None
        loc = fn.loc
        return self.at(node.file, (loc[0], loc[1], loc[0], loc[1]), message, symbol=fn.qualname)

    def at_edge(self, edge: Edge, message: str, symbol: str = "") -> Finding:
        return self.at(edge.file, edge.loc, message, symbol=symbol)

    @classmethod
    def documentation(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")
