"""Bytes hashed as they are written: an in-memory object serialized straight into its place.

A serializer that writes sequentially (pyarrow's parquet writer, the csv and json writers) writes
into a `HashingWriter`. Each block goes on to the sink at once and, in order, to one background
thread that hashes it: the serializer encodes on one core while the hash runs on another (hashlib
releases the GIL for large buffers), so writing and hashing take about as long as writing alone,
and the bytes are never read back. Formats that seek and rewrite what they wrote (HDF5 rewrites its
header when it closes) are hashed by `hash_written_file` right after they are written, while their
bytes are still in the page cache.
"""

from __future__ import annotations

import io
import mmap
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from .hashing import encode_digest, new_hasher

__all__ = ["HashingWriter", "hash_written_file"]

# Blocks are handed to the hashing thread in batches of at least this size: one hand-over per tiny
# write would cost more than hashing it.
BATCH_BYTES = 2**20
# At most this many bytes wait to be hashed; a serializer faster than the hash waits, so memory stays
# bounded whatever the size of the object.
MAX_PENDING_BYTES = 32 * 2**20
# a multiple of every platform's mmap.ALLOCATIONGRANULARITY
MAP_WINDOW = 64 * 2**20


class _Sink(Protocol):
    def write(self, data: memoryview) -> None: ...


class HashingWriter(io.RawIOBase):
    """A write-only binary file that passes every byte to `sink` and hashes it in the same pass.

    Used as a context manager: `finish()` inside it returns (hash, size) once the serializer is done;
    leaving it stops the hashing thread. Closing it never closes the sink, which its owner commits or
    aborts.
    """

    def __init__(self, sink: _Sink, hash_type: str) -> None:
        super().__init__()
        self._sink = sink
        self._hasher = new_hasher(hash_type)
        self._size = 0
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._pending: deque[tuple[Future[None], int]] = deque()
        self._pending_bytes = 0
        self._pool: ThreadPoolExecutor | None = None

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._size

    def write(self, data: Any) -> int:
        # kept until hashed: a view of a buffer the caller reuses would change under the hash
        block = data if type(data) is bytes else bytes(data)
        count = len(block)
        if count == 0:
            return 0
        self._sink.write(memoryview(block))
        self._size += count
        self._batch.append(block)
        self._batch_bytes += count
        if self._batch_bytes >= BATCH_BYTES:
            self._hand_over()
        return count

    def _hand_over(self) -> None:
        batch, count = self._batch, self._batch_bytes
        self._batch, self._batch_bytes = [], 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="lamella-hash")
        self._pending.append((self._pool.submit(self._hash, batch), count))
        self._pending_bytes += count
        while self._pending_bytes > MAX_PENDING_BYTES:
            self._wait_oldest()

    def _hash(self, batch: list[bytes]) -> None:
        for block in batch:
            self._hasher.update(block)

    def _wait_oldest(self) -> None:
        future, count = self._pending.popleft()
        self._pending_bytes -= count
        future.result()

    def finish(self) -> tuple[str, int]:
        """(hash, size) of everything written; the rest of the hashing happens here."""
        while self._pending:
            self._wait_oldest()
        self._hash(self._batch)
        self._batch, self._batch_bytes = [], 0
        self._stop()
        return encode_digest(self._hasher.digest()), self._size

    def __exit__(self, *exc_info: Any) -> None:
        # not in close(): a serializer may close its file before `finish()` collects the hash
        self._stop()
        self.close()

    def _stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending.clear()
        self._pending_bytes = 0


def hash_written_file(path: Path, hash_type: str) -> tuple[str, int]:
    """(hash, size) of a local file just written, hashed where it lies in the page cache.

    The file is mapped window by window (no copy into a buffer of ours; each window is unmapped
    before the next, so a huge file never counts fully against this process's memory).
    """
    hasher = new_hasher(hash_type, threads=True)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        for offset in range(0, size, MAP_WINDOW):
            length = min(MAP_WINDOW, size - offset)
            with (
                mmap.mmap(handle.fileno(), length, offset=offset, access=mmap.ACCESS_READ) as window,
                memoryview(window) as view,  # released before the window is unmapped
            ):
                hasher.update(view)
    return encode_digest(hasher.digest()), size
