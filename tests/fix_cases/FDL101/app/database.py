import httpx
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def get_db():  # expect: FDL101
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_session():  # expect: FDL101
    db = Session(engine)
    try:
        yield db
    finally:
        db.close()


def get_connection():  # expect: FDL101
    conn = engine.connect()
    try:
        yield conn
    finally:
        conn.close()


def get_client():  # expect: FDL101
    client = httpx.Client()
    try:
        yield client
    finally:
        client.close()


def get_file():  # expect: FDL101
    handle = open("/tmp/data.txt")
    try:
        yield handle
    finally:
        handle.close()


# --- look-alikes that are correct ---------------------------------------------------


def get_db_yield():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_db_with():
    with SessionLocal() as db:
        yield db


def get_settings():
    return {"debug": True}


def get_token(authorization: str = ""):
    return authorization.removeprefix("Bearer ")


def unused_helper():
    # not a dependency of any route: FDL101 is about dependencies only
    return SessionLocal()
