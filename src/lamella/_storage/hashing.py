"""Content hashes of the full bytes: md5 or BLAKE3, 16 bytes in url-safe base64 (22 characters).

Which algorithm hashes an instance's bytes is the instance's own (`Instance.hash_type`): BLAKE3 for
instances created since it was added (SIMD and, for big buffers, several threads: it keeps up with a
copy), md5 for older ones, so that a file saved again finds its earlier copy. The functions here
take the algorithm as an argument and never guess it. Both give 16 bytes (BLAKE3's output is
extendable, its first 16 bytes are its 16-byte output), so hashes keep their length.

An artifact records its hash type: the algorithm for a file, the algorithm + `-d` for a folder,
whose hash is the hash of its files' sorted hashes (`md5-d`, as LaminDB names it; `blake3-d`).
An S3 ETag that is a plain md5 is the md5 of the object: with md5 it is used instead of reading.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lamella.errors import InvalidArgument, PathIsAFolder, PathNotAFolder, PathNotFound, StorageError

from . import pipeline
from .listing import RemoteFile, list_local, list_remote_detailed
from .paths import Location, is_cloud, location_str, remote_fs_path, to_local_path
from .pipeline import Hasher

__all__ = [
    "BLAKE3",
    "FOLDER_SUFFIX",
    "HASH_TYPES",
    "MD5",
    "Hasher",
    "algorithm_of",
    "check_hash_type",
    "encode_digest",
    "etag_file_hash",
    "etag_folder_hash",
    "etag_to_hash",
    "folder_hash_from_file_hashes",
    "folder_hash_type",
    "hash_bytes",
    "hash_file",
    "hash_folder",
    "new_hasher",
    "recorded_types",
]

MD5 = "md5"
BLAKE3 = "blake3"
HASH_TYPES = (MD5, BLAKE3)
FOLDER_SUFFIX = "-d"
DIGEST_SIZE = 16

_PLAIN_ETAG = re.compile(r"[0-9a-fA-F]{32}")


class _Blake3:
    """BLAKE3 cut to 16 bytes; `threads` lets one big update run on all cores but one, which is left
    to the copy the hash goes along with."""

    __slots__ = ("_hasher",)

    def __init__(self, threads: bool) -> None:
        import blake3  # compiled: loaded on the first hash, not with `import lamella`

        self._hasher = blake3.blake3(max_threads=max(1, (os.cpu_count() or 1) - 1) if threads else 1)

    def update(self, data: bytes | memoryview, /) -> object:
        return self._hasher.update(data)

    def digest(self) -> bytes:
        return bytes(self._hasher.digest(length=DIGEST_SIZE))


def check_hash_type(hash_type: str) -> str:
    """`hash_type` if it is an algorithm Lamella computes; else InvalidArgument naming the choices."""
    if hash_type not in HASH_TYPES:
        raise InvalidArgument(
            f"unknown hash type {hash_type!r}: Lamella hashes with {' or '.join(repr(t) for t in HASH_TYPES)}"
        )
    return hash_type


def new_hasher(hash_type: str, *, threads: bool = False) -> Hasher:
    """An incremental hasher; `threads` for callers that feed it megabytes at a time from one thread
    (BLAKE3 then spreads each update over the cores; md5 cannot)."""
    if check_hash_type(hash_type) == BLAKE3:
        return _Blake3(threads)
    return hashlib.md5(usedforsecurity=False)


def folder_hash_type(hash_type: str) -> str:
    """The hash type an artifact records for a folder hashed with `hash_type`."""
    return check_hash_type(hash_type) + FOLDER_SUFFIX


def algorithm_of(recorded: str | None) -> str | None:
    """The algorithm behind an artifact's recorded hash type; None for types Lamella does not compute
    (LaminDB's `sha1-fl` of a big file's ends, `md5-n` of a multipart ETag).

    A folder saved before folders had their own type records the bare algorithm: same algorithm.
    """
    if recorded is None:
        return None
    name = recorded.removesuffix(FOLDER_SUFFIX)
    return name if name in HASH_TYPES else None


def recorded_types(hash_type: str) -> tuple[str, str]:
    """The hash types an artifact of algorithm `hash_type` may record (file and folder)."""
    return check_hash_type(hash_type), folder_hash_type(hash_type)


def encode_digest(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode()[:22]


def hash_bytes(data: bytes | memoryview, hash_type: str) -> str:
    hasher = new_hasher(hash_type)
    hasher.update(data)
    return encode_digest(hasher.digest())


def etag_to_hash(etag: str | None) -> str | None:
    """The md5 hash for an S3 ETag that is a plain md5; None for multipart or encrypted ETags."""
    if not etag:
        return None
    value = etag.strip('"')
    if _PLAIN_ETAG.fullmatch(value) is None:
        return None
    return encode_digest(bytes.fromhex(value))


def folder_hash_from_file_hashes(hashes: Iterable[str], hash_type: str) -> str:
    """Combine per-file hashes into the folder hash; sorting makes it independent of listing order."""
    return hash_bytes("".join(sorted(hashes)).encode(), hash_type)


def _hash_local_file(path: str, hash_type: str, *, pooled: bool = False) -> tuple[str, int]:
    """Hash one local file; `pooled` callers run many at once, so they get one small buffer each."""
    chunk = pipeline.POOLED_CHUNK_SIZE if pooled else pipeline.CHUNK_SIZE
    with open(path, "rb", buffering=0) as fh:
        if os.fstat(fh.fileno()).st_size <= chunk:
            data = fh.read()
            return hash_bytes(data, hash_type), len(data)
        return _hash_stream(fh.readinto, hash_type, chunk, pooled=pooled)


def _hash_stream(
    read_into: pipeline.ReadInto, hash_type: str, chunk: int, *, pooled: bool
) -> tuple[str, int]:
    """(hash, size) of everything `read_into` gives: one thread when many files are hashed at once,
    else a reader thread ahead of a hasher that may spread each chunk over the cores."""
    if pooled:
        digest, total = pipeline.simple_hash(read_into, hasher=new_hasher(hash_type), chunk_size=chunk)
    else:
        hasher = new_hasher(hash_type, threads=True)
        digest, total = pipeline.stream_hash(read_into, hasher=hasher, chunk_size=chunk)
    return encode_digest(digest), total


def _hash_remote_file(
    location: str, hash_type: str, info: dict[str, Any] | None = None, *, pooled: bool = False
) -> tuple[str, int]:
    fs, path = remote_fs_path(location)
    if info is None:
        info = fs.info(path)
        if info.get("type") == "directory":
            raise PathIsAFolder(f"Cannot hash {location} as a file: it is a folder. Use hash_folder().")
    size = int(info.get("size") or 0)
    if hash_type == MD5:
        from_etag = etag_to_hash(info.get("ETag") or info.get("etag"))
        if from_etag is not None:
            return from_etag, size
    chunk = pipeline.POOLED_CHUNK_SIZE if pooled else pipeline.CHUNK_SIZE
    with fs.open(path, "rb", block_size=chunk, cache_type="none") as fh:
        return _hash_stream(fh.readinto, hash_type, chunk, pooled=pooled)


def hash_file(path: Location, hash_type: str) -> tuple[str, int]:
    """(hash, size) of a local or cloud file; with md5, S3 objects with a plain-md5 ETag are not read."""
    text = location_str(path)
    check_hash_type(hash_type)
    try:
        if is_cloud(text):
            return _hash_remote_file(text, hash_type)
        return _hash_local_file(str(to_local_path(text)), hash_type)
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


def hash_folder(path: Location, hash_type: str) -> tuple[str, int, int]:
    """(folder hash, total size, number of files) of every file under a local folder or cloud prefix."""
    text = location_str(path)
    check_hash_type(hash_type)
    try:
        if is_cloud(text):
            results = _hash_remote_folder(text, hash_type)
        else:
            root = to_local_path(text)
            if not root.is_dir():
                raise PathNotAFolder(f"Cannot hash folder {text}: it does not exist or is not a folder.")
            files = list_local(root)
            with ThreadPoolExecutor(_pool_size(), thread_name_prefix="lamella-hash") as pool:
                results = list(
                    pool.map(lambda rel: _hash_local_file(str(root / rel[0]), hash_type, pooled=True), files)
                )
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError(f"Cannot hash folder {text}: {exc}") from exc
    return (
        folder_hash_from_file_hashes((h for h, _ in results), hash_type),
        sum(size for _, size in results),
        len(results),
    )


def etag_folder_hash(path: Location) -> tuple[str, int, int] | None:
    """The md5 folder hash of a cloud prefix from its listing alone, when every file's ETag is a plain
    md5 (nothing is read); None when some file's is not, or for a local folder."""
    text = location_str(path)
    if not is_cloud(text):
        return None
    try:
        files = _list_remote_folder(text)
    except OSError as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(f"Cannot list folder {text}: {exc}") from exc
    hashes = [etag_to_hash(item.etag) for item in files]
    known = [h for h in hashes if h is not None]
    if len(known) < len(files):
        return None
    return folder_hash_from_file_hashes(known, MD5), sum(item.size for item in files), len(files)


