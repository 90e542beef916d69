"""Seed 003, "Tutorial: Features & labels" (LaminDB 0.7x): its code, in the page's order.

The page is one notebook whose sections build on each other: each test runs the sections before its
own (the functions below, the page's code with what it shows asserted) on a fresh instance, then its
own section.

Changes to the page's code:
- `lamindb` is `lamella`;
- the state the previous tutorial ("Tutorial: Artifacts") left is made first, locally: its notebook
  transform, the folders `iris_studies/study{0,1,2}_raw_images` (JPEGs made by
  `ln.examples.datasets.file_jpg_paradisi05()`, and `meta.csv` in study0, also an artifact of its
  own) and the three versions of the collection "Iris collection" (in LaminDB the folders lie in the
  public S3 bucket `s3://lamindb-dev-datasets`; here in the instance's local storage);
- `ulabels`, which the page uses without defining it (`ulabels.study0`), is `ln.ULabel.lookup()`;
- the notebook tracked with `ln.settings.transform.stem_uid` is this test module (a script);
- the clean-up cell's shell commands (`rm -r lamin-tutorial`, `lamin delete --force lamin-tutorial`)
  are `shutil.rmtree` and `ln.setup.delete(..., force=True)`.

Old names (`name=`, `type=`, `"cat"`, `from_df`, `.df()`, `FeatureSet`, `add_feature_set`,
`ln.core.run_context`, `ln.core.datasets`, `ln.settings.transform`) warn (DeprecationWarning), as
they should.
"""

from __future__ import annotations

import logging
import re
import shutil
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _old_names_warn_quietly() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)


@pytest.fixture(autouse=True)
def _in_the_notebooks_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's working folder: the ML model downloads its input files into it."""
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path / "docs")


def shown_graph(capsys: pytest.CaptureFixture[str]) -> str:
    """The graph a `view_*()` call just wrote (SVG, or DOT without graphviz), from the path it printed."""
    out = capsys.readouterr().out
    found = re.search(r"lineage graph: (\S+)", out)
    assert found is not None, out
    return Path(found.group(1)).read_text()


def described(capsys: pytest.CaptureFixture[str], record: Any) -> str:
    capsys.readouterr()
    record.describe()
    return capsys.readouterr().out


# ---- the state "Tutorial: Artifacts" left ------------------------------------------------------------


def artifacts_tutorial(ln: ModuleType, folder: Path) -> None:
    ln.track(ln.Transform(key="tutorial", kind="notebook", description="Tutorial: Artifacts"))
    jpg = ln.examples.datasets.file_jpg_paradisi05().read_bytes()
    images = []
    for study, n_images in enumerate((3, 4, 5)):
        images.append(folder / "iris_studies" / f"study{study}_raw_images")
        images[-1].mkdir(parents=True)
        for i in range(n_images):
            (images[-1] / f"iris-{study}{i}.jpg").write_bytes(jpg)
    ln.examples.datasets.df_iris().to_csv(images[0] / "meta.csv")
    ln.Artifact(images[0] / "meta.csv", key="iris_studies/study0_raw_images/meta.csv").save()
    folders = [ln.Artifact(path, key=f"iris_studies/{path.name}").save() for path in images]
    collection = ln.Collection(folders[0], key="Iris collection", description="Iris study 0").save()
    for n, study in ((2, "study1"), (3, "study2")):
        collection = ln.Collection(
            folders[:n], revises=collection, description=f"Now includes {study}_raw_images"
        ).save()
    ln.finish()


# ---- the page's sections ------------------------------------------------------------------------------


