"""MappedCollection (lamella._loaders): a map-style dataset over AnnData shards on disk.

Shards are written with anndata (tiny, once per module) and read back by the dataset with h5py and
zarr; every value is checked against what anndata itself reads from the same files.
"""

from __future__ import annotations

import multiprocessing
import operator
import os
import pickle
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anndata as ad
import fsspec
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from fsspec.implementations.memory import MemoryFileSystem

from lamella._loaders import MappedCollection
from lamella.errors import InvalidArgument, OutOfRange, PathNotFound, StorageError

FORMATS = ["h5ad", "h5ad-gzip", "zarr2", "zarr3", "zarr3-sharded"]
N_OBS = 30


def make_adata(
    n_obs: int = N_OBS,
    genes: list[str] | None = None,
    *,
    seed: int = 0,
    sparse: bool = True,
    cell_types: tuple[str, ...] = ("T cell", "B cell", "NK cell", "unknown"),
) -> ad.AnnData:
    rng = np.random.default_rng(seed)
    genes = genes if genes is not None else [f"g{i}" for i in range(12)]
    dense = rng.random((n_obs, len(genes)), dtype=np.float32)
    dense[dense < 0.6] = 0  # ~60 % zeros, some rows entirely zero below
    dense[::7] = 0
    kind = pd.Categorical(rng.choice(cell_types, n_obs), categories=sorted(set(cell_types)))
    kind[3] = np.nan  # a missing label: code -1 on disk
    obs = pd.DataFrame(
        {
            "cell_type": kind,
            "donor": pd.Categorical(rng.choice(["d1", "d2"], n_obs)),
            "batch": rng.choice(["b1", "b2", "b3"], n_obs),  # stays a plain string column (see write)
            "n_counts": rng.integers(0, 100, n_obs),
            "score": rng.normal(size=n_obs),
        },
        index=[f"cell{seed}_{i}" for i in range(n_obs)],
    )
    adata = ad.AnnData(
        sp.csr_matrix(dense) if sparse else dense,
        obs=obs,
        var=pd.DataFrame(index=genes),
    )
    adata.layers["counts"] = sp.csr_matrix(np.round(dense * 10).astype(np.int32))
    adata.layers["dense"] = dense * 2
    adata.obsm["X_pca"] = rng.normal(size=(n_obs, 3)).astype(np.float64)
    adata.obsm["sparse_emb"] = sp.csr_matrix(dense[:, :4])
    return adata


def write(adata: ad.AnnData, folder: Path, name: str, fmt: str) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt.startswith("h5ad"):  # h5ad-gzip: compressed, so HDF5 itself reads every byte
            path = folder / f"{name}.h5ad"
            compression = "gzip" if fmt == "h5ad-gzip" else None
            adata.write_h5ad(path, convert_strings_to_categoricals=False, compression=compression)
            return path
        path = folder / f"{name}.zarr"
        version = 2 if fmt == "zarr2" else 3
        with ad.settings.override(zarr_write_format=version, auto_shard_zarr_v3=fmt == "zarr3-sharded"):
            adata.write_zarr(path, convert_strings_to_categoricals=False)
        return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shards")


@pytest.fixture(scope="module")
def shards(folder: Path) -> Callable[..., list[Path]]:
    """`shards(fmt, sparse=True, genes=...)`: two shards of 30 cells (seeds 0 and 1), written once."""
    made: dict[tuple[Any, ...], list[Path]] = {}

    def get(fmt: str = "h5ad", sparse: bool = True, genes: tuple[list[str], ...] | None = None) -> list[Path]:
        key = (fmt, sparse, None if genes is None else tuple(tuple(g) for g in genes))
        if key not in made:
            per_shard = genes or (None, None)
            made[key] = [
                write(make_adata(seed=seed, sparse=sparse, genes=g), folder, f"s{len(made)}_{seed}", fmt)
                for seed, g in enumerate(per_shard)
            ]
        return made[key]

    return get


def expected_rows(adatas: list[ad.AnnData], key: str = "X") -> np.ndarray:
    blocks = [a.X if key == "X" else a.layers[key] for a in adatas]
    return np.vstack([b.toarray() if sp.issparse(b) else np.asarray(b) for b in blocks])


def read_back(paths: list[Path]) -> list[ad.AnnData]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [ad.read_h5ad(p) if p.suffix == ".h5ad" else ad.read_zarr(p) for p in paths]


def test_a_list_or_slice_of_indices_reads_a_batch(shards: Callable[..., list[Path]]) -> None:
    ds = MappedCollection(shards("h5ad"), obs_keys=["cell_type"])
    expected = ds.read_batch([4, 33, 5])
    for key in (ds[[4, 33, 5]], ds[np.array([4, 33, 5])], ds[(4, 33, 5)]):
        assert set(key) == set(expected)
        for name in expected:
            np.testing.assert_array_equal(key[name], expected[name])
    np.testing.assert_array_equal(ds[2:40:9]["_idx"], [2, 11, 20, 29, 38])
    np.testing.assert_array_equal(ds[range(3)]["X"], ds.read_batch([0, 1, 2])["X"])
    ds.close()


# ---- reading X, layers, obsm ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_items_are_the_rows_anndata_reads(shards: Callable[..., list[Path]], fmt: str, sparse: bool) -> None:
    paths = shards(fmt, sparse)
    expected = expected_rows(read_back(paths))
    with MappedCollection(paths) as ds:
        assert len(ds) == ds.n_obs == 2 * N_OBS
        assert ds.shape == (2 * N_OBS, 12)
        assert ds.original_shapes == [(N_OBS, 12), (N_OBS, 12)]
        for i in [0, 3, 7, N_OBS - 1, N_OBS, 2 * N_OBS - 1, -1]:
            item = ds[i]
            assert item["X"].shape == (12,)
            np.testing.assert_array_equal(item["X"], expected[i])
            assert item["_store_idx"] == (i % (2 * N_OBS)) // N_OBS
            assert item["_idx"] == i % (2 * N_OBS)
        batch = ds.read_batch(np.arange(2 * N_OBS))
        np.testing.assert_array_equal(batch["X"], expected)


