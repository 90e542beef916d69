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
