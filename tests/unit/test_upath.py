"""`ln.UPath`: universal-pathlib paths with `view_tree()` and `download_to()`, local, in memory and on S3."""

from __future__ import annotations

import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import upath

import lamella as ln
from lamella._storage.upaths import format_tree
from lamella.errors import InvalidArgument, PathNotFound


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """study/ with two image folders (3 and 2 .jpg plus a meta.csv each), a notes.txt and a zarr store."""
    root = tmp_path / "study"
    for name, n_images in (("images_a", 3), ("images_b", 2)):
        (root / name).mkdir(parents=True)
        for i in range(n_images):
            (root / name / f"img{i}.jpg").write_bytes(b"jpg" * (i + 1))
        (root / name / "meta.csv").write_text("a,b\n1,2\n")
    (root / "notes.txt").write_text("notes")
    (root / "table.zarr" / "0").mkdir(parents=True)
    (root / "table.zarr" / ".zgroup").write_text("{}")
    (root / "table.zarr" / "0" / "chunk").write_bytes(b"x")
    return root


EXPECTED_TREE = """\
3 sub-directories & 8 files with suffixes '.csv', '.jpg', '.txt'
{root}
├── images_a/
│   ├── img0.jpg
│   ├── img1.jpg
│   ├── img2.jpg
│   └── meta.csv
├── images_b/
│   ├── img0.jpg
│   ├── img1.jpg
│   └── meta.csv
├── notes.txt
└── table.zarr/"""


def test_upath_is_a_universal_pathlib_path(folder: Path) -> None:
    path = ln.UPath(folder)
    assert isinstance(path, upath.UPath) and isinstance(path, ln.UPath)
    assert repr(path) == f"UPath({str(folder)!r})"
    child = path / "notes.txt"
    assert isinstance(child, ln.UPath) and hasattr(child, "view_tree")
    assert child.read_text() == "notes"
    # local paths are os.PathLike, as pathlib's are
    assert os.fspath(child) == str(folder / "notes.txt")
    with open(child) as handle:
        assert handle.read() == "notes"
    assert {p.name for p in path.iterdir()} == {"images_a", "images_b", "notes.txt", "table.zarr"}
    assert all(isinstance(p, ln.UPath) for p in path.glob("*/*.jpg"))
    assert isinstance(path.parent, ln.UPath)
    assert pickle.loads(pickle.dumps(child)) == child
    assert ln.UPath(child) == child and ln.UPath(upath.UPath(folder)) == path


def test_cloud_upaths_keep_their_protocol_and_options() -> None:
    path = ln.UPath("s3://lamella-test/some/key.csv", anon=True)
    assert path.protocol == "s3" and str(path) == "s3://lamella-test/some/key.csv"
    assert path.storage_options["anon"] is True
    assert not isinstance(path, os.PathLike)  # like upath's cloud paths
    assert isinstance(path.parent, ln.UPath) and path.parent.name == "some"
    copy = pickle.loads(pickle.dumps(path))
    assert type(copy) is ln.UPath and str(copy) == str(path)
    # any universal-pathlib path counts as a lamella.UPath, as before the helpers existed
    assert isinstance(upath.UPath("s3://lamella-test/x"), ln.UPath)
    assert not isinstance(Path("/tmp"), ln.UPath)


def test_upath_without_options_uses_lamellas_s3_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    path = ln.UPath("s3://lamella-test/key")
    assert path.storage_options["client_kwargs"]["endpoint_url"] == "http://127.0.0.1:9"