@pytest.mark.parametrize("fmt", ["h5ad", "zarr3"])
def test_layers_obsm_and_dtype(shards: Callable[..., list[Path]], fmt: str) -> None:
    paths = shards(fmt)
    adatas = read_back(paths)
    ds = MappedCollection(
        paths, layers_keys=["X", "counts", "dense"], obsm_keys=["X_pca", "sparse_emb"], dtype="float64"
    )
    counts = expected_rows(adatas, "counts")
    dense = expected_rows(adatas, "dense")
    pca = np.vstack([a.obsm["X_pca"] for a in adatas])
    emb = np.vstack([a.obsm["sparse_emb"].toarray() for a in adatas])
    for i in [0, 5, N_OBS + 2]:
        item = ds[i]
        assert set(item) == {"X", "counts", "dense", "obsm_X_pca", "obsm_sparse_emb", "_store_idx", "_idx"}
        assert item["X"].dtype == item["counts"].dtype == np.float64
        np.testing.assert_array_equal(item["counts"], counts[i])
        np.testing.assert_allclose(item["dense"], dense[i])
        np.testing.assert_array_equal(item["obsm_X_pca"], pca[i])
        np.testing.assert_array_equal(item["obsm_sparse_emb"], emb[i])
    batch = ds.read_batch([N_OBS + 2, 0, 5])
    np.testing.assert_array_equal(batch["counts"], counts[[N_OBS + 2, 0, 5]])
    np.testing.assert_array_equal(batch["obsm_X_pca"], pca[[N_OBS + 2, 0, 5]])
    ds.close()
    # without dtype the stored dtype stays; a layer alone is read without X
    only_counts = MappedCollection(paths, layers_keys="counts")
    item = only_counts[1]
    assert set(item) == {"counts", "_store_idx", "_idx"}
    assert item["counts"].dtype == np.int32
    only_counts.close()


@pytest.mark.parametrize("fmt", ["h5ad", "zarr2"])
def test_batch_is_the_items_in_the_order_asked(shards: Callable[..., list[Path]], fmt: str) -> None:
    paths = shards(fmt)
    ds = MappedCollection(paths, obs_keys=["cell_type", "batch", "n_counts"], encode_labels=["cell_type"])
    order = [45, 2, 31, 2, 59, 0, 30, -1, 17, 45]  # shards interleaved, repeats, a negative index
    items = ds.__getitems__(order)
    assert isinstance(items, list) and len(items) == len(order)
    for index, item in zip(order, items, strict=True):
        single = ds[index]
        assert set(item) == set(single)
        np.testing.assert_array_equal(item["X"], single["X"])
        for key in ("cell_type", "batch", "n_counts", "_store_idx", "_idx"):
            assert item[key] == single[key], key
            assert type(item[key]) is type(single[key]), key
    batch = ds.read_batch(order)
    assert batch["X"].shape == (len(order), 12)
    np.testing.assert_array_equal(batch["_idx"], [i % 60 for i in order])
    # batches with many rows of a shard and with few take different paths: same items either way
    raw = MappedCollection(paths, obs_keys=["cell_type", "batch"], encode_labels=False)
    few = raw.__getitems__([3, 40])
    many = raw.__getitems__([3, 40, *range(5, 25)])
    for item in (few[0], many[0]):
        assert isinstance(item["cell_type"], float) and np.isnan(item["cell_type"])  # missing
        assert item["batch"] == raw[3]["batch"] and isinstance(item["batch"], str)
    assert few[1]["cell_type"] == many[1]["cell_type"] == raw[40]["cell_type"]
    np.testing.assert_array_equal(few[1]["X"], many[1]["X"])
    raw.close()
    assert ds.__getitems__([]) == []
    with pytest.raises(OutOfRange, match="out of range"):
        ds[60]
    with pytest.raises(IndexError, match="out of range"):
        ds.read_batch([0, 61])
    ds.close()


# ---- joins -------------------------------------------------------------------------------------------

GENES_A = ["g0", "g1", "g2", "g3", "g4", "g5"]
GENES_B = ["g4", "g9", "g1", "g7", "g0"]  # shares g0, g1, g4 with A, in another order


@pytest.mark.parametrize("fmt", ["h5ad", "zarr3"])
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_inner_join_matches_anndata_subset(shards: Callable[..., list[Path]], fmt: str, sparse: bool) -> None:
    paths = shards(fmt, sparse, genes=(GENES_A, GENES_B))
    ds = MappedCollection(paths, join="inner", layers_keys=["X", "counts"])
    assert list(ds.var_joint) == ["g0", "g1", "g4"]  # the first shard's order
    assert ds.shape == (2 * N_OBS, 3)
    adatas = read_back(paths)
    genes = list(ds.var_joint)
    expected = np.vstack([_dense(a[:, genes].X) for a in adatas])
    expected_counts = np.vstack([_dense(a[:, genes].layers["counts"]) for a in adatas])
    for i in range(0, 2 * N_OBS, 7):
        np.testing.assert_array_equal(ds[i]["X"], expected[i])
        np.testing.assert_array_equal(ds[i]["counts"], expected_counts[i])
    batch = ds.read_batch(np.arange(2 * N_OBS)[::-1])
    np.testing.assert_array_equal(batch["X"], expected[::-1])
    # LaminDB's var_indices for an inner join: the shard column of each joint variable
    assert [list(v) for v in ds.var_indices] == [[0, 1, 4], [4, 2, 0]]
    assert [list(v) for v in ds.var_list] == [GENES_A, GENES_B]


