from typing import Annotated

from fastapi import Depends, Header, Security
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


class Session:
    def close(self) -> None: ...


async def get_db():
    db = Session()
    try:
        yield db
    finally:
        db.close()


def get_token(token: Annotated[str, Depends(oauth2_scheme)]) -> str:  # expect: FDL701
    return token


def get_current_user(token: Annotated[str, Security(oauth2_scheme, scopes=["me"])]) -> str:
    return token


CurrentUserMarker = Depends(get_current_user)
CurrentUser = Annotated[str, Depends(get_current_user)]


class Paginator:
    def __init__(self, *, skip: int = 0, limit: int = 100, db: Annotated[Session, Depends(get_db)]) -> None:  # expect: FDL701
        self.skip, self.limit, self.db = skip, limit, db


def agent(user_agent: Annotated[str | None, Header()] = None) -> str | None:
    return user_agent
