from __future__ import annotations

import pytest

from lamella._storage import suffix_of, validate_key
from lamella.errors import InvalidArgument


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("data.parquet", ".parquet"),
        ("dir/sub/data.parquet", ".parquet"),
        ("table.csv.gz", ".csv.gz"),
        ("archive.tar.gz", ".tar.gz"),
        ("archive.tar.bz2", ".tar.bz2"),
        ("reads.R1.fastq.gz", ".fastq.gz"),
        ("image.ome.zarr", ".ome.zarr"),
        ("adata.anndata.zarr", ".anndata.zarr"),
        ("image.ome.tiff", ".ome.tiff"),
        ("plain.tiff", ".tiff"),
        ("store.zarr", ".zarr"),
        ("my.data.zarr", ".zarr"),
        ("v1.2.csv", ".csv"),
        ("results.v1.2.csv", ".csv"),
        ("notes.v1.gz", ".gz"),
        ("genes.gff3.gz", ".gff3.gz"),
        ("report.final.csv.gz", ".csv.gz"),
        ("README", ""),
        (".bashrc", ""),
        ("trailing.", ""),
    ],
)
def test_suffix_of(name: str, expected: str) -> None:
    assert suffix_of(name) == expected


def test_folder_suffix_is_empty_unless_zarr() -> None:
    assert suffix_of("results.v2", folder=True) == ""
    assert suffix_of("results.v2/") == ""
    assert suffix_of("image.ome.zarr/") == ".ome.zarr"
    assert suffix_of("store.zarr", folder=True) == ".zarr"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("/abs/data.parquet", "relative"),
        ("C:/data.parquet", "relative"),
        ("a/../b.parquet", "'..'"),
        ("../b.parquet", "'..'"),
        ("./b.parquet", "'..'"),
        ("a\\b.parquet", "backslash"),
        ("a//b.parquet", "empty path segments"),
        ("folder/", "end with '/'"),
        ("", "non-empty"),
        ("s3://bucket/a.parquet", "URL"),
        ("a\nb.parquet", "control"),
    ],
)
def test_invalid_keys_are_rejected_with_the_key_in_the_message(key: str, problem: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        validate_key(key, data_suffix=None)
    assert repr(key) in str(info.value)
    assert problem in str(info.value)


def test_suffix_mismatch_suggests_the_right_key() -> None:
    with pytest.raises(InvalidArgument, match=r"Use 'x\.parquet'"):
        validate_key("x.csv", data_suffix=".parquet")
    with pytest.raises(InvalidArgument, match=r"Use 'dir/table\.ome\.tiff'"):
        validate_key("dir/table.tiff", data_suffix=".ome.tiff")
    with pytest.raises(InvalidArgument, match=r"Use 'noext\.csv\.gz'"):
        validate_key("noext", data_suffix=".csv.gz")


def test_valid_keys_are_returned_unchanged() -> None:
    assert validate_key("a/b/data.parquet", data_suffix=".parquet") == "a/b/data.parquet"
    assert validate_key("tables/v1.2.csv", data_suffix=".csv") == "tables/v1.2.csv"
    assert validate_key("img.ome.zarr", data_suffix=".ome.zarr") == "img.ome.zarr"
    assert validate_key("anything.csv", data_suffix=None) == "anything.csv"
    # Folders have no suffix, so any clean key works for them.
    assert validate_key("my_folder", data_suffix="") == "my_folder"
    assert validate_key("runs/2024", data_suffix="") == "runs/2024"
