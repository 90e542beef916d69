"""Artifact keys, in-place paths and version families on SQLite and PostgreSQL, alone and under load.

The rules (see lamella/models/artifact/family.py) are checked once per backend, because the
family, holder and overlap lookups are SQL. Then several processes save, trash, restore and
delete artifacts of a few shared keys at once, and the instance must come out consistent: one
latest version per key, every record with its own intact bytes, no bytes without a record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import lamella as ln
from lamella._storage import hash_file
from lamella.errors import IntegrityError, StorageError
from workers import race_json


def write(path: Path, data: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


@pytest.fixture
def storage(backend: str, db_url: str | None, tmp_path: Path) -> Path:
    root = (tmp_path / "data").resolve()
    ln.setup.init(storage=root, name=f"safety-{backend}", db=db_url)
    return root


def test_versions_of_an_in_place_file_keep_apart(storage: Path) -> None:
    path = write(storage / "f.txt", "v1")
    v1 = ln.Artifact(path).save()
    path.write_text("v2 content")
    v2 = ln.Artifact(path).save()
    assert v2.stem_uid == v1.stem_uid
    with pytest.raises(StorageError, match=rf"{v1.uid} is lost.*{v2.uid}"):
        v1.load()
    v1.delete(permanent=True)
    assert ln.Artifact.get(v2.uid).load() == "v2 content"
    path.write_text("v1")
    v3 = ln.Artifact(path).save()  # the old content again is a new version, not the overwritten v1
    assert v3.uid not in (v1.uid, v2.uid) and v3.load() == "v1"


def test_overlapping_in_place_artifacts_keep_their_bytes(storage: Path) -> None:
    inner = ln.Artifact(write(storage / "run_1/sub/inner.txt", "inner")).save()
    folder = ln.Artifact(storage / "run_1").save()
    lookalike = ln.Artifact(write(storage / "run_10/x.txt", "x")).save()  # "run_1" is not its folder
    with pytest.raises(IntegrityError, match=inner.uid) as refused:
        folder.delete(permanent=True)
    assert lookalike.uid not in str(refused.value)
    with pytest.raises(IntegrityError, match=folder.uid):
        inner.delete(permanent=True)
    lookalike.delete(permanent=True)
    assert inner.load() == "inner"


def test_a_trashed_key_keeps_its_family_and_restore_keeps_one_latest(storage: Path, tmp_path: Path) -> None:
    source = write(tmp_path / "in.txt", "one")
    v1 = ln.Artifact(source, key="k/x.txt").save()
    v1.delete()
    v2 = ln.Artifact(write(source, "two"), key="k/x.txt").save()
    assert v2.stem_uid == v1.stem_uid
    v1.restore()
    assert ln.Artifact.get(key="k/x.txt") == v2
    other = ln.Artifact(write(tmp_path / "o.txt", "other"), key="k/o.txt").save()
    v2.delete()
    v1.delete()
    other.key = "k/x.txt"  # the key is free while its family is in the trash
    other.save()
    v2.restore()
    assert ln.Artifact.get(key="k/x.txt") == other
    assert ln.Artifact.filter(key="k/x.txt", is_latest=True).count() == 1


def test_an_edited_record_cannot_reach_outside_storage(storage: Path, tmp_path: Path) -> None:
    from sqlalchemy import update

    from lamella._instance import state

    victim = write(tmp_path / "outside/victim.txt", "victim")
    artifact = ln.Artifact(write(storage / "me.txt", "me"), description="x").save()
    with state.current().db.write() as session:
        session.execute(
            update(ln.Artifact.__table__)
            .where(ln.Artifact.__table__.c.uid == artifact.uid)
            .values(key="../outside/victim.txt")
        )
    session.expire_all()
    edited = ln.Artifact.get(artifact.uid)
    with pytest.raises(StorageError, match="not a place inside its storage"):
        edited.load()
    edited.delete(permanent=True)
    assert victim.read_text() == "victim"


# --- a mixed workload from several processes --------------------------------------------------------

N_WORKERS = 4
N_OPERATIONS = 60
SHARED_KEYS = ["shared/a.txt", "shared/b.txt", "shared/c.txt"]

# ARGS: number of operations, shared keys (comma-separated)
WORKER = r"""
import faulthandler, json, random
import lamella as ln
from lamella.errors import DoesNotExist, IntegrityError

