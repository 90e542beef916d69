"""Saving an artifact's bytes and record as one atomic step, and deleting them again.

Local storage (rename is atomic and cheap), a roll-forward journal:
1. the bytes are copied into `<root>/.lamella/_pending/<uid>~<host>~<pid><suffix>`, hashed in the
   same read pass (in-memory data was written there, and hashed, when the artifact was made:
   `write_once.py`; it is only renamed if the uid changed);
2. one database transaction checks for an artifact with the same hash, numbers the version under
   the registry lock (renaming the staged file to the final uid), inserts the record and commits;
3. the staged file is renamed into `<root>/.lamella/<uid><suffix>`; if another process deleted the
   record in between (its delete found no bytes yet), the renamed bytes are removed again.
A staged file whose writer died is rolled back (no record with its uid: deleted) or forward (the
record committed: moved into place) by the next process that connects.

Cloud storage (no rename), an intent object:
1. an intent (`<root>/.lamella/_pending/<uid>.json`) names the object about to be written;
2. the bytes are uploaded there directly, hashed in the same pass (a DataFrame is serialized
   straight into the upload);
3. the same transaction as above; 4. the intent is removed.
An intent whose writer died means its bytes are deleted unless the record committed.
Either way there is never a record without bytes, nor bytes without a record.

A permanent delete removes the record, then the bytes only this record owns (see
_artifact_family.py for bytes registered in place that several records name), and never
anything that does not lie inside the artifact's storage root.
"""

from __future__ import annotations

import errno
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm.exc import ObjectDeletedError

from lamella import _storage
from lamella._instance import state
from lamella._logging import logger
from lamella._process import HOST as _HOST
from lamella._process import pid_alive
from lamella._storage.progress import progress_for
from lamella.errors import DoesNotExist, IntegrityError, InvalidArgument, StorageError

# the registry is imported as a module: it imports this module back (registry and behaviour call each other)
from lamella.models.artifact import artifact as registry
from lamella.models.artifact import batch
from lamella.models.artifact.access import path_string
from lamella.models.artifact.batch import KnownInBatch
from lamella.models.artifact.family import (
    family_to_extend,
    newer_at_same_path,
    not_stale_at_same_path,
    overlapping_in_place,
    refuse_shared_bytes,
    require_key_free,
)
from lamella.models.artifact.source import artifact_source, forget_storage_roots
from lamella.models.artifact.write_once import PENDING_DIR, place, stage, staging_location
from lamella.models.core.bulk import forget_failed_inserts
from lamella.models.core.instance_records import Storage
from lamella.models.core.run_links import link_to_current_project
from lamella.models.lineage.lineage import Run

if TYPE_CHECKING:
    from lamella._instance.state import Instance
    from lamella.models.artifact.artifact import Artifact
    from lamella.models.artifact.source import Source

STALE_AFTER_SECONDS = 3600.0  # a pending save of another host is abandoned after this long
PROGRESS_MIN_FILES = 1000  # a batch storing this many files shows a bar (on a terminal)


def storage_location(root: str, uid: str, suffix: str) -> str:
    return f"{root.rstrip('/')}/.lamella/{uid}{suffix}"


def _join(root: str, relative: str) -> str:
    return f"{root.rstrip('/')}/{relative}"


_STAGED = re.compile(r"^(?P<uid>[0-9A-Za-z]+)~(?P<host>[^~]+)~(?P<pid>\d+)(?P<suffix>.*)$")


def _remove_quietly(location: str) -> None:

    try:
        _storage.delete(_storage.to_path(location))
    except Exception as e:  # cleanup is best effort; the sweep retries later
        logger.debug(f"could not remove {location}: {e}")


def _writer_gone(host: str, pid: int, started: float) -> bool:
    if host == _HOST:
        return not pid_alive(pid) or time.time() - started > 24 * 3600
    return time.time() - started > STALE_AFTER_SECONDS


# --- the cloud intent ------------------------------------------------------------------------------


def _write_intent(root: str, uid: str, targets: list[str]) -> str:

    location = _join(root, f"{PENDING_DIR}/{uid}.json")
    payload = json.dumps(
        {"uid": uid, "targets": targets, "pid": os.getpid(), "host": _HOST, "time": time.time()}
    )
    _storage.filesystem(location).pipe_file(location, payload.encode())
    return location


# --- cleaning up after writers that died -----------------------------------------------------------


