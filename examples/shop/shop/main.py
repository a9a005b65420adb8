from fastapi import Depends, FastAPI

from .deps import RequiresRole
from .routers import admin, items

app = FastAPI()
app.include_router(items.router)
app.include_router(admin.router, prefix="/admin", dependencies=[Depends(RequiresRole("admin"))])


@app.post("/token")
def login():
    return {"access_token": "secret"}
