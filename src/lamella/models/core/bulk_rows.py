"""New rows written at the driver level, for `ln.save` of many records: ids reserved in one go, then
one SQLite executemany or one PostgreSQL `COPY ... FROM STDIN`.

SQLAlchemy's per-row parameter processing costs more than the insert itself, and its psycopg
executemany sends one INSERT per row (pipelined): 100,000 artifact rows took 7 s that way. Values
are converted here per column type, the way SQLAlchemy's types would bind them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import Date
from sqlalchemy import exc as sa_exc

from lamella.models.core.columns import JSONType, UTCDateTime

__all__ = ["reserve_ids", "write_rows"]


def reserve_ids(table: str, count: int, connection: Any) -> list[int]:
    """Ids for `count` new rows, taken inside the write transaction so no other writer can take them."""
    if connection.dialect.name == "sqlite":  # BEGIN IMMEDIATE: we are the only writer
        highest = connection.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar_one()
        return list(range(highest + 1, highest + 1 + count))
    sequence = _id_sequence(connection, table)
    rows = connection.exec_driver_sql(
        "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", (sequence, count)
    ).all()
    return [int(r[0]) for r in rows]


# (database URL, table) -> the sequence of its ids: a table keeps its sequence, and asking costs a
# round trip per save
_ID_SEQUENCES: dict[tuple[str, str], str] = {}


def _id_sequence(connection: Any, table: str) -> str:
    key = (connection.engine.url.render_as_string(hide_password=True), table)
    sequence = _ID_SEQUENCES.get(key)
    if sequence is None:
        # named once, not in the select list below, where it ran per row (3/4 of the time)
        statement = f"SELECT pg_get_serial_sequence('\"{table}\"', 'id')"
        sequence = _ID_SEQUENCES[key] = str(connection.exec_driver_sql(statement).scalar_one())
    return sequence


def write_rows(
    connection: Any,
    table: Any,
    keys: list[str],
    rows: list[list[Any]],
    meanwhile: Callable[[], None] | None = None,
) -> None:
    """Insert `rows` (values in the order of `keys`; converted in place) into `table`.

    `meanwhile()` is work of the caller's that needs no database: for many rows it runs while the
    database inserts them (the write waits on the database in a helper thread, which holds no GIL
    while it waits), so that it costs nothing: the database is the slower of the two.
    """
    if not rows:
        if meanwhile is not None:
            meanwhile()
        return
    converters = _converters(table, keys, connection.dialect)
    write = _executemany_sqlite if connection.dialect.name == "sqlite" else _copy_postgres

    def insert() -> None:
        _convert(rows, converters)
        write(connection, table.name, keys, rows)

    if meanwhile is None:
        insert()
    elif len(rows) < OVERLAP_MIN_ROWS:
        insert()
        meanwhile()
    else:
        _overlapped(insert, meanwhile)


BIG_CACHE_MIN_ROWS = 10_000
BIG_CACHE_KIB = -65_536  # SQLite's negative cache_size: KiB, not pages

# below this many rows a thread's start costs more than the overlap saves
OVERLAP_MIN_ROWS = 2000


def _overlapped(insert: Callable[[], None], meanwhile: Callable[[], None]) -> None:
    """`insert()` in a helper thread while `meanwhile()` runs here; `insert`'s failure is raised here.

    The connection is used by the helper alone until it is done: `meanwhile` never touches it.
    """
    failure: list[BaseException] = []

    def run() -> None:
        try:
            insert()
        except BaseException as error:  # handed to the calling thread, which raises it
            failure.append(error)

    helper = threading.Thread(target=run, name="lamella-insert")
    helper.start()
    try:
        meanwhile()
    finally:
        helper.join()
    if failure:
        raise failure[0]


def _sqlite_datetime(value: datetime | None) -> str | None:
    """As SQLAlchemy's SQLite DateTime stores it: UTC, no offset, microseconds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _date(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _memoized(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Rows saved together share their timestamps: each is converted once."""
    seen: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = convert(value)
            return result

    return converted


def _converters(table: Any, keys: list[str], dialect: Any) -> list[tuple[int, Callable[[Any], Any]]]:
    sqlite = dialect.name == "sqlite"
    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for index, key in enumerate(keys):
        column_type = table.c[key].type
        if isinstance(column_type, UTCDateTime):
            # on PostgreSQL as the type binds it: a naive value is UTC, not the server's local time
            bind = _sqlite_datetime if sqlite else partial(column_type.process_bind_param, dialect=dialect)
            converters.append((index, _memoized(bind)))
        elif isinstance(column_type, JSONType):
            converters.append((index, _json))  # COPY's text format takes JSON text for jsonb too
        elif sqlite and isinstance(column_type, Date):
            converters.append((index, _date))
        # str, int, float, bool (and dates on PostgreSQL): the driver writes them as they are
    return converters


def _convert(rows: list[list[Any]], converters: Sequence[tuple[int, Callable[[Any], Any]]]) -> None:
    for row in rows:
        for index, convert in converters:
            row[index] = convert(row[index])


# rows per INSERT statement on SQLite: a table with a search index (an FTS5 table kept by triggers)
# pays per statement, not per row (~25 us per statement), and a fixed size keeps the statement
# prepared once
ROWS_PER_INSERT = 256


def _executemany_sqlite(connection: Any, table: str, keys: list[str], rows: list[list[Any]]) -> None:
    quote = connection.dialect.identifier_preparer.quote  # only where needed, as SQLAlchemy writes it
    one_row = "(" + ", ".join("?" for _ in keys) + ")"
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(k) for k in keys)}) VALUES "
    limit = connection.connection.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per = max(1, min(ROWS_PER_INSERT, limit // len(keys)))
    whole = len(rows) - len(rows) % per
    # many rows update each index at random places: SQLite's default page cache (2 MB) cannot hold
    # the indexes' pages, which then go back and forth to the WAL (100,000 artifacts: 5 s, with 64 MB: 3 s)
    cache = None
    if len(rows) >= BIG_CACHE_MIN_ROWS:
        cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        connection.exec_driver_sql(f"PRAGMA cache_size = {BIG_CACHE_KIB}")
    try:
        # through the engine, not the driver: its error hook translates a failure, its events see the insert
        if whole:
            batches = [tuple(v for row in rows[i : i + per] for v in row) for i in range(0, whole, per)]
            connection.exec_driver_sql(head + ", ".join([one_row] * per), batches)
        if whole < len(rows):
            rest = rows[whole:]
            connection.exec_driver_sql(
                head + ", ".join([one_row] * len(rest)), tuple(v for row in rest for v in row)
            )
    finally:
        if cache is not None:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


def _copy_postgres(connection: Any, table: str, keys: list[str], rows: list[list[Any]]) -> None:
    """One `COPY ... FROM STDIN` on the transaction's own connection: ~5x a multi-row INSERT's rate.

    COPY is psycopg's, not the engine's: a driver error is handed to the engine's error handling as
    an executed statement's would be (Lamella's `handle_error` hook maps it, the connection is
    invalidated if it broke), so the caller sees the same exceptions as from an INSERT.
    """
    quote = connection.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table)} ({', '.join(quote(k) for k in keys)}) FROM STDIN"
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row)
    except connection.dialect.loaded_dbapi.Error as error:
        handle = getattr(connection, "_handle_dbapi_exception", None)  # SQLAlchemy's own path for it
        if handle is not None:
            handle(error, sql, None, None, None)
        raise sa_exc.DBAPIError.instance(sql, None, error, connection.dialect.loaded_dbapi.Error) from error
