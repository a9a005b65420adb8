from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket

from .. import core
from ..core import CurrentUser, ItemService, Pagination, require_scope
from ..core import Filters as F

router = APIRouter(prefix="/items", dependencies=[Depends(core.get_settings)])


@router.get("/")
async def list_items(user: CurrentUser, pagination: Annotated[Pagination, Depends()], service: ItemService = Depends()):
    return []


@router.api_route("/search", methods=["GET", "POST"], dependencies=[Depends(require_scope("search"))])
def search(filters: Annotated[F, Depends()], paged=Depends(core.paged_10)):
    return []


@router.websocket("/ws")
async def ws(websocket: WebSocket, token: Annotated[str, Depends(core.get_token)]):
    await websocket.accept()


def export_items(looked=Depends(core.repo.lookup), s=Depends(core.Repo.static_dep), c=Depends(core.Repo.class_dep)):
    return []


router.add_api_route("/export", export_items, methods=["GET"])


SETTINGS_DEPS = [Depends(core.get_settings)]


@router.get("/constant-deps", dependencies=SETTINGS_DEPS)
def constant_deps():
    return []