@pytest.mark.parametrize("fmt", ["h5ad", "zarr2"])
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_outer_join_zero_fills(shards: Callable[..., list[Path]], fmt: str, sparse: bool) -> None:
    paths = shards(fmt, sparse, genes=(GENES_A, GENES_B))
    ds = MappedCollection(paths, join="outer")
    union = sorted(set(GENES_A) | set(GENES_B))
    assert list(ds.var_joint) == union
    assert ds.shape == (2 * N_OBS, len(union))
    expected = []
    for adata in read_back(paths):
        frame = pd.DataFrame(_dense(adata.X), columns=list(adata.var_names))
        expected.append(frame.reindex(columns=union, fill_value=0).to_numpy())
    rows = np.vstack(expected)
    for i in range(0, 2 * N_OBS, 5):
        np.testing.assert_array_equal(ds[i]["X"], rows[i])
    np.testing.assert_array_equal(ds.read_batch(np.arange(2 * N_OBS))["X"], rows)
    # a gene only the second shard has is zero in every row of the first
    assert not ds.read_batch(np.arange(N_OBS))["X"][:, union.index("g9")].any()
    assert ds.read_batch(np.arange(N_OBS, 2 * N_OBS))["X"][:, union.index("g9")].any()


def test_join_none(shards: Callable[..., list[Path]], folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    same = shards("h5ad")
    ds = MappedCollection(same, join=None)
    assert ds.var_joint is None and ds.shape == (2 * N_OBS, 12)
    np.testing.assert_array_equal(ds[N_OBS]["X"], expected_rows(read_back(same))[N_OBS])
    with pytest.raises(InvalidArgument, match=r"join=None.*counts differ.*join='inner'"):
        MappedCollection(shards("h5ad", genes=(GENES_A, GENES_B)), join=None)
    renamed = write(make_adata(genes=[f"x{i}" for i in range(12)]), folder, "renamed", "h5ad")
    propagate = _propagate_lamella_logs()
    try:
        ds = MappedCollection([same[0], renamed], join=None)
    finally:
        propagate()
    assert ds.shape == (2 * N_OBS, 12)
    assert "read by position" in caplog.text
    with pytest.raises(InvalidArgument, match="share no variable"):
        MappedCollection([same[0], renamed], join="inner")


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


def _propagate_lamella_logs() -> Callable[[], None]:
    import logging

    lamella_logger = logging.getLogger("lamella")
    before = lamella_logger.propagate
    lamella_logger.propagate = True

    def restore() -> None:
        lamella_logger.propagate = before

    return restore


# ---- labels ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["h5ad", "zarr2", "zarr3"])
def test_labels_encoded_and_raw(shards: Callable[..., list[Path]], fmt: str) -> None:
    paths = shards(fmt)
    obs = pd.concat([a.obs for a in read_back(paths)])
    ds = MappedCollection(
        paths,
        obs_keys=["cell_type", "donor", "batch", "score"],
        encode_labels=["cell_type", "batch"],
        unknown_label={"cell_type": "unknown"},
    )
    # sorted categories, the unknown label -1 and out of the 0..n-1 range
    assert ds.encoders["cell_type"] == {"unknown": -1, "B cell": 0, "NK cell": 1, "T cell": 2}
    assert ds.encoders["batch"] == {"b1": 0, "b2": 1, "b3": 2}  # a plain string column
    assert set(ds.encoders) == {"cell_type", "batch"}
    batch = ds.read_batch(np.arange(len(ds)))
    for i in range(len(ds)):
        item = ds[i]
        label = obs["cell_type"].iloc[i]
        expected = -1 if pd.isna(label) else ds.encoders["cell_type"][label]
        assert item["cell_type"] == batch["cell_type"][i] == expected
        assert item["batch"] == ds.encoders["batch"][obs["batch"].iloc[i]]
        assert item["donor"] == obs["donor"].iloc[i]  # not encoded: the label itself
        assert item["score"] == pytest.approx(obs["score"].iloc[i])
    assert ds[3]["cell_type"] == -1  # a missing label is encoded as -1 too
    raw = MappedCollection(paths, obs_keys="cell_type", encode_labels=False)
    assert raw.encoders == {}
    assert isinstance(raw[0]["cell_type"], str)
    assert np.isnan(raw[3]["cell_type"])  # missing: NaN, as LaminDB returns
    everything = MappedCollection(paths, obs_keys="cell_type", unknown_label="unknown")
    assert everything.encoders["cell_type"]["unknown"] == -1
    plain = MappedCollection(paths, obs_keys="cell_type")
    assert plain.encoders["cell_type"] == {"B cell": 0, "NK cell": 1, "T cell": 2, "unknown": 3}


@pytest.mark.parametrize("fmt", ["h5ad", "zarr3"])
def test_nullable_and_boolean_columns(folder: Path, fmt: str) -> None:
    obs = pd.DataFrame(
        {
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "name": pd.array(["a", None, "c", "a"], dtype="string"),
            "plain": np.array([True, False, True, False]),
        },
        index=list("wxyz"),
    )
    adata = ad.AnnData(np.eye(4, dtype=np.float32), obs=obs)
    with ad.settings.override(allow_write_nullable_strings=True):
        path = write(adata, folder, f"nullable_{fmt}", fmt)
    keys = ["count", "flag", "name", "plain"]
    raw = MappedCollection([path], obs_keys=keys, encode_labels=False)
    assert [raw[0][k] for k in keys] == [1, True, "a", True]
    assert all(np.isnan(raw[1][k]) for k in keys[:3]) and raw[1]["plain"] is False
    encoded = MappedCollection([path], obs_keys=keys)
    assert encoded.encoders == {
        "count": {1: 0, 3: 1, 4: 2},
        "flag": {False: 0, True: 1},
        "name": {"a": 0, "c": 1},
        "plain": {False: 0, True: 1},
    }
    batch = encoded.read_batch([1, 0, 3])
    assert [batch[k].tolist() for k in keys] == [[-1, 0, 2], [-1, 1, 1], [-1, 0, 0], [0, 1, 0]]
    assert len(MappedCollection([path], obs_filter={"name": "a", "flag": True})) == 2


def test_merged_labels_categories_and_weights(shards: Callable[..., list[Path]]) -> None:
    paths = shards("h5ad")
    obs = pd.concat([a.obs for a in read_back(paths)])
    ds = MappedCollection(paths, obs_keys=["cell_type"])
    labels = ds.get_merged_labels("cell_type")
    assert len(labels) == len(ds)
    assert [str(x) for x in labels] == [str(x) for x in obs["cell_type"].astype(object)]
    assert ds.get_merged_categories("cell_type") == ["B cell", "NK cell", "T cell", "unknown"]
    assert ds.get_merged_categories("batch") == ["b1", "b2", "b3"]  # any obs column, not only obs_keys

    weights = ds.get_label_weights("cell_type")
    counts = obs["cell_type"].astype(str).value_counts()
    np.testing.assert_allclose(weights, 1 / obs["cell_type"].astype(str).map(counts).to_numpy())
    two = ds.get_label_weights(["cell_type", "donor"])
    combined = obs["cell_type"].astype(str) + "__" + obs["donor"].astype(str)
    np.testing.assert_allclose(two, 1 / combined.map(combined.value_counts()).to_numpy())
    scaled = ds.get_label_weights("cell_type", scaler=10)
    np.testing.assert_allclose(scaled, 10 / (obs["cell_type"].astype(str).map(counts).to_numpy() + 10))
    per_category = ds.get_label_weights(["cell_type", "donor"], return_categories=True)
    assert isinstance(per_category, dict)
    assert per_category == pytest.approx({k: 1 / v for k, v in combined.value_counts().items()})


@pytest.mark.parametrize("fmt", ["h5ad", "zarr3"])
def test_obs_filter(shards: Callable[..., list[Path]], fmt: str) -> None:
    paths = shards(fmt)
    adatas = read_back(paths)
    obs = pd.concat([a.obs for a in adatas])
    X = expected_rows(adatas)
    keep = obs["cell_type"].isin(["T cell", "B cell"]).to_numpy() & (obs["donor"] == "d1").to_numpy()
    ds = MappedCollection(
        paths,
        obs_keys=["cell_type"],
        encode_labels=False,
        obs_filter={"cell_type": ("T cell", "B cell"), "donor": "d1"},
    )
    assert len(ds) == keep.sum() > 0
    assert ds.n_obs_list == [int(keep[:N_OBS].sum()), int(keep[N_OBS:].sum())]
    np.testing.assert_array_equal(ds.read_batch(np.arange(len(ds)))["X"], X[keep])
    assert [ds[i]["cell_type"] for i in range(len(ds))] == list(obs["cell_type"][keep])
    assert list(ds.get_merged_labels("cell_type")) == list(obs["cell_type"][keep])
    assert len(ds.get_label_weights("cell_type")) == len(ds)
    np.testing.assert_array_equal(ds.indices, np.flatnonzero(keep) % N_OBS)
    # a plain string column, and a number
    by_batch = MappedCollection(paths, obs_filter={"batch": ["b2"]})
    np.testing.assert_array_equal(
        by_batch.read_batch(np.arange(len(by_batch)))["X"], X[(obs["batch"] == "b2").to_numpy()]
    )
    by_count = MappedCollection(paths, obs_filter={"n_counts": [int(obs["n_counts"].iloc[0])]})
    assert len(by_count) == int((obs["n_counts"] == obs["n_counts"].iloc[0]).sum())
    # NaN in the filter keeps the missing labels
    missing = MappedCollection(paths, obs_filter={"cell_type": [np.nan]})
    assert len(missing) == int(obs["cell_type"].isna().sum()) >= 1


def test_obs_filter_on_a_column_a_shard_lacks(
    shards: Callable[..., list[Path]], folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    adata = make_adata(seed=5)
    del adata.obs["donor"]
    lacking = write(adata, folder, "no_donor", "h5ad")
    propagate = _propagate_lamella_logs()
    try:
        ds = MappedCollection([shards("h5ad")[0], lacking], obs_filter={"donor": "d1"})
    finally:
        propagate()
    assert ds.n_obs_list[1] == 0 and ds.n_obs_list[0] > 0
    assert "has no obs column 'donor'" in caplog.text


# ---- errors ------------------------------------------------------------------------------------------


def test_errors_name_the_value_and_the_fix(shards: Callable[..., list[Path]], folder: Path) -> None:
    paths = shards("h5ad")
    adata = make_adata(seed=7)
    del adata.obs["cell_type"]
    lacking = write(adata, folder, "no_cell_type", "h5ad")
    with pytest.raises(InvalidArgument, match=r"no_cell_type\.h5ad.*no obs column 'cell_type'.*obs_keys"):
        MappedCollection([paths[0], lacking], obs_keys=["cell_type"])
    with pytest.raises(InvalidArgument, match=r"shard key-b .*no obs column 'cell_type'"):
        MappedCollection([paths[0], lacking], label_names=["key-a", "key-b"], obs_keys=["cell_type"])
    with pytest.raises(InvalidArgument, match=r"no layer 'spliced'.*\['counts', 'dense'\]"):
        MappedCollection(paths, layers_keys=["spliced"])
    with pytest.raises(InvalidArgument, match=r"no obsm entry 'X_umap'"):
        MappedCollection(paths, obsm_keys=["X_umap"])
    csc = make_adata(seed=8)
    csc.X = sp.csc_matrix(csc.X)
    with pytest.raises(InvalidArgument, match=r"CSC.*tocsr"):
        MappedCollection([write(csc, folder, "csc", "h5ad")])
    text = folder / "notes.txt"
    text.write_text("not an AnnData")
    with pytest.raises(InvalidArgument, match=r"notes\.txt.*neither an HDF5.*\.h5ad or \.zarr"):
        MappedCollection([text])
    (folder / "empty_dir").mkdir(exist_ok=True)
    with pytest.raises(InvalidArgument, match="not a zarr store"):
        MappedCollection([folder / "empty_dir"])
    with pytest.raises(PathNotFound, match=r"missing\.h5ad"):
        MappedCollection([folder / "missing.h5ad"])
    with pytest.raises(PathNotFound, match=r"no AnnData shard at memory://lamella-test/missing\.h5ad"):
        MappedCollection(["memory://lamella-test/missing.h5ad"])
    with pytest.raises(InvalidArgument, match=r"encode_labels names \['donor'\].*obs_keys"):
        MappedCollection(paths, obs_keys=["cell_type"], encode_labels=["donor"])
    with pytest.raises(InvalidArgument, match=r"unknown_label has keys \['donor'\]"):
        MappedCollection(paths, obs_keys=["cell_type"], unknown_label={"donor": "x"})
    with pytest.raises(InvalidArgument, match="join must be"):
        MappedCollection(paths, join="left")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="label_names has 1 names for 2 paths"):
        MappedCollection(paths, label_names=["a"])
    with pytest.raises(InvalidArgument, match="obs_filter must be a dict"):
        MappedCollection(paths, obs_filter=("cell_type", "T cell"))  # type: ignore[arg-type]
    ds = MappedCollection(paths)
    with pytest.raises(InvalidArgument, match="indexed by an integer, a list of integers or a slice"):
        ds["0"]  # type: ignore[index]
    ds.close()
    assert ds.closed
    with pytest.raises(InvalidArgument, match="closed"):
        ds[0]
    # the errors are also the builtin exceptions code would expect
    with pytest.raises(ValueError):
        MappedCollection(paths, layers_keys=["spliced"])
    with pytest.raises(FileNotFoundError):
        MappedCollection([folder / "missing.h5ad"])


# ---- files, processes, pickling ----------------------------------------------------------------------


def _open_files() -> set[str]:
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="lists open files through /proc")
def test_files_open_per_mode_and_close(shards: Callable[..., list[Path]]) -> None:
    paths = shards("h5ad")
    targets = {str(p.resolve()) for p in paths}
    ds = MappedCollection(paths)  # parallel=False: open at construction, kept open
    assert targets <= _open_files()
    assert all(store.__class__.__name__ == "File" for store in ds.storages)
    with ds:
        ds[0]
    assert not targets & _open_files()
    lazy = MappedCollection(paths, parallel=True)  # nothing stays open until read
    assert not targets & _open_files()
    lazy[N_OBS]
    assert str(paths[1].resolve()) in _open_files()
    lazy.close()
    assert not targets & _open_files()


