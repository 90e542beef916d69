"""Curators: validating DataFrames and AnnData against schemas, fixing values, saving annotated artifacts."""

from __future__ import annotations

import datetime as dt
import io
from contextlib import redirect_stdout
from types import ModuleType
from typing import Any

import pandas as pd
import pytest

from lamella.errors import InvalidArgument, ValidationError


@pytest.fixture
def perturbations(ln: ModuleType) -> Any:
    kind = ln.ULabel(name="Perturbation", is_type=True).save()
    ln.ULabel(name="DMSO", type=kind).save()
    ln.ULabel(name="IFNG", type=kind).save()
    return kind


@pytest.fixture
def schema(ln: ModuleType, perturbations: Any) -> Any:
    return ln.Schema(
        name="My DataFrame schema",
        features=[
            ln.Feature(name="ENSG00000153563", dtype=int).save(),
            ln.Feature(name="ENSG00000010610", dtype=int).save(),
            ln.Feature(name="ENSG00000170458", dtype=int).save(),
            ln.Feature(name="perturbation", dtype=ln.ULabel).save(),
        ],
    ).save()


@pytest.fixture
def df(ln: ModuleType) -> Any:
    return ln.examples.datasets.small_dataset1()


def _frame(**columns: Any) -> pd.DataFrame:
    return pd.DataFrame(
        columns, index=[f"sample{i}" for i in range(1, len(next(iter(columns.values()))) + 1)]
    )


def _error(curator: Any) -> str:
    with pytest.raises(ValidationError) as info:
        curator.validate()
    return str(info.value)


def _one_feature_schema(ln: ModuleType, name: str, dtype: Any, **kwargs: Any) -> Any:
    schema_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in ("coerce", "maximal_set", "ordered_set")}
    feature = ln.Feature(name=name, dtype=dtype, **kwargs).save()
    return ln.Schema(name=f"schema of {name}", features=[feature], **schema_kwargs).save()


# ---- a valid DataFrame --------------------------------------------------------------------------------


def test_valid_dataframe_validates_and_saves_annotated(ln: ModuleType, schema: Any, df: Any) -> None:
    curator = ln.curators.DataFrameCurator(df, schema)
    assert curator.validate() is None
    assert curator.cat.non_validated == {}
    artifact = curator.save_artifact(key="curated/my.parquet")
    assert artifact.id is not None and artifact.key == "curated/my.parquet"
    assert artifact.schema == schema
    assert set(artifact.ulabels.to_list("name")) == {"DMSO", "IFNG"}
    assert ln.Artifact.get(ulabels__name="IFNG") == artifact
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    columns = artifact.features.slots["columns"]
    assert columns == schema  # the validated columns are exactly the schema's features
    assert [f.name for f in columns.members] == [f.name for f in schema.members]
    assert artifact.labels.get("perturbation", flat_names=True) == ["DMSO", "IFNG"]
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        artifact.describe()
    assert "perturbation" in buffer.getvalue() and "IFNG" in buffer.getvalue()


def test_validated_columns_form_their_own_feature_set(ln: ModuleType, schema: Any, df: Any) -> None:
    optional = ln.Feature(name="donor", dtype=str).save()
    flexible = ln.Schema(
        name="with optional", features=[*schema.members, (optional, {"optional": True})]
    ).save()
    artifact = ln.curators.DataFrameCurator(df.drop(columns=["donor"]), flexible).save_artifact(
        key="x.parquet"
    )
    columns = artifact.features.slots["columns"]
    assert columns != flexible and columns == schema  # the same four features: deduplicated by hash
    assert artifact.schema == flexible


def test_save_artifact_validates_first(ln: ModuleType, schema: Any, df: Any) -> None:
    df["perturbation"] = df["perturbation"].cat.rename_categories({"IFNG": "IFNJ"})
    with pytest.raises(ValidationError, match="IFNJ"):
        ln.curators.DataFrameCurator(df, schema).save_artifact(key="never.parquet")
    assert not ln.Artifact.filter(key="never.parquet").exists()


# ---- refused inputs -----------------------------------------------------------------------------------


