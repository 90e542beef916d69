"""In-memory data written once, straight into its place in storage, and hashed as it is written.

Local storage: `stage` writes the object, when the artifact is made, under the save's staging name
inside the storage (`<root>/.lamella/_pending/<uid>~<host>~<pid><suffix>`). A format written front
to back (parquet, csv, json, yaml, text) is hashed as it is written (`HashingWriter`); HDF5 (h5ad,
h5mu) and zarr folders seek and rewrite, so they are hashed right after, from the page cache. The
save then only inserts the record and renames the file into place (`place`): no copy, no second read.

Cloud storage: a format written front to back is written at the save straight into the upload,
hashed as it goes (`place`), so no local file exists at all; any other format is written to
`<cache>/_staging` when the artifact is made and uploaded (hashed in the same pass) at the save.

A staged file is named after the artifact's uid and its process, so the connect-time sweep of the
staging area (`store.sweep_pending`) removes it if the process dies before the record is committed,
and a failed save removes it (the save's `finally`); the in-memory object stays in `source.memory`
until the commit, so a retry writes it again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lamella import _formats, _storage
from lamella._instance import state
from lamella._process import HOST
from lamella._storage import staging
from lamella._storage.copying import open_sink
from lamella._storage.hashed_writes import HashingWriter, hash_written_file
from lamella._uid import base62
from lamella.errors import StorageError

if TYPE_CHECKING:
    from lamella.models.artifact.source import Source

__all__ = ["PENDING_DIR", "place", "stage", "staging_location"]

PENDING_DIR = ".lamella/_pending"


def staging_location(root: str, uid: str, suffix: str) -> str:
    """Where a save keeps its bytes in local storage until the record is committed."""
    return f"{root.rstrip('/')}/{PENDING_DIR}/{uid}~{HOST}~{os.getpid()}{suffix}"


def stage(source: Source, uid: str) -> None:
    """Write an in-memory object to its staged place, unless it is there; a failed write leaves nothing.

    `uid` is the artifact's: in local storage the file gets the name the save will use.
    """

    if source.memory is None or (source.staged is not None and source.staged.exists()):
        return
    instance = state.current()
    root = instance.storage_root
    if _storage.is_cloud(root) and _streams(source):
        source.staged = None  # written at the save, straight into the upload
        return
    local = not _storage.is_cloud(root) and not instance.read_only
    target = _pending_target(root, uid, source.suffix) if local else None
    if target is not None:
        source.staged = target
    elif source.staged is not None and source.staged.parent.name == staging.FOLDER_NAME:
        pass  # written before and removed by a failed save: the same name again
    else:
        folder = staging.staging_folder(state.cache_dir())
        source.staged = folder / f"{staging.new_stem(base62(16))}{source.suffix}"
    try:
        _write(source, instance.hash_type if target is not None else None)
    except BaseException:
        staging.remove(source.staged)
        raise


def _streams(source: Source) -> bool:
    return _formats.stream_writer_for(source.memory, format=source.format) is not None


def _pending_target(root: str, uid: str, suffix: str) -> Path | None:
    """The staging name in local storage; None when this process cannot write there (the save says why)."""
    target = Path(staging_location(root, uid, suffix))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return target


def _write(source: Source, hash_type: str | None) -> None:
    """Serialize `source.memory` to `source.staged`; with a `hash_type`, hash it in the same pass."""

    assert source.staged is not None
    path = source.staged
    stream = _formats.stream_writer_for(source.memory, format=source.format) if hash_type else None
    if stream is not None and hash_type is not None:
        source.hash, source.size = _stream_into(source, stream, str(path), hash_type)
        source.hash_type, source.n_files = hash_type, None
    else:
        stem = path.name[: -len(source.suffix) or None]
        _formats.serialize(source.memory, path.parent, stem, format=source.format)
        if hash_type is not None:
            source.hash, source.size, source.n_files = _hash_written(path, source.is_dir, hash_type)
            source.hash_type = hash_type
        else:
            source.size = None if source.is_dir else path.stat().st_size
    source.path = path


def _stream_into(source: Source, stream: Any, location: str, hash_type: str) -> tuple[str, int]:
    """Write the object into `location` (a local file, or an upload) hashing it; nothing is left on failure."""

    try:
        sink = open_sink(location)
        try:
            with HashingWriter(sink, hash_type) as file:
                stream(source.memory, file)
                digest, size = file.finish()
            sink.commit()
        except BaseException:
            sink.abort()
            raise
    except OSError as error:
        if isinstance(error, StorageError):
            raise
        raise StorageError(
            f"could not write the {source.otype or 'object'} to {location}: {error}"
        ) from error
    return digest, size


def _hash_written(path: Path, is_dir: bool, hash_type: str) -> tuple[str, int, int | None]:
    if is_dir:
        return _storage.hash_folder(path, hash_type)
    digest, size = hash_written_file(path, hash_type)
    return digest, size, None


def place(source: Source, target: str, hash_type: str) -> tuple[str, int, int | None, str] | None:
    """Put an in-memory object's bytes at `target` without copying them, if they can be; returns
    (hash, size, number of files, recorded hash type), or None when the staged file must be copied
    (and hashed with `hash_type`) like any other file.

    Staged in this storage: renamed to `target` (the artifact's uid may have changed since it was
    written). Not written yet (cloud storage, a format written front to back): written into
    `target` now, hashed as it goes.
    """

    if source.memory is None:
        return None
    if source.staged is None:
        stream = _formats.stream_writer_for(source.memory, format=source.format)
        assert stream is not None, "stage() writes every object that cannot be streamed"
        digest, size = _stream_into(source, stream, target, hash_type)
        source.hash, source.size, source.hash_type = digest, size, hash_type
        return digest, size, None, hash_type
    if (
        source.hash is None
        or source.hash_type != hash_type  # hashed for an instance of another algorithm
        or _storage.is_cloud(target)
        or source.staged.parent != Path(target).parent
    ):
        return None  # staged in the cache, or in another storage: copied and hashed
    if str(source.staged) != target:
        os.replace(source.staged, target)
        source.staged = source.path = Path(target)
    # the sweep of other processes judges a staged file by its age (a day, for a live writer): an
    # artifact made long ago and saved now must not look abandoned while its save runs
    os.utime(target)
    assert source.size is not None
    recorded = _storage.folder_hash_type(hash_type) if source.is_dir else hash_type
    return source.hash, source.size, source.n_files, recorded
