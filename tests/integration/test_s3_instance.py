"""An instance whose default storage is a prefix in an S3 bucket (moto's server speaks the S3 protocol)."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import blake3
import pytest

import lamella as ln
from lamella.errors import InvalidArgument, LamellaError, PathNotFound

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

BUCKET = "lamella-test"
OTHER_BUCKET = "other-bucket"
MiB = 2**20


def md5_hash(data: bytes) -> str:
    """The md5 digest in url-safe base64 without padding (22 characters): an S3 ETag's hash."""
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode().rstrip("=")


def content_hash(data: bytes) -> str:
    """A new instance's hash: BLAKE3's 16-byte output in url-safe base64 without padding."""
    return base64.urlsafe_b64encode(blake3.blake3(data).digest(length=16)).decode().rstrip("=")


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


def keys_under(s3: Any, prefix: str, bucket: str = BUCKET) -> list[str]:
    paginator = s3.get_paginator("list_objects_v2")
    return sorted(
        obj["Key"]
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    )


def body(s3: Any, key: str, bucket: str = BUCKET) -> bytes:
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


class Cloud:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix  # the key prefix in the bucket, no slashes around it
        self.root = f"s3://{BUCKET}/{prefix}"

    def key_of(self, artifact: Any) -> str:
        return f"{self.prefix}/.lamella/{artifact.uid}{artifact.suffix}"


