import shutil
import tempfile
import threading

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)
lock = threading.Lock()


def get_db():
    db = SessionLocal()
    try:
        yield db  # expect: FDL102
    finally:
        db.close()


async def get_async_db():
    db = SessionLocal()
    try:
        yield db  # expect: FDL102
    finally:
        await db.aclose()


def get_locked():
    lock.acquire()
    try:
        yield  # expect: FDL102
    finally:
        lock.release()


def get_workdir():
    path = tempfile.mkdtemp()
    try:
        yield path  # expect: FDL102
    finally:
        shutil.rmtree(path)


def get_db_rollback_only():
    # the except re-raises, but the close after the try is skipped when the route raises
    db = SessionLocal()
    try:
        yield db  # expect: FDL102
    except ValueError:
        db.rollback()
        raise
    finally:
        db.close()


def get_db_commit_then_close():
    db = SessionLocal()
    try:
        yield db  # expect: FDL102
        db.commit()
    finally:
        db.close()  # this finally does not cover the yield


# --- look-alikes that are correct ---------------------------------------------------


def get_db_finally():
    db = SessionLocal()
    try:
        yield db
    finally:
        db.close()


def get_db_with():
    with SessionLocal() as db:
        yield db


def get_db_with_redundant_close():
    with SessionLocal() as db:
        yield db
        db.close()  # redundant: the `with` closes it on every path


def get_db_commit_on_success():
    # commit only when the route succeeded is the point; the close is protected
    db = SessionLocal()
    try:
        yield db
        db.commit()
    finally:
        db.close()


def get_db_except_and_else():
    # the cleanup runs on both paths: in the broad handler (which re-raises) and after
    db = SessionLocal()
    try:
        yield db
    except Exception:
        db.rollback()
        db.close()
        raise
    db.close()


def get_logged():
    # code after yield that is not cleanup: a skipped log line leaks nothing
    yield "value"
    print("request done")


def not_a_dependency():
    db = SessionLocal()
    yield db
    db.close()
