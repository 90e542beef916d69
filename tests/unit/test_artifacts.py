"""Artifacts in local storage: files, folders, DataFrames, AnnData; hashing, keys, load/open/cache, lineage,
deletion, and saves that fail halfway."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import blake3
import pandas as pd
import pytest

from lamella.errors import InvalidArgument


def content_hash(data: bytes) -> str:
    """A new instance's hash of `data`: BLAKE3's 16-byte output in url-safe base64."""
    return base64.urlsafe_b64encode(blake3.blake3(data).digest(length=16)).decode()[:22]


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


@pytest.fixture
def frame() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "gene_a": [1.5, 2.5, 3.5],
            "gene_b": [10, 20, 30],
            "perturbation": pd.Categorical(["DMSO", "IFNG", "DMSO"]),
        },
        index=pd.Index(["sample1", "sample2", "sample3"], name="sample"),
    )
    return df


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    for i in range(3):
        write(root / f"img-{i}.jpg", bytes([i]) * (100 + i))
    write(root / "nested" / "meta.csv", "file,species\nimg-0.jpg,setosa\n")
    return root


# ---- files ------------------------------------------------------------------------------------------


def test_artifact_from_a_file(ln: ModuleType, tmp_path: Path, storage_root: Path) -> None:
    data = b"ACGT" * 1000
    source = write(tmp_path / "reads.fastq", data)
    artifact = ln.Artifact(source, key="raw/reads.fastq").save()
    assert artifact.id is not None
    assert len(artifact.uid) == 20 and artifact.uid.endswith("0000")
    assert artifact.key == "raw/reads.fastq"
    assert artifact.suffix == ".fastq"
    assert artifact.size == len(data)
    assert artifact.hash == content_hash(data)
    assert len(artifact.hash) == 22
    assert artifact._hash_type == "blake3"
    assert artifact.n_files is None
    assert artifact.kind is None and artifact.otype is None
    assert artifact.is_latest is True
    assert artifact.storage.root == str(storage_root)
    stored = Path(str(artifact.path))
    assert stored == storage_root / ".lamella" / f"{artifact.uid}.fastq"
    assert stored.read_bytes() == data
    assert source.read_bytes() == data  # the original is untouched
    assert artifact.created_by.handle == ln.setup.settings.user.handle
    assert artifact.run is None and artifact.transform is None
    assert ln.Artifact.get(key="raw/reads.fastq") == artifact


def test_saved_fields_are_in_the_database(
    ln: ModuleType, tmp_path: Path, frame: pd.DataFrame, forget_connection: Callable[[], None]
) -> None:
    artifact = ln.Artifact.from_dataframe(frame, key="tables/t.parquet", description="persisted").save()
    fields = ("uid", "key", "description", "suffix", "kind", "otype", "size", "hash", "n_observations",
              "is_latest", "storage_id", "created_by_id")  # fmt: skip
    expected = {field: getattr(artifact, field) for field in fields}
    path = str(artifact.path)
    forget_connection()  # as a new process would
    ln.setup.connect("data")
    fresh = ln.Artifact.get(expected["uid"])
    assert fresh is not artifact
    assert {field: getattr(fresh, field) for field in fields} == expected
    assert str(fresh.path) == path
    pd.testing.assert_frame_equal(fresh.load(), frame)


def test_artifact_from_a_string_path_and_an_empty_file(ln: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "empty.txt", b"")
    artifact = ln.Artifact(str(source), description="nothing in it").save()
    assert artifact.size == 0
    assert artifact.hash == content_hash(b"")
    assert artifact.key is None
    assert artifact.description == "nothing in it"
    assert Path(str(artifact.path)).read_bytes() == b""


def test_a_description_is_enough(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "x.txt", "x"), description="just a description").save()
    assert artifact.key is None
    assert ln.Artifact.get(description="just a description") == artifact


def test_no_key_no_description_no_run(ln: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="key"):
        ln.Artifact(write(tmp_path / "x.txt", "x"))


def test_missing_path(ln: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.txt"):
        ln.Artifact(tmp_path / "missing.txt", key="missing.txt")
    with pytest.raises(FileNotFoundError):
        ln.Artifact("does/not/exist.txt", key="x.txt")


@pytest.mark.parametrize(
    "key",
    ["/absolute/x.txt", "../up/x.txt", "a/../x.txt", "a/./x.txt", "windows\\path\\x.txt", "x.csv", "x", ""],
)
def test_invalid_keys(
    ln: ModuleType, tmp_path: Path, key: str, managed_files: Callable[[], list[str]]
) -> None:
    source = write(tmp_path / "x.txt", "x")
    with pytest.raises(InvalidArgument) as info:
        ln.Artifact(source, key=key)
    assert repr(key) in str(info.value) or key in str(info.value)
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []


def test_key_suffix_must_match_compound_suffix(ln: ModuleType, tmp_path: Path) -> None:
    source = write(tmp_path / "table.csv.gz", b"\x1f\x8b")
    artifact = ln.Artifact(source, key="tables/table.csv.gz").save()
    assert artifact.suffix == ".csv.gz"
    with pytest.raises(InvalidArgument, match=r"\.csv\.gz"):
        ln.Artifact(source, key="tables/table.gz")


def test_unknown_artifact_kind(ln: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="'table'"):
        ln.Artifact(write(tmp_path / "x.txt", "x"), key="x.txt", kind="table")
    model = ln.Artifact(write(tmp_path / "m.pt", "weights"), key="models/m.pt", kind="model").save()
    assert model.kind == "model"


def test_same_content_returns_the_existing_artifact(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    first = ln.Artifact(write(tmp_path / "a.txt", "same bytes"), key="a.txt").save()
    files = managed_files()
    assert files == [f"{first.uid}.txt"]
    again = ln.Artifact(write(tmp_path / "copy" / "b.txt", "same bytes"), key="b.txt").save()
    assert again.id == first.id and again.uid == first.uid
    assert again.key == "a.txt"
    assert managed_files() == files  # no second copy
    assert ln.Artifact.filter().count() == 1


def test_same_content_with_another_suffix_is_another_artifact(ln: ModuleType, tmp_path: Path) -> None:
    first = ln.Artifact(write(tmp_path / "a.txt", "same"), key="a.txt").save()
    second = ln.Artifact(write(tmp_path / "a.csv", "same"), key="a.csv").save()
    assert first.id != second.id
    assert first.hash == second.hash


def test_path_inside_the_storage_is_registered_in_place(
    ln: ModuleType, storage_root: Path, managed_files: Callable[[], list[str]]
) -> None:
    inside = write(storage_root / "raw" / "run1" / "reads.txt", "in place")
    artifact = ln.Artifact(inside, description="already there").save()
    assert artifact.key == "raw/run1/reads.txt"
    assert Path(str(artifact.path)) == inside
    assert artifact.storage.root == str(storage_root)
    assert artifact.hash == content_hash(b"in place")
    assert artifact.size == len(b"in place")
    assert managed_files() == []  # not copied
    assert artifact.load() == "in place"
    with pytest.raises(InvalidArgument, match=r"raw/run1/reads\.txt"):
        ln.Artifact(inside, key="elsewhere/reads.txt")
    assert ln.Artifact(inside, key="raw/run1/reads.txt").save() == artifact


def test_managed_files_cannot_be_registered(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    with pytest.raises(InvalidArgument):
        ln.Artifact(Path(str(artifact.path)), description="the stored copy")


def test_update_the_description(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt", description="old").save()
    uid, stored = artifact.uid, Path(str(artifact.path))
    artifact.description = "new"
    assert artifact.save() is artifact
    assert ln.Artifact.filter(uid=uid).to_list("description") == ["new"]  # read back from the database
    again = ln.Artifact.get(uid)
    assert again.description == "new"
    assert again.uid == uid and Path(str(again.path)) == stored
    assert ln.Artifact.filter(branch_id=None).count() == 1


def test_describe(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ln.track(ln.Transform(key="my pipeline", kind="pipeline"))
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="docs/a.txt", description="described").save()
    artifact.ulabels.add(ln.ULabel(name="important").save())
    capsys.readouterr()
    artifact.describe()
    out = capsys.readouterr().out
    for expected in (artifact.uid, "docs/a.txt", "described", str(artifact.path), "my pipeline",
                     ln.context.run.uid, "important"):  # fmt: skip
        assert expected in out, expected


def test_describe_without_a_run(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    capsys.readouterr()
    artifact.describe()
    out = capsys.readouterr().out
    assert artifact.uid in out and "a.txt" in out and "no run" in out


# ---- folders ----------------------------------------------------------------------------------------


def test_artifact_from_a_folder(ln: ModuleType, folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    artifact = ln.Artifact(folder, key="studies/images").save()
    assert artifact.n_files == 4
    assert artifact.suffix == ""
    assert artifact.size == sum(p.stat().st_size for p in files)
    assert artifact.hash == content_hash(
        "".join(sorted(content_hash(p.read_bytes()) for p in files)).encode()
    )
    assert artifact._hash_type == "blake3-d"
    stored = Path(str(artifact.path))
    assert stored.is_dir()
    assert sorted(p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file()) == sorted(
        p.relative_to(folder).as_posix() for p in files
    )


def test_folder_cache_has_the_same_files(ln: ModuleType, folder: Path) -> None:
    artifact = ln.Artifact(folder, key="studies/images").save()
    cached = Path(str(artifact.cache()))
    assert cached.is_dir()
    for path in folder.rglob("*"):
        if path.is_file():
            assert (cached / path.relative_to(folder)).read_bytes() == path.read_bytes()
    assert len([p for p in cached.rglob("*") if p.is_file()]) == 4


def test_same_folder_twice_returns_the_existing_artifact(
    ln: ModuleType, folder: Path, managed_files: Callable[[], list[str]]
) -> None:
    first = ln.Artifact(folder, key="studies/images").save()
    files = managed_files()
    again = ln.Artifact(folder, key="studies/images").save()
    assert again.id == first.id
    assert managed_files() == files


def test_load_of_a_folder_points_to_cache(ln: ModuleType, folder: Path) -> None:
    artifact = ln.Artifact(folder, key="studies/images").save()
    with pytest.raises(InvalidArgument, match=r"cache\(\)"):
        artifact.load()


def test_from_dir_makes_one_artifact_per_file(ln: ModuleType, folder: Path) -> None:
    artifacts = ln.Artifact.from_dir(folder, key="images")
    assert sorted(a.key for a in artifacts) == [
        "images/img-0.jpg",
        "images/img-1.jpg",
        "images/img-2.jpg",
        "images/nested/meta.csv",
    ]
    assert all(a.id is None for a in artifacts)
    ln.save(artifacts)
    assert ln.Artifact.filter(key__startswith="images/").count() == 4
    meta = ln.Artifact.get(key="images/nested/meta.csv")
    assert meta.hash == content_hash((folder / "nested" / "meta.csv").read_bytes())


def test_from_dir_default_key_and_errors(ln: ModuleType, folder: Path, tmp_path: Path) -> None:
    artifacts = ln.Artifact.from_dir(folder)
    assert all(a.key.startswith("images/") for a in artifacts)
    with pytest.raises(FileNotFoundError):
        ln.Artifact.from_dir(tmp_path / "nope")
    with pytest.raises(InvalidArgument):
        ln.Artifact.from_dir(folder / "img-0.jpg")


def test_from_dir_lists_the_folder_once_and_asks_nothing_per_file(
    ln: ModuleType, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lamella.models.artifact import source

    def per_file(*args: Any) -> Any:
        raise AssertionError(f"a file was looked at on its own: {args}")

    monkeypatch.setattr(source, "_path_source", per_file)
    artifacts = ln.Artifact.from_dir(folder, key="images")
    assert [a.size for a in artifacts] == [
        (folder / a.key.removeprefix("images/")).stat().st_size for a in artifacts
    ]
    assert [a.key for a in ln.save(artifacts)] == [a.key for a in artifacts]


def test_from_dir_inside_the_storage_registers_in_place_under_the_keys_there(
    ln: ModuleType, storage_root: Path, managed_files: Callable[[], list[str]]
) -> None:
    folder = storage_root / "raw" / "run1"
    for rel in ("a.txt", "sub/b.txt"):
        write(folder / rel, f"bytes of {rel}")
    artifacts = ln.Artifact.from_dir(folder)
    assert [a.key for a in artifacts] == ["raw/run1/a.txt", "raw/run1/sub/b.txt"]
    assert ln.Artifact.from_dir(folder, key="raw/run1/")[1].key == "raw/run1/sub/b.txt"  # the same key
    with pytest.raises(InvalidArgument, match=r"under key 'raw/run1'.*drop key='elsewhere'"):
        ln.Artifact.from_dir(folder, key="elsewhere")
    saved = ln.save(artifacts)
    assert [a._key_is_virtual for a in saved] == [False, False]
    assert [a.hash for a in saved] == [content_hash(f"bytes of {r}".encode()) for r in ("a.txt", "sub/b.txt")]
    assert ln.Artifact.get(key="raw/run1/sub/b.txt").load() == "bytes of sub/b.txt"
    assert managed_files() == []  # nothing copied


def test_from_dir_of_an_empty_folder_is_an_empty_list(ln: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert ln.Artifact.from_dir(tmp_path / "empty") == []
    assert ln.save([]) == []


# ---- DataFrames and AnnData -------------------------------------------------------------------------


def test_from_dataframe(ln: ModuleType, frame: pd.DataFrame) -> None:
    artifact = ln.Artifact.from_dataframe(frame, key="tables/counts.parquet", description="counts").save()
    assert artifact.suffix == ".parquet"
    assert artifact.kind == "dataset"
    assert artifact.otype == "DataFrame"
    assert artifact.n_observations == 3
    assert artifact.size == Path(str(artifact.path)).stat().st_size
    assert artifact.hash == content_hash(Path(str(artifact.path)).read_bytes())
    pd.testing.assert_frame_equal(artifact.load(), frame)
    pd.testing.assert_frame_equal(ln.Artifact.get(artifact.uid).load(), frame)


def test_from_dataframe_leaves_no_staging_files(ln: ModuleType, frame: pd.DataFrame) -> None:
    ln.Artifact.from_dataframe(frame, key="tables/counts.parquet").save()
    staging = ln.settings.cache_dir / "_staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_from_df_is_the_old_spelling(ln: ModuleType, frame: pd.DataFrame) -> None:
    artifact = ln.Artifact.from_df(frame, key="tables/old.parquet").save()
    assert artifact.otype == "DataFrame"
    pd.testing.assert_frame_equal(artifact.load(), frame)


def test_from_dataframe_as_csv(ln: ModuleType, frame: pd.DataFrame) -> None:
    artifact = ln.Artifact.from_dataframe(
        frame[["gene_a", "gene_b"]], key="tables/t.csv", format="csv"
    ).save()
    assert artifact.suffix == ".csv"
    loaded = artifact.load()
    assert list(loaded["gene_b"]) == [10, 20, 30]


def test_from_dataframe_rejects_other_types(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="list"):
        ln.Artifact.from_dataframe([1, 2, 3], key="x.parquet")


def test_from_dataframe_writes_the_format_its_key_names(ln: ModuleType, frame: pd.DataFrame) -> None:
    # as in LaminDB: key="x.csv" writes csv, key="x.tsv" tsv; a key without a suffix stays parquet
    artifact = ln.Artifact.from_dataframe(frame[["gene_a", "gene_b"]], key="tables/counts.csv").save()
    assert artifact.suffix == ".csv" and artifact.path.read_text().splitlines()[0] == "sample,gene_a,gene_b"
    assert list(artifact.load()["gene_b"]) == [10, 20, 30]
    tsv = ln.Artifact.from_dataframe(frame[["gene_a", "gene_b"]], key="tables/counts.tsv").save()
    assert tsv.suffix == ".tsv" and tsv.path.read_text().splitlines()[0] == "sample\tgene_a\tgene_b"
    assert ln.Artifact.from_dataframe(frame, description="no key").save().suffix == ".parquet"
    # an explicit format still decides, and the key must then match it
    with pytest.raises(InvalidArgument, match=r"Use 'tables/other\.parquet'"):
        ln.Artifact.from_dataframe(frame, key="tables/other.csv", format="parquet")


def test_from_dataframe_key_suffix_must_be_a_dataframe_format(ln: ModuleType, frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match=r"\.parquet"):
        ln.Artifact.from_dataframe(frame, key="tables/counts.txt")


def test_open_parquet(ln: ModuleType, frame: pd.DataFrame) -> None:
    artifact = ln.Artifact.from_dataframe(frame, key="tables/counts.parquet").save()
    dataset = artifact.open()
    assert dataset.count_rows() == 3
    assert "gene_a" in dataset.schema.names
    assert dataset.to_table().column("gene_b").to_pylist() == [10, 20, 30]


def test_load_csv_file_as_dataframe(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(
        write(tmp_path / "meta.csv", "file,species\na.jpg,setosa\n"), key="meta.csv"
    ).save()
    loaded = artifact.load()
    assert loaded.shape == (1, 2)
    assert loaded["species"].tolist() == ["setosa"]


def test_load_of_an_unknown_suffix_mentions_cache(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "blob.bin", b"\x00\x01"), key="blob.bin").save()
    with pytest.raises(InvalidArgument, match=r"cache\(\)"):
        artifact.load()
    assert Path(str(artifact.cache())).read_bytes() == b"\x00\x01"


def test_cache_of_a_local_file_is_its_stored_path(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "abc"), key="a.txt").save()
    cached = Path(str(artifact.cache()))
    assert cached.read_text() == "abc"


def _anndata() -> Any:
    import anndata as ad
    import numpy as np

    obs = pd.DataFrame({"cell_type": pd.Categorical(["T", "B", "T"])}, index=["c1", "c2", "c3"])
    var = pd.DataFrame(index=["g1", "g2"])
    return ad.AnnData(X=np.arange(6, dtype="float32").reshape(3, 2), obs=obs, var=var)


def _assert_same_anndata(left: Any, right: Any) -> None:
    import numpy as np

    assert left.shape == right.shape
    np.testing.assert_array_equal(np.asarray(left.X), np.asarray(right.X))
    pd.testing.assert_frame_equal(left.obs, right.obs)
    assert list(left.var_names) == list(right.var_names)


def test_from_anndata_h5ad(ln: ModuleType) -> None:
    adata = _anndata()
    artifact = ln.Artifact.from_anndata(adata, key="scrna/pbmc.h5ad").save()
    assert artifact.suffix == ".h5ad"
    assert artifact.otype == "AnnData" and artifact.kind == "dataset"
    assert artifact.n_observations == 3
    assert artifact.hash == content_hash(Path(str(artifact.path)).read_bytes())
    _assert_same_anndata(artifact.load(), adata)
    backed = artifact.open()
    assert backed.shape == (3, 2)


def test_from_anndata_zarr(ln: ModuleType) -> None:
    adata = _anndata()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zarr's v2/v3 notices are not Lamella's
        artifact = ln.Artifact.from_anndata(adata, key="scrna/pbmc.zarr", format="zarr").save()
        loaded = artifact.load()
    assert artifact.suffix == ".zarr"
    assert artifact.otype == "AnnData"
    assert artifact.n_observations == 3
    assert artifact.n_files is not None and artifact.n_files > 1
    stored = Path(str(artifact.path))
    assert stored.is_dir()
    files = sorted(p for p in stored.rglob("*") if p.is_file())
    assert artifact.n_files == len(files)
    assert artifact.hash == content_hash(
        "".join(sorted(content_hash(p.read_bytes()) for p in files)).encode()
    )
    _assert_same_anndata(loaded, adata)
    # the key's suffix alone names the format too, as in LaminDB
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        by_key = ln.Artifact.from_anndata(adata[:2].copy(), key="scrna/first2.zarr").save()
    assert by_key.suffix == ".zarr" and Path(str(by_key.path)).is_dir()


def test_from_anndata_rejects_other_types(ln: ModuleType, frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidArgument, match="DataFrame"):
        ln.Artifact.from_anndata(frame, key="x.h5ad")


# ---- lineage ----------------------------------------------------------------------------------------


def test_track_links_artifacts_to_the_run_and_transform(ln: ModuleType, tmp_path: Path) -> None:
    transform = ln.Transform(key="my pipeline", kind="pipeline")
    run = ln.track(transform, params={"learning_rate": 0.01})
    assert ln.context.run == run and ln.context.transform == transform
    assert run.transform == transform and run.status == "started" and run.finished_at is None
    assert run.params == {"learning_rate": 0.01}
    artifact = ln.Artifact(write(tmp_path / "out.txt", "out"), key="out.txt").save()
    assert artifact.run == run
    assert artifact.transform == transform
    assert ln.Artifact.filter(run=run).one() == artifact
    assert ln.Artifact.filter(transform__key="my pipeline").one() == artifact
    label = ln.ULabel(name="made in the run").save()
    assert label.run == run
    ln.finish()
    finished = ln.Run.get(run.uid)
    assert finished.finished_at is not None
    assert finished.status == "completed"


def test_track_allows_an_artifact_without_key_or_description(ln: ModuleType, tmp_path: Path) -> None:
    ln.track(ln.Transform(key="my pipeline", kind="pipeline"))
    artifact = ln.Artifact(write(tmp_path / "anon.txt", "anon")).save()
    assert artifact.key is None and artifact.run == ln.context.run


def test_track_the_calling_script(ln: ModuleType) -> None:
    run = ln.track()
    assert run.transform.key == Path(__file__).name
    assert run.transform.kind == "script"
    assert "def test_track_the_calling_script" in run.transform.source_code
    again = ln.track()  # same source: same transform, a new run
    assert again.transform == run.transform and again != run
    assert run.transform.runs.count() == 2


def test_loading_in_a_run_records_an_input(ln: ModuleType, tmp_path: Path) -> None:
    earlier = ln.Artifact(write(tmp_path / "in.txt", "input"), key="in.txt").save()
    skipped = ln.Artifact(write(tmp_path / "skip.txt", "skip"), key="skip.txt").save()
    run = ln.track(ln.Transform(key="my pipeline", kind="pipeline"))
    assert earlier.load() == "input"
    earlier.cache()  # once is enough
    assert run.input_artifacts.all().one() == earlier
    assert earlier.input_of_runs.all().one() == run
    produced = ln.Artifact(write(tmp_path / "out.txt", "output"), key="out.txt").save()
    produced.cache()  # reading back what the run made is not an input
    skipped.load(is_run_input=False)
    with ln.settings.override(track_run_inputs=False):
        skipped.cache()
    assert run.input_artifacts.to_list("key") == ["in.txt"]


def test_explicit_run(ln: ModuleType, tmp_path: Path) -> None:
    transform = ln.Transform(key="manual").save()
    run = ln.Run(transform).save()
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt", run=run).save()
    assert artifact.run == run and artifact.transform == transform


def test_finish_without_track(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="track"):
        ln.finish()


# ---- trash and deletion -----------------------------------------------------------------------------


def test_trash_restore_and_permanent_delete(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    source = write(tmp_path / "meta.csv", "file,species\na,b\n")
    artifact = ln.Artifact(source, key="iris/meta.csv").save()
    stored = Path(str(artifact.path))
    artifact.delete()
    assert ln.Artifact.filter(key="iris/meta.csv").count() == 0
    assert ln.Artifact.filter(key="iris/meta.csv", branch_id=-1).count() == 1
    assert ln.Artifact.filter(key="iris/meta.csv", branch_id=None).count() == 1
    assert stored.exists()  # the trash keeps the bytes
    artifact.restore()
    assert ln.Artifact.filter(key="iris/meta.csv").one() == artifact
    artifact.delete(permanent=True)
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert not stored.exists()
    assert managed_files() == []
    assert source.read_text() == "file,species\na,b\n"  # the user's file is untouched


def test_permanent_delete_of_a_folder(
    ln: ModuleType, folder: Path, managed_files: Callable[[], list[str]]
) -> None:
    artifact = ln.Artifact(folder, key="studies/images").save()
    artifact.delete(permanent=True)
    assert managed_files() == []
    assert len([p for p in folder.rglob("*") if p.is_file()]) == 4


def test_delete_from_the_trash_removes_the_bytes(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    artifact.delete()
    artifact.delete()
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []


def test_delete_keeping_the_bytes(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    stored = Path(str(artifact.path))
    artifact.delete(permanent=True, storage=False)
    assert stored.exists()
    assert ln.Artifact.filter(branch_id=None).count() == 0


def test_same_content_after_trash_is_a_new_artifact(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    source = write(tmp_path / "a.txt", "a")
    first = ln.Artifact(source, key="a.txt").save()
    first.delete()
    second = ln.Artifact(source, key="a.txt").save()
    assert second.id != first.id
    assert Path(str(second.path)).read_text() == "a"


def test_unsaved_artifact_cannot_be_loaded_or_deleted(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt")
    for action in (artifact.load, artifact.cache, artifact.open, artifact.delete, artifact.restore):
        with pytest.raises(InvalidArgument, match="save"):
            action()


def test_missing_bytes_are_a_storage_error(ln: ModuleType, tmp_path: Path) -> None:
    artifact = ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    Path(str(artifact.path)).unlink()
    with pytest.raises(ln.errors.StorageError, match=artifact.uid):
        artifact.cache()


# ---- saves that fail --------------------------------------------------------------------------------


@pytest.fixture
def failing_artifact_insert(ln: ModuleType) -> Any:
    """Makes the database refuse every INSERT into the artifact table."""
    from sqlalchemy import event

    from lamella._instance import state

    engine = state.current().db.engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
            raise RuntimeError("simulated database failure")

    event.listen(engine, "before_cursor_execute", refuse)
    yield
    event.remove(engine, "before_cursor_execute", refuse)


def test_failed_insert_leaves_no_record_and_no_file(
    ln: ModuleType, tmp_path: Path, failing_artifact_insert: None, managed_files: Callable[[], list[str]]
) -> None:
    source = write(tmp_path / "a.txt", "will fail")
    with pytest.raises(Exception):  # noqa: B017 (which error surfaces: see test_registries)
        ln.Artifact(source, key="a.txt").save()
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []
    assert source.read_text() == "will fail"


def test_failed_insert_of_a_folder_leaves_nothing(
    ln: ModuleType, folder: Path, failing_artifact_insert: None, managed_files: Callable[[], list[str]]
) -> None:
    with pytest.raises(Exception):  # noqa: B017 (which error surfaces: see test_registries)
        ln.Artifact(folder, key="studies/images").save()
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []


def test_failed_insert_of_a_dataframe_leaves_nothing(
    ln: ModuleType, frame: pd.DataFrame, failing_artifact_insert: None, managed_files: Callable[[], list[str]]
) -> None:
    with pytest.raises(Exception):  # noqa: B017 (which error surfaces: see test_registries)
        ln.Artifact.from_dataframe(frame, key="t.parquet").save()
    assert managed_files() == []
    staging = ln.settings.cache_dir / "_staging"
    assert not staging.exists() or list(staging.iterdir()) == []


def test_failed_insert_of_a_new_version_leaves_the_old_one_intact(
    ln: ModuleType, tmp_path: Path, managed_files: Callable[[], list[str]]
) -> None:
    from sqlalchemy import event

    from lamella._instance import state

    source = write(tmp_path / "a.txt", "v1")
    v1 = ln.Artifact(source, key="a.txt").save()
    before = managed_files()
    engine = state.current().db.engine

    def refuse(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
            raise RuntimeError("simulated database failure")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        write(source, "v2")
        with pytest.raises(Exception):  # noqa: B017 (which error surfaces: see test_registries)
            ln.Artifact(source, key="a.txt").save()
    finally:
        event.remove(engine, "before_cursor_execute", refuse)
    assert managed_files() == before
    assert ln.Artifact.filter(branch_id=None).count() == 1
    assert ln.Artifact.get(key="a.txt") == v1
    assert ln.Artifact.get(v1.uid).is_latest is True
    assert Path(str(v1.path)).read_text() == "v1"
    # and the next attempt works
    v2 = ln.Artifact(source, key="a.txt").save()
    assert v2.uid.endswith("0001") and v2.is_latest


def test_failed_copy_leaves_no_record_and_no_file(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, managed_files: Callable[[], list[str]]
) -> None:
    from lamella import _storage

    real_copy = _storage.copy_and_hash

    def copy_then_fail(source: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
        real_copy(source, target, *args, **kwargs)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(_storage, "copy_and_hash", copy_then_fail)
    with pytest.raises(OSError, match="disk full"):
        ln.Artifact(write(tmp_path / "a.txt", "a"), key="a.txt").save()
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []


def test_interrupted_save_is_cleaned_up_on_the_next_connection(
    ln: ModuleType,
    tmp_path: Path,
    home: Path,
    managed_files: Callable[[], list[str]],
    forget_connection: Callable[[], None],
) -> None:
    source = write(tmp_path / "a.txt", "interrupted")
    code = f"""
