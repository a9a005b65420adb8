from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

engine = create_engine("sqlite:///./shop.db")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    # BUG (FDL101): the session is returned, never closed -> connection leak
    db = SessionLocal()
    return db


def get_db_safe():
    with SessionLocal() as db:
        yield db