def test_no_hdf5_handle_stays_open_for_shards_read_directly(shards: Callable[..., list[Path]]) -> None:
    """HDF5 keeps ~0.5 MB per open file: uncompressed CSR shards are read without one."""
    import h5py

    def open_hdf5_files() -> int:
        return int(h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE))

    before = open_hdf5_files()
    plain = MappedCollection(shards("h5ad"), obs_keys=["cell_type", "score"])
    assert open_hdf5_files() == before
    plain.read_batch(np.arange(len(plain)))
    plain[3]
    plain.get_label_weights("cell_type")
    assert plain.get_merged_categories("donor") == ["d1", "d2"]  # not an obs key: read from the files
    assert open_hdf5_files() == before
    compressed = MappedCollection(shards("h5ad-gzip"), obs_keys=["cell_type"])
    assert open_hdf5_files() == before + 2  # gzip: HDF5 decompresses, so it stays open
    np.testing.assert_array_equal(compressed.read_batch([0, 40])["X"], plain.read_batch([0, 40])["X"])
    dense = MappedCollection(shards("h5ad", sparse=False))
    dense[0]
    assert open_hdf5_files() == before + 4  # dense X: 2-D rows are HDF5's to read
    for ds in (plain, compressed, dense):
        ds.close()
    assert open_hdf5_files() == before


