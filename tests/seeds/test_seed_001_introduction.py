"""Seed 001, LaminDB's introduction (1.x): its Python examples, section by section, in the page's order.

Changes to the page's code:
- `lamindb` is `lamella`, `bionty` is `lamella.bionty`; `ln.core.datasets` is kept as the page spells
  it (it warns: today it is `ln.examples.datasets`), and so are `.df()`, `from_df()`, `FeatureSet` and
  `Transform(name=)`. Old names warn (DeprecationWarning), as they should; this module silences them.
- The shell commands are their Python equivalents: `lamin init --storage ./lamin-intro --modules
  bionty` is `ln.setup.init(storage=..., modules="bionty")` in the test's folder; `lamin login` is
  left out, and so is `lamin connect account/instance` (local instances need neither; the test makes
  its own); `lamin load <hub URL>` is `lamella load <uid>`, run as the command, as are `lamella init`
  with the page's options (`--modules bionty`, `--name my-name`; `wetlab` is no module of Lamella).
  R code (`ln$...`, `laminr::...`, `lamin_save`, `lamin save introduction.Rmd`) is skipped.
- Quickstart: `laminlabs/cellxgene` is a hub instance. Here it is a second local instance named
  "cellxgene", made first, holding a small scRNA-seq AnnData (made here: counts of 60 cells × 150
  genes, obs "cell_type"), read with `ln.Artifact.using("<user>/cellxgene").get(<its uid>)`.
  Scanpy is no dependency of Lamella: when it is not installed, `sc` is a stand-in of its three
  functions written below with numpy (normalize_total, log1p, rank_genes_groups).
- `ln.track()` tracks this module, a script, not the page's notebook "introduction.ipynb": the
  transform's key is this file's name, and it has no description (a notebook's is its title), so the
  query for notebooks with "intro" in their title finds none here.
- `s3://lamindata/iris_studies` (a public bucket) is the bucket "lamindata" of the test session's
  local S3 server (moto), filled with the page's 3 studies of 50, 48 and 50 images and a meta.csv each
  (synthetic JPEGs); those tests carry the `integration` marker, as every S3 test. `df_updated` (which
  the page leaves undefined), `./my_data.fcs`, `./my_images/`, `./my_anndata.h5ad`, `./my_zarr_array/`
  and `s3://my-bucket/` are made here.
- The page's closing data loader asks for obs key "cell_medium", which its collection does not have:
  the test asserts Lamella's error naming it, then runs the same loop with "perturbation".

The page's outputs are checked for what they say, not their layout: its tables list the newest record
first, Lamella's `.df()` lists by id (so rows are compared as sets), and lineage graphs are written
to files (SVG, or DOT without graphviz's `dot`) whose source the tests read.

Each test replays what its section needs of the earlier ones (a fresh instance each), so the tests run
alone, in any order and in parallel.
"""

from __future__ import annotations

import hashlib
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from lamella._instance import state

THIS_FILE = Path(__file__).name


@pytest.fixture(autouse=True)
def _old_names_warn_quietly() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


# --- scanpy, or a stand-in of the three functions the quickstart calls --------------------------------


def _view_to_actual(adata: ad.AnnData) -> None:
    """A view (`adata[:, :100]`) becomes an AnnData of its own before it is changed, as scanpy does."""
    if adata.is_view:
        adata._init_as_actual(adata.copy())


def _normalize_total(adata: ad.AnnData) -> None:
    """Each cell's counts scaled to the median of the cells' totals (scanpy's default target)."""
    _view_to_actual(adata)
    totals = np.asarray(adata.X.sum(axis=1)).ravel()
    adata.X = np.asarray(adata.X) / totals[:, None] * np.median(totals)


def _log1p(adata: ad.AnnData) -> None:
    _view_to_actual(adata)
    adata.X = np.log1p(adata.X)


def _rank_genes_groups(adata: ad.AnnData, groupby: str) -> None:
    """Genes ranked per group by a t statistic of the group against the rest (scanpy's default test)."""
    _view_to_actual(adata)
    X = np.asarray(adata.X)
    names, scores = {}, {}
    for group in adata.obs[groupby].cat.categories:
        inside = (adata.obs[groupby] == group).to_numpy()
        a, b = X[inside], X[~inside]
        t = (a.mean(0) - b.mean(0)) / np.sqrt(a.var(0, ddof=1) / len(a) + b.var(0, ddof=1) / len(b) + 1e-12)
        order = np.argsort(-t)
        names[group], scores[group] = adata.var_names[order].to_numpy(), t[order]
    adata.uns["rank_genes_groups"] = {"params": {"groupby": groupby}, "names": names, "scores": scores}


