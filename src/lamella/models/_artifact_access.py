"""Reading an artifact back: its path, a local cached copy, loading into memory, streaming access."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lamella.errors import InvalidArgument, StorageError

if TYPE_CHECKING:
    from lamella.models.artifact import Artifact

_ROOTS: dict[tuple[str, int], str] = {}  # (instance uid, storage id) -> root; storage roots never change


def storage_root(artifact: Artifact) -> str:
    from lamella._instance import state
    from lamella.models.core import Storage

    instance = state.current()
    cache_key = (instance.config.uid, artifact.storage_id)
    root = _ROOTS.get(cache_key)
    if root is None:
        storage = artifact.__dict__.get("storage")
        if storage is not None:
            root = storage.root
        else:
            session = instance.db.session()
            root = session.execute(select(Storage.root).where(Storage.id == artifact.storage_id)).scalar_one()
        _ROOTS[cache_key] = root
    return root


def path_string(artifact: Artifact) -> str:
    if artifact.storage_id is None:
        source = artifact.__dict__.get("_source")
        if source is not None:
            return str(source.path)
        raise InvalidArgument("this artifact has no storage yet; save it first")
    root = storage_root(artifact)
    if artifact._key_is_virtual:
        from lamella.models._artifact_store import storage_location

        return storage_location(root, artifact.uid, artifact.suffix or "")
    return f"{root.rstrip('/')}/{artifact.key}"


def artifact_path(artifact: Artifact) -> Any:
    from lamella import _storage

    return _storage.to_path(path_string(artifact))


def _local_copy(artifact: Artifact) -> Path:
    from lamella import _storage
    from lamella._instance.settings import settings

    location = path_string(artifact)
    if not _storage.is_cloud(location):
        path = Path(location)
        if not path.exists():
            raise StorageError(f"the bytes of artifact {artifact.uid} are missing at {path}")
        return path
    target = _storage.cache_path_for(location, settings.cache_dir)
    try:
        return _storage.download_to_cache(_storage.to_path(location), target, expected_hash=artifact.hash)
    except FileNotFoundError as e:
        raise StorageError(f"the bytes of artifact {artifact.uid} are missing at {location}") from e


def _note_input(artifact: Artifact, is_run_input: bool | None) -> None:
    from lamella._tracking.context import track_input

    track_input(artifact, is_run_input)


def cache_artifact(artifact: Artifact, *, is_run_input: bool | None = None) -> Path:
    artifact._require_saved("cache")
    path = _local_copy(artifact)
    _note_input(artifact, is_run_input)
    return path


def load_artifact(artifact: Artifact, *, is_run_input: bool | None = None, **kwargs: Any) -> Any:
    from lamella import _formats

    artifact._require_saved("load")
    suffix = artifact.suffix or ""
    if not suffix:
        raise InvalidArgument(
            f"artifact {artifact.uid} is a folder without a known format; use artifact.cache() for a local path"
        )
    path = _local_copy(artifact)
    data = _formats.load(path, suffix, **kwargs)
    _note_input(artifact, is_run_input)
    return data


def open_artifact(artifact: Artifact, *, is_run_input: bool | None = None, **kwargs: Any) -> Any:
    from lamella import _formats, _storage

    artifact._require_saved("open")
    suffix = artifact.suffix or ""
    location = path_string(artifact)
    if _storage.is_cloud(location) and suffix in (".parquet", ".csv", ".tsv"):
        fs = _storage.filesystem(location)
        handle = _formats.open_dataset(location.split("://", 1)[1], suffix, filesystem=fs, **kwargs)
    else:
        handle = _formats.open_dataset(_local_copy(artifact), suffix, **kwargs)
    _note_input(artifact, is_run_input)
    return handle