def test_pickles_without_handles_and_reads_after(shards: Callable[..., list[Path]]) -> None:
    paths = [*shards("h5ad"), *shards("zarr3")]
    ds = MappedCollection(paths, obs_keys=["cell_type"])
    expected = ds.read_batch(np.arange(len(ds)))
    blob = pickle.dumps(ds)
    assert b"h5py" not in blob
    copy = pickle.loads(blob)
    np.testing.assert_array_equal(copy.read_batch(np.arange(len(ds)))["X"], expected["X"])
    np.testing.assert_array_equal(copy.read_batch(np.arange(len(ds)))["cell_type"], expected["cell_type"])
    assert copy.encoders == ds.encoders
    ds.close()
    copy.close()


@pytest.mark.parametrize("parallel", [False, True])
def test_items_read_in_spawned_processes(shards: Callable[..., list[Path]], parallel: bool) -> None:
    """The dataset travels to spawned processes (pickled) and opens its files there; no torch needed."""
    paths = [shards("h5ad")[0], shards("zarr2")[1]]
    ds = MappedCollection(paths, obs_keys=["cell_type"], parallel=parallel)
    indices = [0, N_OBS + 1, 7, 2 * N_OBS - 1]
    env_path = os.environ.get("PYTHONPATH")
    source = str(Path(__file__).resolve().parents[2] / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (source, env_path) if p)
    try:
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            items = pool.starmap(operator.getitem, [(ds, i) for i in indices])
            pids = set(pool.map(_pid, range(4)))
    finally:
        if env_path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_path
    assert os.getpid() not in pids
    for index, item in zip(indices, items, strict=True):
        np.testing.assert_array_equal(item["X"], ds[index]["X"])
        assert item["cell_type"] == ds[index]["cell_type"]
    ds.close()


def _pid(_: int) -> int:
    return os.getpid()


def _read_in_child(ds: MappedCollection, queue: Any) -> None:
    batch = ds.read_batch(np.arange(len(ds))[::-1])
    queue.put((batch["X"], ds[0]["X"], ds.storages[0].id.id))


def test_forked_child_reopens_and_parent_keeps_reading(shards: Callable[..., list[Path]]) -> None:
    paths = [shards("h5ad")[0], shards("zarr3")[1]]
    ds = MappedCollection(paths)
    expected = ds.read_batch(np.arange(len(ds)))["X"]
    parent_file = ds.storages[0].id.id  # the HDF5 identifier of the parent's open file
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(ds, queue))
    child.start()
    reversed_rows, first, child_file = queue.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    assert child_file != parent_file  # the child opened the file itself, it did not use the inherited handle
    np.testing.assert_array_equal(reversed_rows, expected[::-1])
    np.testing.assert_array_equal(first, expected[0])
    np.testing.assert_array_equal(
        ds.read_batch(np.arange(len(ds)))["X"], expected
    )  # parent's files still fine
    ds.close()


