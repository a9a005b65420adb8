import subprocess
import time
from functools import lru_cache
from typing import Annotated

import jwt
import requests
from fastapi import Depends, Header, HTTPException, Request
from passlib.context import CryptContext
from pydantic import BaseModel

from .database import count_rows, get_db_for_sync_routes, load_user

SECRET_KEY = "secret"
pwd_context = CryptContext(schemes=["bcrypt"])
fake_users = {"alice": {"name": "alice"}}


class User(BaseModel):
    name: str


async def common_parameters(q: str | None = None, skip: int = 0, limit: int = 100):  # expect: FDL301
    return {"q": q, "skip": skip, "limit": limit}


async def decode_token(authorization: Annotated[str, Header()]) -> User:  # expect: FDL301
    token = authorization.removeprefix("Bearer ").strip()
    try:
        payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    name = payload.get("sub")
    user = fake_users.get(name)
    if user is None:
        raise HTTPException(status_code=401)
    return User(**user)


async def client_host(request: Request) -> str:  # expect: FDL301
    return request.headers.get("x-forwarded-for") or request.client.host


def _normalise(value: str) -> str:
    return value.lower().strip()


async def normalised_query(q: str = "") -> str:  # expect: FDL301
    return _normalise(q)


async def current_user(user: Annotated[User, Depends(decode_token)]) -> User:
    return user


async def pagination(limit: int = 10) -> int:  # expect: FDL301
    # reached through the async `paged` dependency only
    return min(limit, 100)


async def paged(limit: Annotated[int, Depends(pagination)]) -> dict:
    return {"limit": limit}


# --- look-alikes that stay silent -------------------------------------------------------


def read_feature_flags() -> str:
    with open("/etc/flags") as handle:  # blocking file I/O: right in the threadpool
        return handle.read()


def fetch_remote_config() -> dict:
    return requests.get("https://config.example.com").json()


def slow_dependency() -> None:
    time.sleep(0.1)


def git_revision() -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True).stdout.decode()


def verify_password(password: Annotated[str, Header()]) -> bool:
    return pwd_context.verify(password, "$2b$12$hash")  # bcrypt is slow CPU work


def user_from_db(db: Annotated[object, Depends(get_db_for_sync_routes)], user_id: int = 0):
    return load_user(db, user_id)  # a project helper that queries the session


def row_count(db: Annotated[object, Depends(get_db_for_sync_routes)]) -> int:
    return count_rows(db)


@lru_cache
def get_settings() -> dict:
    return {"debug": False}


class CommonQueryParams:
    def __init__(self, q: str | None = None, skip: int = 0):
        self.q = q
        self.skip = skip


class RequiresRole:
    def __init__(self, role: str):
        self.role = role

    def __call__(self, x_role: Annotated[str, Header()] = "") -> bool:
        return x_role == self.role


def shared_helper(q: str = "") -> str:
    # also called directly below: making it `async def` would break that caller
    return q.upper()


def uses_helper_directly() -> str:
    return shared_helper("x")


def sync_only(q: str = "") -> str:
    # only sync routes use it
    return q


def parent_sync(child: Annotated[str, Depends(sync_only)]) -> str:
    return child


def under_sync_parent(q: str = "") -> str:
    # resolved under a sync dependency only
    return q


def sync_parent(
    child: Annotated[str, Depends(under_sync_parent)],
    db: Annotated[object, Depends(get_db_for_sync_routes)],
) -> int:
    return count_rows(db)  # blocking: stays sync, and its sub-dependencies with it
