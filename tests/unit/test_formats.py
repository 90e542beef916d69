"""The format registry: round trips per format, streaming access, registration, import cost."""

from __future__ import annotations

import ast
import inspect
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import anndata
import fsspec
import numpy as np
import pandas as pd
import pytest
import upath
from scipy import sparse

from lamella import _formats
from lamella._formats import registry
from lamella.errors import InvalidArgument, StorageError


def _mixed_frame() -> Any:
    return pd.DataFrame(
        {
            "perturbation": pd.Categorical(["DMSO", "IFNG", "DMSO"], categories=["DMSO", "IFNG", "other"]),
            "note": ["was ok", None, "pretty! 🤩"],
            "count": [1, 2, 3],
            "value": [0.5, np.nan, 2.25],
        },
        index=pd.Index(["sample1", "sample2", "sample3"], name="sample"),
    )


def _small_anndata() -> Any:
    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(["T cell", "B cell", "T cell", "NK cell"]), "n_genes": [3, 1, 2, 4]},
        index=pd.Index([f"cell{i}" for i in range(4)]),
    )
    var = pd.DataFrame({"symbol": ["CD8A", "CD4", "CD14"]}, index=pd.Index(["g1", "g2", "g3"]))
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    return anndata.AnnData(X=x, obs=obs, var=var, uns={"note": "tiny"})


def _assert_same_anndata(left: Any, right: Any) -> None:
    np.testing.assert_array_equal(np.asarray(left.X), np.asarray(right.X))
    pd.testing.assert_frame_equal(left.obs, right.obs)
    pd.testing.assert_frame_equal(left.var, right.var)


# ---- DataFrame ---------------------------------------------------------------------------------


def test_parquet_round_trip_keeps_index_categoricals_and_dtypes(tmp_path: Path) -> None:
    df = _mixed_frame()
    written = _formats.serialize(df, tmp_path, "table")
    assert written == _formats.SerializedData(
        path=tmp_path / "table.parquet", suffix=".parquet", otype="DataFrame", n_observations=3
    )
    loaded = _formats.load(written.path, written.suffix)
    pd.testing.assert_frame_equal(loaded, df)
    assert list(loaded["perturbation"].cat.categories) == ["DMSO", "IFNG", "other"]


