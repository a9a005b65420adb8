from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Security

from .deps import (
    checker_class,
    depends_on_db,
    get_current_user,
    get_db,
    get_settings,
    pagination,
    paginate_with,
    pick,
    require_role,
    require_scope,
    role_checker,
    session_scope,
    verify_key,
)
from . import deps

app = FastAPI()
router = APIRouter(dependencies=[Depends(verify_key)])  # expect: FDL403

SettingsDep = Annotated[dict, Depends(get_settings)]  # expect: FDL403
get_db_alias = get_db


@app.get("/items")
def read_items(db=Depends(get_db)):  # expect: FDL403
    return []


@app.get("/me")
async def me(user: Annotated[dict, Security(get_current_user)]):  # expect: FDL403
    return user


@app.get("/page")
def page(p: Annotated[dict, Depends(pagination(20))]):  # expect: FDL403
    return p


@app.get("/scoped")
def scoped(s=Depends(session_scope())):  # expect: FDL403
    return s


@app.get("/alias")
def alias(db=Depends(get_db_alias), settings: SettingsDep = None):  # expect: FDL403
    return settings


@app.get("/module-attr")
def module_attr(db=Depends(deps.get_db)):  # expect: FDL403
    return db


# --- legitimate factory calls ---------------------------------------------------------------


@app.get("/admin", dependencies=[Depends(require_role("admin"))])
def admin():
    return {}


@app.get("/scope")
def scope(user=Security(require_scope("items:read"))):
    return user


@app.get("/paged")
def paged(p=Depends(paginate_with(50))):
    return p


@app.get("/db")
def db_route(db=depends_on_db()):
    return db


@app.get("/checker")
def checker(user=Depends(role_checker("admin")), other=Depends(checker_class())):
    return user


@app.get("/pick")
def picked(user=Depends(pick(True, get_current_user))):
    return user


@app.get("/plain")
def plain(db=Depends(get_db), user=Depends(get_current_user)):
    return user


app.include_router(router)
