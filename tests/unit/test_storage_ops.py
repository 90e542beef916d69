from __future__ import annotations

from pathlib import Path

import pytest

from lamella._storage import delete, exists, is_dir, list_files, size_of
from lamella.errors import InvalidArgument, StorageError


def make_tree(root: Path) -> None:
    (root / "b" / "c").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"12345")
    (root / "b" / "x.bin").write_bytes(b"1")
    (root / "b" / "c" / "y.bin").write_bytes(b"12")


def test_list_files_is_sorted_relative_posix(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert list_files(tmp_path) == [("a.txt", 5), ("b/c/y.bin", 2), ("b/x.bin", 1)]


def test_list_files_of_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing"):
        list_files(tmp_path / "missing")


def test_exists_is_dir_size_of(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert exists(tmp_path / "a.txt") and not is_dir(tmp_path / "a.txt")
    assert exists(str(tmp_path / "b")) and is_dir(tmp_path / "b")
    assert not exists(tmp_path / "nope") and not is_dir(tmp_path / "nope")
    assert size_of(tmp_path / "a.txt") == 5
    assert size_of(tmp_path) == 8
    with pytest.raises(StorageError, match="nope"):
        size_of(tmp_path / "nope")


def test_delete_file_folder_and_missing(tmp_path: Path) -> None:
    make_tree(tmp_path)
    delete(tmp_path / "a.txt")
    assert not (tmp_path / "a.txt").exists()
    delete(tmp_path / "b")
    assert not (tmp_path / "b").exists()
    delete(tmp_path / "never-existed")  # not an error


def test_delete_symlink_removes_only_the_link(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(target)
    delete(link)
    assert not link.exists() and (target / "keep.txt").exists()


def test_delete_refuses_roots() -> None:
    with pytest.raises(InvalidArgument, match="root"):
        delete("/")
    with pytest.raises(InvalidArgument, match="bucket"):
        delete("s3://some-bucket")
