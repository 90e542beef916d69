"""Which instances can be written, and database errors that mean "damaged" or "read-only".

The drivers report a damaged SQLite file and a refused write with generic exceptions
(`sqlite3.DatabaseError`, psycopg's `InsufficientPrivilege`) that can surface in any query. The
engine's `handle_error` hook (in `database.py`) turns every one of them into a
`StorageError` or `ReadOnlyError` naming the instance and the way out.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lamella.errors import ReadOnlyError, StorageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from lamella._instance.config import InstanceConfig

# SQLSTATEs of PostgreSQL: the role lacks a privilege; the transaction (or server) is read-only
PG_INSUFFICIENT_PRIVILEGE = "42501"
PG_READ_ONLY_TRANSACTION = "25006"
REQUESTED = "connected with read_only=True"
# an instance read beside the connection (`.using()`, `ln.DB()`): the reason its database is read-only
USING = "opened with .using() or ln.DB() to read, beside the connected instance"


def is_damage(error: BaseException) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
        return True
    text = str(error)
    return isinstance(error, sqlite3.DatabaseError) and (
        "malformed" in text or "file is not a database" in text
    )


def is_write_refusal(error: BaseException, statement: str | None = None) -> bool:
    name = getattr(error, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY") or "attempt to write a readonly database" in str(error):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate == PG_READ_ONLY_TRANSACTION:
        return True
    # a role that may not SELECT a table is not a read-only problem: only refused writes are
    return sqlstate == PG_INSUFFICIENT_PRIVILEGE and not (statement or "").lstrip().upper().startswith(
        ("SELECT", "WITH")
    )


def damaged_error(config: InstanceConfig, error: BaseException) -> StorageError:
    where = f"the database file {config.sqlite_path()}" if config.dialect == "sqlite" else "the database"
    return StorageError(
        f"{where} of instance {config.name!r} is damaged ({error}): `lamella check` shows what is wrong; "
        f"restore it from a backup, or rebuild the artifact registry from the stored files with "
        f"`lamella check --reindex`"
    )


def read_only_error(config: InstanceConfig, reason: str, action: str = "write") -> ReadOnlyError:
    if reason == REQUESTED:
        fix = f"connect without it to write: ln.connect({config.name!r}) or `lamella connect {config.name}`"
    elif reason == USING:
        fix = (
            f"to change it, connect to it: ln.connect({config.name!r}) or `lamella connect {config.name}`; "
            f"to copy one of its records into the connected instance, call record.save() without changing it"
        )
    elif config.dialect == "sqlite":
        fix = (
            f"ask for write permission on {config.sqlite_path()} and its folder, then reconnect "
            f"with `lamella connect {config.name}`"
        )
    else:
        fix = "connect with a PostgreSQL role that may INSERT, UPDATE and DELETE (change the --db URL)"
    return ReadOnlyError(
        f"cannot {action}: instance {config.name!r} is read-only ({reason}); nothing was written; {fix}"
    )


def refusal_reason(config: InstanceConfig, error: BaseException) -> str:
    if config.dialect == "sqlite":
        return f"the database file {config.sqlite_path()} cannot be written"
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"the database refused a write: {first_line}"


# --- detecting what cannot be written, before trying --------------------------------------------


def sqlite_refusal(path: Path) -> str | None:
    """Why the SQLite file cannot be written (file or folder not writable), or None.

    WAL mode needs to create the -wal and -shm files beside the database, hence the folder too. The
    superuser passes every check: for it a write is refused only by a read-only mount, which the
    translated write error reports.
    """
    if not os.access(path, os.W_OK):
        return f"the database file {path} is not writable"
    if not os.access(path.parent, os.W_OK):
        return f"the folder {path.parent} of the database is not writable"
    return None


def pg_refusal(connection: Connection) -> str | None:
    """Why this PostgreSQL role or server cannot write, or None: one cheap query."""

    # a driver-level statement: this module is also read by `lamella info`, which never loads SQLAlchemy
    row = connection.exec_driver_sql(
        "SELECT current_user, current_setting('transaction_read_only'), "
        "has_table_privilege('artifact', 'INSERT'), has_table_privilege('user', 'INSERT')"
    ).one()
    user, read_only, can_insert_artifact, can_insert_user = row
    if read_only == "on":
        return "the PostgreSQL server or database only allows reading (default_transaction_read_only)"
    if not (can_insert_artifact and can_insert_user):
        return f"the PostgreSQL role {user!r} may only read"
    return None


# --- read-only SQLite connections -----------------------------------------------------------------


def sqlite_read_only_uri(path: Path) -> str:
    """A `file:` URI that opens the database read-only.

    A database in WAL mode is read through its -shm file; when that is missing and the folder
    cannot be written, SQLite refuses even to read ("attempt to write a readonly database"). Such a
    database cannot be written by anyone who could also not create the -shm file, so it is opened
    as immutable: no locks, no -shm.
    """
    uri = f"file:{quote(str(path))}?mode=ro"
    try:
        probe = sqlite3.connect(uri, uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.Error as e:
        if is_write_refusal(e) or "unable to open" in str(e):
            return uri + "&immutable=1"
    return uri


def connect_read_only(uri: str, timeout: float) -> Any:
    return sqlite3.connect(uri, uri=True, timeout=timeout, check_same_thread=False)
