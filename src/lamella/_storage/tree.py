"""Copying a whole folder (local or cloud prefix) with per-file hashing in the same pass.

Symlinks in a local folder (one policy for listing, hashing, copying and in-place registration, all
built on `listing.scan_local`): a folder is what lies inside it, so

- a symlink whose resolved target lies inside the folder is followed: a linked file is stored as a
  regular file with the target's content, a linked sub-folder is listed like a real one;
- a symlink that leads outside the folder is left out, so that content which is not the folder's is
  never copied into storage (register the target itself, or copy it into the folder, to include it);
- a dangling symlink (missing target, or links pointing at each other) is left out;
- a symlink to a folder that contains it (a cycle) is left out: its files are listed already;
- sockets, FIFOs and device files are left out.
The folder given itself may be a symlink; "inside" means inside its resolved path. Hash, size and
`n_files` cover exactly the files stored. Artifacts warn about every entry left out, with the reason,
and refuse a folder whose entries are all left out.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lamella.errors import PathNotAFolder, PathNotFound, StorageError

from . import pipeline
from .copying import copy_file_hashed, partial_name
from .hashing import check_hash_type, folder_hash_from_file_hashes, hash_bytes
from .listing import list_local, list_remote_detailed
from .paths import Location, is_cloud, location_str, remote_fs_path, to_local_path
from .progress import progress_for

__all__ = ["copy_tree_and_hash"]

# Small files are handed to the pool in batches so per-task overhead does not dominate 1-KB copies.
BATCH = 256


@dataclass(frozen=True, slots=True)
class _Entry:
    rel: str
    source: str  # local absolute path or "scheme://bucket/key"
    size: int


def _list_source(src: str) -> list[_Entry]:
    if is_cloud(src):
        files = list_remote_detailed(src)
        if not files:
            fs, root = remote_fs_path(src)
            if not fs.isdir(root):
                raise PathNotFound(f"no folder or prefix at {src}")
        return [_Entry(item.rel, item.url, item.size) for item in files]
    local_root = to_local_path(src)
    if not local_root.is_dir():
        raise PathNotAFolder(f"{src} does not exist or is not a folder")
    return [_Entry(rel, os.path.join(local_root, rel), size) for rel, size in list_local(local_root)]


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_WRITE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


def _read_whole(source: str, size: int) -> bytes:
    if is_cloud(source):
        fs, path = remote_fs_path(source)
        return bytes(fs.cat_file(path))
    # Raw descriptors instead of file objects: for 1-KB files the Python-level overhead is the cost.
    fd = os.open(source, _READ_FLAGS)
    try:
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data
        parts = [data]  # the file grew since it was listed
        while block := os.read(fd, 2**20):
            parts.append(block)
        return b"".join(parts)
    finally:
        os.close(fd)


def _write_whole(path: str, data: bytes) -> None:
    fd = os.open(path, _WRITE_FLAGS, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _batches(items: Sequence[_Entry], size: int) -> Iterator[Sequence[_Entry]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    """Where the files of one tree copy go, and how to undo it."""

    remote = False

    def target(self, rel: str) -> str:
        raise NotImplementedError

    def write_small(self, rel: str, data: bytes) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class _LocalWriter(_Writer):
    """Stages everything in a hidden sibling folder and moves it into place at the end."""

    def __init__(self, dst: Path, rels: Sequence[str]) -> None:
        self.dst = dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        self.staging = partial_name(dst)
        self.staging.mkdir()
        self.moved: list[Path] = []
        # Creating folders up front keeps the per-file work in the pool free of mkdir races.
        for folder in sorted({os.path.dirname(rel) for rel in rels} - {""}):
            (self.staging / folder).mkdir(parents=True, exist_ok=True)
        self.rels = rels

    def target(self, rel: str) -> str:
        return os.path.join(self.staging, rel)

    def write_small(self, rel: str, data: bytes) -> None:
        _write_whole(os.path.join(self.staging, rel), data)

    def finish(self) -> None:
        if not self.dst.exists():
            try:
                os.rename(self.staging, self.dst)
                return
            except OSError:
                if not self.dst.exists():
                    raise
        if not self.dst.is_dir():
            raise PathNotAFolder(f"{self.dst} exists and is not a folder")
        for rel in self.rels:
            final = self.dst / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / rel, final)
            self.moved.append(final)
        shutil.rmtree(self.staging, ignore_errors=True)

    def undo(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        for path in self.moved:
            path.unlink(missing_ok=True)


class _RemoteWriter(_Writer):
    """Uploads to the final keys; on failure deletes the objects this copy created."""

    remote = True

    def __init__(self, dst: str) -> None:
        self.fs, self.root = remote_fs_path(dst)
        self.protocol = dst.split("://", 1)[0]
        self.written: list[str] = []
        self.lock = threading.Lock()

    def target(self, rel: str) -> str:
        return f"{self.protocol}://{self.root}/{rel}"

    def record(self, rel: str) -> None:
        with self.lock:
            self.written.append(f"{self.root}/{rel}")

    def write_small(self, rel: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.root}/{rel}", data)

    def finish(self) -> None:
        self.fs.invalidate_cache(self.root)

    def undo(self) -> None:
        if self.written:
            try:
                self.fs.rm(self.written)
            except OSError:
                pass  # best effort: the original error matters more
        self.fs.invalidate_cache(self.root)


def _copy_one(entry: _Entry, writer: _Writer, hash_type: str, advance: Callable[[int], None]) -> str:
    # Read whole and written in one call: the cheapest path for the many-small-files case. Between two
    # cloud locations copy_file_hashed may instead copy server-side without downloading.
    if entry.size <= pipeline.POOLED_CHUNK_SIZE and not (writer.remote and is_cloud(entry.source)):
        data = _read_whole(entry.source, entry.size)
        writer.write_small(entry.rel, data)
        digest = hash_bytes(data, hash_type)
        advance(len(data))
    else:
        digest, _ = copy_file_hashed(
            entry.source, writer.target(entry.rel), hash_type, pooled=True, advance=advance
        )
    if isinstance(writer, _RemoteWriter):
        writer.record(entry.rel)
    return digest


def _pool_size(remote: bool) -> int:
    # Network transfers wait on latency; local small-file copies are CPU-bound (GIL), so more threads
    # than cores only add contention.
    return 16 if remote else max(1, min(8, os.cpu_count() or 1))


def copy_tree_and_hash(
    src_dir: Location, dst_dir: Location, hash_type: str, *, progress: bool | None = None
) -> tuple[str, int, int]:
    """Copy every file under `src_dir` to `dst_dir` keeping relative paths; hash each file with
    `hash_type` as it is copied.

    Returns (folder hash as `hash_folder` computes it, total size, number of files). On failure whatever
    this call wrote is removed and `StorageError` is raised.
    """
    src, dst = location_str(src_dir), location_str(dst_dir)
    check_hash_type(hash_type)
    try:
        entries = _list_source(src)
    except Exception as exc:
        # keep the kind (PathNotFound is also a FileNotFoundError); add what was being done
        kind = type(exc) if isinstance(exc, StorageError) else StorageError
        raise kind(f"Cannot copy folder {src} to {dst}: {exc}. Check the source path.") from exc
    total = sum(entry.size for entry in entries)
    writer: _Writer | None = None
    try:
        writer = (
            _RemoteWriter(dst)
            if is_cloud(dst)
            else _LocalWriter(to_local_path(dst), [entry.rel for entry in entries])
        )
        name = src.rstrip("/").rsplit("/", 1)[-1]
        with progress_for(total, f"copying {name}", enabled=progress) as advance:
            hashes = _copy_all(entries, writer, hash_type, advance, remote=is_cloud(src) or is_cloud(dst))
        writer.finish()
    except BaseException as exc:
        if writer is not None:
            writer.undo()
        if isinstance(exc, Exception) and not isinstance(exc, StorageError):
            raise StorageError(
                f"Cannot copy folder {src} to {dst}: {exc}. "
                "Check that the source is readable and the destination writable."
            ) from exc
        raise
    return folder_hash_from_file_hashes(hashes, hash_type), total, len(entries)


def _copy_all(
    entries: list[_Entry], writer: _Writer, hash_type: str, advance: Callable[[int], None], *, remote: bool
) -> list[str]:
    pooled = [entry for entry in entries if entry.size <= pipeline.CHUNK_SIZE]
    large = [entry for entry in entries if entry.size > pipeline.CHUNK_SIZE]
    if not pooled:
        return [_copy_large(entry, writer, hash_type, advance) for entry in large]

    def run_batch(batch: Sequence[_Entry]) -> list[str]:
        return [_copy_one(entry, writer, hash_type, advance) for entry in batch]

    workers = _pool_size(remote)
    # Several batches per worker keep the pool balanced; network copies go one file per task.
    batch = 1 if remote else max(1, min(BATCH, len(pooled) // (4 * workers)))
    hashes: list[str] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="lamella-copy") as pool:
        futures = [pool.submit(run_batch, chunk) for chunk in _batches(pooled, batch)]
        try:
            # Large files stream in this thread (with their own overlapped pipeline) while the pool works.
            hashes.extend(_copy_large(entry, writer, hash_type, advance) for entry in large)
            for future in futures:
                hashes.extend(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return hashes


def _copy_large(entry: _Entry, writer: _Writer, hash_type: str, advance: Callable[[int], None]) -> str:
    digest, _ = copy_file_hashed(entry.source, writer.target(entry.rel), hash_type, advance=advance)
    if isinstance(writer, _RemoteWriter):
        writer.record(entry.rel)
    return digest
