"""The example datasets reproduce what the seed documents show, offline and deterministically."""

from __future__ import annotations

import datetime
import gzip
import os
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


# ---- example files -----------------------------------------------------------------------------

# the empty BGZF block that ends every BAM (SAM specification, section 4.1.2)
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def read_fcs(path: Path) -> tuple[dict[str, str], np.ndarray]:
    """The TEXT keywords and the events of an FCS 3.0 file in list mode with float32 values."""
    raw = path.read_bytes()
    assert raw[:6] == b"FCS3.0" and raw[6:10] == b"    "
    text_begin, text_end, data_begin, data_end = (int(raw[10 + 8 * i : 18 + 8 * i]) for i in range(4))
    text = raw[text_begin : text_end + 1].decode("ascii")
    delimiter = text[0]
    fields = text[1:].split(delimiter)
    assert fields[-1] == ""  # the TEXT ends with the delimiter
    keywords = dict(zip(fields[0:-1:2], fields[1:-1:2], strict=True))
    assert (int(keywords["$BEGINDATA"]), int(keywords["$ENDDATA"])) == (data_begin, data_end)
    byte_order = {"1,2,3,4": "<", "4,3,2,1": ">"}[keywords["$BYTEORD"]]
    assert keywords["$DATATYPE"] == "F" and keywords["$MODE"] == "L"
    events = np.frombuffer(raw[data_begin : data_end + 1], dtype=f"{byte_order}f4")
    return keywords, events.reshape(int(keywords["$TOT"]), int(keywords["$PAR"]))


def test_file_fcs_is_a_readable_fcs3_file() -> None:
    path = datasets.file_fcs()
    assert isinstance(path, Path) and path.name == "example.fcs" and path.parent.name == "examples"
    keywords, events = read_fcs(path)
    assert events.shape == (200, 8)
    names = [keywords[f"$P{i}N"] for i in range(1, 9)]
    assert names[:3] == ["FSC-A", "FSC-H", "SSC-A"]
    assert [keywords.get(f"$P{i}S") for i in range(4, 9)] == ["CD3", "CD4", "CD8", "CD14", "CD19"]
    assert all(keywords[f"$P{i}B"] == "32" for i in range(1, 9))
    assert np.isfinite(events).all() and (events >= 0).all()
    assert path.stat().st_size == int(keywords["$ENDDATA"]) + 1  # nothing after the DATA segment


def test_file_fcs_alpert19_has_a_mass_cytometry_panel() -> None:
    path = datasets.file_fcs_alpert19()
    assert path.name == "Alpert19.fcs"
    keywords, events = read_fcs(path)
    assert events.shape == (300, 18)
    assert keywords["$P1N"] == "Time" and keywords["$P3N"].endswith("Di")
    markers = {keywords[f"$P{i}S"] for i in range(3, 19)}
    assert {"CD3", "CD4", "CD8", "CD19", "CD14", "HLA-DR"} <= markers
    assert np.all(np.diff(events[:, 0]) >= 0)  # time runs forward


def test_file_fcs_alpert19_populates_registries_twice(ln_bionty: Any) -> None:
    ln = ln_bionty
    import lamella.bionty as bt

    datasets.file_fcs_alpert19(populate_registries=True)
    datasets.file_fcs_alpert19(populate_registries=True)
    assert bt.CellMarker.filter().count() == 16
    assert bt.CellMarker.filter(name="CD3").exists()
    assert ln.Feature.get(name="assay").dtype == "cat[bionty.ExperimentalFactor]"
    assert ln.Feature.get(name="organism").dtype == "cat[bionty.Organism]"


