"""Copying a whole folder (local or cloud prefix) with per-file hashing in the same pass."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lamella.errors import StorageError

from . import pipeline
from .copying import copy_file_hashed, partial_name
from .hashing import folder_hash_from_file_hashes, hash_bytes
from .listing import list_local, list_remote_detailed
from .paths import Location, is_cloud, location_str, remote_fs_path, to_local_path
from .progress import progress_for

__all__ = ["copy_tree_and_hash"]

# Small files are handed to the pool in batches so per-task overhead does not dominate 1-KB copies.
BATCH = 64


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
                raise FileNotFoundError(f"no folder or prefix at {src}")
        return [_Entry(item.rel, item.url, item.size) for item in files]
    local_root = to_local_path(src)
    if not local_root.is_dir():
        raise NotADirectoryError(f"{src} does not exist or is not a folder")
    return [_Entry(rel, os.path.join(local_root, rel), size) for rel, size in list_local(local_root)]


def _read_whole(source: str) -> bytes:
    if is_cloud(source):
        fs, path = remote_fs_path(source)
        return bytes(fs.cat_file(path))
    with open(source, "rb", buffering=0) as fh:
        return fh.readall()


def _batches(items: Sequence[_Entry], size: int) -> Iterator[Sequence[_Entry]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Writer:
    """Where the files of one tree copy go, and how to undo it."""

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
        with open(os.path.join(self.staging, rel), "wb", buffering=0) as fh:
            fh.write(data)

    def finish(self) -> None:
        if not self.dst.exists():
            try:
                os.rename(self.staging, self.dst)
                return
            except OSError:
                if not self.dst.exists():
                    raise
        if not self.dst.is_dir():
            raise NotADirectoryError(f"{self.dst} exists and is not a folder")
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


def _copy_one(entry: _Entry, writer: _Writer, advance: Callable[[int], None]) -> str:
    # Read whole and written in one call: the cheapest path for the many-small-files case.
    if entry.size <= pipeline.POOLED_CHUNK_SIZE:
        data = _read_whole(entry.source)
        writer.write_small(entry.rel, data)
        digest = hash_bytes(data)
        advance(len(data))
    else:
        digest, _ = copy_file_hashed(entry.source, writer.target(entry.rel), pooled=True, advance=advance)
    if isinstance(writer, _RemoteWriter):
        writer.record(entry.rel)
    return digest


def _pool_size(remote: bool) -> int:
    cpus = os.cpu_count() or 1
    return 16 if remote else min(32, 4 * cpus)


def copy_tree_and_hash(
    src_dir: Location, dst_dir: Location, *, progress: bool | None = None
) -> tuple[str, int, int]:
    """Copy every file under `src_dir` to `dst_dir` keeping relative paths; hash each file as it is copied.

    Returns (folder hash as `hash_folder` computes it, total size, number of files). On failure whatever
    this call wrote is removed and `StorageError` is raised.
    """
    src, dst = location_str(src_dir), location_str(dst_dir)
    try:
        entries = _list_source(src)
    except Exception as exc:
        raise StorageError(f"Cannot copy folder {src} to {dst}: {exc}. Check the source path.") from exc
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
            hashes = _copy_all(entries, writer, advance, remote=is_cloud(src) or is_cloud(dst))
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
    return folder_hash_from_file_hashes(hashes), total, len(entries)


def _copy_all(
    entries: list[_Entry], writer: _Writer, advance: Callable[[int], None], *, remote: bool
) -> list[str]:
    pooled = [entry for entry in entries if entry.size <= pipeline.CHUNK_SIZE]
    large = [entry for entry in entries if entry.size > pipeline.CHUNK_SIZE]
    if not pooled:
        return [_copy_large(entry, writer, advance) for entry in large]

    def run_batch(batch: Sequence[_Entry]) -> list[str]:
        return [_copy_one(entry, writer, advance) for entry in batch]

    batch = BATCH if not remote else 1
    hashes: list[str] = []
    with ThreadPoolExecutor(_pool_size(remote), thread_name_prefix="lamella-copy") as pool:
        futures = [pool.submit(run_batch, chunk) for chunk in _batches(pooled, batch)]
        try:
            # Large files stream in this thread (with their own overlapped pipeline) while the pool works.
            hashes.extend(_copy_large(entry, writer, advance) for entry in large)
            for future in futures:
                hashes.extend(future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return hashes


def _copy_large(entry: _Entry, writer: _Writer, advance: Callable[[int], None]) -> str:
    digest, _ = copy_file_hashed(entry.source, writer.target(entry.rel), advance=advance)
    if isinstance(writer, _RemoteWriter):
        writer.record(entry.rel)
    return digest
