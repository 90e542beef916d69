"""Seed 004, "LaminDB Core Concepts" (LaminDB 2.x): its code, in the page's order, one test per section.

A section whose examples use what an earlier one made (`artifact`, `output.csv`) runs that section's
code first (the functions below, the page's code with what it shows asserted), on a fresh instance.

Changes to the page's code:
- `lamindb` is `lamella`;
- the files the page reads (`sample.fasta`, `data/analysis.h5ad`, `data.csv`, `data.h5ad`,
  `input.csv`, `raw/batch{1,2}.csv`, `raw/data.csv`) are made here first, from
  `ln.examples.datasets` (iris, `anndata_with_obs()`) or a few lines of text; `# ... perform
  analysis ...` is `result = data * 2`;
- `ln.Artifact.get("aRt1Fact0uid000")`, a placeholder uid, raises `DoesNotExist`; the example then
  runs with the uid of the artifact just retrieved;
- streaming access: `f.read(1000)` is a file handle's method, so that example runs on the FASTA
  artifact (`open()` gives a text handle); `open()` of the `.h5ad` artifact the page has in
  `artifact` at that point is a backed AnnData (as in LaminDB), read by slicing;
- the tracked script of "Basic Tracking Workflow" is this test module (`ln.track()` finds it); in
  "Data Lineage Tracking" the page's `preprocessing.py` is written and run as a script, by the
  page's user `researcher123` (`ln.setup.login("researcher123")`), reading `raw/data.csv`;
- tracking with a project: an artifact is saved in that run, so that the project's query finds one;
- querying by features: a second artifact (`input.csv`) is annotated with `read_count`, `cell_type`,
  `treatment` (and another `gc_content`), so that each query has something to find and something
  to leave out; the nested-dictionary queries need a `dict` feature `study_metadata` with a value,
  which the page does not show: they are made first.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import anndata as ad
import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _old_names_warn_quietly() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)


@pytest.fixture(autouse=True)
def _in_a_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project").mkdir()  # beside the instance's storage, tmp_path/data
    monkeypatch.chdir(tmp_path / "project")


def printed(capsys: pytest.CaptureFixture[str], call: Callable[[], Any]) -> str:
    capsys.readouterr()
    call()
    return capsys.readouterr().out


def shown_graph(out: str) -> str:
    """The graph a `view_lineage()` call wrote (SVG, or DOT without graphviz), from the path it printed."""
    found = re.search(r"lineage graph: (\S+)", out)
    assert found is not None, out
    return Path(found.group(1)).read_text()


def keys(queryset: Any) -> list[str]:
    return sorted(queryset.to_dataframe()["key"])


# ---- Artifacts ------------------------------------------------------------------------------------


def create_and_save_artifacts(ln: ModuleType) -> None:
    Path("sample.fasta").write_text(">seq1\nACGTACGTGGCC\n>seq2\nGGGCCCAAATTT\n")
    Path("data").mkdir()
    ln.examples.datasets.anndata_with_obs().write_h5ad("data/analysis.h5ad")
    ln.examples.datasets.df_iris().to_csv("data.csv", index=False)
    ln.examples.datasets.anndata_with_obs()[:10].copy().write_h5ad("data.h5ad")

    # From file:
    # Save a file as artifact
    ln.Artifact("sample.fasta", key="sample.fasta").save()

    # With description
    artifact = ln.Artifact(
        "data/analysis.h5ad", key="experiments/scrna_batch1.h5ad", description="Single-cell RNA-seq batch 1"
    ).save()
    assert artifact.suffix == ".h5ad" and artifact.size == Path("data/analysis.h5ad").stat().st_size
    assert ln.Artifact.get(key="sample.fasta").suffix == ".fasta"

    # From DataFrame:
    df = pd.read_csv("data.csv")
    artifact = ln.Artifact.from_dataframe(
        df, key="datasets/processed_data.parquet", description="Processed experimental data"
    ).save()
    assert artifact.otype == "DataFrame" and artifact.n_observations == 150
    pd.testing.assert_frame_equal(artifact.load(), df)

    # From AnnData:
    adata = ad.read_h5ad("data.h5ad")
    artifact = ln.Artifact.from_anndata(
        adata, key="scrna/experiment1.h5ad", description="scRNA-seq data with QC"
    ).save()
    assert artifact.otype == "AnnData" and artifact.n_observations == 10
    assert ln.Artifact.filter().count() == 4


def test_creating_and_saving_artifacts(ln: ModuleType) -> None:
    create_and_save_artifacts(ln)


def test_retrieving_accessing_and_describing_artifacts(
    ln: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    create_and_save_artifacts(ln)

    # Retrieving Artifacts
    # By key
    artifact = ln.Artifact.get(key="sample.fasta")
    assert artifact.key == "sample.fasta"

    # By UID
    with pytest.raises(ln.errors.DoesNotExist, match="aRt1Fact0uid000"):
        ln.Artifact.get("aRt1Fact0uid000")
    assert ln.Artifact.get(artifact.uid) == artifact
    assert ln.Artifact.get(artifact.uid[:16]) == artifact  # the stem uid: the latest version

    # By filter
    artifact = ln.Artifact.filter(suffix=".h5ad").first()
    assert artifact.key == "experiments/scrna_batch1.h5ad"

    # Accessing Artifact Content
    # Get cached local path
    local_path = artifact.cache()
    assert local_path.is_file() and local_path.suffix == ".h5ad"

    # Load into memory
    data = artifact.load()  # Returns DataFrame, AnnData, etc.
    assert isinstance(data, ad.AnnData) and data.shape == (40, 100)

    # Streaming access (for large files): a backed AnnData for .h5ad, read by slicing
    with artifact.open() as f:
        assert f.isbacked and f.shape == (40, 100)
        assert f.X[:2].shape == (2, 100)
    # ... and a file handle for a text file: read incrementally
    with ln.Artifact.get(key="sample.fasta").open() as f:
        # Read incrementally
        chunk = f.read(1000)
    assert chunk == Path("sample.fasta").read_text()

    # Artifact Metadata
    # View all metadata
    text = printed(capsys, artifact.describe)
    assert "Artifact .h5ad" in text and ".key = 'experiments/scrna_batch1.h5ad'" in text
    assert (
        ".description = 'Single-cell RNA-seq batch 1'" in text and "no run: saved outside ln.track()" in text
    )

    # Access specific metadata
    assert artifact.size == Path("data/analysis.h5ad").stat().st_size  # File size in bytes
    assert artifact.suffix == ".h5ad"  # File extension
    assert isinstance(artifact.created_at, datetime)  # Timestamp
    assert artifact.created_by.handle == ln.setup.settings.user.handle  # User who created it
    assert artifact.run is None  # Associated run: saved outside a run
    assert artifact.transform is None  # Associated transform
    assert artifact.version == "1"  # Version string


# ---- Records --------------------------------------------------------------------------------------


def test_records(ln: ModuleType) -> None:
    # Creating Records
    # Define a type
    sample_type = ln.Record(name="Sample", is_type=True).save()

    # Create instances of that type
    ln.Record(name="P53mutant1", type=sample_type).save()
    ln.Record(name="P53mutant2", type=sample_type).save()
    ln.Record(name="WT-control", type=sample_type).save()

    # Searching Records
    # Text search
    found = ln.Record.search("p53").to_dataframe()
    assert sorted(found["name"][:2]) == ["P53mutant1", "P53mutant2"] and "WT-control" not in set(
        found["name"]
    )

    # Filter by fields
    samples = ln.Record.filter(type=sample_type).to_dataframe()
    assert sorted(samples["name"]) == ["P53mutant1", "P53mutant2", "WT-control"]

    # Get specific record
    record = ln.Record.get(name="P53mutant1")
    assert record.type == sample_type and not record.is_type

    # Hierarchical Relationships
    # Establish parent-child relationships
    parent_record = ln.Record.get(name="P53mutant1")
    child_record = ln.Record(name="P53mutant1-replicate1", type=sample_type).save()
    child_record.parents.add(parent_record)

    # Query relationships
    assert parent_record.children.to_dataframe()["name"].tolist() == ["P53mutant1-replicate1"]
    assert child_record.parents.to_dataframe()["name"].tolist() == ["P53mutant1"]


# ---- Runs & Transforms ----------------------------------------------------------------------------


def basic_tracking_workflow(ln: ModuleType) -> None:
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 7.0]}).to_csv("input.csv", index=False)
    ln.Artifact("input.csv", key="input.csv").save()

    # Start tracking (beginning of notebook/script)
    ln.track()

    # Your analysis code
    data = ln.Artifact.get(key="input.csv").load()
    # ... perform analysis ...
    result = data * 2
    result.to_csv("output.csv")
    artifact = ln.Artifact("output.csv", key="output.csv").save()

    # Finish tracking (end of notebook/script)
    ln.finish()

    run = artifact.run
    assert run is not None and run.status == "completed" and run.finished_at is not None
    assert run.transform.key == Path(__file__).name and run.transform.kind == "script"
    assert "ln.track()" in run.transform.source_code
    assert run.input_artifacts.to_list("key") == ["input.csv"]


def test_basic_tracking_workflow(ln: ModuleType) -> None:
    basic_tracking_workflow(ln)


def test_tracking_with_parameters(ln: ModuleType) -> None:
    ln.track(params={"learning_rate": 0.01, "batch_size": 32, "epochs": 100, "downsample": True})
    run = ln.context.run
    assert run.params == {"learning_rate": 0.01, "batch_size": 32, "epochs": 100, "downsample": True}

    # Query runs by parameters
    assert ln.Run.filter(params__learning_rate=0.01).to_dataframe()["uid"].tolist() == [run.uid]
    assert ln.Run.filter(params__downsample=True).to_dataframe()["uid"].tolist() == [run.uid]
    ln.track(params={"learning_rate": 0.1, "downsample": False})
    assert ln.Run.filter(params__learning_rate=0.01).to_dataframe()["uid"].tolist() == [run.uid]
    assert ln.Run.filter(params__downsample=True).count() == 1


def test_tracking_with_projects(ln: ModuleType) -> None:
    # Associate with project
    ln.track(project="Cancer Drug Screen 2025")
    Path("hits.csv").write_text("compound,viability\nA,0.1\n")
    ln.Artifact("hits.csv", key="screen/hits.csv").save()

    # Query by project
    project = ln.Project.get(name="Cancer Drug Screen 2025")
    assert ln.Artifact.filter(projects=project).to_dataframe()["key"].tolist() == ["screen/hits.csv"]
    assert ln.Run.filter(project=project).to_dataframe()["uid"].tolist() == [ln.context.run.uid]


def test_function_level_tracking(ln: ModuleType) -> None:
    for batch in (1, 2):
        Path(f"batch{batch}.csv").write_text(f"x,y\n1.50,{batch}\n2.00,2\n3.25,1\n")
        ln.Artifact(f"batch{batch}.csv", key=f"raw/batch{batch}.csv").save()

    @ln.tracked()
    def preprocess_data(input_key: str, output_key: str, normalize: bool = True) -> None:
        """Preprocess raw data and save result."""
        # Load input (automatically tracked)
        artifact = ln.Artifact.get(key=input_key)
        data = artifact.load()

        # Process
        if normalize:
            data = (data - data.mean()) / data.std()

        # Save output (automatically tracked)
        ln.Artifact.from_dataframe(data, key=output_key).save()

    # Each call creates a separate Transform and Run
    preprocess_data("raw/batch1.csv", "processed/batch1.csv", normalize=True)
    preprocess_data("raw/batch2.csv", "processed/batch2.csv", normalize=False)

    first, second = (ln.Artifact.get(key=f"processed/batch{b}.csv") for b in (1, 2))
    assert first.suffix == ".csv" and first.load()["x"].mean() == pytest.approx(0.0)
    assert second.load()["x"].tolist() == [1.5, 2.0, 3.25]
    assert first.run != second.run  # a run per call, of the function's transform (one per function)
    assert first.transform == second.transform and first.transform.kind == "function"
    assert (
        first.transform.key.endswith("preprocess_data")
        and "def preprocess_data" in first.transform.source_code
    )
    assert first.run.params == {
        "input_key": "raw/batch1.csv",
        "output_key": "processed/batch1.csv",
        "normalize": True,
    }
    assert second.run.params["normalize"] is False
    assert first.run.input_artifacts.to_list("key") == ["raw/batch1.csv"]
    assert second.run.input_artifacts.to_list("key") == ["raw/batch2.csv"]


def test_accessing_lineage_information(ln: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    basic_tracking_workflow(ln)

    # From artifact to run
    artifact = ln.Artifact.get(key="output.csv")
    run = artifact.run
    transform = run.transform

    # View details
    text = printed(capsys, run.describe)  # Run metadata
    assert "Run" in text and run.uid in text and ".status = 'completed'" in text
    text = printed(capsys, transform.describe)  # Transform metadata
    assert "Transform" in text and f".key = '{Path(__file__).name}'" in text and ".kind = 'script'" in text

    # Access inputs
    assert run.inputs.to_dataframe()["key"].tolist() == ["input.csv"]

    # Visualize lineage graph
    graph = shown_graph(printed(capsys, artifact.view_lineage))
    assert "input.csv" in graph and "output.csv" in graph
    edges = artifact.view_lineage(return_graph=True).source
    input_uid = ln.Artifact.get(key="input.csv").uid
    assert f"data_{input_uid} -> run_{run.uid}" in edges and f"run_{run.uid} -> data_{artifact.uid}" in edges


# ---- Features -------------------------------------------------------------------------------------


def define_features(ln: ModuleType) -> None:
    # Numeric feature
    ln.Feature(name="gc_content", dtype=float).save()
    ln.Feature(name="read_count", dtype=int).save()

    # Date feature
    ln.Feature(name="experiment_date", dtype=date).save()

    # Categorical feature
    ln.Feature(name="cell_type", dtype=str).save()
    ln.Feature(name="treatment", dtype=str).save()

    dtypes = dict(ln.Feature.filter().to_dataframe()[["name", "dtype"]].itertuples(index=False))
    assert dtypes == {
        "gc_content": "float",
        "read_count": "int",
        "experiment_date": "date",
        "cell_type": "str",
        "treatment": "str",
    }


def annotate_artifacts(ln: ModuleType, artifact: Any) -> None:
    # Single values
    artifact.features.add_values({"gc_content": 0.55, "experiment_date": "2025-10-31"})

    # Using feature registry records
    gc_content_feature = ln.Feature.get(name="gc_content")
    artifact.features.add(gc_content_feature)

    assert artifact.features.get_values() == {"gc_content": 0.55, "experiment_date": date(2025, 10, 31)}
    assert artifact.features.slots["external"].members.to_list("name") == ["gc_content"]
    # a second artifact, for the queries below
    ln.Artifact.get(key="input.csv").features.add_values(
        {"gc_content": 0.48, "read_count": 2_500_000, "cell_type": "T cell", "treatment": "DMSO"}
    )


def test_defining_features(ln: ModuleType) -> None:
    define_features(ln)


def test_annotating_artifacts_with_features(ln: ModuleType) -> None:
    basic_tracking_workflow(ln)
    artifact = ln.Artifact.get(key="output.csv")
    define_features(ln)
    annotate_artifacts(ln, artifact)


def test_querying_by_features(ln: ModuleType) -> None:
    basic_tracking_workflow(ln)
    artifact = ln.Artifact.get(key="output.csv")
    define_features(ln)
    annotate_artifacts(ln, artifact)

    # Filter by feature value
    assert keys(ln.Artifact.filter(gc_content=0.55)) == ["output.csv"]
    assert keys(ln.Artifact.filter(experiment_date="2025-10-31")) == ["output.csv"]

    # Comparison operators
    assert keys(ln.Artifact.filter(read_count__gt=1000000)) == ["input.csv"]
    assert keys(ln.Artifact.filter(gc_content__gte=0.5, gc_content__lte=0.6)) == ["output.csv"]

    # Check for presence of annotation
    assert keys(ln.Artifact.filter(cell_type__isnull=False)) == ["input.csv"]

    # Include features in output
    table = ln.Artifact.filter(treatment="DMSO").to_dataframe(include="features")
    assert table["key"].tolist() == ["input.csv"]
    row = table.iloc[0]
    assert (row["gc_content"], row["read_count"], row["cell_type"], row["treatment"]) == (
        0.48,
        2_500_000,
        "T cell",
        "DMSO",
    )


def test_nested_dictionary_features(ln: ModuleType) -> None:
    basic_tracking_workflow(ln)
    artifact = ln.Artifact.get(key="output.csv")
    # a dictionary feature and its value, which the page takes as given
    ln.Feature(name="study_metadata", dtype=dict).save()
    artifact.features.add_values({"study_metadata": {"detail1": "123", "assay": {"type": "RNA-seq"}}})

    # Access nested values
    assert keys(ln.Artifact.filter(study_metadata__detail1="123")) == ["output.csv"]
    assert keys(ln.Artifact.filter(study_metadata__assay__type="RNA-seq")) == ["output.csv"]
    assert ln.Artifact.filter(study_metadata__assay__type="ATAC-seq").count() == 0


# ---- Data Lineage Tracking ------------------------------------------------------------------------

PREPROCESSING = """\
import lamella as ln

