"""Saving an artifact's bytes and record as one atomic step, and deleting them again.

The order makes a save crash-safe:
1. an intent file (`<root>/.lamella/_pending/<uid>.json`) names the location about to be written;
2. the bytes are copied or uploaded there, hashed in the same read pass;
3. one database transaction checks for an artifact with the same hash, numbers the version under
   the registry lock, and inserts the record;
4. the intent is removed.
If the process dies between 1 and 4, the next process that connects finds the intent, sees that no
record has that uid, and deletes the bytes: there is never a record without bytes, nor bytes
without a record.
"""

from __future__ import annotations

import json
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lamella._logging import logger
from lamella.errors import InvalidArgument

if TYPE_CHECKING:
    from lamella._instance.state import Instance
    from lamella.models._artifact_source import Source
    from lamella.models.artifact import Artifact

PENDING_DIR = ".lamella/_pending"
STALE_AFTER_SECONDS = 3600.0


def storage_location(root: str, uid: str, suffix: str) -> str:
    return f"{root.rstrip('/')}/.lamella/{uid}{suffix}"


def _join(root: str, relative: str) -> str:
    return f"{root.rstrip('/')}/{relative}"


# --- intents ---------------------------------------------------------------------------------------


def _intent_location(root: str, uid: str) -> str:
    return _join(root, f"{PENDING_DIR}/{uid}.json")


def _write_intent(root: str, uid: str, targets: list[str]) -> str:
    from lamella import _storage

    location = _intent_location(root, uid)
    payload = json.dumps({"uid": uid, "targets": targets, "pid": os.getpid(), "host": socket.gethostname(),
                          "time": time.time()})
    if _storage.is_cloud(location):
        _storage.filesystem(location).pipe_file(location, payload.encode())
    else:
        os.makedirs(os.path.dirname(location), exist_ok=True)
        with open(location, "w") as handle:
            handle.write(payload)
    return location