def recap(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    ln.settings.verbosity = "hint"
    assert ln.settings.verbosity == "hint"

    # create a label
    study0 = ln.ULabel(name="Study 0: initial plant gathering", description="My initial study").save()
    # query an artifact from the previous tutorial
    artifact = ln.Artifact.filter(key="iris_studies/study0_raw_images").one()
    # label the artifact
    artifact.labels.add(study0)
    # look at artifact metadata
    text = described(capsys, artifact)
    assert "iris_studies/study0_raw_images" in text and ".n_files = 4" in text
    assert "'tutorial' (notebook" in text  # provenance: the transform of the previous tutorial
    assert ".ulabels = 'Study 0: initial plant gathering'" in text and "Features" not in text

    feature = ln.Feature(name="study_name", dtype="cat").save()
    artifact.labels.add(study0, feature)
    assert feature.dtype == "cat[ULabel]"  # "linked feature 'study_name' to registry 'ULabel'"
    text = described(capsys, artifact)
    assert "study_name (cat[ULabel]) = 'Study 0: initial plant gathering'" in text
    assert ".ulabels = 'Study 0: initial plant gathering'" in text


def register_metadata(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> Any:
    # Register labels
    speciess = [ln.ULabel(name=name) for name in ["setosa", "versicolor", "virginica"]]
    ln.save(speciess)
    assert all(s.id is not None for s in speciess)

    is_species = ln.ULabel(name="is_species").save()
    is_species.children.set(speciess)
    capsys.readouterr()
    is_species.view_parents(with_children=True)
    graph = shown_graph(capsys)
    assert all(name in graph for name in ("is_species", "setosa", "versicolor", "virginica"))
    assert sorted(is_species.children.to_list("name")) == ["setosa", "versicolor", "virginica"]

    studies = [ln.ULabel(name=name) for name in ["study0", "study1", "study2"]]
    ln.save(studies)
    is_study = ln.ULabel(name="is_study").save()
    is_study.children.set(studies)
    is_study.view_parents(with_children=True)
    graph = shown_graph(capsys)
    assert all(name in graph for name in ("is_study", "study0", "study1", "study2"))
    edges = is_study.view_parents(with_children=True, return_graph=True).source
    assert edges.count(" -> ") == 3

    # Register features
    ln.Feature(name="iris_species_name", dtype="cat").save()

    # create a lookup object so that we can access features with auto-complete
    features = ln.Feature.lookup()
    assert features.iris_species_name.dtype == "cat[ULabel]" and features.study_name.name == "study_name"
    return features


def run_an_ml_model(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> pd.DataFrame:
    def run_ml_model() -> pd.DataFrame:
        transform = ln.Transform(name="Petal & sepal regressor", type="pipeline")
        ln.track(transform=transform)
        input_data = ln.Collection.filter(name__startswith="Iris collection", version="1").one()
        input_paths = [path.download_to(path.name) for path in input_data.artifacts[0].path.glob("*")]
        assert sorted(p.name for p in input_paths) == [
            "iris-00.jpg",
            "iris-01.jpg",
            "iris-02.jpg",
            "meta.csv",
        ]
        # apply ML model
        output_data = ln.core.datasets.df_iris_in_meter_study1()
        return output_data

    df = run_ml_model()
    # the input files lie in the working folder now
    assert sorted(p.name for p in Path.cwd().iterdir()) == [
        "iris-00.jpg",
        "iris-01.jpg",
        "iris-02.jpg",
        "meta.csv",
    ]
    assert ln.context.transform.key == "Petal & sepal regressor" and ln.context.transform.kind == "pipeline"
    assert ln.context.run.transform == ln.context.transform

    # The output is a dataframe:
    head = df.head()
    assert list(head.columns) == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
        "iris_organism_name",
    ]
    assert head.iloc[0].tolist() == [0.051, 0.035, 0.014, 0.002, "setosa"]
    assert head.iloc[4].tolist() == [0.050, 0.036, 0.014, 0.002, "setosa"]

    # And this is the pipeline that produced the dataframe:
    capsys.readouterr()
    ln.core.run_context.transform.view_parents()
    assert "sepal regressor" in shown_graph(capsys)
    return df


def register_the_output_data(ln: ModuleType, df: pd.DataFrame, features: Any) -> tuple[Any, Any]:
    new_features = ln.Feature.from_df(df)
    ln.save(new_features)
    assert {f.name: f.dtype for f in new_features} == {
        "sepal_length": "float",
        "sepal_width": "float",
        "petal_length": "float",
        "petal_width": "float",
        "iris_organism_name": "cat[ULabel]",
    }

    # How to track units of features? (the lookup's features are categorical: none gets a unit)
    for feature in features:
        if feature.type == "number":
            feature.unit = "m"  # SI unit for meters
            feature.save()
    assert ln.Feature.filter(unit="m").count() == 0

    artifact = ln.Artifact.from_df(
        df,
        description="Iris study 1 - after measuring sepal & petal metrics",
    )
    artifact.save()
    assert artifact.suffix == ".parquet" and artifact.otype == "DataFrame" and artifact.key is None
    assert artifact.run == ln.context.run and artifact.transform.key == "Petal & sepal regressor"

    artifact.features.add_feature_set(ln.FeatureSet(new_features), slot="columns")
    assert artifact.features.slots["columns"].n == 5
    return artifact, new_features


def feature_sets(ln: ModuleType, artifact: Any, features: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Get an overview of linked features:
    overview = repr(artifact.features)
    assert "columns=[sepal_length, sepal_width, petal_length, petal_width, iris_organism_name]" in overview

    columns = artifact.features["columns"].df()
    assert columns["name"].tolist() == [
        "sepal_length",
        "sepal_width",
        "petal_length",
        "petal_width",
        "iris_organism_name",
    ]
    assert columns["dtype"].tolist() == ["float"] * 4 + ["cat[ULabel]"]

    # There is one categorical feature, let's add the species labels:
    species_labels = ln.ULabel.filter(parents__name="is_species").all()
    artifact.labels.add(species_labels, feature=features.iris_species_name)

    # Let's now add study labels:
    ulabels = ln.ULabel.lookup()
    artifact.labels.add(ulabels.study0, feature=features.study_name)

    # In addition to the columns feature set, we now have an external feature set:
    overview = repr(artifact.features)
    assert "iris_species_name=['setosa', 'versicolor', 'virginica']" in overview
    assert "study_name='study0'" in overview and "columns=[sepal_length" in overview

    # This is the context for our artifact:
    text = described(capsys, artifact)
    artifact.view_lineage()
    graph = shown_graph(capsys)
    assert "iris_species_name (cat[ULabel]) = 'setosa', 'versicolor', 'virginica'" in text
    assert "study_name (cat[ULabel]) = 'study0'" in text
    assert (
        "columns" in text
        and "sepal_length, sepal_width, petal_length, petal_width, iris_organism_name" in text
    )
    assert ".ulabels = 'setosa', 'versicolor', 'virginica', 'study0'" in text
    assert "'Petal & sepal regressor' (pipeline" in text
    assert "Iris study 1 - after measuring sepal" in graph and "Petal" in graph
    edges = artifact.view_lineage(return_graph=True).source
    assert f"run_{artifact.run.uid} -> data_{artifact.uid}" in edges

    # See the database content:
    ln.view(registries=["Feature", "FeatureSet", "ULabel"])
    out = capsys.readouterr().out
    assert "Feature (7 in all" in out and "Schema (1 in all" in out and "ULabel (9 in all" in out
    assert "iris_organism_name" in out and "is_study" in out and "Artifact" not in out


def manage_follow_up_data(ln: ModuleType, artifact: Any, capsys: pytest.CaptureFixture[str]) -> None:
    # Let's track a new analysis:
    ln.settings.transform.stem_uid = "dMtrt8YMSdl6"
    ln.settings.transform.version = "1"
    ln.track()
    assert ln.context.transform.uid.startswith("dMtrt8YMSdl6") and ln.context.transform.version == "1"
    assert ln.context.transform.key == Path(__file__).name  # the notebook of the page: this script

    # Register a joint collection
    df = ln.core.datasets.df_iris_in_meter_study2()
    ln.Artifact.from_df(df, description="Iris study 2 - transformed").save()

    artifact2 = ln.Artifact.filter(description="Iris study 2 - transformed").one()
    assert artifact2.run == ln.context.run

    collection = ln.Collection([artifact, artifact2], name="Iris flower study 1 & 2 - transformed")
    collection.save()
    assert collection.key == "Iris flower study 1 & 2 - transformed"
    # "adding artifact [5] as input for run 3, adding parent transform 2"
    assert ln.context.run.input_artifacts.to_list("uid") == [artifact.uid]
    assert ln.context.transform.predecessors.to_list("key") == ["Petal & sepal regressor"]

    # Auto-concatenate datasets
    tail = collection.load().tail()
    assert tail.index.tolist() == [145, 146, 147, 148, 149]
    assert tail.loc[149].tolist() == [0.059, 0.030, 0.051, 0.018, "virginica"]
    assert tail.loc[145].tolist() == [0.067, 0.030, 0.052, 0.023, "virginica"]

    # We can also access & query the underlying two artifact objects:
    members = collection.artifacts.df()
    assert members["description"].tolist() == [
        "Iris study 1 - after measuring sepal & petal metrics",
        "Iris study 2 - transformed",
    ]

    # Or look at their data lineage:
    capsys.readouterr()
    collection.view_lineage()
    graph = shown_graph(capsys)
    assert "Iris flower study 1" in graph and "Iris study 1 - after measuring sepal" in graph
    edges = collection.view_lineage(return_graph=True).source
    assert f"data_{artifact.uid} -> run_{ln.context.run.uid}" in edges
    assert f"run_{artifact.run.uid} -> data_{artifact.uid}" in edges

    # Or look at the database:
    ln.view()
    out = capsys.readouterr().out
    for registry in ("Artifact (6 in all", "Collection (4 in all", "Transform (3 in all", "Run (3 in all"):
        assert registry in out
    assert "Feature (7 in all" in out and "Schema (1 in all" in out and "Storage (1 in all" in out
    assert "Iris collection" in out and "Now includes study2_raw_images" in out and "dMtrt8YMSdl6" in out


# ---- the tests, one per section -------------------------------------------------------------------


def test_re_cap(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)


def test_register_metadata(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)
    register_metadata(ln, capsys)


def test_run_an_ml_model(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)
    register_metadata(ln, capsys)
    run_an_ml_model(ln, capsys)


def test_register_the_output_data(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)
    features = register_metadata(ln, capsys)
    df = run_an_ml_model(ln, capsys)
    register_the_output_data(ln, df, features)


def test_feature_sets(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)
    features = register_metadata(ln, capsys)
    df = run_an_ml_model(ln, capsys)
    artifact, _ = register_the_output_data(ln, df, features)
    feature_sets(ln, artifact, features, capsys)


def test_manage_follow_up_data(ln: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    artifacts_tutorial(ln, tmp_path)
    recap(ln, capsys)
    features = register_metadata(ln, capsys)
    df = run_an_ml_model(ln, capsys)
    artifact, _ = register_the_output_data(ln, df, features)
    feature_sets(ln, artifact, features, capsys)
    manage_follow_up_data(ln, artifact, capsys)


def test_appendix_avoid_duplicates(ln: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    first = ln.ULabel(name="project1").save()
    assert first.name == "project1" and len(first.uid) == 8

    label = ln.ULabel(name="project1")
    with caplog.at_level(logging.INFO, logger="lamella"):
        label.save()
    assert "existing ULabel named 'project1'" in caplog.text  # "loaded ULabel record with same name"
    assert label.uid == first.uid and ln.ULabel.filter(name="project1").count() == 1

    other = ln.ULabel(name="project 1")
    assert other.name == "project 1" and other.uid != first.uid and other.id is None


def test_appendix_update_and_delete_records(ln: ModuleType) -> None:
    ln.ULabel(name="project1").save()

    label = ln.ULabel.filter(name="project1").first()
    assert label.name == "project1"
    label.name = "project1a"
    label.save()
    assert label.name == "project1a" and ln.ULabel.get(label.uid).name == "project1a"
    label.delete()
    assert ln.ULabel.filter(name__startswith="project1").count() == 0


def test_appendix_manage_storage(ln: ModuleType, storage_root: Path, tmp_path: Path) -> None:
    # The default storage location is:
    assert Path(str(ln.settings.storage.root)) == storage_root

    # See all storage locations
    storages = ln.Storage.df()
    assert storages["root"].tolist() == [str(storage_root)] and storages["type"].tolist() == ["local"]

    # clean up what we wrote in this notebook (`!rm -r lamin-tutorial`, `!lamin delete --force lamin-tutorial`)
    shutil.rmtree(storage_root)
    ln.setup.delete("data", force=True)
    assert [config.name for config in ln.setup.list_instances()] == []
