"""A local cache of cloud files and folders, refreshed only when the remote copy changed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from lamella.errors import InvalidArgument, PathNotFound, StorageError

from .copying import copy_file_hashed, partial_name
from .hashing import BLAKE3, MD5, check_hash_type, hash_file, hash_folder
from .listing import list_local, list_remote_detailed
from .paths import Location, is_cloud, location_str, remote_fs_path, to_local_path
from .tree import copy_tree_and_hash

__all__ = ["cache_path_for", "download_to_cache", "sidecar_path"]

_SIDECAR_VERSION = 1


def cache_path_for(remote: str, cache_dir: Path) -> Path:
    """s3://bucket/a/b.parquet -> cache_dir/bucket/a/b.parquet."""
    text = location_str(remote)
    if not is_cloud(text):
        raise InvalidArgument(
            f"{text} is not a cloud location; only cloud files are cached. Use the path directly."
        )
    rest = text.split("://", 1)[1].strip("/")
    segments = rest.split("/")
    # Keys are allowed to contain ".." on S3; such a key must not escape the cache folder.
    if not rest or any(segment in ("", ".", "..") for segment in segments):
        raise InvalidArgument(
            f"Cannot cache {text}: its path has empty, '.' or '..' segments. Rename the object."
        )
    return Path(cache_dir).joinpath(*segments)


def sidecar_path(cache_path: Path) -> Path:
    """Where the fingerprint of a cached entry is kept: a hidden file next to it."""
    return cache_path.with_name(f".{cache_path.name}.lamella-cache.json")


def _remote_fingerprint(remote: str) -> dict[str, Any]:
    fs, key = remote_fs_path(remote)
    fs.invalidate_cache(key)
    info = fs.info(key)
    if info.get("type") == "directory":
        files = list_remote_detailed(remote)
        listing = [[item.rel, item.size, item.etag or item.mtime] for item in files]
        digest = hashlib.md5(json.dumps(listing).encode()).hexdigest()
        return {
            "kind": "folder",
            "size": sum(item.size for item in files),
            "n_files": len(files),
            "digest": digest,
        }
    # S3 reports LastModified, most other fsspec backends mtime or created.
    modified = info.get("LastModified") or info.get("mtime") or info.get("created")
    return {
        "kind": "file",
        "size": int(info.get("size") or 0),
        "etag": info.get("ETag") or info.get("etag"),
        "mtime": None if modified is None else str(modified),
    }