def test_unsaved_schema_is_refused(ln: ModuleType, schema: Any, df: Any) -> None:
    unsaved = ln.Schema(features=[ln.Feature.get(name="perturbation")])
    assert unsaved.id is None
    with pytest.raises(InvalidArgument, match=r"schema\.save\(\)") as info:
        ln.curators.DataFrameCurator(df, unsaved)
    assert isinstance(info.value, ValueError)
    with pytest.raises(InvalidArgument, match=r"ln\.Schema"):
        ln.curators.DataFrameCurator(df, "My DataFrame schema")


def test_unsaved_features_in_a_schema_are_refused(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="save the features"):
        ln.Schema(features=[ln.Feature(name="fresh", dtype=int)])


def test_wrong_dataset_types_are_refused(ln: ModuleType, schema: Any, df: Any) -> None:
    with pytest.raises(InvalidArgument, match="pandas DataFrame"):
        ln.curators.DataFrameCurator(df.to_dict(), schema)
    composite = ln.Schema(name="composite", otype="AnnData", slots={"obs": schema}).save()
    with pytest.raises(InvalidArgument, match="AnnDataCurator"):
        ln.curators.DataFrameCurator(df, composite)
    with pytest.raises(InvalidArgument, match="AnnData object"):
        ln.curators.AnnDataCurator(df, composite)


# ---- columns: presence, extra columns, order --------------------------------------------------------------


def test_missing_column(ln: ModuleType, schema: Any, df: Any) -> None:
    message = _error(ln.curators.DataFrameCurator(df.drop(columns=["perturbation"]), schema))
    assert "column 'perturbation' is missing" in message
    assert "optional" in message  # says how to make it optional


def test_missing_optional_column_is_fine(ln: ModuleType, schema: Any, df: Any) -> None:
    members = list(schema.members)
    relaxed = ln.Schema(name="relaxed", features=[*members[:3], (members[3], {"optional": True})]).save()
    ln.curators.DataFrameCurator(df.drop(columns=["perturbation"]), relaxed).validate()
    not_minimal = ln.Schema(name="not minimal", features=members, minimal_set=False).save()
    ln.curators.DataFrameCurator(df.drop(columns=["perturbation"]), not_minimal).validate()


def test_extra_columns_are_refused_by_a_maximal_set(ln: ModuleType, schema: Any, df: Any) -> None:
    ln.curators.DataFrameCurator(df, schema).validate()  # extra columns are fine by default
    strict = ln.Schema(name="strict", features=list(schema.members), maximal_set=True).save()
    message = _error(ln.curators.DataFrameCurator(df, strict))
    assert "'sample_note'" in message and "'donor'" in message and "maximal_set=True" in message
    assert "df.drop(columns=" in message
    ln.curators.DataFrameCurator(df[[f.name for f in schema.members]], strict).validate()


def test_column_order_of_an_ordered_set(ln: ModuleType, schema: Any, df: Any) -> None:
    ordered = ln.Schema(name="ordered", features=list(schema.members), ordered_set=True).save()
    ln.curators.DataFrameCurator(df, ordered).validate()
    swapped = df[["ENSG00000010610", "ENSG00000153563", "ENSG00000170458", "perturbation"]]
    message = _error(ln.curators.DataFrameCurator(swapped, ordered))
    assert "order" in message and "ordered_set=True" in message
    assert "['ENSG00000153563', 'ENSG00000010610', 'ENSG00000170458', 'perturbation']" in message


# ---- dtypes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "values", "expected"),
    [
        (int, ["one", "two", "three"], "expected dtype int"),
        (int, [1.5, 2.0, 3.0], "expected dtype int"),
        (float, ["a", "b", "c"], "expected dtype float"),
        (str, [1, 2, 3], "expected dtype str"),
        (bool, ["yes", "no", "yes"], "expected dtype bool"),
        ("date", ["2024-01-01", "x", "2024-01-03"], "expected dtype date"),
        ("datetime", ["2024-01-01", "noon", "x"], "expected dtype datetime"),
    ],
)
def test_wrong_dtype_names_column_dtype_and_values(
    ln: ModuleType, dtype: Any, values: list[Any], expected: str
) -> None:
    schema = _one_feature_schema(ln, "measure", dtype)
    message = _error(ln.curators.DataFrameCurator(_frame(measure=values), schema))
    assert "column 'measure'" in message and expected in message, message
    if isinstance(values[0], str) and dtype not in (str, "date", "datetime"):
        assert repr(values[0]) in message  # offending values are quoted