def test_file_bam_is_bgzf_compressed_bam() -> None:
    path = datasets.file_bam()
    assert path.name == "output.bam"
    raw = path.read_bytes()
    assert raw.endswith(BGZF_EOF)
    # every block is a gzip member with the BC extra field giving its size
    offset, blocks = 0, 0
    while offset < len(raw):
        assert raw[offset : offset + 4] == b"\x1f\x8b\x08\x04"
        assert raw[offset + 12 : offset + 14] == b"BC"
        offset += int.from_bytes(raw[offset + 16 : offset + 18], "little") + 1
        blocks += 1
    assert offset == len(raw) and blocks >= 2
    bam = gzip.decompress(raw)
    assert bam[:4] == b"BAM\x01"
    l_text = int.from_bytes(bam[4:8], "little")
    header = bam[8 : 8 + l_text].decode("ascii")
    assert header.startswith("@HD\tVN:1.6\tSO:coordinate\n") and "@SQ\tSN:chr1\tLN:248956422" in header
    position = 8 + l_text
    assert int.from_bytes(bam[position : position + 4], "little") == 1  # one reference
    name_length = int.from_bytes(bam[position + 4 : position + 8], "little")
    assert bam[position + 8 : position + 8 + name_length] == b"chr1\x00"
    position += 8 + name_length + 4
    names, starts = [], []
    while position < len(bam):
        block_size = int.from_bytes(bam[position : position + 4], "little")
        record = bam[position + 4 : position + 4 + block_size]
        starts.append(int.from_bytes(record[4:8], "little"))
        name_length = record[8]
        names.append(record[32 : 32 + name_length - 1].decode())
        position += 4 + block_size
    assert names == ["read1", "read2", "read3", "read4"]
    assert starts == sorted(starts)  # coordinate-sorted, as the header says


def test_file_fastq_is_gzipped_fastq() -> None:
    path = datasets.file_fastq()
    assert path.name == "input.fastq.gz"
    lines = gzip.decompress(path.read_bytes()).decode("ascii").splitlines()
    assert len(lines) == 8 * 4
    for header, sequence, plus, quality in zip(*[iter(lines)] * 4, strict=True):
        assert header.startswith("@") and plus == "+"
        assert len(sequence) == len(quality) == 50 and set(sequence) <= set("ACGT")


def test_file_jpg_paradisi05_is_a_jpeg() -> None:
    path = datasets.file_jpg_paradisi05()
    assert path.name == "paradisi05_laminopathic_nuclei.jpg"
    raw = path.read_bytes()
    assert raw[:2] == b"\xff\xd8" and raw[-2:] == b"\xff\xd9" and raw[6:11] == b"JFIF\x00"
    frame = raw.index(b"\xff\xc0")  # baseline
    height, width = int.from_bytes(raw[frame + 5 : frame + 7]), int.from_bytes(raw[frame + 7 : frame + 9])
    assert (width, height) == (120, 90)
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(path) as image:
        image.load()
        assert image.format == "JPEG" and image.size == (120, 90) and image.mode == "RGB"
        pixels = np.asarray(image)
    assert pixels[..., 2].max() > 150 and np.median(pixels) < 40  # bright nuclei on a dark background


def test_jpeg_encoder_roundtrips_through_pillow() -> None:
    image_module = pytest.importorskip("PIL.Image")
    from io import BytesIO

    from lamella.examples.datasets._file_bytes import jpeg_bytes

    rng = np.random.default_rng(0)
    for height, width in ((7, 13), (16, 24)):
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        with image_module.open(BytesIO(jpeg_bytes(pixels, quality=100))) as image:
            decoded = np.asarray(image).astype(int)
        assert decoded.shape == (height, width, 3)
        assert np.abs(decoded - pixels).mean() < 2  # at the highest quality only rounding is lost


def test_file_tiff_suo22_is_a_tiff() -> None:
    path = datasets.file_tiff_suo22()
    assert path.parent.name == "suo22" and path.name == "F121_LP1_4LIV.tiff"
    raw = path.read_bytes()
    assert raw[:4] == b"II*\x00"
    image_module = pytest.importorskip("PIL.Image")
    with image_module.open(path) as image:
        assert image.format == "TIFF" and image.size == (96, 96) and image.mode == "RGB"