def _local_fingerprint(path: Path) -> dict[str, Any] | None:
    """Enough to notice that someone edited or truncated the cached copy."""
    try:
        if path.is_dir():
            files = list_local(path)
            return {"size": sum(size for _, size in files), "n_files": len(files)}
        stat = path.stat()
    except FileNotFoundError:
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _read_sidecar(cache_path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(sidecar_path(cache_path).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == _SIDECAR_VERSION else None


def _write_sidecar(cache_path: Path, record: dict[str, Any]) -> None:
    target = sidecar_path(cache_path)
    temp = partial_name(target)
    temp.write_text(json.dumps(record, sort_keys=True))
    os.replace(temp, target)


def _is_fresh(
    remote: str, cache_path: Path, expected_hash: str | None, hash_type: str, record: dict[str, Any] | None
) -> tuple[bool, dict[str, Any] | None]:
    """Whether the cached copy can be used; also returns the remote fingerprint if it had to be fetched."""
    local = _local_fingerprint(cache_path)
    if local is None:
        return False, None
    if record is not None and record.get("remote") == remote and record.get("local") == local:
        # A known content hash settles it without asking the server. Records written before they
        # named their hash type hold md5 hashes.
        if expected_hash is not None and record.get("hash_type", MD5) == hash_type:
            return record.get("hash") == expected_hash, None
        if expected_hash is None:
            fingerprint = _remote_fingerprint(remote)
            return record.get("fingerprint") == fingerprint, fingerprint
    if expected_hash is not None:
        # Cached bytes without a usable record (e.g. put there by an upload, or recorded with another
        # hash type): trust them if they hash right, which costs a local read instead of a download.
        if cache_path.is_dir():
            actual = hash_folder(cache_path, hash_type)[0]
        else:
            actual = hash_file(cache_path, hash_type)[0]
        if actual == expected_hash:
            _write_sidecar(
                cache_path,
                {
                    "version": _SIDECAR_VERSION,
                    "remote": remote,
                    "hash": actual,
                    "hash_type": hash_type,
                    "fingerprint": None,
                    "local": local,
                },
            )
            return True, None
    return False, None


def download_to_cache(
    remote: Location,
    cache_path: Path,
    *,
    expected_hash: str | None = None,
    hash_type: str | None = None,
) -> Path:
    """Copy a cloud file or folder to `cache_path` once; download again only when the remote changed.

    Freshness comes from a sidecar file recording the remote's size and ETag/mtime (or the content hash
    when `expected_hash` is given, which then needs no request at all). `hash_type` is the algorithm of
    `expected_hash` ("md5" or "blake3", the artifact's own); without an expected hash the download is
    hashed with BLAKE3. The download is written to a temporary sibling and renamed into place.
    Returns `cache_path`.
    """
    text = location_str(remote)
    if not is_cloud(text):
        raise InvalidArgument(
            f"download_to_cache() needs a cloud location, got {text}. Use the local path directly."
        )
    if expected_hash is not None and hash_type is None:
        raise InvalidArgument(
            f"download_to_cache({text!r}, expected_hash={expected_hash!r}) needs the hash's algorithm: "
            "pass hash_type='md5' or 'blake3'"
        )
    algorithm = check_hash_type(hash_type or BLAKE3)
    cache_path = to_local_path(cache_path)
    try:
        fresh, fingerprint = _is_fresh(text, cache_path, expected_hash, algorithm, _read_sidecar(cache_path))
        if fresh:
            return cache_path
        if fingerprint is None:
            fingerprint = _remote_fingerprint(text)
        digest = _download(text, cache_path, fingerprint, expected_hash, algorithm)
    except (InvalidArgument, StorageError):
        raise
    except FileNotFoundError as exc:
        raise PathNotFound(f"Cannot download {text}: it does not exist. Check the key.") from exc
    except OSError as exc:
        raise StorageError(f"Cannot download {text} to {cache_path}: {exc}") from exc
    local = _local_fingerprint(cache_path)
    _write_sidecar(
        cache_path,
        {
            "version": _SIDECAR_VERSION,
            "remote": text,
            "hash": digest,
            "hash_type": algorithm,
            "fingerprint": fingerprint,
            "local": local,
        },
    )
    return cache_path


def _download(
    remote: str, cache_path: Path, fingerprint: dict[str, Any], expected_hash: str | None, hash_type: str
) -> str:
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    sidecar_path(cache_path).unlink(missing_ok=True)
    temp = partial_name(cache_path)
    try:
        if fingerprint["kind"] == "folder":
            digest = copy_tree_and_hash(remote, temp, hash_type, progress=None)[0]
        else:
            digest = copy_file_hashed(remote, str(temp), hash_type, progress=True)[0]
        if expected_hash is not None and digest != expected_hash:
            raise StorageError(
                f"Downloaded {remote} has hash {digest} but {expected_hash} was expected: the object changed "
                "after it was registered. Re-register it or restore the original object."
            )
        _replace(temp, cache_path)
    except BaseException:
        _remove(temp)
        raise
    return digest


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _replace(new: Path, target: Path) -> None:
    """Move `new` onto `target`; a folder is swapped in by two renames so readers never see a mix."""
    if target.is_dir() and not target.is_symlink():
        old = partial_name(target)
        os.rename(target, old)
        os.rename(new, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if new.is_dir() and target.exists():
            target.unlink()
        os.replace(new, target)
