"""One pass over a module's `ast` that produces its `ModuleFacts`.

Statements are walked by hand (module, class and function bodies); expressions are only
converted where later stages need them (signatures, decorators, assignments, returns,
routing calls) and scanned iteratively inside function bodies for the call-level facts the
rules use. No generic `NodeVisitor`: the module and class levels are cheap, and the
iterative scan cannot blow the recursion limit on deep expressions.
"""

from __future__ import annotations

import ast

from .expr import callee_text, dotted_name, loc_of, parse_string_annotation, to_x
from .model import (
    Assign,
    CallSite,
    Class,
    Function,
    Import,
    ModuleFacts,
    Param,
    ScopeCall,
    X,
)

ROUTING_METHODS = frozenset(
    {
        "include_router",
        "add_api_route",
        "add_api_websocket_route",
        "get",
        "post",
        "put",
        "delete",
        "patch",
        "options",
        "head",
        "trace",
        "api_route",
        "websocket",
    }
)
THREAD_WRAPPERS = frozenset({"run_in_threadpool", "to_thread", "run_sync", "run_in_executor", "iterate_in_threadpool"})
AUTH_STATUS = frozenset({401, 403})
AUTH_STATUS_NAMES = ("HTTP_401", "HTTP_403")


def resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """Absolute module name of `from <level dots><target> import ...` inside `module`."""
    if level == 0:
        return target or ""
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if target:
        parts.append(target)
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    name = dotted_name(test)
    return name is not None and name.split(".")[-1] == "TYPE_CHECKING"


def _status_is_auth(node: ast.expr | None) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant) and node.value in AUTH_STATUS:
        return True
    name = dotted_name(node)
    return name is not None and name.split(".")[-1].startswith(AUTH_STATUS_NAMES)


def _raise_is_auth(exc: ast.expr | None) -> bool:
    """`raise HTTPException(status_code=401)`, `raise HTTPException(status.HTTP_403_...)`,
    `raise credentials_exception` style names are handled by the caller."""
    if not isinstance(exc, ast.Call):
        return False
    for kw in exc.keywords:
        if kw.arg == "status_code" and _status_is_auth(kw.value):
            return True
    return bool(exc.args) and _status_is_auth(exc.args[0])