@pytest.fixture
def cloud(s3: Any) -> Iterator[Cloud]:
    prefix = f"inst-{uuid.uuid4().hex[:10]}"
    ln.setup.init(storage=f"s3://{BUCKET}/{prefix}/", name="cloudy")
    yield Cloud(prefix)
    for key in keys_under(s3, prefix + "/"):
        s3.delete_object(Bucket=BUCKET, Key=key)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every download into the cache, by remote location."""
    from lamella._storage import cache as cache_module

    seen: list[str] = []
    original = cache_module._download

    def counting(remote: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(remote)
        return original(remote, *args, **kwargs)

    monkeypatch.setattr(cache_module, "_download", counting)
    return seen


def small_df() -> Any:
    import pandas as pd

    return pd.DataFrame({"gene": ["CD8A", "CD4", "CD3E"], "count": [1, 2, 3]})


# --- the instance ----------------------------------------------------------------------------------


def test_init_on_a_bucket_prefix(cloud: Cloud, lamella_home: str) -> None:
    assert ln.setup.settings.instance.name == "cloudy"
    assert str(ln.settings.storage.root) == cloud.root  # the trailing slash is dropped
    assert ln.settings.storage.type == "s3"
    storage = ln.Storage.get(root=cloud.root)
    assert storage.type == "s3"
    # the embedded database lives on this machine, not in the bucket
    assert (Path(lamella_home) / "instances" / "cloudy" / "lamella.db").is_file()


def test_init_on_a_missing_bucket_fails_clearly(s3_endpoint: str) -> None:
    with pytest.raises(LamellaError, match="no-such-bucket"):
        ln.setup.init(storage="s3://no-such-bucket-lamella/x", name="nobucket")
    assert all(c.name != "nobucket" for c in ln.setup.list_instances())


def test_cli_init_on_s3_then_use_from_python(s3: Any, children: Any) -> None:
    prefix = f"cli-{uuid.uuid4().hex[:8]}"
    proc = children.cli("init", "--storage", f"s3://{BUCKET}/{prefix}", "--name", "cli-cloud")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    artifact = ln.Artifact.from_dataframe(small_df(), key="t/cli.parquet").save()
    assert keys_under(s3, f"{prefix}/") == [f"{prefix}/.lamella/{artifact.uid}.parquet"]


# --- saving and reading back -----------------------------------------------------------------------


def test_dataframe_is_uploaded_under_the_prefix(cloud: Cloud, s3: Any) -> None:
    import pandas as pd

    df = small_df()
    artifact = ln.Artifact.from_dataframe(df, key="tables/counts.parquet").save()
    assert str(artifact.path) == f"{cloud.root}/.lamella/{artifact.uid}.parquet"
    assert keys_under(s3, cloud.prefix + "/") == [cloud.key_of(artifact)]  # no intent file left behind
    head = s3.head_object(Bucket=BUCKET, Key=cloud.key_of(artifact))
    assert head["ContentLength"] == artifact.size
    assert content_hash(body(s3, cloud.key_of(artifact))) == artifact.hash
    assert artifact._hash_type == "blake3"
    assert ln.Artifact.get(key="tables/counts.parquet").storage.type == "s3"
    pd.testing.assert_frame_equal(artifact.load(), df)
    pd.testing.assert_frame_equal(ln.Artifact.get(artifact.uid).load(), df)


def test_new_versions_on_s3_keep_one_object_each(cloud: Cloud, s3: Any) -> None:
    import pandas as pd

    v1 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="t/v.parquet").save()
    v2 = ln.Artifact.from_dataframe(pd.DataFrame({"a": [2]}), key="t/v.parquet").save()
    assert v2.stem_uid == v1.stem_uid and v2.uid.endswith("0001")
    assert keys_under(s3, cloud.prefix + "/") == sorted([cloud.key_of(v1), cloud.key_of(v2)])
    assert v1.load()["a"].tolist() == [1] and v2.load()["a"].tolist() == [2]


def test_cache_downloads_once(cloud: Cloud, downloads: list[str]) -> None:
    artifact = ln.Artifact.from_dataframe(small_df(), key="tables/cached.parquet").save()
    first = Path(str(artifact.cache()))
    assert first.is_file()
    assert first.resolve().is_relative_to(ln.settings.cache_dir.resolve())
    assert content_hash(first.read_bytes()) == artifact.hash
    stat = first.stat()
    n_downloads = len(downloads)
    assert n_downloads <= 1

    second = Path(str(artifact.cache()))
    assert second == first
    assert len(downloads) == n_downloads, "the second cache() downloaded again"
    assert (second.stat().st_ino, second.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    # load() and a fresh record read the same cached copy
    ln.Artifact.get(artifact.uid).load()
    assert len(downloads) == n_downloads


def test_cache_downloads_again_after_the_cached_copy_changed(cloud: Cloud, downloads: list[str]) -> None:
    artifact = ln.Artifact.from_dataframe(small_df(), key="tables/tampered.parquet").save()
    local = Path(str(artifact.cache()))
    good = local.read_bytes()
    n_downloads = len(downloads)
    local.write_bytes(b"not parquet at all")
    again = Path(str(artifact.cache()))
    assert again.read_bytes() == good
    assert len(downloads) == n_downloads + 1
    local.unlink()
    assert Path(str(artifact.cache())).read_bytes() == good
    assert len(downloads) == n_downloads + 2


def test_cache_follows_an_object_that_changed_in_the_bucket(
    cloud: Cloud, s3: Any, downloads: list[str]
) -> None:
    """The same object registered again after it was overwritten: the cache serves the new bytes."""
    key = f"{cloud.prefix}/raw/table.csv"
    location = f"s3://{BUCKET}/{key}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"a,b\n1,2\n")
    old = ln.Artifact(location, description="raw table").save()
    assert Path(str(old.cache())).read_bytes() == b"a,b\n1,2\n"
    n_downloads = len(downloads)

    s3.put_object(Bucket=BUCKET, Key=key, Body=b"a,b\n1,2\n3,4\n")
    new = ln.Artifact(location, description="raw table").save()
    assert new.hash == md5_hash(b"a,b\n1,2\n3,4\n") != old.hash  # the ETag: md5 in any instance
    assert (old._hash_type, new._hash_type) == ("md5", "md5")
    assert Path(str(new.cache())).read_bytes() == b"a,b\n1,2\n3,4\n"
    assert len(downloads) == n_downloads + 1
    assert new.load().shape == (2, 2)


def test_changed_object_is_never_served_under_the_old_hash(cloud: Cloud, s3: Any) -> None:
    key = f"{cloud.prefix}/raw/changed.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x\n1\n")
    artifact = ln.Artifact(f"s3://{BUCKET}/{key}", description="will change").save()
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"x\n2\n")
    with pytest.raises(LamellaError, match="hash"):
        artifact.cache()


def test_open_gives_a_pyarrow_dataset(cloud: Cloud) -> None:
    import pyarrow.dataset as pads

    df = small_df()
    artifact = ln.Artifact.from_dataframe(df, key="tables/streamed.parquet").save()
    dataset = artifact.open()
    assert isinstance(dataset, pads.Dataset)
    assert dataset.count_rows() == len(df)
    assert dataset.schema.names[:2] == ["gene", "count"]
    assert dataset.to_table(filter=pads.field("count") > 1).num_rows == 2


def test_folder_is_uploaded_file_by_file_and_cached(
    cloud: Cloud, s3: Any, tmp_path: Path, downloads: list[str]
) -> None:
    folder = tmp_path / "imgs"
    (folder / "sub").mkdir(parents=True)
    contents = {f"{i}.bin": bytes([i]) * (1000 + i) for i in range(4)}
    contents["sub/deep.txt"] = b"nested"
    for rel, data in contents.items():
        (folder / rel).write_bytes(data)

    artifact = ln.Artifact(folder, key="images/batch1").save()
    assert artifact.n_files == 5
    assert artifact.size == sum(len(d) for d in contents.values())
    base = f"{cloud.prefix}/.lamella/{artifact.uid}/"
    assert keys_under(s3, cloud.prefix + "/") == sorted(base + rel for rel in contents)
    for rel, data in contents.items():
        assert body(s3, base + rel) == data

    local = Path(str(artifact.cache()))
    assert local.is_dir() and local.resolve().is_relative_to(ln.settings.cache_dir.resolve())
    found = {str(p.relative_to(local)): p.read_bytes() for p in local.rglob("*") if p.is_file()}
    assert found == contents
    n_downloads = len(downloads)
    assert Path(str(artifact.cache())) == local
    assert len(downloads) == n_downloads

    artifact.delete(permanent=True)
    assert keys_under(s3, cloud.prefix + "/") == []


# --- data that already lies in a bucket ------------------------------------------------------------


def test_object_under_the_prefix_is_registered_in_place(cloud: Cloud, s3: Any) -> None:
    data = b"a,b\n1,2\n"
    key = f"{cloud.prefix}/raw/existing.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=data)
    before = keys_under(s3, "")
    artifact = ln.Artifact(f"s3://{BUCKET}/{key}", description="already there").save()
    assert keys_under(s3, "") == before, "registering in place copied or added objects"
    assert artifact.key == "raw/existing.csv"
    assert str(artifact.path) == f"s3://{BUCKET}/{key}"
    assert artifact.storage_id == ln.settings.storage.id
    assert artifact.size == len(data)
    assert artifact.hash == md5_hash(data) and artifact._hash_type == "md5"  # its ETag, not its bytes
    assert artifact.load().shape == (1, 2)

    # a permanent delete of data registered in the instance's own storage removes it
    artifact.delete(permanent=True)
    assert key not in keys_under(s3, cloud.prefix + "/")


def test_multipart_object_in_place_gets_the_instance_hash_of_its_content(cloud: Cloud, s3: Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = bytes(range(256)) * (6 * MiB // 256 + 1)
    key = f"{cloud.prefix}/raw/big.bin"
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, key, Config=config)
    assert "-" in s3.head_object(Bucket=BUCKET, Key=key)["ETag"]  # a multipart ETag is not an md5
    artifact = ln.Artifact(f"s3://{BUCKET}/{key}", description="big")
    assert artifact.hash is None  # not read when it is constructed: the save hashes it
    artifact.save()
    assert artifact.size == len(data)
    assert (artifact.hash, artifact._hash_type) == (content_hash(data), "blake3")


def test_folder_in_place_keeps_the_md5_its_etags_give(cloud: Cloud, s3: Any) -> None:
    files = {"a.csv": b"a\n1\n", "sub/b.csv": b"b\n2\n"}
    for rel, data in files.items():
        s3.put_object(Bucket=BUCKET, Key=f"{cloud.prefix}/raw/batch/{rel}", Body=data)
    artifact = ln.Artifact(f"s3://{BUCKET}/{cloud.prefix}/raw/batch", description="batch").save()
    expected = md5_hash("".join(sorted(md5_hash(d) for d in files.values())).encode())
    assert (artifact.hash, artifact._hash_type, artifact.n_files) == (expected, "md5-d", 2)
    again = ln.Artifact(f"s3://{BUCKET}/{cloud.prefix}/raw/batch", description="batch").save()
    assert again.uid == artifact.uid  # found by its md5 folder hash
    local = Path(str(artifact.cache()))  # checked with its own hash type
    assert {str(p.relative_to(local)): p.read_bytes() for p in local.rglob("*") if p.is_file()} == files


def test_managed_files_cannot_be_registered_again(cloud: Cloud) -> None:
    artifact = ln.Artifact.from_dataframe(small_df(), key="tables/x.parquet").save()
    with pytest.raises(InvalidArgument):
        ln.Artifact(str(artifact.path), description="again").save()


@pytest.fixture
def other_bucket(s3: Any) -> str:
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if OTHER_BUCKET not in existing:
        s3.create_bucket(Bucket=OTHER_BUCKET)
    return OTHER_BUCKET


@pytest.mark.parametrize("storage_flag", [None, True])
def test_object_in_another_bucket_is_referenced_and_never_deleted(
    cloud: Cloud, s3: Any, other_bucket: str, storage_flag: bool | None
) -> None:
    key = f"iris/{uuid.uuid4().hex[:8]}/meta.csv"
    data = b"x,y\n3,4\n"
    s3.put_object(Bucket=other_bucket, Key=key, Body=data)
    artifact = ln.Artifact(f"s3://{other_bucket}/{key}", description="referenced").save()
    assert artifact.storage.root == f"s3://{other_bucket}"
    assert artifact.storage_id != ln.settings.storage.id
    assert artifact.key == key and artifact.hash == md5_hash(data) and artifact._hash_type == "md5"
    assert {s.root for s in ln.Storage.filter()} >= {cloud.root, f"s3://{other_bucket}"}
    assert keys_under(s3, cloud.prefix + "/") == []  # nothing copied into the instance
    assert artifact.load().shape == (1, 2)

    artifact.delete(permanent=True, storage=storage_flag)
    assert ln.Artifact.filter(uid=artifact.uid).count() == 0
    assert body(s3, key, bucket=other_bucket) == data, "a referenced object was deleted"


def test_delete_to_trash_keeps_the_object_permanent_delete_removes_it(cloud: Cloud, s3: Any) -> None:
    artifact = ln.Artifact.from_dataframe(small_df(), key="tables/gone.parquet").save()
    key = cloud.key_of(artifact)
    artifact.delete()
    assert key in keys_under(s3, cloud.prefix + "/")
    assert ln.Artifact.filter(key="tables/gone.parquet").count() == 0
    artifact.delete(permanent=True)
    assert keys_under(s3, cloud.prefix + "/") == []
    assert ln.Artifact.filter(uid=artifact.uid, branch_id=None).count() == 0


# --- failures leave nothing behind -----------------------------------------------------------------


def test_failing_upload_leaves_no_record_and_no_object(
    cloud: Cloud, s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella._storage import copying

    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * (12 * MiB // 256))
    monkeypatch.setattr(copying, "UPLOAD_PART_SIZE", 5 * MiB)  # so the upload is multipart
    written = [0]
    original_write = copying._RemoteSink.write

    def failing_write(self: Any, data: Any) -> None:
        if written[0] > 6 * MiB:  # at least one part is already on the server
            raise ConnectionError("network gone midway")
        written[0] += len(data)
        original_write(self, data)

    monkeypatch.setattr(copying._RemoteSink, "write", failing_write)
    with pytest.raises(Exception, match="network gone midway"):
        ln.Artifact(source, key="big/big.bin").save()
    assert written[0] > 6 * MiB
    assert ln.Artifact.filter(key="big/big.bin").count() == 0
    assert ln.Artifact.filter().count() == 0
    assert keys_under(s3, cloud.prefix + "/") == []
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=cloud.prefix + "/").get("Uploads", [])
    assert uploads == [], "the multipart upload was not aborted"

    monkeypatch.undo()
    saved = ln.Artifact(source, key="big/big.bin").save()
    assert keys_under(s3, cloud.prefix + "/") == [cloud.key_of(saved)]


def test_failing_database_write_removes_the_uploaded_object(
    cloud: Cloud, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event

    from lamella._instance import state

    def broken(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:  # after the upload
        if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
            raise RuntimeError("database went away")

    engine = state.current().db.engine
    event.listen(engine, "before_cursor_execute", broken)
    try:
        with pytest.raises(RuntimeError, match="database went away"):
            ln.Artifact.from_dataframe(small_df(), key="tables/lost.parquet").save()
    finally:
        event.remove(engine, "before_cursor_execute", broken)
    assert keys_under(s3, cloud.prefix + "/") == []
    assert ln.Artifact.filter().count() == 0


def _staged_in_cache() -> list[str]:
    folder = Path(ln.settings.cache_dir) / "_staging"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_dataframe_streams_into_the_upload_with_no_local_file(
    cloud: Cloud, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    from lamella import _storage

    df = small_df()
    artifact = ln.Artifact.from_dataframe(df, key="tables/streamed.parquet")
    assert _staged_in_cache() == [] and keys_under(s3, cloud.prefix + "/") == []  # written at the save

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the DataFrame was copied from a local file")

    monkeypatch.setattr(_storage, "copy_and_hash", never)
    artifact.save()
    assert keys_under(s3, cloud.prefix + "/") == [cloud.key_of(artifact)]  # and no intent left
    assert (content_hash(body(s3, cloud.key_of(artifact))), "blake3") == (artifact.hash, artifact._hash_type)
    assert s3.head_object(Bucket=BUCKET, Key=cloud.key_of(artifact))["ContentLength"] == artifact.size
    assert _staged_in_cache() == []
    pd.testing.assert_frame_equal(ln.Artifact.get(artifact.uid).load(), df)


def test_an_anndata_is_written_locally_once_and_uploaded_with_its_hash(cloud: Cloud, s3: Any) -> None:
    adata = _cells(30, 3)
    artifact = ln.Artifact.from_anndata(adata, key="cells/one.h5ad").save()
    assert keys_under(s3, cloud.prefix + "/") == [cloud.key_of(artifact)]
    assert (content_hash(body(s3, cloud.key_of(artifact))), "blake3") == (artifact.hash, artifact._hash_type)
    assert _staged_in_cache() == []
    assert artifact.load().n_obs == 30


def test_a_streamed_upload_that_fails_midway_leaves_nothing_and_the_retry_saves(
    cloud: Cloud, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import pandas as pd

    from lamella._storage import copying

    df = pd.DataFrame(np.random.default_rng(0).random((200_000, 8)), columns=list("abcdefgh"))  # ~13 MB
    monkeypatch.setattr(copying, "UPLOAD_PART_SIZE", 5 * MiB)  # so the upload is multipart
    written = [0]
    original_write = copying._RemoteSink.write

    def failing_write(self: Any, data: Any) -> None:
        if written[0] > 6 * MiB:  # at least one part is already on the server
            raise ConnectionError("network gone midway")
        written[0] += len(data)
        original_write(self, data)

    monkeypatch.setattr(copying._RemoteSink, "write", failing_write)
    artifact = ln.Artifact.from_dataframe(df, key="tables/big.parquet")
    with pytest.raises(Exception, match="network gone midway"):
        artifact.save()
    assert written[0] > 6 * MiB
    assert ln.Artifact.filter().count() == 0
    assert keys_under(s3, cloud.prefix + "/") == []
    uploads = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=cloud.prefix + "/").get("Uploads", [])
    assert uploads == [], "the multipart upload was not aborted"

    monkeypatch.undo()
    artifact.save()  # the DataFrame is still in memory: streamed again
    assert keys_under(s3, cloud.prefix + "/") == [cloud.key_of(artifact)]
    assert (content_hash(body(s3, cloud.key_of(artifact))), "blake3") == (artifact.hash, artifact._hash_type)
    pd.testing.assert_frame_equal(artifact.load(), df)


def test_a_batch_is_uploaded_together_and_a_failed_one_leaves_no_object(
    cloud: Cloud, s3: Any, tmp_path: Path
) -> None:
    paths = []
    for index in range(10):
        path = tmp_path / f"f{index}.txt"
        path.write_text(f"content {index}")
        paths.append(path)
    batch = [ln.Artifact(path, key=f"bulk/f{i}.txt") for i, path in enumerate(paths)]
    paths[7].unlink()  # gone between constructing the artifact and saving it
    with pytest.raises(PathNotFound, match=r"f7\.txt"):
        ln.save(batch)
    assert ln.Artifact.filter().count() == 0
    assert keys_under(s3, cloud.prefix + "/") == []  # neither uploads nor intents are left
    paths[7].write_text("content 7")
    saved = ln.save(batch)
    assert keys_under(s3, cloud.prefix + "/") == sorted(cloud.key_of(a) for a in saved)
    assert [a.load() for a in saved] == [f"content {i}" for i in range(10)]


def test_save_into_a_removed_bucket_fails_without_a_record(s3: Any) -> None:
    bucket = f"doomed-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    ln.setup.init(storage=f"s3://{bucket}/data", name="doomed")
    for key in keys_under(s3, "", bucket=bucket):
        s3.delete_object(Bucket=bucket, Key=key)
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(LamellaError):
        ln.Artifact.from_dataframe(small_df(), key="tables/nowhere.parquet").save()
    assert ln.Artifact.filter().count() == 0
    # the instance still answers queries and saves labels
    assert ln.ULabel(name="still works").save().id is not None


# --- collections of S3 shards ----------------------------------------------------------------------


def test_a_collection_of_s3_shards_opens_remotely_and_loads_through_the_cache(
    cloud: Cloud, downloads: list[str]
) -> None:
    import pandas as pd
    import pyarrow.dataset as ds

    parts = [
        ln.Artifact.from_dataframe(
            pd.DataFrame({"i": range(n * 10, n * 10 + 5)}), key=f"parts/{n}.parquet"
        ).save()
        for n in range(3)
    ]
    collection = ln.Collection(parts, key="cloud parts").save()
    dataset = collection.open()
    assert isinstance(dataset, ds.Dataset) and dataset.count_rows() == 15
    assert all(f.startswith(f"{BUCKET}/{cloud.prefix}/.lamella/") for f in dataset.files)  # read in place
    assert downloads == []
    loaded = collection.load()
    assert list(loaded["i"])[:6] == [0, 1, 2, 3, 4, 10]
    assert len(downloads) == 3  # each shard cached once
    collection.load()
    assert len(downloads) == 3
    assert all(path.is_file() for path in collection.cache())


def test_a_collection_of_s3_anndata_shards_maps_through_the_cache(cloud: Cloud, downloads: list[str]) -> None:
    import anndata as ad
    import numpy as np

    shards = [
        ln.Artifact.from_anndata(
            ad.AnnData(np.full((n, 2), n, dtype="float32"), obs={"batch": [f"b{n}"] * n}),
            key=f"cells/{n}.h5ad",
        ).save()
        for n in (2, 3)
    ]
    collection = ln.Collection(shards, key="cloud cells").save()
    with collection.mapped(obs_keys=["batch"]) as dataset:
        assert len(dataset) == 5
        assert dataset[4]["X"].tolist() == [3.0, 3.0]
        assert all(str(path).startswith(str(ln.settings.cache_dir)) for path in dataset.path_list)
    assert len(downloads) == 2


def _cells(n: int, seed: int) -> Any:
    """A small AnnData with a sparse X and a categorical batch column."""
    import anndata as ad
    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    dense = rng.random((n, 6), dtype=np.float32)
    dense[dense < 0.5] = 0
    obs = pd.DataFrame(
        {"batch": pd.Categorical(rng.choice(["b1", "b2"], n))}, index=[f"c{seed}_{i}" for i in range(n)]
    )
    return ad.AnnData(sp.csr_matrix(dense), obs=obs, var=pd.DataFrame(index=[f"g{i}" for i in range(6)]))


@pytest.fixture
def streamed_cells(cloud: Cloud) -> Any:
    """A collection of two h5ad shards and one zarr shard, all in the bucket."""
    shards = [
        ln.Artifact.from_anndata(_cells(20, 0), key="streamed/0.h5ad").save(),
        ln.Artifact.from_anndata(_cells(15, 1), key="streamed/1.h5ad").save(),
        ln.Artifact(_cells(10, 2), key="streamed/2.zarr", format="zarr").save(),
    ]
    return ln.Collection(shards, key="streamed cells").save()


def test_a_collection_of_s3_anndata_shards_is_mapped_in_place_with_stream(
    cloud: Cloud, streamed_cells: Any, downloads: list[str]
) -> None:
    import numpy as np

    order = np.random.default_rng(0).permutation(45)
    with streamed_cells.mapped(stream=True, obs_keys=["batch"]) as streamed:
        assert [str(path) for path in streamed.path_list] == [
            f"s3://{BUCKET}/{cloud.key_of(a)}" for a in streamed_cells.ordered_artifacts
        ]
        remote_batch = streamed[order]
        remote_items = [streamed[int(i)] for i in order[:10]]
    assert downloads == []  # nothing came into the cache
    with streamed_cells.mapped(obs_keys=["batch"]) as cached:
        local_batch = cached[order]
        local_items = [cached[int(i)] for i in order[:10]]
    assert len(downloads) == 3
    assert remote_batch.keys() == local_batch.keys()
    for key, values in local_batch.items():
        np.testing.assert_array_equal(remote_batch[key], values)
    for remote, local in zip(remote_items, local_items, strict=True):
        np.testing.assert_array_equal(remote["X"], local["X"])
        assert (remote["batch"], remote["_store_idx"]) == (local["batch"], local["_store_idx"])


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_reopen_the_s3_shards_mapped_with_stream(
    streamed_cells: Any, downloads: list[str], context: str
) -> None:
    """Each worker process opens the remote files itself: forked workers make their own filesystem,
    spawned ones get the dataset pickled (URL and filesystem options) and open it afresh."""
    import numpy as np
    from torch.utils.data import DataLoader

    with streamed_cells.mapped(stream=True, obs_keys=["batch"]) as streamed:
        expected = streamed[np.arange(len(streamed))]
        loader = DataLoader(streamed, batch_size=8, num_workers=2, multiprocessing_context=context)
        batches = list(loader)
    assert downloads == []
    np.testing.assert_array_equal(np.concatenate([b["X"].numpy() for b in batches]), expected["X"])
    np.testing.assert_array_equal(np.concatenate([b["batch"].numpy() for b in batches]), expected["batch"])
    np.testing.assert_array_equal(np.concatenate([b["_idx"].numpy() for b in batches]), np.arange(45))
