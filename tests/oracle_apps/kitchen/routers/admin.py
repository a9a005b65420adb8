from fastapi import APIRouter, Depends

from ..core import RequiresRole, require_marker


class AdminRouter(APIRouter):
    pass


router = AdminRouter(dependencies=[Depends(RequiresRole("admin"))])
sub = APIRouter()


@sub.get("/audit")
def audit(marker=require_marker("auditor")):
    return []


@router.get("/stats")
async def stats():
    return {}


router.include_router(sub, prefix="/sub")
