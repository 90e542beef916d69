"""The example datasets reproduce what the seed documents show, offline and deterministically."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import anndata
import numpy as np
import pandas as pd
import pytest

from lamella.errors import InvalidArgument, ValidationError
from lamella.examples import datasets

GENES1 = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
OBS_COLUMNS1 = [
    "perturbation",
    "sample_note",
    "cell_type_by_expert",
    "cell_type_by_model",
    "assay_oid",
    "concentration",
    "treatment_time_h",
    "donor",
]
CD8_T = "CD8-positive, alpha-beta T cell"
IRIS_IN_METER = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


# ---- small_dataset1 ----------------------------------------------------------------------------


def test_small_dataset1_matches_the_introduction_table() -> None:
    df = datasets.small_dataset1(with_typo=True)
    assert list(df.columns) == GENES1 + OBS_COLUMNS1
    assert list(df.columns[:3]) == GENES1
    assert list(df.index) == ["sample1", "sample2", "sample3"]
    assert df.loc["sample2", "perturbation"] == "IFNJ"
    rows = [list(row) for row in df.itertuples(index=False)]
    assert rows == [
        [1, 3, 5, "DMSO", "was ok", "B cell", "B cell", "EFO:0008913", "0.1%", 24, "D0001"],
        [2, 4, 6, "IFNJ", "looks naah", CD8_T, "T cell", "EFO:0008913", "200 nM", 24, "D0002"],
        [3, 5, 7, "DMSO", "pretty! 🤩", CD8_T, "T cell", "EFO:0008913", "0.1%", 6, None],
    ]


def test_small_dataset1_dtypes() -> None:
    df = datasets.small_dataset1()
    for gene in GENES1:
        assert df[gene].dtype == "int64"
    assert df["treatment_time_h"].dtype == "int64"
    for column in ("perturbation", "cell_type_by_expert", "cell_type_by_model", "assay_oid"):
        assert isinstance(df[column].dtype, pd.CategoricalDtype), column
    assert df["donor"].isna().tolist() == [False, False, True]


def test_small_dataset1_default_has_no_typo() -> None:
    df = datasets.small_dataset1()
    assert df["perturbation"].tolist() == ["DMSO", "IFNG", "DMSO"]
    assert list(df["perturbation"].cat.categories) == ["DMSO", "IFNG"]


def test_typo_is_fixed_by_renaming_the_category() -> None:
    # the introduction fixes the typo exactly like this
    df = datasets.small_dataset1(with_typo=True)
    df["perturbation"] = df["perturbation"].cat.rename_categories({"IFNJ": "IFNG"})
    fixed = datasets.small_dataset1()
    pd.testing.assert_frame_equal(df, fixed)


def test_small_dataset1_carries_study_metadata_in_attrs() -> None:
    df = datasets.small_dataset1()
    assert df.attrs["temperature"] == 21.6
    assert df.attrs["experiment"] == "My experiment"
    assert {"date_of_study", "study_note"} <= set(df.attrs)


def test_small_dataset1_variants() -> None:
    symbols = datasets.small_dataset1(gene_symbols_in_index=True)
    assert list(symbols.columns[:3]) == ["CD8A", "CD4", "CD14"]
    synonym = datasets.small_dataset1(with_cell_type_synonym=True)
    assert synonym.loc["sample1", "cell_type_by_expert"] == "B lymphocyte"
    typo = datasets.small_dataset1(with_cell_type_typo=True)
    assert CD8_T not in set(typo["cell_type_by_expert"])
    assert typo.loc["sample1", "cell_type_by_expert"] == "B cell"
    gene_typo = datasets.small_dataset1(with_gene_typo=True)
    assert list(gene_typo.columns[:3]) != GENES1
    assert gene_typo.columns[0] == GENES1[0]
    # every variant keeps the rest of the table
    for variant in (symbols, synonym, typo, gene_typo):
        assert list(variant.columns[3:]) == OBS_COLUMNS1
        assert list(variant.index) == ["sample1", "sample2", "sample3"]


def test_small_dataset1_as_anndata() -> None:
    adata = datasets.small_dataset1(otype="AnnData", with_typo=True)
    assert adata.shape == (3, 3)
    assert list(adata.var_names) == GENES1
    assert list(adata.obs_names) == ["sample1", "sample2", "sample3"]
    assert list(adata.obs.columns) == OBS_COLUMNS1
    np.testing.assert_array_equal(adata.X, [[1, 3, 5], [2, 4, 6], [3, 5, 7]])
    assert adata.obs.loc["sample2", "perturbation"] == "IFNJ"
    assert adata.uns["temperature"] == 21.6


def test_the_introduction_builds_an_anndata_from_the_frame() -> None:
    df = datasets.small_dataset1()
    adata = anndata.AnnData(df[GENES1], obs=df[["perturbation"]])
    assert adata.shape == (3, 3)


def test_unknown_otype_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="otype='polars'"):
        datasets.small_dataset1(otype="polars")
    with pytest.raises(InvalidArgument, match="otype='polars'"):
        datasets.small_dataset2(otype="polars")


# ---- small_dataset2 ----------------------------------------------------------------------------


def test_small_dataset2_has_the_columns_the_introduction_selects() -> None:
    df = datasets.small_dataset2(otype="DataFrame")
    assert list(df.columns[:3]) == ["ENSG00000153563", "ENSG00000010610", "ENSG00000004468"]
    assert "perturbation" in df.columns
    assert isinstance(df["perturbation"].dtype, pd.CategoricalDtype)
    assert set(df["perturbation"]) <= {"DMSO", "IFNG"}
    assert len(df) == 3
    assert set(df.index).isdisjoint({"sample1", "sample2", "sample3"})


def test_small_dataset2_variants() -> None:
    symbols = datasets.small_dataset2(gene_symbols_in_index=True)
    assert list(symbols.columns[:3]) == ["CD8A", "CD4", "CD38"]
    adata = datasets.small_dataset2(otype="AnnData")
    assert adata.shape == (3, 3)
    assert "perturbation" in adata.obs.columns


# ---- iris --------------------------------------------------------------------------------------


def test_df_iris_has_the_sklearn_layout() -> None:
    df = datasets.df_iris()
    assert df.shape == (150, 5)
    assert list(df.columns) == [
        "sepal length (cm)",
        "sepal width (cm)",
        "petal length (cm)",
        "petal width (cm)",
        "target",
    ]
    assert df.iloc[0].tolist() == [5.1, 3.5, 1.4, 0.2, 0]
    assert df.iloc[4].tolist() == [5.0, 3.6, 1.4, 0.2, 0]
    assert df["target"].value_counts().to_dict() == {0: 50, 1: 50, 2: 50}


def test_iris_values_are_the_classic_table() -> None:
    # published per-species means of Fisher's data identify the table beyond a few spot checks
    df = datasets.df_iris()
    means = df.groupby("target").mean().round(3)
    assert means.to_numpy().tolist() == [
        [5.006, 3.428, 1.462, 0.246],
        [5.936, 2.770, 4.260, 1.326],
        [6.588, 2.974, 5.552, 2.026],
    ]
    assert round(float(df["sepal width (cm)"].std()), 6) == 0.435866


def test_df_iris_in_meter() -> None:
    df = datasets.df_iris_in_meter()
    assert df.shape == (150, 5)
    assert list(df.columns) == [*IRIS_IN_METER, "iris_organism_code"]
    assert df.iloc[0, :4].tolist() == [0.051, 0.035, 0.014, 0.002]


def test_batch1_matches_the_dataset_reference_page() -> None:
    df = datasets.df_iris_in_meter_batch1()
    assert list(df.columns) == [*IRIS_IN_METER, "iris_organism_code"]
    assert df.shape == (75, 5)
    assert df.head().to_numpy().tolist() == [
        [0.051, 0.035, 0.014, 0.002, 0],
        [0.049, 0.030, 0.014, 0.002, 0],
        [0.047, 0.032, 0.013, 0.002, 0],
        [0.046, 0.031, 0.015, 0.002, 0],
        [0.050, 0.036, 0.014, 0.002, 0],
    ]
    assert list(df.index[:5]) == [0, 1, 2, 3, 4]


def test_batch2_is_the_second_half() -> None:
    df = datasets.df_iris_in_meter_batch2()
    assert df.shape == (75, 5)
    assert list(df.index) == list(range(75, 150))
    assert set(df["iris_organism_code"]) == {1, 2}


def test_study1_head_matches_the_tutorial() -> None:
    df = datasets.df_iris_in_meter_study1()
    assert list(df.columns) == [*IRIS_IN_METER, "iris_organism_name"]
    assert df.shape == (75, 5)
    assert df.head()["iris_organism_name"].tolist() == ["setosa"] * 5
    assert df.head()["sepal_length"].tolist() == [0.051, 0.049, 0.047, 0.046, 0.050]


def test_studies_concatenate_to_the_tutorial_tail() -> None:
    joined = pd.concat([datasets.df_iris_in_meter_study1(), datasets.df_iris_in_meter_study2()])
    assert joined.shape == (150, 5)
    assert isinstance(joined["iris_organism_name"].dtype, pd.CategoricalDtype)
    tail = joined.tail()
    assert list(tail.index) == [145, 146, 147, 148, 149]
    assert tail[IRIS_IN_METER].to_numpy().tolist() == [
        [0.067, 0.030, 0.052, 0.023],
        [0.063, 0.025, 0.050, 0.019],
        [0.065, 0.030, 0.052, 0.020],
        [0.062, 0.034, 0.054, 0.023],
        [0.059, 0.030, 0.051, 0.018],
    ]
    assert tail["iris_organism_name"].tolist() == ["virginica"] * 5


def test_iris_data_file_is_package_data() -> None:
    from importlib import resources

    table = resources.files("lamella.examples").joinpath("data", "iris.csv")
    assert table.is_file()
    assert len(table.read_text(encoding="utf-8").splitlines()) == 151


# ---- anndata_with_obs --------------------------------------------------------------------------


def test_anndata_with_obs() -> None:
    adata = datasets.anndata_with_obs()
    assert adata.shape == (40, 100)
    assert list(adata.var_names[:2]) == ["ENSG00000000003", "ENSG00000000005"]
    assert adata.var_names.is_unique
    assert all(name.startswith("ENSG") and len(name) == 15 for name in adata.var_names)
    assert list(adata.obs.columns) == ["cell_type", "cell_type_id", "tissue", "disease"]
    assert adata.obs_names.is_unique
    assert "T cell" in set(adata.obs["cell_type"])
    assert adata.obs["cell_type"].value_counts().min() == 10


def test_anndata_with_obs_is_deterministic() -> None:
    first, second = datasets.anndata_with_obs(), datasets.anndata_with_obs()
    np.testing.assert_array_equal(first.X, second.X)
    pd.testing.assert_frame_equal(first.obs, second.obs)
    assert float(first.X.sum()) > 0


@pytest.mark.parametrize(
    "make",
    [
        datasets.small_dataset1,
        datasets.small_dataset2,
        datasets.df_iris,
        datasets.df_iris_in_meter_study1,
        datasets.df_iris_in_meter_batch2,
    ],
)
def test_frames_are_deterministic_and_independent(make: Any) -> None:
    expected = make()
    first = make()
    pd.testing.assert_frame_equal(first, expected)
    # callers mutate what they get; the next call must not see it
    first.iloc[0, 0] = first.iloc[1, 0]
    pd.testing.assert_frame_equal(make(), expected)


# ---- import cost -------------------------------------------------------------------------------


def test_import_does_not_load_pandas() -> None:
    src = Path(datasets.__file__).resolve().parents[3]
    code = (
        "import sys, lamella.examples; from lamella.examples import datasets; "
        "heavy = [m for m in ('pandas', 'numpy', 'anndata') if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(src), "PATH": ""},
    )
    assert result.stdout.strip() == ""


# ---- mini_immuno -------------------------------------------------------------------------------

mini_immuno = datasets.mini_immuno


def test_mini_immuno_is_a_module_of_the_datasets_namespace() -> None:
    import lamella as ln
    from lamella.examples.datasets import mini_immuno as imported

    assert ln.examples.datasets.mini_immuno is imported is mini_immuno
    assert "mini_immuno" in dir(datasets)
    assert callable(mini_immuno.get_dataset1) and callable(mini_immuno.save_mini_immuno_datasets)


def test_mini_immuno_dataset1_as_a_frame() -> None:
    df = mini_immuno.get_dataset1()
    assert list(df.columns) == [*GENES1, *OBS_COLUMNS1, "donor_ethnicity"]
    assert list(df.index) == ["sample1", "sample2", "sample3"]
    assert df.shape == (3, 12)
    assert df[GENES1].to_numpy().tolist() == [[1, 3, 5], [2, 4, 6], [3, 5, 7]]
    assert df["perturbation"].tolist() == ["DMSO", "IFNG", "DMSO"]
    assert df["cell_type_by_expert"].tolist() == ["B cell", CD8_T, CD8_T]
    assert df["cell_type_by_model"].tolist() == ["B cell", "T cell", "T cell"]
    assert df["donor_ethnicity"].tolist()[2] == ["Chinese"]
    for column in ("perturbation", "cell_type_by_expert", "cell_type_by_model", "assay_oid"):
        assert isinstance(df[column].dtype, pd.CategoricalDtype), column
    assert df.attrs == {
        "temperature": 21.6,
        "experiment": "Experiment 1",
        "date_of_study": "2024-12-01",
        "study_note": "We had a great time performing this study and the results look compelling.",
        "study_leader": "Ada Lovelace",
    }


def test_mini_immuno_dataset1_as_anndata() -> None:
    adata = mini_immuno.get_dataset1(otype="AnnData")
    assert adata.shape == (3, 3)
    assert list(adata.var_names) == GENES1
    assert list(adata.obs.columns) == OBS_COLUMNS1  # the list-valued ethnicities do not fit h5ad
    np.testing.assert_array_equal(adata.X, [[1, 3, 5], [2, 4, 6], [3, 5, 7]])
    assert set(adata.uns) == {"temperature", "experiment", "date_of_study", "study_note", "study_leader"}
    symbols = mini_immuno.get_dataset1(otype="AnnData", gene_symbols_in_index=True)
    assert list(symbols.var_names) == ["CD8A", "CD4", "CD14"]


def test_mini_immuno_dataset1_switches_each_plant_one_problem() -> None:
    clean = mini_immuno.get_dataset1()

    def changed(**switch: bool) -> dict[str, list[Any]]:
        """What differs from the clean dataset: {column or "index" or "columns": the new values}."""
        df = mini_immuno.get_dataset1(**switch)
        diff: dict[str, list[Any]] = {}
        if list(df.index) != list(clean.index):
            diff["index"] = [name for name in df.index if name not in set(clean.index)]
        if list(df.columns) != list(clean.columns):
            diff["columns"] = [name for name in df.columns if name not in set(clean.columns)]
            return diff
        for column in clean.columns:
            if df[column].tolist() != clean[column].tolist():
                diff[column] = [v for v, c in zip(df[column], clean[column], strict=True) if v != c]
        return diff

    assert changed(with_typo=True) == {"perturbation": ["IFNJ"]}
    assert changed(with_cell_type_synonym=True) == {"cell_type_by_expert": ["B-cell"]}
    assert changed(with_cell_type_typo=True) == {
        "cell_type_by_expert": ["CD8-pos alpha-beta T cell", "CD8-pos alpha-beta T cell"]
    }
    assert changed(with_gene_typo=True) == {"columns": ["GeneTypo"]}
    assert changed(with_outdated_gene=True) == {"columns": ["ENSG00000278198"]}
    assert changed(with_wrong_subtype=True) == {"perturbation": ["ulabel_but_not_perturbation"]}
    assert changed(with_index_type_mismatch=True) == {"index": [0]}
    assert changed(with_date_as_iso_string=False) == {}
    as_date = mini_immuno.get_dataset1(with_date_as_iso_string=False).attrs["date_of_study"]
    assert as_date == datetime.date(2024, 12, 1)
    symbols = mini_immuno.get_dataset1(gene_symbols_in_index=True, with_gene_typo=True)
    assert list(symbols.columns[:3]) == ["CD8A", "CD4", "GeneTypo"]


def test_mini_immuno_dataset2() -> None:
    df = mini_immuno.get_dataset2()
    assert list(df.columns[:3]) == ["ENSG00000153563", "ENSG00000010610", "ENSG00000004468"]
    assert list(df.columns[3:]) == [
        "perturbation",
        "cell_type_by_model",
        "concentration",
        "treatment_time_h",
        "donor",
    ]
    assert list(df.index) == ["sample4", "sample5", "sample6"]
    assert df.attrs["experiment"] == "Experiment 2" and df.attrs["temperature"] == 22.6
    adata = mini_immuno.get_dataset2(otype="AnnData", gene_symbols_in_index=True)
    assert adata.shape == (3, 3) and list(adata.var_names) == ["CD8A", "CD4", "CD38"]
    assert list(adata.obs.columns) == list(df.columns[3:])
    with pytest.raises(InvalidArgument, match="otype='polars'"):
        mini_immuno.get_dataset2(otype="polars")


@pytest.fixture
def ln_bionty(ln: Any) -> Any:
    """The `ln` fixture's instance with the bionty module."""
    ln.setup.migrate(modules="bionty")
    return ln