def etag_file_hash(path: Location) -> tuple[str | None, int]:
    """(md5 hash from its ETag, or None when the ETag is no plain md5; size) of a cloud object, from
    one metadata request: nothing is read."""
    text = location_str(path)
    fs, key = remote_fs_path(text)
    try:
        info = fs.info(key)
    except FileNotFoundError as exc:
        raise PathNotFound(f"Cannot hash {text}: no such object. Check the bucket and key.") from exc
    except OSError as exc:
        raise StorageError(f"Cannot read the metadata of {text}: {exc}") from exc
    if info.get("type") == "directory":
        raise PathIsAFolder(f"Cannot hash {text} as a file: it is a folder. Use hash_folder().")
    return etag_to_hash(info.get("ETag") or info.get("etag")), int(info.get("size") or 0)


def _list_remote_folder(location: str) -> list[RemoteFile]:
    files: list[RemoteFile] = list_remote_detailed(location)
    if not files:
        fs, root = remote_fs_path(location)
        if not fs.isdir(root):
            raise StorageError(f"Cannot hash folder {location}: no such prefix. Check the path.")
    return files


def _hash_remote_folder(location: str, hash_type: str) -> list[tuple[str, int]]:
    files = _list_remote_folder(location)
    known: list[tuple[str, int]] = []
    to_stream: list[RemoteFile] = []
    for item in files:
        from_etag = etag_to_hash(item.etag) if hash_type == MD5 else None
        if from_etag is None:
            to_stream.append(item)
        else:
            known.append((from_etag, item.size))
    if to_stream:
        with ThreadPoolExecutor(min(8, len(to_stream)), thread_name_prefix="lamella-hash") as pool:
            known.extend(
                pool.map(
                    lambda item: _hash_remote_file(item.url, hash_type, {"size": item.size}, pooled=True),
                    to_stream,
                )
            )
    return known
