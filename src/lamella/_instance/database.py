"""Engines, sessions and write transactions for one instance.

Both drivers run in driver-level autocommit: every read sees the latest committed data (no stale
snapshot held open between calls, which matters when several processes share an instance) and no
lock is held while the user's code runs. Writes go through `Database.write()`, which opens an
explicit transaction: `BEGIN IMMEDIATE` on SQLite (one writer at a time, waiting on the busy
timeout) and `BEGIN` plus transaction-scoped advisory locks on PostgreSQL, so a check-then-insert
(next version number, existing name) cannot race with another process.
"""

from __future__ import annotations

import re
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.exc import IntegrityError as SAIntegrityError
from sqlalchemy.orm import exc as orm_exc
from sqlalchemy.orm import sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from lamella._gc import skip_collection_at_exit
from lamella._instance import access
from lamella._instance.config import OPTIONAL_MODULES
from lamella._instance.state import SETTINGS_TABLE
from lamella.errors import (
    DoesNotExist,
    IntegrityError,
    InvalidArgument,
    LamellaError,
    NotConnected,
    ValidationError,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

    from lamella._instance.config import InstanceConfig

SQLITE_BUSY_TIMEOUT_MS = 60_000


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    _sqlite_setup(dbapi_connection, read_only=False)


def _sqlite_on_connect_read_only(dbapi_connection: Any, _record: Any) -> None:
    _sqlite_setup(dbapi_connection, read_only=True)


def _sqlite_setup(dbapi_connection: Any, *, read_only: bool) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN/COMMIT ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if not read_only:  # the mode is stored in the file: a reader cannot (and need not) set it
        cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    # LIKE is case-sensitive (as on PostgreSQL) so `key LIKE 'prefix%'` can use the index;
    # case-insensitive lookups compare lower() on both sides instead.
    cursor.execute("PRAGMA case_sensitive_like = ON")
    cursor.close()


def create_engine_for(config: InstanceConfig, *, read_only: bool = False) -> Engine:
    """An engine; `read_only` opens SQLite with mode=ro and PostgreSQL sessions read-only, so the
    database itself refuses writes that slip past `Database.write()`."""

    url = config.url()
    if config.dialect == "sqlite":
        timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
        if read_only:
            uri = access.sqlite_read_only_uri(config.sqlite_path())
            engine = create_engine("sqlite://", creator=lambda: access.connect_read_only(uri, timeout))
            event.listen(engine, "connect", _sqlite_on_connect_read_only)
            return engine
        config.sqlite_path().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        return engine
    connect_args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True, connect_args=connect_args)


def _raise_as_lamella_error(error: BaseException) -> None:

    if isinstance(error, SAIntegrityError):
        raise IntegrityError(
            f"the write was refused and nothing was saved: {error.orig}; "
            f"a value that must be unique is taken, or a record still points at the one being deleted"
        ) from error
    mapped = _lamella_error_for(error)
    if mapped is not None:
        raise mapped from error


# SQLSTATEs of PostgreSQL errors caused by a value (not by the schema or the server)
_PG_VALUE_TYPE_ERRORS = {"42883", "42804", "22P02"}  # no operator for these types, type mismatch, bad literal
_PG_INVALID_REGEX = "2201B"


def _lamella_error_for(error: BaseException) -> Exception | None:
    """The LamellaError a driver error caused by a bad value stands for; None for anything else.

    Values are checked before they reach a driver (lamella._limits, the query compiler's operands);
    this is the safety net for what those checks do not know, on both dialects.
    """

    if isinstance(error, LamellaError):
        return None
    if isinstance(error, orm_exc.StaleDataError | orm_exc.ObjectDeletedError):
        return DoesNotExist(
            f"the record was deleted by another process, so it cannot be read or changed ({error}); "
            "query it again to see what exists now"
        )
    cause: BaseException = error
    if isinstance(error, sa_exc.StatementError) and isinstance(error.orig, BaseException):
        cause = error.orig  # a DBAPI error, or what a bind processor raised
    detail = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if getattr(cause, "sqlstate", None) == _PG_INVALID_REGEX or "user-defined function raised" in detail:
        return InvalidArgument(
            f"the database refused a regular expression in the query: {detail}; PostgreSQL does not "
            "support every Python regex feature (e.g. named groups (?P<name>...)), simplify the pattern"
        )
    if isinstance(error, sa_exc.DataError) or isinstance(
        cause, OverflowError | UnicodeError | RecursionError
    ):
        return ValidationError(
            f"the database refused a value: {detail}; nothing was written. Check lengths, text without "
            "NUL characters, finite numbers and integers within 64 bits"
        )
    if isinstance(error, sa_exc.ProgrammingError) and (
        getattr(cause, "sqlstate", None) in _PG_VALUE_TYPE_ERRORS
        or "binding parameter" in detail
        or "cannot adapt" in detail
    ):
        return InvalidArgument(f"a value has a type the database cannot store or compare: {detail}")
    if isinstance(error, sa_exc.StatementError) and isinstance(cause, TypeError | ValueError):
        return InvalidArgument(f"a value cannot be sent to the database: {detail}")
    return None


def _on_driver_error(context: Any) -> None:
    """Engine hook: reads (and writes) raise the LamellaError a bad value stands for.

    Integrity errors are left to `Database.write()`, which says that nothing was saved.
    """

    error = context.sqlalchemy_exception or context.original_exception
    if isinstance(error, SAIntegrityError):
        return
    mapped = _lamella_error_for(error)
    if mapped is not None:
        raise mapped


def advisory_lock_id(name: str) -> int:
    """A stable signed 32-bit number for a lock name (crc32 is the same in every process)."""
    value = zlib.crc32(name.encode())
    return value - (1 << 32) if value >= (1 << 31) else value