try:
    import scanpy as sc  # type: ignore[import-not-found]
except ImportError:
    sc = SimpleNamespace(
        pp=SimpleNamespace(normalize_total=_normalize_total, log1p=_log1p),
        tl=SimpleNamespace(rank_genes_groups=_rank_genes_groups),
    )


# --- what the sections share ----------------------------------------------------------------------------


def _scrnaseq(n_cells: int = 60, n_genes: int = 150) -> ad.AnnData:
    """Counts of T cells, B cells and monocytes; the first 10 genes mark the B cells."""
    rng = np.random.default_rng(0)
    X = rng.poisson(2.0, size=(n_cells, n_genes)).astype("float32")
    cell_type = np.array(["T cell", "B cell", "monocyte"] * (n_cells // 3))
    X[cell_type == "B cell", :10] += 20
    obs = pd.DataFrame({"cell_type": pd.Categorical(cell_type)}, index=[f"cell{i}" for i in range(n_cells)])
    var = pd.DataFrame(index=[f"ENSG{i:011d}" for i in range(n_genes)])
    return ad.AnnData(X, obs=obs, var=var)


@pytest.fixture
def intro(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """`lamin init --storage ./lamin-intro --modules bionty`, in the test's folder (also the working one)."""
    import lamella as ln

    monkeypatch.chdir(tmp_path)
    ln.setup.init(storage="./lamin-intro", modules="bionty")
    return ln


def _track_and_save_df(ln: ModuleType) -> tuple[Any, pd.DataFrame]:
    """Track notebooks & scripts, manage DataFrames: the run, and the dataframe with a typo, saved."""
    ln.track()
    df = ln.core.datasets.small_dataset1(with_typo=True)
    artifact = ln.Artifact.from_df(df, key="my_datasets/rnaseq1.parquet").save()
    return artifact, df


def _new_version(ln: ModuleType, df: pd.DataFrame) -> tuple[Any, pd.DataFrame]:
    """Manage versioning: the typo fixed in a new version; the dataframe with the typo kept."""
    df_typo = df.copy()
    df["perturbation"] = df["perturbation"].cat.rename_categories({"IFNJ": "IFNG"})
    artifact = ln.Artifact.from_df(df, key="my_datasets/rnaseq1.parquet").save()
    return artifact, df_typo


def _iris_studies(ln: ModuleType, s3: Any) -> None:
    """s3://lamindata/iris_studies as the page lists it: 3 studies of iris images, a meta.csv each."""
    if "lamindata" in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        return  # made by an earlier test of this session
    s3.create_bucket(Bucket="lamindata")
    jpg = ln.examples.datasets.file_jpg_paradisi05().read_bytes()
    iris = ln.examples.datasets.df_iris()
    for study, n_images in enumerate((50, 48, 50)):
        names = []
        for i in range(n_images):
            image = jpg + bytes([study, i])  # bytes after the end-of-image marker: a distinct, valid JPEG
            names.append(f"iris-{hashlib.sha256(image).hexdigest()}.jpg")
            s3.put_object(
                Bucket="lamindata", Key=f"iris_studies/study{study}_raw_images/{names[-1]}", Body=image
            )
        meta = iris.iloc[: len(names)].assign(image=names).to_csv(index=False).encode()
        s3.put_object(Bucket="lamindata", Key=f"iris_studies/study{study}_raw_images/meta.csv", Body=meta)


def _folder_artifact(ln: ModuleType, s3: Any) -> Any:
    """Manage files & folders: the first study's folder, registered where it is."""
    _iris_studies(ln, s3)
    return ln.Artifact("s3://lamindata/iris_studies/study0_raw_images").save()


def _curation_schema(ln: ModuleType) -> Any:
    """Curate datasets: the valid labels and the schema (the page's code)."""
    perturbation_type = ln.ULabel(name="Perturbation", is_type=True).save()
    ln.ULabel(name="DMSO", type=perturbation_type).save()
    ln.ULabel(name="IFNG", type=perturbation_type).save()
    return ln.Schema(
        name="My DataFrame schema",
        features=[
            ln.Feature(name="ENSG00000153563", dtype=int).save(),
            ln.Feature(name="ENSG00000010610", dtype=int).save(),
            ln.Feature(name="ENSG00000170458", dtype=int).save(),
            ln.Feature(name="perturbation", dtype=ln.ULabel).save(),
        ],
    ).save()


def _anndata_schema(ln: ModuleType) -> Any:
    """Manage biological registries: the AnnData schema (the page's code)."""
    import lamella.bionty as bt

    var_schema = ln.Schema(name="my_var_schema", itype=bt.Gene.ensembl_gene_id, dtype=int).save()
    obs_schema = ln.Schema(
        name="my_obs_schema", features=[ln.Feature(name="perturbation", dtype=ln.ULabel).save()]
    ).save()
    return ln.Schema(
        name="my_anndata_schema", otype="AnnData", components={"obs": obs_schema, "var": var_schema}
    ).save()


def _curated_anndata(ln: ModuleType, df: pd.DataFrame, anndata_schema: Any) -> Any:
    adata = ad.AnnData(
        df[["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]], obs=df[["perturbation"]]
    )
    curator = ln.curators.AnnDataCurator(adata, anndata_schema)
    return curator.save_artifact(description="my RNA-seq")


def _lineage_source(artifact: Any) -> str:
    return str(artifact.view_lineage(return_graph=True).source)


# --- Quickstart ---------------------------------------------------------------------------------------


def test_quickstart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import lamella as ln

    monkeypatch.chdir(tmp_path)
    # the instance the page reads from, here on this machine
    ln.setup.init(storage="./cellxgene", name="cellxgene")
    ln.track(ln.Transform(key="curate_cellxgene.py", kind="script"))
    source = ln.Artifact.from_anndata(_scrnaseq(), key="cellxgene/scrnaseq.h5ad").save()
    ln.finish()

    # lamin init --storage ./mydata --modules bionty
    ln.setup.init(storage="./mydata", modules="bionty")
    assert ln.setup.settings.instance.name == "mydata" and "bionty" in ln.setup.settings.instance.modules
    owner = ln.setup.settings.user.handle

    # Access inputs -------------------------------------------
    ln.track()  # track your run of a notebook or script
    artifact = ln.Artifact.using(f"{owner}/cellxgene").get(source.uid)  # query the artifact
    assert state.instance_of(artifact) is not None and ln.Artifact.filter().count() == 0
    adata = artifact.load()[:, :100]  # load into memory or sync to cache: filepath = artifact.cache()
    assert adata.shape == (60, 100)
    # the run read it: it is transferred into this instance and is the run's input
    assert ln.Artifact.get(source.uid) == artifact and ln.context.run.input_artifacts.one() == artifact

    # Your transformation -------------------------------------
    sc.pp.normalize_total(adata)
    sc.pp.log1p(adata)
    sc.tl.rank_genes_groups(adata, groupby="cell_type")
    totals = np.expm1(np.asarray(adata.X)).sum(axis=1)
    assert np.allclose(totals, totals[0], rtol=1e-4)  # every cell normalized to one total
    markers = adata.uns["rank_genes_groups"]["names"]["B cell"][:10]
    assert set(markers) == {f"ENSG{i:011d}" for i in range(10)}

    # Save outputs --------------------------------------------
    ln.Artifact.from_anndata(adata, key="my-datasets/my-result.h5ad").save()  # save versioned output
    ln.finish()  # finish the run, save source code & run report
    result = ln.Artifact.get(key="my-datasets/my-result.h5ad")
    assert result.run.finished_at is not None and result.transform.key == THIS_FILE
    assert result.load().shape == (60, 100) and "def test_quickstart" in result.transform.source_code

    # The script produced the following data lineage.
    capsys.readouterr()
    artifact.view_lineage()
    assert "lineage graph:" in capsys.readouterr().out
    lineage = _lineage_source(result)
    assert "scrnaseq.h5ad" in lineage and "curate_cellxgene.py" in lineage and THIS_FILE in lineage


# --- Track notebooks & scripts ---------------------------------------------------------------------------


def test_track_notebooks_and_scripts(intro: ModuleType) -> None:
    ln = intro
    assert ln.setup.settings.instance.name == "lamin-intro"  # → initialized lamindb: anonymous/lamin-intro

    ln.track()  # track the current notebook or script
    transforms = ln.Transform.df()
    assert transforms["key"].tolist() == [THIS_FILE] and transforms["kind"].tolist() == ["script"]
    runs = ln.Run.df()
    assert len(runs) == 1 and runs["transform_id"].tolist() == [transforms.index[0]]
    assert runs["uid"].tolist() == [ln.context.run.uid]

    # How do I track a pipeline instead of a notebook?
    transform = ln.Transform(name="My pipeline")
    transform.version = "1.2.0"  # tag the version
    ln.track(transform)
    assert ln.context.transform == transform and ln.context.run.transform == transform
    assert transform.key == "My pipeline" and transform.version == "1.2.0" and transform.kind == "pipeline"
    assert ln.Transform.df().shape[0] == 2 and ln.Run.df().shape[0] == 2


def test_lamin_init_on_the_command_line(run_lamella: Callable[..., Any]) -> None:
    """The page's `lamin init` commands, as Lamella's command spells them."""
    made = run_lamella("init", "--storage", "./lamin-intro", "--modules", "bionty", check=True)
    assert "initialized lamella" in made.stdout + made.stderr and "lamin-intro" in made.stdout + made.stderr
    # What else can I configure during setup? ... a custom name: --name my-name
    named = run_lamella("init", "--storage", "./elsewhere", "--name", "my-name", check=True)
    assert "my-name" in named.stdout + named.stderr
    listed = run_lamella("list", check=True).stdout
    assert "lamin-intro" in listed and "my-name" in listed


# --- Manage artifacts: DataFrames, lineage ----------------------------------------------------------------


def test_manage_dataframes_and_trace_lineage(
    intro: ModuleType, capsys: pytest.CaptureFixture[str], run_lamella: Callable[..., Any]
) -> None:
    ln = intro
    ln.track()

    df = ln.core.datasets.small_dataset1(with_typo=True)
    assert df.shape == (3, 11) and df.loc["sample2", "perturbation"] == "IFNJ"
    assert df.columns.tolist()[:4] == [
        "ENSG00000153563",
        "ENSG00000010610",
        "ENSG00000170458",
        "perturbation",
    ]

    artifact = ln.Artifact.from_df(df, key="my_datasets/rnaseq1.parquet").save()
    capsys.readouterr()
    artifact.describe()
    described = capsys.readouterr().out
    assert "Artifact .parquet/DataFrame" in described and ".key = 'my_datasets/rnaseq1.parquet'" in described
    assert ".n_observations = 3" in described and f"{THIS_FILE}" in described
    assert artifact.suffix == ".parquet" and artifact.otype == "DataFrame" and artifact.n_observations == 3

    pd.testing.assert_frame_equal(artifact.load(), df)

    # Trace data lineage
    assert artifact.transform == ln.context.transform and artifact.transform.key == THIS_FILE
    assert artifact.run == ln.context.run
    artifact.view_lineage()
    artifact.transform.view_lineage()  # Python only
    shown = capsys.readouterr().out
    assert shown.count("lineage graph:") == 2
    assert THIS_FILE in _lineage_source(artifact)
    # ln.finish() is commented out on the page: the run goes on
    assert ln.context.run.finished_at is None

    # lamin load <the transform's hub URL>: here, by uid, with Lamella's command
    loaded = run_lamella("load", artifact.transform.uid, check=True)
    assert "is here" in loaded.stdout + loaded.stderr
    here = Path(THIS_FILE).read_text()  # the working folder is the test's folder
    assert here == artifact.transform.source_code and "def test_manage_dataframes_and_trace_lineage" in here


# --- Manage versioning ---------------------------------------------------------------------------------


def test_manage_versioning(intro: ModuleType) -> None:
    ln = intro
    first, df = _track_and_save_df(ln)

    # keep the dataframe with a typo around - we'll need it later
    df_typo = df.copy()
    # fix the "IFNJ" typo
    df["perturbation"] = df["perturbation"].cat.rename_categories({"IFNJ": "IFNG"})
    # create a new version
    artifact = ln.Artifact.from_df(df, key="my_datasets/rnaseq1.parquet").save()
    # see all versions of an artifact
    versions = artifact.versions.df()
    assert len(versions) == 2 and set(versions["uid"]) == {first.uid, artifact.uid}
    assert artifact.uid[:16] == first.uid[:16] and artifact.uid.endswith("0001")
    assert versions.set_index("uid").loc[artifact.uid, "is_latest"]
    assert not versions.set_index("uid").loc[first.uid, "is_latest"]
    assert df_typo.loc["sample2", "perturbation"] == "IFNJ"

    # Can I also create new versions without passing key? That works, too, you can use revises:
    df_updated = df.assign(treatment_time_h=[24, 24, 12])
    artifact_v1 = ln.Artifact.from_df(df, description="Just a description").save()
    assert artifact_v1 == artifact  # the same content: the existing artifact is returned
    # below revises artifact_v1
    artifact_v2 = ln.Artifact.from_df(df_updated, revises=artifact_v1).save()
    assert artifact_v2.uid[:16] == artifact_v1.uid[:16] and artifact_v2.is_latest
    assert artifact_v2.key == "my_datasets/rnaseq1.parquet" and artifact_v2.versions.count() == 3
    unkeyed_v1 = ln.Artifact.from_df(df_typo.iloc[:2], description="Just a description").save()
    unkeyed_v2 = ln.Artifact.from_df(df_typo.iloc[:1], revises=unkeyed_v1).save()
    assert unkeyed_v2.key is None and unkeyed_v2.description == "Just a description"
    assert [a.uid for a in unkeyed_v2.versions.order_by("uid")] == [unkeyed_v1.uid, unkeyed_v2.uid]


# --- Manage files & folders -------------------------------------------------------------------------------


@pytest.mark.integration
def test_manage_files_and_folders(
    intro: ModuleType, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ln = intro
    _, df = _track_and_save_df(ln)
    _new_version(ln, df)
    _iris_studies(ln, s3)

    # we use anon=True here in case no aws credentials are configured
    capsys.readouterr()
    ln.UPath("s3://lamindata/iris_studies", anon=True).view_tree()
    tree = capsys.readouterr().out
    assert "3 sub-directories & 151 files with suffixes '.csv', '.jpg'" in tree
    assert tree.count("meta.csv") == 3 and "study2_raw_images/" in tree

    artifact = ln.Artifact("s3://lamindata/iris_studies/study0_raw_images").save()
    assert artifact.key == "iris_studies/study0_raw_images" and artifact.n_files == 51
    assert artifact.suffix == "" and artifact.size > 0

    # the folder was merely registered in its present storage location without copying it
    assert artifact.path.as_uri() == "s3://lamindata/iris_studies/study0_raw_images"
    storages = ln.Storage.df()
    assert len(storages) == 2 and "s3://lamindata" in storages["root"].tolist()
    assert storages.set_index("root").loc["s3://lamindata", "type"] == "s3"

    cached = artifact.cache()
    assert cached.is_dir() and len([p for p in cached.rglob("*") if p.is_file()]) == 51

    # How do I create an artifact for a local file or folder?
    shutil.copy(ln.examples.datasets.file_fcs(), "my_data.fcs")
    Path("my_images").mkdir()
    shutil.copy(ln.examples.datasets.file_jpg_paradisi05(), "my_images/image1.jpg")
    fcs = ln.Artifact("./my_data.fcs", key="my_data.fcs")
    images = ln.Artifact("./my_images/", key="my_images")
    fcs.save()
    images.save()
    assert fcs.path.parent == ln.settings.storage.root / ".lamella" and images.n_files == 1
    s3.create_bucket(Bucket="my-bucket")  # other bytes than the local ones (the same would be found)
    s3.upload_file(str(ln.examples.datasets.file_fcs_alpert19()), "my-bucket", "my_data.fcs")
    s3.put_object(
        Bucket="my-bucket", Key="my_images/image1.jpg", Body=Path("my_images/image1.jpg").read_bytes() + b"0"
    )
    in_bucket = ln.Artifact("s3://my-bucket/my_data.fcs")  # key is auto-populated from S3
    assert in_bucket.key == "my_data.fcs" and in_bucket.save().path.as_uri() == "s3://my-bucket/my_data.fcs"
    folder_in_bucket = ln.Artifact("s3://my-bucket/my_images/")
    assert folder_in_bucket.key == "my_images" and folder_in_bucket.save().n_files == 1

    # How do I update or delete an artifact?
    fcs.description = "My new description"  # change description
    fcs.save()  # save the change to the database
    assert ln.Artifact.get(fcs.uid).description == "My new description"
    assert ln.Artifact.filter(key="my_data.fcs").count() == 2  # here, and the one in my-bucket
    fcs.delete()  # move to trash
    assert ln.Artifact.filter(key="my_data.fcs").one() == in_bucket
    assert ln.Artifact.filter(key="my_data.fcs", branch_id=-1).one().uid == fcs.uid
    fcs.delete(permanent=True)  # permanently delete
    assert ln.Artifact.filter(uid=fcs.uid).count() == 0
    assert not (ln.settings.storage.root / ".lamella" / f"{fcs.uid}.fcs").exists()

    # Are artifacts aware of array-like data?
    adata = ad.AnnData(
        df[["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]], obs=df[["perturbation"]]
    )
    adata.write_h5ad("my_anndata.h5ad")
    adata.write_zarr("my_zarr_array")
    h5ad = ln.Artifact("./my_anndata.h5ad", key="my_anndata.h5ad")
    zarr = ln.Artifact("./my_zarr_array/", key="my_zarr_array")
    assert h5ad.suffix == ".h5ad" and zarr.suffix == "" and zarr.key == "my_zarr_array"
    from_df = ln.Artifact.from_df(df, key="my_dataframe.parquet")
    from_anndata = ln.Artifact.from_anndata(adata, key="my_anndata.h5ad")
    assert from_df.otype == "DataFrame" and from_anndata.otype == "AnnData"
    artifact = from_anndata.save()
    backed = artifact.open()
    assert backed.shape == (3, 3) and list(backed.obs["perturbation"]) == ["DMSO", "IFNG", "DMSO"]


# --- Query & search registries ----------------------------------------------------------------------------


@pytest.mark.integration
def test_query_and_search_registries(intro: ModuleType, s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ln = intro
    _, df = _track_and_save_df(ln)
    _new_version(ln, df)
    folder = _folder_artifact(ln, s3)

    artifacts = ln.Artifact.df().set_index("uid")
    assert len(artifacts) == 3 and artifacts.loc[folder.uid, "key"] == "iris_studies/study0_raw_images"
    assert artifacts.loc[folder.uid, "n_files"] == 51 and artifacts["is_latest"].sum() == 2

    # look at the class: its fields
    shown = repr(ln.Artifact)
    for line in ("Simple fields", ".uid: str", "Relational fields", ".storage: Storage", ".ulabels: ULabel"):
        assert line in shown
    assert "Bionty fields" in shown and ".cell_types: bionty.CellType" in shown

    capsys.readouterr()
    ln.view()
    overview = capsys.readouterr().out
    assert (
        "Artifact (3 in all" in overview
        and "Transform (1 in all" in overview
        and "Storage (2 in all" in overview
    )

    # get a single record (here the current notebook or script)
    transform = ln.Transform.get(key=THIS_FILE)
    # get a set of records by filtering for a directory
    in_directory = ln.Artifact.filter(key__startswith="my_datasets/").df()
    assert len(in_directory) == 2 and set(in_directory["key"]) == {"my_datasets/rnaseq1.parquet"}
    # query all artifacts ingested from a transform
    artifacts = ln.Artifact.filter(transform=transform).all()
    assert len(artifacts) == 3
    # query all artifacts ingested from a notebook with "intro" in the title
    artifacts = ln.Artifact.filter(
        transform__description__icontains="intro",
    ).all()
    assert len(artifacts) == 0  # a script has no title
    assert len(ln.Artifact.filter(transform__key__icontains="intro").all()) == 3  # its name has it

    # What does a double underscore mean?
    assert ln.Artifact.filter(key__in=["my_datasets/rnaseq1.parquet", "x"]).count() == 2
    # Can I chain filters and searches?
    assert ln.Artifact.filter(suffix=".jpg").search("my image").count() == 0
    assert ln.Artifact.filter(suffix="").search("study0").one() == folder

    # search artifacts
    found = ln.Artifact.search("iris").df().head()
    assert found["uid"].tolist() == [folder.uid]
    # search transforms
    assert ln.Transform.search("intro").df()["key"].tolist() == [THIS_FILE]
    # look up records with auto-complete
    ln.ULabel(name="My experiment").save()
    ulabels = ln.ULabel.lookup()
    assert ulabels.my_experiment.name == "My experiment"


# --- Features & labels ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_features_and_labels(intro: ModuleType, s3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ln = intro
    _, df = _track_and_save_df(ln)
    _new_version(ln, df)
    artifact = _folder_artifact(ln, s3)

    # create & save a typed label
    experiment_type = ln.ULabel(name="InVitroStudy", is_type=True).save()
    my_experiment = ln.ULabel(name="My experiment", type=experiment_type).save()
    # annotate the artifact with a label
    artifact.ulabels.add(my_experiment)
    # describe the artifact
    capsys.readouterr()
    artifact.describe()
    described = capsys.readouterr().out
    assert ".key = 'iris_studies/study0_raw_images'" in described and ".n_files = 51" in described
    assert "Labels" in described and ".ulabels = 'My experiment'" in described

    # This is how you can query artifacts by ulabels.
    labelled = ln.Artifact.filter(ulabels=my_experiment).df()
    assert labelled["uid"].tolist() == [artifact.uid]

    # define the "temperature" & "experiment" features
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    # annotate the artifact
    artifact.features.add_values({"temperature": 21.6, "experiment": "My experiment"})
    # describe the artifact
    artifact.describe()
    described = capsys.readouterr().out
    assert "experiment (cat[ULabel]) = 'My experiment'" in described
    assert "temperature (float) = 21.6" in described
    assert ln.Artifact.filter(temperature__gt=20, experiment="My experiment").one() == artifact
    assert artifact.features.get_values() == {"temperature": 21.6, "experiment": "My experiment"}


# --- Curate datasets -------------------------------------------------------------------------------------


def test_curate_datasets(intro: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    ln = intro
    _, df = _track_and_save_df(ln)
    latest, df_typo = _new_version(ln, df)

    # define valid labels
    perturbation_type = ln.ULabel(name="Perturbation", is_type=True).save()
    ln.ULabel(name="DMSO", type=perturbation_type).save()
    ln.ULabel(name="IFNG", type=perturbation_type).save()
    # define the schema
    schema = ln.Schema(
        name="My DataFrame schema",
        features=[
            ln.Feature(name="ENSG00000153563", dtype=int).save(),
            ln.Feature(name="ENSG00000010610", dtype=int).save(),
            ln.Feature(name="ENSG00000170458", dtype=int).save(),
            ln.Feature(name="perturbation", dtype=ln.ULabel).save(),
        ],
    ).save()
    assert schema.n == 4 and schema.features.count() == 4

    curator = ln.curators.DataFrameCurator(df, schema)
    # save curated artifact
    artifact = curator.save_artifact(key="my_curated_dataset.parquet")  # calls .validate()
    # the same content as the latest version: the existing artifact, now annotated
    assert artifact == latest and artifact.key == "my_datasets/rnaseq1.parquet"
    # see the parsed annotations
    capsys.readouterr()
    artifact.describe()
    described = capsys.readouterr().out
    assert "columns: My DataFrame schema (4 Feature)" in described
    assert (
        "perturbation (cat[ULabel]) = 'DMSO', 'IFNG'" in described
        and ".ulabels = 'DMSO', 'IFNG'" in described
    )
    # query for a ulabel that was parsed from the dataset
    assert ln.Artifact.get(ulabels__name="IFNG") == artifact

    # If we feed a dataset with an invalid dtype or typo, we'll get a ValidationError.
    curator = ln.curators.DataFrameCurator(df_typo, schema)
    # validate the dataset
    try:
        curator.validate()
    except ln.errors.ValidationError as error:
        print(str(error))
    else:
        pytest.fail("the dataframe with the typo validated")
    message = capsys.readouterr().out
    assert "1 term is not validated" in message and "'IFNJ'" in message
    assert "add_new_from('perturbation')" in message


# --- Manage biological registries ---------------------------------------------------------------------


def test_manage_biological_registries(intro: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    import lamella.bionty as bt

    ln = intro
    _, df = _track_and_save_df(ln)
    _new_version(ln, df)
    _curation_schema(ln)

    cell_types = bt.CellType.public()
    assert (
        "CellType" in repr(cell_types) and "cl" in repr(cell_types) and len(cell_types.to_dataframe()) > 2000
    )
    hits = cell_types.search("gamma-delta T cell").head(2)
    assert hits.index[0] == "CL:0000798" and hits.iloc[0]["name"] == "gamma-delta T cell"
    assert all("gamma-delta T cell" in name for name in hits["name"])

    # define var schema
    var_schema = ln.Schema(
        name="my_var_schema",
        itype=bt.Gene.ensembl_gene_id,
        dtype=int,
    ).save()
    obs_schema = ln.Schema(
        name="my_obs_schema",
        features=[
            ln.Feature(name="perturbation", dtype=ln.ULabel).save(),
        ],
    ).save()
    assert ln.Feature.filter(name="perturbation").count() == 1  # returning existing Feature record
    # define composite schema
    anndata_schema = ln.Schema(
        name="my_anndata_schema",
        otype="AnnData",
        components={"obs": obs_schema, "var": var_schema},
    ).save()

    # store the dataset as an AnnData object to distinguish data from metadata
    adata = ad.AnnData(
        df[["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]],
        obs=df[["perturbation"]],
    )
    # save curated artifact
    assert bt.Gene.filter().count() == 0
    curator = ln.curators.AnnDataCurator(adata, anndata_schema)
    artifact = curator.save_artifact(description="my RNA-seq")
    capsys.readouterr()
    artifact.describe()
    described = capsys.readouterr().out
    assert "Artifact .h5ad/AnnData" in described and ".description = 'my RNA-seq'" in described
    assert "(3 bionty.Gene.ensembl_gene_id)" in described and "obs: my_obs_schema (1 Feature)" in described
    assert "perturbation (cat[ULabel]) = 'DMSO', 'IFNG'" in described
    # the genes came from the public source, with their organism ("created 1 Organism record ... 'human'")
    assert sorted(bt.Gene.filter().to_list("symbol")) == ["CD14", "CD4", "CD8A"]
    assert bt.Gene.filter(organism__name="human").count() == 3 and bt.Organism.get(name="human")
    assert {g.symbol for g in artifact.features.slots["var"].members} == {"CD14", "CD4", "CD8A"}

    # Query for typed features.
    # get a lookup object for human genes
    genes = bt.Gene.filter(organism__name="human").lookup()
    # query for all feature sets that contain CD8A
    feature_sets = ln.FeatureSet.filter(genes=genes.cd8a).all()
    assert len(feature_sets) == 1 and feature_sets[0] == artifact.features.slots["var"]
    # write the query
    found = ln.Artifact.filter(feature_sets__in=feature_sets).df()
    assert found["uid"].tolist() == [artifact.uid] and found["description"].tolist() == ["my RNA-seq"]

    # Update ontologies, e.g., create a cell type record and add a new cell state.
    # create an ontology-coupled cell type record and save it
    neuron = bt.CellType.from_source(name="neuron").save()
    assert neuron.ontology_id == "CL:0000540"
    assert {p.ontology_id for p in neuron.parents.all()} == {"CL:0002319", "CL:0000404", "CL:0000393"}
    # create a record to track a new cell state
    new_cell_state = bt.CellType(name="my neuron cell state", description="explains X").save()
    # express that it's a neuron state
    new_cell_state.parents.add(neuron)
    # view ontological hierarchy
    new_cell_state.view_parents(distance=2)
    assert "lineage graph:" in capsys.readouterr().out
    graph = new_cell_state.view_parents(distance=2, return_graph=True).source
    assert "my neuron cell state" in graph and "neuron" in graph and "neural cell" in graph
    assert new_cell_state.parents.one() == neuron and new_cell_state.ontology_id is None


# --- Scale learning ----------------------------------------------------------------------------------


def test_scale_learning(intro: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    torch_data = pytest.importorskip("torch.utils.data")
    ln = intro
    _, df = _track_and_save_df(ln)
    _new_version(ln, df)
    _curation_schema(ln)
    anndata_schema = _anndata_schema(ln)
    artifact = _curated_anndata(ln, df, anndata_schema)

    # a new dataset
    df2 = ln.core.datasets.small_dataset2(otype="DataFrame")
    adata = ad.AnnData(
        df2[["ENSG00000153563", "ENSG00000010610", "ENSG00000004468"]],
        obs=df2[["perturbation"]],
    )
    curator = ln.curators.AnnDataCurator(adata, anndata_schema)
    artifact2 = curator.save_artifact(key="my_datasets/my_rnaseq2.h5ad")
    assert artifact2.key == "my_datasets/my_rnaseq2.h5ad" and artifact2.n_observations == 3
    import lamella.bionty as bt

    assert bt.Gene.filter(ensembl_gene_id="ENSG00000004468").one().symbol == "CD38"  # added from public

    # Create a collection using Collection.
    collection = ln.Collection([artifact, artifact2], key="my-RNA-seq-collection").save()
    capsys.readouterr()
    collection.describe()
    described = capsys.readouterr().out
    assert "Collection" in described and ".key = 'my-RNA-seq-collection'" in described
    collection.view_lineage()
    assert "lineage graph:" in capsys.readouterr().out

    # if it's small enough, you can load the entire collection into memory as if it was one
    loaded = collection.load()
    assert loaded.shape == (6, 4) and set(loaded.obs["artifact_uid"]) == {artifact.uid, artifact2.uid}
    # typically, it's too big, hence, open it for streaming (if the backend allows it)
    # collection.open()
    # or iterate over its artifacts
    assert list(collection.artifacts.all()) == [artifact, artifact2]
    # or look at a DataFrame listing the artifacts
    listed = collection.artifacts.df()
    assert listed["uid"].tolist() == [artifact.uid, artifact2.uid]
    assert listed["otype"].tolist() == ["AnnData", "AnnData"]

    # Directly train models on collections of AnnData.
    # to train models, batch iterate through the collection as if it was one array
    DataLoader, WeightedRandomSampler = torch_data.DataLoader, torch_data.WeightedRandomSampler
    with pytest.raises(ln.errors.InvalidArgument, match="no obs column 'cell_medium'"):
        dataset = collection.mapped(obs_keys=["cell_medium"])  # the page's key: no shard has it

    dataset = collection.mapped(obs_keys=["perturbation"])  # a key the collection has
    sampler = WeightedRandomSampler(
        weights=dataset.get_label_weights("perturbation"), num_samples=len(dataset)
    )
    data_loader = DataLoader(dataset, batch_size=2, sampler=sampler)
    batches = []
    for batch in data_loader:
        batches.append(batch)
    assert len(dataset) == 6 and len(batches) == 3
    assert batches[0]["X"].shape == (2, 2)  # the genes both shards measure (join="inner")
    assert sum(len(b["perturbation"]) for b in batches) == 6
    dataset.close()
