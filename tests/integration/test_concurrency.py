"""Several processes writing to one instance at the same time, on SQLite and on PostgreSQL.

Each worker is a separate interpreter. Workers connect first, then wait at a gate until all of them
are ready, so their writes really overlap instead of running one after the other.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella._storage import hash_file
from lamella._uid import decode_version

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

# argv: worker index, gate folder, then the mode's own arguments
PRELUDE = r"""
import json, sys, time
from pathlib import Path
import lamella as ln

index, gate = int(sys.argv[1]), Path(sys.argv[2])
ln.ULabel.filter().count()  # connect (and import the models) before the start signal
(gate / f"ready-{index}").touch()
deadline = time.time() + 60
while not (gate / "go").exists():
    if time.time() > deadline:
        sys.exit("no start signal")
    time.sleep(0.005)
"""

VERSIONS_WORKER = (
    PRELUDE
    + r"""
import pandas as pd
n_saves = int(sys.argv[3])
saved = []
for step in range(n_saves):
    df = pd.DataFrame({"worker": [index], "step": [step]})
    artifact = ln.Artifact.from_dataframe(df, key="shared/results.parquet", description=f"worker {index}").save()
    saved.append({"uid": artifact.uid, "worker": index, "step": step})
print(json.dumps(saved))
"""
)

LABELS_WORKER = (
    PRELUDE
    + r"""
n_names = int(sys.argv[3])
ids = {}
for j in range(n_names):
    name = f"label-{j}"
    ids[name] = ln.ULabel(name=name).save().id
    ids["shared-" + name] = ln.ULabel(name="shared").save().id
print(json.dumps(ids))
"""
)

TRACK_WORKER = (
    PRELUDE
    + r"""