class Database:
    """An instance's engine plus one session per thread.

    A read-only database (`read_only_reason` says why) refuses `write()` before touching anything.
    """

    def __init__(self, config: InstanceConfig, *, read_only_reason: str | None = None) -> None:

        skip_collection_at_exit()
        self.config = config
        self.read_only_reason = read_only_reason
        self.engine = create_engine_for(config, read_only=read_only_reason is not None)
        event.listen(self.engine, "handle_error", self._translate_error)
        self.dialect = config.dialect
        self._sessionmaker = sessionmaker(
            bind=self.engine, autoflush=False, expire_on_commit=False, future=True
        )
        self._local = threading.local()
        # copied into each session's `info`: the records a session loads read it (models/core/record.py)
        self.session_info: dict[str, Any] = {}

    def tag_records(self, key: str, value: Any) -> None:
        """Every record this database's sessions load gets `value` (the instance it was read from)."""
        self.session_info[key] = value
        session: Session | None = getattr(self._local, "session", None)
        if session is not None:  # sessions made before (while opening) take it too
            session.info[key] = value

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def mark_read_only(self, reason: str) -> None:
        self.read_only_reason = reason

    def read_only_error(self, action: str = "write") -> Exception:

        return access.read_only_error(self.config, self.read_only_reason or "", action)

    def _translate_error(self, context: Any) -> None:
        """Damaged files and refused writes become Lamella errors wherever they surface."""

        original = context.original_exception
        if access.is_damage(original):
            raise access.damaged_error(self.config, original) from original
        if access.is_write_refusal(original, context.statement):
            if self.read_only_reason is None:  # found out by trying: later writes fail before any work
                self.read_only_reason = access.refusal_reason(self.config, original)
            raise self.read_only_error() from original
        module = _missing_module(original)
        if module is not None:
            raise NotConnected(
                f"instance {self.config.name!r} does not use the module {module!r}: add it with "
                f"`lamella migrate --modules {module}` (or ln.setup.migrate(modules={module!r}))"
            ) from original
        _on_driver_error(context)

    def session(self) -> Session:
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._sessionmaker()
            session.info["write_depth"] = 0
            session.info.update(self.session_info)
            self._local.session = session
        elif not session.is_active and session.info["write_depth"] == 0:
            # a flush failed outside write(): without this every later call would fail with
            # "this Session's transaction has been rolled back due to a previous exception"
            session.rollback()
            _keep_ids(session)
        return session

    def setting(self, name: str) -> str | None:
        """The value of one of the instance's settings (a row of `instance_setting`), None if unset."""
        statement = text(f"SELECT value FROM {SETTINGS_TABLE} WHERE name = :name")
        value = self.session().execute(statement, {"name": name}).scalar_one_or_none()
        return None if value is None else str(value)

    @contextmanager
    def write(self, *locks: str) -> Iterator[Session]:
        """A write transaction. Nested calls join the outer one; locks are taken in sorted order."""
        if self.read_only_reason is not None:
            raise self.read_only_error()
        session = self.session()
        if session.info["write_depth"] > 0:
            session.info["write_depth"] += 1
            try:
                if locks and self.dialect == "postgresql":
                    self._take_locks(session, locks)
                yield session
                session.flush()
            finally:
                session.info["write_depth"] -= 1
            return
        connection = session.connection()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
        session.info["write_depth"] = 1
        try:
            if locks and self.dialect == "postgresql":
                self._take_locks(session, locks)
            yield session
            session.flush()
            connection.exec_driver_sql("COMMIT")
        except BaseException as error:
            try:
                connection.exec_driver_sql("ROLLBACK")
            except Exception:
                pass  # a failed flush may have rolled back already; the original error is what matters
            finally:
                session.info["write_depth"] = 0
                session.rollback()  # new objects become transient again, changed ones are reloaded
                _keep_ids(session)
            _raise_as_lamella_error(error)
            raise
        session.info["write_depth"] = 0
        session.commit()  # ends SQLAlchemy's bookkeeping of the unit of work; the data is already committed

    @staticmethod
    def _take_locks(session: Session, locks: tuple[str, ...]) -> None:
        connection = session.connection()
        for name in sorted(set(locks)):
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (advisory_lock_id(name),))

    def in_write(self) -> bool:
        session: Session | None = getattr(self._local, "session", None)
        return bool(session is not None and session.info["write_depth"] > 0)

    def dispose(self) -> None:
        session: Session | None = getattr(self._local, "session", None)
        if session is not None:
            session.close()
        self.engine.dispose()


def _keep_ids(session: Session) -> None:
    """After a rollback, records that were saved before it keep their id in view.

    SQLAlchemy's rollback (also the one a failed flush does by itself) expires every loaded object,
    and "is it saved?" checks read the id without triggering a reload: without this, a user's saved
    schema would look unsaved after any failed write. The id comes from the identity key, which
    survives expiry; records inserted by the failed transaction are no longer in the session.
    """

    for obj in list(session.identity_map.values()):
        state = inspect(obj)
        if "id" not in obj.__dict__ and state.key is not None and "id" in state.mapper.columns:
            set_committed_value(obj, "id", state.key[1][0])


# a table of an optional module the database lacks: "no such table: bionty_gene" (SQLite),
# 'relation "bionty_gene" does not exist' (PostgreSQL)
_MISSING_MODULE_TABLE = re.compile(r"""(?:no such table: |relation ")([a-z]+)_\w+""")


def _missing_module(error: BaseException) -> str | None:
    match = _MISSING_MODULE_TABLE.search(str(error))
    if match is not None and match.group(1) in OPTIONAL_MODULES:
        return match.group(1)
    return None