def test_define_features_labels_twice(ln_bionty: Any) -> None:
    ln = ln_bionty
    import lamella.bionty as bt

    mini_immuno.define_features_labels()
    counts = (ln.Feature.filter().count(), ln.Record.filter().count(), bt.CellType.filter().count())
    mini_immuno.define_features_labels()
    assert (ln.Feature.filter().count(), ln.Record.filter().count(), bt.CellType.filter().count()) == counts
    assert ln.Feature.get(name="perturbation").dtype == "cat[Record[Perturbation]]"
    assert ln.Feature.get(name="treatment_time_h").coerce is True
    assert ln.Feature.get(name="donor_ethnicity").dtype == "list[cat[bionty.Ethnicity]]"
    perturbations = ln.Record.filter(type__name="Perturbation").to_list("name")
    assert sorted(perturbations) == ["DMSO", "IFNG"]


def test_the_flexible_schema_validates_dataset1_and_catches_each_planted_problem(ln_bionty: Any) -> None:
    ln = ln_bionty
    schema = mini_immuno.define_mini_immuno_schema_flexible()
    assert schema.name == "Mini immuno schema" and schema.flexible is True
    assert mini_immuno.define_mini_immuno_schema_flexible() == schema  # again: the same schema
    artifact = ln.Artifact.from_dataframe(
        mini_immuno.get_dataset1(), key="examples/dataset1.parquet", schema=schema
    ).save()
    assert set(artifact.records.to_list("name")) == {"DMSO", "IFNG"}
    for switch, term in [
        ("with_typo", "IFNJ"),
        ("with_cell_type_synonym", "B-cell"),
        ("with_cell_type_typo", "CD8-pos alpha-beta T cell"),
        ("with_wrong_subtype", "ulabel_but_not_perturbation"),
    ]:
        with pytest.raises(ValidationError, match=term):
            ln.curators.DataFrameCurator(mini_immuno.get_dataset1(**{switch: True}), schema).validate()


def test_save_mini_immuno_datasets(ln_bionty: Any) -> None:
    ln = ln_bionty
    first, second = mini_immuno.save_mini_immuno_datasets()
    assert (first.key, second.key) == ("examples/dataset1.h5ad", "examples/dataset2.h5ad")
    assert ln.Artifact.filter(experiment="Experiment 2").one() == second
    assert ln.Artifact.filter(temperature__lt=22).one() == first
    assert mini_immuno.save_mini_immuno_datasets() == (first, second)  # again: nothing new
    assert ln.Artifact.filter().count() == 2
