"""Several processes writing to one instance at the same time, on SQLite and on PostgreSQL.

Each worker is a separate interpreter. Workers connect first, then wait at a gate until all of them
are ready, so their writes really overlap instead of running one after the other. Starting Python
with pandas dominates the cost, so one batch of workers per backend does everything at once
(`ln.track()` of the same script, new versions of one key, labels with the same names) and the
tests below each check one aspect of the result.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella._storage import hash_file
from lamella._uid import decode_version
from workers import race_json, wait_for

N_WORKERS = 5
N_SAVES = 5
N_NAMES = 4
KEY = "shared/results.parquet"

# ARGS: number of saves, number of label names, key
WORKER = r"""
import json
import pandas as pd
import lamella as ln

index, n_saves, n_names, key = INDEX, int(ARGS[0]), int(ARGS[1]), ARGS[2]
ln.ULabel.filter().count()  # connect (and import the models) before the start signal
wait_for_start()

run = ln.track()  # every worker tracks the same script at the same moment
saved, labels = [], {}
for step in range(n_saves):
    df = pd.DataFrame({"worker": [index], "step": [step]})
    artifact = ln.Artifact.from_dataframe(df, key=key, description=f"worker {index}").save()
    saved.append({"uid": artifact.uid, "worker": index, "step": step})
    name = f"label-{step % n_names}"
    labels[name] = ln.ULabel(name=name).save().id
    labels["shared"] = ln.ULabel(name="shared").save().id
