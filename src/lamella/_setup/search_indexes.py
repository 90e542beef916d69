"""Creating the search indexes (`_instance/search_index.py`) in a database, or recording that it cannot.

Three callers: a new database (`schema.create_schema`, inside its transaction), migration 0006 (an
existing database, maybe with millions of rows: PostgreSQL builds the indexes CONCURRENTLY, so
writers are not blocked) and `lamella migrate` on an instance that recorded `search_index = scan`
(it tries again, e.g. after a superuser enabled pg_trgm). Each records the outcome in
`instance_setting`; an index that cannot be made is a warning, never an error: search then scans.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from lamella._instance import search_index as si
from lamella._instance.state import SETTINGS_TABLE
from lamella._logging import logger

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

_SAVEPOINT = "lamella_search_index"


def create(connection: Connection, *, existing_rows: bool = False, concurrently: bool = False) -> str:
    """Create every search index and record the outcome (`TRIGRAM` or `SCAN`), which it returns.

    `existing_rows`: fill the SQLite FTS tables from the rows already there. `concurrently`
    (PostgreSQL): the connection is in autocommit mode and the indexes are built without locking
    out writers; otherwise the connection is inside a transaction.
    """
    if connection.dialect.name == "sqlite":
        outcome = _create_sqlite(connection, existing_rows=existing_rows)
    else:
        outcome = _create_postgres(connection, concurrently=concurrently)
    record(connection, outcome)
    return outcome


def record(connection: Connection, outcome: str) -> None:
    parameters = {"name": si.SEARCH_INDEX_SETTING, "value": outcome}
    connection.execute(text(f"DELETE FROM {SETTINGS_TABLE} WHERE name = :name"), parameters)
    connection.execute(text(f"INSERT INTO {SETTINGS_TABLE} (name, value) VALUES (:name, :value)"), parameters)


def recorded(connection: Connection) -> str | None:
    statement = text(f"SELECT value FROM {SETTINGS_TABLE} WHERE name = :name")
    value = connection.execute(statement, {"name": si.SEARCH_INDEX_SETTING}).scalar_one_or_none()
    return None if value is None else str(value)


def _create_sqlite(connection: Connection, *, existing_rows: bool) -> str:
    if not si.sqlite_has_trigram():
        reason = f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 trigram tokenizer"
        logger.warning(si.scan_message("sqlite", reason))
        return si.SCAN
    for table, fields in si.SEARCH_FIELDS.items():
        for statement in si.sqlite_statements(table, fields):
            connection.exec_driver_sql(statement)
        if existing_rows:
            for statement in si.sqlite_rebuild(table):
                connection.exec_driver_sql(statement)
    return si.TRIGRAM


def _create_postgres(connection: Connection, *, concurrently: bool) -> str:
    opclass_schema = _enable_pg_trgm(connection, in_transaction=not concurrently)
    if opclass_schema is None:
        return si.SCAN
    if concurrently:
        _drop_invalid_indexes(connection)
        logger.info("building the search indexes (pg_trgm); a table of millions of rows takes minutes")
    for statement in si.pg_index_statements(opclass_schema, concurrently=concurrently):
        connection.exec_driver_sql(statement)
    for table in si.SEARCH_FIELDS:
        # statistics of the indexed expressions, which the planner and the search read
        # (`_query/trigram_stats.py`); autovacuum refreshes them as the tables grow
        connection.exec_driver_sql(f'ANALYZE "{table}"')
    return si.TRIGRAM


def _enable_pg_trgm(connection: Connection, *, in_transaction: bool) -> str | None:
    """`CREATE EXTENSION IF NOT EXISTS pg_trgm`; the schema it is in, or None (with a warning) if the
    server refuses (no privilege, extension not installed).

    Sent through the driver's own cursor: a refusal ("permission denied") must not reach the
    engine's error hook, which takes refused writes for a read-only database. Inside a transaction a
    savepoint keeps the refusal from aborting it.
    """
    cursor = _driver_connection(connection).cursor()
    try:
        if in_transaction:
            cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        try:
            cursor.execute(f"CREATE EXTENSION IF NOT EXISTS {si.PG_EXTENSION}")
        except Exception as error:  # the driver's error, whatever its class: the server said no
            if in_transaction:
                cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            reason = f"the PostgreSQL extension {si.PG_EXTENSION} could not be enabled ({first_line})"
            logger.warning(si.scan_message("postgresql", reason))
            return None
        if in_transaction:
            cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
        cursor.execute(
            "SELECT n.nspname FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace "
            "WHERE e.extname = %s",
            (si.PG_EXTENSION,),
        )
        row = cursor.fetchone()
        return str(row[0]) if row is not None else None
    finally:
        cursor.close()


def _drop_invalid_indexes(connection: Connection) -> None:
    """A CONCURRENTLY build that was interrupted leaves an invalid index, which `IF NOT EXISTS` would
    keep: drop it, so this build makes it again."""
    rows = connection.exec_driver_sql(
        "SELECT c.relname FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE NOT i.indisvalid AND c.relname = ANY(%(names)s)",
        {"names": si.pg_index_names()},
    ).scalars()
    for name in list(rows):
        connection.exec_driver_sql(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


def drop(connection: Connection) -> None:
    """Remove every search index and the setting (migration 0006 downgraded)."""
    if connection.dialect.name == "sqlite":
        for table in si.SEARCH_FIELDS:
            for statement in si.sqlite_drop_statements(table):
                connection.exec_driver_sql(statement)
    else:
        for name in si.pg_index_names():
            connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{name}"')
    connection.execute(
        text(f"DELETE FROM {SETTINGS_TABLE} WHERE name = :name"), {"name": si.SEARCH_INDEX_SETTING}
    )


def retry(engine: Engine) -> str | None:
    """`lamella migrate` on an instance whose search scans: create the indexes if it is possible now.

    Returns the new outcome, or None when there was nothing to do.
    """
    with engine.connect() as connection:
        if recorded(connection) != si.SCAN:
            return None
    if engine.dialect.name == "sqlite":
        if not si.sqlite_has_trigram():
            return None
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                for table in si.SEARCH_FIELDS:  # whatever an earlier attempt left goes first
                    for statement in si.sqlite_drop_statements(table):
                        connection.exec_driver_sql(statement)
                outcome = create(connection, existing_rows=True)
            except BaseException:
                connection.exec_driver_sql("ROLLBACK")
                raise
            connection.exec_driver_sql("COMMIT")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            outcome = create(connection, concurrently=True)
    if outcome == si.TRIGRAM:
        logger.info("search is indexed now (the search indexes were created)")
    return outcome


def _driver_connection(connection: Connection) -> Any:
    return connection.connection.driver_connection
