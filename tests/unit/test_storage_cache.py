from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import blake3
import pytest

from lamella._storage import cache as cache_module
from lamella._storage import download_to_cache, filesystem, hash_folder
from lamella._storage.cache import sidecar_path
from lamella.errors import InvalidArgument, StorageError

HASH_TYPES = ["md5", "blake3"]


def encoded(data: bytes, hash_type: str) -> str:
    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.fixture
def memory_root() -> Iterator[str]:
    """A fresh prefix in fsspec's in-memory filesystem, standing in for a cloud bucket."""
    root = f"memory://bucket-{uuid.uuid4().hex[:8]}"
    yield root
    fs = filesystem(root)
    if fs.exists(root):
        fs.rm(root, recursive=True)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every actual download."""
    calls: list[str] = []
    original = cache_module._download

    def spy(remote: str, *args: object, **kwargs: object) -> str:
        calls.append(remote)
        return original(remote, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module, "_download", spy)
    return calls


def put(remote: str, data: bytes) -> None:
    filesystem(remote).pipe_file(remote, data)


def test_downloads_once_then_reuses(tmp_path: Path, memory_root: str, downloads: list[str]) -> None:
    remote = f"{memory_root}/a/b.csv"
    put(remote, b"1,2,3")
    target = tmp_path / "cache" / "a" / "b.csv"
    assert download_to_cache(remote, target) == target
    assert target.read_bytes() == b"1,2,3"
    assert sidecar_path(target).exists()
    download_to_cache(remote, target)
    assert downloads == [remote]
    assert [p.name for p in target.parent.iterdir() if "lamella-part" in p.name] == []


def test_downloads_again_when_remote_changes(tmp_path: Path, memory_root: str, downloads: list[str]) -> None:
    remote = f"{memory_root}/x.txt"
    put(remote, b"version 1")
    target = tmp_path / "x.txt"
    download_to_cache(remote, target)
    time.sleep(0.01)  # the in-memory store only records a creation time
    put(remote, b"version 2")  # same size: only the timestamp/etag tells them apart
    download_to_cache(remote, target)
    assert target.read_bytes() == b"version 2"
    assert len(downloads) == 2


def test_local_edit_of_cached_copy_triggers_download(
    tmp_path: Path, memory_root: str, downloads: list[str]
) -> None:
    remote = f"{memory_root}/x.txt"
    put(remote, b"original")
    target = tmp_path / "x.txt"
    download_to_cache(remote, target)
    target.write_bytes(b"tampered!")
    download_to_cache(remote, target)
    assert target.read_bytes() == b"original"
    assert len(downloads) == 2


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_expected_hash_skips_the_server(
    tmp_path: Path, memory_root: str, downloads: list[str], monkeypatch: pytest.MonkeyPatch, hash_type: str
) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"payload")
    target = tmp_path / "x.bin"
    download_to_cache(remote, target, expected_hash=encoded(b"payload", hash_type), hash_type=hash_type)

    def no_server(_: str) -> dict[str, object]:
        raise AssertionError("the server was asked although the hash settles freshness")

    monkeypatch.setattr(cache_module, "_remote_fingerprint", no_server)
    download_to_cache(remote, target, expected_hash=encoded(b"payload", hash_type), hash_type=hash_type)
    assert downloads == [remote]


def test_a_record_of_the_other_hash_type_is_checked_by_hashing_the_cached_copy(
    tmp_path: Path, memory_root: str, downloads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"payload")
    target = tmp_path / "x.bin"
    download_to_cache(remote, target, expected_hash=encoded(b"payload", "md5"), hash_type="md5")
    monkeypatch.setattr(cache_module, "_remote_fingerprint", lambda _: pytest.fail("asked the server"))
    download_to_cache(remote, target, expected_hash=encoded(b"payload", "blake3"), hash_type="blake3")
    assert downloads == [remote]
    assert json.loads(sidecar_path(target).read_text())["hash_type"] == "blake3"
    monkeypatch.undo()
    with pytest.raises(StorageError, match="was expected"):  # a wrong hash is still found out
        download_to_cache(remote, target, expected_hash=encoded(b"other", "blake3"), hash_type="blake3")


def test_a_record_written_before_hash_types_holds_md5(
    tmp_path: Path, memory_root: str, downloads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"payload")
    target = tmp_path / "x.bin"
    download_to_cache(remote, target, expected_hash=encoded(b"payload", "md5"), hash_type="md5")
    record = json.loads(sidecar_path(target).read_text())
    del record["hash_type"]  # as an earlier version wrote it
    sidecar_path(target).write_text(json.dumps(record))

    def no_hashing(*_: object) -> tuple[str, int]:
        raise AssertionError("the cached copy was hashed although its record settles it")

    monkeypatch.setattr(cache_module, "hash_file", no_hashing)
    monkeypatch.setattr(cache_module, "_remote_fingerprint", lambda _: pytest.fail("asked the server"))
    download_to_cache(remote, target, expected_hash=encoded(b"payload", "md5"), hash_type="md5")
    assert downloads == [remote]


def test_an_expected_hash_needs_its_hash_type(tmp_path: Path, memory_root: str) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"payload")
    with pytest.raises(InvalidArgument, match="hash_type='md5' or 'blake3'"):
        download_to_cache(remote, tmp_path / "x.bin", expected_hash=encoded(b"payload", "md5"))


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_existing_bytes_with_matching_hash_are_adopted(
    tmp_path: Path, memory_root: str, downloads: list[str], hash_type: str
) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"payload")
    target = tmp_path / "x.bin"
    target.write_bytes(b"payload")  # e.g. left there by the upload that created the object
    download_to_cache(remote, target, expected_hash=encoded(b"payload", hash_type), hash_type=hash_type)
    assert downloads == []


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_hash_mismatch_raises_and_keeps_no_partial(tmp_path: Path, memory_root: str, hash_type: str) -> None:
    remote = f"{memory_root}/x.bin"
    put(remote, b"changed behind our back")
    target = tmp_path / "x.bin"
    with pytest.raises(StorageError, match="was expected"):
        download_to_cache(
            remote, target, expected_hash=encoded(b"registered content", hash_type), hash_type=hash_type
        )
    assert list(tmp_path.iterdir()) == []


def test_folder_download_and_refresh(tmp_path: Path, memory_root: str, downloads: list[str]) -> None:
    remote = f"{memory_root}/store.zarr"
    put(f"{remote}/.zattrs", b"{}")
    put(f"{remote}/0/0", b"chunk")
    target = tmp_path / "store.zarr"
    download_to_cache(remote, target)
    assert (target / "0" / "0").read_bytes() == b"chunk"
    download_to_cache(remote, target)
    assert len(downloads) == 1
    put(f"{remote}/0/1", b"new chunk")
    download_to_cache(remote, target)
    assert (target / "0" / "1").read_bytes() == b"new chunk"
    assert len(downloads) == 2
    for hash_type in HASH_TYPES:
        expected = hash_folder(target, hash_type)[0]
        download_to_cache(remote, target, expected_hash=expected, hash_type=hash_type)
    assert len(downloads) == 2


def test_missing_remote_and_local_source(tmp_path: Path, memory_root: str) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        download_to_cache(f"{memory_root}/missing.csv", tmp_path / "m.csv")
    with pytest.raises(InvalidArgument, match="cloud location"):
        download_to_cache(str(tmp_path / "local.csv"), tmp_path / "m.csv")
