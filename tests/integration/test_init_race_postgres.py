"""Several processes running `ln.setup.init` on one empty PostgreSQL database at the same time.

Each worker imports Lamella, SQLAlchemy and psycopg first and then waits at a gate, so the schema
creation and the first rows overlap across the workers. All of them must end connected to one
instance: one schema, one set of base rows, one storage row, one instance uid.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration]

N_WORKERS = 8

# argv: worker index, gate folder, storage folder, database URL
WORKER = r"""
import json, sys, time
from pathlib import Path
index, gate, storage, db = int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
import lamella as ln
import lamella.models, psycopg, sqlalchemy  # the heavy imports happen before the start signal
(gate / f"ready-{index}").touch()
deadline = time.time() + 60
while not (gate / "go").exists():
    if time.time() > deadline:
        sys.exit("no start signal")
    time.sleep(0.002)
ln.setup.init(storage=storage, db=db)
ln.ULabel(name=f"from-{index}").save()
print("RESULT", json.dumps({"uid": ln.setup.settings.instance.uid, "name": ln.setup.settings.instance.name}))
"""


def _race(folder: Path, homes: list[Path], storage: Path, db: str) -> list[subprocess.CompletedProcess[str]]:
    script = folder / "worker.py"
    script.write_text(WORKER)
    gate = folder / "gate"
    gate.mkdir()
    procs = []
    for i, home in enumerate(homes):
        env = {**os.environ, "LAMELLA_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        env.pop("LAMELLA_CACHE_DIR", None)
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), str(i), str(gate), str(storage), db],
                env=env,
                cwd=folder,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        deadline = time.monotonic() + 90
        while len(list(gate.glob("ready-*"))) < len(procs):
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                break  # a worker died before the start: the exit codes below say which
            time.sleep(0.01)
        (gate / "go").touch()
        results = []
        for i, proc in enumerate(procs):
            out, err = proc.communicate(timeout=120)
            results.append(subprocess.CompletedProcess([str(i)], proc.returncode, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _query(db: str, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(db) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("homes", ["one shared home", "a home per process"])
def test_concurrent_init_on_one_empty_postgres_database(fresh_pg_db: str, tmp_path: Path, homes: str) -> None:
    storage = tmp_path / "data"
    if homes == "one shared home":
        home_list = [tmp_path / "home"] * N_WORKERS
    else:
        home_list = [tmp_path / f"home-{i}" for i in range(N_WORKERS)]
    results = _race(tmp_path, home_list, storage, fresh_pg_db)

    failed = [
        f"worker {r.args[0]} exited {r.returncode}:\n{r.stdout}\n{r.stderr}" for r in results if r.returncode
    ]
    assert not failed, "\n".join(failed)
    reported = [json.loads(r.stdout.split("RESULT ", 1)[1]) for r in results]
    assert {r["name"] for r in reported} == {"data"}
    assert _query(fresh_pg_db, "SELECT id, name FROM branch ORDER BY id") == [
        (-1, "trash"),
        (0, "archive"),
        (1, "main"),
    ]
    assert _query(fresh_pg_db, "SELECT id, name FROM space") == [(1, "all")]
    storage_rows = _query(fresh_pg_db, "SELECT root, instance_uid FROM storage")
    assert len(storage_rows) == 1
    root, instance_uid = storage_rows[0]
    assert root == str(storage.resolve())
    # every process, and every config file, knows the instance by the uid it was created with
    assert {r["uid"] for r in reported} == {instance_uid}
    for home in set(home_list):
        config = json.loads((home / "instances" / "data.json").read_text())
        assert config["uid"] == instance_uid
    assert _query(fresh_pg_db, "SELECT count(*) FROM ulabel") == [(N_WORKERS,)]
    assert len(_query(fresh_pg_db, "SELECT version_num FROM alembic_version")) == 1