def _remove_quietly(location: str) -> None:
    from lamella import _storage

    try:
        _storage.delete(_storage.to_path(location))
    except Exception as e:  # cleanup is best effort; the sweep retries later
        logger.debug(f"could not remove {location}: {e}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_pending(instance: Instance) -> int:
    """Delete the bytes of saves that were interrupted before their record was committed."""
    from lamella import _storage

    root = instance.storage_root
    pending = _join(root, PENDING_DIR)
    if _storage.is_cloud(pending):
        fs = _storage.filesystem(pending)
        try:
            names = [n for n in fs.ls(pending, detail=False) if n.endswith(".json")]
        except FileNotFoundError:
            return 0
        intents = [f"s3://{n}" if not n.startswith("s3://") else n for n in names]
    else:
        if not os.path.isdir(pending):
            return 0
        intents = [os.path.join(pending, n) for n in os.listdir(pending) if n.endswith(".json")]
    from lamella.models.artifact import Artifact

    removed = 0
    session = instance.db.session()
    for intent in intents:
        try:
            info = json.loads(_storage.to_path(intent).read_text())
        except Exception:
            continue
        age = time.time() - float(info.get("time", 0))
        same_host = info.get("host") == socket.gethostname()
        if (same_host and _pid_alive(int(info.get("pid", 0))) and age < 24 * 3600) or (
            not same_host and age < STALE_AFTER_SECONDS
        ):
            continue  # a save in progress
        uid = info.get("uid")
        recorded = session.execute(select(Artifact.id).where(Artifact.uid == uid)).scalar_one_or_none()
        if recorded is None:
            for target in info.get("targets", []):
                _remove_quietly(target)
            if not _storage.is_cloud(pending):  # partial temp files of the interrupted copy
                for name in os.listdir(pending):
                    if uid and uid in name and not name.endswith(".json"):
                        _remove_quietly(os.path.join(pending, name))
            removed += 1
        _remove_quietly(intent)
    if removed:
        logger.info(f"cleaned up {removed} interrupted save(s) in {root}")
    return removed


# --- saving ----------------------------------------------------------------------------------------


def _probable_uid(artifact: Artifact, session: Any) -> str | None:
    """The uid the new version will most likely get; fixed for good inside the write lock."""
    family = _family_to_extend(artifact, session)
    if family is None:
        return None
    return artifact._next_version_uid(session, family.stem_uid)


def _family_to_extend(artifact: Artifact, session: Any) -> Artifact | None:
    from lamella.models.artifact import Artifact as ArtifactModel

    revises = artifact.__dict__.get("_revises")
    if revises is not None:
        return revises  # type: ignore[no-any-return]
    if artifact.key is None:
        return None
    found: Artifact | None = session.execute(
        select(ArtifactModel)
        .where(
            ArtifactModel.key == artifact.key,
            ArtifactModel.is_latest.is_(True),
            ArtifactModel.branch_id != -1,
            ArtifactModel.storage_id == artifact.storage_id,
        )
        .limit(1)
    ).scalar_one_or_none()
    return found


def _find_duplicate(artifact: Artifact, session: Any) -> Artifact | None:
    from lamella.models.artifact import Artifact as ArtifactModel

    if artifact.hash is None:
        return None
    condition = [ArtifactModel.hash == artifact.hash, ArtifactModel.branch_id != -1]
    if artifact.suffix is not None:
        condition.append(ArtifactModel.suffix == artifact.suffix)
    found: Artifact | None = session.execute(
        select(ArtifactModel).where(*condition).order_by(ArtifactModel.id).limit(1)
    ).scalar_one_or_none()
    return found


def _store_bytes(source: Source, target: str) -> tuple[str, int, int | None]:
    from lamella import _storage

    if source.is_dir:
        digest, size, n_files = _storage.copy_tree_and_hash(source.path, _storage.to_path(target))
        return digest, size, n_files
    digest, size = _storage.copy_and_hash(source.path, _storage.to_path(target))
    return digest, size, None


def _hash_in_place(source: Source) -> tuple[str, int, int | None]:
    from lamella import _storage

    if source.is_dir:
        digest, size, n_files = _storage.hash_folder(source.path)
        return digest, size, n_files
    if source.hash is not None and source.size is not None:
        return source.hash, source.size, None
    digest, size = _storage.hash_file(source.path)
    return digest, size, None


def _storage_for_match(source: Source, instance: Instance) -> int:
    """The storage record of data registered in place; a referenced location gets a record of its own."""
    from lamella.models.core import Storage

    match = source.in_storage
    assert match is not None
    if match.storage_id is not None:
        return match.storage_id
    with instance.db.write("lamella:storage") as session:
        existing = session.execute(select(Storage.id).where(Storage.root == match.root)).scalar_one_or_none()
        if existing is not None:
            return int(existing)
        record = Storage(root=match.root, type=match.root.split("://", 1)[0], description="referenced",
                         created_by_id=instance.user_id)
        session.add(record)
        session.flush()
        logger.info(f"registered referenced storage {match.root} (read-only: Lamella never deletes its objects)")
        return record.id


def save_new_artifact(artifact: Artifact) -> Artifact:
    from lamella._instance import state
    from lamella.models.artifact import artifact_source

    source = artifact_source(artifact)
    if source is None:
        raise InvalidArgument("this artifact has no data to save; create it with ln.Artifact(path_or_data, key=...)")
    instance = state.current()
    session = instance.db.session()
    intent: str | None = None
    target: str | None = None
    try:
        if source.in_storage is not None:
            artifact.storage_id = _storage_for_match(source, instance)
            digest, size, n_files = _hash_in_place(source)
        else:
            artifact.storage_id = instance.storage_id
            probable = _probable_uid(artifact, session)
            if probable is not None:
                artifact.uid = probable
            target = storage_location(instance.storage_root, artifact.uid, source.suffix)
            intent = _write_intent(instance.storage_root, artifact.uid, [target])
            digest, size, n_files = _store_bytes(source, target)
        artifact.hash, artifact.size, artifact._hash_type = digest, size, "md5"
        if n_files is not None:
            artifact.n_files = n_files
        result = _insert_record(artifact, instance, target)
        if result is not artifact:  # same content exists: keep the existing record, drop our copy
            if target is not None:
                _remove_quietly(target)
            logger.info(f"returning the existing artifact with the same hash: {result.uid} (key={result.key!r})")
        elif target is not None and result.uid not in target:
            target = storage_location(instance.storage_root, result.uid, source.suffix)
    except BaseException:
        if target is not None:
            _remove_quietly(target)
        raise
    finally:
        if intent is not None:
            _remove_quietly(intent)
        if source.staged is not None:
            _remove_quietly(str(source.staged))
    return result


def _insert_record(artifact: Artifact, instance: Instance, target: str | None) -> Artifact:
    from lamella import _storage

    with instance.db.write(*artifact._lock_names()) as session:
        duplicate = _find_duplicate(artifact, session)
        if duplicate is not None:
            return duplicate
        family = _family_to_extend(artifact, session)
        if family is not None:
            final_uid = artifact._next_version_uid(session, family.stem_uid)
            artifact._demote_family(session, family.stem_uid)
            if artifact.description is None:
                artifact.description = family.description
            if final_uid != artifact.uid and target is not None:
                # another writer took the number we expected: move the bytes to the new name
                new_target = storage_location(instance.storage_root, final_uid, artifact.suffix)
                fs = _storage.filesystem(target)
                fs.mv(target, new_target, recursive=True)
            artifact.uid = final_uid
        artifact._fill_defaults(instance)
        if artifact.transform_id is None:
            from lamella.models.lineage import Run

            run = artifact.__dict__.get("run")
            if run is None and artifact.run_id is not None:
                run = session.get(Run, artifact.run_id)
            if run is not None:
                artifact.transform_id = run.transform_id
        artifact.is_latest = True
        session.add(artifact)
        session.flush()
    return artifact


# --- deleting --------------------------------------------------------------------------------------


def delete_artifact_permanently(artifact: Artifact, *, delete_bytes: bool | None) -> None:
    from sqlalchemy.exc import IntegrityError as SAIntegrityError

    from lamella import _storage
    from lamella._instance import state
    from lamella.errors import IntegrityError

    instance = state.current()
    storage = artifact.storage
    managed = storage.instance_uid is not None and storage.instance_uid == instance.config.uid
    location = str(artifact.path)
    try:
        with instance.db.write(*artifact._lock_names()) as session:
            if artifact.is_latest:
                artifact.is_latest = False
                session.add(artifact)
                session.flush()
                artifact._elect_latest(session)
            session.delete(artifact)
    except SAIntegrityError as e:
        raise IntegrityError(
            f"cannot delete artifact {artifact.uid}: other records still point at it ({e.orig}); "
            f"delete or relink them first"
        ) from e
    if delete_bytes is False:
        return
    if not managed:
        if delete_bytes:
            logger.warning(f"kept {location}: it lies in referenced storage {storage.root}, which Lamella never deletes")
        return
    try:
        _storage.delete(_storage.to_path(location))
    except Exception as e:
        logger.warning(f"the record is deleted but its bytes at {location} could not be removed: {e}")
