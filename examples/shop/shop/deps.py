from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from .database import get_db, get_db_safe

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def get_current_user(token: Annotated[str, Depends(oauth2_scheme)], db: Annotated[Session, Depends(get_db_safe)]):
    if token != "secret":
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="bad token")
    return {"name": "alice"}


class RequiresRole:
    def __init__(self, role: str) -> None:
        self.role = role

    def __call__(self, user: Annotated[dict, Depends(get_current_user)]) -> dict:
        if self.role != "admin":
            raise HTTPException(status_code=403)
        return user


CurrentUser = Annotated[dict, Depends(get_current_user)]
LegacyDB = Annotated[Session, Depends(get_db)]
