"""What an Artifact is made from: a local path, a cloud object, or an in-memory object serialized first.

Everything cheap to learn up front (suffix, size, whether the path already lies in a registered
storage, an S3 object's ETag hash) is learned here; hashing local bytes waits for the save, where
it happens in the same read pass as the copy. An in-memory object is written only by
`write_once.stage`, once every argument of the artifact has been checked.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from lamella import _formats, _storage
from lamella._instance import state
from lamella._logging import logger
from lamella._storage import staging
from lamella._storage.hashing import etag_to_hash
from lamella._storage.listing import LocalListing, list_remote_detailed, scan_local
from lamella._storage.paths import location_str
from lamella.errors import InvalidArgument, PathNotFound, StorageError
from lamella.models.core.instance_records import Storage

if TYPE_CHECKING:
    from lamella.models.artifact.artifact import Artifact


@dataclass
class StorageMatch:
    """The data already lies in a storage location: register it in place under `key`."""

    key: str
    storage_id: int | None  # None: a storage record for `root` is created at save
    root: str


@dataclass
class Source:
    path: Any  # pathlib.Path or UPath
    is_cloud: bool
    is_dir: bool
    suffix: str
    size: int | None = None
    hash: str | None = None
    hash_type: str | None = None  # the algorithm of `hash`: md5 for an S3 ETag, the instance's when written
    n_files: int | None = None
    n_observations: int | None = None
    otype: str | None = None
    key: str | None = None  # set when the data lies in a storage: its path relative to the root
    in_storage: StorageMatch | None = None
    # a file written from an in-memory object (in the storage's staging area, or the cache); removed
    # or moved into place by the save
    staged: Path | None = None
    # the in-memory object until it is saved: a failed save removes the staged file, a retry rewrites it
    memory: Any = None
    format: str | None = None


def _is_pathlike(data: Any) -> bool:
    return isinstance(data, str | os.PathLike) or type(data).__name__.endswith("Path")


def describe_source(data: Any, *, key: str | None, format: str | None) -> Source:
    """What `data` is; a `Source` (a file of a folder listing, `folder_sources`) is taken as it is."""
    if isinstance(data, Source):
        source = data
    else:
        if format is None and isinstance(key, str) and not _is_pathlike(data):  # a bad key: checked below
            format = _format_named_by(key, data)
        source = _path_source(str(data)) if _is_pathlike(data) else _memory_source(data, format=format)
    if source.in_storage is not None:
        if key is not None and key != source.in_storage.key:
            raise InvalidArgument(
                f"{source.path} already lies in storage {source.in_storage.root} under key "
                f"{source.in_storage.key!r}; it is registered in place, so drop key={key!r}"
            )
        source.key = source.in_storage.key
    elif key is not None:
        _storage.validate_key(key, data_suffix=source.suffix)
    return source


def _format_named_by(key: str, data: Any) -> str | None:
    """The key's suffix when a format writes `data` under it (as in LaminDB: a DataFrame with key
    "x.csv" is written as csv, an AnnData with key "x.zarr" as zarr); else None, the type's default."""
    suffix = _storage.suffix_of(key)
    if not suffix:
        return None
    try:
        _formats.suffix_for(data, format=suffix)
    except InvalidArgument:
        return None
    return suffix


def _path_source(location: str) -> Source:

    path = _storage.to_path(location)
    is_cloud = _storage.is_cloud(location)
    if is_cloud:
        try:
            exists = _storage.exists(path)
        except Exception as e:
            raise StorageError(f"cannot reach {location}: {e}") from e
        if not exists:
            raise PathNotFound(f"no file or folder at {location}; check the bucket and key")
        is_dir = _storage.is_dir(path)
        size = None if is_dir else _storage.size_of(path)
    else:
        try:
            found = os.stat(str(path))  # one stat: whether it exists, is a folder, and its size
        except (OSError, ValueError) as e:  # as os.path.exists: missing, unreachable or unnamable
            raise PathNotFound(
                f"no file or folder at {location} (resolved to {path}); check the path, or pass the "
                "object itself to ln.Artifact(...)"
            ) from e
        is_dir = stat.S_ISDIR(found.st_mode)
        size = None if is_dir else found.st_size
    suffix = _storage.suffix_of(path.name) if (not is_dir or path.name.endswith(".zarr")) else ""
    source = Source(path=path, is_cloud=is_cloud, is_dir=is_dir, suffix=suffix, size=size)
    if is_dir and not is_cloud:
        check_folder(path)
    source.in_storage = _match_storage(str(path) if not is_cloud else location.rstrip("/"), is_cloud)
    if is_cloud and not is_dir:
        # an ETag that is the object's md5 is its hash (type md5): no download; other objects are
        # hashed at the save, with the instance's hash type
        source.hash, source.size = _storage.etag_file_hash(path)
        source.hash_type = _storage.MD5 if source.hash is not None else None
    return source


