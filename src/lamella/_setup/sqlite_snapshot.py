"""A new SQLite instance from a DDL snapshot, without importing SQLAlchemy.

`lamella init` is the first thing a user runs; creating the tables through SQLAlchemy means
importing it, declaring every model and compiling ~250 DDL statements, about a second. The same
statements, rendered once from the models by SQLAlchemy itself, ship in `sqlite_schema.sql`, and
`init` runs them with the standard library's sqlite3. A unit test renders the snapshot again from
the models and requires it to be identical, so the two cannot drift apart.

Regenerate after changing a model: `python -m lamella._setup.schema` (`schema.render_sqlite_snapshot`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lamella._instance import search_index
from lamella._logging import logger
from lamella._process import HOST, writer_gone
from lamella._setup import base_rows
from lamella._uid import base62

if TYPE_CHECKING:
    from lamella._instance.config import InstanceConfig, UserConfig

SNAPSHOT = Path(__file__).with_name("sqlite_schema.sql")


def _timestamp() -> str:
    # the format SQLAlchemy's SQLite DateTime type writes and reads
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def create_instance_database(config: InstanceConfig, user: UserConfig) -> bool:
    """Create the embedded database of a new instance with its first rows, unless it exists.

    Returns False when a database is already there (another process may have created it a moment
    ago): the caller connects to that one. The database is built completely in a temporary file of
    its own and then hard-linked to its name, which fails if the name exists; so other processes
    only ever see no database or a complete one, and a failure deletes nothing but the temporary file.
    """
    path = config.sqlite_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return False
    _remove_abandoned_builds(path)
    tmp = path.with_name(f".{path.name}.{HOST}~{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        _build(tmp, config, user)
        return _publish(tmp, path)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(tmp) + suffix).unlink(missing_ok=True)


def _remove_abandoned_builds(path: Path) -> None:
    """Temporary databases of creators killed mid-build: of a dead process here, or stale elsewhere."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(?P<host>[^~]+)~(?P<pid>\d+)\.[0-9a-f]+\.tmp")
    for candidate in path.parent.glob(f".{path.name}.*.tmp*"):
        match = pattern.match(candidate.name)
        if match is None:
            continue
        try:
            age = time.time() - candidate.stat().st_mtime
        except FileNotFoundError:
            continue
        if writer_gone(match["host"], int(match["pid"]), age):
            candidate.unlink(missing_ok=True)


def _build(path: Path, config: InstanceConfig, user: UserConfig) -> None:
    now = _timestamp()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        # executescript commits whatever is pending first, so the transaction opens inside the script
        # and stays open for the parameterized inserts below
        connection.executescript("BEGIN IMMEDIATE;\n" + SNAPSHOT.read_text())
        _create_search_indexes(connection)  # before the first rows, which its triggers index
        for table, rows in (("branch", base_rows.BRANCHES), ("space", (base_rows.DEFAULT_SPACE,))):
            connection.executemany(
                f"INSERT INTO {table} (id, uid, name, created_at) VALUES (?, ?, ?, ?)",
                [(*row, now) for row in rows],
            )
        connection.executemany(
            "INSERT INTO instance_setting (name, value) VALUES (?, ?)", base_rows.NEW_INSTANCE_SETTINGS
        )
        cursor = connection.execute(
            "INSERT INTO user (uid, handle, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (user.uid, user.handle, user.name, now, now),
        )
        user_id = cursor.lastrowid
        storage_root = config.current_storage_root
        connection.execute(
            "INSERT INTO storage (uid, root, description, type, instance_uid, host, created_by_id, "
            "branch_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (
                _storage_uid(),
                storage_root,
                base_rows.DEFAULT_STORAGE_DESCRIPTION,
                base_rows.storage_type(storage_root),
                config.uid,
                None if base_rows.storage_type(storage_root) != "local" else HOST,
                user_id,
                now,
                now,
            ),
        )
        connection.execute("COMMIT")
    finally:
        # the last connection closing checkpoints the WAL into the file and removes -wal and -shm,
        # so the single file holds everything when it gets its name
        connection.close()


def _create_search_indexes(connection: sqlite3.Connection) -> None:
    """The FTS5 trigram tables of search and their triggers (as `_setup/search_indexes.py` makes them
    through SQLAlchemy), or the record that this SQLite cannot have them."""
    outcome = search_index.SCAN
    if search_index.sqlite_has_trigram():
        for table, fields in search_index.SEARCH_FIELDS.items():
            for statement in search_index.sqlite_statements(table, fields):
                connection.execute(statement)
        outcome = search_index.TRIGRAM
    else:
        reason = f"this Python's SQLite {sqlite3.sqlite_version} has no FTS5 trigram tokenizer"
        logger.warning(search_index.scan_message("sqlite", reason))
    connection.execute(
        "INSERT INTO instance_setting (name, value) VALUES (?, ?)",
        (search_index.SEARCH_INDEX_SETTING, outcome),
    )


def _publish(tmp: Path, path: Path) -> bool:
    """Give the finished database `tmp` the name `path` if nothing has that name yet."""
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # no hard links on this file system (FAT, some network mounts): rename under a lock
        return _publish_under_lock(tmp, path)


def _publish_under_lock(tmp: Path, path: Path) -> bool:
    import fcntl

    fd = os.open(path.with_name(f"{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if path.exists():
            return False
        os.replace(tmp, path)
        return True
    finally:
        os.close(fd)


def _storage_uid() -> str:

    return base62(12)
