"""The storage layer against a real S3 protocol endpoint (moto's server)."""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lamella._storage import cache as cache_module
from lamella._storage import (
    copy_and_hash,
    copy_tree_and_hash,
    delete,
    download_to_cache,
    exists,
    filesystem,
    hash_file,
    hash_folder,
    is_dir,
    list_files,
    pipeline,
    size_of,
    to_path,
)
from lamella._storage import copying as copying_module
from lamella._storage import tree as tree_module
from lamella.errors import StorageError

pytestmark = pytest.mark.integration

MiB = 2**20


def encoded_md5(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode().rstrip("=")


@pytest.fixture
def s3_root(s3_endpoint: str) -> Iterator[str]:
    root = f"s3://lamella-test/{uuid.uuid4().hex[:10]}"
    yield root
    delete(root)


def forbid_body_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, any attempt to read (or stream-write) an object's bytes fails the test."""
    fs = filesystem("s3://lamella-test/")

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"object body was read: {args}")

    for name in ("open", "cat_file", "_cat_file", "cat", "get_file", "_get_file"):
        monkeypatch.setattr(fs, name, forbidden)


@pytest.fixture
def body_reads_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_body_reads(monkeypatch)


def multipart_put(remote: str, data: bytes) -> None:
    """Upload in 5 MiB parts so the object's ETag is not a plain md5."""
    fs = filesystem(remote)
    with fs.open(remote, "wb", block_size=5 * MiB) as fh:
        for start in range(0, len(data), 5 * MiB):
            fh.write(data[start : start + 5 * MiB])
            fh.flush()


def test_round_trip_local_s3_local(tmp_path: Path, s3_root: str) -> None:
    data = os.urandom(300_000)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    remote = f"{s3_root}/dir/data.bin"
    assert copy_and_hash(src, remote) == (encoded_md5(data), len(data))
    assert exists(remote) and not is_dir(remote) and size_of(remote) == len(data)
    back = tmp_path / "back" / "data.bin"
    assert copy_and_hash(remote, back) == (encoded_md5(data), len(data))
    assert back.read_bytes() == data


def test_hash_file_reuses_plain_etag_without_reading(s3_root: str, body_reads_forbidden: None) -> None:
    remote = f"{s3_root}/small.txt"
    data = b"some bytes" * 1000
    filesystem(remote).pipe_file(remote, data)
    assert hash_file(remote) == (encoded_md5(data), len(data))


def test_hash_folder_on_s3_uses_listing_etags(s3_root: str, body_reads_forbidden: None) -> None:
    files = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/c/d.txt": b"ccc"}
    fs = filesystem(s3_root)
    for rel, data in files.items():
        fs.pipe_file(f"{s3_root}/{rel}", data)
    expected = encoded_md5("".join(sorted(encoded_md5(d) for d in files.values())).encode())
    assert hash_folder(s3_root) == (expected, 6, 3)
    assert list_files(s3_root) == [("a.txt", 1), ("sub/b.txt", 2), ("sub/c/d.txt", 3)]


def test_multipart_object_is_streamed_and_hashed_fully(s3_root: str) -> None:
    data = os.urandom(11 * MiB)
    remote = f"{s3_root}/multi.bin"
    multipart_put(remote, data)
    etag = filesystem(remote).info(remote)["ETag"]
    assert "-" in etag
    assert hash_file(remote) == (encoded_md5(data), len(data))


def test_large_upload_goes_multipart_and_stays_byte_identical(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copying_module, "UPLOAD_PART_SIZE", 5 * MiB)
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1 * MiB)
    data = os.urandom(12 * MiB + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    remote = f"{s3_root}/big.bin"
    assert copy_and_hash(src, remote) == (encoded_md5(data), len(data))
    assert filesystem(remote).cat_file(remote) == data


def test_failed_upload_leaves_no_object_and_no_pending_upload(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch, s3_endpoint: str
) -> None:
    monkeypatch.setattr(copying_module, "UPLOAD_PART_SIZE", 5 * MiB)
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1 * MiB)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(12 * MiB))

    class Failing:
        def __init__(self, path: Path) -> None:
            self.inner = open(path, "rb", buffering=0)  # noqa: SIM115
            self.left = 7 * MiB  # past the first uploaded part

        def readinto(self, buffer: memoryview) -> int:
            if self.left <= 0:
                raise OSError(5, "simulated read error")
            count = self.inner.readinto(buffer[: min(len(buffer), self.left)]) or 0
            self.left -= count
            return count

        def close(self) -> None:
            self.inner.close()

    monkeypatch.setattr(copying_module, "open_local_source", Failing)
    remote = f"{s3_root}/big.bin"
    with pytest.raises(StorageError, match=r"big\.bin"):
        copy_and_hash(src, remote)
    assert not exists(remote)
    import boto3

    pending = boto3.client("s3", endpoint_url=s3_endpoint).list_multipart_uploads(Bucket="lamella-test")
    assert [u for u in pending.get("Uploads", []) if u["Key"].endswith("big.bin")] == []


