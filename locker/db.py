"""One SQLite database per dispute: engine, pragmas, transactions.

Writers take the database lock up front (``BEGIN IMMEDIATE``), so that two
``locker add`` processes never both read the same "next exhibit number"; WAL
lets readers go on meanwhile, and the busy timeout makes the second writer
wait instead of failing with "database is locked".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import LockerError, StoreError
from .values import now_utc

BUSY_TIMEOUT_MS = 60_000
# SQLite's ways of saying the disk is full: a page that cannot be written, and the shared-memory
# index of a WAL database (the -shm file, 32 KiB, needed even to read) that cannot be grown.
NO_SPACE_CODES = (13, 4874)  # SQLITE_FULL, SQLITE_IOERR_SHMSIZE
NO_SPACE = "no space left on the device holding the locker"


def no_space(err: BaseException) -> bool:
    """Whether a sqlite3 error (or SQLAlchemy's wrapper of one) means the disk is full."""
    return getattr(getattr(err, "orig", err), "sqlite_errorcode", None) in NO_SPACE_CODES


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Autocommit at the driver level: transactions are begun explicitly below.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = FULL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


_engines: dict[Path, Any] = {}


def engine_for(path: Path, *, create: bool = False, migrations: Any = None) -> Any:
    """The engine of the database at ``path``, migrated to the current schema
    (the dispute schema unless another migration list is given)."""
    key = path.resolve()
    if key in _engines:
        return _engines[key]
    if not create and not path.exists():
        raise LockerError("the dispute has no database (dispute.sqlite is missing)", path=str(path))
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    from .migrations import MIGRATIONS, NewerSchema, migrate

    engine = create_engine(
        f"sqlite:///{path}",
        poolclass=NullPool,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        raw = engine.raw_connection()
        try:
            migrate(raw.driver_connection, now_utc(), migrations or MIGRATIONS)
        finally:
            raw.close()
    except NewerSchema as err:
        raise LockerError(
            f"this dispute was written by a newer locker (schema {err.args[0]}); upgrade locker", path=str(path)
        ) from None
    except sqlite3.DatabaseError as err:
        if no_space(err):
            raise StoreError(NO_SPACE, path=str(path)) from None
        raise LockerError(f"cannot open the dispute database: {err}", path=str(path)) from None
    if create:
        path.chmod(0o600)
    _engines[key] = engine
    return engine


@contextmanager
def _transaction(engine: Any) -> Iterator[Any]:
    from sqlalchemy.exc import OperationalError
    from sqlmodel import Session

    try:
        with Session(engine, expire_on_commit=False) as session:
            with session.begin():
                yield session
    except OperationalError as err:  # rolled back; "database or disk is full" becomes one clear line
        if no_space(err):
            raise StoreError(NO_SPACE, path=engine.url.database) from None
        raise


def writing(engine: Any) -> Any:
    """A short write transaction (a Session) holding the database lock from its start."""
    return _transaction(engine.execution_options(immediate=True))


def reading(engine: Any) -> Any:
    """A consistent read snapshot (a Session)."""
    return _transaction(engine)


def dispose(path: Path) -> None:
    engine = _engines.pop(path.resolve(), None)
    if engine is not None:
        engine.dispose()