run = ln.track()
ln.ULabel(name=f"made-by-{index}").save()
ln.finish()
print(json.dumps({"run": run.uid, "transform": run.transform.uid}))
"""
)


def run_workers(
    children: Any, tmp_path: Path, source: str, n_workers: int, *args: str, timeout: float = 120
) -> list[Any]:
    """Start the workers, release them together, and return what each printed (as JSON)."""
    script = tmp_path / "worker.py"
    script.write_text(source)
    gate = tmp_path / "gate"
    gate.mkdir()
    procs = [children.popen(script, str(i), str(gate), *args, cwd=tmp_path) for i in range(n_workers)]
    try:
        deadline = time.monotonic() + 60
        while len(list(gate.glob("ready-*"))) < n_workers:
            finished = [p for p in procs if p.poll() is not None]
            if finished:
                out, err = finished[0].communicate()
                pytest.fail(f"a worker exited before the start: {out}\n{err}")
            assert time.monotonic() < deadline, "workers did not get ready in time"
            time.sleep(0.02)
        (gate / "go").touch()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, f"worker failed ({proc.returncode}):\n{out}\n{err}"
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def shared_instance(backend: str, db_url: str | None, tmp_path: Path) -> Path:
    storage = tmp_path / "shared-data"
    ln.setup.init(storage=storage, name=f"shared-{backend}", db=db_url)
    return storage


def stored_files(storage: Path) -> list[str]:
    """Every file Lamella keeps under the storage root, except the embedded database."""
    managed = storage / ".lamella"
    return sorted(
        str(p.relative_to(managed)) for p in managed.rglob("*") if p.is_file() and not p.name.startswith("lamella.db")
    )


def test_concurrent_new_versions_of_one_key(shared_instance: Path, tmp_path: Path, children: Any) -> None:
    n_workers, n_saves = 5, 5
    results = run_workers(children, tmp_path, VERSIONS_WORKER, n_workers, str(n_saves))
    reported = [item for worker in results for item in worker]
    total = n_workers * n_saves
    assert len({item["uid"] for item in reported}) == total, "two saves returned the same uid"

    versions = list(ln.Artifact.filter(key="shared/results.parquet"))
    assert len(versions) == total
    assert {a.uid for a in versions} == {item["uid"] for item in reported}
    assert len({a.stem_uid for a in versions}) == 1, "the saves split into several version families"
    numbers = sorted(decode_version(a.uid[-4:]) for a in versions)
    assert numbers == list(range(total)), f"version numbers have gaps or duplicates: {numbers}"
    latest = [a for a in versions if a.is_latest]
    assert len(latest) == 1
    assert decode_version(latest[0].uid[-4:]) == total - 1
    assert ln.Artifact.get(versions[0].stem_uid).uid == latest[0].uid

    # every record's bytes are where its path says, and they are the bytes that worker saved
    by_uid = {a.uid: a for a in versions}
    for item in reported:
        artifact = by_uid[item["uid"]]
        path = Path(str(artifact.path))
        assert path.is_file(), f"{artifact.uid}: no bytes at {path}"
        assert hash_file(path)[0] == artifact.hash
        assert artifact.description == f"worker {item['worker']}"
        df = artifact.load()
        assert (df["worker"].tolist(), df["step"].tolist()) == ([item["worker"]], [item["step"]])

    # nothing else was left behind: no pending intents, no temporary copies
    assert stored_files(shared_instance) == sorted(f"{uid}.parquet" for uid in by_uid)


def test_concurrent_saves_of_the_same_label_name_make_one_row(shared_instance: Path, tmp_path: Path, children: Any) -> None:
    n_workers, n_names = 5, 6
    results = run_workers(children, tmp_path, LABELS_WORKER, n_workers, str(n_names))
    for j in range(n_names):
        assert ln.ULabel.filter(name=f"label-{j}").count() == 1
        assert len({ids[f"label-{j}"] for ids in results}) == 1, "workers got different records for one name"
    assert ln.ULabel.filter(name="shared").count() == 1
    assert len({ids[key] for ids in results for key in ids if key.startswith("shared-")}) == 1
    assert ln.ULabel.filter().count() == n_names + 1


def test_concurrent_track_of_one_script(shared_instance: Path, tmp_path: Path, children: Any) -> None:
    n_workers = 5
    results = run_workers(children, tmp_path, TRACK_WORKER, n_workers)
    transforms = ln.Transform.filter(key="worker.py")
    assert transforms.count() == 1, [t.uid for t in transforms]
    transform = transforms.one()
    assert transform.kind == "script" and transform.is_latest
    assert {r["transform"] for r in results} == {transform.uid}

    runs = ln.Run.filter(transform__key="worker.py")
    assert runs.count() == n_workers
    assert {r.uid for r in runs} == {r["run"] for r in results}
    assert ln.Run.filter(transform__key="worker.py", finished_at__isnull=True).count() == 0
    assert {r.status for r in runs} == {"completed"}
    # each worker's label links to its own run
    for i in range(n_workers):
        label = ln.ULabel.get(name=f"made-by-{i}")
        assert label.run is not None and label.run.uid in {r["run"] for r in results}
    assert len({ln.ULabel.get(name=f"made-by-{i}").run_id for i in range(n_workers)}) == n_workers


def test_a_writer_waits_for_the_open_transaction_of_another_process(
    shared_instance: Path, tmp_path: Path, children: Any
) -> None:
    """A write transaction held open by one process delays, but does not break, the others."""
    holder = r"""
import sys, time
from pathlib import Path
import lamella as ln
from lamella._instance import state
with state.current().db.write("lamella:ulabel"):
    ln.ULabel(name="held").save()  # joins the open transaction
    Path(sys.argv[1]).touch()
    time.sleep(1.5)
"""
    marker = tmp_path / "holding"
    script = tmp_path / "holder.py"
    script.write_text(holder)
    proc = children.popen(script, str(marker))
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        ln.ULabel(name="waiting").save()
        waited = time.monotonic() - started
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ln.ULabel.filter(name__in=["held", "waiting"]).count() == 2
    assert waited > 0.5, "the save did not wait for the other process's transaction"
    # the reader in this process was never blocked and sees the committed row
    assert ln.ULabel.get(name="held").id is not None

