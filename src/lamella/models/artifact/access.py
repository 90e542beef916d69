"""Reading an artifact back: its path, a local cached copy, loading into memory, streaming access."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lamella import _formats, _storage
from lamella._instance import state
from lamella._process import HOST
from lamella.errors import InvalidArgument, PathNotFound, StorageError
from lamella.models.artifact.family import newer_at_same_path, stored_key
from lamella.models.core.instance_records import Storage
from lamella.models.core.run_links import link_input

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact

_REAL_ROOTS: dict[str, str] = {}  # local root -> the same with symbolic links resolved
MANAGED_DIR = ".lamella"


def storage_root(artifact: Artifact) -> str:

    instance = state.current()
    cache_key = (instance.config.uid, artifact.storage_id)
    root = state.process.storage_roots.get(cache_key)
    if root is None:
        session = instance.db.session()
        root, host = session.execute(
            select(Storage.root, Storage.host).where(Storage.id == artifact.storage_id)
        ).one()
        if host is not None and host != HOST and not _storage.is_cloud(root):
            raise StorageError(
                f"artifact {artifact.uid} lives in {root} on the machine {host!r}; this is {HOST!r}. "
                f"Read it on {host!r}, or copy it into this instance's storage there"
            )
        state.process.storage_roots[cache_key] = root
    return root


def path_string(artifact: Artifact) -> str:
    """Where the artifact's bytes are; raises StorageError if the record points outside its storage."""
    if artifact.storage_id is None:
        source = artifact.__dict__.get("_source")
        if source is not None:
            return str(source.path)
        raise InvalidArgument("this artifact has no storage yet; save it first")
    root = storage_root(artifact)
    relative: str | None
    if artifact._key_is_virtual:
        relative = f"{MANAGED_DIR}/{artifact.uid}{artifact.suffix or ''}"
    else:
        relative = stored_key(artifact)  # never an unsaved edit of the key
    return _inside_root(artifact, root, relative)


def _inside_root(artifact: Artifact, root: str, relative: str | None) -> str:
    """`root/relative`, checked to lie strictly inside `root` (and, for in-place keys, outside .lamella).

    Keys are validated when written, but a record edited in the database bypasses that: this check
    is what keeps load and delete from reaching another place.
    """

    location = f"{root.rstrip('/')}/{relative}"
    segments = relative.split("/") if isinstance(relative, str) and relative else [""]
    problem = None
    if any(s in ("", ".", "..") or "\0" in s for s in segments):
        problem = "it has empty, '.' or '..' path segments"
    elif artifact._key_is_virtual and len(segments) != 2:
        problem = f"its suffix {artifact.suffix!r} is not a file suffix"
    elif not artifact._key_is_virtual and segments[0] == MANAGED_DIR:
        problem = f"an in-place key must not point into {MANAGED_DIR}/, where Lamella keeps its own files"
    elif not _storage.is_cloud(location):
        real_root = _real_root(root)
        if not os.path.realpath(location).startswith(real_root.rstrip(os.sep) + os.sep):
            problem = f"it leads (through a symbolic link) to {os.path.realpath(location)}"
    if problem is None:
        return location
    raise StorageError(
        f"artifact {artifact.uid} (key {artifact.key!r}) resolves to {location}, which is not a place "
        f"inside its storage {root}: {problem}. Nothing was read or deleted; remove the record with "
        f"artifact.delete(permanent=True, storage=False) or correct it in the database"
    )


def _real_root(root: str) -> str:
    real = _REAL_ROOTS.get(root)
    if real is None:
        real = _REAL_ROOTS[root] = os.path.realpath(root)
    return real


def artifact_path(artifact: Artifact) -> Any:
    """Where the bytes are, with `view_tree()` and `download_to()`: a `LocalPath` (a pathlib path) in
    local storage, an `ln.UPath` (a universal-pathlib path) in the cloud."""
    location = path_string(artifact)
    if _storage.is_cloud(location):
        return _storage.UPath(_storage.to_path(location))
    return _storage.LocalPath(_storage.paths.to_local_path(location).resolve())


def verified_location(artifact: Artifact) -> str:
    """The artifact's location, after checking that what is there is still this artifact's content.

    Bytes Lamella manages (`.lamella/<uid>`) never change. Bytes registered in place belong to the
    user, who may overwrite them: a newer version registered at the same path means this version's
    content is gone, and a file of another size is not the registered content either.
    """
    location = path_string(artifact)
    if artifact._key_is_virtual:
        return location

    holder = newer_at_same_path(artifact, state.current().db.session())
    if holder is not None:
        raise StorageError(
            f"the content of artifact {artifact.uid} is lost: {location} was overwritten in place and "
            f"registered again as version {holder}, which holds that path now. Load {holder} instead; "
            f"artifact.delete(permanent=True) removes only this record and keeps {holder}'s bytes"
        )
    if artifact.size is not None and artifact.n_files is None and os.path.isfile(location):
        size = os.path.getsize(location)
        if size != artifact.size:
            raise StorageError(
                f"the file {location} changed after it was registered as artifact {artifact.uid} (then "
                f"{artifact.size} bytes, now {size}), so it is not that content any more. Register the "
                f"current file as a new version with ln.Artifact({location!r}).save()"
            )
    return location


def local_copy(artifact: Artifact) -> Path:

    location = verified_location(artifact)
    if not _storage.is_cloud(location):
        path = Path(location)
        if not path.exists():
            raise PathNotFound(
                f"the bytes of artifact {artifact.uid} are missing at {path}; restore the file, or remove "
                f"the record with artifact.delete(permanent=True)"
            )
        return path
    target = _storage.cache_path_for(location, state.cache_dir())
    try:
        # checked with the artifact's own hash type: an instance may hold md5 and BLAKE3 hashes
        algorithm = _storage.algorithm_of(artifact._hash_type)
        return _storage.download_to_cache(
            _storage.to_path(location),
            target,
            expected_hash=artifact.hash if algorithm is not None else None,
            hash_type=algorithm,
        )
    except FileNotFoundError as e:
        raise PathNotFound(
            f"the bytes of artifact {artifact.uid} are missing at {location}; restore the object, or "
            f"remove the record with artifact.delete(permanent=True)"
        ) from e


def _note_input(artifact: Artifact, is_run_input: bool | None) -> None:

    link_input(artifact, is_run_input)


def cache_artifact(artifact: Artifact, *, is_run_input: bool | None = None) -> Path:
    artifact._require_saved("cache")
    path = local_copy(artifact)
    _note_input(artifact, is_run_input)
    return path


def load_artifact(artifact: Artifact, *, is_run_input: bool | None = None, **kwargs: Any) -> Any:

    artifact._require_saved("load")
    suffix = artifact.suffix or ""
    if not suffix:
        raise InvalidArgument(
            f"artifact {artifact.uid} is a folder without a known format; use artifact.cache() for a local path"
        )
    path = local_copy(artifact)
    data = _formats.load(path, suffix, **kwargs)
    _note_input(artifact, is_run_input)
    return data


def open_artifact(artifact: Artifact, *, is_run_input: bool | None = None, **kwargs: Any) -> Any:

    artifact._require_saved("open")
    suffix = artifact.suffix or ""
    location = verified_location(artifact)
    if _storage.is_cloud(location) and suffix in (".parquet", ".csv", ".tsv"):
        fs = _storage.filesystem(location)
        handle = _formats.open_dataset(location.split("://", 1)[1], suffix, filesystem=fs, **kwargs)
    else:
        handle = _formats.open_dataset(local_copy(artifact), suffix, **kwargs)
    _note_input(artifact, is_run_input)
    return handle
