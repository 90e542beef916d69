"""Copying and hashing files and folders: locally, and to, from and within an object store.

The object-store tests run on fsspec's in-memory filesystem and on a real S3 endpoint (moto's server);
tests/integration/test_storage_s3.py has what only S3 does (ETags, multipart uploads, server-side copies).
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from lamella._storage import (
    copy_and_hash,
    copy_tree_and_hash,
    delete,
    exists,
    filesystem,
    hash_folder,
    is_dir,
    list_files,
    pipeline,
    size_of,
)
from lamella._storage import copying as copying_module
from lamella._storage import tree as tree_module
from lamella.errors import StorageError


def encoded(data: bytes, hash_type: str) -> str:
    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.fixture(params=["md5", "blake3"])
def hash_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Shrink buffers so a few hundred KB exercise the multi-chunk, threaded paths."""
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 64 * 1024)
    monkeypatch.setattr(pipeline, "POOLED_CHUNK_SIZE", 16 * 1024)
    monkeypatch.setattr(pipeline, "KERNEL_CHUNK_SIZE", 128 * 1024)
    return 64 * 1024


MiB = 2**20


@pytest.fixture(params=["memory", pytest.param("s3", marks=pytest.mark.integration)])
def store_root(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh prefix in an object store: fsspec's in-memory filesystem, or a bucket on moto's S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3_endpoint")
        root = f"s3://lamella-test/{uuid.uuid4().hex[:10]}"
        yield root
        delete(root)
        return
    root = f"memory://bucket-{uuid.uuid4().hex[:8]}"
    yield root
    fs = filesystem(root)
    if fs.exists(root):
        fs.rm(root, recursive=True)


class FailingReader:
    """Delivers `good` bytes of a real file, then fails like a disk or network error would."""

    def __init__(self, path: Path, good: int) -> None:
        self.inner = open(path, "rb", buffering=0)  # noqa: SIM115
        self.left = good

    def readinto(self, buffer: memoryview) -> int:
        if self.left <= 0:
            raise OSError(5, "simulated read error")
        count = self.inner.readinto(buffer[: min(len(buffer), self.left)]) or 0
        self.left -= count
        return count

    def close(self) -> None:
        self.inner.close()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if "lamella-part" in p.name)


@pytest.mark.parametrize("size", [0, 1, 1000, 64 * 1024, 64 * 1024 * 5 + 17, 128 * 1024 * 3])
def test_copy_is_byte_identical_and_hash_matches(
    tmp_path: Path, small_chunks: int, size: int, hash_type: str
) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dst = tmp_path / "out" / "nested" / "dst.bin"
    assert copy_and_hash(src, dst, hash_type) == (encoded(data, hash_type), size)
    assert dst.read_bytes() == data
    assert leftovers(dst.parent) == []


def test_copy_overwrites_existing_destination(tmp_path: Path) -> None:
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"new")
    dst.write_bytes(b"old content")
    copy_and_hash(str(src), str(dst), "blake3")
    assert dst.read_bytes() == b"new"


def test_failing_read_leaves_no_partial_file(
    tmp_path: Path, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(small_chunks * 6))
    monkeypatch.setattr(
        copying_module, "open_local_source", lambda path: FailingReader(path, small_chunks * 3)
    )
    out = tmp_path / "out"
    with pytest.raises(StorageError) as info:
        copy_and_hash(src, out / "dst.bin", "blake3")
    assert str(src) in str(info.value) and "dst.bin" in str(info.value)
    assert not (out / "dst.bin").exists()
    assert leftovers(out) == []


def test_failing_read_keeps_the_previous_destination(
    tmp_path: Path, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(small_chunks * 4))
    dst = tmp_path / "dst.bin"
    dst.write_bytes(b"previous")
    monkeypatch.setattr(copying_module, "open_local_source", lambda path: FailingReader(path, 100))
    with pytest.raises(StorageError):
        copy_and_hash(src, dst, "blake3")
    assert dst.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []


def test_unwritable_destination_raises_storage_error(tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"x")
    blocker = tmp_path / "blocker"
    blocker.write_bytes(b"a file where a folder is needed")
    with pytest.raises(StorageError, match="blocker"):
        copy_and_hash(src, blocker / "dst.bin", "blake3")


def test_missing_source_raises_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"missing\.bin"):
        copy_and_hash(tmp_path / "missing.bin", tmp_path / "dst.bin", "blake3")
    assert not (tmp_path / "dst.bin").exists()


def test_kernel_copy_failing_midway_leaves_nothing(
    tmp_path: Path, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(os, "copy_file_range"):
        pytest.skip("no copy_file_range on this platform: local copies stream through the pipeline")
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(128 * 1024 * 5))
    calls = []
    original = os.copy_file_range

    def failing(*args: int) -> int:
        calls.append(args)
        if len(calls) > 2:
            raise OSError(28, "No space left on device")
        return original(*args)

    monkeypatch.setattr(pipeline.os, "copy_file_range", failing)
    out = tmp_path / "out"
    with pytest.raises(StorageError, match="No space left"):
        copy_and_hash(src, out / "dst.bin", "blake3")
    assert len(calls) >= 3  # it failed after two chunks were copied
    assert not (out / "dst.bin").exists()
    assert leftovers(out) == []


def test_copy_between_file_systems_the_kernel_cannot_copy_streams_instead(
    tmp_path: Path, small_chunks: int, monkeypatch: pytest.MonkeyPatch, hash_type: str
) -> None:
    data = os.urandom(128 * 1024 * 3 + 5)
    src = tmp_path / "src.bin"
    src.write_bytes(data)

    def cross_device(*_: int) -> int:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(pipeline.os, "copy_file_range", cross_device, raising=False)
    dst = tmp_path / "dst.bin"
    assert copy_and_hash(src, dst, hash_type) == (encoded(data, hash_type), len(data))
    assert dst.read_bytes() == data


