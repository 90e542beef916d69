"""A DataFrame, AnnData or MuData is written once, straight into its place in local storage, and hashed
as it is written: nothing is left in the cache or the staging area, the recorded hash is the stored
bytes' hash, and a save that fails midway leaves no file and no record, and can be retried."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lamella import _storage


def dataframe() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"gene": [f"g{i}" for i in range(2_000)], "value": rng.random(2_000), "count": np.arange(2_000)}
    )


def anndata_object() -> Any:
    import anndata
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    X = sp.random(300, 50, density=0.1, format="csr", dtype=np.float32, random_state=rng)
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(rng.choice(["T", "B"], 300))}, index=[f"c{i}" for i in range(300)]
    )
    return anndata.AnnData(X=X, obs=obs, var=pd.DataFrame(index=[f"g{i}" for i in range(50)]))


def mudata_object() -> Any:
    mudata = pytest.importorskip("mudata")
    return mudata.MuData({"rna": anndata_object(), "atac": anndata_object()})


# (factory, constructor, format, how two loaded objects are compared)
def _same_frame(a: Any, b: Any) -> None:
    pd.testing.assert_frame_equal(a, b)


def _same_anndata(a: Any, b: Any) -> None:
    assert (a.X != b.X).nnz == 0
    pd.testing.assert_frame_equal(a.obs, b.obs)


def _same_mudata(a: Any, b: Any) -> None:
    for name in ("rna", "atac"):
        _same_anndata(a.mod[name], b.mod[name])


CASES = {
    "parquet": (dataframe, "from_dataframe", None, _same_frame),
    "csv": (dataframe, "from_dataframe", "csv", _same_frame),
    "h5ad": (anndata_object, "from_anndata", None, _same_anndata),
    "zarr": (anndata_object, "from_anndata", "zarr", _same_anndata),
    "h5mu": (mudata_object, "from_mudata", None, _same_mudata),
}


def make(ln: ModuleType, case: str, key: str) -> tuple[Any, Any]:
    factory, constructor, format, _ = CASES[case]
    data = factory()
    kwargs = {"format": format} if format is not None else {}
    return data, getattr(ln.Artifact, constructor)(data, key=key, **kwargs)


def stored_hash(path: Path, hash_type: str = "blake3") -> tuple[str, int]:
    """The hash of the stored bytes, read back from disk (not the hash computed while writing)."""
    if path.is_dir():
        digest, size, _ = _storage.hash_folder(path, hash_type)
        return digest, size
    return _storage.hash_file(path, hash_type)


def reference_digest(data: bytes, hash_type: str) -> str:
    """The 22-character hash of `data`, computed with the algorithms' own libraries."""
    import base64
    import hashlib

    import blake3

    digest = hashlib.md5(data).digest() if hash_type == "md5" else blake3.blake3(data).digest(length=16)
    return base64.urlsafe_b64encode(digest).decode()[:22]


@pytest.fixture
def leftovers(ln: ModuleType, storage_root: Path) -> Callable[[], list[str]]:
    """Files in the cache's staging folder and the storage's staging area (none once a save is over)."""

    def list_them() -> list[str]:
        folders = [Path(ln.settings.cache_dir) / "_staging", storage_root / ".lamella" / "_pending"]
        return sorted(str(p) for folder in folders if folder.exists() for p in folder.rglob("*"))

    return list_them


@pytest.fixture
def refuse_artifact_insert(ln: ModuleType) -> Iterator[Callable[[bool], None]]:
    """Makes the database refuse every INSERT into the artifact table while switched on."""
    from sqlalchemy import event

    from lamella._instance import state

    engine = state.current().db.engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
            raise RuntimeError("simulated database failure")

    def switch(on: bool) -> None:
        if on:
            event.listen(engine, "before_cursor_execute", refuse)
        else:
            event.remove(engine, "before_cursor_execute", refuse)

    yield switch
    if event.contains(engine, "before_cursor_execute", refuse):
        switch(False)


