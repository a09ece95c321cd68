"""One SQLite database per dispute: engine, pragmas, transactions.

Writers take the database lock up front (``BEGIN IMMEDIATE``), so that two
``locker add`` processes never both read the same "next exhibit number"; WAL
lets readers go on meanwhile, and the busy timeout makes the second writer
wait instead of failing with "database is locked".
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from .errors import READ_ONLY, LockerError, StoreError
from .i18n import N_, _
from .values import now_utc

BUSY_TIMEOUT_MS = 60_000
# SQLite's ways of saying the disk is full: a page that cannot be written, and the shared-memory
# index of a WAL database (the -shm file, 32 KiB, needed even to read) that cannot be grown.
NO_SPACE_CODES = (13, 4874)  # SQLITE_FULL, SQLITE_IOERR_SHMSIZE
NO_SPACE = N_("no space left on the device holding the locker")  # shown with _()


def no_space(err: BaseException) -> bool:
    """Whether a sqlite3 error (or SQLAlchemy's wrapper of one) means the disk is full."""
    return getattr(getattr(err, "orig", err), "sqlite_errorcode", None) in NO_SPACE_CODES


SQLITE_READONLY = 8


def read_only_error(err: BaseException) -> bool:
    """Whether a sqlite3 error (or SQLAlchemy's wrapper of one) is SQLITE_READONLY or one of its kinds."""
    code = getattr(getattr(err, "orig", err), "sqlite_errorcode", None)
    return code is not None and code & 0xFF == SQLITE_READONLY


def dbapi(conn: Any) -> sqlite3.Connection:
    """The sqlite3 connection behind a SQLAlchemy connection, a cursor, or the connection itself:
    code that reads or writes in the caller's transaction takes any of them."""
    if hasattr(conn, "exec_driver_sql"):  # a SQLAlchemy Connection: same connection, same transaction
        found: sqlite3.Connection = conn.connection.driver_connection
        return found
    if isinstance(conn, sqlite3.Cursor):
        return conn.connection
    same: sqlite3.Connection = conn
    return same


def writable(path: Path) -> bool:
    """Can this process change the database at ``path`` (and create its -wal and -shm beside it)?
    False on a read-only mount, or a copy of a home made read-only with chmod."""
    return os.access(path.parent, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def connect_read_only(path: Path, **kwargs: Any) -> sqlite3.Connection:
    """A connection that never writes, for a database in a folder this process cannot write to.

    SQLite reads a WAL database read-only only when its -shm file is there (``mode=ro``); a copy
    made after the last writer closed has none, and then the file is opened as immutable, which
    is true of a read-only home: nothing can change it while we read.
    """
    uri = "file:" + quote(str(path.resolve()))
    con = None
    try:
        con = cast(sqlite3.Connection, sqlite3.connect(f"{uri}?mode=ro", uri=True, **kwargs))
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return con
    except sqlite3.OperationalError:  # SQLITE_CANTOPEN: no -shm, and none can be made
        if con is not None:
            con.close()
        immutable: sqlite3.Connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, **kwargs)
        return immutable


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


def connect(path: Path, *, create: bool = False, migrations: Any = None) -> sqlite3.Connection:
    """The one way to open a database of the locker: a plain sqlite3 connection (autocommit:
    transactions are begun explicitly), migrated to the current schema (the dispute schema unless
    another migration list is given). In a folder this process cannot write to, the database is
    read as it is; one that needs migrating there fails as READ_ONLY, in words."""
    if not create and not path.is_file():
        raise LockerError(_("the dispute has no database (dispute.sqlite is missing)"), path=str(path))
    from .migrations import MIGRATIONS, NewerSchema, migrate

    migrations = migrations or MIGRATIONS
    if create or writable(path):
        mode = "rwc" if create else "rw"
        con = sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True, isolation_level=None,
                              timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    else:
        con = connect_read_only(path, isolation_level=None, check_same_thread=False)
    try:
        con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        (version,) = con.execute("PRAGMA user_version").fetchone()
        if version != len(migrations):
            con.execute("PRAGMA journal_mode = WAL")
            con.execute("PRAGMA synchronous = FULL")
            migrate(con, now_utc(), migrations)
    except NewerSchema as err:
        con.close()
        raise LockerError(
            _("this dispute was written by a newer locker (schema {value}); upgrade locker").format(value=err.args[0]), path=str(path)
        ) from None
    except sqlite3.DatabaseError as err:
        con.close()
        if no_space(err):
            raise StoreError(_(NO_SPACE), path=str(path)) from None
        if read_only_error(err):  # a database that needs migrating, in a home that cannot be written
            raise StoreError(_("{read_only} (this dispute needs an upgrade first)").format(read_only=_(READ_ONLY)), path=str(path)) from None
        raise LockerError(_("cannot open the dispute database: {error}").format(error=err), path=str(path)) from None
    return con


def connect_writer(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """:func:`connect`, set up as :func:`engine_for`'s connections are (WAL, ``synchronous = FULL``,
    foreign keys; a database it creates readable by its owner only): for a writer that needs no
    SQLAlchemy. ``locker add`` writes with it, so that it never imports SQLAlchemy or SQLModel
    (~0.8 CPU-s, about a third of a 1 GiB add); so do ``new`` and ``export``."""
    con = connect(path, create=create)
    try:
        _on_connect(con, None)
        if create:
            path.chmod(0o600)
    except sqlite3.DatabaseError as err:
        con.close()
        raise LockerError(_("cannot open the dispute database: {error}").format(error=err), path=str(path)) from None
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def writing_dbapi(con: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """:func:`writing` for a connection from :func:`connect_writer`: the lock from the start,
    rolled back on any error, a full disk or a read-only database one clear StoreError."""
    try:
        with immediate(con):
            yield con
    except sqlite3.OperationalError as err:
        if con.in_transaction:  # a COMMIT that failed leaves it open
            con.execute("ROLLBACK")
        if no_space(err):
            raise StoreError(NO_SPACE, path=str(path)) from None
        if read_only_error(err):
            raise StoreError(READ_ONLY, path=str(path)) from None
        raise


# The columns the models declare as bool (SQLite stores 0 and 1; SQLModel hands out False and True):
# rows read without SQLAlchemy (:func:`rows`) give the same. tests/test_cli.py holds this to the models.
BOOLEAN_COLUMNS = frozenset({"withdrawn", "me", "date_only"})


class Row:
    """A row read without SQLAlchemy: its columns are attributes, as on a model's row."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Row({self._values!r})"


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return Row({column[0]: bool(value) if column[0] in BOOLEAN_COLUMNS and value is not None else value
                for column, value in zip(cursor.description, values)})


def rows(con: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
    """The rows of one query on a plain connection, as :class:`Row` objects."""
    cursor = con.cursor()
    cursor.row_factory = _row
    try:
        return cursor.execute(sql, params).fetchall()
    finally:
        cursor.close()


@contextmanager
def snapshot(path: Path) -> Iterator[sqlite3.Connection]:
    """A consistent read of the database at ``path`` (one read transaction) on a plain sqlite3
    connection from :func:`connect`, read with :func:`rows`: how ``list``, ``show``, ``log``,
    ``verify``, ``due``, ``next`` and ``export`` read, never importing SQLAlchemy or SQLModel
    (0.3 CPU-s of a 0.5 s ``show``)."""
    con = connect(path)
    try:
        con.execute("BEGIN")
        yield con
    except sqlite3.OperationalError as err:
        if no_space(err):
            raise StoreError(_(NO_SPACE), path=str(path)) from None
        if read_only_error(err):
            raise StoreError(_(READ_ONLY), path=str(path)) from None
        raise
    finally:
        try:
            if con.in_transaction:
                con.execute("ROLLBACK")
        finally:
            con.close()


_engines: dict[Path, Any] = {}


def engine_for(path: Path, *, create: bool = False, migrations: Any = None) -> Any:
    """The SQLAlchemy engine of the database at ``path``, migrated (by :func:`connect`) first."""
    key = path.resolve()
    if key in _engines:
        return _engines[key]
    connect(path, create=create, migrations=migrations).close()
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import NullPool

    connect_args = {"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
    if not create and not writable(path):  # read what is there; a write fails as READ_ONLY (see _transaction)
        engine = create_engine(f"sqlite:///{path}", poolclass=NullPool,
                               creator=lambda: connect_read_only(path, **connect_args))
    else:
        engine = create_engine(f"sqlite:///{path}", poolclass=NullPool, connect_args=connect_args)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    if create:
        path.chmod(0o600)
    _engines[key] = engine
    return engine


@contextmanager
def immediate(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on a plain sqlite3 connection (autocommit mode), holding the lock from
    its start; rolled back on any error (unless SQLite ended it itself, as on a full disk)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield con
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


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
            raise StoreError(_(NO_SPACE), path=engine.url.database) from None
        if read_only_error(err):
            raise StoreError(_(READ_ONLY), path=engine.url.database) from None
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

