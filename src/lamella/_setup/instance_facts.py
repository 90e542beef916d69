"""What `lamella info` reads from an instance's database without SQLAlchemy: its hash type.

SQLite is read with the standard library, opened read-only; PostgreSQL with psycopg, the driver the
instance uses anyway.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from lamella._instance import access
from lamella._instance.config import InstanceConfig
from lamella._instance.state import HASH_TYPE_SETTING, SETTINGS_TABLE
from lamella.errors import PathNotFound

_QUERY = f"SELECT value FROM {SETTINGS_TABLE} WHERE name = '{HASH_TYPE_SETTING}'"


def stored_hash_type(config: InstanceConfig) -> str | None:
    """The hash type the instance's database records; None where it records none (an older schema,
    which `lamella migrate` gives md5). Raises PathNotFound, or the driver's error, if the database
    cannot be read."""
    if config.dialect == "postgresql":
        return _from_postgres(config.url())
    path = config.sqlite_path()
    if not path.exists():
        raise PathNotFound(
            f"no database file at {path}: restore it, or rebuild it with `lamella check --reindex`"
        )
    connection = sqlite3.connect(access.sqlite_read_only_uri(path), uri=True)
    try:
        return _first_value(connection.execute(_QUERY).fetchall())
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return None
        raise
    finally:
        connection.close()


def _from_postgres(url: str) -> str | None:
    import psycopg  # loaded only for a PostgreSQL instance

    conninfo = "postgresql://" + url.split("://", 1)[1]
    with psycopg.connect(conninfo, connect_timeout=5) as connection:
        table = connection.execute("SELECT to_regclass(%s)", (SETTINGS_TABLE,)).fetchone()
        if table is None or table[0] is None:
            return None
        return _first_value(connection.execute(_QUERY).fetchall())


def _first_value(rows: list[Any]) -> str | None:
    return str(rows[0][0]) if rows else None