def test_s3_to_s3_plain_etag_is_copied_server_side(s3_root: str, body_reads_forbidden: None) -> None:
    data = b"x" * 5000
    src, dst = f"{s3_root}/a.bin", f"{s3_root}/copy/a.bin"
    filesystem(src).pipe_file(src, data)
    assert copy_and_hash(src, dst) == (encoded_md5(data), len(data))
    assert exists(dst)


def test_s3_to_s3_multipart_is_streamed(s3_root: str) -> None:
    data = os.urandom(11 * MiB)
    src, dst = f"{s3_root}/multi.bin", f"{s3_root}/copy.bin"
    multipart_put(src, data)
    assert copy_and_hash(src, dst) == (encoded_md5(data), len(data))
    assert filesystem(dst).cat_file(dst) == data


def make_tree(root: Path) -> dict[str, bytes]:
    files = {f"cells/{i:03d}.csv": os.urandom(100 + i) for i in range(40)}
    files["meta/info.json"] = b"{}"
    files["matrix.bin"] = os.urandom(300_000)
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_tree_upload_download_and_hash_agree(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 128 * 1024)  # matrix.bin takes the streamed path
    src = tmp_path / "src"
    files = make_tree(src)
    remote = f"{s3_root}/tree"
    local_hash = hash_folder(src)
    assert copy_tree_and_hash(src, remote, progress=False) == local_hash
    assert hash_folder(remote) == local_hash
    assert list_files(remote) == list_files(src)
    assert is_dir(remote) and size_of(remote) == local_hash[1]
    back = tmp_path / "back"
    assert copy_tree_and_hash(remote, back, progress=False) == local_hash
    assert {p.relative_to(back).as_posix(): p.read_bytes() for p in back.rglob("*") if p.is_file()} == files
    copied = f"{s3_root}/tree-copy"
    assert copy_tree_and_hash(remote, copied, progress=False) == local_hash


def test_s3_to_s3_tree_copies_server_side(s3_root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = filesystem(s3_root)
    files = {f"part-{i}.parquet": os.urandom(50 + i) for i in range(12)}
    for rel, data in files.items():
        fs.pipe_file(f"{s3_root}/src/{rel}", data)
    expected = hash_folder(f"{s3_root}/src")
    forbid_body_reads(monkeypatch)
    assert copy_tree_and_hash(f"{s3_root}/src", f"{s3_root}/dst", progress=False) == expected
    assert hash_folder(f"{s3_root}/dst") == expected


def test_failed_tree_upload_removes_uploaded_objects(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    make_tree(src)
    original = tree_module._read_whole

    def flaky(source: str, size: int) -> bytes:
        if source.endswith("030.csv"):
            raise OSError(5, "simulated read error")
        return original(source, size)

    monkeypatch.setattr(tree_module, "_read_whole", flaky)
    remote = f"{s3_root}/tree"
    with pytest.raises(StorageError, match="tree"):
        copy_tree_and_hash(src, remote, progress=False)
    assert list_files(f"{s3_root}") == []


def test_delete_file_prefix_and_missing(s3_root: str) -> None:
    fs = filesystem(s3_root)
    fs.pipe_file(f"{s3_root}/one.txt", b"1")
    fs.pipe_file(f"{s3_root}/dir/two.txt", b"2")
    fs.pipe_file(f"{s3_root}/dir/sub/three.txt", b"3")
    delete(f"{s3_root}/one.txt")
    assert not exists(f"{s3_root}/one.txt")
    delete(f"{s3_root}/dir")
    assert not exists(f"{s3_root}/dir") and list_files(s3_root) == []
    delete(f"{s3_root}/never-there")


def test_download_cache_refreshes_only_on_change(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    original = cache_module._download

    def spy(remote: str, *args: Any) -> str:
        calls.append(remote)
        return original(remote, *args)

    monkeypatch.setattr(cache_module, "_download", spy)
    remote = f"{s3_root}/table.parquet"
    fs = filesystem(remote)
    fs.pipe_file(remote, b"first version")
    target = cache_module.cache_path_for(remote, tmp_path)
    assert target == tmp_path / "lamella-test" / remote.split("lamella-test/", 1)[1]
    download_to_cache(remote, target)
    download_to_cache(remote, target)
    assert target.read_bytes() == b"first version" and len(calls) == 1
    fs.pipe_file(remote, b"second version")  # different ETag
    download_to_cache(remote, target)
    assert target.read_bytes() == b"second version" and len(calls) == 2
    download_to_cache(remote, target, expected_hash=encoded_md5(b"second version"))
    assert len(calls) == 2


def test_to_path_gives_a_working_upath(s3_root: str) -> None:
    remote = f"{s3_root}/via-upath.txt"
    path = to_path(remote)
    path.write_bytes(b"written through UPath")
    assert hash_file(remote) == (encoded_md5(b"written through UPath"), 21)
    assert exists(path)