def test_neither_import_lamella_nor_the_registries_load_the_loader() -> None:
    code = (
        "import sys, lamella; from lamella.models.collection import collection; "
        "print(any(m in sys.modules for m in ('lamella._loaders.mapped', 'h5py', 'zarr')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# ---- remote shards (fsspec's memory:// filesystem stands for a bucket) -------------------------------


@pytest.fixture
def in_memory() -> Iterator[Callable[[list[Path]], list[str]]]:
    """`in_memory(paths)`: the local shards uploaded to memory://, their URLs (removed afterwards)."""
    fs = fsspec.filesystem("memory")
    uploaded: list[str] = []

    def upload(paths: list[Path]) -> list[str]:
        urls = []
        for path in paths:
            target = f"/lamella-test/{uuid.uuid4().hex[:8]}/{path.name}"
            fs.put(str(path), target, recursive=path.is_dir())
            uploaded.append(target)
            urls.append(f"memory://{target.lstrip('/')}")
        return urls

    yield upload
    for target in uploaded:
        fs.rm(target, recursive=True)


def assert_same_reads(remote: MappedCollection, local: MappedCollection, keys: list[str]) -> None:
    order = np.random.default_rng(0).permutation(len(local))
    streamed, cached = remote.read_batch(order), local.read_batch(order)
    assert streamed.keys() == cached.keys()
    for key in cached:
        np.testing.assert_array_equal(streamed[key], cached[key])
    for index in order[:8].tolist():
        item, expected = remote[index], local[index]
        for key in ["X", *keys]:
            np.testing.assert_array_equal(item[key], expected[key])


@pytest.mark.parametrize("fmt", FORMATS)
def test_remote_shards_read_as_local_ones(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]], fmt: str
) -> None:
    paths = shards(fmt)
    urls = in_memory(paths)
    options: dict[str, Any] = {"obs_keys": ["cell_type", "batch", "score"], "layers_keys": ["X", "counts"]}
    options["obsm_keys"] = ["X_pca"]
    with MappedCollection(urls, **options) as remote, MappedCollection(paths, **options) as local:
        assert [str(p) for p in remote.path_list] == urls
        assert remote.label_names == [p.name for p in paths]
        assert remote.shape == local.shape and remote.encoders == local.encoders
        assert_same_reads(remote, local, ["counts", "obsm_X_pca", "cell_type", "batch", "score"])
        assert list(remote.get_merged_labels("donor")) == list(local.get_merged_labels("donor"))


def test_remote_shards_by_upath_filter_and_join(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]]
) -> None:
    from upath import UPath

    paths = shards("h5ad", genes=([f"g{i}" for i in range(8)], [f"g{i}" for i in range(4, 12)]))
    urls = in_memory([*paths, shards("zarr3")[0]])
    options: dict[str, Any] = {"obs_keys": ["cell_type"], "obs_filter": {"donor": "d1"}, "join": "outer"}
    remote = MappedCollection([UPath(url) for url in urls], **options)
    local = MappedCollection([*paths, shards("zarr3")[0]], **options)
    assert remote.shape == local.shape and list(remote.var_joint) == list(local.var_joint)
    assert_same_reads(remote, local, ["cell_type"])
    remote.close()
    local.close()


def test_remote_h5ad_is_read_through_hdf5_only(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]]
) -> None:
    """A remote file has no descriptor for `os.preadv`: no RawLayout, the h5py file stays open."""
    import h5py

    before = int(h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE))
    ds = MappedCollection(in_memory(shards("h5ad")), obs_keys=["cell_type"])
    ds.read_batch([0, 5, 40])
    assert all(shard.layouts == {} for shard in ds._shards)
    assert all(reader is not None and reader._raw is None for reader in ds._readers)
    assert int(h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)) == before + 2
    ds.close()
    assert int(h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)) == before


def test_remote_shards_pickle_as_url_and_filesystem(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]]
) -> None:
    urls = in_memory([shards("h5ad")[0], shards("zarr3")[1]])
    ds = MappedCollection(urls, obs_keys=["cell_type"], parallel=True)
    expected = ds.read_batch(np.arange(len(ds)))
    blob = pickle.dumps(ds)
    assert b"h5py" not in blob and urls[0].encode() in blob
    copy = pickle.loads(blob)
    assert [str(p) for p in copy.path_list] == urls
    np.testing.assert_array_equal(copy.read_batch(np.arange(len(ds)))["X"], expected["X"])
    ds.close()
    copy.close()


def test_forked_child_reopens_remote_shards(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]]
) -> None:
    """A forked child (a DataLoader worker) makes its own filesystem and files; memory:// is copied."""
    ds = MappedCollection(in_memory([shards("h5ad")[0], shards("zarr3")[1]]))
    expected = ds.read_batch(np.arange(len(ds)))["X"]
    parent_fs = ds._shards[0].path.fs  # type: ignore[union-attr]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_read_in_child, args=(ds, queue))
    child.start()
    reversed_rows, first, _ = queue.get(timeout=30)
    child.join(timeout=30)
    assert child.exitcode == 0
    np.testing.assert_array_equal(reversed_rows, expected[::-1])
    np.testing.assert_array_equal(first, expected[0])
    assert ds._shards[0].path.fs is parent_fs  # type: ignore[union-attr]
    np.testing.assert_array_equal(ds.read_batch(np.arange(len(ds)))["X"], expected)
    ds.close()


def test_remote_shards_read_in_spawned_processes(shards: Callable[..., list[Path]]) -> None:
    """The remote path (URL and filesystem) travels pickled; the process opens the file itself. A
    local filesystem through fsspec stands for the bucket: memory:// lives in one process only."""
    from fsspec.implementations.local import LocalFileSystem

    from lamella._loaders.remote import RemotePath

    paths = [shards("h5ad")[0], shards("zarr2")[1]]
    remote = [RemotePath(f"file://{path}", LocalFileSystem()) for path in paths]
    ds = MappedCollection(remote, obs_keys=["cell_type"], parallel=True)
    indices = [0, N_OBS + 1, 2 * N_OBS - 1]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        items = pool.starmap(operator.getitem, [(ds, i) for i in indices])
    with MappedCollection(paths, obs_keys=["cell_type"]) as local:
        for index, item in zip(indices, items, strict=True):
            np.testing.assert_array_equal(item["X"], local[index]["X"])
            assert item["cell_type"] == local[index]["cell_type"]
    ds.close()