import os
import lamella as ln
from sqlalchemy import event
from lamella._instance import state

ln.setup.connect("data")

def die(conn, cursor, statement, *args):
    if statement.lstrip().upper().startswith("INSERT INTO ARTIFACT"):
        os._exit(9)  # killed between storing the bytes and committing the record

event.listen(state.current().db.engine, "before_cursor_execute", die)
ln.Artifact({str(source)!r}, key="a.txt").save()
"""
    env = {**os.environ, "LAMELLA_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 9, result.stderr
    assert managed_files() != []  # the dead process left its bytes behind
    forget_connection()
    ln.setup.connect("data")  # the next process to connect cleans up
    assert ln.Artifact.filter(branch_id=None).count() == 0
    assert managed_files() == []
    assert ln.Artifact(source, key="a.txt").save().key == "a.txt"


def test_bulk_save_returns_the_existing_record_for_a_duplicate_and_saves_each_new_one_once(
    ln: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one.txt").write_text("one")
    (tmp_path / "two.txt").write_text("two")
    (tmp_path / "again.txt").write_text("existing")
    (tmp_path / "existing.txt").write_text("existing")
    existing = ln.Artifact(str(tmp_path / "existing.txt"), key="bulk/existing.txt").save()
    batch = [
        ln.Artifact(str(tmp_path / "one.txt"), key="bulk/one.txt"),
        ln.Artifact(str(tmp_path / "two.txt"), key="bulk/two.txt"),
        ln.Artifact(str(tmp_path / "again.txt"), key="bulk/again.txt"),
    ]
    updates: list[str] = []
    from lamella.models.core.record import SQLRecord

    original = SQLRecord.save

    def counting_save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        updates.append(self.uid)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SQLRecord, "save", counting_save)
    saved = ln.save(batch)
    assert [a.key for a in saved] == ["bulk/one.txt", "bulk/two.txt", "bulk/existing.txt"]
    assert saved[2] == existing and saved[2].id == existing.id
    assert updates == []  # new artifacts are inserted once, not saved again afterwards


def test_an_artifact_saved_as_an_existing_one_is_that_record_in_the_users_variable(ln: ModuleType) -> None:
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2, 3]})
    first = ln.Artifact.from_dataframe(df, key="same/content.parquet").save()
    again = ln.Artifact.from_dataframe(df, key="same/content.parquet")
    returned = again.save()
    assert returned == first
    assert again.id == first.id and again.uid == first.uid and again.hash == first.hash
    pd.testing.assert_frame_equal(again.load(), df)
    assert again.storage.root == first.storage.root  # to-one relations read like the saved record's
    again.description = "changed through the second variable"
    again.save()
    assert ln.Artifact.get(first.uid).description == "changed through the second variable"
    assert ln.Artifact.filter(key="same/content.parquet").count() == 1


def test_text_like_files_open_as_file_handles(ln: ModuleType, tmp_path: Path) -> None:
    import gzip

    fasta = tmp_path / "genome.fasta"
    fasta.write_text(">chr1\nACGT\n")
    reads = tmp_path / "reads.fastq.gz"
    with gzip.open(reads, "wt") as handle:
        handle.write("@r1\nACGT\n+\nIIII\n")
    with ln.Artifact(fasta, key="seq/genome.fasta").save().open() as f:
        assert f.read() == ">chr1\nACGT\n"
    assert f.closed
    with ln.Artifact(reads, key="seq/reads.fastq.gz").save().open() as f:
        assert f.readline() == "@r1\n"  # decompressed, as text
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    artifact = ln.Artifact(notes, key="notes.txt").save()
    with artifact.open(mode="rb") as f:
        assert f.read() == b"hello"
    with pytest.raises(InvalidArgument, match="mode='r'"):
        artifact.open(mode="w")


def test_a_bulk_save_finds_duplicates_and_versions_in_the_database_and_within_the_batch(
    ln: ModuleType, tmp_path: Path
) -> None:
    def file(name: str, content: str) -> Path:
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(content)
        return path

    old = ln.Artifact(file("old.txt", "old content"), key="batch/old.txt").save()
    versioned = ln.Artifact(file("v1.txt", "first"), key="batch/versioned.txt").save()
    batch = [
        ln.Artifact(file("new.txt", "new content"), key="batch/new.txt"),
        ln.Artifact(file("copy.txt", "old content"), key="batch/copy.txt"),  # content saved before
        ln.Artifact(file("v2.txt", "second"), key="batch/versioned.txt"),  # a key saved before
        ln.Artifact(file("a.txt", "same in batch"), key="batch/a.txt"),
        ln.Artifact(file("b.txt", "same in batch"), key="batch/b.txt"),  # content of the one before
        ln.Artifact(file("k1.txt", "key one"), key="batch/twice.txt"),
        ln.Artifact(file("k2.txt", "key two"), key="batch/twice.txt"),  # key of the one before
    ]
    saved = ln.save(batch)
    assert saved[1] == old
    assert saved[2].stem_uid == versioned.stem_uid and saved[2].is_latest
    assert not ln.Artifact.get(versioned.uid).is_latest
    assert saved[4] == saved[3]
    assert saved[6].stem_uid == saved[5].stem_uid and saved[6].uid.endswith("0001")
    assert ln.Artifact.get(key="batch/twice.txt").load() == "key two"
    assert ln.Artifact.filter(key__startswith="batch/").count() == 7  # two duplicates, no new records
    assert ln.Artifact.filter(key__startswith="batch/", is_latest=True).count() == 5