class Extractor:
    def __init__(self, module: str, path: str, is_package: bool) -> None:
        self.facts = ModuleFacts(module=module, path=path, is_package=is_package)

    # -- entry --------------------------------------------------------------------------
    def run(self, tree: ast.Module) -> ModuleFacts:
        self._stmts(tree.body, scope="", fn=None, cls=None, tc=False)
        return self.facts

    # -- statements ---------------------------------------------------------------------
    def _stmts(self, body: list[ast.stmt], scope: str, fn: Function | None, cls: Class | None, tc: bool) -> None:
        for stmt in body:
            self._stmt(stmt, scope, fn, cls, tc)

    def _stmt(self, stmt: ast.stmt, scope: str, fn: Function | None, cls: Class | None, tc: bool) -> None:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._function(stmt, scope, fn, cls)
        elif isinstance(stmt, ast.ClassDef):
            self._class(stmt, scope, fn, cls)
        elif isinstance(stmt, ast.Import):
            imports = self.facts.imports.setdefault(scope, {})
            for alias in stmt.names:
                if alias.asname:
                    imports[alias.asname] = Import(alias.name, None, loc_of(stmt), tc)
                else:
                    head = alias.name.split(".")[0]
                    imports[head] = Import(head, None, loc_of(stmt), tc)
                    if "." in alias.name:  # `import a.b` also makes `a.b` reachable
                        imports.setdefault(f"<sub>{alias.name}", Import(alias.name, None, loc_of(stmt), tc))
        elif isinstance(stmt, ast.ImportFrom):
            base = resolve_relative(self.facts.module, self.facts.is_package, stmt.level, stmt.module)
            imports = self.facts.imports.setdefault(scope, {})
            for alias in stmt.names:
                if alias.name == "*":
                    self.facts.star_imports.append(base)
                    continue
                imports[alias.asname or alias.name] = Import(base, alias.name, loc_of(stmt), tc)
        elif isinstance(stmt, ast.Assign):
            value = to_x(stmt.value)
            for target in stmt.targets:
                self._bind_target(target, value, None, scope, fn, stmt)
            if fn is not None:
                self._scan(stmt.value, fn)
            else:
                self._maybe_scope_call(stmt.value, scope)
        elif isinstance(stmt, ast.AnnAssign):
            value = to_x(stmt.value) if stmt.value is not None else None
            annotation = self._annotation(stmt.annotation)
            if cls is not None and fn is None and isinstance(stmt.target, ast.Name):
                cls.fields.append(Param(stmt.target.id, "kwonly", annotation, value, loc_of(stmt)))
            self._bind_target(stmt.target, value, annotation, scope, fn, stmt)
            if fn is not None and stmt.value is not None:
                self._scan(stmt.value, fn)
        elif isinstance(stmt, ast.AugAssign):
            if fn is not None:
                target = stmt.target
                root: ast.expr = target
                while isinstance(root, (ast.Attribute, ast.Subscript)):
                    root = root.value
                if isinstance(root, ast.Name):
                    fn.mutations.append((root.id, loc_of(stmt), "augmented assignment"))
                self._scan(stmt.value, fn)
                if not isinstance(target, ast.Name):
                    self._scan(target, fn)
        elif isinstance(stmt, ast.Expr):
            if fn is not None:
                self._scan(stmt.value, fn)
            self._maybe_scope_call(stmt.value, scope)
        elif isinstance(stmt, ast.Return):
            if fn is not None:
                if stmt.value is not None:
                    fn.returns.append(to_x(stmt.value))  # type: ignore[arg-type]
                    self._scan(stmt.value, fn)
        elif isinstance(stmt, ast.If):
            if fn is not None:
                self._scan(stmt.test, fn)
            self._stmts(stmt.body, scope, fn, cls, tc or _is_type_checking(stmt.test))
            self._stmts(stmt.orelse, scope, fn, cls, tc)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            if fn is not None:
                self._scan(stmt.iter, fn)
                self._scan(stmt.target, fn)
            self._stmts(stmt.body, scope, fn, cls, tc)
            self._stmts(stmt.orelse, scope, fn, cls, tc)
        elif isinstance(stmt, ast.While):
            if fn is not None:
                self._scan(stmt.test, fn)
            self._stmts(stmt.body, scope, fn, cls, tc)
            self._stmts(stmt.orelse, scope, fn, cls, tc)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            if fn is not None:
                for item in stmt.items:
                    self._scan(item.context_expr, fn, in_with=True)
                    if item.optional_vars is not None:
                        self._bind_target(item.optional_vars, None, None, scope, fn, stmt)
            self._stmts(stmt.body, scope, fn, cls, tc)
        elif isinstance(stmt, (ast.Try, ast.TryStar)):
            if fn is not None and stmt.finalbody:
                fn.has_finally = True
            self._stmts(stmt.body, scope, fn, cls, tc)
            for handler in stmt.handlers:
                if fn is not None and handler.type is not None:
                    self._scan(handler.type, fn)
                self._stmts(handler.body, scope, fn, cls, tc)
            self._stmts(stmt.orelse, scope, fn, cls, tc)
            self._stmts(stmt.finalbody, scope, fn, cls, tc)
        elif isinstance(stmt, ast.Match):
            if fn is not None:
                self._scan(stmt.subject, fn)
            for case in stmt.cases:
                self._stmts(case.body, scope, fn, cls, tc)
        elif isinstance(stmt, ast.Global):
            if fn is not None:
                fn.global_names.extend(stmt.names)
        elif isinstance(stmt, ast.Raise):
            if fn is not None:
                if _raise_is_auth(stmt.exc):
                    fn.raises_auth_error = True
                if stmt.exc is not None:
                    self._scan(stmt.exc, fn)
        elif stmt.__class__.__name__ == "TypeAlias":  # PEP 695 `type X = ...` (3.12+)
            name = getattr(stmt, "name", None)
            if isinstance(name, ast.Name):
                value = self._annotation(stmt.value)  # type: ignore[attr-defined]
                self.facts.assigns.setdefault(scope, {}).setdefault(name.id, []).append(
                    Assign(name.id, value, None, loc_of(stmt), is_type_alias=True)
                )
        elif fn is not None:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self._scan(child, fn)

    def _bind_target(
        self, target: ast.expr, value: X | None, annotation: X | None, scope: str, fn: Function | None, stmt: ast.stmt
    ) -> None:
        if isinstance(target, ast.Name):
            self.facts.assigns.setdefault(scope, {}).setdefault(target.id, []).append(
                Assign(target.id, value, annotation, loc_of(stmt))
            )
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._bind_target(elt.value if isinstance(elt, ast.Starred) else elt, None, None, scope, fn, stmt)
        elif fn is not None and isinstance(target, (ast.Subscript, ast.Attribute)):
            base = target.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                how = "item assignment" if isinstance(target, ast.Subscript) else "attribute assignment"
                fn.mutations.append((base.id, loc_of(stmt), how))
            self._scan(target, fn)

    def _maybe_scope_call(self, node: ast.expr, scope: str) -> None:
        """Record `X.include_router(...)`, `X.add_api_route(...)`, `X.get(...)(f)`."""
        if not isinstance(node, ast.Call):
            return
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ROUTING_METHODS:
            if func.attr in ("include_router", "add_api_route", "add_api_websocket_route"):
                call = to_x(node)
                self.facts.scope_calls.append(ScopeCall(scope, call, func.attr))  # type: ignore[arg-type]
        elif isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr in ROUTING_METHODS:
            if node.args:
                call = to_x(func)
                self.facts.scope_calls.append(
                    ScopeCall(scope, call, func.func.attr, decorated=to_x(node.args[0]))  # type: ignore[arg-type]
                )

    # -- definitions ----------------------------------------------------------------------
    def _qual(self, scope: str, fn: Function | None, cls: Class | None, name: str) -> str:
        if cls is not None and fn is None:
            return f"{cls.qualname}.{name}"
        if fn is not None:
            return f"{fn.qualname}.<locals>.{name}"
        return name

    def _annotation(self, node: ast.expr | None) -> X | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return parse_string_annotation(node.value, loc_of(node))
        return to_x(node)

    def _params(self, args: ast.arguments) -> list[Param]:
        params: list[Param] = []
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        for i, (arg, default) in enumerate(zip(positional, defaults)):
            kind = "posonly" if i < len(args.posonlyargs) else "pos"
            params.append(Param(arg.arg, kind, self._annotation(arg.annotation), to_x(default), loc_of(arg)))
        if args.vararg is not None:
            params.append(Param(args.vararg.arg, "vararg", None, None, loc_of(args.vararg)))
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            params.append(Param(arg.arg, "kwonly", self._annotation(arg.annotation), to_x(default), loc_of(arg)))
        if args.kwarg is not None:
            params.append(Param(args.kwarg.arg, "varkw", None, None, loc_of(args.kwarg)))
        return params

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str, fn: Function | None, cls: Class | None) -> None:
        qualname = self._qual(scope, fn, cls, node.name)
        loc = loc_of(node)
        def_line = node.lineno
        function = Function(
            qualname=qualname,
            name=node.name,
            loc=(def_line, node.col_offset, loc[2], loc[3]),
            is_async=isinstance(node, ast.AsyncFunctionDef),
            is_generator=False,
            decorators=[x for x in (to_x(d) for d in node.decorator_list) if x is not None],
            params=self._params(node.args),
            returns=[],
            yields=[],
            parent=(cls.qualname if cls is not None and fn is None else (fn.qualname if fn else "")),
            class_name=cls.name if cls is not None and fn is None else None,
            returns_annotation=self._annotation(node.returns),
        )
        if cls is not None and fn is None:
            cls.methods.append(node.name)
        if fn is not None:
            for d in node.decorator_list:
                self._scan(d, fn)
        self.facts.functions[qualname] = function
        self._stmts(node.body, qualname, function, None, False)
        function.is_generator = bool(function.yields)

    def _class(self, node: ast.ClassDef, scope: str, fn: Function | None, cls: Class | None) -> None:
        qualname = self._qual(scope, fn, cls, node.name)
        klass = Class(
            qualname=qualname,
            name=node.name,
            loc=loc_of(node),
            bases=[x for x in (to_x(b) for b in node.bases) if x is not None],
            decorators=[x for x in (to_x(d) for d in node.decorator_list) if x is not None],
            parent=(fn.qualname if fn else (cls.qualname if cls else "")),
            methods=[],
            fields=[],
        )
        self.facts.classes[qualname] = klass
        if fn is not None:
            self.facts.assigns.setdefault(scope, {}).setdefault(node.name, []).append(
                Assign(node.name, None, None, loc_of(node))
            )
        self._stmts(node.body, qualname, None, klass, False)

    # -- expressions inside function bodies ----------------------------------------------------
    def _scan(self, root: ast.expr, fn: Function, in_with: bool = False) -> None:
        """Record calls, name loads, yields and awaits of one expression, iteratively."""
        calls, loads = fn.calls, fn.loads
        stack: list[tuple[ast.AST, bool, bool]] = [(root, False, False)]
        pop, push = stack.pop, stack.append
        while stack:
            node, awaited, in_thread = pop()
            cls = node.__class__
            if cls is ast.Name:
                loads.add(node.id)  # type: ignore[attr-defined]
            elif cls is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                dotted = dotted_name(func)
                callee = dotted if dotted is not None else callee_text(func)
                args = node.args  # type: ignore[attr-defined]
                keywords = node.keywords  # type: ignore[attr-defined]
                names = [a.id for a in args if a.__class__ is ast.Name]
                for k in keywords:
                    if k.value.__class__ is ast.Name:
                        names.append(k.value.id)
                calls.append(CallSite(callee, loc_of(node), awaited, in_with, tuple(names), in_thread))
                wraps = in_thread or callee.rpartition(".")[2] in THREAD_WRAPPERS
                if dotted is not None:  # a name chain holds no calls: its head is all it loads
                    loads.add(dotted.partition(".")[0])
                else:
                    push((func, False, in_thread))
                for a in args:
                    push((a, False, wraps))
                for k in keywords:
                    push((k.value, False, wraps))
            elif cls is ast.Attribute:
                push((node.value, False, in_thread))  # type: ignore[attr-defined]
            elif cls is ast.Constant:
                continue
            elif cls is ast.Await:
                push((node.value, True, in_thread))  # type: ignore[attr-defined]
            elif cls is ast.Yield or cls is ast.YieldFrom:
                fn.yields.append(loc_of(node))
                if node.value is not None:  # type: ignore[attr-defined]
                    push((node.value, False, in_thread))  # type: ignore[attr-defined]
            else:
                for name in _EXPR_FIELDS.get(cls) or _expr_fields(cls):
                    value = getattr(node, name, None)
                    if value is None:
                        continue
                    if isinstance(value, list):
                        for item in value:
                            if isinstance(item, ast.AST):
                                push((item, False, in_thread))
                    elif isinstance(value, ast.AST):
                        push((value, False, in_thread))


_EXPR_FIELDS: dict[type, tuple[str, ...]] = {}


def _expr_fields(cls: type) -> tuple[str, ...]:
    """Child fields of an expression node type that can hold further nodes."""
    fields = tuple(f for f in getattr(cls, "_fields", ()) if f not in ("ctx", "op", "ops"))
    _EXPR_FIELDS[cls] = fields
    return fields


def extract(tree: ast.Module, module: str, path: str, is_package: bool) -> ModuleFacts:
    return Extractor(module, path, is_package).run(tree)

