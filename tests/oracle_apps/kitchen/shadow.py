"""A module that shadows `Depends`: nothing here is a FastAPI dependency."""

from fastapi import FastAPI


def Depends(x=None):  # noqa: N802
    return None


def helper():
    return 1


app = FastAPI()


@app.get("/shadow")
def shadowed(value: int = 0, other=Depends(helper)):
    return value
