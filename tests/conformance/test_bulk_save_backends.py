"""`ln.save(list of artifacts)` on SQLite and PostgreSQL: the same records as saving them one by one.

The new artifacts of a batch are inserted together, the others (duplicates, new versions, `revises=`)
one by one after them (see lamella/models/artifact/batch.py); a batch that fails saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import lamella as ln
from lamella.errors import PathNotFound


@pytest.fixture
def storage(backend: str, db_url: str | None, tmp_path: Path) -> Path:
    root = (tmp_path / "data").resolve()
    ln.setup.init(storage=root, name=f"bulk-{backend}", db=db_url)
    ln.settings.creation.artifact_silence_missing_run_warning = True
    return root


def stored_files(storage: Path) -> list[str]:
    """Every file under `<storage>/.lamella`, the staging area included (not the SQLite database)."""
    folder = storage / ".lamella"
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    return sorted(f for f in files if not f.startswith("lamella.db"))


def a_mixed_batch(
    tmp_path: Path, tag: str, save: Callable[[list[Any]], list[Any]]
) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Saved before, then a batch of every kind of artifact; contents and keys are unique per `tag`."""

    def file(name: str, content: str) -> Path:
        path = tmp_path / tag / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{tag}: {content}")
        return path

    before = {
        "old": ln.Artifact(file("old.txt", "old content"), key=f"{tag}/old.txt").save(),
        "versioned": ln.Artifact(file("v1.txt", "first"), key=f"{tag}/versioned.txt").save(),
        "base": ln.Artifact(file("base.txt", "base"), key=f"{tag}/base.txt").save(),
    }
    batch = [
        ln.Artifact(file("new.txt", "new content"), key=f"{tag}/new.txt"),
        ln.Artifact(file("copy.txt", "old content"), key=f"{tag}/copy.txt"),  # content saved before
        ln.Artifact(file("v2.txt", "second"), key=f"{tag}/versioned.txt"),  # a key saved before
        ln.Artifact(file("a.txt", "same in batch"), key=f"{tag}/a.txt"),
        ln.Artifact(file("b.txt", "same in batch"), key=f"{tag}/b.txt"),  # content of the one before
        ln.Artifact(file("k1.txt", "key one"), key=f"{tag}/twice.txt"),
        ln.Artifact(file("k2.txt", "key two"), key=f"{tag}/twice.txt"),  # key of the one before
        ln.Artifact(file("rev.txt", "revised"), revises=before["base"]),
        ln.Artifact(file("last.txt", "last"), key=f"{tag}/last.txt", description="the last one"),
    ]
    return batch, save(batch), before


def outcome(tag: str, batch: list[Any], saved: list[Any], before: dict[str, Any]) -> dict[str, Any]:
    """What a save made, without the tag: which record each artifact became, versions, latest flags."""
    records = {a.id: a for a in ln.Artifact.filter(key__startswith=f"{tag}/").order_by("id")}
    order = {record_id: index for index, record_id in enumerate(records)}
    names = {a.id: name for name, a in before.items()}

    def which(artifact: Any) -> str:
        return names.get(artifact.id, f"#{order[artifact.id]}")

    return {
        "returned": [which(a) for a in saved],
        "variables": [which(a) for a in batch],  # the user's variables become what they saved as
        "same_objects": [s is a for s, a in zip(saved, batch, strict=True)],
        "records": [
            (r.key.removeprefix(f"{tag}/"), r.uid[-4:], r.is_latest, r.description) for r in records.values()
        ],
        "families": sorted(
            sorted(which(r) for r in records.values() if r.stem_uid == stem)
            for stem in {r.stem_uid for r in records.values()}
        ),
    }