@pytest.mark.parametrize("case", list(CASES))
def test_saved_object_lies_in_storage_with_the_hash_of_its_bytes(
    ln: ModuleType, case: str, leftovers: Callable[[], list[str]]
) -> None:
    data, artifact = make(ln, case, f"data/object.{case}")
    hash_before_save = artifact.hash
    artifact.save()

    path = Path(str(artifact.path))
    assert path.parent.name == ".lamella" and path.exists()
    assert stored_hash(path) == (artifact.hash, artifact.size)
    assert hash_before_save == artifact.hash  # hashed as it was written, when the artifact was made
    assert leftovers() == []
    CASES[case][3](ln.Artifact.get(artifact.uid).load(), data)


@pytest.mark.parametrize("case", ["parquet", "csv"])
def test_a_format_written_front_to_back_is_never_read_back(
    ln: ModuleType, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.artifact import write_once

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the written bytes were read again")

    for module, name in (
        (_storage, "copy_and_hash"),
        (_storage, "hash_file"),
        (write_once, "hash_written_file"),
    ):
        monkeypatch.setattr(module, name, never)
    _, artifact = make(ln, case, f"data/streamed.{case}")
    artifact.save()
    monkeypatch.undo()
    assert stored_hash(Path(str(artifact.path))) == (artifact.hash, artifact.size)


def test_a_write_that_fails_midway_leaves_nothing_and_a_new_artifact_saves(
    ln: ModuleType, monkeypatch: pytest.MonkeyPatch, leftovers: Callable[[], list[str]], managed_files: Any
) -> None:
    from lamella._storage.hashed_writes import HashingWriter

    original = HashingWriter.write

    def fail_after_some_bytes(self: HashingWriter, data: Any) -> int:
        if self.tell() > 10_000:
            raise OSError("disk full")
        return original(self, data)

    monkeypatch.setattr(HashingWriter, "write", fail_after_some_bytes)
    frame = dataframe()
    with pytest.raises(OSError, match="disk full"):
        ln.Artifact.from_dataframe(frame, key="data/full.parquet")
    assert leftovers() == [] and managed_files() == []
    assert ln.Artifact.filter().count() == 0

    monkeypatch.undo()
    artifact = ln.Artifact.from_dataframe(frame, key="data/full.parquet").save()
    pd.testing.assert_frame_equal(artifact.load(), frame)


def test_an_hdf5_write_that_fails_midway_leaves_nothing(
    ln: ModuleType, monkeypatch: pytest.MonkeyPatch, leftovers: Callable[[], list[str]], managed_files: Any
) -> None:
    import anndata

    def half_written(self: Any, path: Any, *args: Any, **kwargs: Any) -> None:
        Path(path).write_bytes(b"\x89HDF half")
        raise OSError("disk full")

    monkeypatch.setattr(anndata.AnnData, "write_h5ad", half_written)
    with pytest.raises(OSError, match="disk full"):
        ln.Artifact.from_anndata(anndata_object(), key="data/full.h5ad")
    assert leftovers() == [] and managed_files() == []


@pytest.mark.parametrize("case", ["parquet", "h5ad", "zarr", "h5mu"])
def test_a_failed_insert_leaves_nothing_and_the_same_artifact_saves_on_retry(
    ln: ModuleType,
    case: str,
    refuse_artifact_insert: Callable[[bool], None],
    leftovers: Callable[[], list[str]],
    managed_files: Any,
) -> None:
    data, artifact = make(ln, case, f"data/retried.{case}")
    refuse_artifact_insert(True)
    with pytest.raises(Exception, match="simulated"):
        artifact.save()
    assert leftovers() == [] and managed_files() == []
    assert ln.Artifact.filter().count() == 0

    refuse_artifact_insert(False)
    artifact.save()  # the object is still in memory: written again
    path = Path(str(artifact.path))
    assert stored_hash(path) == (artifact.hash, artifact.size)
    assert leftovers() == []
    CASES[case][3](artifact.load(), data)


def test_a_new_version_of_an_object_is_renamed_not_copied(
    ln: ModuleType, leftovers: Callable[[], list[str]], managed_files: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ln.Artifact.from_dataframe(dataframe(), key="data/versioned.parquet").save()
    changed = dataframe().assign(count=lambda df: df["count"] + 1)
    monkeypatch.setattr(_storage, "copy_and_hash", None)  # any copy would fail
    second = ln.Artifact.from_dataframe(changed, key="data/versioned.parquet").save()
    assert second.uid[:16] == first.uid[:16] and second.uid != first.uid
    assert stored_hash(Path(str(second.path))) == (second.hash, second.size)
    assert sorted(managed_files()) == sorted([f"{first.uid}.parquet", f"{second.uid}.parquet"])
    assert leftovers() == []


def test_the_same_content_saved_again_returns_the_first_record_and_keeps_one_file(
    ln: ModuleType, leftovers: Callable[[], list[str]], managed_files: Any
) -> None:
    first = ln.Artifact.from_dataframe(dataframe(), key="data/a.parquet").save()
    again = ln.Artifact.from_dataframe(dataframe(), key="data/b.parquet").save()
    assert again.uid == first.uid
    assert managed_files() == [f"{first.uid}.parquet"]
    assert leftovers() == []


def test_a_storage_changed_after_construction_gets_a_copy(
    ln: ModuleType, tmp_path: Path, leftovers: Callable[[], list[str]]
) -> None:
    frame = dataframe()
    artifact = ln.Artifact.from_dataframe(frame, key="data/moved.parquet")
    ln.settings.storage = tmp_path / "second"
    artifact.save()
    assert Path(str(artifact.path)).is_relative_to(tmp_path / "second")
    assert stored_hash(Path(str(artifact.path))) == (artifact.hash, artifact.size)
    assert leftovers() == []
    pd.testing.assert_frame_equal(artifact.load(), frame)


def test_load_reads_the_stored_file_itself(ln: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = dataframe()
    artifact = ln.Artifact.from_dataframe(frame, key="data/read.parquet").save()

    def never(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a local artifact was copied into the cache to be read")

    monkeypatch.setattr(_storage, "download_to_cache", never)
    pd.testing.assert_frame_equal(artifact.load(), frame)
    assert artifact.cache() == Path(str(artifact.path))


@pytest.mark.parametrize("hash_type", ["blake3", "md5"])
def test_the_hashing_writer_hashes_what_passes_through_in_order(hash_type: str) -> None:
    import os

    from lamella._storage.hashed_writes import MAX_PENDING_BYTES, HashingWriter

    received = bytearray()
    reused = bytearray(3 * 2**20)  # a caller that refills one buffer: the writer must not keep a view of it
    expected = bytearray()
    sink = type("Sink", (), {"write": lambda self, data: received.extend(data)})()
    with HashingWriter(sink, hash_type) as file:
        total = 0
        for size in [0, 1, 10, 4096, 3 * 2**20, 7, 2**20 + 1] * 8 + [MAX_PENDING_BYTES]:
            block = os.urandom(min(size, 64)) * (size // 64 + 1)
            block = block[:size]
            if size <= len(reused):
                view = memoryview(reused)[:size]
                view[:] = block
                assert file.write(view) == size
            else:
                assert file.write(block) == size
            expected.extend(block)
            total += size
        digest, written = file.finish()
    assert (digest, written) == (reference_digest(bytes(expected), hash_type), total)
    assert received == expected


@pytest.mark.parametrize("hash_type", ["blake3", "md5"])
@pytest.mark.parametrize("size", [0, 1, 3 * 4096 * 16 + 5])
def test_a_written_file_is_hashed_window_by_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, hash_type: str
) -> None:
    import mmap
    import os

    from lamella._storage import hashed_writes

    monkeypatch.setattr(hashed_writes, "MAP_WINDOW", mmap.ALLOCATIONGRANULARITY)  # many windows
    data = os.urandom(size)
    path = tmp_path / "written.bin"
    path.write_bytes(data)
    assert hashed_writes.hash_written_file(path, hash_type) == (reference_digest(data, hash_type), size)
