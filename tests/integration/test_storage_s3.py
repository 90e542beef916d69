"""What only S3 does, against a real S3 protocol endpoint (moto's server): ETags, multipart, server-side copies.

Copies to, from and within S3 and the in-memory store are in tests/conformance/test_storage_copy.py.
"""

from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
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
    list_files,
    pipeline,
    to_path,
)
from lamella._storage import copying as copying_module
from lamella._storage.hashing import etag_file_hash, etag_folder_hash

pytestmark = pytest.mark.integration

MiB = 2**20


def encoded_md5(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode().rstrip("=")


def encoded(data: bytes, hash_type: str) -> str:
    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


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


def test_hash_file_reuses_plain_etag_without_reading(s3_root: str, body_reads_forbidden: None) -> None:
    remote = f"{s3_root}/small.txt"
    data = b"some bytes" * 1000
    filesystem(remote).pipe_file(remote, data)
    assert hash_file(remote, "md5") == (encoded_md5(data), len(data))
    assert etag_file_hash(remote) == (encoded_md5(data), len(data))


def test_blake3_hash_of_an_s3_object_reads_it(s3_root: str) -> None:
    remote = f"{s3_root}/small.txt"
    data = b"some bytes" * 1000
    filesystem(remote).pipe_file(remote, data)
    assert hash_file(remote, "blake3") == (encoded(data, "blake3"), len(data))


def test_hash_folder_on_s3_uses_listing_etags(s3_root: str, body_reads_forbidden: None) -> None:
    files = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/c/d.txt": b"ccc"}
    fs = filesystem(s3_root)
    for rel, data in files.items():
        fs.pipe_file(f"{s3_root}/{rel}", data)
    expected = encoded_md5("".join(sorted(encoded_md5(d) for d in files.values())).encode())
    assert hash_folder(s3_root, "md5") == (expected, 6, 3)
    assert etag_folder_hash(s3_root) == (expected, 6, 3)
    assert list_files(s3_root) == [("a.txt", 1), ("sub/b.txt", 2), ("sub/c/d.txt", 3)]


def test_a_folder_with_a_multipart_object_has_no_etag_hash(s3_root: str) -> None:
    filesystem(s3_root).pipe_file(f"{s3_root}/a.txt", b"a")
    multipart_put(f"{s3_root}/multi.bin", os.urandom(6 * MiB))
    assert etag_folder_hash(s3_root) is None


@pytest.mark.parametrize("hash_type", ["md5", "blake3"])
def test_multipart_object_is_streamed_and_hashed_fully(s3_root: str, hash_type: str) -> None:
    data = os.urandom(11 * MiB)
    remote = f"{s3_root}/multi.bin"
    multipart_put(remote, data)
    etag = filesystem(remote).info(remote)["ETag"]
    assert "-" in etag
    assert etag_file_hash(remote) == (None, len(data))
    assert hash_file(remote, hash_type) == (encoded(data, hash_type), len(data))


@pytest.mark.parametrize("hash_type", ["md5", "blake3"])
def test_large_upload_goes_multipart_and_stays_byte_identical(
    tmp_path: Path, s3_root: str, monkeypatch: pytest.MonkeyPatch, hash_type: str
) -> None:
    monkeypatch.setattr(copying_module, "UPLOAD_PART_SIZE", 5 * MiB)
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 1 * MiB)
    data = os.urandom(12 * MiB + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    remote = f"{s3_root}/big.bin"
    assert copy_and_hash(src, remote, hash_type) == (encoded(data, hash_type), len(data))
    assert filesystem(remote).cat_file(remote) == data


def test_s3_to_s3_plain_etag_is_copied_server_side(s3_root: str, body_reads_forbidden: None) -> None:
    data = b"x" * 5000
    src, dst = f"{s3_root}/a.bin", f"{s3_root}/copy/a.bin"
    filesystem(src).pipe_file(src, data)
    assert copy_and_hash(src, dst, "md5") == (encoded_md5(data), len(data))
    assert exists(dst)


def test_s3_to_s3_with_blake3_streams_the_bytes(s3_root: str) -> None:
    # the server knows the md5 only: a BLAKE3 hash needs the bytes
    data = b"x" * 5000
    src, dst = f"{s3_root}/a.bin", f"{s3_root}/copy/a.bin"
    filesystem(src).pipe_file(src, data)
    assert copy_and_hash(src, dst, "blake3") == (encoded(data, "blake3"), len(data))
    assert filesystem(dst).cat_file(dst) == data


@pytest.mark.parametrize("hash_type", ["md5", "blake3"])
def test_s3_to_s3_multipart_is_streamed(s3_root: str, hash_type: str) -> None:
    data = os.urandom(11 * MiB)
    src, dst = f"{s3_root}/multi.bin", f"{s3_root}/copy.bin"
    multipart_put(src, data)
    assert copy_and_hash(src, dst, hash_type) == (encoded(data, hash_type), len(data))
    assert filesystem(dst).cat_file(dst) == data


def test_s3_to_s3_tree_copies_server_side(s3_root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = filesystem(s3_root)
    files = {f"part-{i}.parquet": os.urandom(50 + i) for i in range(12)}
    for rel, data in files.items():
        fs.pipe_file(f"{s3_root}/src/{rel}", data)
    expected = hash_folder(f"{s3_root}/src", "md5")
    forbid_body_reads(monkeypatch)
    assert copy_tree_and_hash(f"{s3_root}/src", f"{s3_root}/dst", "md5", progress=False) == expected
    assert hash_folder(f"{s3_root}/dst", "md5") == expected


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
    download_to_cache(remote, target, expected_hash=encoded_md5(b"second version"), hash_type="md5")
    assert len(calls) == 2


def test_to_path_gives_a_working_upath(s3_root: str) -> None:
    remote = f"{s3_root}/via-upath.txt"
    path = to_path(remote)
    path.write_bytes(b"written through UPath")
    assert hash_file(remote, "md5") == (encoded_md5(b"written through UPath"), 21)
    assert exists(path)
