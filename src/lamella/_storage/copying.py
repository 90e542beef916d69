"""Copying one file between local disk and the cloud while hashing it in the same read pass."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from lamella.errors import PathIsAFolder, PathNotFound, StorageError

from . import pipeline
from .hashing import MD5, check_hash_type, encode_digest, etag_to_hash, new_hasher
from .paths import Location, is_cloud, location_str, protocol_of, remote_fs_path, to_local_path
from .pipeline import Hasher
from .progress import progress_for

__all__ = ["UPLOAD_PART_SIZE", "copy_and_hash", "copy_file_hashed", "open_sink", "partial_name"]

# S3 rejects multipart parts under 5 MiB; bigger parts mean fewer requests for big files.
UPLOAD_PART_SIZE = 16 * 2**20
# Below this a copy is over too quickly for a progress bar to help.
PROGRESS_MIN_BYTES = 64 * 2**20


# Object stores whose uploads become visible only when completed: an aborted upload leaves nothing behind.
_COMMIT_ON_CLOSE = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss"})


def _buffered_file_class() -> Any:
    from fsspec.spec import AbstractBufferedFile

    return AbstractBufferedFile


class _Source(Protocol):
    def readinto(self, buffer: memoryview, /) -> int: ...
    def close(self) -> None: ...


class _Sink(Protocol):
    def write(self, data: memoryview) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def partial_name(target: Path) -> Path:
    """A hidden sibling of `target` to write into before the final rename; unique per call."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.lamella-part")