def test_view_tree_prints_the_folder(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ln.UPath(folder).view_tree() is None
    assert capsys.readouterr().out == EXPECTED_TREE.format(root=folder) + "\n"


def test_view_tree_options(folder: Path) -> None:
    one_level = format_tree(folder, level=1)
    assert one_level.splitlines()[0] == "3 sub-directories & 1 file with suffixes '.txt'"
    assert "img0.jpg" not in one_level and "├── images_a/" in one_level
    folders = format_tree(folder, limit_to_directories=True)
    assert folders.splitlines()[0] == "3 sub-directories"
    assert ".jpg" not in folders and "└── table.zarr/" in folders
    capped = format_tree(folder, max_files_per_dir_per_type=1)
    assert capped.count("img0.jpg") == 2 and "img1.jpg" not in capped
    assert "│   └── ... 2 more files with suffix '.jpg'" in capped
    assert "│   └── ... 1 more file with suffix '.jpg'" in capped
    assert capped.splitlines()[0] == EXPECTED_TREE.splitlines()[0]  # the counts cover every file
    short = format_tree(folder, length_limit=2).splitlines()
    assert short[2:] == [
        "├── images_a/",
        "│   ├── img0.jpg",
        "... only showing 2 of 11 entries (length_limit=2)",
    ]


def test_view_tree_refuses_a_file_or_nothing(folder: Path) -> None:
    with pytest.raises(InvalidArgument, match="is a file"):
        ln.UPath(folder / "notes.txt").view_tree()
    with pytest.raises(PathNotFound):
        ln.UPath(folder / "missing").view_tree()
    with pytest.raises(InvalidArgument, match="level=0"):
        format_tree(folder, level=0)


def test_download_to_copies_a_file_and_a_folder(folder: Path, tmp_path: Path) -> None:
    target = ln.UPath(folder / "notes.txt").download_to(tmp_path / "out" / "notes_copy.txt")
    assert target == tmp_path / "out" / "notes_copy.txt" and target.read_text() == "notes"
    into = tmp_path / "existing"
    into.mkdir()
    assert ln.UPath(folder / "notes.txt").download_to(into, print_progress=False) == into / "notes.txt"
    copied = ln.UPath(folder).download_to(str(tmp_path / "copy"))
    files = sorted(p.relative_to(copied).as_posix() for p in copied.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert (copied / "images_a" / "img2.jpg").read_bytes() == b"jpgjpgjpg"
    assert not [p for p in tmp_path.rglob("*.lamella-part")]  # no temp files left behind


def test_download_to_refuses_a_cloud_target_and_a_missing_source(folder: Path) -> None:
    with pytest.raises(InvalidArgument, match="local path"):
        ln.UPath(folder / "notes.txt").download_to("s3://bucket/notes.txt")
    with pytest.raises(PathNotFound):
        ln.UPath(folder / "missing.txt").download_to(folder / "copy.txt")


@pytest.fixture
def memory_folder() -> Iterator[str]:
    """The same layout in fsspec's in-memory filesystem, a stand-in for any remote store."""
    import fsspec

    root = f"memory://lamella-tests/{uuid.uuid4().hex[:8]}/study"
    fs = fsspec.filesystem("memory")
    for key, data in {
        "images_a/img0.jpg": b"a0",
        "images_a/img1.jpg": b"a1",
        "images_a/meta.csv": b"m",
        "notes.txt": b"notes",
    }.items():
        fs.pipe_file(f"{root}/{key}", data)
    yield root
    fs.rm(root.removeprefix("memory://"), recursive=True)


def test_view_tree_and_download_to_on_a_remote_filesystem(memory_folder: str, tmp_path: Path) -> None:
    path = ln.UPath(memory_folder)
    assert format_tree(path).splitlines() == [
        "1 sub-directory & 4 files with suffixes '.csv', '.jpg', '.txt'",
        memory_folder,
        "├── images_a/",
        "│   ├── img0.jpg",
        "│   ├── img1.jpg",
        "│   └── meta.csv",
        "└── notes.txt",
    ]
    # the guides' pattern: download each file of a folder next to the script
    downloaded = [p.download_to(tmp_path / p.name) for p in (path / "images_a").glob("*")]
    assert sorted(p.name for p in downloaded) == ["img0.jpg", "img1.jpg", "meta.csv"]
    assert (tmp_path / "img1.jpg").read_bytes() == b"a1"
    copied = path.download_to(tmp_path / "study")
    assert (copied / "images_a" / "meta.csv").read_bytes() == b"m"


@pytest.mark.integration
def test_view_tree_and_download_to_on_s3(s3_endpoint: str, tmp_path: Path, capsys: Any) -> None:
    root = f"s3://lamella-test/{uuid.uuid4().hex[:10]}/study"
    fs = ln.UPath(root).fs
    try:
        for key in ("raw/a.fastq.gz", "raw/b.fastq.gz", "meta.csv"):
            fs.pipe_file(f"{root}/{key}".removeprefix("s3://"), key.encode())
        ln.UPath(root).view_tree()
        assert capsys.readouterr().out.splitlines() == [
            "1 sub-directory & 3 files with suffixes '.csv', '.fastq.gz'",
            root,
            "├── meta.csv",
            "└── raw/",
            "    ├── a.fastq.gz",
            "    └── b.fastq.gz",
        ]
        copied = ln.UPath(root).download_to(tmp_path / "study", print_progress=False)
        assert (copied / "raw" / "b.fastq.gz").read_bytes() == b"raw/b.fastq.gz"
        single = ln.UPath(f"{root}/meta.csv").download_to(tmp_path / "meta.csv")
        assert single.read_bytes() == b"meta.csv"
    finally:
        fs.rm(root.removeprefix("s3://"), recursive=True)


def test_an_artifact_from_an_upath(ln: Any, folder: Path) -> None:
    artifact = ln.Artifact(ln.UPath(folder / "notes.txt"), key="notes.txt").save()
    assert artifact.size == 5 and artifact.suffix == ".txt"
    assert ln.UPath(artifact.path).read_text() == "notes"
    folder_artifact = ln.Artifact(ln.UPath(folder / "images_a"), key="images_a").save()
    assert folder_artifact.n_files == 4


def test_an_artifacts_path_has_the_helpers(ln: Any, folder: Path, tmp_path: Path, capsys: Any) -> None:
    # LaminDB's tutorials: `[p.download_to(p.name) for p in artifact.path.glob("*")]`
    artifact = ln.Artifact(folder / "images_a", key="iris/images_a").save()
    path = artifact.path
    assert isinstance(path, Path) and path == Path(str(path))  # still a pathlib path
    downloaded = [p.download_to(tmp_path / "out" / p.name) for p in sorted(path.glob("*"))]
    assert [p.name for p in downloaded] == ["img0.jpg", "img1.jpg", "img2.jpg", "meta.csv"]
    assert (tmp_path / "out" / "img2.jpg").read_bytes() == b"jpgjpgjpg"
    capsys.readouterr()
    path.view_tree()
    assert (
        capsys.readouterr().out.splitlines()[0] == "0 sub-directories & 4 files with suffixes '.csv', '.jpg'"
    )
    assert pickle.loads(pickle.dumps(path)) == path


@pytest.mark.integration
def test_an_artifacts_path_in_s3_has_the_helpers(
    ln: Any, s3_prefix: str, folder: Path, tmp_path: Path
) -> None:
    ln.setup.init(storage=f"s3://lamella-test/{s3_prefix}", name="s3-paths")
    artifact = ln.Artifact(folder / "images_b", key="iris/images_b").save()
    path = artifact.path
    assert isinstance(path, upath.UPath) and str(path).startswith("s3://lamella-test/")
    downloaded = [p.download_to(tmp_path / p.name) for p in path.glob("*")]
    assert sorted(p.name for p in downloaded) == ["img0.jpg", "img1.jpg", "meta.csv"]