def test_a_kernel_that_copies_nothing_from_a_non_empty_file_is_not_believed(
    tmp_path: Path, small_chunks: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # files of virtual file systems (procfs, sysfs) copy as empty on some kernels, without an error
    data = os.urandom(128 * 1024 * 2)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    monkeypatch.setattr(pipeline.os, "copy_file_range", lambda *_: 0, raising=False)
    dst = tmp_path / "dst.bin"
    assert copy_and_hash(src, dst, "blake3") == (encoded(data, "blake3"), len(data))
    assert dst.read_bytes() == data


def test_copy_via_object_store_round_trip(
    tmp_path: Path, small_chunks: int, store_root: str, hash_type: str
) -> None:
    data = os.urandom(small_chunks * 3 + 11)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = f"{store_root}/dir/obj.bin"
    assert copy_and_hash(src, remote, hash_type) == (encoded(data, hash_type), len(data))
    assert exists(remote) and not is_dir(remote) and size_of(remote) == len(data)
    back = tmp_path / "back" / "back.bin"
    assert copy_and_hash(remote, back, hash_type) == (encoded(data, hash_type), len(data))
    assert back.read_bytes() == data


def test_failed_upload_to_non_transactional_store_leaves_nothing(
    tmp_path: Path, small_chunks: int, store_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "big.bin"
    good = small_chunks
    if store_root.startswith("s3://"):  # fail past the first part of a multipart upload
        monkeypatch.setattr(copying_module, "UPLOAD_PART_SIZE", 5 * MiB)
        monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1 * MiB)
        src.write_bytes(os.urandom(12 * MiB))
        good = 7 * MiB
    else:
        src.write_bytes(os.urandom(small_chunks * 4))
    monkeypatch.setattr(copying_module, "open_local_source", lambda path: FailingReader(path, good))
    remote = f"{store_root}/big.bin"
    with pytest.raises(StorageError, match=r"big\.bin"):
        copy_and_hash(src, remote, "blake3")
    assert not filesystem(remote).exists(remote)
    if store_root.startswith("s3://"):
        import boto3

        pending = boto3.client("s3").list_multipart_uploads(Bucket="lamella-test")
        assert [u for u in pending.get("Uploads", []) if u["Key"].endswith("big.bin")] == []


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def source_tree(tmp_path: Path, small_chunks: int) -> tuple[Path, dict[str, bytes]]:
    files = {f"small/{i:03d}.txt": os.urandom(i) for i in range(50)}
    files["medium.bin"] = os.urandom(small_chunks // 2 + 3)  # pooled, streamed in small chunks
    files["deep/er/large.bin"] = os.urandom(small_chunks * 3 + 1)  # streamed by the pipeline
    files["empty"] = b""
    src = tmp_path / "src"
    make_tree(src, files)
    return src, files


def test_copy_tree_copies_everything_and_hashes_like_hash_folder(
    tmp_path: Path, source_tree: tuple[Path, dict[str, bytes]], hash_type: str
) -> None:
    src, files = source_tree
    dst = tmp_path / "out" / "dst"
    result = copy_tree_and_hash(src, dst, hash_type, progress=False)
    assert tree_bytes(dst) == files
    assert result == hash_folder(src, hash_type)
    expected = encoded("".join(sorted(encoded(d, hash_type) for d in files.values())).encode(), hash_type)
    assert result == (expected, sum(map(len, files.values())), len(files))
    assert leftovers(dst.parent) == []


def test_copy_tree_merges_into_existing_folder(
    tmp_path: Path, source_tree: tuple[Path, dict[str, bytes]]
) -> None:
    src, files = source_tree
    dst = tmp_path / "dst"
    make_tree(dst, {"keep.txt": b"keep", "small/000.txt": b"replaced"})
    copy_tree_and_hash(src, dst, "blake3", progress=False)
    assert tree_bytes(dst) == {**files, "keep.txt": b"keep"}
    assert leftovers(tmp_path) == []


def test_failing_tree_copy_removes_what_it_wrote(
    tmp_path: Path, source_tree: tuple[Path, dict[str, bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    src, _ = source_tree
    original = tree_module._read_whole

    def flaky(source: str, size: int) -> bytes:
        if source.endswith("025.txt"):
            raise OSError(5, "simulated read error")
        return original(source, size)

    monkeypatch.setattr(tree_module, "_read_whole", flaky)
    dst = tmp_path / "dst"
    with pytest.raises(StorageError, match="dst"):
        copy_tree_and_hash(src, dst, "blake3", progress=False)
    assert not dst.exists()
    assert leftovers(tmp_path) == []


def test_copy_tree_of_missing_source_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="nothing-here"):
        copy_tree_and_hash(tmp_path / "nothing-here", tmp_path / "dst", "blake3")


def test_copy_tree_through_object_store(
    tmp_path: Path, source_tree: tuple[Path, dict[str, bytes]], store_root: str, hash_type: str
) -> None:
    src, files = source_tree
    remote = f"{store_root}/tree"
    up = copy_tree_and_hash(src, remote, hash_type, progress=False)
    assert up == hash_folder(src, hash_type)
    assert hash_folder(remote, hash_type) == up
    assert list_files(remote) == list_files(src)
    assert is_dir(remote) and size_of(remote) == up[1]
    back = tmp_path / "back"
    assert copy_tree_and_hash(remote, back, hash_type, progress=False) == up
    assert tree_bytes(back) == files
    assert copy_tree_and_hash(remote, f"{store_root}/tree-copy", hash_type, progress=False) == up


def test_failing_upload_removes_uploaded_objects(
    tmp_path: Path,
    source_tree: tuple[Path, dict[str, bytes]],
    store_root: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src, _ = source_tree
    original = tree_module._read_whole

    def flaky(source: str, size: int) -> bytes:
        if source.endswith("040.txt"):
            raise OSError(5, "simulated read error")
        return original(source, size)

    monkeypatch.setattr(tree_module, "_read_whole", flaky)
    remote = f"{store_root}/tree"
    with pytest.raises(StorageError, match="tree"):
        copy_tree_and_hash(src, remote, "blake3", progress=False)
    assert filesystem(remote).find(remote) == []
    assert list_files(store_root) == []