class _DeniedFileSystem(MemoryFileSystem):
    protocol = "lamella-denied"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise PermissionError("Access Denied")


class _ConnectionFailed(Exception):  # what botocore raises is not an OSError
    pass


class _UnreachableFileSystem(MemoryFileSystem):
    protocol = "lamella-unreachable"

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        raise _ConnectionFailed('Could not connect to the endpoint URL: "http://127.0.0.1:9"')


def test_remote_errors_name_the_url_and_the_fix(
    shards: Callable[..., list[Path]], in_memory: Callable[[list[Path]], list[str]], folder: Path
) -> None:
    with pytest.raises(PathNotFound, match=r"no AnnData shard at memory://lamella-test/gone\.h5ad"):
        MappedCollection(["memory://lamella-test/gone.h5ad"])
    notes = folder / "notes.txt"
    notes.write_text("not an AnnData")
    (folder / "plain_dir").mkdir(exist_ok=True)
    (folder / "plain_dir" / "a.txt").write_text("a")
    text_url, folder_url = in_memory([notes, folder / "plain_dir"])
    with pytest.raises(InvalidArgument, match=rf"{text_url} is neither an HDF5"):
        MappedCollection([text_url])
    with pytest.raises(InvalidArgument, match=rf"{folder_url} is a folder but not a zarr store"):
        MappedCollection([folder_url])
    fsspec.register_implementation("lamella-denied", _DeniedFileSystem, clobber=True)
    fsspec.register_implementation("lamella-unreachable", _UnreachableFileSystem, clobber=True)
    with pytest.raises(StorageError, match=r"no permission to read lamella-denied://b/a\.h5ad.*credentials"):
        MappedCollection(["lamella-denied://b/a.h5ad"])
    with pytest.raises(StorageError, match=r"cannot read lamella-unreachable://b/a\.h5ad.*reachable"):
        MappedCollection(["lamella-unreachable://b/a.h5ad"])
    with pytest.raises(
        InvalidArgument, match=r"nosuchprotocol://b/a\.h5ad has the protocol 'nosuchprotocol'"
    ):
        MappedCollection(["nosuchprotocol://b/a.h5ad"])
    with pytest.raises(InvalidArgument, match="a shard path must be a local path, a URL"):
        MappedCollection([42])


# ---- torch ---------------------------------------------------------------------------------------------


def test_dataloader_default_collate_with_workers(shards: Callable[..., list[Path]]) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    paths = [*shards("h5ad"), *shards("zarr3")]
    ds = MappedCollection(paths, obs_keys=["cell_type", "donor"], encode_labels=["cell_type"])
    expected = ds.read_batch(np.arange(len(ds)))
    for workers in (0, 2):
        loader = DataLoader(ds, batch_size=16, shuffle=True, num_workers=workers)
        seen = []
        for batch in loader:
            assert isinstance(batch["X"], torch.Tensor) and batch["X"].shape[1] == 12
            assert batch["cell_type"].dtype == torch.int64
            idx = batch["_idx"].numpy()
            np.testing.assert_array_equal(batch["X"].numpy(), expected["X"][idx])
            np.testing.assert_array_equal(batch["cell_type"].numpy(), expected["cell_type"][idx])
            assert list(batch["donor"]) == list(expected["donor"][idx])  # strings collate to a list
            seen.extend(idx.tolist())
        assert sorted(seen) == list(range(len(ds)))
    ds.close()


def test_dataloader_spawn_workers(shards: Callable[..., list[Path]]) -> None:
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    ds = MappedCollection(shards("h5ad"), parallel=True)
    expected = ds.read_batch(np.arange(len(ds)))["X"]
    loader = DataLoader(ds, batch_size=25, num_workers=2, multiprocessing_context="spawn")
    rows = np.vstack([batch["X"].numpy() for batch in loader])
    np.testing.assert_array_equal(rows, expected)


def test_dataloader_batch_sampler_fast_path(shards: Callable[..., list[Path]]) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler

    ds = MappedCollection(shards("h5ad"), obs_keys=["cell_type"])
    expected = ds.read_batch(np.arange(len(ds)))
    sampler = BatchSampler(RandomSampler(ds), batch_size=16, drop_last=False)
    seen = []
    for batch in DataLoader(ds, sampler=sampler, batch_size=None):
        assert isinstance(batch["X"], torch.Tensor) and batch["X"].shape[1] == 12
        idx = batch["_idx"].numpy()
        np.testing.assert_array_equal(batch["X"].numpy(), expected["X"][idx])
        np.testing.assert_array_equal(batch["cell_type"].numpy(), expected["cell_type"][idx])
        seen.extend(idx.tolist())
    assert sorted(seen) == list(range(len(ds)))


def test_distributed_sampler_splits_the_indices(shards: Callable[..., list[Path]]) -> None:
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader, DistributedSampler

    ds = MappedCollection(shards("h5ad"))
    per_rank = []
    for rank in (0, 1):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=3)
        loader = DataLoader(ds, batch_size=8, sampler=sampler)
        per_rank.append([i for batch in loader for i in batch["_idx"].tolist()])
    assert len(per_rank[0]) == len(per_rank[1]) == len(ds) // 2
    assert not set(per_rank[0]) & set(per_rank[1])
    assert sorted(per_rank[0] + per_rank[1]) == list(range(len(ds)))


