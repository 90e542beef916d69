"""Chunked read → hash → write streaming with the three stages overlapped.

Reading and writing run in their own threads while the calling thread hashes; the hashers, file reads
and writes all release the GIL for large buffers, so a copy costs about as much as the slowest stage
instead of the sum of all three (with md5 that was md5 itself; BLAKE3 keeps up with the copy).
Memory stays at `N_BUFFERS * CHUNK_SIZE`.

Between two local files the kernel copies instead (`kernel_copy_hash`) and the hash is read back
from the destination's page cache: no byte passes through a buffer of ours.
"""

from __future__ import annotations

import errno
import mmap
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

__all__ = [
    "CHUNK_SIZE",
    "N_BUFFERS",
    "POOLED_CHUNK_SIZE",
    "Hasher",
    "ReadInto",
    "Write",
    "kernel_copy_hash",
    "simple_hash",
    "stream_hash",
]

CHUNK_SIZE = 8 * 2**20
N_BUFFERS = 4
# Per-file buffer when many files are processed concurrently in a thread pool (keeps RSS bounded).
POOLED_CHUNK_SIZE = 2**20

ReadInto = Callable[[memoryview], int]
Write = Callable[[memoryview], None]


class Hasher(Protocol):
    """What the pump feeds (hashlib's md5, BLAKE3): the digest is taken once, at the end."""

    def update(self, data: bytes | memoryview, /) -> object: ...
    def digest(self) -> bytes: ...


def _noop(_: int) -> None:
    return None


def stream_hash(
    read_into: ReadInto,
    write: Write | None = None,
    *,
    hasher: Hasher,
    advance: Callable[[int], None] = _noop,
    chunk_size: int | None = None,
) -> tuple[bytes, int]:
    """Pump all bytes from `read_into` through `hasher` to `write`, returning (digest, number of bytes).

    `read_into(view)` fills `view` and returns the count (0 at the end); `write(view)` must consume
    the whole view before returning because the buffer is reused afterwards.
    """
    size = chunk_size or CHUNK_SIZE
    buffers = [memoryview(bytearray(size)) for _ in range(N_BUFFERS)]
    total = 0
    reader = ThreadPoolExecutor(1, thread_name_prefix="lamella-read")
    writer = ThreadPoolExecutor(1, thread_name_prefix="lamella-write") if write is not None else None
    try:
        # One reader thread keeps reads sequential; queuing every buffer lets it run ahead of hashing.
        reads: deque[Future[int]] = deque(reader.submit(read_into, buf) for buf in buffers)
        index = 0
        while True:
            count = reads.popleft().result()
            buf = buffers[index]
            index = (index + 1) % N_BUFFERS
            if count == 0:
                break
            view = buf[:count]
            pending = writer.submit(write, view) if writer is not None and write is not None else None
            hasher.update(view)
            total += count
            if pending is not None:
                pending.result()
            advance(count)
            reads.append(reader.submit(read_into, buf))
    finally:
        # Wait for in-flight reads/writes so the caller may close its files safely.
        reader.shutdown(wait=True, cancel_futures=True)
        if writer is not None:
            writer.shutdown(wait=True, cancel_futures=True)
    return hasher.digest(), total


def simple_hash(
    read_into: ReadInto,
    write: Write | None = None,
    *,
    hasher: Hasher,
    advance: Callable[[int], None] = _noop,
    chunk_size: int | None = None,
) -> tuple[bytes, int]:
    """Like `stream_hash` without helper threads: for small inputs and for callers already in a pool."""
    buf = memoryview(bytearray(chunk_size or CHUNK_SIZE))
    total = 0
    while count := read_into(buf):
        view = buf[:count]
        hasher.update(view)
        if write is not None:
            write(view)
        total += count
        advance(count)
    return hasher.digest(), total


# In-kernel copies (Linux): the bytes never pass through this process. A chunk is hashed just after
# the kernel wrote it: small enough to be read back from the CPU's cache (4 MiB measured fastest,
# 1.06-1.08 x copyfile for 1 GiB against 1.15 x with 32 MiB), big enough that the system calls and
# mappings per chunk cost nothing.
KERNEL_CHUNK_SIZE = 4 * 2**20
_KERNEL_COPY_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}
)


_POPULATE = getattr(mmap, "MAP_POPULATE", 0)  # map a chunk's pages at once rather than fault by fault


def _copy_range(src_fd: int, dst_fd: int, offset: int, count: int) -> int:
    """Copy up to `count` bytes at `offset`; fewer only where the source ends."""
    done = 0
    while done < count:
        n = os.copy_file_range(src_fd, dst_fd, count - done, offset + done, offset + done)
        if n == 0:
            break
        done += n
    return done


def _hash_mapped(fd: int, offset: int, count: int, hasher: Hasher) -> None:
    # a mapping reads the page cache in place: no copy into a buffer of ours
    with mmap.mmap(
        fd, count, flags=mmap.MAP_SHARED | _POPULATE, prot=mmap.PROT_READ, offset=offset
    ) as mapped:
        view = memoryview(mapped)
        try:
            hasher.update(view)
        finally:
            view.release()


def kernel_copy_hash(
    src_fd: int,
    dst_fd: int,
    written_fd: int,
    *,
    hasher: Hasher,
    advance: Callable[[int], None] = _noop,
) -> tuple[bytes, int] | None:
    """Copy a local file into another in the kernel (`copy_file_range`), hashing what was written.

    A helper thread copies chunk after chunk, running ahead, while this thread hashes each chunk
    copied, read back from the destination (`written_fd`, opened for reading) through a memory
    mapping: the hash is that of the stored bytes, and a copy costs about what `shutil.copyfile`
    does. Copies until the source ends. Returns None, having written nothing, where the kernel
    cannot copy between these files (another file system on an old kernel, or no
    `copy_file_range`): use `stream_hash`.
    """
    if not hasattr(os, "copy_file_range"):
        return None
    chunk = KERNEL_CHUNK_SIZE
    try:
        count = _copy_range(src_fd, dst_fd, 0, chunk)
    except OSError as exc:
        if exc.errno in _KERNEL_COPY_UNSUPPORTED:
            return None
        raise
    if count == 0 and os.fstat(src_fd).st_size > 0:
        return None  # some kernels copy nothing from files of virtual file systems, without an error
    expected = os.fstat(src_fd).st_size
    total = 0
    copier = ThreadPoolExecutor(1, thread_name_prefix="lamella-copy")
    try:
        # one thread copies the chunks in order, as far ahead of the hashing as it gets
        copies = deque(
            copier.submit(_copy_range, src_fd, dst_fd, o, chunk) for o in range(chunk, expected, chunk)
        )
        while count:
            _hash_mapped(written_fd, total, count, hasher)
            total += count
            advance(count)
            if count < chunk:
                break
            if not copies:  # the source grew since it was measured
                copies.append(copier.submit(_copy_range, src_fd, dst_fd, total, chunk))
            count = copies.popleft().result()
    finally:
        copier.shutdown(wait=True, cancel_futures=True)
    # a source that shrank and grew again while being copied may have left bytes past the end
    os.ftruncate(dst_fd, total)
    return hasher.digest(), total