def sweep_pending(instance: Instance) -> int:
    """Finish or undo the saves of processes that died between copying bytes and committing."""

    pending = _join(instance.storage_root, PENDING_DIR)
    if _storage.is_cloud(pending):
        return _sweep_cloud(instance, pending)
    if not os.path.isdir(pending):
        return 0

    session = instance.db.session()
    handled = 0
    for name in os.listdir(pending):
        path = os.path.join(pending, name)
        try:
            started = os.stat(path).st_mtime
        except FileNotFoundError:
            continue
        # the copy writes into a hidden partial sibling (".<staged name>.<random>.lamella-part")
        # and renames it to the staged name when complete
        partial = name.startswith(".")
        match = _STAGED.match(name.lstrip("."))
        if match is None:  # not ours to judge by name: remove only when clearly abandoned
            if time.time() - started > STALE_AFTER_SECONDS:
                _remove_quietly(path)
            continue
        if not _writer_gone(match["host"], int(match["pid"]), started):
            continue  # a save in progress
        handled += 1
        if partial:
            _remove_quietly(path)  # an interrupted copy: never complete, never committed
            continue
        uid, suffix = match["uid"], match["suffix"]
        committed = session.execute(
            select(registry.Artifact.id).where(registry.Artifact.uid == uid)
        ).scalar_one_or_none()
        final = storage_location(instance.storage_root, uid, suffix)
        if committed is not None and not os.path.exists(final):
            os.replace(path, final)  # the record committed: finish the save
        else:
            _remove_quietly(path)  # no record: undo the save
    if handled:
        logger.info(f"cleaned up {handled} interrupted save(s) in {instance.storage_root}")
    return handled


def pending_saves(root: str) -> list[tuple[str, bool]]:
    """Each entry of a storage's staging area, with whether its writer is gone (the sweep handles those)."""

    pending = _join(root, PENDING_DIR)
    found: list[tuple[str, bool]] = []
    if _storage.is_cloud(pending):
        fs = _storage.filesystem(pending)
        try:
            names = [n for n in fs.ls(pending, detail=False) if n.endswith(".json")]
        except FileNotFoundError:
            return []
        for name in names:
            intent = name if "://" in name else f"{pending.split('://', 1)[0]}://{name}"
            try:
                info = json.loads(fs.cat_file(intent))
                gone = _writer_gone(
                    str(info.get("host")), int(info.get("pid", 0)), float(info.get("time", 0))
                )
            except Exception:  # unreadable intent: the sweep skips it too, so nobody would clean it
                gone = False
            found.append((intent, gone))
        return found
    if not os.path.isdir(pending):
        return []
    for name in sorted(os.listdir(pending)):
        path = os.path.join(pending, name)
        try:
            started = os.stat(path).st_mtime
        except FileNotFoundError:
            continue
        match = _STAGED.match(name.lstrip("."))
        if match is None:
            gone = time.time() - started > STALE_AFTER_SECONDS
        else:
            gone = _writer_gone(match["host"], int(match["pid"]), started)
        found.append((path, gone))
    return found


def _sweep_cloud(instance: Instance, pending: str) -> int:

    fs = _storage.filesystem(pending)
    try:
        names = [n for n in fs.ls(pending, detail=False) if n.endswith(".json")]
    except FileNotFoundError:
        return 0
    session = instance.db.session()
    handled = 0
    for name in names:
        intent = name if "://" in name else f"{pending.split('://', 1)[0]}://{name}"
        try:
            info = json.loads(fs.cat_file(intent))
        except Exception:
            continue
        if not _writer_gone(str(info.get("host")), int(info.get("pid", 0)), float(info.get("time", 0))):
            continue
        committed = (
            session.execute(
                select(registry.Artifact.id).where(
                    registry.Artifact.uid.in_([t.rsplit("/", 1)[-1][:20] for t in info["targets"]])
                )
            )
            .scalars()
            .all()
        )
        if not committed:
            for target in info.get("targets", []):
                _remove_quietly(target)
                _abort_multipart_uploads(target)
        _remove_quietly(intent)
        handled += 1
    if handled:
        logger.info(f"cleaned up {handled} interrupted upload(s) in {instance.storage_root}")
    return handled