ln.ULabel(name=f"made-by-{index}").save()
ln.finish()
print(json.dumps({"run": run.uid, "transform": run.transform.uid, "saved": saved, "labels": labels}))
"""


@pytest.fixture
def workers(shared_instance_factory: Any, connect_shared: Any) -> Any:
    """One batch of concurrent workers per backend; the test gets the shared instance, connected."""

    def setup(shared: Any) -> None:
        shared.data["results"] = race_json(
            WORKER, shared.storage.parent / "race", [shared.home] * N_WORKERS, str(N_SAVES), str(N_NAMES), KEY
        )

    shared = shared_instance_factory(setup)
    connect_shared(shared)
    return shared


def stored_files(storage: Path) -> list[str]:
    """Every file Lamella keeps under the storage root, except the embedded database."""
    managed = storage / ".lamella"
    return sorted(
        str(p.relative_to(managed))
        for p in managed.rglob("*")
        if p.is_file() and not p.name.startswith("lamella.db")
    )


def test_concurrent_new_versions_of_one_key(workers: Any) -> None:
    reported = [item for result in workers.data["results"] for item in result["saved"]]
    total = N_WORKERS * N_SAVES
    assert len({item["uid"] for item in reported}) == total, "two saves returned the same uid"

    versions = list(ln.Artifact.filter(key=KEY))
    assert len(versions) == total
    assert {a.uid for a in versions} == {item["uid"] for item in reported}
    assert len({a.stem_uid for a in versions}) == 1, "the saves split into several version families"
    numbers = sorted(decode_version(a.uid[-4:]) for a in versions)
    assert numbers == list(range(total)), f"version numbers have gaps or duplicates: {numbers}"
    latest = [a for a in versions if a.is_latest]
    assert len(latest) == 1
    assert decode_version(latest[0].uid[-4:]) == total - 1
    assert ln.Artifact.get(versions[0].stem_uid).uid == latest[0].uid


def test_concurrent_versions_have_their_own_bytes(workers: Any) -> None:
    reported = [item for result in workers.data["results"] for item in result["saved"]]
    by_uid = {a.uid: a for a in ln.Artifact.filter(key=KEY)}
    # every record's bytes are where its path says, and they are the bytes that worker saved
    for item in reported:
        artifact = by_uid[item["uid"]]
        path = Path(str(artifact.path))
        assert path.is_file(), f"{artifact.uid}: no bytes at {path}"
        assert hash_file(path, artifact._hash_type)[0] == artifact.hash
        assert artifact.description == f"worker {item['worker']}"
        df = artifact.load()
        assert (df["worker"].tolist(), df["step"].tolist()) == ([item["worker"]], [item["step"]])
    # nothing else was left behind: no pending saves, no temporary copies; besides the versions, only
    # the runs' reports and environments (artifacts of an internal kind, hidden from default queries)
    everything = ln.Artifact.filter(branch_id=None, kind__startswith="__lamella").to_list()
    assert {a.kind for a in everything} <= {"__lamella_report__", "__lamella_env__"}
    expected = [f"{uid}.parquet" for uid in by_uid] + [f"{a.uid}{a.suffix}" for a in everything]
    assert stored_files(workers.storage) == sorted(expected)


def test_concurrent_saves_of_the_same_label_name_make_one_row(workers: Any) -> None:
    results = workers.data["results"]
    for j in range(N_NAMES):
        assert ln.ULabel.filter(name=f"label-{j}").count() == 1
        assert len({r["labels"][f"label-{j}"] for r in results}) == 1, "workers got different records"
    assert ln.ULabel.filter(name="shared").count() == 1
    assert len({r["labels"]["shared"] for r in results}) == 1
    assert ln.ULabel.filter(name__startswith="made-by-").count() == N_WORKERS
    assert ln.ULabel.filter().count() == N_NAMES + 1 + N_WORKERS


def test_concurrent_track_of_one_script(workers: Any) -> None:
    results = workers.data["results"]
    transforms = ln.Transform.filter(key="worker.py")
    assert transforms.count() == 1, [t.uid for t in transforms]
    transform = transforms.one()
    assert transform.kind == "script" and transform.is_latest
    assert {r["transform"] for r in results} == {transform.uid}

    runs = ln.Run.filter(transform__key="worker.py")
    assert runs.count() == N_WORKERS
    assert {r.uid for r in runs} == {r["run"] for r in results}
    assert ln.Run.filter(transform__key="worker.py", finished_at__isnull=True).count() == 0
    assert {r.status for r in runs} == {"completed"}
    # each worker's records link to its own run
    run_ids = {ln.ULabel.get(name=f"made-by-{i}").run_id for i in range(N_WORKERS)}
    assert len(run_ids) == N_WORKERS and None not in run_ids
    for result in results:
        run = ln.Run.get(result["run"])
        assert {a.description for a in ln.Artifact.filter(run=run)} == {
            f"worker {result['saved'][0]['worker']}"
        }


def test_a_writer_waits_for_the_open_transaction_of_another_process(
    backend: str, db_url: str | None, tmp_path: Path, children: Any
) -> None:
    """A write transaction held open by one process delays, but does not break, the others."""
    ln.setup.init(storage=tmp_path / "data", name=f"wait-{backend}", db=db_url)
    holder = r"""
import sys, time
from pathlib import Path
import lamella as ln
from lamella._instance import state
holding, release = Path(sys.argv[1]), Path(sys.argv[2])
with state.current().db.write("lamella:ulabel"):
    ln.ULabel(name="held").save()  # joins the open transaction
    holding.touch()
    deadline = time.time() + 30
    while not release.exists() and time.time() < deadline:
        time.sleep(0.01)
"""
    holding, release = tmp_path / "holding", tmp_path / "release"
    script = tmp_path / "holder.py"
    script.write_text(holder)
    proc = children.popen(script, str(holding), str(release))
    try:
        wait_for(holding.exists, proc)
        assert ln.ULabel.filter(name="held").count() == 0  # not committed yet, and reading is not blocked
        timer = threading.Timer(1.0, release.touch)  # the other process commits one second from now
        timer.start()
        ln.ULabel(name="waiting").save()
        # the save returned only once the other process had committed: its label is there
        committed_before = ln.ULabel.filter(name="held").count()
        timer.join()
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, out + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert ln.ULabel.filter(name__in=["held", "waiting"]).count() == 2
    assert committed_before == 1, "the save did not wait for the other process's transaction"