def test_a_mixed_batch_makes_the_records_that_saving_one_by_one_makes(storage: Path, tmp_path: Path) -> None:
    one_by_one = outcome("single", *a_mixed_batch(tmp_path, "single", lambda b: [a.save() for a in b]))
    in_bulk = outcome("bulk", *a_mixed_batch(tmp_path, "bulk", ln.save))
    assert in_bulk == one_by_one
    assert in_bulk["returned"][1] == "old" and in_bulk["returned"][4] == in_bulk["returned"][3]
    for tag in ("single", "bulk"):
        assert ln.Artifact.get(key=f"{tag}/twice.txt").load() == f"{tag}: key two"
        assert ln.Artifact.get(key=f"{tag}/base.txt").load() == f"{tag}: revised"
        assert ln.Artifact.filter(key=f"{tag}/versioned.txt", is_latest=True).count() == 1
    assert ln.Artifact.get(key="bulk/last.txt").description == "the last one"
    assert stored_files(storage) == sorted(
        f"{a.uid}{a.suffix}" for a in ln.Artifact.filter(branch_id=None)
    )  # one file per record, nothing left in staging


def test_a_batch_with_a_file_that_cannot_be_read_saves_nothing(storage: Path, tmp_path: Path) -> None:
    paths = []
    for index in range(6):
        path = tmp_path / "in" / f"f{index}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"content {index}")
        paths.append(path)
    batch = [ln.Artifact(path, key=f"fails/f{i}.txt") for i, path in enumerate(paths)]
    paths[3].unlink()  # gone between constructing the artifact and saving it
    with pytest.raises(PathNotFound, match=r"f3\.txt"):
        ln.save(batch)
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert stored_files(storage) == []
    assert all(a.__dict__.get("id") is None for a in batch)  # nothing looks saved
    paths[3].write_text("content 3")
    saved = ln.save(batch)
    assert [a.load() for a in saved] == [f"content {i}" for i in range(6)]
    assert len(stored_files(storage)) == 6


def test_a_batch_that_fails_in_the_database_leaves_no_record_and_no_file(
    storage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.artifact import batch as batch_module

    def broken(records: Any) -> None:  # inside the write transaction, after the rows are inserted
        raise RuntimeError("database went away")

    monkeypatch.setattr(batch_module, "link_to_current_project", broken)
    batch = []
    for index in range(5):
        path = tmp_path / f"f{index}.txt"
        path.write_text(f"content {index}")
        batch.append(ln.Artifact(path, key=f"lost/f{index}.txt"))
    with pytest.raises(RuntimeError, match="database went away"):
        ln.save(batch)
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert stored_files(storage) == []
    assert [a.key for a in batch] == [f"lost/f{i}.txt" for i in range(5)]  # the fields are kept
    assert all(a.__dict__.get("id") is None for a in batch)
    monkeypatch.undo()
    assert [a.load() for a in ln.save(batch)] == [f"content {i}" for i in range(5)]


# --- many records at once: files registered in place, the driver's bulk path -----------------------

# every column a save fills, but those that differ by nature (id, uid, timestamps; key and hash: below)
SAVED_FIELDS = (
    "suffix",
    "size",
    "_hash_type",
    "n_files",
    "kind",
    "otype",
    "storage_id",
    "is_latest",
    "_key_is_virtual",
    "branch_id",
    "space_id",
    "created_by_id",
    "run_id",
    "transform_id",
    "version_tag",
    "description",
    "schema_id",
    "n_observations",
)


def folder_in_storage(storage: Path, tag: str, count: int) -> Path:
    """`count` files in three subfolders of `<storage>/incoming/<tag>`: registered in place."""
    folder = storage / "incoming" / tag
    for index in range(count):
        path = folder / f"d{index % 3}" / f"f{index:04d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{tag}: file {index}")
    return folder


def database_rows(tag: str) -> list[tuple[Any, ...]]:
    """The rows as the database holds them (not the session's objects), in id order."""
    from sqlalchemy import select

    from lamella._instance import state

    c = ln.Artifact.__table__.c
    columns = [c[name] for name in ("key", "hash", "created_at", *SAVED_FIELDS)]
    statement = select(*columns).where(c.key.startswith(f"incoming/{tag}/")).order_by(c.id)
    return [tuple(row) for row in state.current().db.session().execute(statement)]


