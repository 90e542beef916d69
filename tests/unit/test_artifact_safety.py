"""Keys, paths and versions that must never let an artifact reach bytes that are not its own.

- a key changed after saving is validated on every write; an in-place key cannot change at all;
- whatever a record says, load/cache/open/delete stay inside the artifact's storage root;
- versions of a file registered in place never serve or delete each other's bytes;
- a folder and a file inside it, both registered in place, never delete each other's bytes;
- one key has one version family, also across the trash: one latest version per key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import text
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from lamella.errors import IntegrityError, InvalidArgument, StorageError


def write(path: Path, data: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data)
    return path


def edit_in_database(ln: ModuleType, uid: str, **values: object) -> None:
    """Change an artifact's row behind Lamella's back, as a user with SQL access could."""
    from lamella._instance import state

    assignments = ", ".join(f'"{name}" = :{name}' for name in values)
    with state.current().db.write() as session:
        session.execute(text(f"UPDATE artifact SET {assignments} WHERE uid = :uid"), {**values, "uid": uid})
    session.expire_all()


# --- a key edited after saving --------------------------------------------------------------------


def test_an_escaping_key_is_refused_when_assigned_and_nothing_outside_is_touched(
    ln: ModuleType, storage_root: Path, tmp_path: Path
) -> None:
    victim = write(tmp_path / "outside" / "victim.txt", "victim")
    inplace = ln.Artifact(write(storage_root / "data/raw/me.txt", "me"), description="x").save()
    managed = ln.Artifact(write(tmp_path / "in.txt", "managed"), key="raw/in.txt").save()
    for artifact in (inplace, managed):
        with pytest.raises(InvalidArgument, match=r"\.\./outside/victim\.txt"):
            artifact.key = "../outside/victim.txt"
        artifact.save()
    assert ln.Artifact.get(inplace.uid).key == "data/raw/me.txt"
    assert inplace.load() == "me"
    assert ln.Artifact.get(managed.uid).key == "raw/in.txt"
    inplace.delete(permanent=True)
    managed.delete(permanent=True)
    assert victim.read_text() == "victim"
    assert not (storage_root / "data/raw/me.txt").exists()


def test_a_changed_key_is_validated_again_when_written(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "in.txt", "content"), key="raw/in.txt").save()
    # set without the attribute's validator, as any other code path could: the write still checks
    artifact.__dict__["key"] = "../escape.txt"
    flag_modified(artifact, "key")
    with pytest.raises(InvalidArgument, match=r"'\.\./escape\.txt'"):
        artifact.save()
    assert ln.Artifact.get(artifact.uid).key == "raw/in.txt"
    assert artifact.key == "raw/in.txt"  # the failed write reloaded the stored value
    ln.ULabel(name="a later, unrelated write").save()  # the refused key is not flushed by it
    assert ln.Artifact.get(artifact.uid).key == "raw/in.txt"


def test_the_key_of_a_managed_artifact_is_metadata_and_can_change(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "in.txt", "content"), key="raw/in.txt").save()
    before = Path(str(artifact.path))
    artifact.key = "renamed/in.txt"
    artifact.save()
    assert ln.Artifact.get(key="renamed/in.txt") == artifact
    assert Path(str(artifact.path)) == before  # the bytes stay at .lamella/<uid>.txt
    assert artifact.load() == "content"
    with pytest.raises(InvalidArgument, match="suffix"):
        artifact.key = "renamed/in.csv"


def test_the_key_of_an_in_place_artifact_cannot_change(ln: ModuleType, storage_root: Path) -> None:
    artifact = ln.Artifact(write(storage_root / "data/me.txt", "me"), description="x").save()
    with pytest.raises(InvalidArgument, match=r"'data/me\.txt' is the path of its bytes.*register it again"):
        artifact.key = "data/other.txt"
    artifact.key = "data/me.txt"  # the same key is no change
    artifact.save()
    assert ln.Artifact.get(artifact.uid).key == "data/me.txt"
    assert artifact.load() == "me"


def test_a_rename_onto_the_key_of_another_family_is_refused(ln: ModuleType, tmp_path: Path) -> None:
    a = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    b = ln.Artifact(write(tmp_path / "b.txt", "b"), key="b.txt").save()
    b.key = "a.txt"
    with pytest.raises(InvalidArgument, match=rf"{a.uid} already has it"):
        b.save()
    assert ln.Artifact.get(key="a.txt") == a
    assert ln.Artifact.get(key="b.txt") == b


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("key", "../outside/victim.txt"),
        ("key", "data/../../outside/victim.txt"),
        ("key", ".lamella/lamella.db"),
        ("key", ""),
        ("suffix", "/../../../outside/victim.txt"),
    ],
)
def test_a_record_edited_in_the_database_cannot_reach_outside_its_storage(
    ln: ModuleType, storage_root: Path, tmp_path: Path, field: str, value: str
) -> None:
    victim = write(tmp_path / "outside" / "victim.txt", "victim")
    if field == "key":
        artifact = ln.Artifact(write(storage_root / "data/me.txt", "me"), description="x").save()
    else:
        artifact = ln.Artifact(write(tmp_path / "in.txt", "in"), key="in.txt").save()
    edit_in_database(ln, artifact.uid, **{field: value})
    edited = ln.Artifact.get(artifact.uid)
    for action in (edited.load, edited.cache, edited.open, lambda: edited.path):
        with pytest.raises(StorageError, match=f"{artifact.uid}.*not a place inside its storage"):
            action()
    edited.describe()  # shows the problem instead of failing
    edited.delete(permanent=True)
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert victim.read_text() == "victim"
    assert (storage_root / ".lamella" / "lamella.db").exists()
    assert storage_root.exists()


def test_a_symbolic_link_in_storage_cannot_lead_delete_outside(
    ln: ModuleType, storage_root: Path, tmp_path: Path
) -> None:
    victim = write(tmp_path / "outside" / "victim.txt", "victim")
    artifact = ln.Artifact(write(storage_root / "linked/victim.txt", "victim"), description="x").save()
    (storage_root / "linked/victim.txt").unlink()
    (storage_root / "linked").rmdir()
    os.symlink(tmp_path / "outside", storage_root / "linked")  # the folder becomes a link out of storage
    with pytest.raises(StorageError, match="symbolic link"):
        artifact.load()
    artifact.delete(permanent=True)
    assert victim.read_text() == "victim"


# --- versions of a file registered in place --------------------------------------------------------


def test_versions_of_an_in_place_file_never_serve_or_delete_each_other(
    ln: ModuleType, storage_root: Path
) -> None:
    path = write(storage_root / "f.txt", "v1")
    v1 = ln.Artifact(path).save()
    path.write_text("v2 content")
    v2 = ln.Artifact(path).save()
    assert v2.stem_uid == v1.stem_uid and v2.uid != v1.uid
    assert v2.load() == "v2 content"
    for action in (v1.load, v1.cache, v1.open):
        with pytest.raises(StorageError, match=rf"content of artifact {v1.uid} is lost.*version {v2.uid}"):
            action()
    v1.delete(permanent=True)  # only the record: the bytes are v2's
    assert path.read_text() == "v2 content"
    assert ln.Artifact.get(v2.uid).load() == "v2 content"
    v2.delete(permanent=True)
    assert not path.exists()


def test_an_in_place_file_changed_without_registering_is_not_served(
    ln: ModuleType, storage_root: Path
) -> None:
    path = write(storage_root / "f.txt", "v1")
    v1 = ln.Artifact(path).save()
    path.write_text("edited, longer content")
    with pytest.raises(StorageError, match=r"changed after it was registered.*then 2 bytes, now 22"):
        v1.load()


def test_an_in_place_file_back_at_an_old_content_becomes_a_new_version(
    ln: ModuleType, storage_root: Path
) -> None:
    path = write(storage_root / "f.txt", "one")
    v1 = ln.Artifact(path).save()
    path.write_text("two")
    v2 = ln.Artifact(path).save()
    path.write_text("one")
    v3 = ln.Artifact(path).save()  # not v1: v1's record says the path was overwritten since
    assert v3.uid not in (v1.uid, v2.uid) and v3.stem_uid == v1.stem_uid
    assert v3.load() == "one"
    assert ln.Artifact.get(key="f.txt") == v3
    assert ln.Artifact(path).save() == v3  # registering it unchanged returns the path's holder


# --- a folder and a file inside it, both in place --------------------------------------------------


def test_a_folder_and_a_file_inside_it_never_delete_each_others_bytes(
    ln: ModuleType, storage_root: Path
) -> None:
    inner_path = write(storage_root / "run/inner.txt", "inner")
    write(storage_root / "run/other.txt", "other")
    inner = ln.Artifact(inner_path).save()
    folder = ln.Artifact(storage_root / "run").save()
    unrelated = [  # names that a prefix match without care would take for "run/..."
        ln.Artifact(write(storage_root / name, name)).save()
        for name in ("RUN/x.txt", "run_x.txt", "runs/y.txt")
    ]
    with pytest.raises(IntegrityError, match=rf"{inner.uid} \('run/inner.txt'\).*storage=False") as refused:
        folder.delete(permanent=True)
    assert not any(a.uid in str(refused.value) for a in unrelated)
    with pytest.raises(IntegrityError, match=rf"{folder.uid} \('run'\)"):
        inner.delete(permanent=True)
    assert inner.load() == "inner"
    assert ln.Artifact.filter(uid__in=[inner.uid, folder.uid]).count() == 2
    folder.delete(permanent=True, storage=False)  # only the record
    assert inner_path.exists()
    inner.delete(permanent=True)  # nothing overlaps any more
    assert not inner_path.exists()
    assert (storage_root / "run/other.txt").exists()


def test_trashing_overlapping_artifacts_keeps_them_protected(ln: ModuleType, storage_root: Path) -> None:
    inner = ln.Artifact(write(storage_root / "run/inner.txt", "inner")).save()
    folder = ln.Artifact(storage_root / "run").save()
    inner.delete()  # the trash keeps the bytes, so the folder still shares them
    with pytest.raises(IntegrityError, match=inner.uid):
        folder.delete(permanent=True)
    assert (storage_root / "run/inner.txt").exists()


# --- one family per key, across the trash ----------------------------------------------------------


def test_a_save_under_a_trashed_key_joins_its_family_and_restore_keeps_one_latest(
    ln: ModuleType, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.txt", "one")
    v1 = ln.Artifact(source, key="k/x.txt").save()
    v1.delete()
    source.write_text("two")
    v2 = ln.Artifact(source, key="k/x.txt").save()
    assert v2.stem_uid == v1.stem_uid and v2.uid.endswith("0001")
    v1.restore()
    assert ln.Artifact.get(key="k/x.txt") == v2
    assert ln.Artifact.filter(key="k/x.txt", is_latest=True).count() == 1
    assert ln.Artifact.filter(key="k/x.txt").count() == 2
    assert v1.load() == "one" and v2.load() == "two"


def test_restoring_a_family_whose_key_another_family_took_keeps_one_latest(
    ln: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a = ln.Artifact(write(tmp_path / "a.txt", "a"), key="k/x.txt").save()
    b = ln.Artifact(write(tmp_path / "b.txt", "b"), key="k/other.txt").save()
    a.delete()
    b.key = "k/x.txt"  # free while a is in the trash: b's family takes it
    b.save()
    with caplog.at_level(logging.WARNING, logger="lamella"):
        a.restore()
    assert ln.Artifact.get(key="k/x.txt") == b
    assert ln.Artifact.filter(key="k/x.txt", is_latest=True).count() == 1
    assert ln.Artifact.get(a.uid).branch_id == 1
    assert b.uid in caplog.text


def test_trashing_a_stale_copy_of_the_latest_keeps_one_latest(ln: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "in.txt", "one")
    v1 = ln.Artifact(source, key="k/x.txt").save()
    ln.Artifact(write(source, "two"), key="k/x.txt").save().delete(permanent=True)
    # as in another process that loaded v1 while v2 was the latest: its copy says "not latest"
    set_committed_value(v1, "is_latest", False)
    v1.delete()
    assert ln.Artifact.filter(branch_id=-1, is_latest=True).count() == 0
    v3 = ln.Artifact(write(source, "three"), key="k/x.txt").save()
    v1.restore()
    assert ln.Artifact.filter(key="k/x.txt", is_latest=True).to_list("uid") == [v3.uid]


# --- another process acting on the same records ----------------------------------------------------


def delete_row_elsewhere(storage_root: Path, uid: str) -> None:
    """Delete an artifact's row through a connection of its own, as another process would."""
    import sqlite3

    with sqlite3.connect(storage_root / ".lamella" / "lamella.db") as connection:
        connection.execute("DELETE FROM artifact WHERE uid = ?", (uid,))


