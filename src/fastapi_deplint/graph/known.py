"""Names from FastAPI, Starlette and the standard library that the linker must recognise."""

from __future__ import annotations

FASTAPI_ROOTS = ("fastapi.", "starlette.")

SECURITY_SCHEMES = frozenset(
    {
        "APIKeyCookie",
        "APIKeyHeader",
        "APIKeyQuery",
        "APIKeyBase",
        "HTTPBasic",
        "HTTPBearer",
        "HTTPDigest",
        "HTTPBase",
        "OAuth2",
        "OAuth2AuthorizationCodeBearer",
        "OAuth2PasswordBearer",
        "OpenIdConnect",
        "SecurityBase",
    }
)
PARAM_FUNCTIONS = frozenset({"Query", "Path", "Body", "Header", "Cookie", "Form", "File"})
SPECIAL_TYPES = frozenset({"Request", "WebSocket", "HTTPConnection", "Response", "BackgroundTasks", "SecurityScopes"})
ROUTE_METHODS = {
    "get": "GET",
    "post": "POST",
    "put": "PUT",
    "delete": "DELETE",
    "patch": "PATCH",
    "options": "OPTIONS",
    "head": "HEAD",
    "trace": "TRACE",
    "api_route": None,
    "websocket": "WEBSOCKET",
}


def is_fastapi(dotted: str, *names: str) -> bool:
    """`fastapi.Depends`, `fastapi.params.Depends`, `fastapi.param_functions.Depends` ..."""
    return dotted.startswith(FASTAPI_ROOTS) and dotted.rsplit(".", 1)[-1] in names


def is_depends(dotted: str) -> str | None:
    if is_fastapi(dotted, "Depends"):
        return "Depends"
    if is_fastapi(dotted, "Security"):
        return "Security"
    return None


def is_annotated(dotted: str) -> bool:
    return dotted in ("typing.Annotated", "typing_extensions.Annotated")


def is_partial(dotted: str) -> bool:
    return dotted == "functools.partial"


def is_cache_decorator(dotted: str) -> bool:
    return dotted in ("functools.lru_cache", "functools.cache", "functools.cached_property", "cachetools.cached", "async_lru.alru_cache")


def app_kind(dotted: str) -> str | None:
    """"app" / "router" for FastAPI's application and router classes."""
    if not dotted.startswith("fastapi."):
        return None
    last = dotted.rsplit(".", 1)[-1]
    if last == "FastAPI":
        return "app"
    if last == "APIRouter":
        return "router"
    return None


def canonical_external(dotted: str) -> str:
    """One spelling per FastAPI name, however it was imported."""
    if dotted.startswith("fastapi.security.") or (dotted.startswith("fastapi.") and dotted.rsplit(".", 1)[-1] in SECURITY_SCHEMES):
        return "fastapi.security." + dotted.rsplit(".", 1)[-1]
    return dotted


def is_security_scheme(dotted: str) -> bool:
    return dotted.startswith("fastapi.") and dotted.rsplit(".", 1)[-1] in SECURITY_SCHEMES