@pytest.mark.parametrize("overlapped", [True, False], ids=["overlapped", "sequential"])
def test_a_folder_registered_in_bulk_has_the_rows_of_one_by_one_saves(
    storage: Path, monkeypatch: pytest.MonkeyPatch, overlapped: bool
) -> None:
    from lamella._storage.hashing import hash_bytes
    from lamella.models.core import bulk_rows

    # the bulk insert runs beside the session's bookkeeping from this many rows on (else after it)
    monkeypatch.setattr(bulk_rows, "OVERLAP_MIN_ROWS", 1 if overlapped else 10**9)
    ln.track(ln.Transform(key="ingest.py", kind="script"))
    bulk = ln.save(ln.Artifact.from_dir(folder_in_storage(storage, "bulk", 60)))
    solo = [a.save() for a in ln.Artifact.from_dir(folder_in_storage(storage, "solo", 60))]
    ln.finish()
    rows = {tag: database_rows(tag) for tag in ("bulk", "solo")}
    assert len(rows["bulk"]) == len(rows["solo"]) == 60
    for tag, saved in (("bulk", bulk), ("solo", solo)):
        for row, artifact in zip(rows[tag], saved, strict=True):
            key, digest, created_at = row[:3]
            assert key == artifact.key
            relative = key.removeprefix("incoming/")
            assert digest == hash_bytes((storage / "incoming" / relative).read_bytes(), "blake3")
            assert created_at.utcoffset() is not None and created_at.utcoffset().total_seconds() == 0
    assert [r[3:] for r in rows["bulk"]] == [r[3:] for r in rows["solo"]]
    assert [r[0].replace("/bulk/", "/solo/") for r in rows["bulk"]] == [r[0] for r in rows["solo"]]
    assert {r[2] for r in rows["bulk"]} == {bulk[0].created_at}  # one transaction, one timestamp
    assert all(a.run_id is not None and a.transform_id is not None for a in bulk)
    assert ln.Artifact.get(key="incoming/bulk/d1/f0001.txt").load() == "bulk: file 1"
    copied = {name.split(".")[0] for name in stored_files(storage)}  # the run's report and environment
    assert not copied & {a.uid for a in bulk + solo}  # registered in place: nothing copied


@pytest.mark.parametrize("overlapped", [True, False], ids=["overlapped", "sequential"])
def test_a_batch_whose_insert_fails_midway_leaves_nothing_and_can_be_saved_again(
    storage: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overlapped: bool
) -> None:
    from lamella.errors import IntegrityError
    from lamella.models.core import bulk_rows

    monkeypatch.setattr(bulk_rows, "OVERLAP_MIN_ROWS", 1 if overlapped else 10**9)
    (tmp_path / "first.txt").write_text("first")
    first = ln.Artifact(tmp_path / "first.txt", key="first.txt").save()
    before = stored_files(storage)
    batch = []
    for index in range(40):
        path = tmp_path / "in" / f"f{index}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"content {index}")
        batch.append(ln.Artifact(path, key=f"many/f{index}.txt"))
    own_uid = batch[25].uid
    batch[25].uid = first.uid  # the database refuses the 26th row: the uid is taken
    with pytest.raises(IntegrityError, match="nothing was saved"):
        ln.save(batch)
    assert ln.Artifact.filter().count() == 1
    assert stored_files(storage) == before
    assert all(a.__dict__.get("id") is None for a in batch)  # nothing looks saved
    assert [a.key for a in batch] == [f"many/f{i}.txt" for i in range(40)]
    batch[25].uid = own_uid
    saved = ln.save(batch)
    assert [a.load() for a in saved] == [f"content {i}" for i in range(40)]
    assert ln.Artifact.filter().count() == 41
