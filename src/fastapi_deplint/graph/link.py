"""Linking: per-file facts -> `ProjectGraph`.

Models `fastapi/dependencies/utils.py` and `fastapi/routing.py`:
- a parameter's dependency is the last FastAPI marker in its `Annotated[...]` metadata or a
  `Depends` default; `Depends()` without a target takes the annotation's type;
- a class dependency's sub-dependencies come from `__init__` (or dataclass / pydantic fields),
  a callable instance's from `__call__`, a `functools.partial`'s from the wrapped function
  minus the bound arguments;
- `Depends(factory(...))` resolves to what the factory returns when that is visible;
- a route's direct dependencies are app, include_router, router and decorator dependencies,
  in that order, then its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..facts.expr import x_text
from ..facts.model import Call, Function, Lit, Loc, ModuleFacts, Name, Opaque, Param, Seq, Sub, X
from ..facts.text import may_assign_call
from . import known
from .model import Edge, Include, Mount, Node, ProjectGraph, Route, Router
from .resolve import MAX_HOPS, Loader, RAttr, RClass, RExternal, RFunc, RModule, Resolver, RVar, Target

MAX_MOUNTS = 64


@dataclass(slots=True)
class Marker:
    kind: str  # Depends | Security
    target: X | None
    module: str  # where `target` must be resolved
    scope: str
    use_cache: bool
    dep_scope: str | None
    scopes: tuple[str, ...]
    loc: Loc
    text: str


def _kw(call: Call, name: str) -> X | None:
    for key, value in call.kwargs:
        if key == name:
            return value
    return None


def _lit_str(x: X | None) -> str | None:
    return x.value if isinstance(x, Lit) and isinstance(x.value, str) else None


def _looks_routed(path: object, owner: str) -> bool:
    """Whether a decorator's first argument can be a route's path on an object we cannot
    resolve: routed paths start with "/" (or are "" under a prefix); an app's `webhooks`
    router takes bare names. `mock.patch("pkg.mod")` is not a route."""
    if not isinstance(path, str):
        return False
    return path == "" or path.startswith("/") or owner.rpartition(".")[2] == "webhooks"


class Linker:
    def __init__(self, modules: dict[str, ModuleFacts], deferred: dict[str, tuple[str, Loader]] | None = None) -> None:
        self.modules = modules
        self.r = Resolver(modules, deferred)
        self.nodes: dict[str, Node] = {}
        self.routers: dict[str, Router] = {}
        self.includes: list[Include] = []
        self.routes: list[Route] = []
        self._pending: list[str] = []
        self._resolve_cache: dict[tuple[str, str, str], Target] = {}
        self._router_classes: set[str] | None = None

    # -- helpers ---------------------------------------------------------------------------
    def resolve(self, module: str, scope: str, dotted: str) -> Target:
        key = (module, scope, dotted)
        if key not in self._resolve_cache:
            self._resolve_cache[key] = None  # re-entrancy guard
            self._resolve_cache[key] = self.r.resolve(module, scope, dotted)
        return self._resolve_cache[key]

    def resolve_parsed(self, module: str, scope: str, dotted: str) -> Target:
        """`resolve` over parsed modules only (see `Resolver.resolve_loaded`): None when the
        answer needs a deferred module; cached otherwise."""
        key = (module, scope, dotted)
        if key in self._resolve_cache:
            return self._resolve_cache[key]
        t, blocked = self.r.resolve_loaded(module, scope, dotted)
        if blocked is not None:
            return None
        self._resolve_cache[key] = t
        return t

    def resolve_x(self, module: str, scope: str, x: X | None) -> Target:
        return self.resolve(module, scope, x.dotted) if isinstance(x, Name) else None

    def file_of(self, module: str) -> str:
        return self.modules[module].path

    def function(self, module: str, qualname: str) -> Function | None:
        facts = self.modules.get(module)
        return facts.functions.get(qualname) if facts else None

    def decorator_names(self, module: str, scope: str, decorators: list[X]) -> list[str]:
        names: list[str] = []
        for d in decorators:
            base = d.func if isinstance(d, Call) else d
            t = self.resolve_x(module, scope, base)
            if isinstance(t, RExternal):
                names.append(t.dotted)
            elif isinstance(t, (RFunc, RClass)):
                names.append(f"{t.module}.{t.qualname}")
            elif isinstance(base, Name):
                names.append(base.dotted)
        return names

    # -- markers (Depends / Security) ---------------------------------------------------------
    def marker(self, module: str, scope: str, x: X | None, hops: int = 0) -> Marker | None:
        if x is None or hops > MAX_HOPS:
            return None
        if isinstance(x, Call) and isinstance(x.func, Name):
            t = self.resolve(module, scope, x.func.dotted)
            kind = known.is_depends(t.dotted) if isinstance(t, RExternal) else None
            if kind is None and t is None and x.func.dotted.rsplit(".", 1)[-1] in ("Depends", "Security"):
                kind = x.func.dotted.rsplit(".", 1)[-1]  # unresolvable, e.g. a star import
            if kind is not None:
                target = x.args[0] if x.args else _kw(x, "dependency")
                if isinstance(target, Lit) and target.value is None:
                    target = None
                use_cache = _kw(x, "use_cache")
                scopes_x = _kw(x, "scopes")
                scopes = tuple(
                    i.value for i in (scopes_x.items if isinstance(scopes_x, Seq) else ()) if isinstance(i, Lit) and isinstance(i.value, str)
                )
                return Marker(
                    kind=kind,
                    target=target,
                    module=module,
                    scope=scope,
                    use_cache=not (isinstance(use_cache, Lit) and use_cache.value is False),
                    dep_scope=_lit_str(_kw(x, "scope")),
                    scopes=scopes,
                    loc=x.loc,
                    text=x_text(x),
                )
            if isinstance(t, (RFunc, RAttr)):  # a factory that returns Depends(...)
                fn_ref = t if isinstance(t, RFunc) else self.r.class_attribute(t.cls, t.attr)
                if isinstance(fn_ref, RFunc):
                    fn = self.function(fn_ref.module, fn_ref.qualname)
                    if fn is not None:
                        for rv in fn.returns:
                            m = self.marker(fn_ref.module, fn.qualname, rv, hops + 1)
                            if m is not None:
                                m.loc, m.text = x.loc, x_text(x)
                                return m
            return None
        if isinstance(x, Name):  # `user=CURRENT_USER`, with `CURRENT_USER = Depends(...)` somewhere
            t = self.r.resolve_when(module, scope, x.dotted, may_assign_call)
            if isinstance(t, RVar) and isinstance(t.assign.value, Call):
                m = self.marker(t.module, t.scope, t.assign.value, hops + 1)
                if m is not None:
                    m.loc = x.loc
                    return m
        return None

    def analyze_annotation(
        self, module: str, scope: str, x: X | None, hops: int = 0
    ) -> tuple[tuple[X, str, str] | None, Marker | None, bool]:
        """(base type with where to resolve it, the effective marker, whether a non-Depends
        FastAPI param marker such as `Query()` wins)."""
        if x is None or hops > MAX_HOPS:
            return None, None, False
        # Aliases are found among parsed modules only: a module defining `Annotated[...,
        # Depends(...)]` names `Depends`, so the pre-scan never defers it, and every parameter
        # type (`user: User`) would otherwise parse the module defining it.
        if isinstance(x, Sub) and isinstance(x.value, Name):
            t = self.resolve_parsed(module, scope, x.value.dotted)
            if isinstance(t, RVar) and isinstance(t.assign.value, Sub) and x.items:
                # a generic alias `Dep = Annotated[T, Depends()]` used as `Dep[A]`
                base, marker, is_param = self.analyze_annotation(t.module, t.scope, t.assign.value, hops + 1)
                if marker is not None or is_param:
                    if base is not None and self._is_typevar(*base):
                        base = (x.items[0], module, scope)
                    return base, marker, is_param
            if isinstance(t, RExternal) and known.is_annotated(t.dotted) and x.items:
                base, last, is_param = self.analyze_annotation(module, scope, x.items[0], hops + 1)
                if base is None:
                    base = (x.items[0], module, scope)
                for meta in x.items[1:]:
                    m = self.marker(module, scope, meta, hops + 1)
                    if m is not None:
                        last, is_param = m, False
                    elif isinstance(meta, Call) and isinstance(meta.func, Name):
                        mt = self.resolve(module, scope, meta.func.dotted)
                        if isinstance(mt, RExternal) and known.is_fastapi(mt.dotted, *known.PARAM_FUNCTIONS):
                            last, is_param = None, True
                return base, last, is_param
            return (x, module, scope), None, False
        if isinstance(x, Name):
            t = self.resolve_parsed(module, scope, x.dotted)
            if isinstance(t, RVar) and isinstance(t.assign.value, (Sub, Name)) and t.assign.value is not x:
                value = t.assign.value
                if isinstance(value, Sub) or t.assign.is_type_alias:
                    return self.analyze_annotation(t.module, t.scope, value, hops + 1)
            return (x, module, scope), None, False
        return (x, module, scope), None, False

    def _is_typevar(self, x: X, module: str, scope: str) -> bool:
        t = self.resolve_x(module, scope, x)
        if isinstance(t, RVar) and isinstance(t.assign.value, Call) and isinstance(t.assign.value.func, Name):
            callee = self.resolve(t.module, t.scope, t.assign.value.func.dotted)
            return isinstance(callee, RExternal) and callee.dotted.endswith("TypeVar")
        return False

    # -- nodes ------------------------------------------------------------------------------------
    def _add(self, node: Node) -> str:
        if node.id not in self.nodes:
            self.nodes[node.id] = node
            self._pending.append(node.id)
        return node.id

    def function_node(self, module: str, qualname: str, kind: str = "function") -> str:
        fn = self.function(module, qualname)
        node_id = f"{module}.{qualname}"
        if node_id in self.nodes:
            return node_id
        assert fn is not None
        decorators = self.decorator_names(module, fn.parent, fn.decorators)
        if fn.class_name is not None and kind == "function":
            kind = "method"
        return self._add(
            Node(
                id=node_id,
                name=fn.name,
                kind=kind,
                module=module,
                qualname=qualname,
                file=self.file_of(module),
                loc=fn.loc,
                is_async=fn.is_async,
                is_generator=fn.is_generator,
                is_cached=any(known.is_cache_decorator(d) for d in decorators),
                function=fn,
            )
        )

    def class_node(self, cls: RClass, instance: bool) -> str:
        facts = self.r.class_facts(cls)
        assert facts is not None
        node_id = f"{cls.module}.{cls.qualname}" + ("()" if instance else "")
        if node_id in self.nodes:
            return node_id
        body = self.r.class_attribute(cls, "__call__" if instance else "__init__")
        fn = self.function(body.module, body.qualname) if isinstance(body, RFunc) else None
        ext_bases = self.r.external_bases(cls)
        return self._add(
            Node(
                id=node_id,
                name=f"{facts.name}()" if instance else facts.name,
                kind="instance" if instance else "class",
                module=cls.module,
                qualname=cls.qualname,
                file=self.file_of(cls.module),
                loc=facts.loc,
                is_async=(fn.is_async if fn is not None else False) if instance else False,
                is_generator=(fn.is_generator if fn is not None else False) if instance else False,
                is_security_scheme=any(known.is_security_scheme(b) for b in ext_bases),
                function=fn,
            )
        )

    def external_node(self, dotted: str, instance: bool) -> str:
        dotted = known.canonical_external(dotted)
        last = dotted.rsplit(".", 1)[-1]
        node_id = dotted + ("()" if instance else "")
        return self._add(
            Node(
                id=node_id,
                name=f"{last}()" if instance else last,
                kind="external",
                module=None,
                qualname=None,
                file=None,
                loc=None,
                is_async=None,
                is_generator=None,
                is_security_scheme=instance and known.is_security_scheme(dotted),
                external=dotted,
            )
        )

    def unknown_node(self, module: str, x: X) -> str:
        text = x_text(x)
        name = text.split("(")[0].rsplit(".", 1)[-1] if not isinstance(x, Opaque) else f"<{x.kind}>"
        if isinstance(x, Opaque) and x.kind == "lambda":
            name = "<lambda>"
        return self._add(
            Node(
                id=f"?{module}:{text}@{x.loc[0]}" if isinstance(x, Opaque) else f"?{module}:{text}",
                name=name,
                kind="unknown",
                module=module,
                qualname=None,
                file=self.file_of(module),
                loc=x.loc,
                is_async=None,
                is_generator=None,
            )
        )

    def callable_node(self, module: str, scope: str, x: X, hops: int = 0) -> str:
        """The node for what a `Depends(x)` target evaluates to."""
        if hops > MAX_HOPS:
            return self.unknown_node(module, x)
        if isinstance(x, Name):
            return self.node_from_target(self.resolve(module, scope, x.dotted), module, x, hops)
        if isinstance(x, Call) and isinstance(x.func, Name):
            callee = self.resolve(module, scope, x.func.dotted)
            if isinstance(callee, RExternal) and known.is_partial(callee.dotted) and x.args:
                inner = self.callable_node(module, scope, x.args[0], hops + 1)
                return self.partial_node(inner, len(x.args) - 1, {k for k, _ in x.kwargs if k})
            if isinstance(callee, RClass):
                return self.class_node(callee, instance=True)
            if isinstance(callee, RVar) and isinstance(callee.assign.value, Name):
                aliased = self.resolve(callee.module, callee.scope, callee.assign.value.dotted)
                if isinstance(aliased, RClass):
                    return self.class_node(aliased, instance=True)
            fn_ref = callee if isinstance(callee, RFunc) else (
                self.r.class_attribute(callee.cls, callee.attr) if isinstance(callee, RAttr) else None
            )
            if isinstance(fn_ref, RFunc):
                fn = self.function(fn_ref.module, fn_ref.qualname)
                if fn is not None:
                    wrapped = self._wrapped_argument(fn_ref.module, fn, x)
                    if wrapped is not None:  # a decorator factory: `@wraps(func)` keeps func's name and signature
                        target_id = self.callable_node(module, scope, wrapped[1], hops + 1)
                        if self.nodes[target_id].kind not in ("instance",):
                            return target_id
                        # an instance has no __qualname__ to copy: the wrapper keeps its name
                        return self.wrapper_node(fn_ref.module, wrapped[0], target_id)
                    for rv in fn.returns:
                        if isinstance(rv, (Name, Call)):
                            node_id = self.callable_node(fn_ref.module, fn.qualname, rv, hops + 1)
                            if not self.nodes[node_id].kind == "unknown":
                                return node_id
                return self.unknown_node(module, x)
            if isinstance(callee, RExternal):
                return self.external_node(callee.dotted, instance=True)
        return self.unknown_node(module, x)

    def wrapper_node(self, module: str, inner: Function, target_id: str) -> str:
        target = self.nodes[target_id]
        node_id = f"{module}.{inner.qualname}[{target_id}]"
        if node_id not in self.nodes:
            self.nodes[node_id] = Node(
                id=node_id, name=inner.name, kind="function", module=module, qualname=inner.qualname,
                file=self.file_of(module), loc=inner.loc, is_async=inner.is_async, is_generator=inner.is_generator,
                function=target.function,
            )
            self._wrappers[node_id] = target_id
            self._pending.append(node_id)
        return node_id

    def _wrapped_argument(self, module: str, factory: Function, call: Call) -> tuple[Function, X] | None:
        """For `factory(target)` returning an inner function decorated `@wraps(param)`: the
        argument passed for that parameter (FastAPI follows `__wrapped__`)."""
        for rv in factory.returns:
            if not isinstance(rv, Name) or "." in rv.dotted:
                continue
            inner = self.function(module, f"{factory.qualname}.<locals>.{rv.dotted}")
            if inner is None:
                continue
            for d in inner.decorators:
                if not (isinstance(d, Call) and isinstance(d.func, Name) and d.args and isinstance(d.args[0], Name)):
                    continue
                t = self.resolve(module, inner.parent, d.func.dotted)
                if not (isinstance(t, RExternal) and t.dotted == "functools.wraps"):
                    continue
                names = [p.name for p in factory.params]
                wrapped = d.args[0].dotted
                if wrapped in names:
                    index = names.index(wrapped)
                    arg = call.args[index] if index < len(call.args) else _kw(call, wrapped)
                    return (inner, arg) if arg is not None else None
        return None

    def node_from_target(self, t: Target, module: str, x: X, hops: int) -> str:
        if isinstance(t, RFunc):
            return self.function_node(t.module, t.qualname)
        if isinstance(t, RClass):
            return self.class_node(t, instance=False)
        if isinstance(t, RAttr):
            method = self.r.class_attribute(t.cls, t.attr)
            if isinstance(method, RFunc):
                return self.function_node(method.module, method.qualname, kind="method")
        if isinstance(t, RVar) and t.assign.value is not None and not isinstance(t.assign.value, (Lit, Opaque, Seq)):
            return self.callable_node(t.module, t.scope, t.assign.value, hops + 1)
        if isinstance(t, RExternal):
            return self.external_node(t.dotted, instance=False)
        return self.unknown_node(module, x)

    def partial_node(self, inner_id: str, bound_positional: int, bound_keywords: set[str]) -> str:
        inner = self.nodes[inner_id]
        node_id = f"partial({inner_id})" + (f"/{bound_positional}:{','.join(sorted(bound_keywords))}" if bound_keywords or bound_positional else "")
        if node_id in self.nodes:
            return node_id
        node = Node(
            id=node_id,
            name=inner.name,
            kind="partial",
            module=inner.module,
            qualname=inner.qualname,
            file=inner.file,
            loc=inner.loc,
            is_async=inner.is_async,
            is_generator=inner.is_generator,
            function=inner.function,
        )
        self.nodes[node_id] = node
        self._partials[node_id] = (inner_id, bound_positional, bound_keywords)
        self._pending.append(node_id)
        return node_id

    # -- signatures -------------------------------------------------------------------------------
    def signature(self, node: Node) -> tuple[str, str, list[Param]] | None:
        """(module, scope, params) FastAPI would read for a node."""
        if node.id in self._wrappers:  # inspect.signature follows __wrapped__
            return self.signature(self.nodes[self._wrappers[node.id]])
        if node.kind in ("function", "method") and node.function is not None and node.module:
            fn = node.function
            params = [p for p in fn.params if p.kind not in ("vararg", "varkw")]
            decorators = self.decorator_names(node.module, fn.parent, fn.decorators)
            if fn.class_name is not None and not any(d.endswith("staticmethod") for d in decorators):
                params = params[1:]
            return node.module, fn.parent, params
        if node.kind in ("class", "instance") and node.module and node.qualname:
            cls = RClass(node.module, node.qualname)
            if node.function is not None:
                fn_module = self._module_of_class_function(cls, node.function)
                params = [p for p in node.function.params if p.kind not in ("vararg", "varkw")][1:]
                return fn_module, node.function.parent, params
            if node.kind == "class":
                facts = self.r.class_facts(cls)
                fields: list[Param] = []
                for klass in reversed(self.r.mro(cls)):
                    kf = self.r.class_facts(klass)
                    if kf is not None:
                        fields.extend(kf.fields)
                if facts is not None and fields:
                    return node.module, facts.parent, fields
        if node.kind == "partial":
            inner_id, positional, keywords = self._partials[node.id]
            inner = self.signature(self.nodes[inner_id])
            if inner is None:
                return None
            module, scope, params = inner
            params = [p for p in params[positional:] if p.name not in keywords]
            return module, scope, params
        return None

    def _module_of_class_function(self, cls: RClass, fn: Function) -> str:
        for klass in self.r.mro(cls):
            facts = self.modules[klass.module]
            if facts.functions.get(fn.qualname) is fn:
                return klass.module
        return cls.module

    def param_edges(self, module: str, scope: str, params: list[Param], origin: str = "param") -> list[Edge]:
        edges: list[Edge] = []
        file = self.file_of(module)
        for p in params:
            base, ann_marker, is_param = self.analyze_annotation(module, scope, p.annotation)
            default_marker = self.marker(module, scope, p.default)
            m = default_marker or (None if is_param else ann_marker)
            if m is None:
                continue
            if m.target is not None:
                target, tmod, tscope = m.target, m.module, m.scope
            elif base is not None:
                target, tmod, tscope = base
            else:
                continue
            node_id = self.callable_node(tmod, tscope, target)
            loc = m.loc if (m.module == module and default_marker is m) or (m.module == module and m.loc[0] >= p.loc[0]) else p.loc
            edges.append(self._edge(node_id, m, file, loc, origin, p.name, target))
        return edges

    def _edge(self, node_id: str, m: Marker, file: str, loc: Loc, origin: str, param: str | None, target: X | None) -> Edge:
        return Edge(
            target=node_id,
            marker=m.kind,
            use_cache=m.use_cache,
            scope=m.dep_scope,
            scopes=m.scopes,
            file=file,
            loc=loc,
            origin=origin,
            param=param,
            text=m.text,
            target_loc=target.loc if target is not None else None,
            called_target=isinstance(target, Call),
            target_call=(m.module, m.scope, target) if isinstance(target, Call) and target is m.target else None,
        )

    def list_edges(self, module: str, scope: str, x: X | None, origin: str) -> tuple[list[Edge], bool]:
        """`dependencies=[Depends(a), Security(b)]`, also through a constant:
        `AUTH = [Depends(a)]` ... `dependencies=AUTH`. The flag says the value is given but is
        not a list we can read (a function parameter, a call): it may carry anything, auth
        included."""
        for _ in range(MAX_HOPS):
            if not isinstance(x, Name):
                break
            t = self.resolve(module, scope, x.dotted)
            if not isinstance(t, RVar) or t.assign.value is None:
                return [], True
            module, scope, x = t.module, t.scope, t.assign.value
        if not isinstance(x, Seq):
            return [], x is not None
        edges: list[Edge] = []
        for item in x.items:
            m = self.marker(module, scope, item)
            if m is None or m.target is None:
                continue
            node_id = self.callable_node(m.module, m.scope, m.target)
            edges.append(self._edge(node_id, m, self.file_of(module), m.loc if m.module == module else item.loc, origin, None, m.target))
        return edges, False

    def drain(self) -> None:
        """Compute the edges of every node created so far (and of the nodes they create)."""
        while self._pending:
            node_id = self._pending.pop()
            node = self.nodes[node_id]
            sig = self.signature(node)
            if sig is not None:
                module, scope, params = sig
                node.edges = self.param_edges(module, scope, params)

    # -- routers ----------------------------------------------------------------------------------
    def router_kind(self, module: str, scope: str, call: Call) -> tuple[str, str] | None:
        """("app" | "router", class) when `call` makes an app or a router. Asked of every
        module-level call, so it first answers from the modules already parsed; a deferred
        module (one the pre-scan found no FastAPI name in) is parsed only when the called name
        could be a router class: it ends in `Router`, is `FastAPI`, or names a parsed class
        that derives from one (measured: litellm parsed 395 modules for this, now a few)."""
        if not isinstance(call.func, Name):
            return None
        facts = self.modules.get(module)
        if facts is not None and not self._router_class_name(self._defined_name(facts, scope, call.func.dotted)):
            return None  # cannot be a router class: not worth resolving (most calls are not)
        with self.r.parsed_only() as blocked:  # the base classes too
            kind = self._router_kind(self.r.resolve(module, scope, call.func.dotted))
        if not blocked:
            return kind
        if not self._router_class_name(call.func.dotted.rsplit(".", 1)[-1]):
            return None
        return self._router_kind(self.resolve(module, scope, call.func.dotted))

    def _defined_name(self, facts: ModuleFacts, scope: str, dotted: str) -> str:
        """The name a class is defined under, by the text of a reference to it: the last part
        of `a.b.C`, or the imported name behind an alias (`from fastapi import FastAPI as F`)."""
        head, _, rest = dotted.partition(".")
        if rest:
            return rest.rsplit(".", 1)[-1]
        for s in self.r.scope_chain(facts, scope):
            imported = facts.imports.get(s, {}).get(head)
            if imported is not None:
                return imported.attr or head
        return head

    def _router_class_name(self, name: str) -> bool:
        """Can a class of this name make an app or a router: `FastAPI`, a name ending in
        `Router`, or a parsed class deriving (through parsed classes) from one of those."""
        if self._router_classes is None:
            found = {"FastAPI"}
            classes = [
                (c, [self._defined_name(facts, c.parent, b.dotted) for b in c.bases if isinstance(b, Name)])
                for facts in self.modules.values()
                for c in facts.classes.values()
                if c.bases
            ]
            grew = True
            while grew:
                grew = False
                for c, bases in classes:
                    if c.name not in found and any(b.endswith("Router") or b in found for b in bases):
                        found.add(c.name)
                        grew = True
            self._router_classes = found
        return name.endswith("Router") or name in self._router_classes

    def _router_kind(self, t: Target) -> tuple[str, str] | None:
        if isinstance(t, RExternal):
            kind = known.app_kind(t.dotted)
            if kind is None and t.dotted.rsplit(".", 1)[-1].endswith("Router") and not t.dotted.startswith("starlette."):
                kind = "router"  # a third-party APIRouter subclass (cadwyn's VersionedAPIRouter, ...)
            return (kind, t.dotted) if kind else None
        if isinstance(t, RClass):
            for base in self.r.external_bases(t):
                kind = known.app_kind(base)
                if kind:
                    return kind, f"{t.module}.{t.qualname}"
        return None

    def find_routers(self) -> None:
        for module, facts in list(self.modules.items()):  # deferred modules join while linking
            for scope, names in facts.assigns.items():
                if scope in facts.classes:
                    continue
                for name, assigns in names.items():
                    for a in assigns:
                        if not isinstance(a.value, Call):
                            continue
                        kind = self.router_kind(module, scope, a.value)
                        if kind is None:
                            continue
                        router_id = f"{module}:{scope}:{name}"
                        origin = "app" if kind[0] == "app" else "router"
                        edges, opaque = self.list_edges(module, scope, _kw(a.value, "dependencies"), origin)
                        self.routers[router_id] = Router(
                            id=router_id,
                            kind=kind[0],
                            module=module,
                            name=name,
                            file=facts.path,
                            loc=a.loc,
                            prefix=_lit_str(_kw(a.value, "prefix")) or "",
                            edges=edges,
                            class_name=kind[1],
                            opaque_dependencies=opaque,
                        )

    def router_of(self, module: str, scope: str, x: X | None, hops: int = 0) -> str | None:
        if x is None or hops > MAX_HOPS:
            return None
        if isinstance(x, Name):
            if x.dotted.endswith(".router"):  # `app.router` is the app's own router
                inner = self.router_of(module, scope, Name(x.dotted[: -len(".router")], x.loc), hops + 1)
                if inner is not None and self.routers[inner].kind == "app":
                    return inner
            t = self.resolve(module, scope, x.dotted)
            if isinstance(t, RVar):
                router_id = f"{t.module}:{t.scope}:{t.assign.name}"
                if router_id in self.routers:
                    return router_id
                if t.assign.value is not None and t.assign.value is not x:
                    return self.router_of(t.module, t.scope, t.assign.value, hops + 1)
            return None
        if isinstance(x, Call) and isinstance(x.func, Name):
            t = self.resolve(module, scope, x.func.dotted)
            if isinstance(t, RFunc):
                fn = self.function(t.module, t.qualname)
                if fn is not None:
                    for rv in fn.returns:
                        found = self.router_of(t.module, fn.qualname, rv, hops + 1)
                        if found is not None:
                            return found
        return None

    def unknown_router(self, module: str, scope: str, owner: Name) -> str:
        router_id = f"?{module}:{scope}:{owner.dotted}"
        if router_id not in self.routers:
            self.routers[router_id] = Router(router_id, "unknown", module, owner.dotted, self.file_of(module), owner.loc, "", [])
        return router_id

    # -- routes -----------------------------------------------------------------------------------
    def _route_from_call(
        self, module: str, scope: str, call: Call, method_name: str, endpoint_x: X | None, fn: Function | None, index: int
    ) -> None:
        owner = call.func.dotted.rsplit(".", 1)[0] if isinstance(call.func, Name) else None
        if owner is None:
            return
        owner_x = Name(owner, call.func.loc)
        router_id = self.router_of(module, scope, owner_x)
        path_x = call.args[0] if call.args else _kw(call, "path")
        if router_id is None:
            if not isinstance(path_x, Lit) and not (isinstance(path_x, Opaque) and path_x.kind == "fstring"):
                return
            if isinstance(path_x, Lit) and not _looks_routed(path_x.value, owner):
                return  # `@mock.patch("pkg.mod")`
            if isinstance(self.resolve(module, scope, owner.split(".")[0]), (RFunc, RClass, RModule)):
                return
            router_id = self.unknown_router(module, scope, owner_x)
        endpoint_module = module
        if fn is None:
            # add_api_route(path, endpoint) / X.get(path)(endpoint)
            t = self.resolve_x(module, scope, endpoint_x)
            if not isinstance(t, RFunc):
                return
            endpoint_module, fn = t.module, self.function(t.module, t.qualname)
            if fn is None:
                return
        if method_name in ("add_api_route",):
            methods_x = _kw(call, "methods")
            methods = [str(i.value).upper() for i in methods_x.items if isinstance(i, Lit)] if isinstance(methods_x, Seq) else ["GET"]
        elif method_name in ("add_api_websocket_route", "websocket"):
            methods = ["WEBSOCKET"]
        elif method_name == "api_route":
            methods_x = _kw(call, "methods")
            methods = [str(i.value).upper() for i in methods_x.items if isinstance(i, Lit)] if isinstance(methods_x, Seq) else ["GET"]
        else:
            methods = [known.ROUTE_METHODS[method_name] or "GET"]
        path = _lit_str(path_x)
        if path is None:
            path = "{?}"
        endpoint_id = self.function_node(endpoint_module, fn.qualname)
        decorator_edges, opaque = self.list_edges(module, scope, _kw(call, "dependencies"), "decorator")
        self.routes.append(
            Route(
                endpoint=endpoint_id,
                module=endpoint_module,
                qualname=fn.qualname,
                file=self.file_of(endpoint_module),
                loc=call.loc,
                def_loc=fn.loc,
                methods=methods,
                path=path,
                router=router_id,
                is_async=fn.is_async,
                is_websocket=methods == ["WEBSOCKET"],
                decorator_edges=decorator_edges,
                param_edges=[],
                function=fn,
                decorator_index=index,
                opaque_dependencies=opaque,
            )
        )

    def find_routes(self) -> None:
        for module, facts in list(self.modules.items()):
            for fn in facts.functions.values():
                for index, d in enumerate(fn.decorators):
                    if isinstance(d, Call) and isinstance(d.func, Name) and "." in d.func.dotted:
                        method = d.func.dotted.rsplit(".", 1)[1]
                        if method in known.ROUTE_METHODS:
                            self._route_from_call(module, fn.parent, d, method, None, fn, index)
            for sc in facts.scope_calls:
                if sc.method in ("add_api_route", "add_api_websocket_route"):
                    endpoint = sc.call.args[1] if len(sc.call.args) > 1 else _kw(sc.call, "endpoint")
                    self._route_from_call(module, sc.scope, sc.call, sc.method, endpoint, None, -1)
                elif sc.method in known.ROUTE_METHODS and sc.decorated is not None:
                    self._route_from_call(module, sc.scope, sc.call, sc.method, sc.decorated, None, -1)
                elif sc.method == "include_router":
                    self._include(module, sc.scope, sc.call)

    def _include(self, module: str, scope: str, call: Call) -> None:
        if not isinstance(call.func, Name):
            return
        parent = self.router_of(module, scope, Name(call.func.dotted.rsplit(".", 1)[0], call.func.loc))
        child_x = call.args[0] if call.args else _kw(call, "router")
        child = self.router_of(module, scope, child_x)
        if parent is None or child is None or parent == child:
            return
        edges, opaque = self.list_edges(module, scope, _kw(call, "dependencies"), "include")
        self.includes.append(
            Include(
                parent=parent,
                child=child,
                prefix=_lit_str(_kw(call, "prefix")) or "",
                edges=edges,
                file=self.file_of(module),
                loc=call.loc,
                opaque_dependencies=opaque,
            )
        )

    def compute_mounts(self) -> None:
        parents: dict[str, list[Include]] = {}
        for inc in self.includes:
            parents.setdefault(inc.child, []).append(inc)
        for route in self.routes:
            router = self.routers.get(route.router) if route.router else None
            if router is None:
                route.mounts = [Mount(route.path, [], list(route.decorator_edges), route.opaque_dependencies)]
                continue
            start = Mount(
                router.prefix + route.path,
                [router.id],
                [*router.edges, *route.decorator_edges],
                route.opaque_dependencies or router.opaque_dependencies,
            )
            stack: list[Mount] = [start]
            while stack and len(route.mounts) < MAX_MOUNTS:
                mount = stack.pop()
                top = mount.chain[0]
                ups = [inc for inc in parents.get(top, []) if inc.parent not in mount.chain]
                if not ups:
                    route.mounts.append(mount)
                    continue
                for inc in ups:
                    p = self.routers[inc.parent]
                    stack.append(
                        Mount(
                            p.prefix + inc.prefix + mount.path,
                            [p.id, *mount.chain],
                            [*p.edges, *inc.edges, *mount.edges],
                            mount.opaque or p.opaque_dependencies or inc.opaque_dependencies,
                        )
                    )

    # -- entry ------------------------------------------------------------------------------------
    def build(self) -> ProjectGraph:
        self._partials: dict[str, tuple[str, int, set[str]]] = {}
        self._wrappers: dict[str, str] = {}
        self.find_routers()
        self.find_routes()
        self.drain()  # endpoints are nodes too: their parameter edges are the routes' own
        for route in self.routes:
            route.param_edges = self.nodes[route.endpoint].edges
        self.compute_mounts()
        files = {facts.path: facts for facts in list(self.modules.values())}
        return ProjectGraph(self.modules, files, self.nodes, self.routers, self.includes, self.routes, self.r)


def link(modules: dict[str, ModuleFacts], deferred: dict[str, tuple[str, Loader]] | None = None) -> ProjectGraph:
    return Linker(modules, deferred).build()
