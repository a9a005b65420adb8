from fastapi import APIRouter
from sqlalchemy import text

from ..deps import CurrentUser, LegacyDB

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/")
def list_items(user: CurrentUser, db: LegacyDB):
    return []


@router.get("/{item_id}")
def read_item(item_id: int, user: CurrentUser):
    return {"id": item_id}


@router.delete("/{item_id}")
def delete_item(item_id: int, db: LegacyDB):
    # BUG (FDL501): the only route of this router without the auth dependency
    db.execute(text("DELETE FROM items WHERE id = :id"), {"id": item_id})
    db.commit()
