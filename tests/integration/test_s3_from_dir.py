"""`ln.Artifact.from_dir()` of an S3 prefix, then `ln.save()`: one paginated listing, nothing per object.

The requests are counted where every request of Lamella's S3 filesystem passes: botocore's
`before-call` event of s3fs's client (one per API call, each page of a listing included).
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import servers

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("lamella_home")]

BUCKET = servers.S3_BUCKET
COUNT = 1005  # more than one page of a listing (1,000 keys)


def md5_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.md5(data).digest()).decode()[:22]


def body_of(index: int) -> bytes:
    return f"object {index}\n".encode()


@pytest.fixture
def objects(s3: Any, s3_prefix: str) -> Iterator[dict[str, bytes]]:
    """COUNT small objects under `<s3_prefix>/batch/` (in subfolders), by key; deleted afterwards."""
    objects = {f"{s3_prefix}/batch/d{i % 4}/o{i:04d}.txt": body_of(i) for i in range(COUNT)}
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=BUCKET, Key=item[0], Body=item[1]), objects.items()))
    yield objects
    keys = list(objects)
    for start in range(0, len(keys), 1000):  # the prefix's own cleanup deletes one page
        chunk = [{"Key": key} for key in keys[start : start + 1000]]
        s3.delete_objects(Bucket=BUCKET, Delete={"Objects": chunk})


@pytest.fixture
def requests() -> Iterator[Counter[str]]:
    """The S3 API calls Lamella's filesystem makes from now on, by operation name."""
    from lamella import _storage

    fs = _storage.filesystem(f"s3://{BUCKET}/")
    fs.connect()  # the client exists from here on; lamella makes no other one for this bucket
    calls: Counter[str] = Counter()

    def count(model: Any = None, **_: Any) -> None:
        calls[model.name] += 1

    fs.s3.meta.events.register("before-call.s3", count)
    yield calls
    fs.s3.meta.events.unregister("before-call.s3", count)


@pytest.fixture
def ln(s3_endpoint: str, tmp_path: Any) -> Any:
    import lamella

    lamella.setup.init(storage=tmp_path / "data")
    lamella.settings.creation.artifact_silence_missing_run_warning = True
    return lamella


def test_from_dir_lists_the_prefix_once_and_save_asks_nothing(
    ln: Any, objects: dict[str, bytes], s3_prefix: str, requests: Counter[str]
) -> None:
    artifacts = ln.Artifact.from_dir(f"s3://{BUCKET}/{s3_prefix}/batch")
    assert requests == Counter({"ListObjectsV2": 2})  # two pages, nothing per object
    requests.clear()
    saved = ln.save(artifacts)
    assert requests == Counter()
    assert [a.key for a in saved] == sorted(objects)
    assert all(a.hash == md5_hash(objects[a.key]) and a._hash_type == "md5" for a in saved)
    assert all(a.size == len(objects[a.key]) and not a._key_is_virtual for a in saved)
    assert {a.storage.root for a in saved} == {f"s3://{BUCKET}"}
    assert ln.Artifact.filter(key__startswith=f"{s3_prefix}/batch/").count() == COUNT
    assert ln.Artifact.get(key=f"{s3_prefix}/batch/d1/o0005.txt").load() == body_of(5).decode()


def test_an_object_without_an_md5_etag_is_the_only_one_read(
    ln: Any, s3: Any, s3_prefix: str, requests: Counter[str]
) -> None:
    from lamella._storage.hashing import hash_bytes

    for index in range(3):
        s3.put_object(Bucket=BUCKET, Key=f"{s3_prefix}/mixed/o{index}.txt", Body=body_of(index))
    upload = s3.create_multipart_upload(Bucket=BUCKET, Key=f"{s3_prefix}/mixed/multi.bin")
    part = s3.upload_part(
        Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"], PartNumber=1, Body=b"one part"
    )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key=upload["Key"],
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    artifacts = ln.Artifact.from_dir(f"s3://{BUCKET}/{s3_prefix}/mixed")
    requests.clear()
    saved = {a.key.rsplit("/", 1)[1]: a for a in ln.save(artifacts)}
    assert requests["ListObjectsV2"] == 0 and requests["GetObject"] == 1  # the multipart object alone
    assert saved["multi.bin"].hash == hash_bytes(b"one part", "blake3")
    assert saved["multi.bin"]._hash_type == "blake3"
    assert saved["o2.txt"].hash == md5_hash(body_of(2)) and saved["o2.txt"]._hash_type == "md5"


def test_keys_of_a_prefix_are_its_keys_in_the_bucket(
    ln: Any, objects: dict[str, bytes], s3_prefix: str
) -> None:
    from lamella.errors import InvalidArgument, PathNotFound

    folder = f"s3://{BUCKET}/{s3_prefix}/batch"
    artifacts = ln.Artifact.from_dir(folder, key=f"{s3_prefix}/batch")  # the key it has anyway
    assert [a.key for a in artifacts] == sorted(objects)
    with pytest.raises(InvalidArgument, match="registered in place under that key"):
        ln.Artifact.from_dir(folder, key="renamed")
    with pytest.raises(PathNotFound):
        ln.Artifact.from_dir(f"s3://{BUCKET}/{s3_prefix}/nothing-here")
    with pytest.raises(InvalidArgument, match="is a file"):
        ln.Artifact.from_dir(f"{folder}/d1/o0005.txt")


def test_saving_the_prefix_again_finds_every_artifact_saved(ln: Any, s3: Any, s3_prefix: str) -> None:
    for index in range(5):
        s3.put_object(Bucket=BUCKET, Key=f"{s3_prefix}/again/o{index}.txt", Body=body_of(index))
    first = ln.save(ln.Artifact.from_dir(f"s3://{BUCKET}/{s3_prefix}/again"))
    s3.put_object(Bucket=BUCKET, Key=f"{s3_prefix}/again/o5.txt", Body=body_of(5))
    second = ln.save(ln.Artifact.from_dir(f"s3://{BUCKET}/{s3_prefix}/again"))
    assert [a.id for a in second[:5]] == [a.id for a in first]
    assert second[5].key == f"{s3_prefix}/again/o5.txt" and second[5].id not in {a.id for a in first}
    assert ln.Artifact.filter(key__startswith=f"{s3_prefix}/again/").count() == 6