index, n_operations, keys = INDEX, int(ARGS[0]), ARGS[1].split(",")
faulthandler.dump_traceback_later(100, exit=True)  # a hung worker shows where it hangs
rng = random.Random(index)
ln.Artifact.filter().count()  # connect before the start signal
wait_for_start()

counts, refused = {}, []
scratch = GATE / f"scratch-{index}"
scratch.mkdir()
for n in range(1, n_operations + 1):
    op = rng.choice(["save", "save", "save", "new_key", "trash", "restore", "delete"])
    try:
        if op in ("save", "new_key"):
            key = rng.choice(keys) if op == "save" else f"own/{index}/{n}.txt"
            path = scratch / f"{n}.txt"
            path.write_text(f"worker {index} step {n} {rng.random()}")
            ln.Artifact(path, key=key).save()
            path.unlink()
        else:
            branch = -1 if op == "restore" else (None if op == "delete" else 1)
            uids = ln.Artifact.filter(key__in=keys, branch_id=branch).to_list("uid")
            if not uids:
                continue
            artifact = ln.Artifact.filter(uid=rng.choice(uids), branch_id=None).one_or_none()
            if artifact is None:
                continue
            if op == "trash":
                artifact.delete()
            elif op == "restore":
                artifact.restore()
            else:
                artifact.delete(permanent=True)
        counts[op] = counts.get(op, 0) + 1
    except (DoesNotExist, IntegrityError) as e:  # another worker deleted the record first
        refused.append(f"{op}: {e}")
print(json.dumps({"counts": counts, "refused": refused}))
"""


def test_a_mixed_workload_of_several_processes_leaves_a_consistent_instance(
    backend: str, db_url: str | None, tmp_path: Path, lamella_home: str
) -> None:
    storage = (tmp_path / "data").resolve()
    ln.setup.init(storage=storage, name=f"mixed-{backend}", db=db_url)
    results = race_json(
        WORKER, tmp_path / "race", [lamella_home] * N_WORKERS, str(N_OPERATIONS), ",".join(SHARED_KEYS)
    )
    done = {op: sum(r["counts"].get(op, 0) for r in results) for op in ("save", "trash", "restore", "delete")}
    assert all(done.values()), f"the workload did not exercise every operation: {done}"

    records = list(ln.Artifact.filter(branch_id=None))
    uids = [a.uid for a in records]
    assert len(set(uids)) == len(uids)
    by_key_branch: dict[tuple[str | None, int], list[str]] = {}
    for a in records:
        if a.is_latest:
            by_key_branch.setdefault((a.key, a.branch_id), []).append(a.uid)
    for (key, branch), latest in by_key_branch.items():
        assert branch != -1, f"{latest} in the trash are marked latest"
        assert len(latest) == 1, f"key {key!r} has several latest versions: {latest}"
    for key in SHARED_KEYS:
        alive = [a for a in records if a.key == key and a.branch_id == 1]
        assert len({a.stem_uid for a in records if a.key == key}) <= 1, f"{key!r} split into families"
        if alive:
            assert (key, 1) in by_key_branch, f"key {key!r} has versions but none is latest"
    for a in records:
        path = Path(str(a.path))
        assert path.exists(), f"the bytes of {a.uid} ({a.key}) are lost"
        assert hash_file(path, a._hash_type) == (a.hash, a.size), f"{a.uid} serves other content"
    managed = storage / ".lamella"
    files = {
        p.name
        for p in managed.iterdir()
        if p.is_file() and not p.name.startswith("lamella.db") and not p.name.startswith(".")
    }
    expected = {f"{a.uid}{a.suffix}" for a in records}
    assert files == expected, (
        f"bytes without a record: {files - expected}; records without: {expected - files}"
    )
    pending = managed / "_pending"
    assert not pending.exists() or not any(pending.iterdir()), "a save left staged bytes behind"
