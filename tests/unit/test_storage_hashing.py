from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import blake3
import pytest

from lamella._storage import folder_hash_from_file_hashes, hash_file, hash_folder, pipeline
from lamella._storage import listing as listing_module
from lamella._storage.hashing import (
    algorithm_of,
    etag_to_hash,
    folder_hash_type,
    hash_bytes,
    new_hasher,
    recorded_types,
)
from lamella.errors import InvalidArgument, StorageError

HASH_TYPES = ["md5", "blake3"]


def encoded(data: bytes, hash_type: str) -> str:
    """The hash as Lamella records it, computed here independently: 16 bytes, url-safe base64."""
    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Shrink buffers so a few hundred KB exercise the multi-chunk, threaded paths."""
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 64 * 1024)
    monkeypatch.setattr(pipeline, "POOLED_CHUNK_SIZE", 16 * 1024)
    return 64 * 1024


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_hash_of_small_file_is_the_encoded_16_byte_digest(tmp_path: Path, hash_type: str) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello world")
    digest, size = hash_file(path, hash_type)
    assert (digest, size) == (encoded(b"hello world", hash_type), 11)
    assert len(digest) == 22


def test_the_two_hash_types_give_different_hashes_of_one_content(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"same bytes")
    assert hash_file(path, "md5")[0] != hash_file(path, "blake3")[0]


def test_blake3_hash_is_the_prefix_of_its_longer_output() -> None:
    # 16 bytes of BLAKE3's extendable output: the first half of its usual 32-byte digest
    data = os.urandom(5000)
    full = blake3.blake3(data).digest()
    assert hash_bytes(data, "blake3") == base64.urlsafe_b64encode(full[:16]).decode()[:22]


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_hash_of_empty_file(tmp_path: Path, hash_type: str) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hash_file(str(path), hash_type) == (encoded(b"", hash_type), 0)


@pytest.mark.parametrize("hash_type", HASH_TYPES)
@pytest.mark.parametrize("extra", [0, 1, 12345])
def test_hash_of_multi_chunk_file_covers_full_content(
    tmp_path: Path, small_chunks: int, extra: int, hash_type: str
) -> None:
    data = os.urandom(small_chunks * 7 + extra)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert hash_file(path, hash_type) == (encoded(data, hash_type), len(data))


def test_threaded_blake3_gives_the_same_digest_as_one_thread() -> None:
    data = os.urandom(9 * 2**20 + 7)  # big enough that several threads share each update
    threaded, single = new_hasher("blake3", threads=True), new_hasher("blake3")
    for start in range(0, len(data), 4 * 2**20):
        threaded.update(memoryview(data)[start : start + 4 * 2**20])
        single.update(data[start : start + 4 * 2**20])
    assert threaded.digest() == single.digest() == blake3.blake3(data).digest(length=16)


def test_unknown_hash_type_is_refused_naming_the_choices(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"x")
    with pytest.raises(InvalidArgument, match=r"'sha256'.*'md5' or 'blake3'"):
        hash_file(path, "sha256")


def test_hash_types_recorded_for_files_and_folders() -> None:
    assert folder_hash_type("md5") == "md5-d" and folder_hash_type("blake3") == "blake3-d"
    assert recorded_types("blake3") == ("blake3", "blake3-d")
    assert [algorithm_of(t) for t in ("md5", "md5-d", "blake3", "blake3-d")] == [
        "md5",
        "md5",
        "blake3",
        "blake3",
    ]
    # LaminDB's hashes of a big file's first and last 50 MB, and of multipart ETags: not recomputable
    assert algorithm_of("sha1-fl") is None and algorithm_of("md5-n") is None and algorithm_of(None) is None


def test_hash_file_missing_raises_storage_error_with_path(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nope\.bin"):
        hash_file(tmp_path / "nope.bin", "blake3")


def test_hash_file_on_folder_points_to_hash_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="hash_folder"):
        hash_file(tmp_path, "blake3")


def test_etag_to_hash() -> None:
    md5 = hashlib.md5(b"abc")
    assert etag_to_hash(f'"{md5.hexdigest()}"') == encoded(b"abc", "md5")
    assert etag_to_hash(md5.hexdigest().upper()) == encoded(b"abc", "md5")
    assert etag_to_hash('"373cc49e0f92fa6550b3cf0bd173ad29-2"') is None
    assert etag_to_hash(None) is None
    assert etag_to_hash("") is None


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.mark.parametrize("hash_type", HASH_TYPES)
def test_hash_folder_combines_sorted_file_hashes(tmp_path: Path, small_chunks: int, hash_type: str) -> None:
    files = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/deeper/c.bin": os.urandom(3 * small_chunks + 5)}
    make_tree(tmp_path, files)
    file_hashes = [encoded(data, hash_type) for data in files.values()]
    expected = encoded("".join(sorted(file_hashes)).encode(), hash_type)
    assert hash_folder(tmp_path, hash_type) == (expected, sum(map(len, files.values())), 3)
    assert folder_hash_from_file_hashes(reversed(file_hashes), hash_type) == expected


def test_hash_folder_is_independent_of_listing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {f"f{i}.txt": str(i).encode() for i in range(20)})
    expected = hash_folder(tmp_path, "blake3")
    original = listing_module.list_local

    def reversed_listing(root: Path) -> list[tuple[str, int]]:
        return list(reversed(original(root)))

    monkeypatch.setattr("lamella._storage.hashing.list_local", reversed_listing)
    assert hash_folder(tmp_path, "blake3") == expected


def test_folder_hash_changes_when_a_file_changes(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a": b"1", "b": b"2"})
    before = hash_folder(tmp_path, "blake3")[0]
    (tmp_path / "b").write_bytes(b"3")
    assert hash_folder(tmp_path, "blake3")[0] != before


def test_hash_folder_of_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing"):
        hash_folder(tmp_path / "missing", "blake3")
