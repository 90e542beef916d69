"""Several processes creating the same SQLite instance at once on first use, and creations cut short.

Each worker is a fresh interpreter that imports Lamella first and then waits at a gate (see
tests/workers.py), so the instance creation itself overlaps across the workers. A fresh LAMELLA_HOME
per trial makes every trial a real first use. Concurrent `ln.setup.init` and `lamella init` on every
backend are in tests/conformance/test_init_race.py.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from workers import assert_all_succeeded, race

N_WORKERS = 8
N_TRIALS = 2  # tests/conformance/test_init_race.py races SQLite creations too

# saves a small text file under a key of its own through autoconnect
FIRST_USE_WORKER = r"""
import lamella as ln
import lamella.models  # the heavy imports happen before the start signal
wait_for_start()
path = Path(f"file-{INDEX}.txt")
path.write_text(f"written by worker {INDEX}\n")
artifact = ln.Artifact(str(path), key=f"race/{INDEX}.txt").save()
print("SAVED", artifact.uid)
"""


def _instance_configs(home: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((home / "instances").glob("*.json"))]


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(db)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _leftovers(folder: Path) -> list[str]:
    """Temporary files a database creation left behind."""
    return sorted(
        p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".lamella.db")
    )


@pytest.mark.parametrize("trial", range(N_TRIALS))
def test_first_use_from_many_processes_keeps_every_save(tmp_path: Path, trial: int) -> None:
    home = tmp_path / "home"
    results = race(FIRST_USE_WORKER, tmp_path / "work", [home] * N_WORKERS)
    assert_all_succeeded(results)

    configs = _instance_configs(home)
    assert [c["name"] for c in configs] == ["default"]
    assert json.loads((home / "settings.json").read_text())["current_instance"] == "default"
    db = home / "data" / "default" / ".lamella" / "lamella.db"
    assert _rows(db, "SELECT version_num FROM alembic_version") != []
    keys = _rows(db, "SELECT key FROM artifact ORDER BY key")
    assert keys == [(f"race/{i}.txt",) for i in range(N_WORKERS)]
    # the instance's uid is the one its database was created with, in every process
    assert _rows(db, "SELECT instance_uid FROM storage") == [(configs[0]["uid"],)]
    user = json.loads((home / "settings.json").read_text())["user"]
    assert _rows(db, "SELECT uid, handle FROM user") == [(user["uid"], user["handle"])]
    assert _leftovers(db.parent) == []


# ---- the same situations, made deterministic in one process ------------------------------------------


def test_a_failed_creation_deletes_nothing_but_its_own_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella._instance import config as cfg
    from lamella._setup import sqlite_snapshot

    config = cfg.InstanceConfig(name="data", uid="a" * 12, storage_root=str(tmp_path / "data"))
    db = config.sqlite_path()

    def another_process_wins_meanwhile() -> str:  # called halfway through building the database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").write_text("the winner's")
        raise OSError("disk full")

    monkeypatch.setattr(sqlite_snapshot, "_storage_uid", another_process_wins_meanwhile)
    with pytest.raises(OSError, match="disk full"):
        sqlite_snapshot.create_instance_database(config, cfg.UserConfig(handle="me", uid="u" * 8))
    assert sorted(p.name for p in db.parent.iterdir()) == ["lamella.db", "lamella.db-shm", "lamella.db-wal"]
    assert {Path(f"{db}{s}").read_text() for s in ("", "-wal", "-shm")} == {"the winner's"}


def test_a_database_build_killed_midway_is_removed_by_the_next_creator(tmp_path: Path) -> None:
    from lamella._instance import config as cfg
    from lamella._process import HOST
    from lamella._setup import sqlite_snapshot

    config = cfg.InstanceConfig(name="data", uid="a" * 12, storage_root=str(tmp_path / "data"))
    folder = config.sqlite_path().parent
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    killed = folder / f".lamella.db.{HOST}~{int(dead.stdout)}.0badc0de.tmp"
    running = folder / f".lamella.db.{HOST}~{os.getpid()}.0badc0de.tmp"  # a creator still building
    elsewhere = folder / ".lamella.db.otherhost~1.0badc0de.tmp"  # a fresh build on another machine
    for path in (killed, Path(f"{killed}-journal"), running, elsewhere):
        path.write_text("half a database")
    created = sqlite_snapshot.create_instance_database(config, cfg.UserConfig(handle="me", uid="u" * 8))
    assert created is True
    assert not killed.exists() and not Path(f"{killed}-journal").exists()
    assert running.exists() and elsewhere.exists()


def test_creating_a_database_that_exists_keeps_it(tmp_path: Path) -> None:
    import lamella
    from lamella._instance import config as cfg
    from lamella._setup import sqlite_snapshot

    lamella.setup.init(storage=tmp_path / "data")
    lamella.ULabel(name="kept").save()
    config = cfg.InstanceConfig(name="again", uid="b" * 12, storage_root=str((tmp_path / "data").resolve()))
    created = sqlite_snapshot.create_instance_database(config, cfg.UserConfig(handle="me", uid="u" * 8))
    assert created is False
    assert _rows(config.sqlite_path(), "SELECT name FROM ulabel") == [("kept",)]
    assert _leftovers(config.sqlite_path().parent) == []


def test_init_on_an_existing_database_adopts_the_uid_it_was_created_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_connection: Callable[[], None]
) -> None:
    import lamella

    first = lamella.setup.init(storage=tmp_path / "data")
    assert first is not None
    uid = first.config.uid
    # another LAMELLA_HOME (another process that lost the race, or another user) inits the same storage
    forget_connection()
    monkeypatch.setenv("LAMELLA_HOME", str(tmp_path / "other_home"))
    second = lamella.setup.init(storage=tmp_path / "data")
    assert second is not None
    assert second.config.uid == uid
    saved = json.loads((tmp_path / "other_home" / "instances" / "data.json").read_text())
    assert saved["uid"] == uid
    assert _rows(second.config.sqlite_path(), "SELECT instance_uid FROM storage") == [(uid,)]
