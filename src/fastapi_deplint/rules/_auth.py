"""What counts as an *auth dependency* and where a route gets its protection (FDL501/FDL502).

A node is an auth dependency when its dependency sub-graph (itself and everything reachable
through `Depends`/`Security` edges) contains:
- a `fastapi.security` scheme instance (`OAuth2PasswordBearer(...)`, `HTTPBasic()`, or a
  project subclass of one);
- a `Security(...)` marker (as strong evidence only with `scopes=` read by a
  `SecurityScopes` parameter below it);
- a project callable that raises `HTTPException` with 401/403 — directly, through a name
  assigned such an exception in the function or module (`raise credentials_exception`), or
  one project-function call deep — or an exception named like `Unauthorized`/`Forbidden`;
- a name listed in `auth-dependencies` (matched against the short name, qualname, id or
  external dotted name, also as a dotted suffix; decorators too);
- a third-party auth helper recognised by name or package (`current_user`,
  `current_active_user` of fastapi-users, nodes from `fastapi_users`, `fastapi_login`,
  `fief`, `authx`, `supertokens_python`...);
- a decorator `login_required`/`requires_auth`/... or Starlette's `@requires(...)`.

Weak evidence (`AuthIndex(weak=True)`) is only used to find a route *protected*, never to
call a router "mixed": a *token guard* (a project callable taking a token/key-like
parameter — `x_token`, `api_key`, `authorization` — that raises `HTTPException` of any
status: FastAPI's "bigger applications" tutorial answers 400 to a bad `X-Token`), a check
in the endpoint's own body, any `Security(...)`, and dependencies or decorators whose name
looks like auth (`verify_key`, `check_permissions`, `RoleChecker`...).
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable

from ..config import Config
from ..facts.model import Call, Function, Lit, Name, X
from ..facts.text import function_text_matches
from ..graph.model import Edge, Mount, Node, ProjectGraph, Route
from ..graph.resolve import RClass, RExternal
from ._resources import external_of, project_function

HTTP_EXCEPTIONS = frozenset(
    {
        "fastapi.HTTPException",
        "fastapi.exceptions.HTTPException",
        "starlette.exceptions.HTTPException",
    }
)
AUTH_PACKAGES = (
    "fastapi_users",
    "fastapi_login",
    "fastapi_jwt_auth",
    "fastapi_jwt",
    "fastapi_auth0",
    "fastapi_azure_auth",
    "fastapi_cloudauth",
    "fastapi_keycloak",
    "fief",
    "fief_client",
    "authx",
    "propelauth_fastapi",
    "supertokens_python",
    "firebase_admin.auth",
)
AUTH_NAME = re.compile(
    r"^(get_)?(current_(active_|verified_|super)?(user|superuser|admin)|current_user_\w+|"
    r"authenticated(_user)?|require_(auth|login|user|admin|superuser)|requires_(auth|login)|"
    r"login_required|auth_required|verify_session|verify_token|verify_jwt|jwt_required)$"
)
# names that make a dependency or decorator *look* like auth: weak evidence, only ever used
# to keep a route quiet (a route guarded by something we cannot see into)
WEAK_NAME = re.compile(
    r"auth(?!or)|token|login|logged_?in|permission|perms?_|_perms?\b|roles?\b|roles?_|role_?check|guard|protect|verif|"
    r"credential|api_?key|principal|jwt|bearer|secur|require|(current|active|authenticated|valid|verified)_?user",
    re.IGNORECASE,
)
STRONG_DECORATOR = re.compile(
    r"^(login_required|auth_required|requires?_(auth|login|user|admin|role|roles|permission|permissions|scopes?)|"
    r"jwt_required|authenticated|permission_required|roles?_required)$"
)
# exceptions whose name says "not authenticated / not allowed" (project HTTPException subclasses)
AUTH_EXCEPTION = re.compile(
    r"unauthori[sz]ed|unauthenticated|notauthenticated|forbidden|permissiondenied|notallowed|"
    r"autherror|authenticationerror|authorizationerror|invalidtoken|invalidcredentials|credentials_?exception",
    re.IGNORECASE,
)
# what the text of a function that raises an auth error contains (see `facts.text`)
_AUTH_TEXT = re.compile(rb"40[13]|" + AUTH_EXCEPTION.pattern.encode(), re.IGNORECASE)
_AUTH_TEXT_WEAK = re.compile(_AUTH_TEXT.pattern + rb"|HTTPException", re.IGNORECASE)
TOKEN_PARAM = re.compile(r"token|api_?key|apikey|authorization|credential|secret|password|passwd|bearer|jwt", re.IGNORECASE)


def _status_is_auth(x: X | None) -> bool:
    if isinstance(x, Lit):
        return x.value in (401, 403)
    if isinstance(x, Name):
        return x.dotted.rsplit(".", 1)[-1].startswith(("HTTP_401", "HTTP_403"))
    return False


def _is_auth_exception_call(x: X | None) -> bool:
    """`HTTPException(status_code=401, ...)` as an expression tree."""
    if not isinstance(x, Call):
        return False
    for key, value in x.kwargs:
        if key == "status_code" and _status_is_auth(value):
            return True
    return bool(x.args) and _status_is_auth(x.args[0])


def _name_matches(patterns: list[str], *names: str | None) -> bool:
    for name in names:
        if not name:
            continue
        bare = name.removesuffix("()")
        for p in patterns:
            if bare == p or bare.endswith("." + p) or bare.rsplit(".", 1)[-1] == p:
                return True
    return False


class AuthIndex:
    def __init__(self, graph: ProjectGraph, config: Config, weak: bool = False) -> None:
        self.graph = graph
        self.config = config
        self.weak = weak  # also accept token guards (see the module docstring)
        self._direct: dict[str, bool] = {}
        self._closure: dict[str, str | None] = {}
        self._fn_auth: dict[tuple[str, str], bool] = {}

    # -- functions ---------------------------------------------------------------------------
    def function_is_auth(self, module: str, fn: Function, depth: int = 0) -> bool:
        """Raises 401/403 (or a token guard's HTTPException), directly or one call deep."""
        key = (module, fn.qualname)
        if key in self._fn_auth:
            return self._fn_auth[key]
        self._fn_auth[key] = False  # re-entrancy guard
        result = (
            fn.raises_auth_error
            or self._raises_named_auth_exception(module, fn)
            or any(AUTH_EXCEPTION.search(c.callee.rsplit(".", 1)[-1]) for c in fn.calls if c.callee)
            or any(AUTH_EXCEPTION.search(name) and name[:1].isupper() for name in fn.loads)
            or (self.weak and self._token_guard(module, fn))
        )
        if not result and depth == 0:
            for call in fn.calls:
                test = function_text_matches(call.callee, _AUTH_TEXT_WEAK if self.weak else _AUTH_TEXT)
                found = project_function(self.graph, module, fn.qualname, call.callee, test)
                if found is not None and found[1] is not fn and self.function_is_auth(found[0], found[1], depth + 1):
                    result = True
                    break
        self._fn_auth[key] = result
        return result

    def _raises_named_auth_exception(self, module: str, fn: Function) -> bool:
        """`raise credentials_exception` where that name holds an `HTTPException(401)`."""
        facts = self.graph.modules.get(module)
        if facts is None:
            return False
        for name in fn.loads:
            for scope in (fn.qualname, ""):
                assigns = facts.scope_assigns(scope).get(name)
                if assigns and any(_is_auth_exception_call(a.value) and self._is_http_exception(module, scope, a.value) for a in assigns):
                    return True
        return False

    def _is_http_exception(self, module: str, scope: str, x: X | None) -> bool:
        if not isinstance(x, Call) or not isinstance(x.func, Name):
            return False
        ext = external_of(self.graph, module, scope, x.func.dotted)
        return ext in HTTP_EXCEPTIONS or (ext is None and x.func.dotted.rsplit(".", 1)[-1] == "HTTPException")

    def _token_guard(self, module: str, fn: Function) -> bool:
        if not any(TOKEN_PARAM.search(p.name) for p in fn.params if p.name not in ("self", "cls")):
            return False
        for call in fn.calls:
            if call.callee.rsplit(".", 1)[-1] != "HTTPException":
                continue
            ext = external_of(self.graph, module, fn.qualname, call.callee)
            if ext in HTTP_EXCEPTIONS or ext is None:
                return True
        return False

    # -- nodes -------------------------------------------------------------------------------
    def node_is_auth(self, node_id: str) -> bool:
        """The node itself (not its sub-graph) authenticates."""
        if node_id in self._direct:
            return self._direct[node_id]
        node = self.graph.nodes.get(node_id)
        result = node is not None and self._node_is_auth(node)
        self._direct[node_id] = result
        return result

    def _node_is_auth(self, node: Node) -> bool:
        if node.is_security_scheme:
            return True
        if self.weak and (WEAK_NAME.search(node.name) or WEAK_NAME.search(node.qualname or "")):
            return True
        if _name_matches(self.config.auth_dependencies, node.name, node.id, node.qualname, node.external):
            return True
        if node.kind in ("external", "unknown"):
            bare = node.name.removesuffix("()")
            if AUTH_NAME.match(bare):
                return True
            ext = node.external or ""
            return any(ext == p or ext.startswith(p + ".") for p in AUTH_PACKAGES)
        if node.kind == "class" and node.module and node.qualname and self.graph.resolver is not None:
            # a class whose __init__ does not authenticate may still be a security scheme subclass
            bases = self.graph.resolver.external_bases(RClass(node.module, node.qualname))
            if any(b.startswith(("fastapi.security", "fastapi.openapi")) for b in bases):
                return True
        fn = node.function
        if fn is not None and node.module:
            module = self._module_of(node, fn)
            return self.function_is_auth(module, fn)
        return False

    def _module_of(self, node: Node, fn: Function) -> str:
        assert node.module is not None
        facts = self.graph.modules.get(node.module)
        if facts is not None and facts.functions.get(fn.qualname) is fn:
            return node.module
        for name, facts in list(self.graph.modules.items()):
            if facts.functions.get(fn.qualname) is fn:
                return name
        return node.module

    def auth_under(self, node_id: str) -> str | None:
        """The first auth node in the sub-graph of `node_id` (itself included), or None."""
        if node_id in self._closure:
            return self._closure[node_id]
        self._closure[node_id] = None
        found: str | None = None
        seen: set[str] = set()
        stack = [node_id]
        while stack and found is None:
            nid = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            node = self.graph.nodes.get(nid)
            if self.node_is_auth(nid):
                found = nid
            elif node is not None:
                for e in node.edges:
                    if self._security_marker(e):
                        found = e.target
                        break
                    stack.append(e.target)
        self._closure[node_id] = found
        return found

    def edge_auth(self, edge: Edge) -> str | None:
        """The auth node an edge leads to (the target itself for a `Security(...)` marker)."""
        if self._security_marker(edge):
            return edge.target
        return self.auth_under(edge.target)

    def _security_marker(self, edge: Edge) -> bool:
        """`Security(...)` is auth by definition; as strong evidence (a router is "mixed")
        only with scopes that a `SecurityScopes` parameter below reads: `Security(dep)`
        without them is just `Depends(dep)`."""
        if edge.marker != "Security":
            return False
        return self.weak or (bool(edge.scopes) and self._reads_security_scopes(edge.target))

    def _reads_security_scopes(self, node_id: str) -> bool:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            nid = stack.pop()
            node = self.graph.nodes.get(nid)
            if nid in seen or node is None:
                continue
            seen.add(nid)
            fn = node.function
            if fn is not None and any(
                isinstance(p.annotation, Name) and p.annotation.dotted.rsplit(".", 1)[-1] == "SecurityScopes"
                for p in fn.params
            ):
                return True
            stack.extend(e.target for e in node.edges)
        return False

    def first_auth(self, edges: list[Edge]) -> Edge | None:
        for edge in edges:
            if self.edge_auth(edge) is not None:
                return edge
        return None

    # -- routes ------------------------------------------------------------------------------
    def route_self_protected(self, route: Route) -> str | None:
        """Auth the route carries itself (decorator/param deps, auth decorator, or its body)."""
        edge = self.first_auth([*route.decorator_edges, *route.param_edges])
        if edge is not None:
            return self.describe(edge)
        deco = self.auth_decorator(route)
        if deco is not None:
            return f"the `@{deco}` decorator"
        if self.weak and self.function_is_auth(route.module, route.function):
            return "a check in its body"
        return None

    def mount_protected(self, route: Route, mount: Mount) -> bool:
        """Protected on this mount: app/include/router/decorator/parameter auth, or an auth
        decorator or check of the endpoint itself (weak mode)."""
        if self.first_auth([*mount.edges, *route.param_edges]) is not None:
            return True
        if self.auth_decorator(route) is not None:
            return True
        return self.weak and self.function_is_auth(route.module, route.function)

    def custom_router(self, router_id: str) -> str | None:
        """A router whose class is a project subclass of `APIRouter`/`FastAPI` that customises
        something, or that is built with `route_class=` a project class: it may add auth we
        cannot see, so routes under it are left alone."""
        router = self.graph.routers.get(router_id)
        resolver = self.graph.resolver
        if router is None or resolver is None or router.kind == "unknown":
            return None
        if router.class_name and not router.class_name.startswith(("fastapi.", "starlette.")):
            parts = router.class_name.split(".")
            splits = [(".".join(parts[:i]), ".".join(parts[i:])) for i in range(len(parts) - 1, 0, -1)]
            module, qual = next(((m, q) for m, q in splits if m in self.graph.modules), ("", ""))
            for cls in resolver.mro(RClass(module, qual)) if module else []:
                klass = resolver.class_facts(cls)
                if klass is not None and (klass.methods or klass.fields):
                    return klass.name
        scope = router_id.split(":")[1]
        facts = self.graph.modules.get(router.module)
        assigns = facts.scope_assigns(scope).get(router.name, []) if facts else []
        for a in assigns:
            if isinstance(a.value, Call):
                for key, value in a.value.kwargs:
                    if key == "route_class" and isinstance(value, Name):
                        t = resolver.resolve(router.module, scope, value.dotted)
                        if not isinstance(t, RExternal):
                            return value.dotted
        return None

    def auth_decorator(self, route: Route) -> str | None:
        resolver = self.graph.resolver
        for index, d in enumerate(route.function.decorators):
            if index == route.decorator_index:
                continue
            base = d.func if isinstance(d, Call) else d
            if not isinstance(base, Name):
                continue
            names = [base.dotted]
            if resolver is not None:
                t = resolver.resolve(route.module, route.function.parent, base.dotted)
                if isinstance(t, RExternal):
                    names.append(t.dotted)
            last = base.dotted.rsplit(".", 1)[-1]
            if _name_matches(self.config.auth_dependencies, *names) or "starlette.authentication.requires" in names:
                return base.dotted
            if (STRONG_DECORATOR if not self.weak else WEAK_NAME).search(last):
                return base.dotted
        return None

    def describe(self, edge: Edge) -> str:
        auth = self.edge_auth(edge)
        target = self.graph.nodes.get(edge.target)
        shown = edge.text or (target.name if target else edge.target)
        where = f"parameter `{edge.param}`" if edge.param else f"{edge.origin} `dependencies=[...]`"
        inner = self.graph.nodes.get(auth) if auth else None
        if inner is not None and auth != edge.target:
            return f"`{shown}` ({where}, via `{inner.name}`)"
        return f"`{shown}` ({where})"


def is_public(config: Config, route: Route, paths: list[str]) -> bool:
    """Public by design: a `public-routes` pattern matches the endpoint name or every path."""
    matches = _public_matcher(tuple(config.public_routes), tuple(config.extend_public_routes))
    if matches(route.function.name.lower()):
        return True
    return bool(paths) and all(matches(path.lower()) for path in paths)


@functools.lru_cache(maxsize=8)
def _public_matcher(*patterns: tuple[str, ...]) -> Callable[[str], object]:
    """One regex for all `public-routes` patterns (fnmatch, case-insensitive): testing each
    pattern with `fnmatchcase` cost FastAPI's sdist 0.1 s, 150,000 calls for 1,400 routes."""
    shapes = [fnmatch.translate(p.lower()) for group in patterns for p in group]
    return re.compile("|".join(f"(?:{s})" for s in shapes) or "(?!)").match
