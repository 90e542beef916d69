"""Content hashes: md5 of the full bytes, url-safe base64 without padding (22 characters)."""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lamella.errors import PathIsAFolder, PathNotAFolder, PathNotFound, StorageError

from . import pipeline
from .listing import RemoteFile, list_local, list_remote_detailed
from .paths import Location, is_cloud, location_str, remote_fs_path, to_local_path

__all__ = [
    "encode_md5",
    "etag_to_hash",
    "folder_hash_from_file_hashes",
    "hash_bytes",
    "hash_file",
    "hash_folder",
    "new_content_hasher",
]

_PLAIN_ETAG = re.compile(r"[0-9a-fA-F]{32}")


def new_content_hasher() -> Any:
    """A fresh hash object for an artifact's content (`update()`, `digest()`, `copy()`).

    The one place that picks the algorithm for bytes hashed while they are written; its digest is
    encoded with `encode_md5`.
    """
    return hashlib.md5()


def encode_md5(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode()[:22]


def hash_bytes(data: bytes | memoryview) -> str:
    return encode_md5(hashlib.md5(data).digest())


def etag_to_hash(etag: str | None) -> str | None:
    """The Lamella hash for an S3 ETag that is a plain md5; None for multipart or encrypted ETags."""
    if not etag:
        return None
    value = etag.strip('"')
    if _PLAIN_ETAG.fullmatch(value) is None:
        return None
    return encode_md5(bytes.fromhex(value))


def folder_hash_from_file_hashes(hashes: Iterable[str]) -> str:
    """Combine per-file hashes into the folder hash; sorting makes it independent of listing order."""
    return hash_bytes("".join(sorted(hashes)).encode())


def _hash_local_file(path: str, *, pooled: bool = False) -> tuple[str, int]:
    """Hash one local file; `pooled` callers run many at once, so they get one small buffer each."""
    chunk = pipeline.POOLED_CHUNK_SIZE if pooled else pipeline.CHUNK_SIZE
    with open(path, "rb", buffering=0) as fh:
        if os.fstat(fh.fileno()).st_size <= chunk:
            data = fh.read()
            return hash_bytes(data), len(data)
        pump = pipeline.simple_hash if pooled else pipeline.stream_hash
        digest, total = pump(fh.readinto, chunk_size=chunk)
    return encode_md5(digest), total


def _hash_remote_file(
    location: str, info: dict[str, Any] | None = None, *, pooled: bool = False
) -> tuple[str, int]:
    fs, path = remote_fs_path(location)
    if info is None:
        info = fs.info(path)
        if info.get("type") == "directory":
            raise PathIsAFolder(f"Cannot hash {location} as a file: it is a folder. Use hash_folder().")
    size = int(info.get("size") or 0)
    from_etag = etag_to_hash(info.get("ETag") or info.get("etag"))
    if from_etag is not None:
        return from_etag, size
    chunk = pipeline.POOLED_CHUNK_SIZE if pooled else pipeline.CHUNK_SIZE
    pump = pipeline.simple_hash if pooled else pipeline.stream_hash
    with fs.open(path, "rb", block_size=chunk, cache_type="none") as fh:
        digest, total = pump(fh.readinto, chunk_size=chunk)
    return encode_md5(digest), total


def hash_file(path: Location) -> tuple[str, int]:
    """(hash, size) of a local or cloud file; S3 objects with a plain-md5 ETag are not downloaded."""
    text = location_str(path)
    try:
        if is_cloud(text):
            return _hash_remote_file(text)
        return _hash_local_file(str(to_local_path(text)))
    except FileNotFoundError as exc:
        raise PathNotFound(f"Cannot hash {text}: no such file. Check the path.") from exc
    except IsADirectoryError as exc:
        raise PathIsAFolder(f"Cannot hash {text} as a file: it is a folder. Use hash_folder().") from exc
    except OSError as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"Cannot hash {text}: {exc}") from exc


def _pool_size() -> int:
    return min(32, 4 * (os.cpu_count() or 1))


def hash_folder(path: Location) -> tuple[str, int, int]:
    """(folder hash, total size, number of files) of every file under a local folder or cloud prefix."""
    text = location_str(path)
    try:
        if is_cloud(text):
            results = _hash_remote_folder(text)
        else:
            root = to_local_path(text)
            if not root.is_dir():
                raise PathNotAFolder(f"Cannot hash folder {text}: it does not exist or is not a folder.")
            files = list_local(root)
            with ThreadPoolExecutor(_pool_size(), thread_name_prefix="lamella-hash") as pool:
                results = list(pool.map(lambda rel: _hash_local_file(str(root / rel[0]), pooled=True), files))
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"Cannot hash folder {text}: {exc}") from exc
    return (
        folder_hash_from_file_hashes(h for h, _ in results),
        sum(size for _, size in results),
        len(results),
    )


def _hash_remote_folder(location: str) -> list[tuple[str, int]]:
    files: list[RemoteFile] = list_remote_detailed(location)
    if not files:
        fs, root = remote_fs_path(location)
        if not fs.isdir(root):
            raise StorageError(f"Cannot hash folder {location}: no such prefix. Check the path.")
    known: list[tuple[str, int]] = []
    to_stream: list[RemoteFile] = []
    for item in files:
        from_etag = etag_to_hash(item.etag)
        if from_etag is None:
            to_stream.append(item)
        else:
            known.append((from_etag, item.size))
    if to_stream:
        with ThreadPoolExecutor(min(8, len(to_stream)), thread_name_prefix="lamella-hash") as pool:
            known.extend(
                pool.map(
                    lambda item: _hash_remote_file(item.url, {"size": item.size}, pooled=True), to_stream
                )
            )
    return known
