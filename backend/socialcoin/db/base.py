"""Engine, sessions and units of work. SQLite is the embedded default; PostgreSQL the production database.

A unit of work that writes is a *write transaction* (`transaction`, or `writing` for a session that read
first): on SQLite it begins with BEGIN IMMEDIATE, which takes the database's one write lock at once, so
that a rule that reads and then writes (a payout's batch, a debt's remaining amount, a budget) sees
every earlier write and no later one until it commits. pysqlite's own transaction handling is switched
off for that (it opens no transaction for SELECTs and upgrades a read to a write only when the write
comes, which fails with "database is locked" or races). On PostgreSQL the same rules take row locks
(`SELECT ... FOR UPDATE`) or `lock` (an advisory lock for things without a row).

Two guards hold these promises in every test:
- on SQLite, an INSERT, UPDATE or DELETE outside a write transaction raises `WriteOutsideTransaction`;
- a call to the chain inside a write transaction raises (chain/gateway.py asks `in_write_transaction`):
  a write lock is never held while waiting on the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Delete, Table, Update, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from .. import jsonfast


class Base(DeclarativeBase):
    pass


# Connections per process. The API hands out at most POOL_CONNECTIONS - WORKER_CONNECTIONS sessions at
# once (api/deps.py), so that the outbox, indexer and reminders always find one.
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_CONNECTIONS = POOL_SIZE + POOL_OVERFLOW
WORKER_CONNECTIONS = 4
# How long a write transaction waits for SQLite's write lock. Write transactions never wait on the chain,
# so the lock is held for milliseconds; the wait is long only under a flood of writes.
SQLITE_LOCK_WAIT_SECONDS = 30

_BEGIN = "sqlite_begin"  # execution option: how a SQLite transaction begins
_WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_writing: ContextVar[bool] = ContextVar("socialcoin_writing", default=False)


class WriteOutsideTransaction(RuntimeError):
    """A statement that writes ran in a transaction that began as a read (a programming error)."""


def in_write_transaction() -> bool:
    """Whether this thread (or task) is inside a write transaction."""
    return _writing.get()


# The JSON columns' text (the events' arguments above all), written and read by the fast codec.
JSON_CODEC = {"json_serializer": jsonfast.dumps, "json_deserializer": jsonfast.loads}


def make_engine(url: str) -> Engine:
    pool: dict[str, Any] = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW}
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, **pool, **JSON_CODEC)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_WAIT_SECONDS},
        **pool,
        **JSON_CODEC,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # We begin transactions ourselves (below); pysqlite would otherwise begin them late and deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")
        connection.info["writing"] = mode == "IMMEDIATE"

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_writes_in_reads(connection: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if not connection.info.get("writing") and statement.lstrip()[:7].upper().startswith(
            _WRITE_STATEMENTS
        ):
            raise WriteOutsideTransaction(
                f"a write outside a write transaction (use db.base.transaction or writing): {statement[:80]}"
            )

    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reading; a unit of work that writes goes through `transaction` or `writing`."""
    return sessionmaker(engine, expire_on_commit=False)


def _writer(session: Session) -> dict[str, str]:
    return {_BEGIN: "IMMEDIATE"} if session.get_bind().dialect.name == "sqlite" else {}


@contextmanager
def write_guard() -> Iterator[None]:
    """Marks this thread's (or task's) context as inside a write transaction, so that a chain call in it
    raises. `writing` does it; the API's write-session dependency does it in the request's context."""
    marker = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(marker)


def begin_write(session: Session) -> None:
    """Begins the session's write transaction now (SQLite: BEGIN IMMEDIATE). What the session read before
    is let go: a rule re-reads what it checks, under the lock."""
    if session.new or session.dirty or session.deleted:
        raise WriteOutsideTransaction("the session has changes from before its write transaction")
    if session.in_transaction():
        session.rollback()  # ends the read; nothing was written in it
    session.info["writing"] = True
    session.connection(execution_options=_writer(session))


def end_write(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.info["writing"] = False


@contextmanager
def writing(session: Session) -> Iterator[Session]:
    """Makes the session's next work a write transaction that commits at the end (or rolls back on an
    error). Never call the chain inside (it raises): gather what the chain says first."""
    if session.info.get("writing"):
        yield session  # already inside this session's write transaction: the outer one commits
        return
    if _writing.get():
        raise WriteOutsideTransaction(
            "a second write transaction inside a write transaction waits for itself"
        )
    with write_guard():
        begin_write(session)
        try:
            yield session
        except BaseException:
            end_write(session, commit=False)
            raise
        end_write(session, commit=True)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A new session's unit of work that writes: commits together at the end, or not at all."""
    with sessions() as session, writing(session):
        yield session


@contextmanager
def reading(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A new session for reads (a consistent snapshot on SQLite), let go at the end."""
    with sessions() as session:
        yield session


def rows_changed(session: Session, statement: Update | Delete) -> int:
    """Runs an UPDATE or DELETE and says how many rows it changed (the check of a compare-and-set)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


def insert_many(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """Inserts rows (dicts with the same keys, each a column of the model's table) in the session's
    transaction, each value stored as the table's own insert stores it (the columns' types convert them), in
    one statement: COPY on PostgreSQL, one executemany on SQLite. For many rows: SQLAlchemy's executemany
    spent more time preparing each row's parameters than the database spent storing the row."""
    if not rows:
        return
    table = model.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect
    names = list(rows[0])
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]
    convert = [
        (i, process if isinstance(table.c[name].type, JSON) else _once_per_value(process))
        for i, (name, process) in enumerate(zip(names, processors, strict=True))
        if process is not None
    ]
    row_values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    values = list(map(list, map(row_values, rows)))
    for value in values:
        for i, process in convert:
            value[i] = process(value[i])
    records = list(map(tuple, values))  # what the drivers take
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    connection = session.connection()
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        return
    marks = ", ".join("?" for _ in names)
    connection.exec_driver_sql(f"INSERT INTO {target} ({columns}) VALUES ({marks})", records)


def _once_per_value(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A column's conversion, run once per distinct value: a batch repeats few values (a block's time) many
    times. For columns of hashable values (not JSON)."""
    done: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        try:
            return done[value]
        except KeyError:
            done[value] = result = process(value)
            return result

    return converted


def insert_for(session: Session) -> Callable[..., Any]:
    """`insert` of the session's dialect (SQLite or PostgreSQL): it has ON CONFLICT (`on_conflict_do_...`)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def lock(session: Session, *name: object) -> None:
    """Serialises write transactions about one thing (a wallet, the minter) until the transaction ends.
    PostgreSQL: a transaction-scoped advisory lock; SQLite: nothing to do, a write transaction already
    holds the database's one write lock."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.sha256("|".join(map(str, name)).encode()).digest()
    session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest[:8], "big", signed=True)}
    )
