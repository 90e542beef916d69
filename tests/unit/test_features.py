"""Features and their values: every dtype, how it is spelled and checked, and values on artifacts, runs and records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lamella._query.legacy_lookups import LegacyAPIWarning
from lamella.errors import InvalidArgument, ValidationError

# ---- helpers ----------------------------------------------------------------------------------------


@pytest.fixture
def make_artifact(ln: ModuleType, tmp_path: Path) -> Any:
    """`make_artifact("a")`: a saved artifact with key "a.txt" (distinct content per key)."""
    folder = tmp_path / "inputs"
    folder.mkdir()

    def make(name: str, **kwargs: Any) -> Any:
        path = folder / f"{name}.txt"
        path.write_text(f"content of {name}")
        return ln.Artifact(path, key=f"{name}.txt", **kwargs).save()

    return make


@pytest.fixture
def artifact(make_artifact: Any) -> Any:
    return make_artifact("a1")


@pytest.fixture
def sample_type(ln: ModuleType) -> Any:
    """The record type "Sample" with members S1, S2; the type "Donor" with D1; an untyped record "loose"."""
    sample = ln.Record(name="Sample", is_type=True).save()
    for name in ("S1", "S2"):
        ln.Record(name=name, type=sample).save()
    donor = ln.Record(name="Donor", is_type=True).save()
    ln.Record(name="D1", type=donor).save()
    ln.Record(name="loose").save()
    return sample


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The "lamella" logger does not propagate to the root logger; hand its records to caplog."""
    logger = logging.getLogger("lamella")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="lamella")
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


