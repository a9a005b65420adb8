import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, Security
from fastapi.security import HTTPBearer, OAuth2PasswordBearer, SecurityScopes

if TYPE_CHECKING:
    from .models import User  # noqa: F401

oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"items": "read items"})
bearer = HTTPBearer(auto_error=False)


async def get_db():
    yield {"db": True}


def get_settings():
    return {"debug": False}


async def get_token(token: Annotated[str, Depends(oauth2)]):
    return token


async def get_current_user(security_scopes: SecurityScopes, token: Annotated[str, Depends(get_token)], db=Depends(get_db)) -> "User":
    if not token:
        raise HTTPException(status_code=401)
    return {"name": "u"}  # type: ignore[return-value]


CurrentUser = Annotated["User", Security(get_current_user, scopes=["items"])]
DB = Annotated[dict, Depends(get_db)]
Settings = Annotated[dict, Depends(get_settings, use_cache=False)]


class RequiresRole:
    def __init__(self, role: str) -> None:
        self.role = role

    async def __call__(self, user: CurrentUser, request: Request) -> None:
        return None


def require_scope(scope: str):
    async def checker(user: CurrentUser, x_scope: str = Header("")):
        return scope

    return checker


def require_marker(role: str):
    return Depends(RequiresRole(role))


class Pagination:
    def __init__(self, skip: int = 0, limit: int = Query(10), settings: Settings = None):
        self.skip = skip


@dataclass
class Filters:
    q: str | None = None
    db: dict = Depends(get_db)


class BaseService:
    def __init__(self, db: DB) -> None:
        self.db = db


class ItemService(BaseService):
    def list(self, pagination: Annotated[Pagination, Depends()]):
        return []


class Repo:
    def lookup(self, token: Annotated[str, Depends(get_token)]):
        return token

    @staticmethod
    def static_dep(settings: Settings):
        return settings

    @classmethod
    def class_dep(cls, db: DB):
        return db


repo = Repo()


def paged(limit: int, db: DB, extra: str = "x"):
    return limit


paged_10 = functools.partial(paged, 10)