def check_folder(path: Any, listing: LocalListing | None = None) -> None:
    """Warn about each entry of a local folder that will not be stored; refuse one where that is all.

    Which entries those are (symlinks leading outside, dangling links, cycles) is the policy of
    `lamella._storage.tree`; hashing and copying at the save apply it again to what is there then.
    `listing`: the folder's, when the caller has listed it already.
    """

    if listing is None:
        try:
            listing = scan_local(Path(str(path)))
        except OSError:
            return  # unreadable: the save reports it with the path
    if not listing.left_out:
        return
    entries = "\n".join(f"  {item.rel}: {item.reason}" for item in listing.left_out)
    if not listing.files:
        raise InvalidArgument(
            f"nothing in {path} can be stored, every entry is left out:\n{entries}\n"
            "only symlinks that lead to files or folders inside the folder are stored: copy the "
            "targets into the folder, or register them as artifacts of their own"
        )

    logger.warning(
        f"left out {len(listing.left_out)} of the entries in {path} (symlinks are stored only when "
        f"they lead inside the folder; copy the targets in to include them):\n{entries}"
    )


def folder_sources(folder: Any) -> list[tuple[str, Source]]:
    """(path relative to the folder, its `Source`) for every file of a local folder or cloud prefix.

    One listing answers everything (on S3 one paginated listing: no request per object): the sizes,
    and on S3 each object's md5 from its ETag, as `_path_source` learns it with a request per file.
    A file in a registered storage (every cloud object: its bucket is one) is registered in place
    under its key there. Local files are not stat'ed again: the listing has their sizes.
    """
    location = location_str(folder).rstrip("/")
    cloud = _storage.is_cloud(location)
    try:
        if cloud:
            files = [(f.rel, f.url, f.size, etag_to_hash(f.etag)) for f in list_remote_detailed(location)]
        else:
            listing = scan_local(Path(location))
            check_folder(location, listing)
            files = [(rel, os.path.join(location, rel), size, None) for rel, size in listing.files]
    except OSError as e:
        if isinstance(e, StorageError):
            raise
        raise StorageError(f"cannot list {location}: {e}") from e
    sources = []
    for rel, path, size, digest in files:
        source = Source(
            path=path if cloud else Path(path),  # a UPath per object would cost more than the rest
            is_cloud=cloud,
            is_dir=False,
            suffix=_storage.suffix_of(rel.rpartition("/")[2]),
            size=size,
            hash=digest,
            hash_type=_storage.MD5 if digest is not None else None,
        )
        source.in_storage = _match_storage(path, cloud)
        sources.append((rel, source))
    return sources


_ROOTS_TTL_SECONDS = 2.0  # other processes may register storage locations; look again after this
_roots_cache: dict[str, tuple[float, list[tuple[int, str]]]] = {}


def _storage_roots(instance: Any) -> list[tuple[int, str]]:

    cached = _roots_cache.get(instance.config.uid)
    now = time.monotonic()
    if cached is not None and now - cached[0] < _ROOTS_TTL_SECONDS:
        return cached[1]
    session = instance.db.session()
    roots = [(int(i), str(r)) for i, r in session.execute(select(Storage.id, Storage.root)).all()]
    _roots_cache[instance.config.uid] = (now, roots)
    return roots


def forget_storage_roots() -> None:
    """Called when this process registers a storage location."""
    _roots_cache.clear()


def _match_storage(location: str, is_cloud: bool) -> StorageMatch | None:

    instance = state.current()
    roots = _storage_roots(instance)
    best: tuple[int, str] | None = None
    for storage_id, root in roots:
        prefix = root.rstrip("/") + "/"
        if location.startswith(prefix) and (best is None or len(root) > len(best[1])):
            best = (storage_id, root)
    if best is not None:
        key = location[len(best[1].rstrip("/")) + 1 :]
        if key.startswith(".lamella/"):
            raise InvalidArgument(
                f"{location} is a file Lamella manages; query its artifact instead of registering it"
            )
        return StorageMatch(key=key, storage_id=best[0], root=best[1])
    if is_cloud:
        scheme, rest = location.split("://", 1)
        bucket, _, key = rest.partition("/")
        if not key:
            raise InvalidArgument(f"{location} is a whole bucket; register a folder or file inside it")
        return StorageMatch(key=key, storage_id=None, root=f"{scheme}://{bucket}")
    return None


def _memory_source(data: Any, *, format: str | None) -> Source:
    """What an in-memory object will be written as; nothing is written yet (see `stage`)."""

    suffix = _formats.suffix_for(data, format=format)
    return Source(
        path=None,
        is_cloud=False,
        is_dir=suffix.endswith(".zarr"),
        suffix=suffix,
        otype=_formats.otype_of(data),
        n_observations=_formats.n_observations_of(data),
        memory=data,
        format=format,
    )


def discard_staged(source: Source | None) -> None:
    """Remove the staged file of an artifact that will not be saved."""
    if source is not None and source.staged is not None:
        staging.remove(source.staged)


def artifact_source(artifact: Artifact) -> Source | None:
    """What an unsaved artifact was made from (a path, or in-memory data and its staged file)."""
    return artifact.__dict__.get("_source")
