from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

from lamella._storage import cache_path_for, filesystem, is_cloud, to_path
from lamella.errors import InvalidArgument


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("s3://bucket/key", True),
        ("gs://bucket/key", True),
        ("https://example.org/x.csv", True),
        ("file:///tmp/x", False),
        ("/tmp/x", False),
        ("relative/x", False),
        ("~/x", False),
        (Path("/tmp/x"), False),
    ],
)
def test_is_cloud(location: str | Path, expected: bool) -> None:
    assert is_cloud(location) is expected


def test_to_path_local_is_absolute_and_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert to_path("rel/x.txt") == tmp_path.resolve() / "rel" / "x.txt"
    assert to_path("~/y.txt") == tmp_path.resolve() / "y.txt"
    assert to_path(f"file://{tmp_path}/z") == tmp_path.resolve() / "z"
    assert isinstance(to_path(tmp_path), Path)


def s3_env(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_s3_filesystem_is_cached_and_follows_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, "http://127.0.0.1:1")
    first = filesystem("s3://bucket-a/x")
    assert filesystem("s3://bucket-a/y") is first
    assert first.client_kwargs["endpoint_url"] == "http://127.0.0.1:1"
    s3_env(monkeypatch, "http://127.0.0.1:2")
    second = filesystem("s3://bucket-a/x")
    assert second is not first
    assert second.client_kwargs["endpoint_url"] == "http://127.0.0.1:2"


def test_to_path_s3_is_upath_sharing_the_filesystem(monkeypatch: pytest.MonkeyPatch) -> None:
    s3_env(monkeypatch, "http://127.0.0.1:3")
    path = to_path("s3://bucket-b/dir/file.parquet")
    assert type(path).__name__ == "S3Path"
    assert str(path) == "s3://bucket-b/dir/file.parquet"
    assert path.fs is filesystem("s3://bucket-b/dir/file.parquet")  # type: ignore[union-attr]


def test_local_filesystem(tmp_path: Path) -> None:
    assert filesystem(str(tmp_path)).protocol[0] in ("file", "local")


def test_cache_path_for(tmp_path: Path) -> None:
    assert cache_path_for("s3://bucket/a/b.parquet", tmp_path) == tmp_path / "bucket" / "a" / "b.parquet"
    assert cache_path_for("s3://bucket/folder/", tmp_path) == tmp_path / "bucket" / "folder"
    with pytest.raises(InvalidArgument, match=r"\.\."):
        cache_path_for("s3://bucket/a/../../etc/passwd", tmp_path)
    with pytest.raises(InvalidArgument, match="not a cloud location"):
        cache_path_for(os.fspath(tmp_path / "x"), tmp_path)


def test_a_local_storage_names_its_host(ln: ModuleType, tmp_path: Path) -> None:
    from lamella._instance import state
    from lamella._process import HOST
    from lamella.errors import InvalidArgument, StorageError

    shared = ln.Storage(root=tmp_path / "shared", host="lab-server-01").save()
    assert (shared.type, shared.host, shared.root) == ("local", "lab-server-01", str(tmp_path / "shared"))
    assert ln.Storage.get(root=str(ln.settings.storage.root)).host == HOST  # the instance's own folder
    with pytest.raises(InvalidArgument, match="in the cloud"):
        ln.Storage(root="s3://bucket/x", host="lab-server-01")
    assert ln.Storage(root="s3://bucket/y").type == "s3"

    artifact = ln.Artifact.from_dataframe(__import__("pandas").DataFrame({"a": [1]}), key="t.parquet").save()
    storage = artifact.storage
    storage.host = "another-machine"
    storage.save()
    state.process.storage_roots.clear()
    with pytest.raises(StorageError, match=r"on the machine 'another-machine'"):
        artifact.load()