def test_parquet_round_trip_with_range_index(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    written = _formats.serialize(df, tmp_path, "plain", format="parquet")
    pd.testing.assert_frame_equal(_formats.load(written.path, ".parquet"), df)


def test_parquet_rejects_non_string_columns(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="string column names"):
        _formats.serialize(pd.DataFrame({0: [1]}), tmp_path, "numbers")


@pytest.mark.parametrize(("format", "suffix"), [("csv", ".csv"), ("tsv", ".tsv")])
def test_delimited_round_trip(tmp_path: Path, format: str, suffix: str) -> None:
    df = pd.DataFrame({"gene": ["CD8A", "CD4"], "count": [3, 4], "score": [0.5, 1.5]})
    written = _formats.serialize(df, tmp_path, "table", format=format)
    assert written.path == tmp_path / f"table{suffix}"
    assert written.suffix == suffix
    pd.testing.assert_frame_equal(_formats.load(written.path, suffix), df)


def test_csv_written_by_pandas_with_index_comes_back_with_index(tmp_path: Path) -> None:
    df = pd.DataFrame({"count": [3, 4]}, index=pd.Index(["a", "b"]))
    path = tmp_path / "indexed.csv"
    df.to_csv(path)
    pd.testing.assert_frame_equal(_formats.load(path, ".csv"), df)


@pytest.mark.parametrize(("suffix", "sep"), [(".csv.gz", ","), (".tsv.gz", "\t")])
def test_gzipped_delimited(tmp_path: Path, suffix: str, sep: str) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / f"table{suffix}"
    df.to_csv(path, sep=sep, index=False, compression="gzip")
    pd.testing.assert_frame_equal(_formats.load(path, suffix), df)
    # a cached copy need not keep the .gz ending; the suffix argument decides
    renamed = path.rename(tmp_path / "cached_copy")
    pd.testing.assert_frame_equal(_formats.load(renamed, suffix), df)


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv"
    path.write_text("a\tb\n1\tx,y\n", encoding="utf-8")
    loaded = _formats.load(path, ".tsv")
    assert list(loaded.columns) == ["a", "b"]
    assert loaded.loc[0, "b"] == "x,y"


# ---- AnnData -----------------------------------------------------------------------------------


def test_h5ad_round_trip(tmp_path: Path) -> None:
    adata = _small_anndata()
    written = _formats.serialize(adata, tmp_path, "cells")
    assert written == _formats.SerializedData(
        path=tmp_path / "cells.h5ad", suffix=".h5ad", otype="AnnData", n_observations=4
    )
    loaded = _formats.load(written.path, ".h5ad")
    _assert_same_anndata(loaded, adata)
    assert loaded.uns["note"] == "tiny"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("format", ["zarr", "anndata.zarr"])
def test_zarr_round_trip(tmp_path: Path, format: str) -> None:
    adata = _small_anndata()
    written = _formats.serialize(adata, tmp_path, "cells", format=format)
    assert written.path == tmp_path / f"cells.{format}"
    assert written.path.is_dir()
    assert (written.otype, written.n_observations) == ("AnnData", 4)
    _assert_same_anndata(_formats.load(written.path, written.suffix), adata)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_serialize_replaces_an_existing_zarr_folder(tmp_path: Path) -> None:
    adata = _small_anndata()
    _formats.serialize(adata, tmp_path, "cells", format="zarr")
    smaller = adata[:2].copy()
    written = _formats.serialize(smaller, tmp_path, "cells", format="zarr")
    assert _formats.load(written.path, ".zarr").n_obs == 2


def test_open_h5ad_is_backed(tmp_path: Path) -> None:
    adata = _small_anndata()
    written = _formats.serialize(adata, tmp_path, "cells")
    backed = _formats.open_dataset(written.path, ".h5ad")
    try:
        assert backed.isbacked
        np.testing.assert_array_equal(backed[1:3].X, adata.X[1:3])
        pd.testing.assert_frame_equal(backed.obs, adata.obs)
    finally:
        backed.file.close()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_open_zarr_reads_matrices_on_access(tmp_path: Path) -> None:
    adata = _small_anndata()
    adata.layers["counts"] = sparse.csr_matrix(np.asarray(adata.X))
    written = _formats.serialize(adata, tmp_path, "cells", format="zarr")
    lazy = _formats.open_dataset(written.path, ".zarr")
    assert lazy.shape == (4, 3)
    assert list(lazy.obs_names) == list(adata.obs_names)
    np.testing.assert_array_equal(np.asarray(lazy[1:3].X), adata.X[1:3])
    np.testing.assert_array_equal(lazy.layers["counts"][1:3].toarray(), adata.X[1:3])


# ---- streaming tables --------------------------------------------------------------------------


def test_open_parquet_file_and_folder(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": range(10), "b": [f"x{i}" for i in range(10)]})
    written = _formats.serialize(df, tmp_path, "table")
    dataset = _formats.open_dataset(written.path, ".parquet")
    assert dataset.count_rows() == 10
    assert dataset.schema.names[:2] == ["a", "b"]

    folder = tmp_path / "shards.parquet"
    folder.mkdir()
    df.iloc[:4].to_parquet(folder / "part-0.parquet")
    df.iloc[4:].to_parquet(folder / "part-1.parquet")
    assert _formats.open_dataset(folder, ".parquet").count_rows() == 10
    pd.testing.assert_frame_equal(_formats.load(folder, ".parquet").reset_index(drop=True), df)


def test_open_parquet_with_an_fsspec_filesystem(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": range(7)})
    written = _formats.serialize(df, tmp_path, "table")
    memory = fsspec.filesystem("memory")
    memory.pipe("/bucket/table.parquet", written.path.read_bytes())
    dataset = _formats.open_dataset("/bucket/table.parquet", ".parquet", filesystem=memory)
    assert dataset.count_rows() == 7


def test_open_parquet_from_a_upath_uses_its_filesystem(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": range(5)})
    written = _formats.serialize(df, tmp_path, "table")
    remote = upath.UPath(f"memory://lamella-tests/{tmp_path.name}/table.parquet")
    remote.write_bytes(written.path.read_bytes())
    assert _formats.open_dataset(remote, ".parquet").count_rows() == 5


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_open_remote_zarr(tmp_path: Path) -> None:
    adata = _small_anndata()
    written = _formats.serialize(adata, tmp_path, "cells", format="zarr")
    memory = fsspec.filesystem("memory")
    remote = f"/lamella-tests/{tmp_path.name}/cells.zarr"
    memory.put(str(written.path), remote, recursive=True)
    lazy = _formats.open_dataset(remote, ".zarr", filesystem=memory)
    np.testing.assert_array_equal(np.asarray(lazy[2:].X), adata.X[2:])


def test_open_remote_h5ad_asks_for_cache() -> None:
    with pytest.raises(InvalidArgument, match=r"cache\(\)"):
        _formats.open_dataset("/somewhere/cells.h5ad", ".h5ad", filesystem=fsspec.filesystem("memory"))


@pytest.mark.parametrize(("suffix", "sep"), [(".csv", ","), (".tsv", "\t"), (".csv.gz", ",")])
def test_open_delimited_as_arrow_dataset(tmp_path: Path, suffix: str, sep: str) -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    path = tmp_path / f"table{suffix}"
    df.to_csv(path, sep=sep, index=False)
    dataset = _formats.open_dataset(path, suffix)
    assert dataset.count_rows() == 3
    assert dataset.to_table().column("b").to_pylist() == ["x", "y", "z"]


def test_open_unknown_suffix_names_what_is_supported(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"'\.xyz'.*\.parquet") as info:
        _formats.open_dataset(tmp_path / "x.xyz", ".xyz")
    assert ".h5ad" in str(info.value)


# ---- other documents ---------------------------------------------------------------------------


def test_json_round_trip(tmp_path: Path) -> None:
    document = {"name": "iris", "n": 3, "tags": ["a", "b"], "nested": {"ok": True, "none": None}}
    written = _formats.serialize(document, tmp_path, "meta")
    assert (written.path.name, written.suffix, written.otype, written.n_observations) == (
        "meta.json",
        ".json",
        None,
        None,
    )
    assert _formats.load(written.path, ".json") == document
    assert json.loads(written.path.read_text(encoding="utf-8")) == document


def test_list_serializes_as_json(tmp_path: Path) -> None:
    written = _formats.serialize([1, "two"], tmp_path, "items")
    assert _formats.load(written.path, written.suffix) == [1, "two"]


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_round_trip(tmp_path: Path, suffix: str) -> None:
    document = {"schema": "v1", "columns": ["a", "b"], "strict": False}
    written = _formats.serialize(document, tmp_path, "config", format=suffix.lstrip("."))
    assert written.suffix == suffix
    assert _formats.load(written.path, suffix) == document


@pytest.mark.parametrize("suffix", [".txt", ".md", ".log", ".html"])
def test_text_loads_as_str(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"note{suffix}"
    path.write_text("hello 🤩\nworld\n", encoding="utf-8")
    assert _formats.load(path, suffix) == "hello 🤩\nworld\n"


def test_str_serializes_as_txt(tmp_path: Path) -> None:
    written = _formats.serialize("some notes", tmp_path, "notes")
    assert written.path == tmp_path / "notes.txt"
    assert _formats.load(written.path, written.suffix) == "some notes"


# ---- errors and lookup -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".fastq", ".jpg", ".png", ""])
def test_unknown_suffix_points_to_cache(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"file{suffix}"
    path.write_bytes(b"\x00")
    with pytest.raises(InvalidArgument) as info:
        _formats.load(path, suffix)
    message = str(info.value)
    assert f"cannot load a '{suffix}' file into memory" in message
    assert "artifact.cache()" in message
    assert "register_format" in message


def test_missing_file_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"gone\.parquet"):
        _formats.load(tmp_path / "gone.parquet", ".parquet")


def test_suffix_lookup_is_case_insensitive_and_uses_the_longest_known_ending(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    assert _formats.load(path, ".JSON") == {"a": 1}
    assert _formats.load(path, "json") == {"a": 1}
    assert _formats.load(path, ".v2.json") == {"a": 1}
    assert _formats.otype_for_suffix(".anndata.zarr") == "AnnData"
    assert _formats.otype_for_suffix(".parquet") == "DataFrame"
    assert _formats.otype_for_suffix(".json") is None


def test_unsupported_object_names_its_type(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"builtins\.set"):
        _formats.serialize({1, 2}, tmp_path, "numbers")


def test_unsupported_format_for_object_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"format='h5ad'.*'csv'"):
        _formats.serialize(pd.DataFrame({"a": [1]}), tmp_path, "table", format="h5ad")


def test_otype_of() -> None:
    assert _formats.otype_of(pd.DataFrame()) == "DataFrame"
    assert _formats.otype_of(_small_anndata()) == "AnnData"
    assert _formats.otype_of(_small_anndata()[:2]) == "AnnData"
    assert _formats.otype_of({"a": 1}) is None
    assert _formats.otype_of(pd.Series([1])) is None

    frame_class: Any = pd.DataFrame

    class MyFrame(frame_class):
        pass

    assert _formats.otype_of(MyFrame()) == "DataFrame"


def test_supported_load_suffixes() -> None:
    suffixes = _formats.supported_load_suffixes()
    expected = {".parquet", ".csv", ".tsv", ".csv.gz", ".tsv.gz", ".h5ad", ".zarr", ".anndata.zarr"}
    expected |= {".json", ".yaml", ".yml", ".txt", ".md", ".log", ".html"}
    assert expected <= set(suffixes)
    assert suffixes == sorted(suffixes)
    assert ".jpg" not in suffixes


def test_h5mu_is_supported_only_with_mudata() -> None:
    has_mudata = True
    try:
        import mudata  # noqa: F401
    except ImportError:
        has_mudata = False
    assert (".h5mu" in _formats.supported_load_suffixes()) == has_mudata


# ---- registration ------------------------------------------------------------------------------


def test_register_custom_format(tmp_path: Path) -> None:
    calls: list[tuple[Path, dict[str, Any]]] = []

    def load_numbers(path: Path, **kwargs: Any) -> list[int]:
        calls.append((path, kwargs))
        return [int(line) for line in path.read_text().split()]

    def open_numbers(path: Any, filesystem: Any | None = None, **kwargs: Any) -> str:
        return f"stream of {path}"

    _formats.register_format([".numbers", "nums"], load=load_numbers, open=open_numbers, otype="list")
    path = tmp_path / "a.numbers"
    path.write_text("1\n2\n3\n")
    assert _formats.load(path, ".numbers", scale=1) == [1, 2, 3]
    assert calls == [(path, {"scale": 1})]
    assert _formats.load(path, ".nums") == [1, 2, 3]
    assert _formats.open_dataset(path, ".numbers") == f"stream of {path}"
    assert ".numbers" in _formats.supported_load_suffixes()
    assert _formats.otype_for_suffix(".numbers") == "list"


def test_register_overrides_only_what_is_passed(tmp_path: Path) -> None:
    df = pd.DataFrame({"a": [1, 2]})
    written = _formats.serialize(df, tmp_path, "custom", format="csv")
    suffix = ".custom-csv"
    _formats.register_format([suffix], open=lambda path, filesystem=None, **kwargs: "opened")
    _formats.register_format([suffix], load=lambda path, **kwargs: "loaded")
    assert _formats.load(written.path, suffix) == "loaded"
    assert _formats.open_dataset(written.path, suffix) == "opened"


def test_register_needs_a_function() -> None:
    with pytest.raises(InvalidArgument, match="load= or an open="):
        _formats.register_format([".nothing"])
    with pytest.raises(InvalidArgument, match="callable"):
        _formats.register_format([".nothing"], load="not a function")  # type: ignore[arg-type]


class Spectrum:
    """A type no built-in format writes: stands in for a user's own kind of object."""

    def __init__(self, peaks: list[float]) -> None:
        self.peaks = peaks


def _write_spectrum(spectrum: Spectrum, path: Path) -> None:
    path.write_text(" ".join(map(str, spectrum.peaks)), encoding="utf-8")


def _load_spectrum(path: Path, **kwargs: Any) -> Spectrum:
    return Spectrum([float(value) for value in path.read_text(encoding="utf-8").split()])


@pytest.fixture
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registrations made by the test are undone afterwards, so they cannot change other tests."""
    monkeypatch.setattr(registry, "_FORMATS", dict(registry._FORMATS))
    monkeypatch.setattr(registry, "_DEFAULTS", dict(registry._DEFAULTS))


@pytest.mark.usefixtures("scratch_registry")
def test_registered_writer_is_used_for_its_type(tmp_path: Path) -> None:
    _formats.register_format([".spectrum"], load=_load_spectrum, write=_write_spectrum, types=[Spectrum])
    assert _formats.suffix_for(Spectrum([1.0])) == ".spectrum"
    written = _formats.serialize(Spectrum([1.0, 2.5]), tmp_path, "peaks")
    assert written == _formats.SerializedData(
        path=tmp_path / "peaks.spectrum", suffix=".spectrum", otype=None, n_observations=None
    )
    assert _formats.load(written.path, written.suffix).peaks == [1.0, 2.5]


@pytest.mark.usefixtures("scratch_registry")
def test_artifact_from_an_object_of_a_registered_type(ln: ModuleType) -> None:
    _formats.register_format(["myfmt"], load=_load_spectrum, write=_write_spectrum, types=[Spectrum])
    artifact = ln.Artifact(Spectrum([3.0, 4.0]), key="spectra/x.myfmt").save()
    assert artifact.suffix == ".myfmt"
    assert artifact.load().peaks == [3.0, 4.0]


@pytest.mark.usefixtures("scratch_registry")
def test_registered_types_match_by_package_and_name_and_subclasses_keep_builtin_formats() -> None:
    class Settings(dict[str, Any]):
        pass

    # named by string, so that registering it needs no import of the module that defines it
    _formats.register_format([".settings"], write=_write_json_lines, types=f"{__name__}.Settings")
    settings = Settings(a=1)
    assert _formats.suffix_for(settings) == ".settings"
    assert _formats.suffix_for(settings, format="json") == ".json"
    assert _formats.suffix_for({"a": 1}) == ".json"  # a plain dict is not a Settings


def _write_json_lines(obj: Any, path: Path) -> None:
    path.write_text("\n".join(json.dumps({key: value}) for key, value in obj.items()), encoding="utf-8")


@pytest.mark.usefixtures("scratch_registry")
def test_a_user_default_wins_over_the_builtin_one(tmp_path: Path) -> None:
    _formats.register_format([".ndjson"], write=_write_json_lines, types=["builtins.dict"], default=True)
    assert _formats.suffix_for({"a": 1}) == ".ndjson"
    assert _formats.suffix_for({"a": 1}, format="json") == ".json"
    assert _formats.suffix_for([1, 2]) == ".json"  # lists keep theirs
    written = _formats.serialize({"a": 1, "b": 2}, tmp_path, "rows")
    assert written.path.read_text(encoding="utf-8") == '{"a": 1}\n{"b": 2}'


@pytest.mark.usefixtures("scratch_registry")
def test_registering_a_builtin_suffix_for_other_types_moves_the_default() -> None:
    _formats.register_format([".parquet"], write=_write_spectrum, types=[Spectrum])
    assert _formats.suffix_for(Spectrum([1.0])) == ".parquet"
    assert _formats.suffix_for(pd.DataFrame({"a": [1]})) == ".csv"  # the first format left for it
    with pytest.raises(InvalidArgument, match=r"format='parquet'.*\['csv', 'tsv'\]"):
        _formats.suffix_for(pd.DataFrame({"a": [1]}), format="parquet")


@pytest.mark.parametrize(
    ("make", "format", "suffix"),
    [
        (lambda: pd.DataFrame({"a": [1]}), None, ".parquet"),
        (lambda: pd.DataFrame({"a": [1]}), "CSV", ".csv"),
        (lambda: pd.DataFrame({"a": [1]}), ".tsv", ".tsv"),
        (_small_anndata, None, ".h5ad"),
        (_small_anndata, "zarr", ".zarr"),
        (_small_anndata, "anndata.zarr", ".anndata.zarr"),
        (lambda: {"a": 1}, None, ".json"),
        (lambda: {"a": 1}, "yml", ".yml"),
        (lambda: [1, 2], None, ".json"),
        (lambda: [1, 2], "yaml", ".yaml"),
        (lambda: "text", None, ".txt"),
        (lambda: "text", "md", ".md"),
    ],
)
def test_suffix_for_builtin_types(make: Any, format: str | None, suffix: str) -> None:
    assert _formats.suffix_for(make(), format=format) == suffix


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_suffix_for_mudata_is_h5mu() -> None:
    import mudata

    assert _formats.suffix_for(mudata.MuData({"rna": _small_anndata()})) == ".h5mu"


def test_unknown_type_lists_the_types_that_can_be_written() -> None:
    with pytest.raises(InvalidArgument) as info:
        _formats.suffix_for(Spectrum([1.0]))
    message = str(info.value)
    assert f"cannot serialize an object of type {__name__}.Spectrum" in message
    assert "supported are pandas.DataFrame, anndata.AnnData" in message
    assert "dict, list, str" in message
    assert "write it to a file yourself and pass the path" in message


def test_format_that_cannot_hold_the_type_names_the_choices() -> None:
    with pytest.raises(
        InvalidArgument,
        match=r"cannot write a str as format='parquet'; choose one of \['html', 'log', 'md', 'txt'\]",
    ):
        _formats.suffix_for("notes", format="parquet")
    with pytest.raises(InvalidArgument, match=r"format='csv.gz'"):
        _formats.suffix_for(pd.DataFrame({"a": [1]}), format="csv.gz")  # readable, not writable


@pytest.mark.usefixtures("scratch_registry")
def test_register_writer_needs_its_types() -> None:
    with pytest.raises(InvalidArgument, match="write= without types="):
        _formats.register_format([".spectrum"], write=_write_spectrum)
    with pytest.raises(InvalidArgument, match="types= without write="):
        _formats.register_format([".spectrum"], load=_load_spectrum, types=[Spectrum])
    with pytest.raises(InvalidArgument, match=r"'Spectrum'.*'package\.ClassName'"):
        _formats.register_format([".spectrum"], write=_write_spectrum, types=["Spectrum"])
    with pytest.raises(InvalidArgument, match="default=True"):
        _formats.register_format([".spectrum"], load=_load_spectrum, default=True)
    assert _formats.otype_for_suffix(".spectrum") is None  # a refused call registers nothing


def test_registry_does_not_import_the_builtin_formats() -> None:
    # the built-ins import the registry to register themselves; the other way round would be a loop
    tree = ast.parse(inspect.getsource(registry))
    imported: set[str] = set()
    for node in ast.walk(tree):  # every import, also one inside a function
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert "lamella._formats.otype.type_keys" in imported  # the walk does see its imports
    loop = {"builtin", "loaders", "openers", "writers"}
    assert not {name for name in imported if set(name.split(".")) & loop}


# ---- import cost -------------------------------------------------------------------------------


def test_import_does_not_load_heavy_libraries() -> None:
    src = Path(_formats.__file__).resolve().parents[2]
    code = (
        "import sys, lamella._formats as f; f.supported_load_suffixes(); f.otype_of({}); "
        "heavy = [m for m in ('pandas', 'pyarrow', 'anndata', 'zarr', 'yaml', 'numpy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": ""},
    )
    assert result.stdout.strip() == ""
