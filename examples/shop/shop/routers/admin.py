from fastapi import APIRouter, Depends

from ..deps import RequiresRole

router = APIRouter()


@router.get("/stats")
def stats():
    return {"users": 1}
