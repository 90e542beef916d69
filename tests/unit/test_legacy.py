"""Code written for earlier LaminDB eras: old names and arguments work and warn with today's spelling."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella._query.legacy_lookups import LegacyAPIWarning
from lamella.errors import InvalidArgument


def frame(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n), "b": [f"x{i}" for i in range(n)]})


@pytest.fixture
def quiet() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def test_file_is_an_artifact_with_its_name_as_description(ln: ModuleType) -> None:
    with pytest.warns(LegacyAPIWarning, match=r"ln\.File\(\.\.\.\) is deprecated; use ln\.Artifact"):
        file = ln.File(frame(), name="table")
    assert isinstance(file, ln.Artifact) and isinstance(file, ln.File)
    assert file.description == "table" and file.suffix == ".parquet"
    with pytest.warns(LegacyAPIWarning, match=r"record\.save\(\)"):
        ln.add(file)
    assert file.id is not None
    with pytest.warns(LegacyAPIWarning, match=r"ln\.Artifact\.filter"):
        found = ln.select(ln.File, name="table").one()
    assert found == file


def test_the_warning_points_at_the_users_line(ln: ModuleType) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ln.File(frame(), name="here")
    assert caught and Path(caught[0].filename).name == "test_legacy.py"
    assert issubclass(caught[0].category, DeprecationWarning)


def test_file_from_dir_makes_one_artifact_per_file(ln: ModuleType, tmp_path: Path, quiet: Any) -> None:
    folder = tmp_path / "images"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    files = ln.File.from_dir(folder)
    assert [f.key for f in files] == ["images/a.txt", "images/sub/b.txt"]
    ln.add(files)
    assert ln.Artifact.filter(key__startswith="images/").count() == 2
    with pytest.raises(InvalidArgument, match="takes a folder"):
        ln.File.from_dir(folder / "a.txt")


def test_is_new_version_of_and_version(ln: ModuleType, quiet: Any) -> None:
    first = ln.File(frame(2), name="versioned", version="1")
    first.save()
    second = ln.File(frame(3), is_new_version_of=first, version="2")
    second.save()
    assert second.stem_uid == first.stem_uid and second.is_latest
    assert second.description == "versioned"
    assert [a.version for a in second.versions.order_by("created_at")] == ["1", "2"]
    with pytest.warns(LegacyAPIWarning, match=r"revises="):
        ln.Artifact.from_dataframe(frame(4), is_new_version_of=second)


def test_dataset_of_a_dataframe_saves_its_artifact_with_it(ln: ModuleType, quiet: Any) -> None:
    dataset = ln.Dataset(frame(5), name="my dataset")
    assert isinstance(dataset, ln.Collection) and dataset.id is None
    assert ln.Artifact.filter().count() == 0  # nothing is written before save()
    dataset.save()
    assert dataset.key == "my dataset" and dataset.artifacts.count() == 1
    assert len(dataset.load()) == 5
    assert dataset.file == dataset.data_artifact and dataset.files.count() == 1
    v2 = ln.Dataset(frame(6), name="my dataset", is_new_version_of=dataset)
    v2.save()
    assert v2.stem_uid == dataset.stem_uid and v2.is_latest and len(v2.load()) == 6
    assert v2.data_artifact.stem_uid == dataset.data_artifact.stem_uid  # its artifact is versioned too
    again = ln.Dataset.from_df(frame(5), description="the same data again")
    again.save()
    assert again.id == dataset.id  # the same artifacts: the existing collection, in the user's variable


def test_dataset_of_artifacts_and_from_anndata(ln: ModuleType, quiet: Any) -> None:
    import anndata as ad
    import numpy as np

    parts = [ln.Artifact.from_dataframe(frame(n), key=f"p/{n}.parquet").save() for n in (2, 3)]
    dataset = ln.Dataset(parts, name="parts").save()
    assert [a.uid for a in dataset.ordered_artifacts] == [p.uid for p in parts]
    adata = ad.AnnData(np.ones((2, 2), dtype="float32"))
    cells = ln.Dataset.from_anndata(adata, name="cells", field=None)
    cells.save()
    with cells.backed() as backed:
        assert backed.shape == (2, 2)
    with pytest.raises(InvalidArgument, match="several artifacts"):
        dataset.backed()


def test_old_lookups_and_arguments_translate(ln: ModuleType) -> None:
    artifact = ln.Artifact.from_dataframe(frame(), key="old/lookups.parquet", description="described").save()
    with pytest.warns(LegacyAPIWarning, match=r"filter\(description=\.\.\.\)"):
        assert ln.Artifact.filter(name="described").one() == artifact
    with pytest.warns(LegacyAPIWarning, match="branch_id"):
        assert ln.Artifact.filter(visibility=1).count() == 1
    artifact.delete()
    with pytest.warns(LegacyAPIWarning):
        assert ln.Artifact.filter(visibility=2).one() == artifact  # the oldest scheme's trash
    with pytest.warns(LegacyAPIWarning):
        assert ln.Artifact.filter(visibility=-1).count() == 1
    with pytest.warns(LegacyAPIWarning):
        assert ln.Artifact.filter(visibility=None, key="old/lookups.parquet").count() == 1
    collection = ln.Collection(
        ln.Artifact.from_dataframe(frame(7), key="seven.parquet").save(), key="named"
    ).save()
    with pytest.warns(LegacyAPIWarning, match=r"filter\(key=\.\.\.\)"):
        assert ln.Collection.filter(name="named").one() == collection
    with pytest.warns(LegacyAPIWarning, match=r"Collection\(key=\.\.\.\)"):
        renamed = ln.Collection(collection.data_artifact, name="by old name")
    assert renamed.key == "by old name"


def test_add_of_a_list_saves_in_bulk(ln: ModuleType) -> None:
    with pytest.warns(LegacyAPIWarning, match=r"ln\.save\(records\)"):
        ln.add([ln.ULabel(name="x"), ln.ULabel(name="y")])
    assert ln.ULabel.filter().count() == 2


def test_feature_set_is_schema(ln: ModuleType) -> None:
    features = ln.Feature.from_dataframe(frame())
    ln.save(features)
    with pytest.warns(DeprecationWarning, match="ln.Schema"):
        feature_set = ln.FeatureSet(features).save()
    assert isinstance(feature_set, ln.Schema) and feature_set.n == 2


# ---- ln.schema (lnschema_core), ln.core / ln.dev ----------------------------------------------------


def test_schema_notebook_is_a_transform_of_kind_notebook(ln: ModuleType) -> None:
    with pytest.warns(
        LegacyAPIWarning,
        match=r"ln\.schema\.Notebook\(\.\.\.\) is deprecated; use ln\.Transform\(\.\.\., kind='notebook'\)",
    ):
        notebook = ln.schema.Notebook(name="analysis.ipynb", title="My analysis", v="1")
    assert isinstance(notebook, ln.Transform) and isinstance(notebook, ln.schema.Notebook)
    assert (notebook.key, notebook.kind, notebook.description, notebook.version) == (
        "analysis.ipynb",
        "notebook",
        "My analysis",
        "1",
    )
    notebook.save()
    pipeline = ln.Transform(key="flow", kind="pipeline").save()
    assert not isinstance(pipeline, ln.schema.Notebook) and isinstance(pipeline, ln.schema.Pipeline)
    with pytest.warns(LegacyAPIWarning, match=r"ln\.Transform\.filter\(kind='notebook', \.\.\.\)"):
        assert ln.schema.Notebook.filter().one() == notebook  # only notebooks
    with pytest.warns(
        LegacyAPIWarning, match=r"ln\.schema\.Notebook\.get is deprecated; use ln\.Transform\.get"
    ):
        assert ln.schema.Notebook.get(notebook.uid) == notebook


def test_schema_file_dataset_and_label_are_todays_registries(ln: ModuleType) -> None:
    with pytest.warns(LegacyAPIWarning, match=r"ln\.schema\.File\(\.\.\.\) is deprecated; use ln\.Artifact"):
        file = ln.schema.File(frame(), name="table")
    assert isinstance(file, ln.Artifact) and isinstance(file, ln.schema.DObject)
    file.save()
    with pytest.warns(LegacyAPIWarning, match=r"ln\.Collection\(\.\.\.\)"):
        dataset = ln.schema.Dataset(file, name="tables").save()
    assert isinstance(dataset, ln.Collection) and dataset.key == "tables"
    with pytest.warns(LegacyAPIWarning, match=r"ln\.ULabel\(\.\.\.\)"):
        label = ln.schema.Label(name="tumor").save()
    assert isinstance(label, ln.ULabel)
    with pytest.warns(LegacyAPIWarning) as caught:
        assert ln.select(ln.schema.File, description="table").one() == file
    assert len(caught) == 1  # one use, one warning


@pytest.mark.parametrize("name", ["Transform", "Run", "Storage", "User", "Feature", "Artifact", "ULabel"])
def test_schema_names_of_todays_registries_warn_and_are_them(ln: ModuleType, name: str) -> None:
    with pytest.warns(LegacyAPIWarning, match=rf"ln\.schema\.{name} is deprecated; use ln\.{name}$"):
        registry = getattr(ln.schema, name)
    assert registry is getattr(ln, name)


def test_schema_warnings_point_at_the_users_line(ln: ModuleType) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ln.schema.Run  # noqa: B018
        ln.schema.Notebook(name="n.ipynb")
        ln.schema.File.filter  # noqa: B018
    assert len(caught) == 3
    assert {Path(w.filename).name for w in caught} == {"test_legacy.py"}
    with pytest.raises(AttributeError, match=r"ln\.Artifact"):
        ln.schema.Modality  # noqa: B018
    assert "Notebook" in dir(ln.schema) and "Transform" in dir(ln.schema)


def test_no_lnschema_core_module_is_importable() -> None:
    with pytest.raises(ImportError):
        __import__("lnschema_core")


@pytest.mark.parametrize("old", ["core", "dev"])
def test_core_run_context_is_the_context(ln: ModuleType, old: str) -> None:
    namespace = getattr(ln, old)  # looking the namespace up is silent
    with pytest.warns(LegacyAPIWarning, match=rf"ln\.{old}\.run_context is deprecated; use ln\.context$"):
        run_context = namespace.run_context
    assert run_context is ln.context
    run = ln.track(ln.Transform(key="p", kind="pipeline"))
    with pytest.warns(LegacyAPIWarning):
        assert namespace.run_context.run == run
    ln.finish()
    with pytest.warns(LegacyAPIWarning, match=r"ln\.examples\.datasets"):
        assert namespace.datasets is ln.examples.datasets
    with pytest.raises(AttributeError, match=rf"ln\.{old}\.run_context"):
        namespace.nothing_here  # noqa: B018


def test_old_names_warn_on_attribute_use(ln: ModuleType) -> None:
    with pytest.warns(LegacyAPIWarning, match=r"ln\.File\.filter is deprecated; use ln\.Artifact\.filter"):
        assert ln.File.filter().count() == 0


def test_renamed_methods_warn_and_work(ln: ModuleType) -> None:
    df = frame()
    with pytest.warns(
        LegacyAPIWarning, match=r"Artifact\.from_df\(\) is deprecated; use Artifact\.from_dataframe"
    ):
        artifact = ln.Artifact.from_df(df, key="renamed.parquet").save()
    with pytest.warns(LegacyAPIWarning, match=r"QuerySet\.df\(\)"):
        assert list(ln.Artifact.filter(key="renamed.parquet").df()["uid"]) == [artifact.uid]
    with pytest.warns(LegacyAPIWarning, match=r"ULabel\.df\(\)"):
        ln.ULabel.df()
    with pytest.warns(LegacyAPIWarning, match=r"Feature\.from_df"):
        features = ln.Feature.from_df(df)
    ln.save(features)
    schema = ln.Schema(features).save()
    with pytest.warns(LegacyAPIWarning, match=r"add_schema"):
        artifact.features.add_feature_set(schema, slot="columns")
    assert artifact.features.slots["columns"] == schema
    with pytest.warns(LegacyAPIWarning, match=r"features\.slots"):
        assert artifact.features["columns"].to_list("name") == schema.members.to_list("name")
