"""FDL203 settings-not-cached."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts.model import Call, CallSite, Function, Name
from ..graph.model import Node, ProjectGraph
from ..graph.resolve import RClass, RExternal, RVar
from ._blocking import ParamKinds, Scope, decorator_names, may_be_class, may_call_one_of, project_or, resolved_function
from .base import Context, Finding, Rule
from .fdl403_depends_called import all_edges

BASE_SETTINGS = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
        "pydantic.v1.env_settings.BaseSettings",
    }
)


class SettingsClasses:
    """Which classes are settings classes: `BaseSettings` subclasses (through project
    subclasses and imports) and the classes named in `settings-classes`."""

    def __init__(self, graph: ProjectGraph, configured: list[str]) -> None:
        self.graph = graph
        self.configured = frozenset(configured)
        self.named = BASE_SETTINGS | self.configured | {c.rsplit(".", 1)[-1] for c in self.configured}
        self.memo: dict[RClass, bool] = {}

    def is_settings(self, cls: RClass) -> bool:
        if cls not in self.memo:
            r = self.graph.resolver
            assert r is not None
            names = {f"{k.module}.{k.qualname}" for k in r.mro(cls)} | {k.qualname.rsplit(".", 1)[-1] for k in r.mro(cls)}
            bases = set(r.external_bases(cls))
            self.memo[cls] = (
                bool(bases & BASE_SETTINGS)
                or bool((names | bases) & self.configured)
                or any(b.rsplit(".", 1)[-1] in self.configured for b in bases)
            )
        return self.memo[cls]

    def constructed(self, module: str, fn: Function, call: CallSite) -> str | None:
        """The settings class a call constructs, by name."""
        r = self.graph.resolver
        if r is None or not call.callee or "()" in call.callee or call.callee.startswith("?"):
            return None
        # (a module the pre-scan skipped is parsed only when the name may be a class there)
        t = r.resolve_when(module, fn.qualname, call.callee, may_be_class(call.callee, self.named))
        if isinstance(t, RVar) and isinstance(t.assign.value, Name):  # `Config = Settings`
            alias = t.assign.value.dotted
            t = r.resolve_when(t.module, t.scope, alias, may_be_class(alias, self.named))
        if isinstance(t, RClass) and self.is_settings(t):
            return t.qualname.rsplit(".", 1)[-1]
        if isinstance(t, RExternal) and (t.dotted in BASE_SETTINGS or t.dotted in self.configured):
            return t.dotted.rsplit(".", 1)[-1]
        return None


def _cached(graph: ProjectGraph, module: str, fn: Function) -> bool:
    """`@lru_cache`/`@cache` or any other memoising decorator (`@cached`, `@memoize`...)."""
    for name in decorator_names(graph, module, fn):
        last = name.rsplit(".", 1)[-1].lower()
        if "cache" in last or "memo" in last or "once" in last or "singleton" in last:
            return True
    return False


def _lazy_global(graph: ProjectGraph, module: str, fn: Function, call: CallSite) -> bool:
    """`global _settings; _settings = Settings()`: built once, the lazy-singleton idiom."""
    facts = graph.modules.get(module)
    if facts is None or not fn.global_names:
        return False
    local = facts.assigns.get(fn.qualname, {})
    for name in fn.global_names:
        for assign in local.get(name, ()):
            if isinstance(assign.value, Call) and assign.value.loc == call.loc:
                return True
    return False


class SettingsNotCached(Rule):
    """
    ## What it does
    Flags a dependency that constructs a pydantic `BaseSettings` subclass (pydantic-settings or
    pydantic v1, also through project subclasses and imports, or a class listed in
    `settings-classes`) on every call, without `functools.lru_cache`/`functools.cache`: directly,
    or through a project helper that builds it. Also flags a settings class used as a class
    dependency (`Depends(Settings)`), which FastAPI instantiates per request. Silent for cached
    factories, for dependencies returning a module-level settings object, for the lazy
    `global` singleton idiom, and for plain pydantic `BaseModel`s.

    ## Why is this bad?
    Building a `BaseSettings` reads every environment variable and parses the `.env` file (and
    any secrets directory) again — on every request that depends on it, in every route that
    reaches the dependency. It is slow and it means a changed file can change the settings in
    the middle of the app's life.

    ## Example
    ```python
    def get_settings() -> Settings:
        return Settings()

    @app.get("/info")
    async def info(settings: Annotated[Settings, Depends(get_settings)]): ...
    ```

    ## Use instead
    ```python
    @lru_cache
    def get_settings() -> Settings:
        return Settings()
    ```
    (FastAPI's documented pattern; tests can still override `get_settings`).
    """

    code = "FDL203"
    name = "settings-not-cached"
    summary = "Cache the settings factory with `@lru_cache` (or return one module-level settings object)."
    cost = 2
    fixable = "safe"

    def check(self, ctx: Context) -> Iterator[Finding]:
        graph = ctx.graph
        if graph.resolver is None:
            return
        classes = SettingsClasses(graph, ctx.config.settings_classes)
        seen_defs: set[tuple[str, int]] = set()
        class_nodes: set[str] = set()
        focus = ctx.focus  # a finding lands at the dependency's own `def` or at its `Depends(...)`
        candidates = set(ctx.dependency_nodes())
        if focus is not None:
            candidates &= {edge.target for edge in all_edges(graph) if edge.file in focus}
        for node_id in sorted(candidates):
            node = graph.nodes.get(node_id)
            if (
                node is not None
                and node.kind == "class"
                and node.module
                and node.qualname
                and classes.is_settings(RClass(node.module, node.qualname))
            ):
                class_nodes.add(node.id)
        for node in ctx.project_dependencies():
            fn = node.function
            if fn is None or node.kind not in ("function", "method", "partial") or not node.module or node.file is None:
                continue
            if focus is not None and node.file not in focus:
                continue
            if node.is_cached or _cached(graph, node.module, fn) or (node.file, fn.loc[0]) in seen_defs:
                continue
            found = self._builds(graph, classes, node.module, fn)
            if found is None:
                continue
            seen_defs.add((node.file, fn.loc[0]))
            yield self.at_def(node, self._message(graph, node, fn, *found))
        if class_nodes:
            yield from self._class_dependencies(ctx, class_nodes)

    def _builds(self, graph: ProjectGraph, classes: SettingsClasses, module: str, fn: Function) -> tuple[str, str | None] | None:
        """(settings class, helper that builds it or None) when calling `fn` builds settings."""
        params = {p.name for p in fn.params}
        for call in fn.calls:
            name = classes.constructed(module, fn, call)
            if name is not None and not _lazy_global(graph, module, fn, call) and not params & set(call.arg_names):
                return name, None  # (built from the request's own values, it is per-request by design)
        imported = project_or(graph.resolver, classes.named)
        for call in fn.calls:
            if not call.callee or call.in_thread:
                continue
            test = may_call_one_of(call.callee, classes.named, imported)
            hit = resolved_function(graph, module, Scope(module, fn, ParamKinds()), call.callee, test)
            if hit is None or hit[1] is fn or hit[1].is_generator or _cached(graph, hit[0], hit[1]):
                continue
            helper_module, helper = hit
            if decorator_names(graph, helper_module, helper):
                continue
            for inner in helper.calls:
                name = classes.constructed(helper_module, helper, inner)
                if name is not None and not _lazy_global(graph, helper_module, helper, inner):
                    return name, helper.name
        return None

    @staticmethod
    def _message(graph: ProjectGraph, node: Node, fn: Function, cls: str, helper: str | None) -> str:
        via = f" (through `{helper}()`)" if helper else ""
        takes_args = any(p.kind not in ("vararg", "varkw") for p in fn.params[(1 if fn.class_name else 0) :])
        if fn.is_async or takes_args or fn.class_name:
            fix = f"build it in a cached function without parameters (`@lru_cache def get_settings() -> {cls}`) and use that"
        else:
            fix = "decorate it with `@lru_cache`"
        return (
            f"dependency `{fn.name}` builds settings `{cls}`{via} on every call, re-reading the environment and "
            f".env file per request; {fix}"
        )

    def _class_dependencies(self, ctx: Context, class_nodes: set[str]) -> Iterator[Finding]:
        seen: set[tuple[str, int, int]] = set()
        for edge in all_edges(ctx.graph):
            if edge.target not in class_nodes or (ctx.focus is not None and edge.file not in ctx.focus):
                continue
            key = (edge.file, edge.loc[0], edge.loc[1])
            if key in seen:
                continue
            seen.add(key)
            name = ctx.graph.nodes[edge.target].name
            yield self.at_edge(
                edge,
                f"`{edge.marker}` on the settings class `{name}` builds it on every request, re-reading the environment "
                f"and .env file; depend on a cached factory instead (`@lru_cache def get_settings() -> {name}`)",
            )
