from fastapi import Depends as Inject
from fastapi import FastAPI

from . import core
from .routers import admin
from .routers import items as items_routes


def create_app() -> FastAPI:
    application = FastAPI(dependencies=[Inject(core.get_settings)])
    application.include_router(items_routes.router)
    application.include_router(admin.router, prefix="/admin", dependencies=[Inject(core.get_db)])

    @application.get("/health")
    def health():
        return {"ok": True}

    return application


app = create_app()