def test_acting_on_a_record_another_process_deleted_raises_does_not_exist(
    ln: ModuleType, storage_root: Path, tmp_path: Path
) -> None:
    from lamella.errors import DoesNotExist

    artifact = ln.Artifact(write(tmp_path / "in.txt", "in"), key="in.txt").save()
    uid = artifact.uid
    delete_row_elsewhere(storage_root, uid)
    with pytest.raises(
        DoesNotExist, match=rf"move to the trash Artifact {uid}: it was deleted by another process"
    ):
        artifact.delete()
    for action in (artifact.restore, artifact.delete, lambda: artifact.delete(permanent=True)):
        with pytest.raises(DoesNotExist, match=r"Artifact with id \d+: it was deleted by another process"):
            action()


def test_bytes_of_a_record_deleted_before_they_were_moved_in_place_are_removed(
    ln: ModuleType,
    storage_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    managed_files: Callable[[], list[str]],
) -> None:
    from lamella.models.artifact import store as _artifact_store

    real_replace = os.replace

    def another_process_deletes_first(source: str, destination: str) -> None:
        # the record is committed; another process deletes it before the bytes are in place, so
        # its delete finds no bytes to remove
        delete_row_elsewhere(storage_root, Path(destination).name[:20])
        real_replace(source, destination)

    monkeypatch.setattr(_artifact_store.os, "replace", another_process_deletes_first)
    ln.Artifact(write(tmp_path / "in.txt", "in"), key="in.txt").save()
    monkeypatch.undo()
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []


