"""The SQLite DDL snapshot `lamella init` runs must be exactly what the models produce."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from lamella._instance.config import InstanceConfig, UserConfig
from lamella._setup import sqlite_snapshot


def test_snapshot_matches_the_models() -> None:
    # rendered in a fresh interpreter: creating a PostgreSQL schema in this process (integration tests
    # on the same worker) marks the use_alter foreign keys as "added by ALTER" in the shared metadata,
    # which changes how SQLAlchemy renders them afterwards
    rendered = subprocess.run(
        [
            sys.executable,
            "-c",
            "from lamella._setup import schema; print(schema.render_sqlite_snapshot(), end='')",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shipped = sqlite_snapshot.SNAPSHOT.read_text()
    assert rendered == shipped, "models changed: run `python -m lamella._setup.schema`"


def test_database_from_snapshot_has_every_table_and_first_rows(tmp_path: Path) -> None:
    from lamella._setup.schema import core_tables

    config = InstanceConfig(name="snap", uid="abcdefghijkl", storage_root=str(tmp_path / "data"))
    user = UserConfig(handle="ada", uid="ADA00001")
    sqlite_snapshot.create_instance_database(config, user)
    connection = sqlite3.connect(config.sqlite_path())
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {t.name for t in core_tables()} | {"alembic_version"} <= tables  # modules add theirs on connect
    from lamella._setup.schema import HEAD_REVISION

    assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
    assert sorted(connection.execute("SELECT id, name FROM branch")) == [
        (-1, "trash"),
        (0, "archive"),
        (1, "main"),
    ]
    assert connection.execute("SELECT handle, uid FROM user").fetchall() == [("ada", "ADA00001")]
    # a new instance hashes with BLAKE3 (instances migrated from before keep md5); search is indexed
    assert sorted(connection.execute("SELECT name, value FROM instance_setting")) == [
        ("hash_type", "blake3"),
        ("search_index", "trigram"),
    ]
    root, instance_uid, created_by = connection.execute(
        "SELECT root, instance_uid, created_by_id FROM storage"
    ).fetchone()
    assert (root, instance_uid, created_by) == (str(tmp_path / "data"), "abcdefghijkl", 1)
    connection.close()


def test_failed_creation_leaves_no_database(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = InstanceConfig(name="broken", uid="abcdefghijkl", storage_root=str(tmp_path / "data"))
    branches = sqlite_snapshot.base_rows.BRANCHES
    monkeypatch.setattr(sqlite_snapshot.base_rows, "BRANCHES", (*branches, branches[0]))  # a duplicate id
    try:
        sqlite_snapshot.create_instance_database(config, UserConfig(handle="ada", uid="ADA00001"))
    except sqlite3.IntegrityError as e:
        assert "branch" in str(e)
    else:
        raise AssertionError("a broken script must raise")
    assert not config.sqlite_path().exists()