class _LocalSink:
    """Writes to a hidden temp file next to the target, renamed into place only on commit."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        self.temp = partial_name(target)
        self.fh = open(self.temp, "xb", buffering=0)  # noqa: SIM115 - closed in commit()/abort()

    def write(self, data: memoryview) -> None:
        written = 0
        while written < len(data):
            written += self.fh.write(data[written:]) or 0

    def commit(self) -> None:
        self.fh.close()
        os.replace(self.temp, self.target)

    def abort(self) -> None:
        self.fh.close()
        self.temp.unlink(missing_ok=True)


class _RemoteSink:
    """An fsspec upload; S3 only makes the object visible when the upload completes, so abort leaves none."""

    def __init__(self, location: str) -> None:
        self.fs, self.path = remote_fs_path(location)
        self.protocol = protocol_of(location)
        self.fh: Any = self.fs.open(self.path, "wb", block_size=UPLOAD_PART_SIZE)

    def write(self, data: memoryview) -> None:
        self.fh.write(data)

    def commit(self) -> None:
        self.fh.close()
        self.fs.invalidate_cache(self.path)

    def abort(self) -> None:
        discard = getattr(self.fh, "discard", None)
        try:
            if callable(discard):
                discard()  # S3 aborts the multipart upload here
        finally:
            if isinstance(self.fh, _buffered_file_class()):
                # close() would otherwise commit what was buffered so far.
                self.fh.closed = True
            else:
                self.fh.close()
        if self.protocol not in _COMMIT_ON_CLOSE:
            # Backends without upload transactions may already show a partial object.
            try:
                self.fs.rm_file(self.path)
            except OSError:
                pass


def open_local_source(path: Path) -> _Source:
    return open(path, "rb", buffering=0)


def _open_source(location: str) -> tuple[_Source, int]:
    if is_cloud(location):
        fs, path = remote_fs_path(location)
        fh = fs.open(path, "rb", block_size=pipeline.CHUNK_SIZE, cache_type="none")
        size = getattr(fh, "size", None)
        return fh, int(size if size is not None else fs.size(path))
    source = to_local_path(location)
    if source.is_dir():
        raise PathIsAFolder(f"{location} is a folder; use copy_tree_and_hash()")
    fh = open_local_source(source)
    return fh, os.stat(source).st_size


def open_sink(location: str) -> _Sink:
    """Where bytes are written to `location`: visible there only after `commit()`; `abort()` leaves nothing."""
    return _RemoteSink(location) if is_cloud(location) else _LocalSink(to_local_path(location))


def _noop(_: int) -> None:
    return None


def copy_file_hashed(
    src: str,
    dst: str,
    hash_type: str,
    *,
    pooled: bool = False,
    advance: Callable[[int], None] = _noop,
    progress: bool = False,
) -> tuple[str, int]:
    """Copy with hashing; raises the underlying error. `pooled` callers get one small buffer, no threads.

    With `progress`, files of at least `PROGRESS_MIN_BYTES` get a progress bar (only on a terminal).
    """
    server_side = _try_server_side_copy(src, dst) if hash_type == MD5 else None
    if server_side is not None:
        advance(server_side[1])
        return server_side
    source, size = _open_source(src)
    try:
        sink = open_sink(dst)
        try:
            if progress and size >= PROGRESS_MIN_BYTES:
                name = src.rstrip("/").rsplit("/", 1)[-1]
                with progress_for(size, f"copying {name}") as bar_advance:
                    digest, total = _pump(source, sink, size, hash_type, pooled, _chain(advance, bar_advance))
            else:
                digest, total = _pump(source, sink, size, hash_type, pooled, advance)
            sink.commit()
        except BaseException:
            sink.abort()
            raise
    finally:
        source.close()
    return encode_digest(digest), total


def _chain(first: Callable[[int], None], second: Callable[[int], None]) -> Callable[[int], None]:
    if first is _noop:
        return second

    def both(count: int) -> None:
        first(count)
        second(count)

    return both


def _pump(
    source: _Source, sink: _Sink, size: int, hash_type: str, pooled: bool, advance: Callable[[int], None]
) -> tuple[bytes, int]:
    if pooled:
        chunk = pipeline.POOLED_CHUNK_SIZE
        hasher = new_hasher(hash_type)
        return pipeline.simple_hash(
            source.readinto, sink.write, hasher=hasher, advance=advance, chunk_size=chunk
        )
    if size <= pipeline.CHUNK_SIZE:
        # a buffer the size of the file (+1 to see the end in one read): allocating a full chunk
        # for a 1 KB file costs more than copying it
        chunk = max(size + 1, 4096)
        hasher = new_hasher(hash_type)
        return pipeline.simple_hash(
            source.readinto, sink.write, hasher=hasher, advance=advance, chunk_size=chunk
        )
    # one thread feeds the hasher megabytes at a time: BLAKE3 may spread each chunk over the cores
    hasher = new_hasher(hash_type, threads=True)
    if isinstance(sink, _LocalSink) and isinstance(source, io.FileIO):
        copied = _kernel_pump(source, sink, hasher, advance)
        if copied is not None:
            return copied
    return pipeline.stream_hash(source.readinto, sink.write, hasher=hasher, advance=advance)


def _kernel_pump(
    source: io.FileIO, sink: _LocalSink, hasher: Hasher, advance: Callable[[int], None]
) -> tuple[bytes, int] | None:
    """Local to local: the kernel copies, and the hash is read back from the bytes written."""
    written = os.open(sink.temp, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return pipeline.kernel_copy_hash(
            source.fileno(), sink.fh.fileno(), written, hasher=hasher, advance=advance
        )
    finally:
        os.close(written)


def _try_server_side_copy(src: str, dst: str) -> tuple[str, int] | None:
    """Within one cloud filesystem, an object whose ETag is its md5 is copied server-side, not downloaded
    (only when md5 is the hash asked for: the server knows no other)."""
    if not (is_cloud(src) and is_cloud(dst)):
        return None
    src_fs, src_path = remote_fs_path(src)
    dst_fs, dst_path = remote_fs_path(dst)
    if src_fs is not dst_fs:
        return None
    info = src_fs.info(src_path)
    if info.get("type") == "directory":
        raise PathIsAFolder(f"{src} is a folder; use copy_tree_and_hash()")
    known = etag_to_hash(info.get("ETag"))
    if known is None:
        return None
    src_fs.copy(src_path, dst_path)
    dst_fs.invalidate_cache(dst_path)
    return known, int(info.get("size") or 0)


def copy_and_hash(src: Location, dst: Location, hash_type: str) -> tuple[str, int]:
    """Stream `src` to `dst` (local or cloud, either side) hashing the bytes read with `hash_type`;
    returns (hash, size).

    A local destination appears only complete (temp file + rename); on failure nothing is left behind.
    """
    src_text, dst_text = location_str(src), location_str(dst)
    check_hash_type(hash_type)
    try:
        return copy_file_hashed(src_text, dst_text, hash_type, progress=True)
    except FileNotFoundError as exc:
        raise PathNotFound(
            f"Cannot copy {src_text} to {dst_text}: {exc}. Check that the source exists."
        ) from exc
    except Exception as exc:
        if isinstance(exc, StorageError):
            raise
        raise StorageError(
            f"Cannot copy {src_text} to {dst_text}: {exc}. "
            "Check that the source is readable and the destination writable."
        ) from exc