@pytest.mark.parametrize(
    ("dtype", "values"),
    [
        (int, pd.array([1, 2, 3], dtype="int32")),
        (int, pd.array([1, None, 3], dtype="Int64")),
        (float, [0.5, 1.5, float("nan")]),
        (str, ["a", "b", None]),
        (bool, [True, False, True]),
        ("date", [dt.date(2024, 1, 1), dt.date(2024, 1, 2), None]),
        ("date", pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"])),
        ("datetime", pd.to_datetime(["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"])),
        ("num", [1, 2, 3]),
        ("list[str]", [["a"], ["b", "c"], []]),
        (dict, [{"a": 1}, {"b": 2}, {}]),
    ],
)
def test_right_dtypes_validate(ln: ModuleType, dtype: Any, values: Any) -> None:
    schema = _one_feature_schema(ln, "measure", dtype)
    ln.curators.DataFrameCurator(_frame(measure=values), schema).validate()


def test_date_with_a_time_is_not_a_date(ln: ModuleType) -> None:
    schema = _one_feature_schema(ln, "day", "date")
    times = pd.to_datetime(["2024-01-01 10:00", "2024-01-02 00:00", "2024-01-03 00:00"])
    assert "expected dtype date" in _error(ln.curators.DataFrameCurator(_frame(day=times), schema))


def test_float_feature_refuses_ints_unless_coercion_is_allowed(ln: ModuleType) -> None:
    strict = _one_feature_schema(ln, "dose", float)
    message = _error(ln.curators.DataFrameCurator(_frame(dose=[1, 2, 3]), strict))
    assert "expected dtype float" in message and "got int64" in message and "coerce=True" in message
    lenient = ln.Schema(name="lenient", features=list(strict.members), coerce=True).save()
    frame = _frame(dose=[1, 2, 3])
    ln.curators.DataFrameCurator(frame, lenient).validate()
    assert str(frame["dose"].dtype) == "float64"  # coerced in place


def test_coercion_per_feature(ln: ModuleType) -> None:
    schema = _one_feature_schema(ln, "count", int, coerce=True)
    frame = _frame(count=["1", "2", "3"])
    ln.curators.DataFrameCurator(frame, schema).validate()
    assert frame["count"].tolist() == [1, 2, 3] and str(frame["count"].dtype) == "int64"
    when = _one_feature_schema(ln, "when", "datetime", coerce=True)
    frame = _frame(when=["2024-01-01 00:00", "2024-02-01 00:00", "2024-03-01 12:00"])
    ln.curators.DataFrameCurator(frame, when).validate()
    assert str(frame["when"].dtype).startswith("datetime64")


def test_coercion_that_fails_names_the_values(ln: ModuleType) -> None:
    schema = _one_feature_schema(ln, "count", int, coerce=True)
    message = _error(ln.curators.DataFrameCurator(_frame(count=["1", "two", "3"]), schema))
    assert "column 'count': cannot coerce to int" in message and "'two'" in message


def test_nulls_in_a_non_nullable_feature(ln: ModuleType) -> None:
    schema = _one_feature_schema(ln, "donor", str, nullable=False)
    message = _error(ln.curators.DataFrameCurator(_frame(donor=["D1", None, "D3"]), schema))
    assert "column 'donor': 1 missing value (row 'sample2')" in message and "not nullable" in message
    nullable = _one_feature_schema(ln, "note", str)
    ln.curators.DataFrameCurator(_frame(note=["a", None, "c"]), nullable).validate()


def test_all_problems_are_reported_together(ln: ModuleType, schema: Any, df: Any) -> None:
    bad = df.drop(columns=["ENSG00000170458"])
    bad["ENSG00000153563"] = ["one", "two", "three"]
    bad["perturbation"] = bad["perturbation"].cat.rename_categories({"IFNG": "IFNJ"})
    message = _error(ln.curators.DataFrameCurator(bad, schema))
    assert "(3 problems)" in message
    assert "ENSG00000170458" in message and "ENSG00000153563" in message and "IFNJ" in message


# ---- categorical values ---------------------------------------------------------------------------------


def test_non_validated_terms_and_add_new_from(ln: ModuleType, schema: Any) -> None:
    df = ln.examples.datasets.small_dataset1(with_typo=True)
    curator = ln.curators.DataFrameCurator(df, schema)
    message = _error(curator)
    assert "column 'perturbation' (cat[ULabel]): 1 term is not validated in ln.ULabel.name: 'IFNJ'" in message
    assert "curator.cat.add_new_from('perturbation')" in message
    assert "ln.ULabel(name='IFNJ').save()" in message
    assert "standardize" not in message
    assert curator.cat.non_validated == {"perturbation": ["IFNJ"]}
    curator.cat.add_new_from("perturbation")
    assert curator.cat.non_validated == {}
    curator.validate()
    assert ln.ULabel.get(name="IFNJ").type is None


def test_synonyms_are_standardized(ln: ModuleType, schema: Any, df: Any) -> None:
    ln.ULabel.get(name="DMSO").add_synonym("dimethyl sulfoxide")
    df["perturbation"] = df["perturbation"].cat.rename_categories({"DMSO": "dimethyl sulfoxide"})
    curator = ln.curators.DataFrameCurator(df, schema)
    message = _error(curator)
    assert "'dimethyl sulfoxide' → 'DMSO'" in message
    assert "curator.cat.standardize('perturbation')" in message
    assert "add_new_from" not in message  # every non-validated term has a standard form
    curator.cat.standardize("perturbation")
    assert df["perturbation"].tolist() == ["DMSO", "IFNG", "DMSO"]
    curator.validate()


def test_standardize_object_columns_and_case_variants(ln: ModuleType, perturbations: Any) -> None:
    schema = _one_feature_schema(ln, "treatment", ln.ULabel)
    frame = _frame(treatment=["dmso", "IFNG", "dmso"])
    curator = ln.curators.DataFrameCurator(frame, schema)
    assert curator.cat.non_validated == {"treatment": ["dmso"]}
    curator.cat.standardize("all")
    assert frame["treatment"].tolist() == ["DMSO", "IFNG", "DMSO"]
    curator.validate()


def test_typed_categorical_restricts_to_the_type(ln: ModuleType, perturbations: Any) -> None:
    ln.ULabel(name="IFNJ").save()  # exists, but not as a Perturbation
    schema = _one_feature_schema(ln, "treatment", "cat[ULabel[Perturbation]]")
    curator = ln.curators.DataFrameCurator(_frame(treatment=["DMSO", "IFNJ", "DMSO"]), schema)
    message = _error(curator)
    assert "'IFNJ'" in message and "'DMSO'" not in message.split("validated in")[1]
    assert "type=ln.ULabel.get(name='Perturbation', is_type=True)" in message
    curator.cat.add_new_from("treatment")
    curator.validate()
    assert ln.ULabel.filter(name="IFNJ", type=perturbations).exists()


def test_typed_record_categorical(ln: ModuleType) -> None:
    sample_type = ln.Record(name="Sample", is_type=True).save()
    for name in ("s1", "s2"):
        ln.Record(name=name, type=sample_type).save()
    ln.Record(name="s3").save()  # not a Sample
    schema = _one_feature_schema(ln, "sample", "cat[Record[Sample]]")
    ln.curators.DataFrameCurator(_frame(sample=["s1", "s2", "s1"]), schema).validate()
    message = _error(ln.curators.DataFrameCurator(_frame(sample=["s1", "s3", "s2"]), schema))
    assert "cat[Record[Sample]]" in message and "'s3'" in message
    artifact = ln.curators.DataFrameCurator(_frame(sample=["s1", "s2", "s1"]), schema).save_artifact(
        key="samples.parquet"
    )
    assert set(artifact.records.to_list("name")) == {"s1", "s2"}


def test_missing_type_is_named(ln: ModuleType) -> None:
    schema = _one_feature_schema(ln, "treatment", "cat[ULabel[Compound]]")
    curator = ln.curators.DataFrameCurator(_frame(treatment=["a", "b", "a"]), schema)
    message = _error(curator)
    assert "the type 'Compound' of ULabel does not exist" in message
    assert "ln.ULabel(name='Compound', is_type=True).save()" in message
    with pytest.raises(InvalidArgument, match="Compound"):
        curator.cat.add_new_from("treatment")


def test_cat_keys(ln: ModuleType, schema: Any, df: Any) -> None:
    curator = ln.curators.DataFrameCurator(df, schema)
    assert curator.cat.keys == ["perturbation"]
    with pytest.raises(InvalidArgument, match="valid keys: 'perturbation'"):
        curator.cat.standardize("donor")
    assert curator.cat.validate() is True


def test_repeated_values_and_nulls_link_each_label_once(ln: ModuleType, perturbations: Any) -> None:
    schema = _one_feature_schema(ln, "treatment", ln.ULabel)
    frame = pd.DataFrame({"treatment": ["DMSO", "IFNG", None] * 10_000})
    curator = ln.curators.DataFrameCurator(frame, schema)
    curator.validate()
    artifact = curator.save_artifact(key="many.parquet")
    assert artifact.labels.get("treatment", flat_names=True) == ["DMSO", "IFNG"]


def test_index_feature(ln: ModuleType, perturbations: Any) -> None:
    sample_type = ln.Record(name="Sample", is_type=True).save()
    for name in ("sample1", "sample2", "sample3"):
        ln.Record(name=name, type=sample_type).save()
    index = ln.Feature(name="sample", dtype="cat[Record[Sample]]").save()
    dose = ln.Feature(name="dose", dtype=float).save()
    schema = ln.Schema(name="indexed", features=[dose], index=index).save()
    ln.curators.DataFrameCurator(_frame(dose=[0.1, 0.2, 0.3]), schema).validate()
    frame = _frame(dose=[0.1, 0.2, 0.3]).rename(index={"sample3": "sample9"})
    curator = ln.curators.DataFrameCurator(frame, schema)
    message = _error(curator)
    assert "index (cat[Record[Sample]])" in message and "'sample9'" in message
    assert curator.cat.non_validated == {"index": ["sample9"]}


# ---- schemas without features -----------------------------------------------------------------------------


def test_flexible_schema_validates_the_registered_features(ln: ModuleType) -> None:
    ln.Feature(name="count", dtype=int).save()
    any_feature = ln.Schema(name="any feature", itype=ln.Feature).save()
    assert any_feature.flexible is True
    frame = _frame(count=[1, 2, 3], unregistered=["a", "b", "c"])
    curator = ln.curators.DataFrameCurator(frame, any_feature)
    curator.validate()
    artifact = curator.save_artifact(key="flexible.parquet")
    assert [f.name for f in artifact.features.slots["columns"].members] == ["count"]
    message = _error(ln.curators.DataFrameCurator(_frame(count=["x", "y", "z"]), any_feature))
    assert "column 'count'" in message and "expected dtype int" in message


def test_column_names_validated_against_a_registry_field(ln: ModuleType) -> None:
    ln.save([ln.ULabel(name=name) for name in ("CD4", "CD8A")])
    genes = ln.Schema(name="genes", itype=ln.ULabel.name, dtype=int).save()
    ln.curators.DataFrameCurator(_frame(CD4=[1, 2], CD8A=[3, 4]), genes).validate()
    curator = ln.curators.DataFrameCurator(_frame(CD4=[1, 2], CD99=[3, 4]), genes)
    message = _error(curator)
    assert "column names (ULabel.name)" in message and "'CD99'" in message
    assert curator.cat.non_validated == {"columns": ["CD99"]}
    message = _error(ln.curators.DataFrameCurator(_frame(CD4=[1.5, 2.5], CD8A=[3, 4]), genes))
    assert "column 'CD4'" in message and "expected dtype int" in message


# ---- Artifact.from_dataframe(..., schema=) ---------------------------------------------------------------------


def test_from_dataframe_with_schema_validates_then_links_on_save(
    ln: ModuleType, schema: Any, df: Any
) -> None:
    artifact = ln.Artifact.from_dataframe(df, key="curated2.parquet", schema=schema)
    assert artifact.id is None
    artifact.save()
    assert artifact.schema == schema
    assert set(artifact.ulabels.to_list("name")) == {"DMSO", "IFNG"}
    assert artifact.features.slots["columns"] == schema
    typo = ln.examples.datasets.small_dataset1(with_typo=True)
    with pytest.raises(ValidationError, match="IFNJ"):
        ln.Artifact.from_dataframe(typo, key="typo.parquet", schema=schema)
    assert not ln.Artifact.filter(key="typo.parquet").exists()


def test_from_dataframe_without_schema_links_nothing(ln: ModuleType, schema: Any, df: Any) -> None:
    artifact = ln.Artifact.from_dataframe(df, key="plain.parquet").save()
    assert artifact.schema is None and artifact.features.slots == {} and artifact.ulabels.count() == 0


# ---- AnnData ----------------------------------------------------------------------------------------------------


@pytest.fixture
def anndata_schema(ln: ModuleType, schema: Any) -> Any:
    ln.save([ln.ULabel(name=name) for name in ("ENSG00000153563", "ENSG00000010610", "ENSG00000170458")])
    obs = ln.Schema(name="obs", features=[ln.Feature.get(name="perturbation")]).save()
    var = ln.Schema(name="var", itype=ln.ULabel.name).save()
    return ln.Schema(name="my_anndata_schema", otype="AnnData", slots={"obs": obs, "var": var}).save()


@pytest.fixture
def adata(df: Any) -> Any:
    import anndata as ad

    genes = ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    return ad.AnnData(df[genes].astype("float32"), obs=df[["perturbation"]])


def test_anndata_validates_and_saves_annotated(ln: ModuleType, anndata_schema: Any, adata: Any) -> None:
    curator = ln.curators.AnnDataCurator(adata, anndata_schema)
    curator.validate()
    assert set(curator.slots) == {"obs", "var"}
    artifact = curator.save_artifact(description="my RNA-seq")
    assert artifact.otype == "AnnData" and artifact.suffix == ".h5ad" and artifact.n_observations == 3
    assert artifact.schema == anndata_schema
    assert set(artifact.ulabels.to_list("name")) >= {"DMSO", "IFNG"}
    slots = artifact.features.slots
    assert slots["obs"] == anndata_schema.slots["obs"]
    assert slots["var"] == anndata_schema.slots["var"]  # ULabel has no member table: the var schema itself
    assert artifact.load().shape == (3, 3)


def test_anndata_errors_are_prefixed_with_the_slot(ln: ModuleType, anndata_schema: Any, adata: Any) -> None:
    import anndata as ad

    obs = pd.DataFrame({"perturbation": pd.Categorical(["DMSO", "IFNX", "DMSO"])}, index=adata.obs_names)
    var = adata.var.rename(index={"ENSG00000170458": "ENSG_NOT_VALID"})
    curator = ln.curators.AnnDataCurator(ad.AnnData(adata.X, obs=obs, var=var), anndata_schema)
    message = _error(curator)
    assert "- obs: column 'perturbation' (cat[ULabel])" in message and "'IFNX'" in message
    assert "curator.cat.add_new_from('obs:perturbation')" in message
    assert "- var: index (ULabel.name)" in message and "'ENSG_NOT_VALID'" in message
    assert curator.cat.non_validated == {"obs:perturbation": ["IFNX"], "var_index": ["ENSG_NOT_VALID"]}
    curator.cat.add_new_from("perturbation")  # the slot prefix may be left out
    curator.cat.add_new_from("var_index")
    curator.validate()


def test_anndata_var_synonyms_are_standardized_in_var_names(
    ln: ModuleType, anndata_schema: Any, adata: Any
) -> None:
    ln.ULabel.get(name="ENSG00000170458").add_synonym("CD14")
    adata.var_names = ["ENSG00000153563", "ENSG00000010610", "CD14"]
    curator = ln.curators.AnnDataCurator(adata, anndata_schema)
    assert "curator.cat.standardize('var_index')" in _error(curator)
    curator.cat.standardize("var_index")
    assert list(adata.var_names) == ["ENSG00000153563", "ENSG00000010610", "ENSG00000170458"]
    curator.validate()


def test_anndata_var_columns_validated_by_features(ln: ModuleType, schema: Any, adata: Any) -> None:
    symbol = ln.Feature(name="symbol", dtype=str, nullable=False).save()
    var = ln.Schema(name="var columns", features=[symbol]).save()
    composite = ln.Schema(name="by var columns", otype="AnnData", slots={"var": var}).save()
    message = _error(ln.curators.AnnDataCurator(adata, composite))
    assert "- var: column 'symbol' is missing" in message
    adata.var["symbol"] = ["CD8A", None, "CD14"]
    message = _error(ln.curators.AnnDataCurator(adata, composite))
    assert "- var: column 'symbol': 1 missing value" in message
    adata.var["symbol"] = ["CD8A", "CD4", "CD14"]
    artifact = ln.curators.AnnDataCurator(adata, composite).save_artifact(key="var.h5ad")
    assert artifact.features.slots["var"] == var


def test_anndata_schema_must_have_known_slots(ln: ModuleType, schema: Any, adata: Any) -> None:
    odd = ln.Schema(name="odd", otype="AnnData", slots={"uns": schema}).save()
    with pytest.raises(InvalidArgument, match="'uns' cannot be validated"):
        ln.curators.AnnDataCurator(adata, odd)
    with pytest.raises(InvalidArgument, match="slots"):
        ln.curators.AnnDataCurator(adata, schema)


def test_from_anndata_with_schema(ln: ModuleType, anndata_schema: Any, adata: Any) -> None:
    artifact = ln.Artifact.from_anndata(adata, key="one-line.h5ad", schema=anndata_schema).save()
    assert artifact.schema == anndata_schema
    assert set(artifact.features.slots) == {"obs", "var"}
    adata.obs["perturbation"] = pd.Categorical(["DMSO", "IFNX", "DMSO"])
    with pytest.raises(ValidationError, match=r"obs: .*IFNX"):
        ln.Artifact.from_anndata(adata, key="typo.h5ad", schema=anndata_schema)


def test_anndata_x_dtype_of_a_var_schema_with_a_dtype(ln: ModuleType, schema: Any, adata: Any) -> None:
    ln.save([ln.ULabel(name=name) for name in adata.var_names])
    obs = ln.Schema(name="obs", features=[ln.Feature.get(name="perturbation")]).save()
    counts = ln.Schema(name="counts", itype=ln.ULabel.name, dtype=int).save()
    composite = ln.Schema(name="counts adata", otype="AnnData", slots={"obs": obs, "var": counts}).save()
    message = _error(ln.curators.AnnDataCurator(adata, composite))  # X is float32
    assert "X: expected dtype int" in message and "got float32" in message
    adata.X = adata.X.astype("int64")
    ln.curators.AnnDataCurator(adata, composite).validate()


# ---- MuData ------------------------------------------------------------------------------------------


def test_mudata_slots_per_modality(ln: ModuleType, anndata_schema: Any, adata: Any) -> None:
    import mudata

    obs = anndata_schema.slots["obs"]
    var = anndata_schema.slots["var"]
    composite = ln.Schema(name="mudata", otype="MuData", slots={"rna:obs": obs, "rna:var": var}).save()
    mdata = mudata.MuData({"rna": adata})
    curator = ln.curators.MuDataCurator(mdata, composite)
    curator.validate()
    adata.obs["perturbation"] = pd.Categorical(["DMSO", "IFNX", "DMSO"])
    adata.var_names = ["ENSG00000153563", "ENSG00000010610", "ENSG_NOPE"]
    curator = ln.curators.MuDataCurator(mdata, composite)
    message = _error(curator)
    assert "- rna:obs: column 'perturbation'" in message and "'IFNX'" in message
    assert "- rna:var: index (ULabel.name)" in message and "'ENSG_NOPE'" in message
    assert curator.cat.non_validated == {"rna:obs:perturbation": ["IFNX"], "rna:var_index": ["ENSG_NOPE"]}
    with pytest.raises(InvalidArgument, match="modality 'atac'"):
        ln.curators.MuDataCurator(
            mdata, ln.Schema(name="atac", otype="MuData", slots={"atac:var": var}).save()
        )


def test_mudata_saved_with_its_labels(ln: ModuleType, anndata_schema: Any, adata: Any) -> None:
    import mudata

    composite = ln.Schema(
        name="mudata obs", otype="MuData", slots={"rna:obs": anndata_schema.slots["obs"]}
    ).save()
    artifact = ln.curators.MuDataCurator(mudata.MuData({"rna": adata}), composite).save_artifact(key="x.h5mu")
    assert (artifact.suffix, artifact.otype) == (".h5mu", "MuData")
    assert artifact.schema == composite
    assert set(artifact.ulabels.to_list("name")) == {"DMSO", "IFNG"}
    assert ln.Artifact.filter(perturbation="IFNG").one() == artifact
    assert "rna:obs" in artifact.features.slots
    assert artifact.load().mod["rna"].n_obs == adata.n_obs