def test_a_new_version_never_takes_the_number_of_one_whose_bytes_are_being_deleted(
    ln: ModuleType, storage_root: Path, tmp_path: Path
) -> None:
    # another process deleted the newest version for good: its record is gone, its bytes go next
    ln.Artifact(write(tmp_path / "v0.txt", "zero"), key="shared.txt").save()
    doomed = ln.Artifact(write(tmp_path / "v1.txt", "one"), key="shared.txt").save().uid
    doomed_bytes = storage_root / ".lamella" / f"{doomed}.txt"
    delete_row_elsewhere(storage_root, doomed)

    new = ln.Artifact(write(tmp_path / "v2.txt", "two"), key="shared.txt").save()
    assert new.uid != doomed
    assert doomed_bytes.read_text() == "one"
    doomed_bytes.unlink()  # the other process finishes its delete
    assert ln.Artifact.get(key="shared.txt").load() == "two"

    # once the bytes are gone, the numbers after the highest remaining version are free again
    newest_uid = ln.Artifact.get(key="shared.txt").uid
    delete_row_elsewhere(storage_root, newest_uid)
    (storage_root / ".lamella" / f"{newest_uid}.txt").unlink()
    again = ln.Artifact(write(tmp_path / "v3.txt", "three"), key="shared.txt").save()
    assert again.uid == doomed and again.load() == "three"


def test_a_record_deleted_elsewhere_never_acts_on_the_record_that_took_its_id(
    ln: ModuleType, storage_root: Path, tmp_path: Path
) -> None:
    import warnings

    from lamella.errors import DoesNotExist

    stale = ln.Artifact(write(tmp_path / "old.txt", "old"), key="old.txt").save()
    delete_row_elsewhere(storage_root, stale.uid)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy notes that the new row took the stale object's id
        taker = ln.Artifact(write(tmp_path / "new.txt", "new"), key="new.txt").save()
    assert taker.id == stale.id  # SQLite gives a deleted last id to the next insert

    def describe_it() -> None:
        stale.description = "meant for the deleted record"
        stale.save()

    for action in (describe_it, stale.delete, lambda: stale.delete(permanent=True), stale.restore):
        with pytest.raises(DoesNotExist, match=f"{stale.uid}: it was deleted by another process"):
            action()
    assert ln.Artifact.get(key="new.txt").load() == "new"
    assert ln.Artifact.get(key="new.txt").branch_id == 1
    assert ln.Artifact.get(key="new.txt").description is None
