"""Several processes creating the same instance at once, on SQLite and on PostgreSQL.

Each worker is a fresh interpreter that imports Lamella first and then waits at a gate, so the instance
creation itself (not the interpreter start) overlaps across the workers. All of them must end connected
to one instance: one schema, one set of base rows, one storage row, one instance uid.
The SQLite-only situations (first use without an instance, a creation killed midway) are in
tests/unit/test_sqlite_creation.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from servers import query
from workers import Children, assert_all_succeeded, race

N_WORKERS = 8

# ARGS: storage folder, database URL ("" for SQLite)
INIT_WORKER = r"""
import json
import lamella as ln
import lamella.models, sqlalchemy  # the heavy imports happen before the start signal
storage, db = ARGS[0], ARGS[1] or None
wait_for_start()
ln.setup.init(storage=storage, db=db)
ln.ULabel(name=f"from-{INDEX}").save()
print("RESULT", json.dumps({"uid": ln.setup.settings.instance.uid, "name": ln.setup.settings.instance.name}))
"""

# ARGS: the arguments of `lamella`
CLI_WORKER = r"""
from lamella._cli.main import main
wait_for_start()
sys.argv = ["lamella", *ARGS]
main()
"""


def database(db_url: str | None, storage: Path) -> str:
    """What `servers.query` reads: the PostgreSQL URL, or the SQLite file in the storage."""
    return db_url or str(storage / ".lamella" / "lamella.db")


def leftovers(storage: Path) -> list[str]:
    """Temporary files a SQLite database creation left behind (none on PostgreSQL)."""
    folder = storage / ".lamella"
    if not folder.exists():
        return []
    return sorted(
        p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".lamella.db")
    )


def assert_one_instance(db: str, storage: Path, uids: set[str]) -> None:
    """One set of base rows and one storage row, made with the uid every process knows."""
    assert query(db, "SELECT id, name FROM branch ORDER BY id") == [
        (-1, "trash"),
        (0, "archive"),
        (1, "main"),
    ]
    assert query(db, "SELECT id, name FROM space") == [(1, "all")]
    assert query(db, "SELECT root, instance_uid FROM storage") == [(str(storage.resolve()), *uids)]
    assert len(query(db, "SELECT version_num FROM alembic_version")) == 1
    assert leftovers(storage) == []


@pytest.mark.parametrize("homes", ["one shared home", "a home per process"])
def test_concurrent_init_of_one_instance(db_url: str | None, tmp_path: Path, homes: str) -> None:
    storage = tmp_path / "data"
    if homes == "one shared home":
        home_list = [tmp_path / "home"] * N_WORKERS
    else:
        home_list = [tmp_path / f"home-{i}" for i in range(N_WORKERS)]
    results = race(INIT_WORKER, tmp_path / "work", home_list, str(storage), db_url or "")
    assert_all_succeeded(results)

    reported = [json.loads(r.stdout.split("RESULT ", 1)[1]) for r in results]
    assert {r["name"] for r in reported} == {"data"}
    uids = {r["uid"] for r in reported}
    assert len(uids) == 1
    db = database(db_url, storage)
    assert_one_instance(db, storage, uids)
    # every process, and every config file, knows the instance by the uid it was created with
    for home in set(home_list):
        config = json.loads((home / "instances" / "data.json").read_text())
        assert {config["uid"]} == uids
    assert query(db, "SELECT count(*) FROM ulabel") == [(N_WORKERS,)]


def test_concurrent_cli_init_creates_one_instance(db_url: str | None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    storage = tmp_path / "data"
    args = ["init", "--storage", str(storage), *(["--db", db_url] if db_url else [])]
    results = race(CLI_WORKER, tmp_path / "work", [home] * N_WORKERS, *args)
    assert_all_succeeded(results)

    configs = [json.loads(p.read_text()) for p in sorted((home / "instances").glob("*.json"))]
    assert [c["name"] for c in configs] == ["data"]
    assert json.loads((home / "settings.json").read_text())["current_instance"] == "data"
    assert_one_instance(database(db_url, storage), storage, {configs[0]["uid"]})
    # and the instance works in a new process
    check = Children(home).python("import lamella as ln; print('COUNT', ln.Artifact.filter().count())")
    assert check.stdout.splitlines()[-1] == "COUNT 0"