# Start tracking (beginning of notebook/script)
ln.track()

# Your analysis code
data = ln.Artifact.get(key="raw/data.csv").load()
# ... perform analysis ...
result = data * 2
print(f"doubled {len(result)} rows")
result.to_csv("output.csv")
artifact = ln.Artifact("output.csv", key="output.csv").save()

# Finish tracking (end of notebook/script)
ln.finish()
"""


def test_data_lineage_tracking(
    ln: ModuleType, run_script: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    ln.setup.login("researcher123")
    Path("data.csv").write_text("a,b\n1,4\n2,5\n3,7\n")
    ln.Artifact("data.csv", key="raw/data.csv").save()
    run_script("preprocessing.py", PREPROCESSING)

    # Viewing Lineage
    artifact = ln.Artifact.get(key="output.csv")
    # Visualize full lineage graph
    graph = shown_graph(printed(capsys, artifact.view_lineage))
    assert "raw/data.csv" in graph and "preprocessing.py" in graph and "output.csv" in graph

    # View captured metadata
    text = printed(capsys, artifact.describe)
    assert ".transform = 'preprocessing.py' (script" in text and ".created_by = researcher123" in text

    # Access related entities
    assert artifact.run.status == "completed"  # The run that created it
    assert artifact.run.transform.key == "preprocessing.py"  # The transform (code) used
    assert "ln.track()" in artifact.run.transform.source_code
    assert artifact.run.inputs.to_list("key") == ["raw/data.csv"]  # Input artifacts
    assert "doubled 3 rows" in artifact.run.report.load()  # Execution report

    # Querying Lineage
    # Find all outputs from a transform
    transform = ln.Transform.get(name="preprocessing.py")
    assert keys(ln.Artifact.filter(transform=transform)) == ["output.csv"]

    # Find all artifacts from a specific user
    user = ln.User.get(handle="researcher123")
    assert keys(ln.Artifact.filter(created_by=user)) == ["output.csv", "raw/data.csv"]

    # Find artifacts using specific inputs
    input_artifact = ln.Artifact.get(key="raw/data.csv")
    runs = ln.Run.filter(inputs=input_artifact)
    assert keys(ln.Artifact.filter(run__in=runs)) == ["output.csv"]


# ---- Versioning -----------------------------------------------------------------------------------


def test_versioning(ln: ModuleType) -> None:
    Path("data.csv").write_text("sample,count\ns1,10\n")

    # Automatic Versioning
    # First version
    artifact_v1 = ln.Artifact("data.csv", key="experiment/data.csv").save()

    # Modify and save again - creates new version
    Path("data.csv").write_text("sample,count\ns1,10\ns2,12\n")
    artifact_v2 = ln.Artifact("data.csv", key="experiment/data.csv").save()
    assert artifact_v2.uid[:16] == artifact_v1.uid[:16] and artifact_v2.version == "2"

    # Working with Versions
    # Get latest version (default)
    artifact = ln.Artifact.get(key="experiment/data.csv")
    assert artifact == artifact_v2 and artifact.is_latest

    # View all versions
    versions = artifact.versions.to_dataframe()
    assert versions["uid"].tolist() == [artifact_v1.uid, artifact_v2.uid]
    assert versions["is_latest"].tolist() == [False, True]

    # Get specific version
    artifact_v1 = artifact.versions.filter(version="1").first()
    assert artifact_v1.uid.endswith("0000") and not artifact_v1.is_latest

    # Compare versions
    v1_data = artifact_v1.load()
    v2_data = artifact.load()
    assert v1_data["sample"].tolist() == ["s1"] and v2_data["sample"].tolist() == ["s1", "s2"]
