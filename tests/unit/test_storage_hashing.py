from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from lamella._storage import folder_hash_from_file_hashes, hash_file, hash_folder, pipeline
from lamella._storage import listing as listing_module
from lamella._storage.hashing import etag_to_hash
from lamella.errors import StorageError


def encoded_md5(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode().rstrip("=")


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Shrink buffers so a few hundred KB exercise the multi-chunk, threaded paths."""
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 64 * 1024)
    monkeypatch.setattr(pipeline, "POOLED_CHUNK_SIZE", 16 * 1024)
    return 64 * 1024


def test_hash_of_small_file_is_encoded_md5(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello world")
    digest, size = hash_file(path)
    assert (digest, size) == (encoded_md5(b"hello world"), 11)
    assert len(digest) == 22


def test_hash_of_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert hash_file(str(path)) == (encoded_md5(b""), 0)


@pytest.mark.parametrize("extra", [0, 1, 12345])
def test_hash_of_multi_chunk_file_covers_full_content(tmp_path: Path, small_chunks: int, extra: int) -> None:
    data = os.urandom(small_chunks * 7 + extra)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert hash_file(path) == (encoded_md5(data), len(data))


def test_hash_file_missing_raises_storage_error_with_path(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nope\.bin"):
        hash_file(tmp_path / "nope.bin")


def test_hash_file_on_folder_points_to_hash_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="hash_folder"):
        hash_file(tmp_path)


def test_etag_to_hash() -> None:
    md5 = hashlib.md5(b"abc")
    assert etag_to_hash(f'"{md5.hexdigest()}"') == encoded_md5(b"abc")
    assert etag_to_hash(md5.hexdigest().upper()) == encoded_md5(b"abc")
    assert etag_to_hash('"373cc49e0f92fa6550b3cf0bd173ad29-2"') is None
    assert etag_to_hash(None) is None
    assert etag_to_hash("") is None


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_hash_folder_combines_sorted_file_hashes(tmp_path: Path, small_chunks: int) -> None:
    files = {"a.txt": b"a", "sub/b.txt": b"bb", "sub/deeper/c.bin": os.urandom(3 * small_chunks + 5)}
    make_tree(tmp_path, files)
    file_hashes = [encoded_md5(data) for data in files.values()]
    expected = encoded_md5("".join(sorted(file_hashes)).encode())
    assert hash_folder(tmp_path) == (expected, sum(map(len, files.values())), 3)
    assert folder_hash_from_file_hashes(reversed(file_hashes)) == expected


def test_hash_folder_is_independent_of_listing_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path, {f"f{i}.txt": str(i).encode() for i in range(20)})
    expected = hash_folder(tmp_path)
    original = listing_module.list_local

    def reversed_listing(root: Path) -> list[tuple[str, int]]:
        return list(reversed(original(root)))

    monkeypatch.setattr("lamella._storage.hashing.list_local", reversed_listing)
    assert hash_folder(tmp_path) == expected


def test_folder_hash_changes_when_a_file_changes(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a": b"1", "b": b"2"})
    before = hash_folder(tmp_path)[0]
    (tmp_path / "b").write_bytes(b"3")
    assert hash_folder(tmp_path)[0] != before


def test_hash_folder_of_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing"):
        hash_folder(tmp_path / "missing")