def same(got: Any, expected: Any) -> bool:
    """Equal and of the same type (so 4 is not 4.0 and a datetime is not a date), also inside lists and dicts."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(got) == len(expected) and all(same(g, e) for g, e in zip(got, expected, strict=True))
    if isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in expected)
    return bool(got == expected)


# ---- dtypes: spellings --------------------------------------------------------------------------------


PLAIN_SPELLINGS: list[tuple[Any, str]] = [
    (float, "float"),
    ("float", "float"),
    (int, "int"),
    ("int", "int"),
    ("num", "num"),
    (str, "str"),
    ("str", "str"),
    (bool, "bool"),
    ("bool", "bool"),
    (date, "date"),
    ("date", "date"),
    (datetime, "datetime"),
    ("datetime", "datetime"),
    (dict, "dict"),
    ("dict", "dict"),
    (list[str], "list[str]"),
    ("list[str]", "list[str]"),
    (list[int], "list[int]"),
    ("list[int]", "list[int]"),
    (list[float], "list[float]"),
    (Path, "path"),
    (PurePosixPath, "path"),
    ("path", "path"),
    ("url", "url"),
    ("  float ", "float"),
    ("cat", "cat[ULabel]"),  # the bare legacy spelling means "any label"
    ("cat[ULabel]", "cat[ULabel]"),
    ("cat[Record]", "cat[Record]"),
    ("cat[Record[Sample]]", "cat[Record[Sample]]"),
    ("cat[bionty.CellType]", "cat[bionty.CellType]"),
    ("cat[bionty.Gene.ensembl_gene_id]", "cat[bionty.Gene.ensembl_gene_id]"),
    ("cat[ULabel|Record]", "cat[ULabel|Record]"),
    ("list[cat[ULabel]]", "list[cat[ULabel]]"),
]


def test_every_dtype_spelling_is_stored_normalized(ln: ModuleType) -> None:
    wrong = []
    for i, (dtype, stored) in enumerate(PLAIN_SPELLINGS):
        try:
            feature = ln.Feature(name=f"f{i}", dtype=dtype).save()
            got = (feature.dtype, ln.Feature.get(name=f"f{i}").dtype)
        except Exception as e:  # report every spelling, not only the first that fails
            got = (f"raised {type(e).__name__}: {e}",)
        if got != (stored, stored):
            wrong.append(f"dtype={dtype!r}: expected {stored!r}, got {got}")
    assert not wrong, "\n".join(wrong)


def test_registries_as_dtypes(ln: ModuleType) -> None:
    assert ln.Feature(name="experiment", dtype=ln.ULabel).save().dtype == "cat[ULabel]"
    assert ln.Feature(name="donor", dtype=ln.Record).save().dtype == "cat[Record]"
    assert ln.Feature(name="label_uid", dtype=ln.ULabel.uid).dtype == "cat[ULabel.uid]"
    assert (
        ln.Feature(name="label_name", dtype=ln.ULabel.name).dtype == "cat[ULabel]"
    )  # the name field is implied
    assert ln.Feature.get(name="experiment").dtype == "cat[ULabel]"


def test_several_registries_as_a_list(ln: ModuleType) -> None:
    feature = ln.Feature(name="anything", dtype=[ln.ULabel, ln.Record])
    assert feature.dtype == "cat[ULabel|Record]"


def test_a_saved_type_record_is_a_typed_categorical_dtype(ln: ModuleType, sample_type: Any) -> None:
    feature = ln.Feature(name="sample", dtype=sample_type).save()
    assert feature.dtype == "cat[Record[Sample]]"
    perturbation = ln.ULabel(name="Perturbation", is_type=True).save()
    assert ln.Feature(name="perturbation", dtype=perturbation).dtype == "cat[ULabel[Perturbation]]"


def test_an_unsaved_type_record_is_not_a_dtype(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="save the type"):
        ln.Feature(name="sample", dtype=ln.Record(name="Sample", is_type=True))


def test_a_registry_module_that_is_not_installed_is_stored_as_written(ln: ModuleType, artifact: Any) -> None:
    feature = ln.Feature(name="cell_type", dtype="cat[bionty.CellType]").save()
    assert ln.Feature.get(name="cell_type").dtype == "cat[bionty.CellType]"
    # using it needs the registry: the error says which module is missing
    with pytest.raises(ValidationError, match="bionty"):
        artifact.features.add_values({feature.name: "T cell"})
    assert artifact.features.get_values() == {}


BAD_DTYPES: list[tuple[Any, str]] = [
    ("float32", "'float32' is not a feature dtype"),
    ("integer", "'integer' is not a feature dtype"),
    ("", "is not a feature dtype"),
    (list, "needs an element type"),
    ("list[list[int]]", "nested lists"),
    (list[list[int]], "nested lists"),
    ("cat[foo]", "cannot read the registry 'foo'"),
    ("cat[]", "is not a feature dtype"),
    (3, "dtype=3 is not a feature dtype"),
    (object, "is not a feature dtype"),
    (set, "is not a feature dtype"),
]


def test_a_bad_dtype_raises_naming_it(ln: ModuleType) -> None:
    wrong = []
    for dtype, message in BAD_DTYPES:
        try:
            ln.Feature(name="f", dtype=dtype)
        except InvalidArgument as e:
            if message not in str(e):
                wrong.append(f"dtype={dtype!r}: {message!r} not in {str(e)!r}")
        except Exception as e:
            wrong.append(f"dtype={dtype!r}: raised {type(e).__name__}: {e}, not InvalidArgument")
        else:
            wrong.append(f"dtype={dtype!r}: no error")
    assert not wrong, "\n".join(wrong)
    assert ln.Feature.filter(name="f").count() == 0


def test_the_error_of_a_bad_dtype_lists_the_valid_ones(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument) as info:
        ln.Feature(name="f", dtype="float32")
    for valid in ("float", "int", "str", "bool", "date", "datetime", "dict", "list[", "cat["):
        assert valid in str(info.value)


def test_a_feature_needs_a_dtype(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match=r"ln.Feature\(name='temperature'\) needs a dtype"):
        ln.Feature(name="temperature")


def test_a_feature_needs_a_name(ln: ModuleType) -> None:
    with pytest.raises(InvalidArgument, match="needs a name"):
        ln.Feature(dtype=float)
    with pytest.raises(InvalidArgument, match="needs a name"):
        ln.Feature(name="", dtype=float)


def test_recreating_a_feature_with_another_dtype_raises_naming_both(ln: ModuleType) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    with pytest.raises(ValidationError) as info:
        ln.Feature(name="temperature", dtype=int)
    message = str(info.value)
    assert "temperature" in message and "'float'" in message and "'int'" in message
    with pytest.raises(ValidationError, match="cat\\[ULabel\\]"):
        ln.Feature(name="temperature", dtype=ln.ULabel)
    assert ln.Feature.get(name="temperature").dtype == "float"
    assert ln.Feature.filter(name="temperature").count() == 1


def test_recreating_a_feature_with_the_same_dtype_returns_the_existing_one(ln: ModuleType) -> None:
    feature = ln.Feature(name="temperature", dtype=float, unit="°C").save()
    again = ln.Feature(name="temperature", dtype="float")
    assert again.id == feature.id and again.unit == "°C"
    again.save()
    assert ln.Feature.filter(name="temperature").count() == 1
    # equivalent spellings are the same dtype
    label_feature = ln.Feature(name="experiment", dtype="cat").save()
    assert ln.Feature(name="experiment", dtype=ln.ULabel).id == label_feature.id
    assert ln.Feature(name="experiment", dtype="cat[ULabel]").id == label_feature.id


def test_feature_fields_are_stored(ln: ModuleType) -> None:
    ln.Feature(
        name="temperature",
        dtype=float,
        unit="°C",
        description="air temperature in the lab",
        synonyms=["temp", "t_air"],
        nullable=False,
        default_value=20,
        coerce=True,
    ).save()
    feature = ln.Feature.get(name="temperature")
    assert feature.unit == "°C"
    assert feature.description == "air temperature in the lab"
    assert feature.synonyms == "temp|t_air"
    assert feature.nullable is False
    assert feature.coerce is True
    assert feature.default_value == 20.0
    assert feature.is_type is False and feature.type is None
    # the defaults
    plain = ln.Feature(name="plain", dtype=str).save()
    assert plain.nullable is True and plain.coerce is False and plain.default_value is None
    assert plain.uid and len(plain.uid) == 12


def test_a_default_value_of_the_wrong_type_raises(ln: ModuleType) -> None:
    with pytest.raises(ValidationError, match="read_count"):
        ln.Feature(name="read_count", dtype=int, default_value="many")


def test_feature_types_group_features(ln: ModuleType) -> None:
    qc = ln.Feature(name="QC metrics", is_type=True).save()
    assert qc.is_type is True and qc.dtype is None
    depth = ln.Feature(name="depth", dtype=float, type=qc).save()
    assert ln.Feature.get(name="depth").type == qc
    assert [f.name for f in qc.features.all()] == ["depth"]
    assert ln.Feature.filter(type=qc).one() == depth
    not_a_type = ln.Feature(name="plain", dtype=int).save()
    with pytest.raises(InvalidArgument, match="is_type=True"):
        ln.Feature(name="member", dtype=int, type=not_a_type)


def test_a_feature_type_takes_no_values(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="QC metrics", is_type=True).save()
    with pytest.raises(ValidationError, match="QC metrics"):
        artifact.features.add_values({"QC metrics": 1})


def test_a_name_with_double_underscores_warns(ln: ModuleType, log: pytest.LogCaptureFixture) -> None:
    ln.Feature(name="a__b", dtype=int)
    assert any("a__b" in record.getMessage() for record in log.records)


# ---- Feature.from_dataframe and Feature.from_dict -------------------------------------------------------


def test_from_dataframe_infers_dtypes(ln: ModuleType) -> None:
    df = pd.DataFrame(
        {
            "n_cells": [1, 2],
            "ratio": [0.5, 1.5],
            "is_control": [True, False],
            "donor": ["d1", "d2"],
            "tissue": pd.Categorical(["lung", "liver"]),
            "collected_at": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "tags": [["a"], ["b", "c"]],
            "meta": [{"a": 1}, {"b": 2}],
            "with_missing": [1.0, None],
        }
    )
    features = ln.Feature.from_dataframe(df)
    assert [f.name for f in features] == list(df.columns)
    assert {f.name: f.dtype for f in features} == {
        "n_cells": "int",
        "ratio": "float",
        "is_control": "bool",
        "donor": "cat[ULabel]",
        "tissue": "cat[ULabel]",
        "collected_at": "datetime",
        "tags": "list[str]",
        "meta": "dict",
        "with_missing": "float",
    }
    assert all(f.id is None for f in features)  # not saved yet
    ln.save(features)
    assert ln.Feature.get(name="tissue").dtype == "cat[ULabel]"
    assert ln.Feature.filter(name__in=list(df.columns)).count() == len(df.columns)


def test_from_dataframe_reuses_existing_features(ln: ModuleType) -> None:
    existing = ln.Feature(name="n_cells", dtype=float, unit="cells").save()
    df = pd.DataFrame({"n_cells": [1, 2], "new_col": ["x", "y"]})
    features = ln.Feature.from_dataframe(df)
    assert features[0].id == existing.id
    assert features[0].dtype == "float"  # the existing feature as it is, not re-inferred
    assert features[1].id is None and features[1].dtype == "cat[ULabel]"
    ln.save(features)
    assert ln.Feature.filter(name="n_cells").count() == 1


def test_from_df_is_the_old_name(ln: ModuleType) -> None:
    features = ln.Feature.from_df(pd.DataFrame({"x": [1.5]}))
    assert [(f.name, f.dtype) for f in features] == [("x", "float")]


def test_from_dict_infers_dtypes(ln: ModuleType) -> None:
    label = ln.ULabel(name="My experiment").save()
    values = {
        "read_count": 10,
        "temperature": 21.6,
        "treatment": "DMSO",
        "is_control": False,
        "experiment_date": date(2025, 10, 31),
        "measured_at": datetime(2025, 10, 31, 12, 0),
        "study_metadata": {"assay": {"type": "RNA-seq"}},
        "tags": ["a", "b"],
        "counts": [1, 2],
        "mixed_numbers": [1, 2.5],
        "homepage": "https://example.org",
        "source": Path("/data/raw.fastq"),
        "experiment": label,
        "experiments": [label],
    }
    features = ln.Feature.from_dict(values)
    assert {f.name: f.dtype for f in features} == {
        "read_count": "int",
        "temperature": "float",
        "treatment": "str",
        "is_control": "bool",
        "experiment_date": "date",
        "measured_at": "datetime",
        "study_metadata": "dict",
        "tags": "list[str]",
        "counts": "list[int]",
        "mixed_numbers": "list[float]",
        "homepage": "url",
        "source": "path",
        "experiment": "cat[ULabel]",
        "experiments": "cat[ULabel]",
    }
    ln.save(features)
    assert ln.Feature.get(name="counts").dtype == "list[int]"


def test_from_dict_str_as_cat_and_existing_features(ln: ModuleType) -> None:
    existing = ln.Feature(name="temperature", dtype="num").save()
    features = ln.Feature.from_dict({"treatment": "DMSO", "temperature": 1.5}, str_as_cat=True)
    assert [(f.name, f.dtype) for f in features] == [("treatment", "cat[ULabel]"), ("temperature", "num")]
    assert features[1].id == existing.id
    assert ln.Feature.from_dict({"treatment": "DMSO"})[0].dtype == "str"


@pytest.mark.parametrize("value", [None, [], object()], ids=["None", "empty list", "object"])
def test_from_dict_cannot_infer_some_values(ln: ModuleType, value: Any) -> None:
    with pytest.raises(InvalidArgument, match="explicit dtype"):
        ln.Feature.from_dict({"x": value})


# ---- values: every dtype round-trips ------------------------------------------------------------------


ROUND_TRIPS: list[tuple[str, Any, Any, Any]] = [  # id, dtype, value passed, value read back
    ("float", float, 21.6, 21.6),
    ("float-integral", float, 4.0, 4.0),
    ("float-from-int", float, 4, 4.0),
    ("float-negative", "float", -1.25, -1.25),
    ("int", int, 2_000_000, 2_000_000),
    ("int-from-integral-float", int, 3.0, 3),
    ("int-big", int, 2**53 + 1, 2**53 + 1),
    ("num-int", "num", 3, 3),
    ("num-float", "num", 1.5, 1.5),
    ("str", str, "DMSO", "DMSO"),
    ("str-unicode", str, "Zürich – 東京", "Zürich – 東京"),
    ("str-empty", str, "", ""),
    ("bool-true", bool, True, True),
    ("bool-false", bool, False, False),
    ("date", date, date(2025, 10, 31), date(2025, 10, 31)),
    ("date-from-iso", date, "2025-10-31", date(2025, 10, 31)),
    ("datetime", datetime, datetime(2025, 10, 31, 12, 30, 5), datetime(2025, 10, 31, 12, 30, 5)),
    ("datetime-from-iso", datetime, "2025-10-31T12:30:05", datetime(2025, 10, 31, 12, 30, 5)),
    ("datetime-aware", datetime, datetime(2025, 1, 2, 3, tzinfo=UTC), datetime(2025, 1, 2, 3, tzinfo=UTC)),
    (
        "datetime-offset",
        datetime,
        datetime(2025, 1, 2, 3, tzinfo=timezone(timedelta(hours=2))),
        datetime(2025, 1, 2, 3, tzinfo=timezone(timedelta(hours=2))),
    ),
    (
        "dict",
        dict,
        {"detail1": "123", "assay": {"type": "RNA-seq"}, "n": [1, 2], "ok": True, "x": None},
        {"detail1": "123", "assay": {"type": "RNA-seq"}, "n": [1, 2], "ok": True, "x": None},
    ),
    ("dict-empty", dict, {}, {}),
    ("list-str", list[str], ["a", "b"], ["a", "b"]),
    ("list-str-from-string-spelling", "list[str]", ["b", "a"], ["b", "a"]),
    ("list-str-single-value", "list[str]", "a", ["a"]),
    ("list-int", "list[int]", [1, 2, 3], [1, 2, 3]),
    ("list-float", list[float], [0.5, 2.0], [0.5, 2.0]),
    ("path", Path, Path("/data/raw/a.fastq"), "/data/raw/a.fastq"),
    ("path-string", "path", "s3://bucket/folder/key.txt", "s3://bucket/folder/key.txt"),
    ("url", "url", "https://example.org/x?y=1", "https://example.org/x?y=1"),
    ("numpy-int", int, np.int64(7), 7),
    ("numpy-float", float, np.float64(2.5), 2.5),
    ("numpy-bool", bool, np.bool_(True), True),
    ("pandas-timestamp", datetime, pd.Timestamp("2025-01-02 03:04:05"), datetime(2025, 1, 2, 3, 4, 5)),
]


@pytest.mark.parametrize(
    ("dtype", "value", "expected"), [c[1:] for c in ROUND_TRIPS], ids=[c[0] for c in ROUND_TRIPS]
)
def test_every_dtype_round_trips_on_an_artifact(
    ln: ModuleType, artifact: Any, dtype: Any, value: Any, expected: Any
) -> None:
    ln.Feature(name="f", dtype=dtype).save()
    artifact.features.add_values({"f": value})
    got = artifact.features.get_values()
    assert list(got) == ["f"]
    assert same(got["f"], expected), f"{got['f']!r} ({type(got['f']).__name__}) != {expected!r}"
    # a fresh object reads the same from the database
    again = ln.Artifact.get(artifact.uid).features.get_values()["f"]
    assert same(again, expected), f"{again!r} != {expected!r}"


def test_all_dtypes_at_once(ln: ModuleType, artifact: Any, sample_type: Any) -> None:
    label = ln.ULabel(name="My experiment").save()
    specs: dict[str, tuple[Any, Any, Any]] = {
        "temperature": (float, 21.6, 21.6),
        "read_count": (int, 2_000_000, 2_000_000),
        "score": ("num", 1.5, 1.5),
        "treatment": (str, "DMSO", "DMSO"),
        "flag": (bool, True, True),
        "experiment_date": (date, "2025-10-31", date(2025, 10, 31)),
        "measured_at": (datetime, datetime(2025, 10, 31, 12), datetime(2025, 10, 31, 12)),
        "study_metadata": (dict, {"assay": {"type": "RNA-seq"}}, {"assay": {"type": "RNA-seq"}}),
        "tags": (list[str], ["a", "b"], ["a", "b"]),
        "source": (Path, Path("/x/y.txt"), "/x/y.txt"),
        "homepage": ("url", "https://example.org/a", "https://example.org/a"),
        "experiment": (ln.ULabel, label, "My experiment"),
        "donor": (ln.Record, "loose", "loose"),
        "sample": (sample_type, "S1", "S1"),
    }
    for name, (dtype, _, _) in specs.items():
        ln.Feature(name=name, dtype=dtype).save()
    artifact.features.add_values({name: value for name, (_, value, _) in specs.items()})
    got = artifact.features.get_values()
    assert set(got) == set(specs)
    wrong = {n: got[n] for n, (_, _, expected) in specs.items() if not same(got[n], expected)}
    assert not wrong, wrong
    text = repr(artifact.features)
    assert "temperature=21.6" in text and "experiment='My experiment'" in text


def test_categorical_values_by_name_by_record_and_as_a_list(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    first = ln.ULabel(name="first").save()
    ln.ULabel(name="second").save()
    ln.ULabel(name="third").save()
    artifact.features.add_values({"experiment": first})
    assert artifact.features.get_values() == {"experiment": "first"}
    artifact.features.add_values({"experiment": ["second", "first"]})  # "first" is not linked twice
    assert sorted(artifact.features.get_values()["experiment"]) == ["first", "second"]
    artifact.features.add_values({"experiment": ln.ULabel.filter(name="third")})  # a QuerySet
    assert sorted(artifact.features.get_values()["experiment"]) == ["first", "second", "third"]
    # the links are the label links of the artifact, tagged with the feature
    assert sorted(artifact.ulabels.to_list("name")) == ["first", "second", "third"]
    assert ln.Artifact.filter(ulabels__name="third").one() == artifact


def test_a_feature_object_can_be_the_key(ln: ModuleType, artifact: Any) -> None:
    temperature = ln.Feature(name="temperature", dtype=float).save()
    artifact.features.add_values({temperature: 21.6})
    assert artifact.features.get_values() == {"temperature": 21.6}


def test_equal_values_are_stored_once(ln: ModuleType, make_artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    first, second = make_artifact("a1"), make_artifact("a2")
    first.features.add_values({"temperature": 21.6})
    second.features.add_values({"temperature": 21.6})
    second.features.add_values({"temperature": 21.6})  # adding the same value again changes nothing
    assert second.features.get_values() == {"temperature": 21.6}
    assert ln.FeatureValue.filter(feature__name="temperature").count() == 1


# ---- values: validation --------------------------------------------------------------------------------


BAD_VALUES: list[tuple[str, Any, Any, str]] = [  # id, dtype, value, the value as the message shows it
    ("int-str", int, "many", "'many'"),
    ("int-fraction", int, 1.5, "1.5"),
    ("int-bool", int, True, "True"),
    ("int-None", int, None, "None"),
    ("float-str", float, "21.6", "'21.6'"),
    ("float-nan", float, float("nan"), "nan"),
    ("float-bool", float, False, "False"),
    ("num-str", "num", "3", "'3'"),
    ("str-int", str, 1, "1"),
    ("str-list-of-int", str, [1], "1"),
    ("bool-int", bool, 1, "1"),
    ("bool-str", bool, "true", "'true'"),
    ("date-not-iso", date, "31/10/2025", "'31/10/2025'"),
    ("date-datetime", date, datetime(2025, 10, 31, 12), "datetime.datetime(2025, 10, 31, 12, 0)"),
    ("date-int", date, 20251031, "20251031"),
    ("datetime-not-iso", datetime, "yesterday", "'yesterday'"),
    ("datetime-int", datetime, 5, "5"),
    ("dict-list", dict, [1, 2], "[1, 2]"),
    ("dict-str", dict, "{}", "'{}'"),
    ("list-str-int", list[str], ["a", 1], "1"),
    ("list-int-str", "list[int]", ["a"], "'a'"),
    ("path-int", "path", 3, "3"),
    ("path-empty", "path", "", "''"),
    ("url-no-scheme", "url", "example.org", "'example.org'"),
    ("url-int", "url", 1, "1"),
    ("cat-int", "cat[ULabel]", 3, "3"),
    ("cat-float", "cat[ULabel]", 1.5, "1.5"),
]


@pytest.mark.parametrize(
    ("dtype", "value", "shown"), [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES]
)
def test_a_wrong_typed_value_raises_and_stores_nothing(
    ln: ModuleType, artifact: Any, dtype: Any, value: Any, shown: str
) -> None:
    feature = ln.Feature(name="my_feature", dtype=dtype).save()
    with pytest.raises(ValidationError) as info:
        artifact.features.add_values({"my_feature": value})
    message = str(info.value)
    assert "'my_feature'" in message, message
    assert shown in message, message
    assert feature.dtype in message, message
    assert artifact.features.get_values() == {}
    assert ln.FeatureValue.filter().count() == 0


def test_one_bad_value_among_several_stores_nothing_of_the_call(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="read_count", dtype=int).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.ULabel(name="My experiment").save()
    artifact.features.add_values({"temperature": 4.5})
    before = artifact.features.get_values()
    calls = [
        {"temperature": 21.6, "read_count": "many"},  # the bad value comes last
        {"read_count": "many", "temperature": 21.6},
        {"read_count": [1, 2, "three"]},  # several values of one feature
        {"temperature": 21.6, "experiment": "No such experiment"},  # an unknown label
        {"experiment": ["My experiment", "No such experiment"]},
        {"temperature": 21.6, "colour": "red"},  # an unknown feature
    ]
    for values in calls:
        with pytest.raises(ValidationError):
            artifact.features.add_values(values)
        assert artifact.features.get_values() == before, values
    assert ln.FeatureValue.filter().count() == 1
    assert artifact.ulabels.count() == 0


def test_a_failed_set_values_keeps_the_old_values(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.ULabel(name="My experiment").save()
    artifact.features.add_values({"temperature": 4.5, "experiment": "My experiment"})
    with pytest.raises(ValidationError):
        artifact.features.set_values({"temperature": "warm"})
    with pytest.raises(ValidationError):
        artifact.features.set_values({"temperature": 5.0, "experiment": "No such experiment"})
    assert artifact.features.get_values() == {"temperature": 4.5, "experiment": "My experiment"}


def test_an_unknown_feature_name_says_how_to_create_it(ln: ModuleType, artifact: Any) -> None:
    with pytest.raises(ValidationError) as info:
        artifact.features.add_values({"colour": "red"})
    message = str(info.value)
    assert "colour" in message
    assert "ln.Feature(name='colour', dtype=str).save()" in message


def test_several_unknown_feature_names_are_all_listed(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    with pytest.raises(ValidationError) as info:
        artifact.features.add_values(
            {
                "temperature": 1.0,
                "colour": "red",
                "size": 3,
                "weight": 2.5,
                "ok": True,
                "when": date(2025, 1, 1),
            }
        )
    message = str(info.value)
    for call in (
        "ln.Feature(name='colour', dtype=str).save()",
        "ln.Feature(name='size', dtype=int).save()",
        "ln.Feature(name='weight', dtype=float).save()",
        "ln.Feature(name='ok', dtype=bool).save()",
        "ln.Feature(name='when', dtype='date').save()",
    ):
        assert call in message, message
    assert "temperature" not in message
    assert artifact.features.get_values() == {}


def test_an_unknown_label_says_how_to_create_it(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    with pytest.raises(ValidationError) as info:
        artifact.features.add_values({"experiment": "No such experiment"})
    message = str(info.value)
    assert "'No such experiment'" in message and "experiment" in message
    assert "ln.ULabel(name='No such experiment').save()" in message
    ln.Feature(name="donor", dtype=ln.Record).save()
    with pytest.raises(ValidationError, match=r"ln.Record\(name='nobody'\).save\(\)"):
        artifact.features.add_values({"donor": "nobody"})


def test_an_unsaved_label_record_is_refused(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    with pytest.raises(ValidationError, match="not saved"):
        artifact.features.add_values({"experiment": ln.ULabel(name="unsaved")})
    assert artifact.features.get_values() == {}


def test_a_record_of_another_registry_is_refused(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    with pytest.raises(ValidationError, match="ULabel"):
        artifact.features.add_values({"experiment": ln.Record(name="loose").save()})
    assert artifact.features.get_values() == {}


def test_values_must_be_a_dict(ln: ModuleType, artifact: Any) -> None:
    with pytest.raises(InvalidArgument, match="dict"):
        artifact.features.add_values([("temperature", 1.0)])  # type: ignore[arg-type]


def test_add_values_on_an_unsaved_artifact_raises(ln: ModuleType, tmp_path: Path) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    path = tmp_path / "unsaved.txt"
    path.write_text("not saved")
    artifact = ln.Artifact(path, key="unsaved.txt")
    with pytest.raises(InvalidArgument, match=r"save the Artifact.*\.save\(\)"):
        artifact.features.add_values({"temperature": 1.0})
    assert artifact.features.get_values() == {}
    assert ln.FeatureValue.filter().count() == 0


# ---- typed categorical features ------------------------------------------------------------------------


def test_a_typed_feature_takes_members_of_its_type_by_name(
    ln: ModuleType, artifact: Any, sample_type: Any
) -> None:
    ln.Feature(name="sample", dtype=sample_type).save()
    artifact.features.add_values({"sample": "S1"})
    assert artifact.features.get_values() == {"sample": "S1"}
    for outsider in ("D1", "loose", "Sample"):  # another type's member, an untyped record, the type itself
        with pytest.raises(ValidationError) as info:
            artifact.features.add_values({"sample": outsider})
        assert repr(outsider) in str(info.value)
        assert "type=ln.Record.get(name='Sample')" in str(info.value)
    assert artifact.features.get_values() == {"sample": "S1"}


def test_a_typed_feature_takes_members_of_its_type_as_records(
    ln: ModuleType, artifact: Any, sample_type: Any
) -> None:
    ln.Feature(name="sample", dtype=sample_type).save()
    artifact.features.add_values({"sample": ln.Record.get(name="S2")})
    assert artifact.features.get_values() == {"sample": "S2"}
    for outsider in ("D1", "loose"):
        with pytest.raises(ValidationError, match="Sample"):
            artifact.features.add_values({"sample": ln.Record.get(name=outsider)})
    assert artifact.features.get_values() == {"sample": "S2"}


def test_labels_add_on_a_typed_feature_takes_only_members(
    ln: ModuleType, artifact: Any, sample_type: Any
) -> None:
    feature = ln.Feature(name="sample", dtype=sample_type).save()
    artifact.labels.add(ln.Record.get(name="S1"), feature=feature)
    with pytest.raises(ValidationError, match="Sample"):
        artifact.labels.add(ln.Record.get(name="D1"), feature=feature)
    assert [r.name for r in artifact.labels.get(feature)] == ["S1"]


# ---- set, remove, several values ------------------------------------------------------------------------


def test_several_values_for_one_feature_give_a_list(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="treatment", dtype=str).save()
    artifact.features.add_values({"temperature": [21.6, 4.5], "treatment": "DMSO"})
    artifact.features.add_values({"treatment": "IFNG"})  # adding keeps the earlier values
    values = artifact.features.get_values()
    assert sorted(values["temperature"]) == [4.5, 21.6]
    assert sorted(values["treatment"]) == ["DMSO", "IFNG"]


def test_set_values_replaces_only_the_given_features(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="treatment", dtype=str).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    for name in ("first", "second"):
        ln.ULabel(name=name).save()
    artifact.features.add_values({"temperature": [1.5, 2.5], "treatment": "DMSO", "experiment": "first"})
    artifact.features.set_values({"temperature": 3.5, "experiment": "second"})
    assert artifact.features.get_values() == {"temperature": 3.5, "treatment": "DMSO", "experiment": "second"}
    assert ln.Artifact.filter(temperature=1.5).count() == 0
    assert ln.Artifact.filter(experiment="first").count() == 0
    assert ln.Artifact.filter(experiment="second").one() == artifact


def test_remove_values(ln: ModuleType, artifact: Any) -> None:
    temperature = ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="treatment", dtype=str).save()
    ln.Feature(name="read_count", dtype=int).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    for name in ("first", "second"):
        ln.ULabel(name=name).save()
    artifact.features.add_values(
        {
            "temperature": 21.6,
            "treatment": ["DMSO", "IFNG"],
            "read_count": 3,
            "experiment": ["first", "second"],
        }
    )
    artifact.features.remove_values("read_count")  # by name
    assert "read_count" not in artifact.features.get_values()
    artifact.features.remove_values(temperature)  # by Feature
    assert "temperature" not in artifact.features.get_values()
    artifact.features.remove_values("treatment", value="DMSO")  # one of several values
    artifact.features.remove_values("experiment", value="first")
    assert artifact.features.get_values() == {"treatment": "IFNG", "experiment": "second"}
    assert artifact.ulabels.to_list("name") == ["second"]
    artifact.features.remove_values("treatment", value="not there")  # nothing to remove: no error
    assert artifact.features.get_values() == {"treatment": "IFNG", "experiment": "second"}
    artifact.features.remove_values(["treatment", "experiment"])
    assert artifact.features.get_values() == {}
    # the shared values stay: other artifacts may use them
    assert ln.FeatureValue.filter(feature__name="temperature").count() == 1


def test_remove_values_without_a_feature_removes_everything(ln: ModuleType, artifact: Any) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.ULabel(name="first").save()
    artifact.features.add_values({"temperature": 21.6, "experiment": "first"})
    artifact.features.remove_values()
    assert artifact.features.get_values() == {}


def test_remove_values_of_an_unknown_feature_raises(ln: ModuleType, artifact: Any) -> None:
    with pytest.raises(ValidationError, match="colour"):
        artifact.features.remove_values("colour")


# ---- values on runs and records ------------------------------------------------------------------------


def test_values_on_runs(ln: ModuleType, sample_type: Any) -> None:
    transform = ln.Transform(key="pipeline").save()
    run = ln.Run(transform).save()
    other = ln.Run(transform).save()
    ln.Feature(name="learning_rate", dtype=float).save()
    ln.Feature(name="epochs", dtype=int).save()
    ln.Feature(name="started", dtype=date).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.Feature(name="sample", dtype=sample_type).save()
    ln.ULabel(name="My experiment").save()
    run.features.add_values(
        {"learning_rate": 0.01, "epochs": 10, "started": "2025-01-31", "experiment": "My experiment"}
    )
    assert run.features.get_values() == {
        "learning_rate": 0.01,
        "epochs": 10,
        "started": date(2025, 1, 31),
        "experiment": "My experiment",
    }
    assert other.features.get_values() == {}
    with pytest.raises(ValidationError, match="epochs"):
        run.features.add_values({"epochs": "ten"})
    # runs link to labels, not to records
    with pytest.raises(ValidationError, match="Run"):
        run.features.add_values({"sample": "S1"})
    run.features.set_values({"epochs": 20})
    assert run.features.get_values()["epochs"] == 20
    run.features.remove_values("experiment")
    assert "experiment" not in run.features.get_values()
    assert ln.Run.filter(epochs=20).one() == run


def test_values_on_records(ln: ModuleType, sample_type: Any) -> None:
    s1 = ln.Record.get(name="S1")
    d1 = ln.Record.get(name="D1")
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="collected", dtype=date).save()
    ln.Feature(name="meta", dtype=dict).save()
    ln.Feature(name="tags", dtype=list[str]).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.Feature(name="donor", dtype=ln.Record).save()
    ln.ULabel(name="My experiment").save()
    s1.features.add_values(
        {
            "temperature": 21.5,
            "collected": date(2024, 5, 1),
            "meta": {"depth": 5},
            "tags": ["x", "y"],
            "experiment": "My experiment",
            "donor": d1,
        }
    )
    assert s1.features.get_values() == {
        "temperature": 21.5,
        "collected": date(2024, 5, 1),
        "meta": {"depth": 5},
        "tags": ["x", "y"],
        "experiment": "My experiment",
        "donor": "D1",
    }
    assert ln.Record.get(name="S2").features.get_values() == {}
    # a record holds one value per feature: adding again replaces
    s1.features.add_values({"temperature": 22.5})
    assert s1.features.get_values()["temperature"] == 22.5
    with pytest.raises(ValidationError, match="temperature"):
        s1.features.add_values({"temperature": "warm"})
    assert s1.features.get_values()["temperature"] == 22.5
    s1.features.remove_values("donor")
    assert "donor" not in s1.features.get_values()
    assert ln.Record.filter(temperature=22.5).one() == s1


def test_a_record_value_of_a_record_uses_the_record_link(ln: ModuleType, sample_type: Any) -> None:
    s1, d1 = ln.Record.get(name="S1"), ln.Record.get(name="D1")
    ln.Feature(name="donor", dtype=ln.Record).save()
    s1.features.add_values({"donor": "D1"})
    assert s1.features.get_values() == {"donor": "D1"}
    assert ln.Record.filter(donor=d1).one() == s1
    assert d1.features.get_values() == {}


# ---- labels tied to features ---------------------------------------------------------------------------


def test_labels_add_with_a_feature_and_labels_get(ln: ModuleType, artifact: Any) -> None:
    study_name = ln.Feature(name="study_name", dtype=ln.ULabel).save()
    ln.Feature(name="other", dtype=ln.ULabel).save()
    study0 = ln.ULabel(name="study0").save()
    study1 = ln.ULabel(name="study1").save()
    plain = ln.ULabel(name="plain").save()
    artifact.labels.add(study0, feature=study_name)
    artifact.labels.add([study1], feature="study_name")  # a list, and the feature by name
    artifact.labels.add(plain)  # no feature: a plain label link
    assert sorted(u.name for u in artifact.labels.get(study_name)) == ["study0", "study1"]
    assert sorted(u.name for u in artifact.labels.get("study_name")) == ["study0", "study1"]
    assert list(artifact.labels.get("other")) == []
    assert sorted(artifact.labels.get(study_name, flat_names=True)) == ["study0", "study1"]
    assert sorted(artifact.features.get_values()["study_name"]) == ["study0", "study1"]
    assert sorted(artifact.ulabels.to_list("name")) == ["plain", "study0", "study1"]
    assert ln.Artifact.filter(study_name="study0").one() == artifact
    assert ln.Artifact.filter(study_name="plain").count() == 0


def test_labels_add_with_a_record_of_the_wrong_registry_raises(ln: ModuleType, artifact: Any) -> None:
    study_name = ln.Feature(name="study_name", dtype=ln.ULabel).save()
    record = ln.Record(name="loose").save()
    with pytest.raises(ValidationError) as info:
        artifact.labels.add(record, feature=study_name)
    assert "ULabel" in str(info.value) and "Record" in str(info.value)
    assert artifact.records.count() == 0


def test_labels_add_with_a_non_categorical_feature_raises(ln: ModuleType, artifact: Any) -> None:
    temperature = ln.Feature(name="temperature", dtype=float).save()
    label = ln.ULabel(name="hot").save()
    with pytest.raises(ValidationError, match="'temperature' has dtype 'float'"):
        artifact.labels.add(label, feature=temperature)
    with pytest.raises(ValidationError, match=r"features\.get_values"):
        artifact.labels.get(temperature)
    assert artifact.ulabels.count() == 0


def test_labels_add_with_an_unknown_feature_or_a_string_raises(ln: ModuleType, artifact: Any) -> None:
    label = ln.ULabel(name="hot").save()
    with pytest.raises(ValidationError, match="no feature named 'nope'"):
        artifact.labels.add(label, feature="nope")
    with pytest.raises(InvalidArgument, match="add_values"):
        artifact.labels.add("hot")


def test_labels_on_records_with_a_feature(ln: ModuleType, sample_type: Any) -> None:
    s1 = ln.Record.get(name="S1")
    experiment = ln.Feature(name="experiment", dtype=ln.ULabel).save()
    label = ln.ULabel(name="My experiment").save()
    s1.labels.add(label, feature=experiment)
    assert [u.name for u in s1.labels.get(experiment)] == ["My experiment"]
    assert s1.features.get_values() == {"experiment": "My experiment"}


# ---- describe and feature sets -------------------------------------------------------------------------


def test_describe_shows_features_and_values(
    ln: ModuleType, artifact: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    ln.Feature(name="experiment_date", dtype=date).save()
    ln.Feature(name="experiment", dtype=ln.ULabel).save()
    ln.ULabel(name="My experiment").save()
    artifact.features.add_values(
        {"temperature": 21.6, "experiment_date": "2025-10-31", "experiment": "My experiment"}
    )
    capsys.readouterr()
    artifact.describe()
    text = capsys.readouterr().out
    assert "Features" in text
    assert "temperature" in text and "21.6" in text and "float" in text
    assert "experiment_date" in text and "2025-10-31" in text
    assert "My experiment" in text and "cat[ULabel]" in text
    artifact.features.describe()
    text = capsys.readouterr().out
    assert "temperature" in text and "21.6" in text and "My experiment" in text


def test_describe_without_values_has_no_features_section(
    ln: ModuleType, artifact: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    artifact.describe()
    assert "Features" not in capsys.readouterr().out


def test_add_feature_set_links_a_schema_to_a_slot(
    ln: ModuleType, artifact: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    features = [ln.Feature(name=n, dtype=float).save() for n in ("sepal_length", "sepal_width")]
    schema = ln.Schema(features=features, name="iris columns").save()
    assert artifact.features.slots == {}
    artifact.features.add_feature_set(schema, slot="columns")
    assert artifact.features.slots["columns"] == schema
    assert ln.Artifact.get(artifact.uid).features.slots == {"columns": schema}
    # a slot holds one schema: linking another replaces it
    other = ln.Schema(features=features[:1], name="first column").save()
    artifact.features.add_schema(other, slot="columns")
    assert artifact.features.slots == {"columns": other}
    capsys.readouterr()
    artifact.describe()
    text = capsys.readouterr().out
    assert "columns" in text and "first column" in text


def test_add_feature_set_saves_an_unsaved_schema(ln: ModuleType, artifact: Any) -> None:
    # as in LaminDB (0.7x tutorial: `add_feature_set(ln.FeatureSet(new_features), slot="columns")`)
    feature = ln.Feature(name="x", dtype=float).save()
    schema = ln.Schema(features=[feature], name="unsaved")
    artifact.features.add_schema(schema, slot="columns")
    saved = ln.Schema.get(name="unsaved")
    assert artifact.features.slots == {"columns": saved} and saved.members.to_list("name") == ["x"]
    # the same features again: the saved schema is found by its hash, not made twice
    artifact.features.add_schema(ln.Schema(features=[feature], name="unsaved"), slot="obs")
    assert ln.Schema.filter(name="unsaved").count() == 1
    assert artifact.features.slots["obs"] == saved


def test_features_of_a_slot_by_index_are_its_members(ln: ModuleType, artifact: Any) -> None:
    # `artifact.features["columns"]` (0.x–1.x) is the QuerySet of the slot's features; it warns
    features = [ln.Feature(name=n, dtype=float).save() for n in ("sepal_length", "sepal_width")]
    artifact.features.add_schema(ln.Schema(features=features).save(), slot="columns")
    with pytest.warns(LegacyAPIWarning, match=r'features\.slots\["<slot>"\]\.members'):
        members = artifact.features["columns"]
    assert list(members.to_dataframe()["name"]) == ["sepal_length", "sepal_width"]
    with pytest.warns(LegacyAPIWarning), pytest.raises(KeyError, match="no feature set in slot 'obs'"):
        artifact.features["obs"]


def test_features_add_slots_and_repr(ln: ModuleType) -> None:
    import pandas as pd

    artifact = ln.Artifact.from_dataframe(pd.DataFrame({"a": [1]}), key="featured.parquet").save()
    gc_content = ln.Feature(name="gc_content", dtype=float).save()
    depth = ln.Feature(name="depth", dtype=int).save()
    artifact.features.add_values({"gc_content": 0.55})
    artifact.features.add(gc_content)
    artifact.features.add([gc_content, "depth"])  # the second time adds only the new one
    external = artifact.features.slots["external"]
    assert sorted(external.features.to_list("name")) == ["depth", "gc_content"]
    text = repr(artifact.features)
    assert "gc_content=0.55" in text and "external=[" in text and "depth" in text
    with pytest.warns(LegacyAPIWarning), pytest.raises(KeyError, match="no feature set in slot 'obs'"):
        artifact.features["obs"]
    assert depth.id is not None


def test_a_feature_named_like_a_relation_in_the_singular_is_the_feature(
    ln: ModuleType, make_artifact: Any
) -> None:
    # `project=p` is the relation `projects`; with a feature named "project", `project__isnull` is the
    # feature's (the core-concepts page: `ln.Artifact.filter(cell_type__isnull=False)`, where bionty's
    # relation `cell_types` exists too)
    annotated, linked = make_artifact("annotated"), make_artifact("linked")
    project = ln.Project(name="Atlas").save()
    linked.projects.add(project)
    assert ln.Artifact.filter(project=project).to_list("key") == ["linked.txt"]
    assert ln.Artifact.filter(project__isnull=False).to_list("key") == ["linked.txt"]
    ln.Feature(name="project", dtype=str).save()
    annotated.features.add_values({"project": "Atlas"})
    assert ln.Artifact.filter(project__isnull=False).to_list("key") == ["annotated.txt"]
    assert ln.Artifact.filter(project="Atlas").to_list("key") == ["annotated.txt"]
    assert ln.Artifact.filter(projects=project).to_list("key") == ["linked.txt"]
    with pytest.raises(InvalidArgument, match="project"):  # the feature's, which holds text
        ln.Artifact.filter(project=project).count()


def test_lookups_on_one_feature_in_one_filter_hold_for_the_same_value(
    ln: ModuleType, make_artifact: Any
) -> None:
    """As in Django: `filter(t__gt=20, t__lt=25)` asks for one value in the range (one index range);
    two `filter()` calls may be satisfied by different values of a feature with several."""
    ln.Feature(name="temperature", dtype=float).save()
    spread = make_artifact("spread")
    spread.features.add_values({"temperature": 1.0})
    spread.features.add_values({"temperature": 30.0})
    inside = make_artifact("inside")
    inside.features.add_values({"temperature": 22})
    assert spread.features.get_values() == {"temperature": [1.0, 30.0]}

    assert [a.key for a in ln.Artifact.filter(temperature__gt=20, temperature__lt=25)] == [inside.key]
    both_calls = ln.Artifact.filter(temperature__gt=20).filter(temperature__lt=25)
    assert {a.key for a in both_calls} == {spread.key, inside.key}
    assert ln.Artifact.filter(temperature__gte=22, temperature__lte=22).one().key == inside.key
    assert ln.Artifact.filter(temperature__in=[30, 22]).count() == 2
    # negated, each lookup stays its own condition: not (a value > 20 and a value < 25)
    assert ln.Artifact.exclude(temperature__gt=20, temperature__lt=25).count() == 0
    with pytest.raises(InvalidArgument, match="temperature__in takes a list"):
        ln.Artifact.filter(temperature__in=22, temperature__gt=1).count()


def test_a_value_linked_through_its_relation_is_found_by_its_number(
    ln: ModuleType, make_artifact: Any
) -> None:
    ln.Feature(name="temperature", dtype=float).save()
    measured = make_artifact("measured")
    measured.features.add_values({"temperature": 21.5})
    value = ln.FeatureValue.filter(feature__name="temperature").one()
    copied = make_artifact("copied")
    value.artifacts.add(copied)  # a link made by the relation manager, naming only the value
    in_range = ln.Artifact.filter(temperature__gt=21, temperature__lt=22)
    assert sorted(a.key for a in in_range) == sorted([measured.key, copied.key])
    assert copied.features.get_values() == {"temperature": 21.5}