def _abort_multipart_uploads(location: str) -> None:
    """A killed upload leaves its parts in the bucket (invisible, but stored and billed): abort them."""

    bucket, _, key = location.split("://", 1)[1].partition("/")
    fs = _storage.filesystem(location)
    try:
        listing = fs.call_s3("list_multipart_uploads", Bucket=bucket, Prefix=key)
        for upload in listing.get("Uploads", []):
            if upload.get("Key") == key:
                fs.call_s3("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload["UploadId"])
    except Exception as e:  # not S3, or no permission to list uploads: nothing more we can do
        logger.debug(f"could not abort multipart uploads of {location}: {e}")


# --- saving ----------------------------------------------------------------------------------------


def _find_duplicate(artifact: Artifact, session: Any) -> Artifact | None:
    """The first artifact outside the trash with the same content (hash and suffix)."""

    if artifact.hash is None:
        return None
    table = registry.Artifact.__table__.c
    condition = [table.hash == artifact.hash, table.branch_id != -1]
    algorithm = _storage.algorithm_of(artifact._hash_type)
    if algorithm is not None:  # hashes of two algorithms are never the same content
        condition.append(table._hash_type.in_(_storage.recorded_types(algorithm)))
    if artifact.suffix is not None:
        condition.append(table.suffix == artifact.suffix)
    if not artifact._key_is_virtual and artifact.key is not None:
        # an older version at this path whose content the file has again: its record says the
        # path was overwritten since, so the content is registered anew, as the path's holder
        condition.append(not_stale_at_same_path(artifact.storage_id, artifact.key))
    found = session.execute(select(func.min(table.id)).where(*condition)).scalar()
    return None if found is None else session.get(registry.Artifact, found, populate_existing=True)


def _store_bytes(source: Source, target: str, hash_type: str) -> tuple[str, int, int | None, str]:
    """Copy the bytes to `target`, hashing them on the way: (hash, size, n_files, recorded hash type)."""

    written = place(source, target, hash_type)  # in-memory data: written once, never copied
    if written is not None:
        return written
    if source.is_dir:
        digest, size, n_files = _storage.copy_tree_and_hash(source.path, _storage.to_path(target), hash_type)
        return digest, size, n_files, _storage.folder_hash_type(hash_type)
    digest, size = _storage.copy_and_hash(source.path, target, hash_type)  # ours: no symlink to resolve
    return digest, size, None, hash_type


def _hash_in_place(source: Source, hash_type: str) -> tuple[str, int, int | None, str]:
    """Hash data registered where it lies: (hash, size, n_files, recorded hash type).

    Cloud objects whose ETags are plain md5s are not read: they keep md5 whatever the instance's
    hash type (a folder only when every file's ETag is one); anything else is hashed with `hash_type`.
    """

    if source.is_dir:
        from_etags = _storage.etag_folder_hash(source.path)
        if from_etags is not None:
            return (*from_etags, _storage.folder_hash_type(_storage.MD5))
        digest, size, n_files = _storage.hash_folder(source.path, hash_type)
        return digest, size, n_files, _storage.folder_hash_type(hash_type)
    known = _known_in_place(source)
    if known is not None:
        return known
    digest, size = _storage.hash_file(source.path, hash_type)
    return digest, size, None, hash_type


def _known_in_place(source: Source) -> tuple[str, int, None, str] | None:
    """(hash, size, None, md5) of a cloud file registered in place whose ETag is its md5 (source.py)."""
    if source.in_storage is None or source.is_dir or source.hash is None or source.size is None:
        return None
    return source.hash, source.size, None, _storage.MD5


def _storage_for_match(source: Source, instance: Instance) -> int:
    """The storage record of data registered in place; a referenced location gets a record of its own."""

    match = source.in_storage
    assert match is not None
    if match.storage_id is not None:
        return match.storage_id
    with instance.db.write("lamella:storage") as session:
        existing = session.execute(select(Storage.id).where(Storage.root == match.root)).scalar_one_or_none()
        if existing is not None:
            return int(existing)
        record = Storage(
            root=match.root,
            type=match.root.split("://", 1)[0],
            description="referenced",
            created_by_id=instance.user_id,
        )
        session.add(record)
        session.flush()

        forget_storage_roots()
        logger.info(
            f"registered referenced storage {match.root} (read-only: Lamella never deletes its objects)"
        )
        return record.id


@dataclass
class _Staged:
    """One artifact between its bytes being written and its record being committed."""

    artifact: Artifact
    source: Source
    location: str | None = None  # where its bytes are now (None: registered in place)
    intent: str | None = None
    owned: bool = False  # the bytes at `location` belong to a committed record


def save_new_artifact(artifact: Artifact) -> Artifact:
    return save_new_artifacts([artifact])[0]


def save_new_artifacts(artifacts: list[Artifact]) -> list[Artifact]:
    """Stage every artifact's bytes, insert all records in one transaction, then put bytes in place.

    Returns the saved records; an artifact whose content exists already comes back as that record.
    """

    instance = state.current()
    if instance.read_only:  # before any bytes are copied into the storage
        raise instance.db.read_only_error("save an artifact")
    cloud = _storage.is_cloud(instance.storage_root)
    staged: list[_Staged] = []
    placed: dict[str, str] = {}  # uid -> final location of bytes moved into place after the commit
    try:
        for artifact in artifacts:
            source = artifact_source(artifact)
            if source is None:
                raise InvalidArgument(
                    "this artifact has no data to save; create it with ln.Artifact(path_or_data, key=...)"
                )
            staged.append(_Staged(artifact, source))
        _stage_all(staged, instance, cloud)
        with instance.db.write(*artifacts[0]._lock_names()) as session:
            results = batch.insert_batch(
                [item.artifact for item in staged],
                instance,
                session,
                lambda index, known: _insert_record(staged[index], instance, cloud, known),
            )
        for item in staged:
            item.source.memory = None  # committed: no retry will need the in-memory object again
        for item, result in zip(staged, results, strict=True):
            if result is not item.artifact:  # same content exists: keep that record, drop our copy
                item.artifact._become_saved_as(result)
                if (result.kind or "").startswith("__lamella"):
                    continue  # an environment seen before: expected, nothing to tell
                logger.info(
                    f"returning the existing artifact with the same hash: {result.uid} (key={result.key!r})"
                )
            elif item.location is not None:
                item.owned = True  # committed: from here on the sweep rolls forward, never back
                if not cloud:
                    final = storage_location(instance.storage_root, result.uid, item.source.suffix)
                    os.replace(item.location, final)
                    placed[result.uid] = final
        _remove_if_deleted_meanwhile(placed, instance)
        return results
    except BaseException:
        forget_failed_inserts(item.artifact for item in staged)
        raise
    finally:
        for item in staged:
            if item.location is not None and not item.owned:
                _remove_quietly(item.location)
            if item.intent is not None:
                _remove_quietly(item.intent)
            if item.source.staged is not None:
                _remove_quietly(str(item.source.staged))


def _remove_if_deleted_meanwhile(placed: dict[str, str], instance: Instance) -> None:
    """Bytes moved into place after the commit whose record another process deleted in between.

    That delete removed the record, then found no bytes to remove yet: checking after the move
    means one of the two always sees the other, so the bytes never outlive their record.
    """

    if not placed:
        return
    table = registry.Artifact.__table__.c
    session = instance.db.session()
    present = set(session.execute(select(table.uid).where(table.uid.in_(list(placed)))).scalars())
    for uid, final in placed.items():
        if uid not in present:
            _remove_quietly(final)


def _stage_all(staged: list[_Staged], instance: Instance, cloud: bool) -> None:
    """Copy (or hash in place) the bytes of every artifact; those of many files on a bounded pool."""
    storages: dict[str, int] = {}  # root -> storage id of data registered in place: one lookup per root
    to_transfer: list[_Staged] = []
    for item in staged:
        stage(item.source, item.artifact.uid)  # in-memory data a failed save removed: write it again
        _prepare(item, instance, cloud, storages)
        known = _known_in_place(item.source)
        if known is None:
            to_transfer.append(item)
        else:  # an S3 object registered in place with its ETag's md5: nothing to read, no thread to wake
            _record_bytes(item, known)
    if not to_transfer:
        return
    hash_type = instance.hash_type  # read here: the transfers may run on the pool's threads
    placements = [batch.placement(i.source.size, i.source.is_dir, cloud) for i in to_transfer]
    # a bar counts the files of a big batch of small ones; a big file shows its own (one bar at a time)
    counted = len(to_transfer) >= PROGRESS_MIN_FILES and batch.ALONE not in placements
    with progress_for(
        len(to_transfer), "storing files", unit="files", enabled=None if counted else False
    ) as advance:

        def transfer(item: _Staged) -> tuple[str, int, int | None, str]:
            stored = _transfer(item, instance, cloud, hash_type)
            advance(1)
            return stored

        results = batch.store_all(to_transfer, placements, transfer)
    for item, result in zip(to_transfer, results, strict=True):
        _record_bytes(item, result)


def _prepare(item: _Staged, instance: Instance, cloud: bool, storages: dict[str, int]) -> None:
    """Where the bytes go; in this thread, since registering a referenced storage writes the database."""
    artifact, source = item.artifact, item.source
    match = source.in_storage
    if match is not None:
        storage_id = storages.get(match.root)
        if storage_id is None:
            storage_id = storages[match.root] = _storage_for_match(source, instance)
        artifact.__dict__["storage_id"] = storage_id  # an unsaved record: the insert reads its state
        return
    artifact.__dict__["storage_id"] = instance.storage_id
    # named by the artifact's own random uid, which no concurrent writer can share
    if cloud:
        item.location = storage_location(instance.storage_root, artifact.uid, source.suffix)
    else:
        item.location = staging_location(instance.storage_root, artifact.uid, source.suffix)


def _transfer(
    item: _Staged, instance: Instance, cloud: bool, hash_type: str
) -> tuple[str, int, int | None, str]:
    """Copy and hash, or only hash what is registered in place: (hash, size, number of files, the
    hash type recorded)."""
    source = item.source
    if source.in_storage is not None:
        return _hash_in_place(source, hash_type)
    assert item.location is not None
    if cloud:
        try:
            item.intent = _write_intent(instance.storage_root, item.artifact.uid, [item.location])
        except OSError as e:
            item.location = None
            raise StorageError(
                f"cannot write to storage {instance.storage_root}: {e}; check that the bucket exists "
                f"and your credentials allow writing"
            ) from e
    try:
        return _store_bytes(source, item.location, hash_type)
    except OSError as e:
        if not _refused_permission(e):
            raise

        raise StorageError(
            f"cannot save into storage {instance.storage_root}: it cannot be written ({_root_cause(e)}); "
            f"ask for write permission on it, or save into a storage you can write: "
            f"ln.settings.storage = 'path/or/s3://bucket'"
        ) from e


def _record_bytes(item: _Staged, stored: tuple[str, int, int | None, str]) -> None:
    digest, size, n_files, recorded = stored
    # straight into the unsaved record's state, as its constructor writes fields: the insert reads them there
    values = item.artifact.__dict__
    values["hash"], values["size"], values["_hash_type"] = digest, size, recorded
    if n_files is not None:
        values["n_files"] = n_files


def _root_cause(error: BaseException) -> BaseException:
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def _refused_permission(error: BaseException) -> bool:

    cause = _root_cause(error)
    return isinstance(cause, PermissionError) or getattr(cause, "errno", None) in (errno.EROFS, errno.EACCES)


def _insert_record(item: _Staged, instance: Instance, cloud: bool, known: KnownInBatch) -> Artifact:
    """Insert one record inside the registry's write lock; returns it, or the existing one with the same hash.

    A new version gets its number here, and its staged bytes are renamed to match. `known` (the
    batch's hashes and keys) spares the lookups an artifact with new content or a new key does not need.
    """

    artifact = item.artifact
    with instance.db.write(*artifact._lock_names()) as session:
        duplicate = _find_duplicate(artifact, session) if known.may_duplicate(artifact) else None
        if duplicate is not None:
            return duplicate
        family = family_to_extend(artifact, session) if known.may_extend(artifact) else None
        if family is not None:
            if artifact.key is not None and artifact.key != family.key:
                require_key_free(family, session, artifact.key)
            final_uid = artifact._next_version_uid(
                session, family.stem_uid, still_in_use=_bytes_still_stored(item, instance)
            )
            artifact._demote_family(session, family.stem_uid)
            if artifact.description is None:
                artifact.description = family.description
            if item.location is not None and final_uid != artifact.uid:
                suffix = artifact.suffix or ""
                if cloud:
                    renamed = storage_location(instance.storage_root, final_uid, suffix)
                    _write_intent(instance.storage_root, artifact.uid, [item.location, renamed])
                else:
                    renamed = staging_location(instance.storage_root, final_uid, suffix)
                _move(item.location, renamed)
                item.location = renamed
            artifact.uid = final_uid
        artifact._fill_defaults(instance)
        if artifact.transform_id is None:
            run = artifact.__dict__.get("run")
            if run is None and artifact.run_id is not None:
                run = session.get(Run, artifact.run_id)
            if run is not None:
                artifact.transform_id = run.transform_id
        artifact.is_latest = True
        session.add(artifact)
        session.flush()
        known.add(artifact)  # the rest of the batch may repeat its content or its key
        if not (artifact.kind or "").startswith("__lamella"):
            link_to_current_project([artifact])
    return artifact


def _bytes_still_stored(item: _Staged, instance: Instance) -> Callable[[str], bool] | None:
    """Whether bytes are still stored under a uid whose record is gone.

    A process that deleted the newest version for good removes its bytes just after its commit; a
    save that took the freed version number in between would put its bytes where that removal
    follows. Such a number is skipped until the bytes are gone.
    """
    if item.location is None:
        return None  # registered in place: its bytes are not named by its uid

    root, suffix = instance.storage_root, item.artifact.suffix or ""
    return lambda uid: _storage.exists(storage_location(root, uid, suffix))


def _move(source: str, destination: str) -> None:

    if _storage.is_cloud(source):
        _storage.filesystem(source).mv(source, destination, recursive=True)
    else:
        os.replace(source, destination)


# --- deleting --------------------------------------------------------------------------------------


def delete_artifact_permanently(artifact: Artifact, *, delete_bytes: bool | None) -> None:
    """Delete the record, then the bytes it alone owns; never anything outside its storage root."""

    instance = state.current()
    try:
        storage, uid = artifact.storage, artifact.uid
    except ObjectDeletedError as e:  # expired by an earlier failed write, and gone from the database
        raise DoesNotExist(
            f"cannot delete Artifact with id {artifact.__dict__.get('id')}: it was deleted by another "
            f"process after it was loaded; query it again to see the current records"
        ) from e
    managed = storage.instance_uid is not None and storage.instance_uid == instance.config.uid
    location: str | None = None
    keep_reason: str | None = None
    try:
        location = path_string(artifact)
    except StorageError as e:  # a record edited to point elsewhere: its record goes, nothing else
        keep_reason = str(e)
    try:
        with instance.db.write(*artifact._lock_names()) as session:
            artifact._require_in_database(session, "delete")
            if location is not None and managed and delete_bytes is not False:
                holder = newer_at_same_path(artifact, session)
                if holder is not None:
                    keep_reason = (
                        f"kept {location}: it holds the bytes of version {holder}, registered at the "
                        f"same path after {uid}"
                    )
                else:
                    overlapping = overlapping_in_place(artifact, session)
                    if overlapping:
                        raise refuse_shared_bytes(artifact, overlapping)
            artifact._on_delete_permanently(session)
            session.delete(artifact)
    except IntegrityError as e:
        if e.__cause__ is None:
            raise  # ours, with its own message
        raise IntegrityError(
            f"cannot delete artifact {uid}: other records still point at it "
            f"({getattr(e.__cause__, 'orig', e)}); delete or relink them first"
        ) from e
    if delete_bytes is False:
        return
    if keep_reason is not None:
        if location is None:
            logger.warning(keep_reason)
        else:
            logger.info(keep_reason)
        return
    assert location is not None
    if not managed:
        if delete_bytes:
            logger.warning(
                f"kept {location}: it lies in referenced storage {storage.root}, which Lamella never deletes"
            )
        return
    try:
        _storage.delete(location)  # not resolved: a symlink is removed, never what it points to
    except Exception as e:
        logger.warning(f"the record is deleted but its bytes at {location} could not be removed: {e}")


def save_many(group: list[Artifact]) -> list[Artifact]:
    """`ln.save(artifacts)`: new ones stored together (bytes first), saved ones saved again, in order."""
    is_new = [r.__dict__.get("id") is None for r in group]  # before saving gives them ids
    new_artifacts = [r for r, new in zip(group, is_new, strict=True) if new]
    # artifacts made with a schema (from_dataframe(df, schema=...)) are annotated once stored
    curators = [r.__dict__.pop("_lamella_curator", None) for r in new_artifacts]
    try:
        stored = save_new_artifacts(new_artifacts) if new_artifacts else []
    except BaseException:
        for artifact, curator in zip(new_artifacts, curators, strict=True):
            if curator is not None:
                artifact.__dict__["_lamella_curator"] = curator
        raise
    for artifact, curator in zip(stored, curators, strict=True):
        if curator is not None:
            curator._annotate(artifact)
    results = iter(stored)
    return [next(results) if new else r.save() for r, new in zip(group, is_new, strict=True)]
