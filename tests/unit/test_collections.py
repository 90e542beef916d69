"""Collections: versions, their artifacts in order, and reading them as one (load, open, cache).

The map-style dataset behind `collection.mapped()` has its own tests (test_mapped.py); here it is
reached through the registry.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from lamella.errors import InvalidArgument


def frame(offset: int, n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(offset, offset + n, dtype="int64"), "y": [f"v{i}" for i in range(n)]})


def adata(var_names: list[str], n_obs: int, prefix: str) -> ad.AnnData:
    rng = np.random.default_rng(len(prefix) + n_obs)
    return ad.AnnData(
        rng.poisson(2.0, size=(n_obs, len(var_names))).astype("float32"),
        obs=pd.DataFrame(
            {"cell_type": pd.Categorical(rng.choice(["B", "T"], size=n_obs))},
            index=[f"{prefix}{i}" for i in range(n_obs)],
        ),
        var=pd.DataFrame(index=var_names),
    )


@pytest.fixture
def tables(ln: ModuleType) -> list[Any]:
    return [ln.Artifact.from_dataframe(frame(10 * i), key=f"tables/part{i}.parquet").save() for i in range(3)]


def test_load_concatenates_dataframes_in_order(ln: ModuleType, tables: list[Any]) -> None:
    collection = ln.Collection(tables[:2], key="parts").save()
    loaded = collection.load()
    assert list(loaded["x"]) == [0, 1, 2, 3, 10, 11, 12, 13]
    assert list(loaded.columns) == ["x", "y"]
    reversed_ = ln.Collection(tables[1::-1], key="parts reversed").save()
    assert list(reversed_.load()["x"])[:2] == [10, 11]


def test_inner_join_keeps_the_shared_columns(ln: ModuleType) -> None:
    first = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1], "b": [2]}), key="j/1.parquet").save()
    second = ln.Artifact.from_dataframe(pd.DataFrame({"b": [3], "c": [4]}), key="j/2.parquet").save()
    collection = ln.Collection([first, second], key="joins").save()
    assert list(collection.load(join="inner").columns) == ["b"]
    outer = collection.load()
    assert sorted(outer.columns) == ["a", "b", "c"] and outer["a"].isna().sum() == 1
    with pytest.raises(InvalidArgument, match=r"join='left'.*'outer'"):
        collection.load(join="left")


def test_anndata_shards_load_as_one_with_their_artifact_named(ln: ModuleType) -> None:
    shards = [
        ln.Artifact.from_anndata(adata(["A", "B", "C"], 3, "p"), key="ad/0.h5ad").save(),
        ln.Artifact.from_anndata(adata(["B", "C", "D"], 2, "q"), key="ad/1.h5ad").save(),
    ]
    collection = ln.Collection(shards, key="cells").save()
    outer = collection.load(join="outer")
    assert outer.shape == (5, 4)
    assert list(outer.obs["artifact_uid"]) == [shards[0].uid] * 3 + [shards[1].uid] * 2
    assert list(outer.obs_names) == ["p0", "p1", "p2", "q0", "q1"]  # unique ids are kept
    inner = collection.load(join="inner")
    assert sorted(inner.var_names) == ["B", "C"]
    np.testing.assert_allclose(inner[:3, "B"].X.ravel(), shards[0].load()[:, "B"].X.ravel())


def test_repeated_cell_ids_are_made_unique(ln: ModuleType) -> None:
    shards = [ln.Artifact.from_anndata(adata(["A"], n, "c"), key=f"dup/{n}.h5ad").save() for n in (2, 3)]
    loaded = ln.Collection(shards, key="dups").save().load()
    assert loaded.obs_names.is_unique and loaded.n_obs == 5


def test_an_artifact_is_in_a_collection_once(ln: ModuleType, tables: list[Any]) -> None:
    with pytest.raises(InvalidArgument, match=rf"{tables[0].uid}.*twice"):
        ln.Collection([tables[0], tables[1], tables[0]], key="repeats")
    assert ln.Collection.filter(key="repeats").count() == 0


def test_mixed_kinds_are_refused_with_a_clear_error(ln: ModuleType, tables: list[Any]) -> None:
    cells = ln.Artifact.from_anndata(adata(["A"], 2, "m"), key="mixed/cells.h5ad").save()
    collection = ln.Collection([tables[0], cells], key="mixed").save()
    with pytest.raises(InvalidArgument, match=r"mixes artifacts of different kinds: 1 DataFrame.*1 AnnData"):
        collection.load()
    with pytest.raises(InvalidArgument, match="mixes"):
        collection.open()
    with pytest.raises(InvalidArgument, match="mixes"):
        collection.mapped()


def test_open_is_a_pyarrow_dataset_over_the_shards(ln: ModuleType, tables: list[Any]) -> None:
    import pyarrow.dataset as ds

    collection = ln.Collection(tables, key="opened").save()
    dataset = collection.open()
    assert isinstance(dataset, ds.Dataset)
    assert dataset.count_rows() == 12
    assert dataset.to_table(filter=ds.field("x") >= 20).num_rows == 4
    assert sorted(dataset.files) == sorted(str(path) for path in collection.cache())


def test_open_refuses_anndata_shards_and_names_what_to_use(ln: ModuleType) -> None:
    cells = ln.Artifact.from_anndata(adata(["A"], 2, "o"), key="open/cells.h5ad").save()
    with pytest.raises(InvalidArgument, match=r"\.h5ad files.*mapped\(\)"):
        ln.Collection([cells], key="cells to open").save().open()


def test_open_with_polars(ln: ModuleType, tables: list[Any]) -> None:
    pl = pytest.importorskip("polars")
    lazy = ln.Collection(tables, key="polars").save().open(engine="polars")
    assert isinstance(lazy, pl.LazyFrame)
    assert lazy.filter(pl.col("x") < 12).collect().height == 6
    with pytest.raises(InvalidArgument, match="engine='duckdb'"):
        ln.Collection(tables, key="polars").save().open(engine="duckdb")


def test_append_makes_the_next_version(ln: ModuleType, tables: list[Any]) -> None:
    v1 = ln.Collection(tables[:2], key="growing", description="parts").save()
    v2 = v1.append(tables[2]).save()
    assert v2.stem_uid == v1.stem_uid and v2.uid != v1.uid
    assert v2.is_latest and not ln.Collection.get(v1.uid).is_latest
    assert [a.uid for a in v2.ordered_artifacts] == [a.uid for a in tables]
    assert v2.description == "parts" and v2.versions.count() == 2
    assert ln.Collection.get(key="growing") == v2
    with pytest.raises(InvalidArgument, match="takes an Artifact"):
        v2.append("not an artifact")


def test_data_and_meta_artifacts(ln: ModuleType, tables: list[Any]) -> None:
    meta = ln.Artifact.from_dataframe(pd.DataFrame({"sample": ["s1"]}), key="meta/samples.parquet").save()
    single = ln.Collection(tables[0], key="single", meta_artifact=meta).save()
    assert single.data_artifact == tables[0]
    assert ln.Collection.get(single.uid).meta_artifact == meta
    assert ln.Collection(tables, key="several").save().data_artifact is None


def test_describe_lists_the_artifacts_in_order(
    ln: ModuleType, tables: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ln.Collection(tables, key="described").save().describe()
    out = capsys.readouterr().out
    assert "Artifacts" in out and "(3)" in out
    positions = [out.index(a.uid) for a in tables]
    assert positions == sorted(positions)


def test_reading_a_collection_records_it_and_its_artifacts_as_run_inputs(
    ln: ModuleType, tables: list[Any]
) -> None:
    collection = ln.Collection(tables[:2], key="inputs").save()
    run = ln.track(ln.Transform(key="reader.py", kind="script"))
    collection.load()
    ln.finish()
    assert [c.uid for c in run.input_collections.all()] == [collection.uid]
    assert sorted(a.uid for a in run.input_artifacts.all()) == sorted(a.uid for a in tables[:2])

    quiet = ln.track(ln.Transform(key="quiet.py", kind="script"))
    collection.open(is_run_input=False)
    ln.finish()
    assert quiet.input_collections.count() == 0 and quiet.input_artifacts.count() == 0


def test_collecting_artifacts_records_them_as_run_inputs(ln: ModuleType, tables: list[Any]) -> None:
    # as in LaminDB: a run that makes a collection of artifacts read them (and the version it revises)
    first = ln.Collection(tables[:1], key="joint").save()
    run = ln.track(ln.Transform(key="joiner.py", kind="script"))
    own = ln.Artifact.from_dataframe(frame(100), key="tables/own.parquet").save()
    joint = ln.Collection([tables[1], own], revises=first).save()
    assert joint.version == "2"
    assert run.input_artifacts.to_list("uid") == [tables[1].uid]  # not what the run made itself
    assert run.input_collections.to_list("uid") == [first.uid]
    again = ln.track(ln.Transform(key="again.py", kind="script"))
    ln.Collection([tables[1], own], key="joint").save()  # the same artifacts: the saved collection
    assert sorted(again.input_artifacts.to_list("uid")) == sorted([tables[1].uid, own.uid])
    ln.finish()
    ln.settings.track_run_inputs = False
    quiet = ln.track(ln.Transform(key="quiet.py", kind="script"))
    ln.Collection(tables[2], key="third").save()
    assert quiet.input_artifacts.count() == 0
    ln.finish()


def test_a_query_loads_its_artifacts_as_one(ln: ModuleType, tables: list[Any]) -> None:
    loaded = ln.Artifact.filter(key__startswith="tables/").order_by("key").load()
    assert len(loaded) == 12 and list(loaded["x"])[:5] == [0, 1, 2, 3, 10]
    with pytest.raises(InvalidArgument, match="hold no data to load"):
        ln.ULabel.filter().load()
    with pytest.raises(InvalidArgument, match="holds no artifacts"):
        ln.Artifact.filter(key="nothing").load()


def test_an_unsaved_collection_cannot_be_read(ln: ModuleType, tables: list[Any]) -> None:
    with pytest.raises(InvalidArgument, match="save"):
        ln.Collection(tables, key="unsaved").load()


def test_an_opened_anndata_shard_closes_at_the_end_of_a_with_block(ln: ModuleType) -> None:
    shard = ln.Artifact.from_anndata(adata(["A", "B"], 3, "w"), key="with/cells.h5ad").save()
    with shard.open() as backed:
        assert isinstance(backed, ad.AnnData) and backed.isbacked
        np.testing.assert_allclose(backed.X[1], shard.load().X[1])
    assert not backed.file.is_open
    zarr_shard = ln.Artifact(adata(["A"], 2, "z"), key="with/cells.zarr", format="zarr").save()
    with zarr_shard.open() as lazy:
        assert lazy.n_obs == 2


def test_mudata_shards_load_as_one(ln: ModuleType) -> None:
    mudata = pytest.importorskip("mudata")
    shards = [
        ln.Artifact.from_mudata(
            mudata.MuData({"rna": adata(["A", "B"], n, f"m{n}_"), "adt": adata(["P"], n, f"m{n}_")}),
            key=f"mu/{n}.h5mu",
        ).save()
        for n in (2, 3)
    ]
    loaded = ln.Collection(shards, key="multimodal").save().load()
    assert isinstance(loaded, mudata.MuData)
    assert loaded.n_obs == 5 and set(loaded.mod) == {"rna", "adt"}
    assert loaded["rna"].shape == (5, 2)
    with pytest.raises(InvalidArgument, match="takes a MuData object, not AnnData"):
        ln.Artifact.from_mudata(adata(["A"], 2, "x"), key="mu/wrong.h5mu")


def test_mapped_reads_the_shards_of_a_collection(ln: ModuleType) -> None:
    shards = [
        ln.Artifact.from_anndata(adata(["A", "B", "C"], 4, "r"), key="mapped/0.h5ad").save(),
        ln.Artifact(adata(["B", "C", "D"], 3, "s"), key="mapped/1.zarr", format="zarr").save(),
    ]
    collection = ln.Collection(shards, key="to map").save()
    run = ln.track(ln.Transform(key="train.py", kind="script"))
    with collection.mapped(obs_keys=["cell_type"], join="inner") as dataset:
        assert len(dataset) == 7 and sorted(dataset.var_joint) == ["B", "C"]
        assert dataset.label_names == ["mapped/0.h5ad", "mapped/1.zarr"]
        last = dataset[6]
        expected = shards[1].load()[2, list(dataset.var_joint)].X
        np.testing.assert_allclose(last["X"], np.asarray(expected).ravel())
        assert last["cell_type"] == dataset.encoders["cell_type"][shards[1].load().obs["cell_type"].iloc[2]]
    ln.finish()
    assert [c.uid for c in run.input_collections.all()] == [collection.uid]
    assert run.input_artifacts.count() == 2
    with collection.mapped(join="outer") as outer:
        assert outer.shape == (7, 4)


def test_mapped_refuses_tables(ln: ModuleType, tables: list[Any]) -> None:
    with pytest.raises(InvalidArgument, match=r"mapped\(\) reads AnnData shards"):
        ln.Collection(tables, key="tables to map").save().mapped()


def test_a_collection_of_the_same_artifacts_is_the_saved_one_in_the_users_variable(
    ln: ModuleType, tables: list[Any]
) -> None:
    first = ln.Collection(tables[:2], key="same artifacts").save()
    again = ln.Collection(tables[:2], key="same artifacts")
    assert again.save() == first and again.id == first.id
    assert list(again.load()["x"]) == list(first.load()["x"])


def test_an_unsaved_meta_artifact_is_refused_before_anything_is_written(
    ln: ModuleType, tables: list[Any]
) -> None:
    meta = ln.Artifact.from_dataframe(pd.DataFrame({"s": ["s1"]}), key="meta/unsaved.parquet")
    with pytest.raises(InvalidArgument, match="save the meta artifact first"):
        ln.Collection(tables[:1], key="with unsaved meta", meta_artifact=meta).save()
    assert ln.Collection.filter(key="with unsaved meta").count() == 0
    assert ln.Artifact.filter(key="meta/unsaved.parquet").count() == 0