def test_weighted_sampler_draws_rare_labels_as_often(shards: Callable[..., list[Path]], folder: Path) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, WeightedRandomSampler

    skewed = make_adata(n_obs=200, seed=9, cell_types=("common",) * 9 + ("rare",))
    ds = MappedCollection([write(skewed, folder, "skewed", "h5ad")], obs_keys=["cell_type"])
    weights = ds.get_label_weights("cell_type")
    sampler = WeightedRandomSampler(
        torch.as_tensor(weights), num_samples=4000, generator=torch.Generator().manual_seed(0)
    )
    drawn = torch.cat([batch["cell_type"] for batch in DataLoader(ds, batch_size=500, sampler=sampler)])
    rare = ds.encoders["cell_type"]["rare"]
    # three labels (common, rare, and the one missing value): each drawn about a third of the time,
    # while rare is ~10 % of the cells
    share = (drawn == rare).float().mean().item()
    assert 0.27 < share < 0.4


# ---- the reads underneath ---------------------------------------------------------------------------


@pytest.fixture
def union_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny shards make every read a contiguous span; this forces the h5py hyperslab union and the
    zarr orthogonal selection that big shards take."""
    from lamella._loaders import ondisk

    monkeypatch.setattr(ondisk, "_SMALL_SPAN_BYTES", 0)
    monkeypatch.setattr(ondisk, "_DENSE_SPAN_SHARE", 2.0)


@pytest.mark.parametrize("fmt", ["h5ad", "zarr2", "zarr3-sharded"])
@pytest.mark.parametrize("sparse", [True, False], ids=["csr", "dense"])
def test_batches_through_scattered_reads(
    shards: Callable[..., list[Path]], union_reads: None, fmt: str, sparse: bool
) -> None:
    paths = shards(fmt, sparse, genes=(GENES_A, GENES_B))
    adatas = read_back(paths)
    ds = MappedCollection(paths, join="outer", layers_keys=["X", "counts"], obs_keys=["batch", "cell_type"])
    union = list(ds.var_joint)
    frames = [pd.DataFrame(_dense(a.X), columns=list(a.var_names)) for a in adatas]
    rows = np.vstack([f.reindex(columns=union, fill_value=0).to_numpy() for f in frames])
    obs = pd.concat([a.obs for a in adatas])
    order = np.random.default_rng(0).permutation(len(ds))[:40]
    order = np.concatenate([order, [1, 2, 3, 4, 40, 41, 1]])  # runs of rows and a repeat
    batch = ds.read_batch(order)
    np.testing.assert_array_equal(batch["X"], rows[order])
    assert list(batch["batch"]) == [ds.encoders["batch"][b] for b in obs["batch"].iloc[order]]
    for i in order[:5]:
        np.testing.assert_array_equal(ds[int(i)]["X"], rows[i])


def test_raw_layout_reads_the_bytes_hdf5_reads(tmp_path: Path, union_reads: None) -> None:
    import h5py

    from lamella._loaders.ondisk import RawLayout

    values = np.arange(1000, dtype=np.int64) * 3
    with h5py.File(tmp_path / "a.h5", "w") as handle:
        handle["contiguous"] = values
        chunked = handle.create_dataset("chunked", shape=(1000,), dtype="i8", chunks=(64,))
        for start in range(960, -1, -64):  # the last chunk first: chunks lie in the file in reverse order
            chunked[start : start + 64] = values[start : start + 64]
        handle.create_dataset("gzip", data=values, chunks=(64,), compression="gzip")
        handle.create_dataset("big_endian", data=values.astype(">i8"))
        handle.create_dataset("partial", shape=(1000,), dtype="i8", chunks=(64,))
        handle["partial"][:64] = values[:64]  # the other chunks are never written
    with h5py.File(tmp_path / "a.h5", "r") as handle, open(tmp_path / "a.h5", "rb") as raw:
        for name in ("gzip", "big_endian", "partial"):
            assert RawLayout.of(handle[name]) is None, name
        for name in ("contiguous", "chunked"):
            layout = RawLayout.of(handle[name])
            assert layout is not None, name
            starts, stops = np.array([0, 60, 130, 999]), np.array([3, 70, 260, 1000])  # across chunks
            expected = np.concatenate([values[a:b] for a, b in zip(starts, stops, strict=True)])
            np.testing.assert_array_equal(layout.read_runs(raw.fileno(), starts, stops), expected)
            np.testing.assert_array_equal(layout.read_range(raw.fileno(), 63, 129), values[63:129])


@pytest.mark.parametrize("backend", ["h5py", "zarr"])
def test_read_runs_matches_numpy(tmp_path: Path, union_reads: None, backend: str) -> None:
    import h5py
    import zarr

    from lamella._loaders.ondisk import read_runs, runs_of

    values = np.arange(200 * 3, dtype=np.float32).reshape(200, 3)
    labels = np.array([f"v{i}" for i in range(200)], dtype=object)
    if backend == "h5py":
        handle = h5py.File(tmp_path / "a.h5", "w")
        handle["m"] = values
        handle.create_dataset("s", data=labels, dtype=h5py.string_dtype())
        handle["e"] = np.arange(200)[:0]
        arrays = handle["m"], handle["s"], handle["e"]
    else:
        group = zarr.open_group(str(tmp_path / "a.zarr"), mode="w")
        group.create_array("m", data=values, chunks=(16, 3))
        group.create_array("s", data=labels.astype(np.dtypes.StringDType()), chunks=(16,))
        group.create_array("e", data=np.arange(0), chunks=(1,))
        arrays = group["m"], group["s"], group["e"]
    rows = np.array([0, 1, 2, 17, 18, 90, 150, 199])
    starts, stops = runs_of(rows)
    assert starts.tolist() == [0, 17, 90, 150, 199] and stops.tolist() == [3, 19, 91, 151, 200]
    np.testing.assert_array_equal(read_runs(arrays[0], starts, stops), values[rows])
    assert list(read_runs(arrays[1], starts, stops)) == list(labels[rows])
    # empty runs are skipped; nothing asked, nothing read
    np.testing.assert_array_equal(read_runs(arrays[0], np.array([5, 9]), np.array([5, 11])), values[9:11])
    assert read_runs(arrays[0], np.array([], dtype=int), np.array([], dtype=int)).shape == (0, 3)
    assert read_runs(arrays[2], np.array([0]), np.array([0])).shape == (0,)
