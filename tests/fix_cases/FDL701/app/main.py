from typing import Annotated

import fastapi
from fastapi import Depends, FastAPI, Query, Security

from .deps import CurrentUser, CurrentUserMarker, Paginator, Session, agent, get_current_user, get_db

app = FastAPI()


@app.get("/items/")
async def read_items(
    *,
    q: str | None = Query(default=None),
    db: Annotated[Session, Depends(get_db)],  # expect: FDL701
    paging: Annotated[Paginator, Depends()],  # expect: FDL701
    user=Security(get_current_user, scopes=["items"]),  # expect: FDL701
):
    return {"q": q, "db": db, "paging": paging, "user": user}


@app.get("/me")
async def me(user: Annotated[str, CurrentUserMarker], ua: Annotated[str | None, fastapi.Depends(agent)]):  # expect: FDL701
    return {"user": user, "ua": ua}


@app.get("/annotated")
async def annotated(
    user: CurrentUser,
    db: Annotated[Session, Depends(get_db)],
    paging: Annotated[Paginator, Depends()],
    scoped: Annotated[str, Security(get_current_user, scopes=["items"])],
    q: str | None = None,
):
    return {"user": user, "db": db, "paging": paging, "scoped": scoped, "q": q}