def test_file_tsv_rnaseq_nfcore_salmon_merged_gene_counts() -> None:
    path = datasets.file_tsv_rnaseq_nfcore_salmon_merged_gene_counts()
    df = pd.read_csv(path, sep="\t")
    assert list(df.columns[:2]) == ["gene_id", "gene_name"] and df.shape == (10, 7)
    assert df["gene_id"].str.match(r"^Y[A-P][LR]\d{3}[WC]$").all()
    assert (df.iloc[:, 2:] >= 0).all().all()


def test_file_tsv_populates_registries(ln_bionty: Any) -> None:
    ln = ln_bionty
    import lamella.bionty as bt

    datasets.file_tsv_rnaseq_nfcore_salmon_merged_gene_counts(populate_registries=True)
    datasets.file_tsv_rnaseq_nfcore_salmon_merged_gene_counts(populate_registries=True)
    assert bt.ExperimentalFactor.get(ontology_id="EFO:0008896").name == "RNA-Seq"
    assert ln.Feature.filter(name__in=["assay", "organism"]).count() == 2


def test_file_mini_csv() -> None:
    assert pd.read_csv(datasets.file_mini_csv())["test"].tolist() == [1, 2, 3]


def test_files_in_storage_root(ln: Any, storage_root: Path) -> None:
    for make in (datasets.file_bam, datasets.file_fastq, datasets.file_mini_csv):
        path = make(in_storage_root=True)
        assert path.parent == storage_root
    artifact = ln.Artifact(storage_root / "output.bam", key="output.bam").save()
    assert artifact.suffix == ".bam" and artifact.size == datasets.file_bam().stat().st_size


def test_files_are_deterministic_and_repaired() -> None:
    path = datasets.file_fcs()
    first = path.read_bytes()
    stat = path.stat()
    assert datasets.file_fcs() == path and path.stat().st_mtime_ns == stat.st_mtime_ns  # left alone
    path.write_bytes(first[:100])
    assert datasets.file_fcs().read_bytes() == first  # a damaged copy is written again
    code = (
        "import os, sys; os.environ['LAMELLA_HOME'] = sys.argv[1]; "
        "from lamella.examples import datasets; "
        "print(datasets.file_fcs().read_bytes().hex())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path.parents[3] / "elsewhere")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(datasets.__file__).resolve().parents[3])},
    )
    assert bytes.fromhex(result.stdout.strip()) == first  # the same bytes in another process and folder


def test_dir_scrnaseq_cellranger(tmp_path: Path) -> None:
    import h5py
    from scipy.io import mmread

    sample = datasets.dir_scrnaseq_cellranger("sample_001", basedir=tmp_path / "run", output_only=False)
    assert sample == tmp_path / "run" / "sample_001"
    files = sorted(p.relative_to(sample).as_posix() for p in sample.rglob("*") if p.is_file())
    assert len(files) == 15
    assert {
        "web_summary.html",
        "metrics_summary.csv",
        "possorted_genome_bam.bam",
        "filtered_feature_bc_matrix.h5",
        "filtered_feature_bc_matrix/matrix.mtx.gz",
        "analysis/analysis.csv",
    } <= set(files)
    assert sorted(p.name for p in (tmp_path / "run" / "fastq").iterdir()) == [
        "sample_001_R1_001.fastq.gz",
        "sample_001_R2_001.fastq.gz",
    ]
    with gzip.open(sample / "filtered_feature_bc_matrix" / "matrix.mtx.gz") as handle:
        counts = mmread(handle).toarray()
    assert counts.shape == (8, 12)
    with h5py.File(sample / "filtered_feature_bc_matrix.h5") as file:
        assert tuple(file["matrix/shape"][:]) == (8, 12)
        assert int(file["matrix/data"][:].sum()) == int(counts.sum())
        assert file["matrix/features/name"][0] == b"CD8A"
    metrics = pd.read_csv(sample / "metrics_summary.csv")
    assert metrics.loc[0, "Estimated Number of Cells"] == 12
    assert gzip.decompress((sample / "possorted_genome_bam.bam").read_bytes())[:4] == b"BAM\x01"
    # by default the run folder is in the cache
    assert datasets.dir_scrnaseq_cellranger().parent.name == "cellranger_run_001"
