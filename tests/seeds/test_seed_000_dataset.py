"""Seed 000, the reference page of `lamindb.Dataset` (LaminDB 0.x): its examples, in the page's order.

Changes to the page's code: `lamindb` is `lamella`, `lnschema_bionty` is `lamella.bionty`; the
page's `s3://my-bucket/my-images/` is a folder of images made here (an S3 prefix works the same,
see tests/integration); `file1, file2` are two files the test registers first. Old names warn
(DeprecationWarning), as they should.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture(autouse=True)
def _old_names_warn_quietly() -> None:
    warnings.simplefilter("ignore", DeprecationWarning)


def test_create_a_dataset_from_a_dataframe(ln: ModuleType) -> None:
    df = ln.dev.datasets.df_iris_in_meter_batch1()
    df.head()
    dataset = ln.Dataset(df, name="Iris flower dataset batch1")
    dataset.save()
    assert len(dataset.load()) == len(df) and dataset.file.suffix == ".parquet"


def test_create_a_dataset_from_files(ln: ModuleType, tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt"):
        (tmp_path / "my_dir" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "my_dir" / name).write_text(name)
    files = ln.File.from_dir(tmp_path / "my_dir")
    ln.add(files)
    file1, file2 = files
    dataset = ln.Dataset([file1, file2], name="My dataset")
    dataset.save()
    assert [f.uid for f in dataset.ordered_artifacts] == [file1.uid, file2.uid]


def test_a_folder_of_images_with_metadata(ln: ModuleType, tmp_path: Path) -> None:
    images = tmp_path / "my-images"
    images.mkdir()
    for i in range(2):
        (images / f"image{i}.jpg").write_bytes(
            ln.examples.datasets.file_jpg_paradisi05().read_bytes()[: 100 + i]
        )
    df = ln.dev.datasets.df_iris_in_meter_batch1()
    dataset = ln.Dataset(str(images), name="My dataset", meta=df)
    dataset.save()
    assert dataset.file.n_files == 2 and dataset.meta_artifact.load().shape == df.shape


def test_versions(ln: ModuleType) -> None:
    df1 = ln.dev.datasets.df_iris_in_meter_batch1()
    df2 = ln.dev.datasets.df_iris_in_meter_batch2()
    # a non-versioned dataset
    dataset = ln.Dataset(df1, description="My dataframe")
    dataset.save()
    # create new dataset from old dataset and version both
    new_dataset = ln.File(df2, is_new_version_of=dataset)
    new_dataset.save()
    assert new_dataset.initial_version == dataset.initial_version
    assert dataset.version == "1"
    assert new_dataset.version == "2"


def test_delete(ln: ModuleType) -> None:
    dataset = ln.Dataset(ln.dev.datasets.df_iris_in_meter_batch1(), name="to delete")
    dataset.save()
    dataset.delete()
    assert ln.Collection.filter(key="to delete").count() == 0  # in the trash


def test_from_anndata(ln: ModuleType) -> None:
    import lamella.bionty as lb

    ln.setup.migrate(modules="bionty")  # the instance uses the ontology module from now on
    lb.settings.organism = "human"
    adata = ln.dev.datasets.anndata_with_obs()
    assert list(adata.var_names[:2]) == ["ENSG00000000003", "ENSG00000000005"]
    dataset = ln.Dataset.from_anndata(adata, name="My dataset", field=lb.Gene.ensembl_gene_id)
    dataset.save()
    assert dataset.load().shape == adata.shape


def test_from_df(ln: ModuleType) -> None:
    df = ln.dev.datasets.df_iris_in_meter_batch1()
    df.head()
    dataset = ln.Dataset.from_df(df, description="Iris flower dataset batch1")
    dataset.save()
    assert len(dataset.load()) == len(df)


def test_mapped_into_a_data_loader(ln: ModuleType) -> None:
    torch_data = pytest.importorskip("torch.utils.data")
    import anndata as ad
    import numpy as np
    import pandas as pd

    obs = pd.DataFrame(
        {"cell_type": pd.Categorical(["T", "B", "T", "NK"]), "batch": pd.Categorical(["a", "a", "b", "b"])},
        index=[f"c{i}" for i in range(4)],
    )
    ln.Dataset(ad.AnnData(np.ones((4, 3), dtype="float32"), obs=obs), description="my dataset").save()
    ds = ln.Dataset.filter(description="my dataset").one()
    dataset = ds
    mapped = dataset.mapped(label_keys=["cell_type", "batch"])
    dl = torch_data.DataLoader(mapped, batch_size=128, shuffle=True)
    batch = next(iter(dl))
    assert batch["X"].shape == (4, 3) and set(batch) >= {"cell_type", "batch"}
    mapped.close()


def test_restore(ln: ModuleType) -> None:
    dataset = ln.Dataset(ln.dev.datasets.df_iris_in_meter_batch2(), name="restored")
    dataset.save()
    dataset.delete()
    dataset.restore()
    assert ln.Collection.filter(key="restored").count() == 1
