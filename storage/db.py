"""The async database: engine, sessions and a health probe.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is for production.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import DatabaseUnavailable

T = TypeVar("T")
# A pooled PostgreSQL connection that sat idle this long is pinged before it is used again.
PING_AFTER_IDLE_SECONDS = 5.0


class Database:
    """One engine and its session factory, opened at start-up and disposed at shutdown."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = _create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, without BEGIN and COMMIT around a statement (see `statement`).
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success and rolls back on error."""
        try:
            async with self.sessions() as session, session.begin():
                yield session
        except (OperationalError, DBAPIError, OSError) as exc:
            raise _unavailable(exc) from exc

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which every statement is a transaction of its own: one round trip
        where a session takes three (BEGIN, the statement, COMMIT). For a single statement
        that must be all or nothing, which every statement is on both backends."""
        try:
            async with self._autocommit.connect() as connection:
                yield connection
        except (OperationalError, DBAPIError, OSError) as exc:
            raise _unavailable(exc) from exc

    def insert(self, model: type[Any]) -> Any:
        """An INSERT for `model`'s table in this database's dialect, so that the
        `on_conflict_do_*` upserts both backends support are available."""
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return dialect_insert(model.__table__)

    async def ping(self) -> bool:
        """True when the database answers a trivial query (on a second connection if the
        first one turned out to be dead: then the pool was renewed meanwhile)."""
        try:
            await retry_on_stale(self._select_one)
        except DatabaseUnavailable:
            return False
        return True

    async def _select_one(self) -> None:
        async with self.session() as session:
            await session.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def _create_engine(url: str, *, echo: bool) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_timeout=10)
    _ping_idle_connections(engine)
    event.listen(engine.sync_engine, "handle_error", _broken_protocol_is_a_disconnect)
    return engine


def _broken_protocol_is_a_disconnect(context: ExceptionContext) -> None:
    """A server's goodbye that arrives just as a statement is sent leaves asyncpg's protocol in
    a state it reports as an internal error ("cannot switch to state …"), not as a closed
    connection: count it as a disconnect, so the connection is discarded (never pooled again)
    and the caller sees "database unavailable" worth a retry, not an unexplained 500."""
    error: BaseException | None = context.original_exception
    while error is not None:  # SQLAlchemy's adapter raises its own error from asyncpg's
        if isinstance(error, asyncpg.InternalClientError):
            context.is_disconnect = True
            return
        error = error.__cause__


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Make sure a pooled connection is alive before it is handed out, at almost no cost.

    `pool_pre_ping` pings every time: three round trips on asyncpg (BEGIN, `;`, ROLLBACK) for
    every session, which was 6 % of the CPU a fault report costs. Instead: a connection the
    server closed (a restart, a failover, `pg_terminate_backend`, a proxy's idle timeout) is
    known to the driver as closed as soon as the server's goodbye arrived, so it is replaced
    without a round trip; one that has been idle a while is pinged (a silently dropped network
    path shows no goodbye). What slips through both fails one statement; `retry_on_stale`
    gives the health probe and the webhooks' first writes a second try on a fresh one."""

    @event.listens_for(engine.sync_engine, "checkin")
    def remember_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def check_before_use(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if _closed_by_server(dbapi_connection):
            raise DisconnectionError("the server closed this pooled connection")
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return  # new, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("stale pooled connection") from exc  # the pool reconnects


def _closed_by_server(dbapi_connection: Any) -> bool:
    """True when asyncpg already knows the connection is gone (a local check, no I/O)."""
    is_closed = getattr(getattr(dbapi_connection, "driver_connection", None), "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


async def retry_on_stale(work: Callable[[], Awaitable[T]]) -> T:
    """Run `work` (a few statements that may safely run twice), once more when it failed on
    a pooled connection that turned out to be dead: SQLAlchemy has dropped that connection
    (and every older one) by then, so the second try gets a fresh one. A database that is
    really gone fails both tries."""
    try:
        return await work()
    except DatabaseUnavailable as exc:
        if not exc.stale_connection:
            raise
    return await work()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while a writer commits; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL is durable against a crash of the process (only a power loss can
    # lose the last commits) and saves an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _unavailable(exc: OperationalError | DBAPIError | OSError) -> Exception:
    """`DatabaseUnavailable` for a connection problem, otherwise the error itself."""
    if _is_connection_problem(exc):
        stale = bool(getattr(exc, "connection_invalidated", False))
        return DatabaseUnavailable(type(exc).__name__, stale_connection=stale)
    return exc


def _is_connection_problem(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return True
    if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
        return True
    return _server_cannot_serve(exc)


# SQLSTATE classes in which PostgreSQL says it cannot serve now rather than that the request
# is wrong: 08 connection exceptions, 53 insufficient resources ("too many clients", out of
# memory, disk full), 57P operator intervention (shutting down, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def _server_cannot_serve(exc: BaseException) -> bool:
    """True for PostgreSQL's "not now" errors, which asyncpg and SQLAlchemy report as plain
    DBAPI errors (a refused connection among them, e.g. "sorry, too many clients already")."""
    error: BaseException | None = exc
    while error is not None:
        sqlstate = getattr(error, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False
